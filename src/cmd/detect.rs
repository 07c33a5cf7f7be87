//! `trailscope detect`: runs the detection packs over a lake (or raw logs) and prints findings.
//!
//! Opens one [`crate::query::session`] narrowed to `--since/--until`, selects rules from the built-in
//! packs and `--packs-dir` ([`crate::detect`]), runs them ([`crate::detect`]) and writes the
//! findings ([`crate::detect::report`]). Exit status: 0 no findings at or above `--fail-on`, 1 there are,
//! 2 on error (including a rule that could not run; the other rules' findings are still printed).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::args::{LakeInput, PacksDirs, PeriodArgs};
use super::{EXIT_ERROR, EXIT_FOUND, EXIT_OK};
use crate::detect::exceptions::{self, Exceptions};
use crate::detect::{self, Overrides, Severity, report};
use crate::query::output::Format;

const EXAMPLES: &str = "\
Examples:
  # Every built-in pack over the shipped sample (ingested into a cache lake first)
  trailscope detect sample-logs

  # Over a lake, one pack and one more rule, high and critical only
  trailscope detect --lake ./case42 --pack lambda --rule iam-admin-policy-attached --min-severity high

  # In CI or a SIEM pipeline: SARIF to a file, exit 1 only for high or worse
  trailscope detect --lake ./case42 --format sarif --output findings.sarif --fail-on high

  # Known-routine activity suppressed (and counted), with the suppressed findings listed
  trailscope detect --lake ./case42 --exceptions exceptions.toml --show-suppressed

  # A lower threshold for one rule, and your own pack beside the built-in ones
  trailscope detect --lake ./case42 --param secrets-bulk-read.min_secrets=3 --packs-dir ./my-packs

Severities: info < low < medium < high < critical. `trailscope packs list` shows the rules and
`trailscope packs show ID` one rule's SQL and thresholds.

Exit status: 0 no findings at or above --fail-on; 1 findings; 2 error (a rule that could not run
is named, and the other rules' findings are still printed).";

/// When detect exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Low or worse.
    Low,
    /// Medium or worse.
    Medium,
    /// High or worse.
    High,
    /// Critical only.
    Critical,
    /// Never: exit 0 whatever is found.
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

/// Options of `trailscope detect`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct DetectArgs {
    #[command(flatten)]
    pub input: LakeInput,

    /// Run this pack (repeatable); all packs when neither --pack nor --rule is given.
    #[arg(long = "pack", value_name = "PACK", help_heading = "Choosing rules")]
    pub pack_names: Vec<String>,

    /// Run this rule (repeatable).
    #[arg(long = "rule", value_name = "ID", help_heading = "Choosing rules")]
    pub rules: Vec<String>,

    /// Only findings of this severity or worse. Rules that grade their findings by context
    /// (a call is info from its usual caller, medium from a stranger) have their info rows
    /// hidden by the default; `--min-severity info` shows everything, the audit pack included.
    #[arg(long, value_enum, default_value_t = Severity::Low, value_name = "SEVERITY", help_heading = "Choosing rules")]
    pub min_severity: Severity,

    #[command(flatten, next_help_heading = "Choosing rules")]
    pub packs: PacksDirs,

    /// Override a rule threshold: NAME=VALUE for every rule that has it, or RULE.NAME=VALUE
    /// (repeatable). `trailscope packs show ID` lists a rule's thresholds.
    #[arg(
        long = "param",
        value_name = "[RULE.]NAME=VALUE",
        help_heading = "Choosing rules"
    )]
    pub params: Vec<String>,

    #[command(flatten, next_help_heading = "Choosing events")]
    pub period: PeriodArgs,

    /// How findings are printed (default: table on stdout, or by --output's extension).
    #[arg(long, value_parser = Format::parser(Format::FINDINGS), value_name = "FORMAT", help_heading = "Output")]
    pub format: Option<Format>,

    /// Write findings to FILE instead of stdout (.json, .ndjson, .csv, .sarif or .txt).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Known-routine activity to suppress (a TOML file of [[allow]] entries: rules, actors,
    /// ARNs, accounts, source IPs, and a reason). Suppressed findings are counted, never dropped.
    #[arg(
        long,
        value_name = "FILE",
        env = "TRAILSCOPE_EXCEPTIONS",
        help_heading = "Choosing rules"
    )]
    pub exceptions: Option<PathBuf>,

    /// List the findings that exceptions suppressed, with the reason (in every format).
    #[arg(long, help_heading = "Output")]
    pub show_suppressed: bool,

    /// Exit 1 only when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = FailOn::Info, value_name = "SEVERITY", help_heading = "Output")]
    pub fail_on: FailOn,
}

/// Runs `trailscope detect`.
pub fn run(args: DetectArgs) -> Result<ExitCode> {
    let catalogue = args.packs.catalogue()?;
    let exceptions = match &args.exceptions {
        Some(path) => {
            let e = Exceptions::load(path)?;
            if let Some(problem) = e.check(&catalogue).into_iter().next() {
                bail!("{problem}; `trailscope packs lint --exceptions FILE` checks the file");
            }
            Some(e)
        }
        None => None,
    };
    let rules = detect::select(catalogue, &args.pack_names, &args.rules, args.min_severity)?;
    let overrides = Overrides::parse(&args.params)?;
    overrides.check(&rules)?;
    let format = args
        .format
        .or_else(|| args.output.as_deref().and_then(Format::from_path))
        .unwrap_or_default();
    let runtime = super::runtime()?;
    let started = Instant::now();
    let mut statuses = None;
    let mut version = None;
    let mut outcomes = runtime.block_on(async {
        let (lake, ctx) = args.input.open(args.period.scope()).await?;
        version = crate::query::session::lake_version(&ctx);
        if let Some(out) = &args.output {
            crate::lake::ensure_outside(&lake, out)?;
        }
        statuses = Some(verdicts(&ctx).await?);
        let bar = crate::progress::rules(rules.len() as u64);
        let outcomes = detect::run(&ctx, rules, &overrides, |o| {
            match &o.result {
                Ok(f) => log::info!(
                    "rule {}: {} finding(s) in {:.3} s",
                    o.rule.id,
                    f.len(),
                    o.took.as_secs_f64()
                ),
                Err(_) => log::info!(
                    "rule {}: failed after {:.3} s",
                    o.rule.id,
                    o.took.as_secs_f64()
                ),
            }
            bar.inc(1);
            bar.set_message(o.rule.id.clone());
        })
        .await;
        bar.finish_and_clear();
        let mut outcomes = outcomes;
        if let Some(e) = &exceptions {
            let ips = match e.needs_ips() {
                true => exceptions::evidence_ips(&ctx, &outcomes).await?,
                false => Default::default(),
            };
            let n = e.apply(&mut outcomes, &ips);
            log::info!("{n} finding(s) suppressed by exceptions");
        }
        anyhow::Ok(outcomes)
    })?;
    let hidden = detect::keep_at_least(&mut outcomes, args.min_severity);
    if hidden > 0 {
        crate::progress::note(&format!(
            "{hidden} finding(s) below {} not shown; --min-severity info shows them",
            args.min_severity
        ));
    }
    let took = started.elapsed();
    if let Some(v) = version {
        crate::progress::note(&format!(
            "computed on lake version {v}; `--as-of {v}` reproduces these findings"
        ));
    }
    detect::mark_evidence(&mut outcomes, statuses.as_ref());
    match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating the findings file {}", path.display()))?,
            );
            report::write(&mut file, &outcomes, format, took, args.show_suppressed)?;
            file.flush()
                .with_context(|| format!("writing the findings file {}", path.display()))?;
            let n = detect::findings(&outcomes).len();
            crate::progress::eprint_line(&format!("{n} findings written to {}", path.display()));
        }
        None => {
            let mut out = crate::progress::stdout();
            report::write(&mut out, &outcomes, format, took, args.show_suppressed)?;
            out.flush()?;
        }
    }
    let mut failed = false;
    for o in &outcomes {
        if let Err(e) = &o.result {
            log::error!("rule {} could not run: {e:#}", o.rule.id);
            failed = true;
        }
    }
    if failed {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let over = args.fail_on.threshold().is_some_and(|min| {
        detect::findings(&outcomes)
            .iter()
            .any(|f| f.severity >= min)
    });
    Ok(ExitCode::from(if over { EXIT_FOUND } else { EXIT_OK }))
}

/// The latest verdict per lake object, from the session's `verification` table (empty when the
/// lake was never verified, which leaves every finding unverified): the session has already
/// found the verdicts, on disk or in S3.
async fn verdicts(
    ctx: &datafusion::prelude::SessionContext,
) -> Result<std::collections::HashMap<String, crate::verify::judge::Status>> {
    use arrow::array::{Array, AsArray};
    let batches = ctx
        .sql("SELECT source_uri, status FROM verification WHERE source_uri IS NOT NULL")
        .await
        .context("reading the verification table")?
        .collect()
        .await
        .context("reading the verification table")?;
    let mut out = std::collections::HashMap::new();
    for batch in batches {
        let text = |i: usize| {
            arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)
                .context("reading the verification table")
        };
        let (uri, status) = (text(0)?, text(1)?);
        let (uri, status) = (uri.as_string::<i32>(), status.as_string::<i32>());
        for i in 0..batch.num_rows() {
            if uri.is_valid(i) && status.is_valid(i) {
                let verdict = crate::verify::judge::Status::parse(status.value(i))
                    .with_context(|| format!("unknown verdict {:?}", status.value(i)))?;
                out.insert(uri.value(i).to_owned(), verdict);
            }
        }
    }
    Ok(out)
}
