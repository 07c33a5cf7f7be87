//! `trailscope timeline` and `trailscope summary`: one actor's (key's, IP's, resource's) story in
//! time order, and per-actor summaries for the first hour of an investigation.
//!
//! Both open one session (over `--lake` or a raw source's cache lake), narrowed to
//! `--since/--until`, and by default run the built-in detections over it so that flagged events
//! and the detections each actor hit are shown ([`crate::timeline`]). Exit status: 0 something to
//! show, 1 nothing matched, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use datafusion::prelude::SessionContext;

use super::ingest::AwsArgs;
use super::{EXIT_FOUND, EXIT_OK, LakeArg};
use crate::detect::{self, Finding};
use crate::packs::{self, Overrides, Severity};
use crate::session;
use crate::timeline::{self, ActorSummary, Line, Pivot};

/// How a timeline or summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewFormat {
    /// Aligned columns for reading.
    Table,
    /// A JSON array.
    Json,
    /// Comma-separated values with a header row (timeline only).
    Csv,
}

/// Options shared by `timeline` and `summary`.
#[derive(Debug, Args)]
pub struct Common {
    /// Raw logs to read instead of --lake (s3://bucket/prefix or a directory): ingested into a
    /// cache lake first, and reused incrementally next time.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    /// Only events at or after WHEN (YYYY-MM-DD, an RFC 3339 time, or a span such as 36h).
    #[arg(long, value_parser = super::parse_when, value_name = "WHEN")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,

    /// Only events before WHEN.
    #[arg(long, value_parser = super::parse_until, value_name = "WHEN")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,

    /// How it is printed.
    #[arg(long, value_enum, default_value_t = ViewFormat::Table)]
    pub format: ViewFormat,

    /// Do not run the detections (faster; nothing is marked as flagged).
    #[arg(long)]
    pub no_detections: bool,

    /// Also the rules under DIR when marking detections (repeatable).
    #[arg(long = "packs-dir", value_name = "DIR", env = "TRAILSCOPE_PACKS_DIR")]
    pub packs_dirs: Vec<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

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

Exit status: 0 events shown; 1 nothing matched; 2 error.";

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
    pub common: Common,
}

const SUMMARY_EXAMPLES: &str = "\
Examples:
  trailscope summary --lake ./case42                 every actor, the flagged and busiest first
  trailscope summary --actor user/ci-deploy --format json
  trailscope summary ./sample-logs                  straight from raw logs (a cache lake first)

Exit status: 0 shown; 1 nothing matched; 2 error.";

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
    pub common: Common,
}

/// The session of a timeline or summary, and the findings of the detections over it.
async fn open(c: &Common) -> Result<(SessionContext, Vec<Finding>)> {
    let lake = match &c.source {
        Some(source) => super::sql::cache_ingest(source, &c.aws).await?,
        None => c.lake.dir.clone(),
    };
    let ctx = session::open_scoped(
        &lake,
        session::Scope {
            since: c.since,
            until: c.until,
        },
    )
    .await?;
    if c.no_detections {
        return Ok((ctx, Vec::new()));
    }
    let rules = packs::select(packs::catalogue(&c.packs_dirs)?, &[], &[], Severity::Info)?;
    let outcomes = detect::run(&ctx, rules, &Overrides::default(), |_| {}).await;
    let findings = detect::findings(&outcomes).into_iter().cloned().collect();
    Ok((ctx, findings))
}

/// Runs `trailscope timeline`.
pub fn run_timeline(args: TimelineArgs) -> Result<ExitCode> {
    let pivot = match (&args.actor, &args.key, &args.ip, &args.resource) {
        (Some(a), _, _, _) => Pivot::Actor(a.clone()),
        (_, Some(k), _, _) => Pivot::Key(k.clone()),
        (_, _, Some(i), _) => Pivot::Ip(i.clone()),
        (_, _, _, Some(r)) => Pivot::Resource(r.clone()),
        _ => bail!("give one of --actor, --key, --ip or --resource"),
    };
    let lines = super::runtime()?.block_on(async {
        let (ctx, findings) = open(&args.common).await?;
        let mut lines = timeline::timeline(&ctx, &pivot, !args.no_collapse).await?;
        timeline::mark(&mut lines, &findings.iter().collect::<Vec<_>>());
        anyhow::Ok(lines)
    })?;
    let mut out = std::io::stdout().lock();
    write_timeline(&mut out, &lines, args.common.format)?;
    out.flush()?;
    Ok(ExitCode::from(if lines.is_empty() {
        EXIT_FOUND
    } else {
        EXIT_OK
    }))
}

/// Writes timeline lines in `format`.
pub fn write_timeline(out: &mut dyn Write, lines: &[Line], format: ViewFormat) -> Result<()> {
    match format {
        ViewFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, lines)?;
            writeln!(out)?;
        }
        ViewFormat::Csv => {
            writeln!(
                out,
                "time,last_time,count,account,region,actor,key,event,params,error,source_ip,user_agent,flagged"
            )?;
            for l in lines {
                let f = [
                    l.time.clone(),
                    l.last_time.clone(),
                    l.count.to_string(),
                    l.account.clone(),
                    l.region.clone(),
                    l.actor.clone(),
                    l.key.clone(),
                    l.event.clone(),
                    l.params.clone(),
                    l.error.clone(),
                    l.source_ip.clone(),
                    l.user_agent.clone(),
                    l.flagged.join(" "),
                ];
                let f: Vec<String> = f.iter().map(|v| crate::report::csv_field(v)).collect();
                writeln!(out, "{}", f.join(","))?;
            }
        }
        ViewFormat::Table => {
            for l in lines {
                let count = if l.count > 1 {
                    format!("×{} ", l.count)
                } else {
                    String::new()
                };
                let flag = if l.flagged.is_empty() {
                    "  ".to_owned()
                } else {
                    "! ".to_owned()
                };
                let until = if l.count > 1 {
                    format!(" (until {})", &l.last_time[11.min(l.last_time.len())..])
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{flag}{}  {} {:<10} {:<32} {}{}{}{}{}  {}  {}",
                    l.time,
                    l.account,
                    l.region,
                    l.actor,
                    count,
                    l.event,
                    if l.params.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", l.params)
                    },
                    if l.error.is_empty() {
                        String::new()
                    } else {
                        format!("  ERROR {}", l.error)
                    },
                    until,
                    l.source_ip,
                    l.user_agent.chars().take(40).collect::<String>(),
                )?;
                if !l.flagged.is_empty() {
                    writeln!(out, "      flagged by: {}", l.flagged.join(", "))?;
                }
            }
            let events: usize = lines.iter().map(|l| l.count).sum();
            writeln!(out, "({events} events in {} lines)", lines.len())?;
        }
    }
    Ok(())
}

/// Runs `trailscope summary`.
pub fn run_summary(args: SummaryArgs) -> Result<ExitCode> {
    let mut all = super::runtime()?.block_on(async {
        let (ctx, findings) = open(&args.common).await?;
        timeline::summaries(
            &ctx,
            args.actor.as_deref(),
            &findings.iter().collect::<Vec<_>>(),
        )
        .await
    })?;
    all.truncate(args.top);
    let mut out = std::io::stdout().lock();
    write_summaries(&mut out, &all, args.common.format)?;
    out.flush()?;
    Ok(ExitCode::from(if all.is_empty() {
        EXIT_FOUND
    } else {
        EXIT_OK
    }))
}

/// Writes actor summaries in `format` (csv prints JSON lines).
pub fn write_summaries(
    out: &mut dyn Write,
    all: &[ActorSummary],
    format: ViewFormat,
) -> Result<()> {
    match format {
        ViewFormat::Json | ViewFormat::Csv => {
            serde_json::to_writer_pretty(&mut *out, all)?;
            writeln!(out)?;
        }
        ViewFormat::Table => {
            for s in all {
                writeln!(out, "{}  {}", s.actor, s.arn)?;
                writeln!(out, "  seen        {} .. {}", s.first_seen, s.last_seen)?;
                writeln!(
                    out,
                    "  calls       {} ({} write, {} read, {} failed)",
                    s.events, s.writes, s.reads, s.failed
                )?;
                writeln!(
                    out,
                    "  accounts    {}   regions {}",
                    s.accounts.join(" "),
                    s.regions.join(" ")
                )?;
                writeln!(out, "  source IPs  {}", s.source_ips.join(", "))?;
                writeln!(out, "  keys        {}", s.access_keys.join(" "))?;
                for ua in &s.user_agents {
                    writeln!(
                        out,
                        "  user agent  {}",
                        ua.chars().take(100).collect::<String>()
                    )?;
                }
                let apis: Vec<String> =
                    s.top_apis.iter().map(|(a, n)| format!("{a} {n}")).collect();
                writeln!(out, "  top APIs    {}", apis.join(", "))?;
                if !s.detections.is_empty() {
                    let d: Vec<String> = s
                        .detections
                        .iter()
                        .map(|(r, n)| {
                            if *n > 1 {
                                format!("{r} ×{n}")
                            } else {
                                r.clone()
                            }
                        })
                        .collect();
                    writeln!(out, "  detections  {}", d.join(", "))?;
                }
                writeln!(out)?;
            }
            writeln!(out, "({} actors)", all.len())?;
        }
    }
    Ok(())
}
