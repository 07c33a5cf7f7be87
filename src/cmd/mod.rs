//! The command line: global options and one module per subcommand (`ingest`, `sql`, `detect`,
//! `packs`, `trace`, `timeline`, `summary`, `verify`, `lake`, `cluster`).
//!
//! Each subcommand module owns its argument struct and a `run` that returns the process exit
//! status; [`args`] holds the argument groups they share (the lake or raw source, AWS access,
//! `--packs-dir`) and opens lakes and sessions. This module only declares and dispatches.

pub mod args;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod detect;
pub mod ingest;
pub mod lake;
pub mod packs;
pub mod sql;
pub mod summary;
pub mod timeline;
pub mod trace;
pub mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command finished but found something (findings, failed objects).
pub const EXIT_FOUND: u8 = 1;
/// Exit status: error.
pub const EXIT_ERROR: u8 = 2;

/// CloudTrail forensic query engine: turn CloudTrail logs (S3 or local) into a lossless Parquet
/// lake you can query offline, and run detection packs over it.
#[derive(Debug, Parser)]
#[command(name = "trailscope", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Start here:\n  trailscope detect ./sample-logs           all detections over the shipped sample\n  trailscope ingest s3://my-trail-bucket/AWSLogs/ --since 2024-03-01    build ./trailscope-lake\n  trailscope detect --min-severity high     findings in ./trailscope-lake\n  trailscope sql -e \"SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY n DESC\"\n  trailscope packs list                     the detection rules\n  trailscope verify s3://my-trail-bucket/AWSLogs/ --since 7d    prove the logs with CloudTrail's signed digests\n  trailscope <command> --help               every option, with examples"
)]
pub struct Cli {
    /// More log lines on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr, and no progress bars.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest CloudTrail logs from S3, local files or stdin into the Parquet lake.
    Ingest(ingest::IngestArgs),
    /// Query the lake with SQL: an interactive shell, or batch from -e, -f or stdin.
    Sql(sql::SqlArgs),
    /// Run the detection packs over the lake (or raw logs) and print findings.
    Detect(detect::DetectArgs),
    /// List, show and lint detection rules.
    Packs(packs::PacksArgs),
    /// Trace an access key, role session or principal back to the identity behind it.
    Trace(trace::TraceArgs),
    /// One actor's, key's, IP's or resource's events in time order, chained sessions included.
    Timeline(timeline::TimelineArgs),
    /// Per-actor summaries: when, where, from which IPs and keys, what, and which detections.
    Summary(summary::SummaryArgs),
    /// Verify CloudTrail's signed digests: prove the logs are what AWS delivered, name the gaps.
    Verify(verify::VerifyArgs),
    /// The lake's Delta table: info, optimize (compaction), vacuum, convert, ddl for Athena.
    Lake(lake::LakeArgs),
    /// Run a scheduler or executor of a trailscope cluster (Ballista), or show its state.
    #[cfg(feature = "cluster")]
    Cluster(cluster::ClusterArgs),
}

/// The async runtime a command runs its work on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs the parsed command line and returns the exit status.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Packs(args) => packs::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Summary(args) => summary::run(args),
        Command::Verify(args) => verify::run(args),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => cluster::run(args),
        Command::Lake(args) => lake::run(args),
    }
}
