//! `trailscope cluster`: run a scheduler or an executor of a trailscope cluster, or show the
//! cluster's state.
//!
//! Input: where to listen, the scheduler's address, AWS options. Output: a running role (until
//! Ctrl-C or SIGTERM), or the state as a table or JSON. The roles themselves are
//! `query::cluster::roles`; this module only parses and reports.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::EXIT_OK;
use super::args::AwsArgs;
use crate::query::cluster::{self, Address, roles};
use crate::query::output::Format;

/// Arguments of `trailscope cluster`.
#[derive(Debug, Args)]
#[command(after_help = "\
A cluster is one scheduler and any number of executors, all running this same trailscope \
version. Then add --cluster df://HOST:PORT (or set TRAILSCOPE_CLUSTER) to sql, detect, \
timeline, trace or summary: the queries run on the executors, over the lake in S3 (or on a \
path every executor sees). Each role reads S3 with its own AWS credential chain.

Examples:
  # machine A
  trailscope cluster scheduler --bind 0.0.0.0:50050
  # machines B and C
  trailscope cluster executor --scheduler A:50050 --bind 0.0.0.0:50051 --slots 8
  # anywhere
  trailscope cluster status --cluster df://A:50050
  trailscope detect --lake s3://evidence/lake --cluster df://A:50050")]
pub struct ClusterArgs {
    /// The role to run, or `status`.
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// The cluster subcommands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run the scheduler: it plans every query and hands tasks to the executors.
    Scheduler(SchedulerArgs),
    /// Run an executor: it registers with the scheduler and runs tasks.
    Executor(ExecutorArgs),
    /// The scheduler's executors, their slots and the jobs that run.
    Status(StatusArgs),
}

/// Arguments of `trailscope cluster scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Where to listen for clients and executors (gRPC and the REST API on one port).
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    pub bind: String,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `trailscope cluster executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler to register with.
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,

    /// Where to serve shuffle data to other executors and clients; PORT + 1 is its gRPC port.
    #[arg(long, default_value = "127.0.0.1:50051", value_name = "HOST:PORT")]
    pub bind: String,

    /// The name other machines reach this executor by (default: the address the scheduler
    /// sees it connect from).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,

    /// Tasks run at once (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub slots: Option<usize>,

    /// Where shuffle files are kept (default: a new temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `trailscope cluster status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The scheduler.
    #[arg(
        long = "cluster",
        env = "TRAILSCOPE_CLUSTER",
        value_name = "df://HOST:PORT"
    )]
    pub scheduler: String,

    /// Output format.
    #[arg(long, value_parser = Format::parser(&[Format::Table, Format::Json]), default_value = "table", value_name = "FORMAT")]
    pub format: Format,
}

/// Runs `trailscope cluster`.
pub fn run(args: ClusterArgs) -> Result<ExitCode> {
    // Planning deep plans recurses: the roles get the stack Ballista's own binaries use.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match args.command {
            ClusterCommand::Scheduler(a) => {
                let bind = roles::parse_bind(&a.bind)?;
                crate::progress::eprint_line(&format!(
                    "trailscope {} scheduler listening on {bind} (Ctrl-C stops it)",
                    cluster::VERSION
                ));
                roles::run_scheduler(bind, &a.aws.into()).await?;
            }
            ClusterCommand::Executor(a) => {
                let slots = a
                    .slots
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                if slots == 0 {
                    anyhow::bail!("--slots must be at least 1");
                }
                let work_dir = match a.work_dir {
                    Some(dir) => {
                        std::fs::create_dir_all(&dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                        Some(
                            dir.to_str()
                                .with_context(|| format!("{} is not UTF-8", dir.display()))?
                                .to_owned(),
                        )
                    }
                    None => None,
                };
                let opts = roles::ExecutorOptions {
                    scheduler: Address::parse(&a.scheduler)?,
                    bind: roles::parse_bind(&a.bind)?,
                    external_host: a.external_host,
                    slots,
                    work_dir,
                };
                crate::progress::eprint_line(&format!(
                    "trailscope {} executor on {} with {slots} slots, joining {} (Ctrl-C stops it)",
                    cluster::VERSION,
                    opts.bind,
                    opts.scheduler
                ));
                roles::run_executor(opts, &a.aws.into()).await?;
            }
            ClusterCommand::Status(a) => {
                let at = Address::parse(&a.scheduler)?;
                let status = cluster::check(&at).await?;
                print_status(&at, &status, a.format)?;
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::from(EXIT_OK))
}

fn print_status(at: &Address, status: &cluster::Status, format: Format) -> Result<()> {
    use std::io::Write;
    let mut out = crate::progress::stdout();
    let inert = |s: &str| crate::progress::inert(s).into_owned();
    if format == Format::Json {
        let value = serde_json::json!({
            "scheduler": at.to_string(),
            "scheduler_id": status.scheduler_id,
            "version": cluster::VERSION,
            "executors": status.executors.iter().map(|e| serde_json::json!({
                "id": e.id,
                "host": e.host,
                "port": e.port,
                "slots": e.slots(),
                "seconds_since_heartbeat": e.seconds_since_seen(),
            })).collect::<Vec<_>>(),
            "running_jobs": status.running().map(|j| serde_json::json!({
                "job_id": j.job_id,
                "job_name": j.job_name,
                "status": j.job_status,
                "percent_complete": j.percent_complete,
            })).collect::<Vec<_>>(),
            "jobs": status.jobs.len(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "scheduler {at}  {}  (trailscope {})",
        inert(&status.scheduler_id),
        cluster::VERSION
    )?;
    let slots: u64 = status.executors.iter().filter_map(|e| e.slots()).sum();
    writeln!(
        out,
        "executors: {}, task slots: {slots}",
        status.executors.len()
    )?;
    for e in &status.executors {
        writeln!(
            out,
            "  {}  {}:{}  slots {}  last seen {}",
            inert(&e.id),
            inert(e.host.as_deref().unwrap_or("?")),
            e.port,
            e.slots().map_or("?".to_owned(), |s| s.to_string()),
            e.seconds_since_seen()
                .map_or("?".to_owned(), |s| format!("{s:.0} s ago")),
        )?;
    }
    let running: Vec<_> = status.running().collect();
    writeln!(
        out,
        "jobs: {} running, {} known",
        running.len(),
        status.jobs.len()
    )?;
    for j in running {
        writeln!(
            out,
            "  {}  {}  {}  {}%",
            inert(&j.job_id),
            inert(j.job_name.as_deref().unwrap_or("")),
            inert(j.job_status.as_deref().unwrap_or("")),
            j.percent_complete.unwrap_or(0)
        )?;
    }
    Ok(())
}
