//! Helpers shared by the integration tests: running the binary, reading a lake back, and an
//! S3-compatible server on 127.0.0.1 that records every request it serves.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use serde_json::Value;
use trailscope::lake::ledger::Ledger;

/// Runs `trailscope` with the given arguments, isolated from the developer's AWS setup.
pub fn trailscope(args: &[&str]) -> Output {
    trailscope_with(args, &[])
}

/// Runs `trailscope` with extra environment variables.
pub fn trailscope_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with(args, env, None)
}

/// Runs `trailscope` with `input` on its standard input (a scripted shell session).
pub fn trailscope_stdin(args: &[&str], input: &str) -> Output {
    run_with(args, &[], Some(input))
}

fn run_with(args: &[&str], env: &[(&str, &str)], input: Option<&str>) -> Output {
    let mut cmd = Command::cargo_bin("trailscope").expect("the trailscope binary is built");
    if let Some(text) = input {
        cmd.write_stdin(text.to_owned());
    }
    cmd.args(args)
        .env_remove("TRAILSCOPE_LAKE")
        .env_remove("TRAILSCOPE_FAILPOINT")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("trailscope runs")
}

/// Runs `trailscope` with the given arguments, asserts it succeeded, and reads its JSON output.
pub fn json_ok<T: serde::de::DeserializeOwned>(args: &[&str]) -> T {
    let out = trailscope(args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON output: {e}\n{}", describe(&out)))
}

/// Runs `trailscope ingest SOURCE --lake LAKE EXTRA…`.
pub fn ingest(source: &str, lake: &Path, extra: &[&str]) -> Output {
    let lake = lake.to_str().expect("a UTF-8 temporary path");
    let mut args = vec!["ingest", source, "--lake", lake];
    args.extend_from_slice(extra);
    trailscope(&args)
}

/// Runs `trailscope ingest SOURCE --lake LAKE` and asserts that every object was ingested.
pub fn ingest_ok(source: &Path, lake: &Path) {
    let out = ingest(source.to_str().expect("a UTF-8 temporary path"), lake, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

/// Exit code, stdout and stderr of a run, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The ledger of the lake's newest run, checked to balance.
pub fn last_ledger(lake: &Path) -> Ledger {
    let runs = trailscope::lake::manifest::read_runs(lake).expect("run summaries");
    let ledger = runs.last().expect("at least one run").ledger.clone();
    ledger.check().expect("the ledger balances");
    ledger
}

/// Every Parquet file of a lake's table, as an outside reader of the Delta log sees it: the log's
/// JSON commits replayed in order (adds minus removes), without trailscope or the `deltalake`
/// crate.
pub fn parquet_files(lake: &Path) -> Vec<PathBuf> {
    let table = lake.join("cloudtrail");
    let mut commits: Vec<PathBuf> = std::fs::read_dir(table.join("_delta_log"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    commits.sort();
    let mut live = std::collections::BTreeSet::new();
    for c in commits {
        for line in std::fs::read_to_string(&c).unwrap().lines() {
            let action: Value = serde_json::from_str(line).unwrap();
            if let Some(path) = action["add"]["path"].as_str() {
                live.insert(path.to_owned());
            }
            if let Some(path) = action["remove"]["path"].as_str() {
                live.remove(path);
            }
        }
    }
    live.into_iter().map(|p| table.join(p)).collect()
}

/// Every row of a lake restored to its CloudTrail record, with the source URI beside it, sorted by
/// eventID.
pub fn restored(lake: &Path) -> Vec<(Value, String)> {
    use arrow::array::{Array, AsArray};
    let mut rows = Vec::new();
    for path in parquet_files(lake) {
        let f = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let uris = batch.column_by_name("source_uri").unwrap();
            let uris = arrow::compute::cast(uris, &arrow::datatypes::DataType::Utf8).unwrap();
            let uris = uris.as_string::<i32>();
            for (i, rec) in trailscope::ingest::restore::records(&batch)
                .unwrap()
                .into_iter()
                .enumerate()
            {
                assert!(uris.is_valid(i));
                rows.push((rec, uris.value(i).to_owned()));
            }
        }
    }
    rows.sort_by_key(|a| key(&a.0));
    rows
}

/// Restored records only, sorted by eventID.
pub fn records(lake: &Path) -> Vec<Value> {
    restored(lake).into_iter().map(|(v, _)| v).collect()
}

fn key(v: &Value) -> String {
    format!("{}|{}", v["eventID"], v["recipientAccountId"])
}

/// Generates a synthetic tree.
pub fn generate(dir: &Path, cfg: &trailscope::synth::Config) -> trailscope::synth::Stats {
    trailscope::synth::generate(cfg, dir).expect("generation")
}

/// One request the S3 server saw: operation name and request URI.
#[derive(Debug, Clone)]
pub struct Request {
    pub op: String,
    pub uri: String,
    pub key: Option<String>,
}

/// An S3-compatible server (s3s-fs) on 127.0.0.1, serving the directory `root` (each
/// subdirectory is a bucket), with real SigV4 authentication.
pub struct S3Server {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _thread: std::thread::JoinHandle<()>,
}

struct Recorder {
    requests: Arc<Mutex<Vec<Request>>>,
    /// GetObject calls still to answer with 503 SlowDown, as a throttled S3 does.
    throttle: Arc<Mutex<usize>>,
    anonymous: bool,
}

#[async_trait::async_trait]
impl s3s::access::S3Access for Recorder {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        if cx.credentials().is_none() && !self.anonymous {
            return Err(s3s::s3_error!(AccessDenied, "signed requests only"));
        }
        if cx.credentials().is_some() && self.anonymous {
            return Err(s3s::s3_error!(
                AccessDenied,
                "this bucket is public: send unsigned requests"
            ));
        }
        let key = match cx.s3_path() {
            s3s::path::S3Path::Object { key, .. } => Some(key.to_string()),
            _ => None,
        };
        let op = cx.s3_op().name().to_owned();
        self.requests.lock().unwrap().push(Request {
            op: op.clone(),
            uri: cx.uri().to_string(),
            key,
        });
        let mut throttle = self.throttle.lock().unwrap();
        if op == "GetObject" && *throttle > 0 {
            *throttle -= 1;
            return Err(s3s::s3_error!(SlowDown, "throttled by the test"));
        }
        Ok(())
    }
}

impl S3Server {
    /// A server that accepts only requests signed with the test credentials.
    pub fn start(root: &Path) -> S3Server {
        Self::start_with(root, false, 0)
    }

    /// `anonymous`: accept only unsigned requests (a public bucket). `throttle`: answer that many
    /// GetObject calls with 503 SlowDown first.
    pub fn start_with(root: &Path, anonymous: bool, throttle: usize) -> S3Server {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs over the directory");
        let mut b = s3s::service::S3ServiceBuilder::new(fs);
        // The auth provider is set either way: s3s runs access checks only when one is.
        b.set_auth(s3s::auth::SimpleAuth::from_single(
            "AKIATESTTESTTEST",
            "test-secret",
        ));
        b.set_access(Recorder {
            requests: requests.clone(),
            throttle: Arc::new(Mutex::new(throttle)),
            anonymous,
        });
        let service = b.build();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((socket, _)) = accepted else { continue };
                            let conn = http
                                .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
                                .into_owned();
                            tokio::spawn(async move { let _ = conn.await; });
                        }
                        _ = &mut stop_rx => break,
                    }
                }
            });
        });
        let addr = addr_rx.recv().expect("the server starts");
        S3Server {
            endpoint: format!("http://{addr}"),
            requests,
            _shutdown: stop_tx,
            _thread: thread,
        }
    }

    /// Keys fetched with GetObject.
    pub fn fetched(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.op == "GetObject")
            .filter_map(|r| r.key.clone())
            .collect()
    }
}
