//! S3 sources through the AWS SDK: the default credential chain, profiles, regions, custom
//! endpoints and anonymous access, as the AWS CLI does.
//!
//! Input: a bucket, a prefix, the filters and the client options. Output: the objects (listed
//! level by level with `/` as delimiter, concurrently, pruned by the key layout), then each
//! object's bytes. The SDK retries throttling and dropped connections; a body cut off mid-download
//! is fetched again here. This module does not decode; `ingest::decode` does.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::DisplayErrorContext;
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::layout::{self, Filters};
use super::{Location, ObjectRef};

/// How to reach S3, mirroring the AWS CLI's options.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Named profile from the shared config files (`--profile`, else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// Region of the S3 client (`--region`); found from the bucket when not given.
    pub region: Option<String>,
    /// S3-compatible endpoint (`--endpoint-url`); path-style addressing is used with it.
    pub endpoint_url: Option<String>,
    /// Send unsigned requests, for public buckets (`--no-sign-request`).
    pub no_sign_request: bool,
}

/// An S3 client for one bucket.
#[derive(Clone)]
pub struct S3Source {
    client: Client,
}

const TRIES: usize = 4;

impl S3Source {
    /// Builds a client from the default credential chain and the options; when no region is
    /// given or configured, asks S3 where the bucket lives.
    pub async fn connect(opts: &S3Options, bucket: &str) -> Result<S3Source> {
        let client = build(opts, opts.region.clone()).await;
        if opts.region.is_some() || opts.endpoint_url.is_some() {
            return Ok(S3Source { client });
        }
        let configured = client.config().region().map(|r| r.to_string());
        match bucket_region(&client, bucket).await {
            Some(r) if Some(&r) != configured.as_ref() => {
                log::info!("bucket {bucket} is in {r}");
                Ok(S3Source {
                    client: build(opts, Some(r)).await,
                })
            }
            _ => Ok(S3Source { client }),
        }
    }

    /// Lists the objects under `prefix`, descending only into prefixes the filters admit.
    pub async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        filters: &Filters,
        on_found: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<ObjectRef>> {
        const IN_FLIGHT: usize = 32;
        let mut pending = vec![prefix.to_owned()];
        let mut running = FuturesUnordered::new();
        let mut out = Vec::new();
        while !pending.is_empty() || !running.is_empty() {
            while running.len() < IN_FLIGHT {
                let Some(p) = pending.pop() else { break };
                running.push(self.list_level(bucket, p));
            }
            let Some(level) = running.next().await else {
                break;
            };
            let (dirs, objects) = level?;
            for d in dirs {
                if filters.admits(&layout::parse(&d)) {
                    pending.push(d);
                }
            }
            for (key, size, etag) in objects {
                if filters.admits(&layout::parse(&key)) {
                    out.push(ObjectRef::new(
                        format!("s3://{bucket}/{key}"),
                        &key,
                        Location::S3 {
                            bucket: bucket.to_owned(),
                            key: key.clone(),
                        },
                        Some(size),
                        etag,
                    ));
                }
            }
            on_found(out.len() as u64);
        }
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(out)
    }

    /// One level: the sub-prefixes and the objects directly under `prefix`.
    async fn list_level(
        &self,
        bucket: &str,
        prefix: String,
    ) -> Result<(Vec<String>, Vec<(String, u64, Option<String>)>)> {
        let mut dirs = Vec::new();
        let mut objects = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(&e))).with_context(|| {
                format!("listing s3://{bucket}/{prefix} (check the bucket name, your credentials (--profile), and s3:ListBucket permission)")
            })?;
            dirs.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            for o in page.contents() {
                if let Some(k) = o.key() {
                    objects.push((
                        k.to_owned(),
                        o.size().unwrap_or(0).max(0) as u64,
                        o.e_tag().map(str::to_owned),
                    ));
                }
            }
        }
        Ok((dirs, objects))
    }

    /// Downloads one object whole, retrying a body that is cut off.
    pub async fn fetch(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        Ok(self.fetch_with_metadata(bucket, key).await?.0)
    }

    /// Downloads one object whole with its user metadata (`x-amz-meta-*`, without the prefix).
    pub async fn fetch_with_metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(Vec<u8>, std::collections::HashMap<String, String>)> {
        let mut last = None;
        for attempt in 0..TRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let resp = match self
                .client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    let transient = e.as_service_error().is_none();
                    let err = anyhow::anyhow!("{}", DisplayErrorContext(&e));
                    if !transient {
                        return Err(err).with_context(|| format!("downloading s3://{bucket}/{key} (check s3:GetObject permission and KMS key access)"));
                    }
                    last = Some(err);
                    continue;
                }
            };
            let metadata = resp.metadata().cloned().unwrap_or_default();
            match resp.body.collect().await {
                Ok(b) => return Ok((b.into_bytes().to_vec(), metadata)),
                Err(e) => last = Some(anyhow::anyhow!("the download was cut off: {e}")),
            }
        }
        match last {
            Some(e) => Err(e).with_context(|| {
                format!("downloading s3://{bucket}/{key} failed after {TRIES} tries")
            }),
            None => bail!("downloading s3://{bucket}/{key} failed"),
        }
    }
}

async fn build(opts: &S3Options, region: Option<String>) -> Client {
    let sdk = sdk_config(opts, region, true).await;
    // CloudTrail buckets are read with thousands of small GETs; S3 throttles them now and then,
    // so eight attempts by default, or what AWS_MAX_ATTEMPTS says, as the AWS CLI reads it.
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(8);
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(attempts));
    if opts.endpoint_url.is_some() {
        conf = conf.force_path_style(true);
    }
    if sdk.region().is_none() {
        conf = conf.region(Region::new("us-east-1"));
    }
    Client::from_conf(conf.build())
}

/// The shared AWS configuration as the AWS CLI builds it: the default credential chain, the
/// profile, the region, and (`with_endpoint`) the `--endpoint-url`, which names an S3 endpoint
/// and so is not given to other services (they take `AWS_ENDPOINT_URL_<SERVICE>`).
pub async fn sdk_config(
    opts: &S3Options,
    region: Option<String>,
    with_endpoint: bool,
) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    if opts.no_sign_request {
        loader = loader.no_credentials();
    }
    if let Some(e) = opts.endpoint_url.as_ref().filter(|_| with_endpoint) {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

/// The bucket's region, from HeadBucket's answer (S3 names it even when it refuses the request).
async fn bucket_region(client: &Client, bucket: &str) -> Option<String> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(e) => e
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_owned),
    }
}
