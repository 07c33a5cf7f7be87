//! `trailscope sql`: SQL over the lake, interactive on a terminal, or from `-e`, `-f` or stdin.
//!
//! Opens a [`crate::query::session`] over `--lake` (or over a cache lake ingested first from a raw
//! source). With SQL given, runs each statement in order ([`crate::query::exec`]) and writes results to
//! stdout in `--format`, or to `--output FILE`; exit status 0 when every statement ran, 2 on the
//! first error (message on stderr). Without, starts the shell ([`crate::repl`]).

use anyhow::{Context, Result};
use clap::Args;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_OK;
use super::args::{LakeInput, PacksDirs};
use crate::query::exec::{self, Sink};
use crate::query::output::Format;
use crate::query::session::Scope;
use crate::repl;

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
signin_events, error_events, credential_chains (every access key and its origin), account_spans
(each account's first and last event), verification (the latest verify verdicts). JSON columns (requestparameters, responseelements, …) are read with
json_get_str / json_get / the ->> operator. The lake is never changed: INSERT, COPY, CREATE
EXTERNAL TABLE and SET are refused; CREATE VIEW works for the session.

Memory: queries hold at most --memory-limit (default: half the machine's memory); past it sorts,
joins and aggregations spill to TMPDIR, and a query that still does not fit fails with an error
naming the limit, never taking the shell down.

Exit status: 0 every statement ran; 2 error.";

/// Options of `trailscope sql`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct SqlArgs {
    #[command(flatten)]
    pub input: LakeInput,

    /// SQL to run (repeatable; each may hold several statements separated by `;`).
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    pub execute: Vec<String>,

    /// A file of SQL statements to run.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// How results are printed.
    #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
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

    #[command(flatten)]
    pub packs: PacksDirs,
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
    let mut sink = Sink {
        format: args.format,
        max_width: args.max_width,
        file: args.output.clone(),
        lake: None,
        timing: false,
    };
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let (lake, ctx) = args.input.open(Scope::default()).await?;
        if let Some(out) = &sink.file {
            crate::lake::ensure_outside(&lake, out)?;
        }
        sink.lake = Some(lake);
        if shell {
            let rules = args.packs.catalogue()?;
            return repl::run(&ctx, &rules, sink, terminal).await;
        }
        exec::run_sql(&ctx, &sql, &sink, &mut crate::progress::stdout()).await
    });
    // A query cancelled with Ctrl-C may still be inside a long computation that only notices at
    // its next yield; leaving must not wait for it.
    runtime.shutdown_background();
    result?;
    Ok(ExitCode::from(EXIT_OK))
}
