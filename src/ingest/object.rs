//! One object: its bytes fetched, then decoded, parsed and converted (the CPU-bound part of the
//! pipeline), with the hashes that the manifest and `verify` need.
//!
//! Input: an object of the listing. Output: a [`Fetched`]: its size, SHA-256, content hash, and
//! rows per partition with the records that could not be stored, or a verdict on the whole object.
//! This module does not write anything; [`super::run`] hands the result to the lake.

use std::collections::HashMap;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::records::{self, BadRecord, Content};
use super::{convert, decode};
use crate::lake::partition::PartBatch;
use crate::source::s3::S3Source;
use crate::source::{Location, ObjectRef};

/// What processing one object's bytes gave.
pub(super) enum Processed {
    Records {
        parts: Vec<PartBatch>,
        bad: Vec<BadRecord>,
        records: u64,
    },
    Digest,
    NotLog,
    /// Bytes that arrived whole and are bad: final, quarantined.
    Bad {
        bytes: Vec<u8>,
        reason: String,
    },
    /// A failure of this run, not of the object (cut off in transfer, out of memory): nothing is
    /// recorded, so the next run reads it again.
    Retry {
        reason: String,
    },
}

pub(super) struct Fetched {
    pub(super) size: u64,
    pub(super) sha256: String,
    pub(super) content_sha256: Option<String>,
    pub(super) result: Processed,
}

pub(super) async fn fetch(obj: &ObjectRef, s3: &HashMap<String, S3Source>) -> Result<Vec<u8>> {
    match &obj.location {
        Location::S3 { bucket, key } => {
            let client = s3.get(bucket).context("no S3 client for the bucket")?;
            client.fetch(bucket, key).await
        }
        Location::File(p) => tokio::fs::read(p)
            .await
            .with_context(|| format!("reading {}", p.display())),
        Location::Unreadable(reason) => anyhow::bail!("{reason}"),
        Location::Stdin => {
            let mut buf = Vec::new();
            tokio::io::stdin()
                .read_to_end(&mut buf)
                .await
                .context("reading standard input")?;
            Ok(buf)
        }
    }
}

/// Decodes, parses and converts one object: the CPU-bound part of the pipeline.
pub(super) fn process(obj: &ObjectRef, bytes: Vec<u8>, cap: u64) -> Fetched {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    let mut content_sha256 = None;
    // Fewer (or more) bytes than the listing said: the transfer, or a writer still at work, cut
    // the object; judging those bytes would condemn a good object for ever.
    if let Some(listed) = obj.size.filter(|n| *n != size) {
        return Fetched {
            size,
            sha256,
            content_sha256,
            result: Processed::Retry {
                reason: format!(
                    "{size} bytes arrived of the {listed} listed (cut off in transfer or still being written)"
                ),
            },
        };
    }
    let result = match decode_and_convert(obj, &bytes, cap, &mut content_sha256) {
        Ok(p) => p,
        Err(reason) if is_resource_failure(&reason) => Processed::Retry { reason },
        Err(reason) => Processed::Bad { bytes, reason },
    };
    Fetched {
        size,
        sha256,
        content_sha256,
        result,
    }
}

/// Whether a decode failure says the machine ran short (memory), not that the bytes are bad.
fn is_resource_failure(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("out of memory")
        || r.contains("insufficient memory")
        || r.contains("cannot allocate")
}

thread_local! {
    /// Each conversion thread gunzips into one buffer, reused object after object.
    static DECODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A reused buffer larger than this is given back after use, so one huge object does not pin
/// its memory for the rest of the run.
const KEEP_BUFFER: usize = 64 << 20;

fn decode_and_convert(
    obj: &ObjectRef,
    bytes: &[u8],
    cap: u64,
    content_sha256: &mut Option<String>,
) -> Result<Processed, String> {
    DECODED.with_borrow_mut(|buf| {
        let result = convert_decoded(obj, bytes, cap, buf, content_sha256);
        if buf.capacity() > KEEP_BUFFER {
            *buf = Vec::new();
        }
        result
    })
}

fn convert_decoded(
    obj: &ObjectRef,
    bytes: &[u8],
    cap: u64,
    buf: &mut Vec<u8>,
    content_sha256: &mut Option<String>,
) -> Result<Processed, String> {
    let text = decode::decode_into(bytes, cap, buf).map_err(|e| e.to_string())?;
    // What a digest's hashValue is: costs a pass over the decompressed bytes, and spares
    // verification a second read of every object.
    *content_sha256 = Some(hex::encode(Sha256::digest(text)));
    if !obj.expect_log && !looks_like_json(text) {
        return Ok(Processed::NotLog);
    }
    match records::parse(text).map_err(|e| e.to_string())? {
        Content::Digest => Ok(Processed::Digest),
        Content::Records(parsed) => {
            let converted = convert::convert(&parsed.records, &obj.uri, &obj.hints);
            let records = (parsed.records.len() + parsed.bad.len()) as u64;
            let mut bad = parsed.bad;
            bad.extend(converted.bad);
            Ok(Processed::Records {
                parts: converted.parts,
                bad,
                records,
            })
        }
    }
}

/// Whether text starts like a JSON object or array (after a BOM and whitespace).
fn looks_like_json(text: &[u8]) -> bool {
    let t = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
    matches!(
        t.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;

    fn object(size: Option<u64>) -> ObjectRef {
        ObjectRef::new(
            "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05/x.json".into(),
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05/x.json",
            Location::Stdin,
            size,
            None,
        )
    }

    #[test]
    fn cut_off_transfers_and_memory_shortage_are_retried_not_condemned() {
        let body = br#"{"Records":[]}"#.to_vec();
        let whole = process(&object(Some(body.len() as u64)), body.clone(), 1 << 20);
        assert!(matches!(whole.result, Processed::Records { .. }));
        let cut = process(
            &object(Some(body.len() as u64 + 100)),
            body.clone(),
            1 << 20,
        );
        assert!(matches!(cut.result, Processed::Retry { .. }));
        let gz_cut = process(&object(None), vec![0x1f, 0x8b, 8, 0, 0, 0], 1 << 20);
        assert!(
            matches!(gz_cut.result, Processed::Bad { .. }),
            "whole bytes that are bad are final"
        );
        assert!(is_resource_failure("corrupt gzip data: out of memory"));
        assert!(!is_resource_failure(
            "corrupt gzip data: invalid block type"
        ));
    }
}
