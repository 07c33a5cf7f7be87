//! Lake step: lakes in S3 (`--lake s3://bucket/prefix`).
//!
//! Input: the lake's S3 URI and the AWS options every command takes (profile, region, endpoint,
//! the default credential chain). Output: an [`S3Lake`]: an object store rooted at the lake's
//! prefix and the storage options the Delta table needs, with credentials resolved once from
//! the chain so the table, the uploads and the reads sign the same way.
//!
//! The layout under the prefix is a local lake's (`cloudtrail/` with its `_delta_log/`,
//! `_trailscope/`). S3 has no rename and no lock: a run uploads its data files and its
//! bookkeeping under names no other run uses, then makes its Delta commit, which S3's
//! conditional write (`If-None-Match: *` on the next log entry) makes atomic; a run that dies
//! before it has uploaded files no version lists, and its bookkeeping belongs to no committed
//! run, so every reader ignores both (`lake vacuum` removes the files).
//!
//! This module does not decide what is written; the lake and ingest modules do.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use aws_credential_types::provider::ProvideCredentials;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::source::s3::{S3Options, sdk_config};

/// A lake in S3.
#[derive(Debug, Clone)]
pub struct S3Lake {
    /// `s3://bucket/prefix` as given, without a trailing slash.
    pub uri: String,
    /// The bucket.
    pub bucket: String,
    /// The prefix, without slashes at either end (empty for the bucket's root).
    pub prefix: String,
    /// Options for the Delta table's S3 store.
    pub storage_options: HashMap<String, String>,
    /// Everything under the prefix.
    pub store: Arc<dyn ObjectStore>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "this machine".to_owned())
}

/// Whether a lock's holder was a process of this machine that no longer runs: only then is the
/// lock known to be stale (a holder elsewhere may be alive whatever its age).
fn holder_is_dead(holder: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(holder) else {
        return false;
    };
    let (Some(pid), Some(host)) = (v["pid"].as_u64(), v["host"].as_str()) else {
        return false;
    };
    host == hostname() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// The region an S3 client of `config` uses: the resolved one, else `--region`, else us-east-1.
pub fn region_of(config: &aws_config::SdkConfig, opts: &S3Options) -> String {
    config
        .region()
        .map(|r| r.to_string())
        .or_else(|| opts.region.clone())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// An object-store S3 builder for `bucket` in `region`, path-style (and plain HTTP when the URL
/// says so) through `endpoint` when one is given; credentials are the caller's.
pub fn store_builder(bucket: &str, region: &str, endpoint: Option<&str>) -> AmazonS3Builder {
    let builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region);
    match endpoint {
        Some(e) => builder
            .with_endpoint(e)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(e.starts_with("http://")),
        None => builder,
    }
}

/// Whether `lake` names a lake in S3.
pub fn is_s3(lake: &Path) -> bool {
    lake.to_str().is_some_and(|s| s.starts_with("s3://"))
}

impl S3Lake {
    /// Connects to the lake at `uri` (`s3://bucket/prefix`) with `opts`.
    pub async fn connect(uri: &str, opts: &S3Options) -> Result<S3Lake> {
        let rest = uri
            .strip_prefix("s3://")
            .with_context(|| format!("{uri} is not an s3:// URI"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("{uri}: the lake's URI needs a bucket (s3://bucket/prefix)");
        }
        let prefix = prefix.trim_matches('/').to_owned();
        if opts.no_sign_request {
            bail!(
                "a lake in S3 is written and read with credentials; --no-sign-request is for public sources"
            );
        }
        let config = sdk_config(opts, opts.region.clone(), true).await;
        let region = region_of(&config, opts);
        let provider = config.credentials_provider().with_context(|| {
            format!(
                "no AWS credentials for the lake {uri}: set a profile, AWS_ACCESS_KEY_ID or a role"
            )
        })?;
        let creds = provider
            .provide_credentials()
            .await
            .with_context(|| format!("getting AWS credentials for the lake {uri}"))?;
        let mut storage_options = HashMap::from([
            ("AWS_REGION".to_owned(), region.clone()),
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                creds.access_key_id().to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                creds.secret_access_key().to_owned(),
            ),
        ]);
        if let Some(t) = creds.session_token() {
            storage_options.insert("AWS_SESSION_TOKEN".to_owned(), t.to_owned());
        }
        let mut builder = store_builder(bucket, &region, opts.endpoint_url.as_deref())
            .with_access_key_id(creds.access_key_id())
            .with_secret_access_key(creds.secret_access_key());
        if let Some(t) = creds.session_token() {
            builder = builder.with_token(t);
        }
        if let Some(e) = &opts.endpoint_url {
            storage_options.insert("AWS_ENDPOINT_URL".to_owned(), e.clone());
            if e.starts_with("http://") {
                storage_options.insert("AWS_ALLOW_HTTP".to_owned(), "true".to_owned());
            }
        }
        let s3 = builder
            .build()
            .with_context(|| format!("setting up S3 access to the lake {uri}"))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix.as_str()))
        };
        Ok(S3Lake {
            uri: format!(
                "s3://{bucket}{}",
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!("/{prefix}")
                }
            ),
            bucket: bucket.to_owned(),
            prefix,
            storage_options,
            store,
        })
    }

    /// The URL of the lake's table.
    pub fn table_url(&self) -> Result<url::Url> {
        url::Url::parse(&format!("{}/{}/", self.uri, crate::schema::TABLE_DIR))
            .with_context(|| format!("{} is not a valid URI", self.uri))
    }

    /// Uploads the local file `from` to `key` (relative to the lake's prefix).
    pub async fn upload(&self, from: &Path, key: &str) -> Result<()> {
        let bytes = tokio::fs::read(from)
            .await
            .with_context(|| format!("reading {}", from.display()))?;
        self.store
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .with_context(|| format!("uploading {} to {}/{key}", from.display(), self.uri))?;
        Ok(())
    }

    /// Downloads `key` (relative to the lake's prefix) to the local file `to`.
    pub async fn download(&self, key: &str, to: &Path) -> Result<()> {
        let got = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .with_context(|| format!("downloading {}/{key}", self.uri))?;
        let bytes = got
            .bytes()
            .await
            .with_context(|| format!("downloading {}/{key}", self.uri))?;
        if let Some(parent) = to.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        tokio::fs::write(to, &bytes)
            .await
            .with_context(|| format!("writing {}", to.display()))
    }

    /// The bytes of `key` (relative to the lake's prefix), or `None` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<bytes::Bytes>> {
        let got = match self.store.get(&ObjectPath::from(key)).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}/{key}", self.uri)),
        };
        let bytes = got
            .bytes()
            .await
            .with_context(|| format!("reading {}/{key}", self.uri))?;
        Ok(Some(bytes))
    }

    /// Whether `key` (relative to the lake's prefix) exists.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("looking for {}/{key}", self.uri)),
        }
    }

    /// The keys under `dir` (relative to the lake's prefix).
    pub async fn list(&self, dir: &str) -> Result<Vec<String>> {
        let metas: Vec<_> = self
            .store
            .list(Some(&ObjectPath::from(dir)))
            .try_collect()
            .await
            .with_context(|| format!("listing {}/{dir}", self.uri))?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }

    /// Takes the lake's writer lock: the object `_trailscope/lock`, created only if absent (S3's
    /// conditional write), so two ingests into one lake run one after the other and the second
    /// is de-duplicated against the first, as on disk. Waits while another writer holds it.
    pub async fn lock(&self) -> Result<()> {
        let key = ObjectPath::from(format!("{}/lock", super::META_DIR));
        let body = serde_json::json!({
            "pid": std::process::id(),
            "host": hostname(),
            "since": chrono::Utc::now().to_rfc3339(),
            "nonce": uuid::Uuid::new_v4().simple().to_string(),
        })
        .to_string();
        let mut noted = false;
        loop {
            let put = self
                .store
                .put_opts(
                    &key,
                    body.clone().into(),
                    object_store::PutMode::Create.into(),
                )
                .await;
            match put {
                Ok(_) => {
                    // S3 makes the create atomic; some S3-compatible stores check and write in
                    // two steps, and two writers can both "create" it. Reading it back after a
                    // moment tells which one the store kept.
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    let kept = match self.store.get(&key).await {
                        Ok(r) => r.bytes().await.ok(),
                        Err(_) => None,
                    };
                    if kept.as_deref() == Some(body.as_bytes()) {
                        return Ok(());
                    }
                    log::info!(
                        "another writer took the lock of {} at the same moment",
                        self.uri
                    );
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(object_store::Error::AlreadyExists { .. })
                | Err(object_store::Error::Precondition { .. }) => {
                    let holder = match self.store.get(&key).await {
                        Ok(r) => r
                            .bytes()
                            .await
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default(),
                        Err(_) => String::new(),
                    };
                    if holder_is_dead(&holder) {
                        log::warn!(
                            "the lock of {} was left by a process of this machine that is gone \
                             ({}); taking it over",
                            self.uri,
                            crate::progress::inert(&holder)
                        );
                        self.unlock().await;
                        continue;
                    }
                    if !noted {
                        crate::progress::note(&format!(
                            "another trailscope process is writing to the lake {} ({}); waiting \
                             for it to finish. If that process died, delete {}/{key} and run again.",
                            self.uri,
                            crate::progress::inert(&holder),
                            self.uri
                        ));
                        noted = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("taking the writer lock of {}", self.uri));
                }
            }
        }
    }

    /// Releases the writer lock.
    pub async fn unlock(&self) {
        self.delete(&format!("{}/lock", super::META_DIR)).await;
    }

    /// Deletes `key`, best effort (a file no version lists is harmless; vacuum removes it).
    pub async fn delete(&self, key: &str) {
        if let Err(e) = self.store.delete(&ObjectPath::from(key)).await {
            log::warn!(
                "could not delete {}/{key}: {e}; `trailscope lake vacuum` removes it",
                self.uri
            );
        }
    }
}
