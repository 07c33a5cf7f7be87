//! The CloudTrail key layout, and pruning by it.
//!
//! CloudTrail delivers to `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>` and, for an
//! organization trail, `AWSLogs/o-<org>/<account>/CloudTrail/…`; digests go to
//! `…/CloudTrail-Digest/…`. This module reads those parts from a key or path (whole or a prefix)
//! and decides whether `--accounts`, `--regions`, `--since` and `--until` admit it, so listing
//! can skip whole prefixes before anything is downloaded.
//!
//! Dates allow a day of slack on each side: CloudTrail files a late event under the day it was
//! delivered, not the day it happened.
//! This module does no I/O.

use chrono::{Datelike, NaiveDate};

/// What a key says about its object, as far as the key goes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Whether an `AWSLogs` segment was found at all.
    pub in_layout: bool,
    /// `o-…` organization id.
    pub org: Option<String>,
    /// Account id.
    pub account: Option<String>,
    /// `CloudTrail`, `CloudTrail-Digest`, `CloudTrail-Insight`, …
    pub service: Option<String>,
    /// Log region.
    pub region: Option<String>,
    /// Year, month, day, as far as present.
    pub year: Option<i32>,
    /// Month 1–12.
    pub month: Option<u32>,
    /// Day of month.
    pub day: Option<u32>,
    /// The file name, when the key goes that far.
    pub file: Option<String>,
}

impl KeyInfo {
    /// The day the key names (`…/YYYY/MM/DD/…`), when it names one.
    pub fn date(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year?, self.month?, self.day?)
    }
}

/// Parses a key or path. Directory prefixes (ending in `/`) parse as far as they go.
pub fn parse(key: &str) -> KeyInfo {
    let segs: Vec<&str> = key.split(['/', '\\']).collect();
    let mut info = KeyInfo::default();
    let Some(start) = segs.iter().rposition(|s| *s == "AWSLogs") else {
        return info;
    };
    info.in_layout = true;
    // The last segment is a file only if the key does not end with a separator.
    let is_dir = key.ends_with('/') || key.ends_with('\\');
    let mut remaining: Vec<&str> = segs[start + 1..]
        .iter()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    let file = if !is_dir { remaining.pop() } else { None };
    let mut it = remaining.into_iter();
    let mut next = it.next();
    if let Some(s) = next.filter(|s| s.starts_with("o-")) {
        info.org = Some(s.to_owned());
        next = it.next();
    }
    info.account = next.map(str::to_owned);
    info.service = it.next().map(str::to_owned);
    info.region = it.next().map(str::to_owned);
    info.year = it.next().and_then(|s| s.parse().ok());
    info.month = it.next().and_then(|s| s.parse().ok());
    info.day = it.next().and_then(|s| s.parse().ok());
    // A "file" directly where a directory level was expected is treated as that level.
    if let Some(f) = file {
        match () {
            _ if info.account.is_none() && f.starts_with("o-") && info.org.is_none() => {
                info.org = Some(f.to_owned())
            }
            _ if info.account.is_none() => info.account = Some(f.to_owned()),
            _ if info.service.is_none() => info.service = Some(f.to_owned()),
            _ if info.region.is_none() => info.region = Some(f.to_owned()),
            _ if info.year.is_none() => info.year = f.parse().ok(),
            _ if info.month.is_none() => info.month = f.parse().ok(),
            _ if info.day.is_none() => info.day = f.parse().ok(),
            _ => info.file = Some(f.to_owned()),
        }
    }
    info
}

/// Whether `s` is an AWS account id: twelve digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` has the shape of an AWS region name (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`): lower-case words joined by `-`, ending in
/// a number.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok_and(|n| n > 0)
        && parts[0].len() == 2
}

/// Which objects to read, by their place in the layout.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Accounts to read (`--accounts`); empty means all.
    pub accounts: Vec<String>,
    /// Log regions to read (`--regions`); empty means all.
    pub regions: Vec<String>,
    /// First day of events wanted.
    pub since: Option<NaiveDate>,
    /// Last day of events wanted.
    pub until: Option<NaiveDate>,
}

impl Filters {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.regions.is_empty()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// Whether anything under a key or prefix with this info can be wanted.
    pub fn admits(&self, info: &KeyInfo) -> bool {
        if !info.in_layout {
            return true;
        }
        if let Some(a) = &info.account
            && !self.accounts.is_empty()
            && !self.accounts.contains(a)
        {
            return false;
        }
        if let Some(r) = &info.region
            && !self.regions.is_empty()
            && !self.regions.contains(r)
        {
            return false;
        }
        let Some(year) = info.year else { return true };
        let slack = chrono::Days::new(1);
        let lo = self.since.and_then(|d| d.checked_sub_days(slack));
        let hi = self.until.and_then(|d| d.checked_add_days(slack));
        // The span of days this prefix covers.
        let (first, last) = match (info.month, info.day) {
            (Some(m), Some(d)) => match NaiveDate::from_ymd_opt(year, m, d) {
                Some(x) => (x, x),
                None => return true,
            },
            (Some(m), None) => match NaiveDate::from_ymd_opt(year, m, 1) {
                Some(f) => {
                    let next = if m == 12 {
                        NaiveDate::from_ymd_opt(year + 1, 1, 1)
                    } else {
                        NaiveDate::from_ymd_opt(year, m + 1, 1)
                    };
                    (f, next.and_then(|n| n.pred_opt()).unwrap_or(f))
                }
                None => return true,
            },
            _ => match (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) {
                (Some(f), Some(l)) => (f, l),
                _ => return true,
            },
        };
        !(lo.is_some_and(|lo| last < lo) || hi.is_some_and(|hi| first > hi))
    }
}

/// What kind of object a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A log file (or anything whose content must decide).
    Log,
    /// A CloudTrail digest file.
    Digest,
    /// Not a log: a directory marker or a file type that never holds CloudTrail records.
    NotLog,
}

/// Classifies an object by its key, before download.
pub fn classify(key: &str, info: &KeyInfo) -> ObjectKind {
    // A digest's `.metadata.json` sidecar (its signature) is not a digest or a log.
    if key.ends_with('/') || key.ends_with(".metadata.json") {
        return ObjectKind::NotLog;
    }
    if info.service.as_deref() == Some("CloudTrail-Digest") || key.contains("_CloudTrail-Digest_") {
        return ObjectKind::Digest;
    }
    let name = key
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(key)
        .to_ascii_lowercase();
    const NOT_LOGS: &[&str] = &[
        ".parquet", ".csv", ".zip", ".md", ".txt.sig", ".sig", ".pem", ".html", ".png", ".jpg",
        ".pdf", ".tar", ".sh", ".py",
    ];
    if name.starts_with('.') || name == "_success" || NOT_LOGS.iter().any(|e| name.ends_with(e)) {
        return ObjectKind::NotLog;
    }
    ObjectKind::Log
}

/// The day a date is, as `YYYY-MM-DD`.
pub fn ymd(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// The part of a key or path from its `AWSLogs/` segment on, with `/` separators: what stays
/// the same between the bucket, a copied bucket and a local copy (`aws s3 sync`).
pub fn layout_key(key: &str) -> String {
    let key = key.replace('\\', "/");
    match key.rfind("AWSLogs/") {
        Some(at) if at == 0 || key[..at].ends_with('/') => key[at..].to_owned(),
        _ => key.trim_start_matches("s3://").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_accounts_and_regions_are_hints() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-4",
        ] {
            assert!(is_region_name(r), "{r}");
        }
        for r in [
            "03",
            "CloudTrail",
            "us-east",
            "us-east-0",
            "US-EAST-1",
            "x-y-1",
            "a/b-c-1",
        ] {
            assert!(!is_region_name(r), "{r}");
        }
        assert!(is_account_id("111122223333"));
        assert!(
            !is_account_id("CloudTrail")
                && !is_account_id("11112222333")
                && !is_account_id("o-a1b2c3d4e5")
        );
        let o = crate::source::ObjectRef::new(
            "f".into(),
            "AWSLogs/CloudTrail/2024/03/05/x.json.gz",
            crate::source::Location::Stdin,
            None,
            None,
        );
        assert_eq!((o.hints.account, o.hints.region), (None, None));
    }

    #[test]
    fn parses_account_and_org_layouts() {
        let i = parse(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T0000Z_abc.json.gz",
        );
        assert!(i.in_layout);
        assert_eq!(i.account.as_deref(), Some("111122223333"));
        assert_eq!(i.region.as_deref(), Some("us-east-1"));
        assert_eq!((i.year, i.month, i.day), (Some(2024), Some(3), Some(5)));
        assert!(i.file.is_some());
        let i = parse("logs/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2024/");
        assert_eq!(i.org.as_deref(), Some("o-abc123"));
        assert_eq!(i.region.as_deref(), Some("eu-west-1"));
        assert_eq!((i.year, i.month), (Some(2024), None));
        let i = parse("AWSLogs/o-abc123");
        assert_eq!(
            (i.org.as_deref(), i.account.as_deref()),
            (Some("o-abc123"), None)
        );
        assert!(!parse("random/file.json").in_layout);
    }

    #[test]
    fn filters_prune_prefixes_with_a_day_of_slack() {
        let f = Filters {
            accounts: vec!["111122223333".into()],
            regions: vec!["us-east-1".into()],
            since: NaiveDate::from_ymd_opt(2024, 3, 5),
            until: NaiveDate::from_ymd_opt(2024, 3, 7),
        };
        let ok = |k: &str| f.admits(&parse(k));
        assert!(ok("AWSLogs/"));
        assert!(ok("AWSLogs/o-x/"));
        assert!(!ok("AWSLogs/o-x/999999999999/"));
        assert!(ok("AWSLogs/o-x/111122223333/CloudTrail/"));
        assert!(!ok("AWSLogs/111122223333/CloudTrail/eu-west-1/"));
        assert!(ok("AWSLogs/111122223333/CloudTrail/us-east-1/2024/"));
        assert!(!ok("AWSLogs/111122223333/CloudTrail/us-east-1/2023/"));
        assert!(ok("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/"));
        assert!(!ok("AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/"));
        assert!(ok("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/"));
        assert!(!ok("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/03/"));
        assert!(ok(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/08/x.json.gz"
        ));
        assert!(!ok(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/x.json.gz"
        ));
        assert!(ok("elsewhere/x.json"));
    }

    #[test]
    fn digests_and_other_files_are_recognised() {
        let k = "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/03/05/1_CloudTrail-Digest_us-east-1_t_20240305T000000Z.json.gz";
        assert_eq!(classify(k, &parse(k)), ObjectKind::Digest);
        let k = "AWSLogs/1/CloudTrail/us-east-1/2024/03/05/x.json.gz";
        assert_eq!(classify(k, &parse(k)), ObjectKind::Log);
        assert_eq!(
            classify("dir/.DS_Store", &parse("dir/.DS_Store")),
            ObjectKind::NotLog
        );
        assert_eq!(classify("dir/", &parse("dir/")), ObjectKind::NotLog);
        assert_eq!(
            classify("events.jsonl", &parse("events.jsonl")),
            ObjectKind::Log
        );
    }
}
