//! Verify wing: CloudTrail digest files, their signatures, their chain, and the
//! log files they list.
//!
//! Input: digest files (decompressed JSON bytes, where each was found, its `x-amz-meta-signature`),
//! CloudTrail public keys, and log files' bytes. Output: for each digest whether its signature is
//! valid, whether it links to the real previous digest, and for each listed log file whether its
//! bytes hash to the listed value. CloudTrail signs, with SHA256withRSA (PKCS#1 v1.5), the string
//! `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(digest bytes)) \n
//! previousDigestSignature` (a JSON null written `null`).
//!
//! This module holds the digest file, its name and the checks of one digest and one link;
//! [`signature`] decodes CloudTrail's public keys and checks signatures, [`gather`] finds digests
//! and log files, [`judge`] judges them together, [`results`] stores the verdicts as the
//! `verification` table (the kept digests themselves are the lake's: `crate::lake::digests`),
//! [`keys`] gets CloudTrail's public keys, and the `verify` command reports. Nothing here prints.

pub mod gather;
pub mod judge;
pub mod keys;
pub mod results;
pub mod signature;

pub use crate::source::layout::layout_key;
pub use crate::time::delivery_time;
pub use signature::{KeyEntry, PublicKeys, base64_encode, pkcs1_public_key, signature_valid};

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// One digest file, as CloudTrail writes it (the fields verification uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    /// The account the digest covers.
    pub aws_account_id: String,
    /// Start of the hour covered.
    pub digest_start_time: String,
    /// End of the hour covered; the first line of the data-signing string.
    pub digest_end_time: String,
    /// Bucket the digest was delivered to.
    pub digest_s3_bucket: String,
    /// Key the digest was delivered to.
    pub digest_s3_object: String,
    /// Fingerprint of the public key whose private key signed it.
    pub digest_public_key_fingerprint: String,
    /// Always SHA256withRSA today.
    pub digest_signature_algorithm: String,
    /// Bucket of the previous digest (null at the start of a chain).
    pub previous_digest_s3_bucket: Option<String>,
    /// Key of the previous digest.
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's decompressed bytes.
    pub previous_digest_hash_value: Option<String>,
    /// Hex signature of the previous digest.
    pub previous_digest_signature: Option<String>,
    /// The log files delivered in the hour.
    #[serde(default)]
    pub log_files: Vec<LogFileEntry>,
}

/// One log file a digest lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    /// Its bucket.
    pub s3_bucket: String,
    /// Its key.
    pub s3_object: String,
    /// Hex SHA-256 of the object's bytes (the gzip file as delivered).
    pub hash_value: String,
}

impl DigestFile {
    /// Parses a digest's decompressed JSON.
    pub fn parse(bytes: &[u8]) -> Result<DigestFile> {
        serde_json::from_slice(bytes).context("the digest file is not CloudTrail digest JSON")
    }
}

/// The string CloudTrail signs for a digest.
pub fn data_signing_string(
    digest_end_time: &str,
    bucket: &str,
    object: &str,
    digest_bytes: &[u8],
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{digest_end_time}\n{bucket}/{object}\n{}\n{}",
        hex::encode(Sha256::digest(digest_bytes)),
        previous_signature.unwrap_or("null")
    )
}

/// What checking one digest found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    /// Signed by the named key over the bytes found where the digest says it was delivered.
    Valid,
    /// The digest names another place than where it was found (moved or copied).
    WrongLocation { found: String, claims: String },
    /// No `x-amz-meta-signature` for it.
    NoSignature,
    /// Its fingerprint is not among the public keys.
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
}

/// Where a digest (or log file) was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAt {
    /// The bucket it is in, or for a local copy the bucket it came from, when known.
    pub bucket: Option<String>,
    /// Its key (for a local copy, its path).
    pub key: String,
}

impl FoundAt {
    /// Whether it is where `bucket`/`object` say. With the bucket known the key must be equal;
    /// for a local copy of unknown origin only the part from `AWSLogs/` on is compared (a local
    /// copy drops the trail's key prefix) and the bucket is taken on trust.
    pub fn is(&self, bucket: &str, object: &str) -> bool {
        match &self.bucket {
            Some(b) => b == bucket && self.key == object,
            None => layout_key(&self.key) == layout_key(object),
        }
    }
}

impl std::fmt::Display for FoundAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.bucket {
            Some(b) => write!(f, "{b}/{}", self.key),
            None => write!(f, "{}", self.key),
        }
    }
}

/// Checks one digest: where it was found, its signature and key.
pub fn check_digest(
    digest: &DigestFile,
    bytes: &[u8],
    found: &FoundAt,
    signature_hex: Option<&str>,
    keys: &PublicKeys,
) -> Result<DigestCheck> {
    if !found.is(&digest.digest_s3_bucket, &digest.digest_s3_object) {
        return Ok(DigestCheck::WrongLocation {
            found: found.to_string(),
            claims: format!("{}/{}", digest.digest_s3_bucket, digest.digest_s3_object),
        });
    }
    let Some(signature) = signature_hex.filter(|s| !s.trim().is_empty()) else {
        return Ok(DigestCheck::NoSignature);
    };
    let Some(key) = keys.get(&digest.digest_public_key_fingerprint) else {
        return Ok(DigestCheck::UnknownKey(
            digest.digest_public_key_fingerprint.clone(),
        ));
    };
    let message = data_signing_string(
        &digest.digest_end_time,
        &digest.digest_s3_bucket,
        &digest.digest_s3_object,
        bytes,
        digest.previous_digest_signature.as_deref(),
    );
    Ok(if signature_valid(key, message.as_bytes(), signature)? {
        DigestCheck::Valid
    } else {
        DigestCheck::BadSignature
    })
}

/// How a digest links to the one before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The start of a chain (previous fields null): not a fault.
    Start,
    /// Previous hash and signature match the real previous digest.
    Intact,
    /// The previous digest it names is not there: a gap.
    Missing(String),
    /// The previous digest is there but its hash differs from `previousDigestHashValue`.
    HashMismatch,
    /// The previous digest's signature differs from `previousDigestSignature`.
    SignatureMismatch,
}

/// Checks `digest`'s link to its predecessor; `previous` holds, by [`layout_key`], the
/// decompressed bytes and signature of every digest available.
pub fn check_link(digest: &DigestFile, previous: &BTreeMap<String, (&[u8], &str)>) -> Link {
    let (Some(bucket), Some(object)) = (
        &digest.previous_digest_s3_bucket,
        &digest.previous_digest_s3_object,
    ) else {
        return Link::Start;
    };
    let Some((bytes, signature)) = previous.get(&layout_key(object)) else {
        return Link::Missing(format!("{bucket}/{object}"));
    };
    if digest.previous_digest_hash_value.as_deref()
        != Some(hex::encode(Sha256::digest(bytes)).as_str())
    {
        return Link::HashMismatch;
    }
    if digest.previous_digest_signature.as_deref().map(str::trim) != Some(signature.trim()) {
        return Link::SignatureMismatch;
    }
    Link::Intact
}

/// The SHA-256 (hex) of a log file's content as CloudTrail hashes it for `hashValue`: the
/// decompressed bytes of its one gzip stream (a plain JSON file is hashed as it is). A broken
/// stream, or anything after its end, is an error: the AWS CLI once hashed only the first member
/// and accepted whatever followed.
pub fn content_sha256(bytes: &[u8]) -> Result<String, crate::ingest::decode::DecodeError> {
    let mut hasher = Sha256::new();
    crate::ingest::decode::decode_stream(bytes, |piece| hasher.update(piece))?;
    Ok(hex::encode(hasher.finalize()))
}

/// What a digest's file name says: `<account>_CloudTrail-Digest_<region>_<trail>_<home
/// region>_<end>[_backfill].json.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    /// Account the digest covers.
    pub account: String,
    /// Region whose log files it lists.
    pub region: String,
    /// Trail name.
    pub trail: String,
    /// The trail's home region.
    pub home_region: String,
    /// End of the period, `YYYYMMDDTHHMMSSZ`.
    pub end: String,
    /// A backfill digest: delivered later for log files an hourly digest missed; outside the
    /// hourly chain.
    pub backfill: bool,
}

impl DigestName {
    /// Reads a digest key or path; `None` when the name is not a CloudTrail digest's.
    pub fn parse(key: &str) -> Option<DigestName> {
        let file = key.rsplit(['/', '\\']).next()?;
        let stem = file.strip_suffix(".json.gz")?;
        let (stem, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        let (account, rest) = stem.split_once("_CloudTrail-Digest_")?;
        let (region, rest) = rest.split_once('_')?;
        let (rest, end) = rest.rsplit_once('_')?;
        let (trail, home_region) = rest.rsplit_once('_')?;
        Some(DigestName {
            account: account.to_owned(),
            region: region.to_owned(),
            trail: trail.to_owned(),
            home_region: home_region.to_owned(),
            end: end.to_owned(),
            backfill,
        })
    }

    /// The end of the period, as a time.
    pub fn end_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        crate::time::digest_end_time(&self.end)
    }

    /// The chain this digest belongs to: one per account, region and trail.
    pub fn chain(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.trail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPKI: &[u8] = include_bytes!("../../tests/fixtures/digest-test-key.spki.der");

    fn sign(message: &str) -> String {
        crate::synth::digests::DigestConfig::test("b", "t", false, true)
            .sign(message)
            .unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64_encode(bytes)
    }

    fn keys() -> PublicKeys {
        PublicKeys::from_json(&format!(
            r#"{{"PublicKeyList":[{{"Value":"{}","ValidityStartTime":"2024-01-01T00:00:00Z","ValidityEndTime":"2025-01-01T00:00:00Z","Fingerprint":"ABC123"}}]}}"#,
            b64(SPKI)
        ))
        .unwrap()
    }

    fn digest_json(object: &str, previous: Option<(&str, &[u8], &str)>) -> Vec<u8> {
        let (pb, po, ph, ps) = match previous {
            Some((o, bytes, sig)) => (
                serde_json::json!("trail-bucket"),
                serde_json::json!(o),
                serde_json::json!(hex::encode(Sha256::digest(bytes))),
                serde_json::json!(sig),
            ),
            None => (
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::Null,
            ),
        };
        serde_json::json!({
            "awsAccountId": "111122223333", "digestStartTime": "2024-03-05T13:00:00Z", "digestEndTime": "2024-03-05T14:00:00Z",
            "digestS3Bucket": "trail-bucket", "digestS3Object": object, "digestPublicKeyFingerprint": "abc123",
            "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": null, "oldestEventTime": null,
            "previousDigestS3Bucket": pb, "previousDigestS3Object": po, "previousDigestHashValue": ph,
            "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": ps,
            "logFiles": [{"s3Bucket": "trail-bucket", "s3Object": "log.json.gz", "hashValue": "00", "hashAlgorithm": "SHA-256"}]
        })
        .to_string()
        .into_bytes()
    }

    fn signed(object: &str, bytes: &[u8]) -> String {
        let d = DigestFile::parse(bytes).unwrap();
        sign(&data_signing_string(
            &d.digest_end_time,
            &d.digest_s3_bucket,
            object,
            bytes,
            d.previous_digest_signature.as_deref(),
        ))
    }

    #[test]
    fn the_data_signing_string_of_the_reference_case() {
        assert_eq!(
            data_signing_string("a", "b", "c", b"abc", None),
            "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull"
        );
    }

    #[test]
    fn signatures_locations_and_keys_are_checked() {
        let keys = keys();
        let bytes = digest_json("d1.json.gz", None);
        let d = DigestFile::parse(&bytes).unwrap();
        let sig = signed("d1.json.gz", &bytes);
        let check = |b: &[u8], at: &str, s: Option<&str>, k: &PublicKeys| {
            let (bucket, key) = at.split_once('/').unwrap();
            let found = FoundAt {
                bucket: Some(bucket.to_owned()),
                key: key.to_owned(),
            };
            check_digest(&d, b, &found, s, k).unwrap()
        };
        assert_eq!(
            check(&bytes, "trail-bucket/d1.json.gz", Some(&sig), &keys),
            DigestCheck::Valid
        );
        let mut changed = bytes.clone();
        changed[10] ^= 1;
        assert_eq!(
            check(&changed, "trail-bucket/d1.json.gz", Some(&sig), &keys),
            DigestCheck::BadSignature
        );
        assert!(matches!(
            check(&bytes, "trail-bucket/moved.json.gz", Some(&sig), &keys),
            DigestCheck::WrongLocation { .. }
        ));
        assert_eq!(
            check(&bytes, "trail-bucket/d1.json.gz", None, &keys),
            DigestCheck::NoSignature
        );
        assert_eq!(
            check(
                &bytes,
                "trail-bucket/d1.json.gz",
                Some(&sig),
                &PublicKeys::default()
            ),
            DigestCheck::UnknownKey("abc123".into())
        );
    }

    #[test]
    fn chain_links_are_checked_against_the_real_previous_digest() {
        let first = digest_json("d1.json.gz", None);
        let first_sig = signed("d1.json.gz", &first);
        let second = DigestFile::parse(&digest_json(
            "d2.json.gz",
            Some(("d1.json.gz", &first, &first_sig)),
        ))
        .unwrap();
        let mut tampered = first.clone();
        tampered[5] ^= 1;
        let other_sig = sign("something else");
        let mut have = BTreeMap::new();
        assert_eq!(
            check_link(&DigestFile::parse(&first).unwrap(), &have),
            Link::Start
        );
        assert_eq!(
            check_link(&second, &have),
            Link::Missing("trail-bucket/d1.json.gz".into())
        );
        have.insert("d1.json.gz".to_owned(), (&first[..], &first_sig[..]));
        assert_eq!(check_link(&second, &have), Link::Intact);
        have.insert("d1.json.gz".to_owned(), (&tampered[..], &first_sig[..]));
        assert_eq!(check_link(&second, &have), Link::HashMismatch);
        have.insert("d1.json.gz".to_owned(), (&first[..], &other_sig[..]));
        assert_eq!(check_link(&second, &have), Link::SignatureMismatch);
    }

    #[test]
    fn log_content_is_hashed_decompressed_and_must_be_one_gzip_stream() {
        use std::io::Write;
        let content = br#"{"Records":[]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(content).unwrap();
        let bytes = gz.finish().unwrap();
        let hash = hex::encode(Sha256::digest(content));
        assert_eq!(content_sha256(&bytes).unwrap(), hash);
        assert_eq!(content_sha256(content).unwrap(), hash, "a plain copy");
        let mut flipped = bytes.clone();
        flipped[12] ^= 1;
        assert!(content_sha256(&flipped).map_or(true, |h| h != hash));
        let mut appended = bytes.clone();
        appended.extend_from_slice(&bytes);
        assert!(content_sha256(&appended).is_err(), "a second gzip member");
    }

    #[test]
    fn digest_names_and_layout_keys() {
        let n = DigestName::parse("AWSLogs/o-x/111122223333/CloudTrail-Digest/eu-west-1/2024/03/05/111122223333_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20240305T140000Z.json.gz").unwrap();
        assert_eq!(
            (n.account.as_str(), n.region.as_str(), n.trail.as_str()),
            ("111122223333", "eu-west-1", "org_trail")
        );
        assert_eq!(
            (n.home_region.as_str(), n.end.as_str()),
            ("us-east-1", "20240305T140000Z")
        );
        assert!(!n.backfill);
        let b = DigestName::parse(
            "1_CloudTrail-Digest_us-east-1_t_us-east-1_20240305T140000Z_backfill.json.gz",
        )
        .unwrap();
        assert!(b.backfill && b.end == "20240305T140000Z");
        assert!(DigestName::parse("x.json.gz").is_none());
        assert_eq!(layout_key("s3://b/prefix/AWSLogs/1/x"), "AWSLogs/1/x");
        assert_eq!(layout_key("/copy/AWSLogs/1/x"), "AWSLogs/1/x");
        let found = FoundAt {
            bucket: None,
            key: "/copy/AWSLogs/1/x".into(),
        };
        assert!(found.is("any", "prefix/AWSLogs/1/x"));
        assert!(!found.is("any", "prefix/AWSLogs/1/y"));
    }
}
