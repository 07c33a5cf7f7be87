//! Cluster step: the scheduler and executor processes.
//!
//! Input: where to listen, where the scheduler is, and how to reach S3 (the role's own AWS
//! credential chain: nothing secret travels in a plan). Output: a running Ballista scheduler or
//! executor that knows trailscope's SQL functions, decodes its tables ([`super::codec`]) and
//! reads lakes in S3 or on a path every role sees. Runs until interrupted.
//!
//! This module does not parse the command line; `cmd::cluster` does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use ballista::prelude::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::ObjectStore;
use object_store::aws::AwsCredential;
use url::Url;

use super::codec::TrailscopeCodec;
use super::{Address, VERSION};
use crate::source::s3::{S3Options, sdk_config};

/// Settings a trailscope client sends with every query: its version, which a role of another
/// version refuses.
///
/// Written by hand rather than with DataFusion's `extensions_options!`: Ballista sends a
/// session's settings as the entries' keys, and the macro's entries drop the `trailscope.`
/// prefix, so the scheduler could not set them back.
#[derive(Debug, Clone, Default)]
pub struct TrailscopeOptions {
    /// The client's trailscope version.
    pub version: String,
}

const VERSION_KEY: &str = "trailscope.version";

impl ConfigExtension for TrailscopeOptions {
    const PREFIX: &'static str = "trailscope";
}

impl ExtensionOptions for TrailscopeOptions {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::error::Result<()> {
        match key {
            "version" => {
                self.version = value.to_owned();
                Ok(())
            }
            _ => Err(DataFusionError::Configuration(format!(
                "no setting trailscope.{key}"
            ))),
        }
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: VERSION_KEY.to_owned(),
            value: Some(self.version.clone()),
            description: "the client's trailscope version",
        }]
    }
}

/// The configuration a role starts each session from; the client's settings come on top.
fn config_producer() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_grpc_client_max_message_size(super::MAX_MESSAGE)
        .with_option_extension(TrailscopeOptions::default())
        .with_ballista_logical_extension_codec(Arc::new(TrailscopeCodec::default()))
}

/// A client's configuration: its version set, so that the roles can check it.
pub fn with_version(config: SessionConfig) -> SessionConfig {
    config
        .with_option_extension(TrailscopeOptions::default())
        .set_str(VERSION_KEY, VERSION)
}

/// A session on a role: the client's settings, trailscope's functions, S3 through `stores`.
fn role_state(
    config: SessionConfig,
    stores: Arc<LakeStores>,
) -> datafusion::error::Result<SessionState> {
    let client = config
        .options()
        .extensions
        .get::<TrailscopeOptions>()
        .map(|o| o.version.clone())
        .unwrap_or_default();
    if client != VERSION {
        let client = if client.is_empty() {
            "not trailscope".to_owned()
        } else {
            format!("trailscope {client}")
        };
        return Err(DataFusionError::Configuration(format!(
            "this cluster runs trailscope {VERSION} and the client is {client}: run one version everywhere"
        )));
    }
    let runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(stores)
        .build_arc()?;
    Ok(function_state(config, runtime))
}

fn function_state(config: SessionConfig, runtime: Arc<RuntimeEnv>) -> SessionState {
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    if let Err(e) = datafusion_functions_json::register_all(&mut ctx) {
        log::error!("registering the JSON functions: {e}");
    }
    crate::query::functions::register(&ctx);
    ctx.state()
}

/// Runs a scheduler listening on `bind` until interrupted.
pub async fn run_scheduler(bind: SocketAddr, s3: &S3Options) -> Result<()> {
    let stores = Arc::new(LakeStores::new(s3).await);
    let id = super::identity();
    let mut config = SchedulerConfig::default()
        .with_scheduler_id(id.clone())
        .with_hostname(bind.ip().to_string())
        .with_port(bind.port())
        .with_grpc_server_max_decoding_message_size(super::MAX_MESSAGE as u32)
        .with_grpc_server_max_encoding_message_size(super::MAX_MESSAGE as u32)
        .with_grpc_client_max_message_size(super::MAX_MESSAGE as u32)
        .with_override_config_producer(Arc::new(config_producer))
        .with_override_session_builder(Arc::new(move |config| role_state(config, stores.clone())));
    config.bind_host = bind.ip().to_string();
    config.override_logical_codec = Some(Arc::new(TrailscopeCodec::default()));
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .context("setting up the scheduler's state")?;
    log::info!("trailscope {VERSION} scheduler {id} listening on {bind}");
    start_server(cluster, bind, Arc::new(config))
        .await
        .with_context(|| format!("running the scheduler on {bind}"))
}

/// How long an executor waits for its scheduler to answer before it gives up.
const SCHEDULER_WAIT: Duration = Duration::from_secs(30);

/// How an executor starts.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler to register with.
    pub scheduler: Address,
    /// Where it listens for shuffle reads (Flight); the gRPC port is the next one.
    pub bind: SocketAddr,
    /// The host name other executors and clients reach it by (default: the address the
    /// scheduler sees it connect from).
    pub external_host: Option<String>,
    /// Tasks it runs at once (default: its cores).
    pub slots: usize,
    /// Where it keeps shuffle files (default: a temporary directory).
    pub work_dir: Option<String>,
}

/// Runs an executor until interrupted.
pub async fn run_executor(opts: ExecutorOptions, s3: &S3Options) -> Result<()> {
    // Roles are often started together: wait a while for the scheduler to listen.
    let started = std::time::Instant::now();
    let status = loop {
        match super::status(&opts.scheduler).await {
            Ok(status) => break status,
            Err(e)
                if e.downcast_ref::<super::Unreachable>().is_some()
                    && started.elapsed() < SCHEDULER_WAIT =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let stores = Arc::new(LakeStores::new(s3).await);
    let functions = {
        let runtime = RuntimeEnvBuilder::new().build_arc()?;
        BallistaFunctionRegistry::from(&function_state(config_producer(), runtime))
    };
    let work_dir = opts.work_dir.clone();
    let runtime_stores = stores.clone();
    let id = super::identity();
    let grpc_port = opts
        .bind
        .port()
        .checked_add(1)
        .context("the executor's port leaves no room for its gRPC port (PORT + 1)")?;
    let config = ExecutorProcessConfig {
        executor_id: id.clone(),
        bind_host: opts.bind.ip().to_string(),
        external_host: opts.external_host.clone(),
        port: opts.bind.port(),
        grpc_port,
        scheduler_host: opts.scheduler.host.clone(),
        scheduler_port: opts.scheduler.port,
        scheduler_connect_timeout_seconds: 10,
        vcores: opts.slots,
        work_dir: opts.work_dir.clone(),
        print_thread_info: false,
        grpc_max_decoding_message_size: super::MAX_MESSAGE as u32,
        grpc_max_encoding_message_size: super::MAX_MESSAGE as u32,
        override_function_registry: Some(Arc::new(functions)),
        override_config_producer: Some(Arc::new(config_producer)),
        override_logical_codec: Some(Arc::new(TrailscopeCodec::default())),
        override_runtime_producer: Some(Arc::new(move |_config: &SessionConfig| {
            let mut builder =
                RuntimeEnvBuilder::new().with_object_store_registry(runtime_stores.clone());
            if let Some(dir) = &work_dir {
                builder = builder.with_temp_file_path(dir.clone());
            }
            builder.build_arc()
        })),
        ..ExecutorProcessConfig::default()
    };
    log::info!(
        "trailscope {VERSION} executor {id} ({} slots) joining the scheduler {} at {}",
        opts.slots,
        status.scheduler_id,
        opts.scheduler
    );
    start_executor_process(Arc::new(config))
        .await
        .with_context(|| format!("running the executor against {}", opts.scheduler))
}

/// Object stores for every `s3://` bucket a plan names, built on first use with the role's own
/// credentials; `file://` as DataFusion serves it.
#[derive(Debug)]
pub struct LakeStores {
    inner: DefaultObjectStoreRegistry,
    credentials: Arc<SdkCredentials>,
    region: String,
    endpoint: Option<String>,
    made: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl LakeStores {
    /// Stores reached with `s3`'s profile, region and endpoint.
    pub async fn new(s3: &S3Options) -> LakeStores {
        let config = sdk_config(s3, s3.region.clone(), true).await;
        let region = crate::lake::remote::region_of(&config, s3);
        LakeStores {
            inner: DefaultObjectStoreRegistry::new(),
            credentials: Arc::new(SdkCredentials {
                provider: config.credentials_provider(),
                cached: Mutex::new(None),
            }),
            region,
            endpoint: s3.endpoint_url.clone(),
            made: Mutex::new(HashMap::new()),
        }
    }

    fn s3(&self, bucket: &str) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let mut made = self
            .made
            .lock()
            .map_err(|_| DataFusionError::Internal("the object store table is poisoned".into()))?;
        if let Some(store) = made.get(bucket) {
            return Ok(store.clone());
        }
        let builder =
            crate::lake::remote::store_builder(bucket, &self.region, self.endpoint.as_deref())
                .with_credentials(self.credentials.clone());
        let store: Arc<dyn ObjectStore> = Arc::new(
            builder
                .build()
                .map_err(|e| DataFusionError::External(Box::new(e)))?,
        );
        made.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }
}

impl ObjectStoreRegistry for LakeStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if url.scheme() == "s3" {
            let bucket = url.host_str().ok_or_else(|| {
                DataFusionError::Configuration(format!("{url}: an s3:// URL without a bucket"))
            })?;
            return self.s3(bucket);
        }
        self.inner.get_store(url)
    }
}

/// The role's AWS credential chain (profile, environment, instance or task role), refreshed
/// before it expires.
#[derive(Debug)]
struct SdkCredentials {
    provider: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let fresh_until = SystemTime::now() + Duration::from_secs(300);
        if let Ok(cached) = self.cached.lock()
            && let Some((c, expiry)) = cached.as_ref()
            && expiry.is_none_or(|e| e > fresh_until)
        {
            return Ok(c.clone());
        }
        let generic = |e: String| object_store::Error::Generic {
            store: "S3",
            source: e.into(),
        };
        let provider = self.provider.as_ref().ok_or_else(|| {
            generic("no AWS credentials: set a profile, AWS_ACCESS_KEY_ID or a role".into())
        })?;
        use aws_credential_types::provider::ProvideCredentials;
        let c = provider
            .provide_credentials()
            .await
            .map_err(|e| generic(format!("getting AWS credentials: {e}")))?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_owned(),
            secret_key: c.secret_access_key().to_owned(),
            token: c.session_token().map(str::to_owned),
        });
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((credential.clone(), c.expiry()));
        }
        Ok(credential)
    }
}

/// Parses `HOST:PORT` for a role to listen on.
pub fn parse_bind(text: &str) -> Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let mut addrs = text
        .to_socket_addrs()
        .with_context(|| format!("{text:?} is not HOST:PORT"))?;
    match addrs.next() {
        Some(a) => Ok(a),
        None => bail!("{text:?} names no address"),
    }
}
