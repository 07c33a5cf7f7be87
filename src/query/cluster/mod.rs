//! Cluster step: queries on an Apache DataFusion Ballista cluster.
//!
//! Input: a scheduler's address (`df://host:port`) and a session built as for one machine.
//! Output: the same session whose queries the cluster plans and runs ([`connect`]), and the
//! cluster's state ([`status`]). trailscope runs its own scheduler and executor roles
//! ([`roles`]) because stock ones know neither its SQL functions nor its tables; every role and
//! client names its trailscope version (scheduler and executor ids begin
//! `trailscope-<version>-`), and a client refuses a cluster of another version before it sends
//! any plan.
//!
//! This module does not decide what a session holds; [`super::session`] does, and hands it here.

pub mod codec;
pub mod roles;
pub mod table;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use serde::Deserialize;

/// This build's version: every role and client of one cluster must run the same.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The scheduler's port when the address names none (Ballista's).
pub const DEFAULT_PORT: u16 = 50050;

/// The largest plan or result message any role or client accepts: a plan names every file it
/// reads (~150 bytes each), and Ballista's 16 MiB default stops at about 100,000 files.
pub const MAX_MESSAGE: usize = 512 << 20;

/// How long a client waits for the scheduler to answer before it says it is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A new role identity: `trailscope-<version>-<random>`.
pub fn identity() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("trailscope-{VERSION}-{}", &id[..12])
}

/// The trailscope version an identity names, if it is one of trailscope's.
pub fn version_of(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("trailscope-")?;
    let (version, _) = rest.rsplit_once('-')?;
    Some(version)
}

/// A scheduler address: `df://host:port` (as Ballista's clients write it), or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Host name or IP address.
    pub host: String,
    /// gRPC (and REST) port.
    pub port: u16,
}

impl Address {
    /// Parses `df://host[:port]` or `host[:port]`.
    pub fn parse(text: &str) -> Result<Address> {
        let rest = text.strip_prefix("df://").unwrap_or(text);
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains("://") || rest.contains('/') {
            bail!("{text:?} is not a scheduler address: write df://HOST:PORT");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .with_context(|| format!("{text:?}: {p:?} is not a port"))?,
            ),
            _ => (rest, DEFAULT_PORT),
        };
        if host.is_empty() {
            bail!("{text:?} is not a scheduler address: write df://HOST:PORT");
        }
        Ok(Address {
            host: host.to_owned(),
            port,
        })
    }

    fn df(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }

    fn http(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.port)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.df())
    }
}

/// One executor as the scheduler sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Executor {
    /// Its identity (`trailscope-<version>-…`).
    pub id: String,
    /// Where it serves shuffle data.
    #[serde(default)]
    pub host: Option<String>,
    /// Its Flight port.
    #[serde(default)]
    pub port: u32,
    /// Its last heartbeat, in milliseconds since 1970.
    #[serde(default)]
    pub last_seen: Option<u64>,
    /// Its resources, as Ballista reports them (`{"vcores": N}`).
    #[serde(default)]
    pub specification: Option<serde_json::Value>,
}

impl Executor {
    /// Its task slots, when it reports them.
    pub fn slots(&self) -> Option<u64> {
        self.specification.as_ref()?.get("vcores")?.as_u64()
    }

    /// Seconds since its last heartbeat.
    pub fn seconds_since_seen(&self) -> Option<f64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis() as u64;
        Some(now.saturating_sub(self.last_seen?) as f64 / 1000.0)
    }
}

/// One job as the scheduler sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    /// Its id.
    pub job_id: String,
    /// Its name, when the client gave one.
    #[serde(default)]
    pub job_name: Option<String>,
    /// Queued, running, successful, failed.
    #[serde(default)]
    pub job_status: Option<String>,
    /// Stages done of all.
    #[serde(default)]
    pub num_stages: Option<u64>,
    /// Completed stages.
    #[serde(default)]
    pub completed_stages: Option<u64>,
    /// Percent of tasks done.
    #[serde(default)]
    pub percent_complete: Option<u64>,
}

/// The cluster's state: its scheduler, executors and jobs.
#[derive(Debug, Clone)]
pub struct Status {
    /// The scheduler's identity.
    pub scheduler_id: String,
    /// Registered executors.
    pub executors: Vec<Executor>,
    /// Jobs the scheduler knows.
    pub jobs: Vec<Job>,
}

impl Status {
    /// Jobs not yet finished.
    pub fn running(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(|j| {
            j.job_status
                .as_deref()
                .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "running" | "queued"))
        })
    }
}

#[derive(Debug, Deserialize)]
struct SchedulerState {
    scheduler_id: String,
}

/// The scheduler did not answer: a caller may wait and try again.
#[derive(Debug, thiserror::Error)]
#[error(
    "the scheduler at {at} is unreachable ({why}); start one with `trailscope cluster scheduler --bind HOST:PORT`, or check --cluster / TRAILSCOPE_CLUSTER"
)]
pub struct Unreachable {
    /// Where it was looked for.
    pub at: Address,
    /// What the connection said.
    pub why: String,
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    at: &Address,
    path: &str,
) -> Result<T> {
    let url = at.http(path);
    let response = client.get(&url).send().await.map_err(|e| {
        let why = if e.is_timeout() {
            "it did not answer in time".to_owned()
        } else if e.is_connect() {
            "nothing accepts connections there".to_owned()
        } else {
            e.to_string()
        };
        anyhow::Error::new(Unreachable {
            at: at.clone(),
            why,
        })
    })?;
    if !response.status().is_success() {
        bail!(
            "the scheduler at {at} answered {} to {path}: it is not a trailscope scheduler",
            response.status()
        );
    }
    let body = response
        .bytes()
        .await
        .with_context(|| format!("reading {url}"))?;
    serde_json::from_slice(&body)
        .with_context(|| format!("{url}: not a trailscope scheduler's answer"))
}

/// The cluster's state, after checking that every role runs this version.
pub async fn status(at: &Address) -> Result<Status> {
    let client = reqwest::Client::builder()
        .timeout(CONNECT_TIMEOUT)
        .build()
        .context("setting up an HTTP client")?;
    let state: SchedulerState = get_json(&client, at, "/api/state").await?;
    match version_of(&state.scheduler_id) {
        Some(v) if v == VERSION => {}
        Some(v) => bail!(
            "the scheduler at {at} runs trailscope {v}, this is trailscope {VERSION}: run one version on the whole cluster"
        ),
        None => bail!(
            "the scheduler at {at} is not a trailscope scheduler (id {:?}); stock Ballista schedulers do not know trailscope's functions and tables: start `trailscope cluster scheduler`",
            crate::progress::inert(&state.scheduler_id)
        ),
    }
    let executors: Vec<Executor> = get_json(&client, at, "/api/executors").await?;
    let jobs: Vec<Job> = get_json(&client, at, "/api/jobs").await.unwrap_or_default();
    Ok(Status {
        scheduler_id: state.scheduler_id,
        executors,
        jobs,
    })
}

/// Checks that the scheduler at `at` answers, runs this version and has executors of this
/// version only; returns its state.
pub async fn check(at: &Address) -> Result<Status> {
    let status = status(at).await?;
    for e in &status.executors {
        match version_of(&e.id) {
            Some(v) if v == VERSION => {}
            Some(v) => bail!(
                "an executor of the cluster at {at} runs trailscope {v}, this is trailscope {VERSION}: run one version on the whole cluster"
            ),
            None => bail!(
                "an executor of the cluster at {at} ({:?}) is not a trailscope executor: stock executors do not know trailscope's functions; start `trailscope cluster executor`",
                crate::progress::inert(&e.id)
            ),
        }
    }
    Ok(status)
}

/// The configuration a client sends: Ballista's, trailscope's codec, and its version.
pub fn client_config(config: SessionConfig) -> SessionConfig {
    roles::with_version(config)
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(Arc::new(codec::TrailscopeCodec::default()))
        .with_ballista_job_name("trailscope")
        .with_ballista_grpc_client_max_message_size(MAX_MESSAGE)
        // Ballista 55's adaptive planner re-planned some rules' window queries into thousands
        // of stages without end; the static planner runs them.
        .with_ballista_adaptive_query_planner(false)
}

/// `state` (built as for one machine, with [`client_config`]) made into a session whose queries
/// run on the cluster at `at`, after [`check`]. The caller registers functions and tables again:
/// the upgrade replaces the function set with Ballista's.
pub async fn connect(at: &Address, state: SessionState) -> Result<SessionContext> {
    let status = check(at).await?;
    if status.executors.is_empty() {
        crate::progress::eprint_line(&format!(
            "warning: the cluster at {at} has no executor yet; queries wait until one registers"
        ));
    }
    // A scan is split into as many tasks as the cluster has slots (not as this machine has
    // cores), so that every executor gets a share.
    let slots: u64 = status.executors.iter().filter_map(Executor::slots).sum();
    let config = state
        .config()
        .clone()
        .with_target_partitions(slots.max(1) as usize);
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build();
    SessionContext::remote_with_state(&at.df(), state)
        .await
        .with_context(|| format!("connecting to the scheduler at {at}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_identities() {
        assert_eq!(
            Address::parse("df://10.0.0.5:50050").unwrap(),
            Address {
                host: "10.0.0.5".into(),
                port: 50050
            }
        );
        assert_eq!(Address::parse("sched").unwrap().port, DEFAULT_PORT);
        assert_eq!(Address::parse("sched:7000").unwrap().port, 7000);
        assert!(Address::parse("http://x:1").is_err());
        assert!(Address::parse("df://x:port").is_err());
        assert!(Address::parse("df://").is_err());
        let id = identity();
        assert_eq!(version_of(&id), Some(VERSION));
        assert_eq!(version_of("trailscope-9.9.9-abc"), Some("9.9.9"));
        assert_eq!(version_of("2f1c0d1e-aaaa"), None);
    }
}
