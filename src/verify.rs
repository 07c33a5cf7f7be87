//! Evidence-integrity step (core): CloudTrail digest files, their signatures, their chain, and the
//! log files they list.
//!
//! Input: digest files (decompressed JSON bytes, where each was found, its `x-amz-meta-signature`),
//! CloudTrail public keys, and log files' bytes. Output: for each digest whether its signature is
//! valid, whether it links to the real previous digest, and for each listed log file whether its
//! bytes hash to the listed value. CloudTrail signs, with SHA256withRSA (PKCS#1 v1.5), the string
//! `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(digest bytes)) \n
//! previousDigestSignature` (a JSON null written `null`).
//!
//! This module does not fetch anything or print; the `verify` command (to come) lists and fetches
//! digests and log files over S3 or a local copy and reports.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
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

/// Decodes a public key in any encoding AWS returns (DER PKCS#1 RSAPublicKey or
/// SubjectPublicKeyInfo, raw or base64) to DER PKCS#1, which the verifier takes.
pub fn pkcs1_public_key(value: &[u8]) -> Result<Vec<u8>> {
    let der = if value.first() == Some(&0x30) {
        value.to_vec()
    } else {
        let text: Vec<u8> = value
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        base64_decode(&text).context("the public key is neither DER nor base64")?
    };
    // SEQUENCE { SEQUENCE { algorithm… }, BIT STRING } is SubjectPublicKeyInfo; SEQUENCE {
    // INTEGER, INTEGER } is already PKCS#1.
    let (tag, body, _) = der_element(&der).context("the public key is not DER")?;
    if tag != 0x30 {
        bail!("the public key is not a DER SEQUENCE");
    }
    let (first, _, rest) = der_element(body).context("the public key is not DER")?;
    match first {
        0x02 => Ok(der),
        0x30 => {
            let (bits, key, _) = der_element(rest).context("no BIT STRING in the public key")?;
            if bits != 0x03 || key.first() != Some(&0) {
                bail!("unexpected SubjectPublicKeyInfo layout");
            }
            Ok(key[1..].to_vec())
        }
        other => bail!("unexpected DER tag {other:#x} in the public key"),
    }
}

/// One DER element: (tag, contents, the bytes after it).
fn der_element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let len = der
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, 2 + n)
    };
    let body = der.get(header..header + len)?;
    Some((tag, body, &der[header + len..]))
}

fn base64_decode(text: &[u8]) -> Result<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text.iter().take_while(|c| **c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or_else(|| anyhow!("{:?} is not a base64 character", c as char))?
            as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Whether `signature_hex` is a valid SHA256withRSA (PKCS#1 v1.5) signature of `message` by the
/// DER PKCS#1 `public_key`.
pub fn signature_valid(public_key: &[u8], message: &[u8], signature_hex: &str) -> Result<bool> {
    let signature = hex::decode(signature_hex.trim()).context("the signature is not hex")?;
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    );
    Ok(key.verify(message, &signature).is_ok())
}

/// CloudTrail public keys by fingerprint, from the JSON `aws cloudtrail list-public-keys` prints.
#[derive(Debug, Default, Clone)]
pub struct PublicKeys(BTreeMap<String, Vec<u8>>);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyList {
    public_key_list: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyEntry {
    value: String,
    fingerprint: String,
}

impl PublicKeys {
    /// Parses `{"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}`.
    pub fn from_json(text: &str) -> Result<PublicKeys> {
        let list: KeyList = serde_json::from_str(text)
            .context("not the JSON of `aws cloudtrail list-public-keys` (PublicKeyList)")?;
        let mut keys = BTreeMap::new();
        for k in list.public_key_list {
            let der = pkcs1_public_key(k.value.as_bytes())
                .with_context(|| format!("the public key {}", k.fingerprint))?;
            keys.insert(k.fingerprint.to_ascii_lowercase(), der);
        }
        Ok(PublicKeys(keys))
    }

    /// The DER PKCS#1 key with this fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&[u8]> {
        self.0
            .get(&fingerprint.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
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

/// Checks one digest: where it was found, its signature and key. `found_at` is `bucket/key` of
/// the object (for a local copy, where it came from).
pub fn check_digest(
    digest: &DigestFile,
    bytes: &[u8],
    found_at: &str,
    signature_hex: Option<&str>,
    keys: &PublicKeys,
) -> Result<DigestCheck> {
    let claims = format!("{}/{}", digest.digest_s3_bucket, digest.digest_s3_object);
    if claims != found_at {
        return Ok(DigestCheck::WrongLocation {
            found: found_at.to_owned(),
            claims,
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

/// Checks `digest`'s link to its predecessor; `previous` holds, by `bucket/key`, the
/// decompressed bytes and signature of every digest available.
pub fn check_link(digest: &DigestFile, previous: &BTreeMap<String, (Vec<u8>, String)>) -> Link {
    let (Some(bucket), Some(object)) = (
        &digest.previous_digest_s3_bucket,
        &digest.previous_digest_s3_object,
    ) else {
        return Link::Start;
    };
    let at = format!("{bucket}/{object}");
    let Some((bytes, signature)) = previous.get(&at) else {
        return Link::Missing(at);
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

/// Whether a log file's bytes are what the digest lists: the SHA-256 of the bytes as delivered
/// matches, and the bytes are exactly one gzip stream (data appended after it makes the file
/// invalid even if a hash were forged to match).
pub fn log_file_valid(bytes: &[u8], hash_value: &str) -> bool {
    hex::encode(Sha256::digest(bytes)).eq_ignore_ascii_case(hash_value.trim())
        && crate::decode::decode(bytes, u64::MAX).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    const PRIVATE: &[u8] = include_bytes!("../tests/fixtures/digest-test-key.rsa.der");
    const SPKI: &[u8] = include_bytes!("../tests/fixtures/digest-test-key.spki.der");

    fn sign(message: &str) -> String {
        let pair = RsaKeyPair::from_der(PRIVATE).unwrap();
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message.as_bytes(),
            &mut sig,
        )
        .unwrap();
        hex::encode(sig)
    }

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |a, (i, b)| a | (*b as u32) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
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
    fn keys_decode_from_every_encoding_aws_uses() {
        let pkcs1 = pkcs1_public_key(SPKI).unwrap();
        assert_eq!(
            pkcs1_public_key(&pkcs1).unwrap(),
            pkcs1,
            "PKCS#1 passes through"
        );
        assert_eq!(
            pkcs1_public_key(b64(SPKI).as_bytes()).unwrap(),
            pkcs1,
            "base64 SPKI"
        );
        assert_eq!(
            pkcs1_public_key(b64(&pkcs1).as_bytes()).unwrap(),
            pkcs1,
            "base64 PKCS#1"
        );
        assert!(pkcs1_public_key(b"not a key!").is_err());
    }

    #[test]
    fn signatures_locations_and_keys_are_checked() {
        let keys = keys();
        let bytes = digest_json("d1.json.gz", None);
        let d = DigestFile::parse(&bytes).unwrap();
        let sig = signed("d1.json.gz", &bytes);
        let check = |b: &[u8], at: &str, s: Option<&str>, k: &PublicKeys| {
            check_digest(&d, b, at, s, k).unwrap()
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
        let mut have = BTreeMap::new();
        assert_eq!(
            check_link(&DigestFile::parse(&first).unwrap(), &have),
            Link::Start
        );
        assert_eq!(
            check_link(&second, &have),
            Link::Missing("trail-bucket/d1.json.gz".into())
        );
        have.insert(
            "trail-bucket/d1.json.gz".to_owned(),
            (first.clone(), first_sig.clone()),
        );
        assert_eq!(check_link(&second, &have), Link::Intact);
        let mut tampered = first.clone();
        tampered[5] ^= 1;
        have.insert(
            "trail-bucket/d1.json.gz".to_owned(),
            (tampered, first_sig.clone()),
        );
        assert_eq!(check_link(&second, &have), Link::HashMismatch);
        have.insert(
            "trail-bucket/d1.json.gz".to_owned(),
            (first, sign("something else")),
        );
        assert_eq!(check_link(&second, &have), Link::SignatureMismatch);
    }

    #[test]
    fn log_files_must_hash_and_be_one_gzip_stream() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"Records":[]}"#).unwrap();
        let bytes = gz.finish().unwrap();
        let hash = hex::encode(Sha256::digest(&bytes));
        assert!(log_file_valid(&bytes, &hash));
        assert!(log_file_valid(&bytes, &hash.to_uppercase()));
        let mut flipped = bytes.clone();
        flipped[12] ^= 1;
        assert!(!log_file_valid(&flipped, &hash));
        let mut appended = bytes.clone();
        appended.extend_from_slice(&bytes);
        assert!(
            !log_file_valid(&appended, &hex::encode(Sha256::digest(&appended))),
            "a second gzip member"
        );
    }
}
