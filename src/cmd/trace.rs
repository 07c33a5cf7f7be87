//! `trailscope trace`: who is really behind an access key, role session or principal id, and
//! every key and session that origin spawned.
//!
//! Resolves the argument to access keys (a key itself; else every key seen with that ARN or
//! principal id), walks each key's chain up to its origin ([`crate::investigate::chains`]), then lists every
//! key the origin issued, directly or through others ([`crate::investigate::trace`]). Exit
//! status: 0 done (nothing matched is said on stderr), 2 error.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::EXIT_OK;
use super::args::{AwsArgs, LakeArg, MemoryArg, open_session, resolve};
use crate::investigate::render::write_traces;
use crate::investigate::trace::traces;
use crate::query::output::Format;
use crate::query::session::Scope;

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

Exit status: 0 done (nothing in the lake matching is said on stderr); 2 error.";

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

    /// How the result is printed: a tree, JSON/NDJSON (each chain and what its origin spawned),
    /// or CSV (one row per hop).
    #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
    pub format: Format,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub memory: MemoryArg,

    #[command(flatten)]
    pub as_of: super::args::AsOfArg,

    #[command(flatten)]
    pub cluster: super::args::ClusterArg,
}

/// Runs `trailscope trace`.
pub fn run(args: TraceArgs) -> Result<ExitCode> {
    let runtime = super::runtime()?;
    let found = runtime.block_on(async {
        let lake = resolve(args.source.as_deref(), &args.lake.dir, &args.aws).await?;
        let ctx = open_session(
            &lake,
            Scope {
                as_of: args.as_of.as_of.clone(),
                ..Scope::default()
            },
            args.memory.bytes(),
            &args.aws,
            &args.cluster.engine(),
        )
        .await?;
        super::args::note_version(&ctx);
        let traced = traces(&ctx, &args.what).await?;
        write_traces(&mut crate::progress::stdout(), &traced, args.format)?;
        anyhow::Ok(!traced.is_empty())
    })?;
    if !found {
        crate::progress::eprint_line(&format!(
            "nothing in the lake matches {}: no key, ARN or principal id of that value",
            args.what
        ));
    }
    Ok(ExitCode::from(EXIT_OK))
}
