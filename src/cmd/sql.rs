//! `trailscope sql`: SQL over the lake, interactive on a terminal, or from `-e`, `-f` or stdin.
//!
//! Opens a [`crate::session`] over `--lake` (or over a cache lake ingested first from a raw
//! source). With SQL given, runs each statement in order ([`crate::exec`]) and writes results to
//! stdout in `--format`, or to `--output FILE`; exit status 0 when every statement ran, 2 on the
//! first error (message on stderr). Without, starts the shell ([`crate::repl`]).

use anyhow::{Context, Result, bail};
use clap::Args;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::ingest::{AwsArgs, print_ledger};
use super::{EXIT_OK, LakeArg};
use crate::exec::{self, Sink};
use crate::ingest::{self, Options};
use crate::output::Format;
use crate::{repl, session};

const EXAMPLES: &str = "\
Examples:
  # Who called what, most first
  trailscope sql -e \"SELECT useridentity.arn, eventname, count(*) AS n FROM cloudtrail GROUP BY 1, 2 ORDER BY n DESC LIMIT 20\"

  # Lambda changes on one day, as CSV (partition columns prune files)
  trailscope sql --format csv -e \"SELECT eventtime, eventname, json_get_str(requestparameters, 'functionName') AS fn
      FROM lambda_events WHERE day = '2024-03-05' AND readonly = false ORDER BY eventtime\"

  # Straight from raw logs: ingested into a cache lake first, reused next time
  trailscope sql ./sample-logs -e \"SELECT count(*) FROM cloudtrail\"

  # The interactive shell: history, multi-line statements, Tab completion, \\d, \\df, \\o, Ctrl-C
  trailscope sql --lake ./case42

  # A script of statements, results saved for a report
  trailscope sql -f hunt.sql --output findings.parquet
  echo \"SELECT count(*) FROM error_events;\" | trailscope sql

Tables and views: cloudtrail (partitioned by account, region, day), lambda_events, iam_events,
signin_events, error_events. JSON columns (requestparameters, responseelements, …) are read with
json_get_str / json_get / the ->> operator. The lake is never changed: INSERT, COPY, CREATE
EXTERNAL TABLE and SET are refused; CREATE VIEW works for the session.

Exit status: 0 every statement ran; 2 error.";

/// Options of `trailscope sql`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct SqlArgs {
    /// Raw logs to query instead of --lake (s3://bucket/prefix or a directory): ingested into a
    /// cache lake first, and reused incrementally next time.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    /// SQL to run (repeatable; each may hold several statements separated by `;`).
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    pub execute: Vec<String>,

    /// A file of SQL statements to run.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// How results are printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write results to FILE instead (.csv, .json, .ndjson or .parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Longest value shown in a table cell; longer ones are cut with `…`.
    #[arg(long, default_value_t = 60, value_name = "CHARS")]
    pub max_width: usize,

    /// Run the interactive shell even when stdin is not a terminal (scripted sessions).
    #[arg(short, long)]
    pub interactive: bool,

    /// Also load the detection rules under DIR for the shell's `\packs` and `\run` (repeatable).
    #[arg(long = "packs-dir", value_name = "DIR", env = "TRAILSCOPE_PACKS_DIR")]
    pub packs_dirs: Vec<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `trailscope sql`.
pub fn run(args: SqlArgs) -> Result<ExitCode> {
    let mut sql = args.execute.join(";\n");
    if let Some(f) = &args.file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading the SQL file {}", f.display()))?;
        sql.push_str(";\n");
        sql.push_str(&text);
    }
    let terminal = std::io::stdin().is_terminal();
    let shell = args.execute.is_empty() && args.file.is_none() && (terminal || args.interactive);
    if args.execute.is_empty() && args.file.is_none() && !shell {
        std::io::stdin()
            .read_to_string(&mut sql)
            .context("reading SQL from stdin")?;
    }
    let sink = Sink {
        format: args.format,
        max_width: args.max_width,
        file: args.output.clone(),
        timing: false,
    };
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let lake = match &args.source {
            Some(source) => cache_ingest(source, &args.aws).await?,
            None => args.lake.dir.clone(),
        };
        let ctx = session::open(&lake).await?;
        if shell {
            let rules = crate::packs::catalogue(&args.packs_dirs)?;
            return repl::run(&ctx, &rules, sink, terminal).await;
        }
        exec::run_sql(&ctx, &sql, &sink, &mut std::io::stdout().lock()).await
    });
    // A query cancelled with Ctrl-C may still be inside a long computation that only notices at
    // its next yield; leaving must not wait for it.
    runtime.shutdown_background();
    result?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Ingests a raw source into its cache lake and returns the lake.
pub async fn cache_ingest(source: &str, aws: &AwsArgs) -> Result<PathBuf> {
    let lake = cache_lake(source)?;
    let mut opts = Options::new(vec![source.to_owned()], lake.clone());
    opts.s3 = aws.clone().into();
    let report = ingest::run(&opts).await?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "ingested {source} into the cache lake {}",
        lake.display()
    )?;
    print_ledger(&mut err, &report, &lake)?;
    Ok(lake)
}

/// Where the cache lake of a source lives: under `TRAILSCOPE_CACHE`, else the user's cache
/// directory, named by a hash of the source's absolute location.
pub fn cache_lake(source: &str) -> Result<PathBuf> {
    let id = if source.starts_with("s3://") {
        source.trim_end_matches('/').to_owned()
    } else {
        Path::new(source)
            .canonicalize()
            .with_context(|| format!("{source}: no such file or directory"))?
            .display()
            .to_string()
    };
    let base = match std::env::var_os("TRAILSCOPE_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
            (Some(x), _) => PathBuf::from(x).join("trailscope"),
            (None, Some(h)) => PathBuf::from(h).join(".cache").join("trailscope"),
            (None, None) => bail!("no cache directory: set TRAILSCOPE_CACHE, or give --lake"),
        },
    };
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    Ok(base.join("lakes").join(&hash[..16]))
}
