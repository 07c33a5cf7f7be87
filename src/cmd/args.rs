//! Argument groups shared by the subcommands, and the one place where a command's "raw SOURCE or
//! `--lake`" becomes a lake and a query session (with the detections run over it, for `timeline`
//! and `summary`).
//!
//! Input: parsed options. Output: a lake directory (ingesting a raw source into its cache lake
//! first, with the ledger on stderr) and a session with every table trailscope offers. This
//! module does not run any command's own work.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use datafusion::prelude::SessionContext;

use crate::detect::{self, Finding, Overrides, Severity};
use crate::ingest;
use crate::lake::delta::AsOf;
use crate::query::output::Format;
use crate::query::session::{self, Scope};
use crate::source::s3::S3Options;
use crate::time::{parse_until, parse_when};

/// `--lake`, shared by every command that reads or writes a lake.
#[derive(Debug, Clone, Args)]
pub struct LakeArg {
    /// The lake: a directory, or s3://bucket/prefix (shared by a team; with the AWS options
    /// below).
    #[arg(
        long = "lake",
        env = "TRAILSCOPE_LAKE",
        default_value = "./trailscope-lake",
        value_name = "DIR|S3URI"
    )]
    pub dir: PathBuf,
}

/// A raw SOURCE or `--lake`: what `sql`, `detect`, `timeline` and `summary` read.
#[derive(Debug, Clone, Args)]
pub struct LakeInput {
    /// Raw logs to read instead of --lake (s3://bucket/prefix or a directory): ingested into a
    /// cache lake first, and reused incrementally next time.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    #[command(flatten)]
    pub lake: LakeArg,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub memory: MemoryArg,

    #[command(flatten)]
    pub as_of: AsOfArg,

    #[command(flatten)]
    pub cluster: ClusterArg,
}

/// `--as-of`, shared by every command that reads a lake's events.
#[derive(Debug, Clone, Default, Args)]
pub struct AsOfArg {
    /// Read the lake as it was at VERSION (a table version from `trailscope lake info`), at a
    /// TIME (the last version committed by then: YYYY-MM-DD, an RFC 3339 time, or a span back
    /// such as 2h), or right after ingest RUN: a report reproduced exactly, whatever arrived later.
    #[arg(long = "as-of", value_parser = parse_as_of, value_name = "VERSION|TIME|RUN")]
    pub as_of: Option<AsOf>,
}

fn parse_as_of(s: &str) -> Result<AsOf, String> {
    AsOf::parse(s).map_err(|e| format!("{e:#}"))
}

/// `--cluster`, shared by every command that queries.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArg {
    /// Run the queries on the trailscope cluster whose scheduler is at df://HOST:PORT (see
    /// `trailscope cluster --help`); the lake must be in S3 or on a path every executor sees.
    #[arg(
        long = "cluster",
        env = "TRAILSCOPE_CLUSTER",
        value_name = "df://HOST:PORT",
        help_heading = "Cluster"
    )]
    pub scheduler: Option<String>,
}

impl ClusterArg {
    /// Where the queries run.
    pub fn engine(&self) -> session::Engine {
        match &self.scheduler {
            Some(at) => session::Engine::Cluster(at.clone()),
            None => session::Engine::Local,
        }
    }
}

/// `--memory-limit`, shared by every command that queries.
#[derive(Debug, Clone, Args)]
pub struct MemoryArg {
    /// Memory queries may hold (bytes, or with MiB, GiB); past it sorts, joins and aggregations
    /// spill to the temporary directory (TMPDIR), and a query that still does not fit fails
    /// with an error instead of taking the process down. Default: half the machine's memory.
    #[arg(long = "memory-limit", env = "TRAILSCOPE_MEMORY_LIMIT", value_parser = super::ingest::parse_size, value_name = "SIZE")]
    pub limit: Option<u64>,
}

impl MemoryArg {
    /// The limit in bytes.
    pub fn bytes(&self) -> usize {
        self.limit
            .map_or_else(session::default_memory_limit, |b| b as usize)
    }
}

impl LakeInput {
    /// The lake to read: `--lake`, or the raw source's cache lake after ingesting what is new.
    pub async fn lake(&self) -> Result<PathBuf> {
        resolve(self.source.as_deref(), &self.lake.dir, &self.aws).await
    }

    /// The lake and a session over it, narrowed to `scope`, at `--as-of`'s version.
    pub async fn open(&self, mut scope: Scope) -> Result<(PathBuf, SessionContext)> {
        let lake = self.lake().await?;
        scope.as_of = scope.as_of.or_else(|| self.as_of.as_of.clone());
        let ctx = open_session(
            &lake,
            scope,
            self.memory.bytes(),
            &self.aws,
            &self.cluster.engine(),
        )
        .await?;
        Ok((lake, ctx))
    }
}

/// `--packs-dir`, shared by every command that runs or lists rules.
#[derive(Debug, Clone, Default, Args)]
pub struct PacksDirs {
    /// Also load the rules under DIR (repeatable): its .sql files, or one pack per
    /// sub-directory. A rule with a built-in rule's id replaces it.
    #[arg(long = "packs-dir", value_name = "DIR", env = "TRAILSCOPE_PACKS_DIR")]
    pub dirs: Vec<PathBuf>,
}

impl PacksDirs {
    /// The built-in rules and these directories' rules.
    pub fn catalogue(&self) -> Result<Vec<crate::detect::Rule>> {
        crate::detect::catalogue(&self.dirs)
    }
}

/// `--since` and `--until` of the commands that query: which events the session sees.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// Only events at or after WHEN (YYYY-MM-DD, an RFC 3339 time, or a span back from now such
    /// as 7d or 36h).
    #[arg(long, value_parser = parse_when, value_name = "WHEN")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,

    /// Only events before WHEN (a bare date includes that whole day).
    #[arg(long, value_parser = parse_until, value_name = "WHEN")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl PeriodArgs {
    /// The session's scope.
    pub fn scope(&self) -> Scope {
        Scope {
            since: self.since,
            until: self.until,
            as_of: None,
        }
    }
}

/// Options shared by `timeline` and `summary`.
#[derive(Debug, Args)]
pub struct InvestigateArgs {
    #[command(flatten)]
    pub input: LakeInput,

    #[command(flatten)]
    pub period: PeriodArgs,

    /// How it is printed.
    #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
    pub format: Format,

    /// Do not run the detections (faster; nothing is marked as flagged).
    #[arg(long)]
    pub no_detections: bool,

    #[command(flatten)]
    pub packs: PacksDirs,
}

impl InvestigateArgs {
    /// The session, narrowed to --since/--until, the findings of every rule over it, and whether
    /// a rule could not run (each is logged as an error; the others' marks still count).
    pub async fn open(&self) -> Result<(SessionContext, Vec<Finding>, bool)> {
        let (_, ctx) = self.input.open(self.period.scope()).await?;
        note_version(&ctx);
        if self.no_detections {
            return Ok((ctx, Vec::new(), false));
        }
        let rules = detect::select(self.packs.catalogue()?, &[], &[], Severity::Info)?;
        let outcomes = detect::run(&ctx, rules, &Overrides::default(), |_| {}).await;
        let mut failed = false;
        for o in &outcomes {
            if let Err(e) = &o.result {
                log::error!(
                    "rule {} could not run, its marks are missing: {e:#}",
                    o.rule.id
                );
                failed = true;
            }
        }
        let findings = detect::findings(&outcomes).into_iter().cloned().collect();
        Ok((ctx, findings, failed))
    }
}

/// Says on stderr which table version a report was computed on, so `--as-of` can reproduce it.
pub fn note_version(ctx: &SessionContext) {
    if let Some(v) = session::lake_version(ctx) {
        crate::progress::note(&format!(
            "computed on lake version {v}; `--as-of {v}` reproduces this report"
        ));
    }
}

/// The lake a command reads: `lake`, or `source`'s cache lake after ingesting what is new (the
/// ledger goes to stderr, unless `-q`).
pub async fn resolve(source: Option<&str>, lake: &Path, aws: &AwsArgs) -> Result<PathBuf> {
    let Some(source) = source else {
        return Ok(lake.to_path_buf());
    };
    let (lake, report) = ingest::cache::ingest(source, aws.clone().into()).await?;
    // Failed objects were logged as errors by the run itself; `-q` keeps only those.
    if !crate::progress::quiet() {
        let mut text = format!("ingested {source} into the cache lake {}\n", lake.display());
        let mut buf = Vec::new();
        ingest::report::write_ledger(&mut buf, &report, &lake)?;
        text.push_str(&String::from_utf8_lossy(&buf));
        crate::progress::note(&text);
    }
    Ok(lake)
}

/// A query session over `lake` with every table trailscope offers: the lake's own (`cloudtrail`,
/// the views, `verification`) and those the wings above the query wing add
/// (`credential_chains`). A new table in every session is registered here.
pub async fn open_session(
    lake: &Path,
    scope: Scope,
    memory_limit: usize,
    aws: &AwsArgs,
    engine: &session::Engine,
) -> Result<SessionContext> {
    let loc = crate::lake::Location::resolve(lake, &aws.clone().into()).await?;
    let ctx = session::open_on(&loc, scope, memory_limit, engine).await?;
    crate::investigate::chains::register(&ctx)?;
    Ok(ctx)
}

/// A session with the lake's schema and no data, every table included: for linting rules.
pub async fn schema_session() -> Result<SessionContext> {
    let ctx = session::open_schema_only().await?;
    crate::investigate::chains::register(&ctx)?;
    Ok(ctx)
}

/// How to reach S3, as the AWS CLI spells it; shared by every command that reads a source.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, then the
    /// default credential chain).
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME", help_heading = "AWS")]
    pub profile: Option<String>,

    /// Region of the S3 client (default: AWS_REGION or the profile's; else found from the bucket).
    #[arg(long, value_name = "REGION", help_heading = "AWS")]
    pub region: Option<String>,

    /// Use an S3-compatible endpoint (MinIO, LocalStack, a VPC endpoint); addressing is path-style.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL_S3",
        value_name = "URL",
        help_heading = "AWS"
    )]
    pub endpoint_url: Option<String>,

    /// Do not sign requests: for public buckets.
    #[arg(long, help_heading = "AWS")]
    pub no_sign_request: bool,
}

impl From<AwsArgs> for S3Options {
    fn from(a: AwsArgs) -> Self {
        S3Options {
            profile: a.profile,
            region: a.region,
            endpoint_url: a.endpoint_url,
            no_sign_request: a.no_sign_request,
        }
    }
}
