//! Signed CloudTrail digest files for a tree of log files, made as CloudTrail makes them: one
//! digest per account, region and hour, listing the log files delivered in that hour with the
//! SHA-256 of their content, chained to the previous digest by its hash and signature, and signed
//! with SHA256withRSA over the data-signing string. For tests and benchmarks of `verify`, with a
//! test key; this module does not verify anything.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::source::layout::{self, Filters, ObjectKind};
use crate::verify::{KeyEntry, PublicKeys, base64_encode, data_signing_string};

/// How to make the digests.
#[derive(Debug, Clone)]
pub struct DigestConfig {
    /// The signing key, DER PKCS#1 RSAPrivateKey.
    pub private_key: Vec<u8>,
    /// The fingerprint digests name.
    pub fingerprint: String,
    /// The bucket the tree stands for.
    pub bucket: String,
    /// Trail name.
    pub trail: String,
    /// The trail's home region.
    pub home_region: String,
    /// Write each digest's signature in a `.metadata.json` sidecar (for local copies).
    pub sidecars: bool,
    /// A digest for every hour from the first delivery to the last, as CloudTrail delivers
    /// them; otherwise only for hours with deliveries (a smaller tree, still one unbroken chain).
    pub every_hour: bool,
}

/// One digest made.
#[derive(Debug, Clone)]
pub struct SignedDigest {
    /// Its key in the bucket (the path under the tree, with `/`).
    pub key: String,
    /// Its file, gzip as delivered.
    pub path: PathBuf,
    /// Hex signature (`x-amz-meta-signature`).
    pub signature: String,
    /// The hour's end.
    pub end: DateTime<Utc>,
    /// Log files it lists.
    pub log_files: usize,
}

/// The test key, DER PKCS#1: an RSA-2048 pair made for the tests, the sample and the benchmarks.
/// Not a secret; it signs synthetic digests only.
pub const TEST_KEY: &[u8] = include_bytes!("../../tests/fixtures/digest-test-key.rsa.der");

/// The fingerprint synthetic digests give the test key.
pub const TEST_FINGERPRINT: &str = "5a1e0f7e6d4c3b2a19081716151413aa";

impl DigestConfig {
    /// Digests signed with [`TEST_KEY`] for the trail `trail` delivering to `bucket`, home
    /// region us-east-1.
    pub fn test(bucket: &str, trail: &str, sidecars: bool, every_hour: bool) -> DigestConfig {
        DigestConfig {
            private_key: TEST_KEY.to_vec(),
            fingerprint: TEST_FINGERPRINT.into(),
            bucket: bucket.into(),
            trail: trail.into(),
            home_region: "us-east-1".into(),
            sidecars,
            every_hour,
        }
    }

    /// The public key as `aws cloudtrail list-public-keys` prints it.
    pub fn public_keys(&self) -> Result<PublicKeys> {
        let pair = RsaKeyPair::from_der(&self.private_key)
            .map_err(|e| anyhow!("the test key is not DER PKCS#1: {e}"))?;
        let mut keys = PublicKeys::default();
        keys.add(KeyEntry {
            value: base64_encode(pair.public().as_ref()),
            validity_start_time: Some("2000-01-01T00:00:00Z".into()),
            validity_end_time: None,
            fingerprint: self.fingerprint.clone(),
        })?;
        Ok(keys)
    }

    /// Signs `message` as CloudTrail does; hex.
    pub fn sign(&self, message: &str) -> Result<String> {
        let pair = RsaKeyPair::from_der(&self.private_key)
            .map_err(|e| anyhow!("the test key is not DER PKCS#1: {e}"))?;
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message.as_bytes(),
            &mut sig,
        )
        .map_err(|e| anyhow!("signing: {e}"))?;
        Ok(hex::encode(sig))
    }
}

/// Writes signed digests for every log file under `root` (a tree in the CloudTrail key layout
/// whose paths below `root` are the bucket's keys), one chain per account and region covering
/// every hour from the first delivery to the last. Existing digests are replaced.
pub fn sign_tree(root: &Path, cfg: &DigestConfig) -> Result<Vec<SignedDigest>> {
    // Log files by their base (`AWSLogs/[org/]account`), region and delivery hour.
    type Hours = BTreeMap<i64, Vec<(String, String)>>;
    let mut chains: BTreeMap<(String, String, String), Hours> = BTreeMap::new();
    for obj in crate::source::local::list(root, &Filters::default())? {
        if obj.kind != ObjectKind::Log {
            continue;
        }
        let rel = relative(root, &obj.uri)?;
        let info = layout::parse(&rel);
        if info.service.as_deref() != Some("CloudTrail") {
            continue;
        }
        let (Some(account), Some(region)) = (info.account.clone(), info.region.clone()) else {
            continue;
        };
        let base = rel
            .split("/CloudTrail/")
            .next()
            .context("a log key has a CloudTrail segment")?
            .to_owned();
        let delivered = crate::verify::delivery_time(&rel)
            .with_context(|| format!("{rel}: no delivery time"))?;
        let bytes = fs::read(&obj.uri).with_context(|| format!("reading {}", obj.uri))?;
        // A damaged copy (a truncated object) was never delivered as such: no digest lists it.
        let Ok(hash) = crate::verify::content_sha256(&bytes) else {
            continue;
        };
        chains
            .entry((base, region, account))
            .or_default()
            .entry(delivered.timestamp().div_euclid(3600))
            .or_default()
            .push((rel, hash));
    }
    let mut made = Vec::new();
    for ((base, region, account), hours) in chains {
        let digest_root = root.join(&base).join("CloudTrail-Digest").join(&region);
        if digest_root.is_dir() {
            fs::remove_dir_all(&digest_root)
                .with_context(|| format!("removing {}", digest_root.display()))?;
        }
        let (Some(first), Some(last)) = (hours.keys().next(), hours.keys().last()) else {
            continue;
        };
        let span: Vec<i64> = if cfg.every_hour {
            (*first..=*last).collect()
        } else {
            hours.keys().copied().collect()
        };
        let mut previous: Option<(String, Vec<u8>, String)> = None;
        for hour in span {
            let start = DateTime::from_timestamp(hour * 3600, 0).context("time")?;
            let end = start + Duration::hours(1);
            let files = hours.get(&hour).cloned().unwrap_or_default();
            let key = format!(
                "{base}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{}_{}_{}.json.gz",
                end.format("%Y/%m/%d"),
                cfg.trail,
                cfg.home_region,
                end.format("%Y%m%dT%H%M%SZ")
            );
            let text = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let (pb, po, ph, ps) = match &previous {
                Some((k, b, s)) => (
                    json!(cfg.bucket),
                    json!(k),
                    json!(hex::encode(Sha256::digest(b))),
                    json!(s),
                ),
                None => (json!(null), json!(null), json!(null), json!(null)),
            };
            let body = json!({
                "awsAccountId": account,
                "digestStartTime": text(start),
                "digestEndTime": text(end),
                "digestS3Bucket": cfg.bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": cfg.fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": null,
                "oldestEventTime": null,
                "previousDigestS3Bucket": pb,
                "previousDigestS3Object": po,
                "previousDigestHashValue": ph,
                "previousDigestHashAlgorithm": if previous.is_some() { json!("SHA-256") } else { json!(null) },
                "previousDigestSignature": ps,
                "logFiles": files.iter().map(|(k, h)| json!({
                    "s3Bucket": cfg.bucket, "s3Object": k, "hashValue": h, "hashAlgorithm": "SHA-256",
                    "newestEventTime": null, "oldestEventTime": null
                })).collect::<Vec<_>>(),
            })
            .to_string()
            .into_bytes();
            let signature = cfg.sign(&data_signing_string(
                &text(end),
                &cfg.bucket,
                &key,
                &body,
                previous.as_ref().map(|p| p.2.as_str()),
            ))?;
            let path = root.join(&key);
            let dir = path.parent().context("a digest path has a directory")?;
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            fs::write(&path, super::gzip(&body)?)
                .with_context(|| format!("writing {}", path.display()))?;
            if cfg.sidecars {
                let meta = json!({"signature": signature, "signature-algorithm": "SHA256withRSA"});
                fs::write(crate::lake::digests::sidecar(&path), meta.to_string())
                    .with_context(|| format!("writing the sidecar of {}", path.display()))?;
            }
            made.push(SignedDigest {
                key: key.clone(),
                path,
                signature: signature.clone(),
                end,
                log_files: files.len(),
            });
            previous = Some((key, body, signature));
        }
    }
    Ok(made)
}

fn relative(root: &Path, path: &str) -> Result<String> {
    Ok(Path::new(path)
        .strip_prefix(root)
        .with_context(|| format!("{path} is not under {}", root.display()))?
        .to_string_lossy()
        .replace('\\', "/"))
}
