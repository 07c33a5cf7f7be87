//! `trailscope summary`: per-actor summaries for the first hour of an investigation.
//!
//! Opens one session like `timeline` ([`super::args::InvestigateArgs`]) and prints
//! [`crate::investigate::summary`]'s summaries, the flagged and busiest actors first. Exit status:
//! 0 done (nothing matched is said on stderr), 2 error (also when a rule behind the detections
//! column could not run: the summaries still print).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::InvestigateArgs;
use super::{EXIT_ERROR, EXIT_OK};
use crate::investigate::render::write_summaries;
use crate::investigate::summary;

const SUMMARY_EXAMPLES: &str = "\
Examples:
  trailscope summary --lake ./case42                 every actor, the flagged and busiest first
  trailscope summary --actor user/ci-deploy --format json
  trailscope summary ./sample-logs                  straight from raw logs (a cache lake first)

Exit status: 0 done (nothing matched is said on stderr); 2 error (also when a detection\nrule could not run; the summaries are still printed).";

/// Options of `trailscope summary`.
#[derive(Debug, Args)]
#[command(after_help = SUMMARY_EXAMPLES)]
pub struct SummaryArgs {
    /// Only this actor (label, ARN or user name).
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// At most this many actors.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub common: InvestigateArgs,
}

/// Runs `trailscope summary`.
pub fn run(args: SummaryArgs) -> Result<ExitCode> {
    let (mut all, failed) = super::runtime()?.block_on(async {
        let (ctx, findings, failed) = args.common.open().await?;
        let all = summary::summaries(
            &ctx,
            args.actor.as_deref(),
            &findings.iter().collect::<Vec<_>>(),
        )
        .await?;
        anyhow::Ok((all, failed))
    })?;
    all.truncate(args.top);
    if all.is_empty() {
        crate::progress::eprint_line("no actor in the lake matches");
    }
    let mut out = crate::progress::stdout();
    write_summaries(&mut out, &all, args.common.format)?;
    out.flush()?;
    Ok(ExitCode::from(if failed { EXIT_ERROR } else { EXIT_OK }))
}
