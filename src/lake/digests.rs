//! Kept digests: CloudTrail digest files kept beside the lake with their signature metadata, the
//! saved public keys, and where the latest verdicts (the `verification` table) live.
//!
//! ```text
//! <lake>/_trailscope/digests/<bucket>/<key>                 digest, bytes as delivered
//! <lake>/_trailscope/digests/<bucket>/<key>.metadata.json   its S3 metadata and origin
//! <lake>/_trailscope/digests/public-keys.json               `aws cloudtrail list-public-keys` JSON
//! <lake>/_trailscope/verification.parquet                   the latest verdicts
//! ```
//! The digest store is itself a local copy of the trail in the CloudTrail key layout, so
//! `trailscope verify <lake>/_trailscope/digests` and `aws s3 sync` copies read the same way. The
//! same `.metadata.json` sidecar beside a digest in any local copy supplies its signature (the
//! output of `aws s3api head-object` works as is). This module does not judge anything or
//! build the verdicts; `crate::verify` does.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use anyhow::bail;

use super::META_DIR;
use crate::source::layout::ObjectKind;
use crate::source::layout::layout_key;
use crate::source::s3::S3Source;
use crate::source::{Location, ObjectRef};

/// Suffix of the file beside a digest that holds its S3 metadata.
pub const SIDECAR: &str = ".metadata.json";

/// A digest's metadata: its signature, and for a kept digest where it was found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DigestMeta {
    /// `x-amz-meta-signature`, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// `x-amz-meta-signature-algorithm`.
    #[serde(
        rename = "signature-algorithm",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub signature_algorithm: Option<String>,
    /// The bucket it was found in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The key it was found at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The URI it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_uri: Option<String>,
    /// `aws s3api head-object` output keeps user metadata here.
    #[serde(rename = "Metadata", default, skip_serializing)]
    head_object: Option<HashMap<String, String>>,
}

impl DigestMeta {
    /// From an S3 object's user metadata (`x-amz-meta-*`, names without the prefix).
    pub fn from_user_metadata(meta: &HashMap<String, String>) -> DigestMeta {
        DigestMeta {
            signature: meta.get("signature").cloned(),
            signature_algorithm: meta.get("signature-algorithm").cloned(),
            ..DigestMeta::default()
        }
    }

    /// Reads a sidecar; `None` when there is none.
    pub fn read(digest_path: &Path) -> Result<Option<DigestMeta>> {
        let path = sidecar(digest_path);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut meta: DigestMeta = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not digest metadata (expected {{\"signature\": \"…\"}} or the JSON of aws s3api head-object)",
                path.display()
            )
        })?;
        if let Some(m) = meta.head_object.take() {
            let from = DigestMeta::from_user_metadata(&m);
            meta.signature = meta.signature.or(from.signature);
            meta.signature_algorithm = meta.signature_algorithm.or(from.signature_algorithm);
        }
        Ok(Some(meta))
    }
}

/// The sidecar path of a digest file.
pub fn sidecar(digest_path: &Path) -> PathBuf {
    let mut s = digest_path.as_os_str().to_owned();
    s.push(SIDECAR);
    PathBuf::from(s)
}

/// The directory of kept digests.
pub fn digest_dir(lake: &Path) -> PathBuf {
    lake.join(META_DIR).join("digests")
}

/// Where the public keys saved beside the lake are, relative to the lake (also the key under a
/// lake's prefix in S3).
pub const KEYS_FILE: &str = "_trailscope/digests/public-keys.json";

/// Where the latest verdicts are, relative to the lake.
pub const RESULTS_FILE: &str = "_trailscope/verification.parquet";

/// The public keys saved beside the lake.
pub fn keys_path(lake: &Path) -> PathBuf {
    lake.join(KEYS_FILE)
}

/// The latest verdicts.
pub fn results_path(lake: &Path) -> PathBuf {
    lake.join(RESULTS_FILE)
}

/// Keeps one digest beside the lake, as found: the bytes under `<bucket>/<key>` (`_local/` and
/// the key from `AWSLogs/` on for a local copy) and the metadata beside them. Returns false when
/// it was kept already.
pub fn keep_digest(lake: &Path, meta: &DigestMeta, bytes: &[u8]) -> Result<bool> {
    let key = meta.key.clone().unwrap_or_default();
    let rel = match &meta.bucket {
        Some(b) => format!("{b}/{key}"),
        None => format!("_local/{}", layout_key(&key)),
    };
    if rel.split('/').any(|s| s == ".." || s.is_empty()) {
        anyhow::bail!("{rel}: not a key that can be kept as a file");
    }
    let path = digest_dir(lake).join(&rel);
    if path.exists() && sidecar(&path).exists() {
        return Ok(false);
    }
    let dir = path.parent().context("a kept digest has a directory")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // The metadata goes first: a digest without its sidecar would read as unsigned.
    let text = serde_json::to_vec_pretty(meta).context("encoding digest metadata")?;
    write_atomic(&sidecar(&path), &text)?;
    write_atomic(&path, bytes)?;
    Ok(true)
}

/// Writes a file under a temporary name and renames it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    super::write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))
}

/// Reads an object, with its digest metadata when it has any.
pub async fn read_object(
    o: &ObjectRef,
    client: Option<&S3Source>,
) -> Result<(Vec<u8>, Option<DigestMeta>)> {
    match &o.location {
        Location::S3 { bucket, key } => {
            let client = client.context("no S3 client for the bucket")?;
            let (bytes, meta) = client.fetch_with_metadata(bucket, key).await?;
            let meta = (o.kind == ObjectKind::Digest).then(|| {
                let mut m = DigestMeta::from_user_metadata(&meta);
                m.bucket = Some(bucket.clone());
                m.key = Some(key.clone());
                m.source_uri = Some(o.uri.clone());
                m
            });
            Ok((bytes, meta))
        }
        Location::File(p) => {
            let bytes = tokio::fs::read(p)
                .await
                .with_context(|| format!("reading {}", p.display()))?;
            let meta = if o.kind == ObjectKind::Digest {
                let p = p.clone();
                tokio::task::spawn_blocking(move || DigestMeta::read(&p))
                    .await
                    .context("the reading thread panicked")??
            } else {
                None
            };
            Ok((bytes, meta))
        }
        Location::Stdin => bail!("stdin cannot be verified"),
        Location::Unreadable(reason) => bail!("{reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_read_our_shape_and_head_object_output() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d.json.gz");
        assert_eq!(DigestMeta::read(&d).unwrap(), None);
        fs::write(
            sidecar(&d),
            r#"{"AcceptRanges":"bytes","Metadata":{"signature":"ab12","signature-algorithm":"SHA256withRSA"}}"#,
        )
        .unwrap();
        let m = DigestMeta::read(&d).unwrap().unwrap();
        assert_eq!(m.signature.as_deref(), Some("ab12"));
        assert_eq!(m.signature_algorithm.as_deref(), Some("SHA256withRSA"));
        let kept = DigestMeta {
            signature: Some("cd34".into()),
            bucket: Some("b".into()),
            key: Some("AWSLogs/1/CloudTrail-Digest/x.json.gz".into()),
            ..DigestMeta::default()
        };
        assert!(keep_digest(dir.path(), &kept, b"bytes").unwrap());
        assert!(!keep_digest(dir.path(), &kept, b"bytes").unwrap());
        let path = digest_dir(dir.path()).join("b/AWSLogs/1/CloudTrail-Digest/x.json.gz");
        assert_eq!(fs::read(&path).unwrap(), b"bytes");
        assert_eq!(DigestMeta::read(&path).unwrap().unwrap(), kept);
    }
}
