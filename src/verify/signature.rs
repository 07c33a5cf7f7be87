//! Signatures: CloudTrail's public keys in every encoding AWS returns, and SHA256withRSA checks.
//!
//! Input: key bytes (DER PKCS#1 or SubjectPublicKeyInfo, raw or base64) and signatures in hex.
//! Output: keys by fingerprint and whether a signature holds. This module does not know what a
//! digest is; [`super`] builds the signed string.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

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
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

/// Base64 of a DER key, as `aws cloudtrail list-public-keys` prints it.
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
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

/// CloudTrail public keys by fingerprint, from the JSON `aws cloudtrail list-public-keys` prints
/// (or from ListPublicKeys itself, see [`keys`]).
#[derive(Debug, Default, Clone)]
pub struct PublicKeys {
    by_fingerprint: BTreeMap<String, Vec<u8>>,
    list: Vec<KeyEntry>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyList {
    public_key_list: Vec<KeyEntry>,
}

/// One key as `list-public-keys` prints it: the value base64, the times RFC 3339.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyEntry {
    /// The key, base64 of DER.
    pub value: String,
    /// Start of the key's validity.
    #[serde(default)]
    pub validity_start_time: Option<String>,
    /// End of the key's validity.
    #[serde(default)]
    pub validity_end_time: Option<String>,
    /// Its fingerprint, as digests name it.
    pub fingerprint: String,
}

impl PublicKeys {
    /// Parses `{"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}`.
    pub fn from_json(text: &str) -> Result<PublicKeys> {
        let list: KeyList = serde_json::from_str(text)
            .context("not the JSON of `aws cloudtrail list-public-keys` (PublicKeyList)")?;
        let mut keys = PublicKeys::default();
        for k in list.public_key_list {
            keys.add(k)?;
        }
        Ok(keys)
    }

    /// Adds one key (a fingerprint already present is kept once).
    pub fn add(&mut self, entry: KeyEntry) -> Result<()> {
        let der = pkcs1_public_key(entry.value.as_bytes())
            .with_context(|| format!("the public key {}", entry.fingerprint))?;
        let fp = entry.fingerprint.to_ascii_lowercase();
        if self.by_fingerprint.insert(fp, der).is_none() {
            self.list.push(entry);
        }
        Ok(())
    }

    /// The same JSON `aws cloudtrail list-public-keys` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&KeyList {
            public_key_list: self.list.clone(),
        })
        .unwrap_or_default()
    }

    /// The keys, as listed.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.list
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The DER PKCS#1 key with this fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&[u8]> {
        self.by_fingerprint
            .get(&fingerprint.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPKI: &[u8] = include_bytes!("../../tests/fixtures/digest-test-key.spki.der");

    fn b64(bytes: &[u8]) -> String {
        base64_encode(bytes)
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
}
