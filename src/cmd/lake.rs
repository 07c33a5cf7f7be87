//! `trailscope lake`: the table's upkeep from the command line: `info`, `optimize`, `vacuum`,
//! `convert` and `ddl`.
//!
//! Parses the options, runs [`crate::lake::maintain`] on a Tokio runtime and prints what it did.
//! Exit status: 0 done; 2 error (the lake is unchanged).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::EXIT_OK;
use super::args::{AwsArgs, LakeArg};
use crate::lake::Lake;
use crate::lake::maintain::{self, Policy};
use crate::lake::partition::PartitionKey;
use crate::progress::inert;

const EXAMPLES: &str = "\
Examples:
  trailscope lake info --lake ./case42                 versions, runs, partitions, files, rows
  trailscope lake optimize --lake ./case42             merge small files (no row changes)
  trailscope lake optimize --partition account=111122223333,day=2024-03-05
  trailscope lake vacuum --lake ./case42 --dry-run     what vacuum would delete
  trailscope lake vacuum --retention 7d --yes-shorter-retention
  trailscope lake ddl --athena --location s3://case-bucket/case42/cloudtrail/
  trailscope sql --lake ./case42 --as-of 3 -e \"SELECT count(*) FROM cloudtrail\"

The cloudtrail table is a Delta Lake table: every ingest run is one commit (a version), a
compaction is another, and --as-of on sql, detect, timeline, trace and summary reads any version
still on disk.

Exit status: 0 done; 2 error (the lake is unchanged).";

/// Options of `trailscope lake`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct LakeArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The upkeep actions.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Versions and runs, partitions, files and small files, rows and bytes.
    Info {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        aws: AwsArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Merge each partition's small files into one sorted file, in one commit that changes no
    /// row (row counts and a content checksum are checked before it lands).
    Optimize {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        aws: AwsArgs,
        /// Only partitions matching account=ID, region=R and/or day=YYYY-MM-DD, comma-separated
        /// (repeatable).
        #[arg(long, value_name = "KEY=VALUE,...")]
        partition: Vec<String>,
    },
    /// Delete data files that no version within the retention period needs, and files no
    /// commit ever added; never a file younger than the retention period.
    Vacuum {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        aws: AwsArgs,
        /// Keep every file needed by a version younger than this (d, h, m).
        #[arg(long, default_value = "30d", value_name = "SPAN")]
        retention: String,
        /// Confirm a retention shorter than 30 days: versions older than it can no longer be
        /// read with --as-of.
        #[arg(long)]
        yes_shorter_retention: bool,
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Convert a lake written before the table was a Delta table (done on first open anyway);
    /// no file is rewritten, and row counts are checked against the new log.
    Convert {
        #[command(flatten)]
        lake: LakeArg,
    },
    /// Print the DDL another engine needs to read the table.
    Ddl {
        #[command(flatten)]
        lake: LakeArg,
        /// Amazon Athena's CREATE EXTERNAL TABLE for a Delta table.
        #[arg(long, required = true)]
        athena: bool,
        /// The table's S3 location (s3://bucket/prefix/cloudtrail/), where the lake was copied.
        #[arg(long, value_name = "S3URI")]
        location: Option<String>,
        /// The Athena table name.
        #[arg(long, default_value = "cloudtrail", value_name = "NAME")]
        table: String,
    },
}

/// Runs `trailscope lake`.
pub fn run(args: LakeArgs) -> Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let mut out = crate::progress::stdout();
        match args.action {
            Action::Info { lake, aws, json } => {
                let l = open(&lake.dir, aws).await?;
                let d = maintain::describe(l.root(), l.table()).await?;
                drop(l);
                if json {
                    write_info_json(&mut out, &d)?;
                } else {
                    write_info(&mut out, &lake.dir, &d)?;
                }
            }
            Action::Optimize {
                lake,
                aws,
                partition,
            } => {
                let filters = partition
                    .iter()
                    .map(|p| parse_partition(p))
                    .collect::<Result<Vec<_>>>()?;
                let mut l = open(&lake.dir, aws).await?;
                let only = |k: &PartitionKey| {
                    filters.is_empty() || filters.iter().any(|f| f.matches(k))
                };
                let c = maintain::compact(&mut l, Policy::default(), &only).await?;
                match c.version {
                    None => writeln!(out, "nothing to compact: no partition holds two small files")?,
                    Some(v) => writeln!(
                        out,
                        "compacted {} partitions: {} files replaced by {}, {} rows, checksums equal; version {v}",
                        c.partitions, c.files_removed, c.files_added, c.rows
                    )?,
                }
            }
            Action::Vacuum {
                lake,
                aws,
                retention,
                yes_shorter_retention,
                dry_run,
            } => {
                let span = parse_span(&retention)?;
                if span < chrono::Duration::days(30) && !yes_shorter_retention {
                    bail!(
                        "--retention {retention} is shorter than 30 days: versions older than it \
                         could no longer be read with --as-of; add --yes-shorter-retention to confirm"
                    );
                }
                let mut l = open(&lake.dir, aws).await?;
                let v = maintain::vacuum(&mut l, span, dry_run).await?;
                let verb = if dry_run { "would delete" } else { "deleted" };
                writeln!(out, "{verb} {} files", v.files.len())?;
                for f in &v.files {
                    writeln!(out, "  {}", inert(f))?;
                }
            }
            Action::Convert { lake } => {
                let existed = crate::lake::delta::exists(&lake.dir);
                let l = Lake::open(&lake.dir).await?;
                let d = maintain::describe(l.root(), l.table()).await?;
                if existed {
                    writeln!(out, "{} is already a Delta table (version {})", lake.dir.display(), d.version)?;
                } else {
                    writeln!(
                        out,
                        "converted {}: {} files, {} rows, none rewritten; version {}",
                        lake.dir.display(),
                        d.files,
                        d.rows,
                        d.version
                    )?;
                }
            }
            Action::Ddl {
                lake,
                athena: _,
                location,
                table,
            } => {
                let location = match location {
                    Some(l) => l,
                    None => format!("s3://YOUR-BUCKET/PATH/{}/", crate::schema::TABLE_DIR),
                };
                if !location.starts_with("s3://") {
                    bail!("--location must be the table's S3 URI (s3://bucket/prefix/cloudtrail/)");
                }
                if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    bail!("--table must be letters, digits and underscores");
                }
                let location = location.replace('\'', "");
                let location = if location.ends_with('/') { location } else { format!("{location}/") };
                writeln!(
                    out,
                    "-- Amazon Athena (engine v3) reads the columns from the Delta log of the lake {}\n\
                     -- once it is copied to S3 (for example: aws s3 sync {}/cloudtrail {location}).\n\
                     CREATE EXTERNAL TABLE {table}\n\
                     LOCATION '{location}'\n\
                     TBLPROPERTIES ('table_type' = 'DELTA');",
                    lake.dir.display(),
                    lake.dir.display()
                )?;
            }
        }
        out.flush().context("writing to stdout")?;
        Ok(ExitCode::from(EXIT_OK))
    })
}

/// Opens the lake `--lake` names (waiting for a writer on disk), refusing a directory that is
/// not a lake rather than creating one.
async fn open(dir: &std::path::Path, aws: AwsArgs) -> Result<Lake> {
    if !crate::lake::remote::is_s3(dir) {
        require_lake(dir)?;
    }
    let loc = crate::lake::Location::resolve(dir, &aws.into()).await?;
    Lake::open_at(&loc).await
}

fn require_lake(dir: &std::path::Path) -> Result<()> {
    if !dir.join(crate::lake::META_DIR).is_dir() {
        bail!(
            "{} is not a trailscope lake; build one with `trailscope ingest SOURCE --lake {}`",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// A `--partition` filter.
#[derive(Debug, Default, PartialEq, Eq)]
struct PartitionFilter {
    account: Option<String>,
    region: Option<String>,
    day: Option<String>,
}

impl PartitionFilter {
    fn matches(&self, k: &PartitionKey) -> bool {
        self.account.as_ref().is_none_or(|a| *a == k.account)
            && self.region.as_ref().is_none_or(|r| *r == k.region)
            && self.day.as_ref().is_none_or(|d| *d == k.day)
    }
}

fn parse_partition(s: &str) -> Result<PartitionFilter> {
    let mut f = PartitionFilter::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .with_context(|| format!("--partition {s}: expected KEY=VALUE, got {part}"))?;
        let slot = match k {
            "account" => &mut f.account,
            "region" => &mut f.region,
            "day" => &mut f.day,
            _ => bail!("--partition {s}: the keys are account, region and day"),
        };
        *slot = Some(v.to_owned());
    }
    Ok(f)
}

fn parse_span(s: &str) -> Result<chrono::Duration> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a span like 30d, 12h or 90m"))?;
    Ok(match unit {
        "d" => chrono::Duration::days(n),
        "h" => chrono::Duration::hours(n),
        "m" => chrono::Duration::minutes(n),
        _ => bail!("{s:?}: the span unit must be d, h or m"),
    })
}

fn fmt_time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "-".into())
}

fn write_info(out: &mut dyn Write, dir: &std::path::Path, d: &maintain::Description) -> Result<()> {
    writeln!(
        out,
        "lake {} — Delta table version {}",
        dir.display(),
        d.version
    )?;
    writeln!(
        out,
        "  {} partitions, {} files ({} small), {} rows, {:.1} MiB",
        d.partitions,
        d.files,
        d.small_files,
        d.rows,
        d.bytes as f64 / (1 << 20) as f64
    )?;
    if d.partitions_to_compact > 0 {
        writeln!(
            out,
            "  {} partitions hold {}+ small files: `trailscope lake optimize` merges them",
            d.partitions_to_compact,
            Policy::default().min_small_files
        )?;
    }
    if d.unreferenced_files > 0 {
        writeln!(
            out,
            "  {} files on disk belong to no current version (kept for --as-of; `trailscope lake vacuum` removes them past the retention period)",
            d.unreferenced_files
        )?;
    }
    writeln!(
        out,
        "\n  version  committed             operation        run / rows"
    )?;
    for c in &d.commits {
        let what = match (&c.run, &c.ledger) {
            (Some(r), Some(l)) => format!(
                "{} ({} rows written)",
                inert(r),
                l.get("rows_written").and_then(|v| v.as_u64()).unwrap_or(0)
            ),
            (Some(r), None) => inert(r).to_string(),
            _ if !c.converted_runs.is_empty() => {
                format!("converted lake ({} earlier runs)", c.converted_runs.len())
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "  {:>7}  {:<20}  {:<15}  {}",
            c.version,
            fmt_time(c.timestamp),
            inert(&c.operation),
            what
        )?;
    }
    Ok(())
}

fn write_info_json(out: &mut dyn Write, d: &maintain::Description) -> Result<()> {
    let commits: Vec<serde_json::Value> = d
        .commits
        .iter()
        .map(|c| {
            serde_json::json!({
                "version": c.version,
                "timestamp": fmt_time(c.timestamp),
                "operation": c.operation,
                "run": c.run,
                "converted_runs": c.converted_runs,
                "ledger": c.ledger,
            })
        })
        .collect();
    let v = serde_json::json!({
        "version": d.version,
        "partitions": d.partitions,
        "files": d.files,
        "small_files": d.small_files,
        "partitions_to_compact": d.partitions_to_compact,
        "rows": d.rows,
        "bytes": d.bytes,
        "unreferenced_files": d.unreferenced_files,
        "commits": commits,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_filters_and_spans_parse() {
        let f = parse_partition("account=1,day=2024-01-02").unwrap();
        let k = PartitionKey {
            account: "1".into(),
            region: "r".into(),
            day: "2024-01-02".into(),
        };
        assert!(f.matches(&k));
        assert!(!parse_partition("region=x").unwrap().matches(&k));
        assert!(parse_partition("acct=1").is_err());
        assert_eq!(parse_span("30d").unwrap(), chrono::Duration::days(30));
        assert!(parse_span("30x").is_err());
    }
}
