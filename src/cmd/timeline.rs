//! `trailscope timeline`: one actor's (key's, IP's, resource's) story in time order, chained
//! sessions included, with the events that detections flagged marked.
//!
//! Opens one session (over `--lake` or a raw source's cache lake), narrowed to `--since/--until`,
//! by default runs the built-in detections over it ([`super::args::InvestigateArgs`]), and prints
//! [`crate::investigate::timeline`]'s lines. Exit status: 0 done (nothing matched is said on
//! stderr), 2 error (also when a rule behind the marks could not run: the lines still print).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use super::args::InvestigateArgs;
use super::{EXIT_ERROR, EXIT_OK};
use crate::investigate::render::write_timeline;
use crate::investigate::timeline::{self, Pivot};

const TIMELINE_EXAMPLES: &str = "\
Examples:
  trailscope timeline --actor user/ci-deploy --lake ./case42     the user and every session it spawned
  trailscope timeline --key ASIAQXATTACKERSESS01 --since 2024-03-05
  trailscope timeline --ip 203.0.113.77 --format csv > attacker.csv
  trailscope timeline ./sample-logs --key ASIAQXATTACKERSESS01   straight from raw logs
  trailscope timeline --resource arn:aws:lambda:us-east-1:111122223333:function:payments-processor

Runs of three or more read-only calls of one kind (Describe*, List*, Get*) or data events of one
name by one actor collapse into one line with a count (--no-collapse keeps every event). Lines that
a detection flagged carry its rule id.

Exit status: 0 done (nothing matched is said on stderr); 2 error (also when a detection\nrule behind the marks could not run; the timeline is still printed).";

/// Options of `trailscope timeline`.
#[derive(Debug, Args)]
#[command(after_help = TIMELINE_EXAMPLES)]
#[command(group(clap::ArgGroup::new("pivot").required(true).args(["actor", "key", "ip", "resource"])))]
pub struct TimelineArgs {
    /// An actor label (user/alice, role/deployer/session), an ARN or a user name.
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// An access key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// A source IP address.
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// A resource ARN (or name), looked for in request and response parameters.
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// Show every event, without collapsing runs.
    #[arg(long)]
    pub no_collapse: bool,
    #[command(flatten)]
    pub common: InvestigateArgs,
}

/// Runs `trailscope timeline`.
pub fn run(args: TimelineArgs) -> Result<ExitCode> {
    let pivot = match (&args.actor, &args.key, &args.ip, &args.resource) {
        (Some(a), _, _, _) => Pivot::Actor(a.clone()),
        (_, Some(k), _, _) => Pivot::Key(k.clone()),
        (_, _, Some(i), _) => Pivot::Ip(i.clone()),
        (_, _, _, Some(r)) => Pivot::Resource(r.clone()),
        _ => bail!("give one of --actor, --key, --ip or --resource"),
    };
    let lines = super::runtime()?.block_on(async {
        let (ctx, findings, failed) = args.common.open().await?;
        let mut lines = timeline::timeline(&ctx, &pivot, !args.no_collapse).await?;
        timeline::mark(&mut lines, &findings.iter().collect::<Vec<_>>());
        anyhow::Ok((lines, failed))
    })?;
    let (lines, failed) = lines;
    if lines.is_empty() {
        crate::progress::eprint_line(
            "no event in the lake matches; check the value and --since/--until",
        );
    }
    let mut out = crate::progress::stdout();
    write_timeline(&mut out, &lines, args.common.format)?;
    out.flush()?;
    Ok(ExitCode::from(if failed { EXIT_ERROR } else { EXIT_OK }))
}
