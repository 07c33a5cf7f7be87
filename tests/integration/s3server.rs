//! An S3-compatible server on 127.0.0.1 for the tests and the benchmarks: s3s-fs over a
//! directory (each subdirectory a bucket), real SigV4, every request recorded, and on demand
//! throttling (503 SlowDown) or a fixed delay per request, as real S3's latency.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Added to every request before it is answered.
    latency: Duration,
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
        {
            let mut throttle = self.throttle.lock().unwrap();
            if op == "GetObject" && *throttle > 0 {
                *throttle -= 1;
                return Err(s3s::s3_error!(SlowDown, "throttled by the test"));
            }
        }
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
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
        Self::start_full(root, anonymous, throttle, Duration::ZERO)
    }

    /// A server that answers each request `latency` late, as S3 does over a network.
    #[allow(dead_code)] // the ingest benchmark's; no test times anything
    pub fn with_latency(root: &Path, latency: Duration) -> S3Server {
        Self::start_full(root, false, 0, latency)
    }

    fn start_full(root: &Path, anonymous: bool, throttle: usize, latency: Duration) -> S3Server {
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
            latency,
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
                            // Without it, Nagle's algorithm and delayed ACKs hold small
                            // responses ~40 ms on loopback: latency no real S3 has.
                            let _ = socket.set_nodelay(true);
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
