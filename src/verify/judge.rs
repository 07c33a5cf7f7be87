//! Verification, the judging part: every digest found, every log file found or ingested, and
//! the public keys, in; one verdict per digest and per log file, and the gaps, out.
//!
//! A digest is valid when it is where it says it was delivered, its signature verifies with the
//! CloudTrail key it names, and it links to the real previous digest of its chain. A log file is
//! valid when a valid digest lists it and its content hashes to the listed value; invalid when
//! the hash differs or the file is unreadable; missing when a valid digest lists it and it is
//! nowhere; unverified when no valid digest lists it. A digest named as previous but absent is
//! missing, and so is the newest digest of a chain when log files were delivered after it.
//!
//! This module does no I/O: [`super::gather`] supplies the inputs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, Timelike};
use serde::Serialize;

use super::{DigestCheck, DigestFile, DigestName, FoundAt, Link, PublicKeys, layout_key};

/// A digest as found: where, its bytes and its signature metadata.
#[derive(Debug, Clone)]
pub struct FoundDigest {
    /// `s3://bucket/key` or the file path.
    pub uri: String,
    /// Where it was found, for the location check.
    pub found_at: FoundAt,
    /// The decompressed digest JSON and what it says, or why it could not be read or parsed.
    pub content: Result<(Vec<u8>, DigestFile), String>,
    /// `x-amz-meta-signature`.
    pub signature: Option<String>,
}

impl FoundDigest {
    /// A digest as read: its decompressed bytes (or why they could not be read), parsed once.
    pub fn new(
        uri: String,
        found_at: FoundAt,
        bytes: Result<Vec<u8>, String>,
        signature: Option<String>,
    ) -> FoundDigest {
        let content = match bytes {
            Ok(b) => DigestFile::parse(&b)
                .map(|d| (b, d))
                .map_err(|e| format!("invalid format: {e:#}")),
            Err(e) => Err(format!("unreadable: {e}")),
        };
        FoundDigest {
            uri,
            found_at,
            content,
            signature,
        }
    }
}

/// A log file found in the source or recorded in the lake's manifest.
#[derive(Debug, Clone)]
pub struct LogObject {
    /// Where it was found (`s3://…`, a path, or the URI it was ingested from).
    pub uri: String,
    /// The URIs its records carry in the lake (`source_uri`), when it was ingested.
    pub source_uris: Vec<String>,
    /// SHA-256 of its content, or why it could not be read; `None` when not read (no digest
    /// lists it, so there was nothing to compare with).
    pub content_sha256: Option<Result<String, String>>,
}

/// What to verify.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Every digest found for the period.
    pub digests: Vec<FoundDigest>,
    /// Every log file found for the period.
    pub logs: Vec<LogObject>,
    /// CloudTrail's public keys.
    pub keys: PublicKeys,
    /// The first day listed: a previous digest before it is outside the period, not missing.
    pub listed_from: Option<NaiveDate>,
    /// The last day of log files listed: log files a digest lists after it are not looked for.
    pub logs_until: Option<NaiveDate>,
    /// The end of the requested period (`--until`): a chain ending more than two hours before it
    /// has lost its newest digests.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Proven as delivered.
    Valid,
    /// Changed, moved, unsigned or unreadable.
    Invalid,
    /// Should be there and is not.
    Missing,
    /// No valid digest covers it.
    Unverified,
}

impl Status {
    /// The lower-case name, as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Missing => "missing",
            Status::Unverified => "unverified",
        }
    }

    /// Reads a stored verdict's name back.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Valid,
            Status::Invalid,
            Status::Missing,
            Status::Unverified,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The verdict on one digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestResult {
    /// Where it was found, or for a missing one where it should be.
    pub uri: String,
    /// Account, region and trail (`account/region/trail`).
    pub chain: String,
    /// Start of the hour it covers (empty when unknown).
    pub start_time: String,
    /// End of the hour it covers.
    pub end_time: String,
    /// A backfill digest.
    pub backfill: bool,
    /// The verdict.
    pub status: Status,
    /// Why, when not valid.
    pub reason: Option<String>,
    /// Log files it lists.
    pub log_files: usize,
}

impl DigestResult {
    /// A digest that should be there and is not.
    fn missing(uri: String, chain: String, reason: String) -> DigestResult {
        DigestResult {
            uri,
            chain,
            start_time: String::new(),
            end_time: String::new(),
            backfill: false,
            status: Status::Missing,
            reason: Some(reason),
            log_files: 0,
        }
    }
}

/// The verdict on one log file.
#[derive(Debug, Clone, Serialize)]
pub struct LogResult {
    /// Where it was found, or the `s3://` location a digest lists for a missing one.
    pub uri: String,
    /// Its URIs in the lake, when ingested.
    pub source_uris: Vec<String>,
    /// The digest that lists it.
    pub digest: Option<String>,
    /// The verdict.
    pub status: Status,
    /// Why, when not valid.
    pub reason: Option<String>,
}

/// Everything verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// First and last instant covered by valid digests.
    pub found_from: Option<String>,
    /// See `found_from`.
    pub found_to: Option<String>,
    /// One per digest found, and one per digest missing.
    pub digests: Vec<DigestResult>,
    /// One per log file found, and one per listed log file missing.
    pub logs: Vec<LogResult>,
    /// Facts worth knowing that are not faults: chains that start again (logging or validation
    /// was off in between).
    pub notes: Vec<String>,
}

impl Report {
    /// Digest counts: (valid, invalid, missing).
    pub fn digest_counts(&self) -> (usize, usize, usize) {
        count(self.digests.iter().map(|d| d.status))
    }

    /// Log file counts: (valid, invalid, missing, unverified).
    pub fn log_counts(&self) -> (usize, usize, usize, usize) {
        let (v, i, m) = count(self.logs.iter().map(|l| l.status));
        let u = self
            .logs
            .iter()
            .filter(|l| l.status == Status::Unverified)
            .count();
        (v, i, m, u)
    }

    /// True when every digest and log file is valid.
    pub fn all_valid(&self) -> bool {
        self.digests.iter().all(|d| d.status == Status::Valid)
            && self.logs.iter().all(|l| l.status == Status::Valid)
    }
}

fn count(it: impl Iterator<Item = Status>) -> (usize, usize, usize) {
    it.fold((0, 0, 0), |(v, i, m), s| match s {
        Status::Valid => (v + 1, i, m),
        Status::Invalid => (v, i + 1, m),
        Status::Missing => (v, i, m + 1),
        Status::Unverified => (v, i, m),
    })
}

struct Parsed<'a> {
    found: &'a FoundDigest,
    digest: &'a DigestFile,
    bytes: &'a [u8],
    name: Option<DigestName>,
}

/// Judges the inputs.
pub fn verify(inputs: &Inputs) -> Report {
    let mut report = Report::default();
    let mut parsed: Vec<Parsed> = Vec::new();
    // Results by index into `report.digests`, parallel to `parsed`.
    let mut slots = Vec::new();
    for found in &inputs.digests {
        let name = DigestName::parse(&found.uri);
        let mut result = DigestResult {
            uri: found.uri.clone(),
            chain: name.as_ref().map(DigestName::chain).unwrap_or_default(),
            start_time: String::new(),
            end_time: String::new(),
            backfill: name.as_ref().is_some_and(|n| n.backfill),
            status: Status::Valid,
            reason: None,
            log_files: 0,
        };
        let (bytes, digest) = match &found.content {
            Ok((b, d)) => (b, d),
            Err(reason) => {
                result.status = Status::Invalid;
                result.reason = Some(reason.clone());
                report.digests.push(result);
                continue;
            }
        };
        result.start_time = digest.digest_start_time.clone();
        result.end_time = digest.digest_end_time.clone();
        result.log_files = digest.log_files.len();
        if result.chain.is_empty() {
            result.chain = format!("{}/?/?", digest.aws_account_id);
        }
        let check = super::check_digest(
            digest,
            bytes,
            &found.found_at,
            found.signature.as_deref(),
            &inputs.keys,
        );
        let reason = match check {
            Ok(DigestCheck::Valid) => None,
            Ok(DigestCheck::WrongLocation { claims, .. }) => Some(format!(
                "has been moved or copied from its original location s3://{claims}"
            )),
            Ok(DigestCheck::NoSignature) => Some(
                "no signature metadata (x-amz-meta-signature): it was not delivered by CloudTrail, or it was copied without its metadata"
                    .to_owned(),
            ),
            Ok(DigestCheck::UnknownKey(f)) => Some(format!(
                "public key not found for fingerprint {f} (give the keys of its period and region with --public-keys, or let verify fetch them)"
            )),
            Ok(DigestCheck::BadSignature) => Some("signature verification failed".to_owned()),
            Err(e) => Some(format!("{e:#}")),
        };
        if let Some(r) = reason {
            result.status = Status::Invalid;
            result.reason = Some(r);
        }
        slots.push(report.digests.len());
        report.digests.push(result);
        parsed.push(Parsed {
            found,
            digest,
            bytes,
            name,
        });
    }

    check_links(inputs, &parsed, &slots, &mut report);
    check_logs(inputs, &parsed, &slots, &mut report);

    let valid = || {
        slots
            .iter()
            .map(|i| &report.digests[*i])
            .filter(|d| d.status == Status::Valid)
    };
    report.found_from = valid().map(|d| d.start_time.clone()).min();
    report.found_to = valid().map(|d| d.end_time.clone()).max();
    report
}

/// Follows each digest to the one before it, and finds chains that end too early.
fn check_links(inputs: &Inputs, parsed: &[Parsed], slots: &[usize], report: &mut Report) {
    let available: BTreeMap<String, (&[u8], &str)> = parsed
        .iter()
        .map(|p| {
            (
                layout_key(&p.found.found_at.key),
                (p.bytes, p.found.signature.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    let mut missing: BTreeMap<String, (String, String)> = BTreeMap::new();
    // The oldest digest of each chain, for telling a restart from a chain's first digest.
    let mut oldest: HashMap<String, String> = HashMap::new();
    for (p, slot) in parsed.iter().zip(slots) {
        if report.digests[*slot].backfill {
            continue;
        }
        let chain = &report.digests[*slot].chain;
        let end = &p.digest.digest_end_time;
        let e = oldest.entry(chain.clone()).or_insert_with(|| end.clone());
        if end < e {
            *e = end.clone();
        }
    }
    for (p, slot) in parsed.iter().zip(slots) {
        let link = super::check_link(p.digest, &available);
        let result = &mut report.digests[*slot];
        let fault = match link {
            Link::Intact => None,
            Link::Start => {
                if oldest.get(&result.chain) != Some(&p.digest.digest_end_time) && !result.backfill
                {
                    report.notes.push(format!(
                        "chain {} starts again at {}: no digests were delivered before it (logging or log file validation was off, or the trail was re-created)",
                        result.chain, p.digest.digest_start_time
                    ));
                }
                None
            }
            Link::Missing(at) => {
                let key = at.split_once('/').map_or(at.as_str(), |(_, k)| k);
                let day = crate::source::layout::parse(key).date();
                let before_listing = day.zip(inputs.listed_from).is_some_and(|(d, f)| d < f);
                if !before_listing {
                    missing.entry(at).or_insert_with(|| {
                        (
                            result.chain.clone(),
                            p.digest
                                .previous_digest_s3_object
                                .clone()
                                .unwrap_or_default(),
                        )
                    });
                }
                None
            }
            Link::HashMismatch => {
                Some("previousDigestHashValue does not match the previous digest (it was replaced)")
            }
            Link::SignatureMismatch => Some(
                "previousDigestSignature does not match the previous digest's signature (it was replaced or re-signed)",
            ),
        };
        if let Some(f) = fault {
            result.status = Status::Invalid;
            result.reason = Some(match result.reason.take() {
                Some(r) => format!("{r}; {f}"),
                None => f.to_owned(),
            });
        }
    }
    for (at, (chain, _)) in missing {
        report.digests.push(DigestResult::missing(
            format!("s3://{at}"),
            chain,
            "not found: the next digest names it as previous (deleted, or not copied)".to_owned(),
        ));
    }
}

/// Log files against the digests that list them, and the newest digest of each chain against
/// the log files delivered after it.
fn check_logs(inputs: &Inputs, parsed: &[Parsed], slots: &[usize], report: &mut Report) {
    // Listed log files by layout key: (index into `parsed`, listed hash).
    let mut listed: HashMap<String, Vec<(usize, &str)>> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        for lf in &p.digest.log_files {
            listed
                .entry(layout_key(&lf.s3_object))
                .or_default()
                .push((i, lf.hash_value.as_str()));
        }
    }
    let valid = |i: usize| report.digests[slots[i]].status == Status::Valid;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut results = Vec::new();
    for log in &inputs.logs {
        let key = layout_key(&log.uri);
        seen.insert(key.clone());
        let entries = listed.get(&key).map(Vec::as_slice).unwrap_or_default();
        let by_valid: Vec<&(usize, &str)> = entries.iter().filter(|e| valid(e.0)).collect();
        let (status, reason, digest) = if let Some(first) = by_valid.first() {
            let digest = Some(parsed[first.0].found.uri.clone());
            match &log.content_sha256 {
                Some(Ok(h)) if by_valid.iter().any(|e| e.1.eq_ignore_ascii_case(h)) => {
                    (Status::Valid, None, digest)
                }
                Some(Ok(_)) => (
                    Status::Invalid,
                    Some("hash value doesn't match (changed after delivery)".to_owned()),
                    digest,
                ),
                Some(Err(e)) => (Status::Invalid, Some(format!("unreadable: {e}")), digest),
                None => (
                    Status::Unverified,
                    Some(
                        "its content was not read (ingested before content hashes were recorded): give the trail as SOURCE to read it"
                            .to_owned(),
                    ),
                    digest,
                ),
            }
        } else if let Some(first) = entries.first() {
            (
                Status::Unverified,
                Some("listed only by an invalid digest".to_owned()),
                Some(parsed[first.0].found.uri.clone()),
            )
        } else {
            (
                Status::Unverified,
                Some("no digest lists it".to_owned()),
                None,
            )
        };
        results.push(LogResult {
            uri: log.uri.clone(),
            source_uris: log.source_uris.clone(),
            digest,
            status,
            reason,
        });
    }
    // Listed by a valid digest, found nowhere.
    for (i, p) in parsed.iter().enumerate() {
        if !valid(i) {
            continue;
        }
        for lf in &p.digest.log_files {
            let key = layout_key(&lf.s3_object);
            if seen.contains(&key) || !in_log_listing(&key, inputs) {
                continue;
            }
            seen.insert(key);
            results.push(LogResult {
                uri: format!("s3://{}/{}", lf.s3_bucket, lf.s3_object),
                source_uris: Vec::new(),
                digest: Some(p.found.uri.clone()),
                status: Status::Missing,
                reason: Some("not found in the source or the lake (deleted?)".to_owned()),
            });
        }
    }

    // The newest hourly digest of each chain, by account and region: (end, chain, uri).
    type Newest = (chrono::DateTime<chrono::Utc>, String, String);
    let mut newest: BTreeMap<(String, String), Newest> = BTreeMap::new();
    for (p, slot) in parsed.iter().zip(slots) {
        let Some(name) = p.name.as_ref().filter(|n| !n.backfill) else {
            continue;
        };
        let Some(end) = name.end_time() else { continue };
        let key = (name.account.clone(), name.region.clone());
        if newest.get(&key).is_none_or(|e| end > e.0) {
            let chain = report.digests[*slot].chain.clone();
            newest.insert(key, (end, chain, p.found.uri.clone()));
        }
    }
    let text = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut late: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.status == Status::Unverified) {
        let info = crate::source::layout::parse(&layout_key(&r.uri));
        let (Some(account), Some(region)) = (info.account, info.region) else {
            continue;
        };
        let Some(delivered) = super::delivery_time(&r.uri) else {
            continue;
        };
        // Names give the minute: a file of the digest's last minute counts as after it.
        if let Some((end, _, _)) = newest.get(&(account.clone(), region.clone()))
            && delivered >= *end - chrono::Duration::seconds(i64::from(end.second()))
        {
            *late.entry((account, region)).or_default() += 1;
        }
    }
    for ((account, region), n) in late {
        let (end, chain, uri) = &newest[&(account.clone(), region.clone())];
        report.digests.push(DigestResult::missing(
            format!("{uri} (the digests after it)"),
            chain.clone(),
            format!(
                "no digest after {} although {n} log file(s) were delivered later in {account}/{region}: the newest digests were deleted, or are not delivered yet",
                text(end)
            ),
        ));
    }
    if let Some(until) = inputs.until {
        let expected = until.min(chrono::Utc::now() - chrono::Duration::hours(2));
        for (end, chain, uri) in newest.values() {
            if expected - *end > chrono::Duration::hours(2) {
                report.digests.push(DigestResult::missing(
                    format!("{uri} (the digests after it)"),
                    chain.clone(),
                    format!(
                        "the chain ends at {} but the period runs to {}: the newest digests were deleted, or logging stopped",
                        text(end),
                        text(&until)
                    ),
                ));
            }
        }
    }
    report.logs = results;
}

/// Whether a listed log file's key falls in the days whose log files were listed.
fn in_log_listing(key: &str, inputs: &Inputs) -> bool {
    let Some(day) = crate::source::layout::parse(key).date() else {
        return true;
    };
    inputs.listed_from.is_none_or(|f| day >= f) && inputs.logs_until.is_none_or(|u| day <= u)
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;
    use crate::synth::digests::DigestConfig;
    use crate::verify::data_signing_string;

    fn signer() -> DigestConfig {
        DigestConfig::test("b", "t", false, true)
    }

    /// A signed digest for the hour ending at `end` o'clock, chained to `previous`.
    fn digest(end: u32, previous: Option<&FoundDigest>) -> FoundDigest {
        let key = format!(
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/03/05/1_CloudTrail-Digest_us-east-1_t_us-east-1_20240305T{end:02}0000Z.json.gz"
        );
        let null = serde_json::Value::Null;
        let (pb, po, ph, ps) = match previous {
            Some(p) => (
                serde_json::json!("b"),
                serde_json::json!(p.found_at.key),
                serde_json::json!(hex::encode(sha2::Sha256::digest(
                    &p.content.as_ref().unwrap().0
                ))),
                serde_json::json!(p.signature),
            ),
            None => (null.clone(), null.clone(), null.clone(), null),
        };
        let end_time = format!("2024-03-05T{end:02}:00:00Z");
        let body = serde_json::json!({
            "awsAccountId": "1", "digestStartTime": format!("2024-03-05T{:02}:00:00Z", end - 1),
            "digestEndTime": end_time, "digestS3Bucket": "b", "digestS3Object": key,
            "digestPublicKeyFingerprint": crate::synth::digests::TEST_FINGERPRINT, "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": pb, "previousDigestS3Object": po,
            "previousDigestHashValue": ph, "previousDigestSignature": ps, "logFiles": []
        })
        .to_string()
        .into_bytes();
        let previous_signature = previous.and_then(|p| p.signature.as_deref());
        let sig = signer()
            .sign(&data_signing_string(
                &end_time,
                "b",
                &key,
                &body,
                previous_signature,
            ))
            .unwrap();
        FoundDigest::new(
            format!("s3://b/{key}"),
            FoundAt {
                bucket: Some("b".into()),
                key,
            },
            Ok(body),
            Some(sig),
        )
    }

    fn inputs(digests: Vec<FoundDigest>) -> Inputs {
        Inputs {
            digests,
            keys: signer().public_keys().unwrap(),
            ..Inputs::default()
        }
    }

    fn at(t: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.to_utc())
    }

    #[test]
    fn a_previous_digest_before_the_listed_days_is_not_a_gap() {
        let first = digest(10, None);
        let second = digest(11, Some(&first));
        let third = digest(12, Some(&second));
        let mut i = inputs(vec![second, third]);
        let r = verify(&i);
        assert_eq!(
            r.digest_counts(),
            (2, 0, 1),
            "a lost first digest is missing"
        );
        i.listed_from = chrono::NaiveDate::from_ymd_opt(2024, 3, 6);
        let r = verify(&i);
        assert_eq!(r.digest_counts(), (2, 0, 0), "before the listed days");
        assert!(r.all_valid());
        assert_eq!(r.found_from.as_deref(), Some("2024-03-05T10:00:00Z"));
        assert_eq!(r.found_to.as_deref(), Some("2024-03-05T12:00:00Z"));
    }

    #[test]
    fn a_chain_that_stops_before_until_has_lost_its_newest_digests() {
        let first = digest(10, None);
        let second = digest(11, Some(&first));
        let mut i = inputs(vec![first, second]);
        i.until = at("2024-03-05T12:30:00Z");
        assert!(
            verify(&i).all_valid(),
            "within two hours of the end: delivery lag"
        );
        i.until = at("2024-03-06T00:00:00Z");
        let r = verify(&i);
        assert_eq!(r.digest_counts(), (2, 0, 1));
        assert!(r.digests.iter().any(|d| {
            d.reason
                .as_deref()
                .is_some_and(|x| x.contains("the chain ends at 2024-03-05T11:00:00Z"))
        }));
    }

    #[test]
    fn a_restarted_chain_is_noted_not_failed() {
        let r = verify(&inputs(vec![digest(10, None), digest(14, None)]));
        assert!(r.all_valid());
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].contains("starts again at 2024-03-05T13:00:00Z"));
    }
}
