//! `trailscope verify`: proves, with CloudTrail's signed digest files, that the logs are the logs
//! AWS delivered, and names every gap.
//!
//! Gathers digests and log files ([`crate::verify::gather`]), gets the public keys (a file, the
//! keys saved beside the lake, or ListPublicKeys), judges ([`crate::verify::judge`]), stores the
//! verdicts in the lake as the `verification` table, and prints a summary in the AWS CLI's terms
//! and then the details. Exit status: 0 everything valid, 1 anything invalid, missing or
//! unverified, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Args;

use super::args::{AwsArgs, LakeArg};
use super::{EXIT_FOUND, EXIT_OK};
use crate::lake::digests as store;
use crate::lake::{Bookkeeping, Location};
use crate::query::output::{Format, write_records};
use crate::source::layout::{Filters, ymd};
use crate::time::parse_day;
use crate::verify::gather::{self, Options};
use crate::verify::judge::{Report, Status};
use crate::verify::{PublicKeys, keys};

const EXAMPLES: &str = "\
Examples:
  # The trail bucket, online: digests, signatures and public keys from AWS
  trailscope verify s3://my-trail-bucket/AWSLogs/ --since 2024-03-01 --until 2024-03-07

  # Keep the keys for later, offline use
  trailscope verify s3://my-trail-bucket/AWSLogs/ --since 2024-03-01 --save-public-keys keys.json

  # A local copy (aws s3 sync); signatures from each digest's .metadata.json sidecar
  trailscope verify ./case42-logs --public-keys keys.json

  # Offline, from the lake alone: digests kept by `ingest --keep-digests`, hashes from the manifest
  trailscope verify --lake ./case42 --public-keys keys.json

  # A lake in S3: the verdicts and the keys used are stored in it, for every responder's detect
  trailscope verify s3://my-trail-bucket/AWSLogs/ --lake s3://case-bucket/case42

A digest is valid when it is where CloudTrail delivered it, its SHA256withRSA signature verifies
with the CloudTrail key it names, and its previous-digest hash and signature match the real previous
digest. A log file is valid when a valid digest lists it and the SHA-256 of its content (the
decompressed bytes of exactly one gzip stream) is the listed hashValue. A log file no valid digest
lists is unverified. Verdicts are stored in the lake: SELECT * FROM verification, and `detect` marks
each finding verified, unverified or invalid.

Exit status: 0 every digest and log file valid; 1 anything invalid, missing or unverified; 2 error.";

/// Options of `trailscope verify`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyArgs {
    /// The trail: s3://bucket/prefix or a local copy. Without it, the digests kept in the lake
    /// (`ingest --keep-digests`) and the manifest's hashes are verified, offline.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    /// First day to verify: YYYY-MM-DD, an RFC 3339 time, or a span back from now (7d, 36h).
    #[arg(long, value_parser = parse_day, value_name = "WHEN")]
    pub since: Option<NaiveDate>,

    /// Last day to verify (same forms). The chain must reach the end of it: a chain that stops
    /// earlier has lost its newest digests.
    #[arg(long, value_parser = parse_day, value_name = "WHEN")]
    pub until: Option<NaiveDate>,

    /// Only these accounts (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Vec<String>,

    /// Only these log regions (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,

    /// CloudTrail public keys from a file holding the JSON `aws cloudtrail list-public-keys`
    /// prints; no call to CloudTrail is made.
    #[arg(long, value_name = "FILE", help_heading = "Keys")]
    pub public_keys: Option<PathBuf>,

    /// Write the public keys used to FILE, in the same JSON, for verifying later with no AWS
    /// access.
    #[arg(long, value_name = "FILE", help_heading = "Keys")]
    pub save_public_keys: Option<PathBuf>,

    /// The bucket CloudTrail delivered to, when SOURCE is a copy in another bucket.
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,

    /// Output: table (also spelt text: a summary in the AWS CLI's terms, then one line per
    /// problem), json (one document with every verdict), or ndjson and csv (one row per verdict).
    #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
    pub format: Format,

    /// List valid digests and log files too, not only the problems.
    #[arg(long)]
    pub show_valid: bool,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Objects read at once (S3 is latency-bound: many requests in flight).
    #[arg(long, default_value_t = crate::ingest::FETCH_CONCURRENCY, value_name = "N", help_heading = "Tuning")]
    pub fetch_concurrency: usize,
}

/// One verdict as a flat row, for ndjson and csv.
#[derive(serde::Serialize)]
struct VerdictRow<'a> {
    object_type: &'static str,
    uri: &'a str,
    status: Status,
    reason: Option<&'a str>,
    chain: Option<&'a str>,
    digest: Option<&'a str>,
}

fn verdict_rows(report: &Report) -> Vec<VerdictRow<'_>> {
    let digests = report.digests.iter().map(|d| VerdictRow {
        object_type: "digest",
        uri: &d.uri,
        status: d.status,
        reason: d.reason.as_deref(),
        chain: Some(&d.chain),
        digest: None,
    });
    let logs = report.logs.iter().map(|l| VerdictRow {
        object_type: "log",
        uri: &l.uri,
        status: l.status,
        reason: l.reason.as_deref(),
        chain: None,
        digest: l.digest.as_deref(),
    });
    digests.chain(logs).collect()
}

/// Runs `trailscope verify`.
pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    if let (Some(s), Some(u)) = (args.since, args.until)
        && s > u
    {
        bail!("--since {} is after --until {}", ymd(s), ymd(u));
    }
    let runtime = super::runtime()?;
    let s3: crate::source::s3::S3Options = args.aws.clone().into();
    let loc = runtime.block_on(Location::resolve(&args.lake.dir, &s3))?;
    // A lake in S3 is verified from a scratch copy of its bookkeeping; the verdicts and keys go
    // back into it.
    let book = runtime.block_on(Bookkeeping::fetch(&loc))?;
    let lake = book.as_ref().map(|b| b.root().to_path_buf());
    match (&lake, &args.source) {
        (None, None) => bail!(
            "{loc} is not a lake; give the trail as SOURCE (s3://bucket/AWSLogs/ or a local copy), or --lake DIR|S3URI"
        ),
        // Digests are kept only in lakes on disk (`ingest --keep-digests`).
        (Some(_), None) if matches!(loc, Location::S3(_)) => bail!(
            "the lake {loc} keeps no digests (a lake in S3 does not); give the trail as SOURCE (s3://bucket/AWSLogs/ or a local copy)"
        ),
        _ => {}
    }
    let opts = Options {
        source: args.source.clone(),
        lake: lake.clone(),
        filters: Filters {
            accounts: args.accounts.clone(),
            regions: args.regions.clone(),
            since: args.since,
            until: args.until,
        },
        s3,
        bucket: args.bucket.clone(),
        concurrency: args.fetch_concurrency.max(1),
    };
    let started = std::time::Instant::now();
    let mut gathered = runtime.block_on(gather::gather(&opts))?;

    // Keys kept beside the lake from earlier runs.
    let saved = match lake.as_ref().map(|l| store::keys_path(l)) {
        Some(p) if p.exists() => Some(read_keys(&p)?),
        _ => None,
    };
    let covers = |k: &PublicKeys| gathered.fingerprints.iter().all(|f| k.get(f).is_some());
    let keys = match (&args.public_keys, saved.as_ref()) {
        (Some(path), _) => read_keys(path)?,
        (None, Some(k)) if args.source.is_none() || covers(k) => k.clone(),
        _ if gathered.inputs.digests.is_empty() => PublicKeys::default(),
        _ => {
            let regions: Vec<String> = gathered.regions.iter().cloned().collect();
            let (start, end) = gathered.span.unwrap_or_else(|| {
                let now = chrono::Utc::now();
                (now - chrono::Duration::days(1), now)
            });
            runtime.block_on(keys::fetch(&opts.s3, &regions, start, end))?
        }
    };
    // Whatever keys served are kept beside the lake, so the next run needs no AWS access.
    if let (Some(l), Some(book)) = (&lake, &book)
        && !keys.is_empty()
    {
        let mut all = saved.unwrap_or_default();
        let before = all.len();
        for e in keys.entries() {
            all.add(e.clone())?;
        }
        if all.len() > before {
            let path = store::keys_path(l);
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            }
            store::write_atomic(&path, all.to_json().as_bytes())?;
            runtime.block_on(book.publish(&path))?;
        }
    }
    if let Some(path) = &args.save_public_keys {
        std::fs::write(path, keys.to_json())
            .with_context(|| format!("writing the public keys to {}", path.display()))?;
    }
    gathered.inputs.keys = keys;
    gathered.inputs.until = args.until.and_then(|d| {
        d.checked_add_days(chrono::Days::new(1))
            .map(|n| n.and_time(chrono::NaiveTime::MIN).and_utc())
    });
    let report = crate::verify::judge::verify(&gathered.inputs);
    let stored = match &book {
        Some(b) => {
            let path = crate::verify::results::write_results(b.root(), &report)?;
            Some(runtime.block_on(b.publish(&path))?)
        }
        None => None,
    };
    log::info!(
        "verified in {:.2}s ({} log files read, {} bytes)",
        started.elapsed().as_secs_f64(),
        gathered.logs_read,
        gathered.bytes_read
    );

    let mut out = crate::progress::stdout();
    match args.format {
        Format::Csv | Format::CsvRaw | Format::Ndjson => {
            write_records(&mut out, &verdict_rows(&report), args.format)
                .context("writing the report")?;
        }
        Format::Json => {
            let (dv, di, dm) = report.digest_counts();
            let (lv, li, lm, lu) = report.log_counts();
            let doc = serde_json::json!({
                "requested": {"since": args.since.map(ymd), "until": args.until.map(ymd)},
                "found": {"from": report.found_from, "to": report.found_to},
                "digest_files": {"valid": dv, "invalid": di, "missing": dm},
                "log_files": {"valid": lv, "invalid": li, "missing": lm, "unverified": lu},
                "all_valid": report.all_valid(),
                "digests": report.digests,
                "logs": report.logs,
                "notes": report.notes,
            });
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(crate::query::output::json_error)
                .context("writing the report")?;
            writeln!(out)?;
        }
        Format::Table | Format::Sarif => {
            print_text(&mut out, &args, &report, stored.as_deref())
                .context("writing the report")?;
        }
    }
    Ok(ExitCode::from(if report.all_valid() {
        EXIT_OK
    } else {
        EXIT_FOUND
    }))
}

fn read_keys(path: &std::path::Path) -> Result<PublicKeys> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the public keys {}", path.display()))?;
    PublicKeys::from_json(&text).with_context(|| format!("{}", path.display()))
}

fn print_text(
    out: &mut impl Write,
    args: &VerifyArgs,
    report: &Report,
    stored: Option<&str>,
) -> Result<()> {
    match (args.since, args.until) {
        (None, None) => writeln!(out, "Results requested for every digest found")?,
        (since, until) => writeln!(
            out,
            "Results requested for {} to {}",
            since.map_or_else(|| "the first digest".to_owned(), ymd),
            until.map_or_else(
                || "the last digest".to_owned(),
                |u| format!("{} 23:59:59Z", ymd(u))
            )
        )?,
    }
    if report.digests.is_empty() {
        writeln!(
            out,
            "No digests found (is log file validation on for the trail? digests are under AWSLogs/<account>/CloudTrail-Digest/)"
        )?;
    } else {
        match (&report.found_from, &report.found_to) {
            (Some(a), Some(b)) => writeln!(out, "Results found for {a} to {b}:")?,
            _ => writeln!(out, "No valid digests found in range")?,
        }
    }
    writeln!(out)?;
    let (dv, di, dm) = report.digest_counts();
    ratio(out, "digest", dv, &[(di, "INVALID"), (dm, "missing")])?;
    let (lv, li, lm, lu) = report.log_counts();
    ratio(
        out,
        "log",
        lv,
        &[(li, "INVALID"), (lm, "missing"), (lu, "unverified")],
    )?;

    let problems: Vec<String> = report
        .digests
        .iter()
        .filter(|d| args.show_valid || d.status != Status::Valid)
        .map(|d| line("Digest file", &d.uri, d.status, d.reason.as_deref()))
        .chain(
            report
                .logs
                .iter()
                .filter(|l| args.show_valid || l.status != Status::Valid)
                .map(|l| line("Log file", &l.uri, l.status, l.reason.as_deref())),
        )
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
        for p in problems {
            writeln!(out, "{p}")?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out)?;
        for n in &report.notes {
            writeln!(out, "note: {n}")?;
        }
    }
    writeln!(out)?;
    match stored {
        Some(p) => writeln!(
            out,
            "Verdicts stored in {p}: query them as the `verification` table; `detect` marks findings by them."
        )?,
        None => writeln!(
            out,
            "No lake at {}: verdicts not stored (give --lake to keep them).",
            args.lake.dir.display()
        )?,
    }
    Ok(())
}

fn ratio(out: &mut impl Write, name: &str, valid: usize, rest: &[(usize, &str)]) -> Result<()> {
    let total = valid + rest.iter().map(|r| r.0).sum::<usize>();
    write!(out, "{valid}/{total} {name} files valid")?;
    for (n, what) in rest {
        if *n > 0 {
            write!(out, ", {n}/{total} {name} files {what}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn line(kind: &str, uri: &str, status: Status, reason: Option<&str>) -> String {
    let word = match status {
        Status::Valid => "valid".to_owned(),
        s => s.as_str().to_uppercase(),
    };
    // Object names and reasons quote the source: inert, so the tab-separated layout holds.
    let uri = crate::progress::inert(uri);
    match reason {
        Some(r) => format!("{kind}\t{uri}\t{word}: {}", crate::progress::inert(r)),
        None => format!("{kind}\t{uri}\t{word}"),
    }
}
