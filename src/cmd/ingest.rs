//! `trailscope ingest`: the command-line face of [`crate::ingest`].
//!
//! Parses the options, runs the ingest on a Tokio runtime, and prints the ledger, the failures
//! and a summary of the lake to stdout. Exit status: 0 when every object was ingested, 1 when the
//! run finished but some objects failed (they are named, and quarantined when readable) or records
//! conflict with stored ones (quarantined), 2 on an
//! error that stopped the run (the lake is then unchanged).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Args;

use super::args::{AwsArgs, LakeArg};
use super::{EXIT_FOUND, EXIT_OK};
use crate::ingest::{self, Options};
use crate::source::layout::{Filters, ymd};
use crate::time::parse_day;

const EXAMPLES: &str = "\
Examples:
  # The shipped sample, no AWS account needed
  trailscope ingest ./sample-logs

  # A trail bucket, three days of one region, with a named profile
  trailscope ingest s3://my-trail-bucket/AWSLogs/ --profile ir \\
      --regions us-east-1 --since 2024-03-05 --until 2024-03-07

  # An organization trail, two member accounts only
  trailscope ingest s3://org-trail/AWSLogs/o-abc123def4/ --accounts 111122223333,444455556666

  # A local copy (aws s3 sync), into a case lake
  trailscope ingest ./case42-logs --lake ./case42

  # An S3-compatible store, or a public bucket
  trailscope ingest s3://logs/AWSLogs/ --endpoint-url http://127.0.0.1:9000
  trailscope ingest s3://public-bucket/AWSLogs/ --no-sign-request

  # Event history exported with the AWS CLI
  aws cloudtrail lookup-events --max-results 1000 | trailscope ingest -

Input shapes are recognised by content: gzip or plain; {\"Records\":[...]}; a JSON array; JSON lines;
aws cloudtrail lookup-events output. Re-running an ingest reads only new or changed objects.

Exit status: 0 all objects ingested; 1 finished, but some objects failed or some records conflict
with stored ones (named above the ledger);
2 error (nothing was committed; the lake is unchanged).";

/// Options of `trailscope ingest`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct IngestArgs {
    /// Where the logs are: s3://bucket/prefix, a directory (read recursively), a file, or - for stdin.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    /// Only these accounts (comma-separated ids), selected by the S3 key layout before download.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,...",
        help_heading = "Selecting logs"
    )]
    pub accounts: Vec<String>,

    /// Only these log regions (comma-separated), selected by the key layout. Not the S3 client's
    /// region: that is --region.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "REGION,...",
        help_heading = "Selecting logs"
    )]
    pub regions: Vec<String>,

    /// First day of events wanted: YYYY-MM-DD, an RFC 3339 time, or a span back from now (7d, 36h).
    /// Selects objects by their key's day, with a day of slack for late delivery; files outside
    /// the CloudTrail key layout are always read.
    #[arg(long, value_parser = parse_day, value_name = "WHEN", help_heading = "Selecting logs")]
    pub since: Option<NaiveDate>,

    /// Last day of events wanted (same forms as --since).
    #[arg(long, value_parser = parse_day, value_name = "WHEN", help_heading = "Selecting logs")]
    pub until: Option<NaiveDate>,

    /// Keep the trail's digest files and their signatures beside the lake
    /// (LAKE/_trailscope/digests), so `trailscope verify --lake LAKE` can prove the logs later
    /// with no AWS access.
    #[arg(long)]
    pub keep_digests: bool,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Conversion threads [default: number of CPUs].
    #[arg(short, long, value_name = "N", help_heading = "Tuning")]
    pub jobs: Option<usize>,

    /// S3 objects downloaded at once. S3 answers each request in tens of milliseconds, so it
    /// takes many requests in flight to keep the conversion threads busy: at 50 ms per request,
    /// 64 keep two cores at over 80% of their speed from local disk, 16 at about half. Local
    /// files are read at most 2 per conversion thread at a time.
    #[arg(long, default_value_t = crate::ingest::FETCH_CONCURRENCY, value_name = "N", help_heading = "Tuning")]
    pub fetch_concurrency: usize,

    /// Largest decompressed object accepted (guards against gzip bombs): bytes, or with KiB, MiB, GiB.
    #[arg(long, default_value = "1GiB", value_parser = parse_size, value_name = "SIZE", help_heading = "Tuning")]
    pub max_object_size: u64,

    /// Memory for converted rows waiting to be written, buffered or being written (bytes, or
    /// with MiB, GiB). It bounds the rows only: on top come each worker's decompressed object and
    /// its parsed records (one object per worker at a time: -j and the size of the largest
    /// object), up to 32 MiB of converted objects waiting for the writer, the de-duplication
    /// index (--index-memory), and the program itself (about 60 MiB).
    #[arg(long, default_value = "256MiB", value_parser = parse_size, value_name = "SIZE", help_heading = "Tuning")]
    pub memory: u64,

    /// Memory for the de-duplication index: the id and content hash of every event of the
    /// partitions touched, so that a copy of an event later in the listing (an organization trail
    /// and an account trail, a re-delivery) is caught. Past it, the index of the partitions
    /// touched longest ago is dropped and read back from their files if they are touched again,
    /// so a long ingest's memory stays flat.
    #[arg(long, default_value = "64MiB", value_parser = parse_size, value_name = "SIZE", help_heading = "Tuning")]
    pub index_memory: u64,

    /// Do not compact. By default, a partition that held files before this run and holds 2 or
    /// more files under 64 MiB after it has them merged (in a second commit that changes no
    /// row), so frequent small ingests keep queries fast.
    #[arg(long, help_heading = "Tuning")]
    pub no_compact: bool,
}

/// Runs `trailscope ingest`.
pub fn run(args: IngestArgs) -> Result<ExitCode> {
    if let (Some(s), Some(u)) = (args.since, args.until)
        && s > u
    {
        bail!("--since {} is after --until {}", ymd(s), ymd(u));
    }
    let mut opts = Options::new(args.sources.clone(), args.lake.dir.clone());
    opts.filters = Filters {
        accounts: args.accounts,
        regions: args.regions,
        since: args.since,
        until: args.until,
    };
    opts.s3 = args.aws.into();
    opts.compact = !args.no_compact;
    if let Some(j) = args.jobs {
        opts.jobs = j.max(1);
    }
    opts.fetch_concurrency = args.fetch_concurrency.max(1);
    opts.max_object_size = args.max_object_size;
    opts.writer.memory_budget = args.memory as usize;
    opts.writer.index_budget = args.index_memory as usize;
    opts.keep_digests = args.keep_digests;
    let runtime = super::runtime()?;
    let report = runtime.block_on(ingest::run(&opts))?;
    let mut out = std::io::stdout().lock();
    ingest::report::write_report(&mut out, &report, &opts.lake).context("writing the report")?;
    Ok(ExitCode::from(
        if report.failures.is_empty() && report.ledger.conflicts == 0 {
            EXIT_OK
        } else {
            EXIT_FOUND
        },
    ))
}

/// Parses a size: plain bytes, or with a KiB/MiB/GiB (or KB/MB/GB, K/M/G) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 1GiB or 500MiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "{s:?}: unknown size unit {other:?} (use KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_days_parse() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert_eq!(
            parse_day("2024-03-05"),
            Ok(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap())
        );
        assert_eq!(
            parse_day("2024-03-05T23:00:00-02:00"),
            Ok(NaiveDate::from_ymd_opt(2024, 3, 6).unwrap())
        );
        assert!(parse_day("7d").is_ok());
        assert!(parse_day("tuesday").is_err());
    }
}
