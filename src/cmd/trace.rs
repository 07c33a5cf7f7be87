//! `trailscope trace`: who is really behind an access key, role session or principal id, and
//! every key and session that origin spawned.
//!
//! Resolves the argument to access keys (a key itself; else every key seen with that ARN or
//! principal id), walks each key's chain up to its origin ([`crate::chains`]), then lists every
//! key the origin issued, directly or through others. Output as a tree or JSON. Exit status: 0
//! traced, 1 nothing in the lake matches, 2 error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use super::ingest::AwsArgs;
use super::{EXIT_FOUND, EXIT_OK, LakeArg};
use crate::chains::{self, Chain, Issue, Origin};
use crate::session;

const EXAMPLES: &str = "\
Examples:
  # The attacker's temporary key in the sample, back to the leaked user key
  trailscope trace ASIAQXATTACKERSESS01 --lake ./case42

  # A role session ARN or principal id, as JSON
  trailscope trace arn:aws:sts::111122223333:assumed-role/lambda-deployer/deploy-7731 --format json
  trailscope trace AROAEXAMPLEID:deploy-7731

In SQL, the table credential_chains maps every access key of the lake to its issuing event and
origin: SELECT origin, count(*) FROM cloudtrail c JOIN credential_chains k
  ON c.useridentity.accesskeyid = k.access_key GROUP BY 1;

Exit status: 0 traced; 1 nothing in the lake matches; 2 error.";

/// How `trace` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// An indented tree.
    Table,
    /// JSON: the chains and what their origins spawned.
    Json,
}

/// Options of `trailscope trace`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct TraceArgs {
    /// An access key (AKIA…, ASIA…), a role-session or user ARN, or a principal id.
    #[arg(value_name = "KEY|ARN|PRINCIPALID")]
    pub what: String,

    /// Raw logs to trace in instead of --lake (ingested into a cache lake first).
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    /// How the result is printed.
    #[arg(long, value_enum, default_value_t = TraceFormat::Table)]
    pub format: TraceFormat,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `trailscope trace`.
pub fn run(args: TraceArgs) -> Result<ExitCode> {
    let runtime = super::runtime()?;
    let found = runtime.block_on(async {
        let lake = match &args.source {
            Some(source) => super::sql::cache_ingest(source, &args.aws).await?,
            None => args.lake.dir.clone(),
        };
        let ctx = session::open(&lake).await?;
        let traced = traces(&ctx, &args.what).await?;
        write_traces(&mut std::io::stdout().lock(), &traced, args.format)?;
        anyhow::Ok(!traced.is_empty())
    })?;
    if !found {
        crate::progress::eprint_line(&format!(
            "nothing in the lake matches {}: no key, ARN or principal id of that value",
            args.what
        ));
        return Ok(ExitCode::from(EXIT_FOUND));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// A key's chain and everything its origin spawned.
pub type Traced = (Chain, Vec<(usize, Issue)>);

/// The chains of every key `what` (a key, ARN or principal id) stands for; empty when nothing in
/// the lake matches.
pub async fn traces(ctx: &datafusion::prelude::SessionContext, what: &str) -> Result<Vec<Traced>> {
    let issues = chains::issues(ctx).await?;
    let users = chains::key_users(ctx).await?;
    let keys = resolve(ctx, what, &issues, &users).await?;
    let lookup = |k: &str| users.get(k).cloned();
    Ok(keys
        .iter()
        .map(|k| {
            let chain = chains::trace_up(&issues, k, &lookup);
            let root = chain
                .hops
                .last()
                .and_then(|h| h.caller_key.clone())
                .filter(|_| !matches!(chain.origin, Origin::Missing { .. }))
                .unwrap_or_else(|| chain.key.clone());
            let spawned = chains::descendants(&issues, &root);
            (chain, spawned)
        })
        .collect())
}

/// Writes chains as a tree or JSON.
pub fn write_traces(out: &mut dyn Write, traced: &[Traced], format: TraceFormat) -> Result<()> {
    match format {
        TraceFormat::Json => {
            let v: Vec<_> = traced
                .iter()
                .map(|(c, s)| json!({"chain": c, "origin_label": c.origin.label(), "spawned": s.iter().map(|(d, i)| json!({"depth": d, "issue": i})).collect::<Vec<_>>()}))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &v)?;
            writeln!(out)?;
        }
        TraceFormat::Table => {
            for (c, s) in traced {
                print_chain(out, c, s)?;
            }
        }
    }
    Ok(())
}

/// The keys `what` stands for.
async fn resolve(
    ctx: &datafusion::prelude::SessionContext,
    what: &str,
    issues: &std::collections::BTreeMap<String, Issue>,
    users: &std::collections::BTreeMap<String, chains::KeyUser>,
) -> Result<Vec<String>> {
    if issues.contains_key(what) || users.contains_key(what) {
        return Ok(vec![what.to_owned()]);
    }
    let mut keys: Vec<String> = issues
        .values()
        .filter(|i| i.session_arn.as_deref() == Some(what))
        .map(|i| i.key.clone())
        .collect();
    let quoted = what.replace('\'', "''");
    let sql = format!(
        "SELECT DISTINCT useridentity.accesskeyid AS k FROM cloudtrail
         WHERE (useridentity.arn = '{quoted}' OR useridentity.principalid = '{quoted}')
           AND useridentity.accesskeyid IS NOT NULL"
    );
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .with_context(|| format!("finding the keys of {what}"))?;
    for b in &batches {
        keys.extend(
            crate::exec::text_column(b, 0)?
                .iter()
                .flatten()
                .map(str::to_owned),
        );
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

fn print_chain(out: &mut dyn Write, c: &Chain, spawned: &[(usize, Issue)]) -> Result<()> {
    writeln!(out, "{}", c.key)?;
    writeln!(out, "  origin: {}", c.origin.label())?;
    // From the origin down to the key.
    for (depth, h) in c.hops.iter().rev().enumerate() {
        write_hop(out, depth, h)?;
    }
    if !spawned.is_empty() {
        writeln!(
            out,
            "  everything the origin spawned ({} key{}):",
            spawned.len(),
            if spawned.len() == 1 { "" } else { "s" }
        )?;
        for (depth, h) in spawned {
            write_hop(out, *depth - 1, h)?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn write_hop(out: &mut dyn Write, depth: usize, h: &Issue) -> Result<()> {
    let pad = "   ".repeat(depth);
    writeln!(
        out,
        "  {pad}└─ {} {} by {} ({}) → {}{}",
        h.eventname,
        h.time,
        h.caller,
        h.caller_key.as_deref().unwrap_or("no key"),
        h.key,
        h.session_arn
            .as_deref()
            .map(|s| format!("  {s}"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "  {pad}     event {} in {} {}  from {}  {}{}",
        h.eventid,
        h.account,
        h.region,
        h.source_ip,
        h.user_agent.chars().take(60).collect::<String>(),
        h.source_identity
            .as_deref()
            .map(|s| format!("  sourceIdentity {s}"))
            .unwrap_or_default()
    )?;
    Ok(())
}
