//! Verification, the gathering part: the digests and log files of a period, from S3, a local
//! copy, or the lake alone.
//!
//! Input: the source (or none, for offline use), the lake, the layout filters and the S3 options.
//! Output: [`Inputs`] for [`super::check::verify`] (public keys aside). Digests are read with their
//! signature (S3 metadata, or the `.metadata.json` sidecar of a local copy). A log file's content
//! hash comes from the lake's manifest when the same object version was ingested, so nothing is
//! read twice; otherwise the file is read and hashed, and only when some digest lists it (an
//! unlisted file is unverified whatever its bytes). This module does not judge.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use futures::StreamExt;

use super::judge::{FoundDigest, Inputs, LogObject};
use super::{DigestName, FoundAt, layout_key};
use crate::lake::digests::{self as store, DigestMeta};
use crate::lake::manifest::{self, Entry, Status as EntryStatus};
use crate::progress;
use crate::source::layout::{Filters, ObjectKind};
use crate::source::s3::{S3Options, S3Source};
use crate::source::{self, Location, ObjectRef, SourceSpec};

/// What to gather.
#[derive(Debug, Clone)]
pub struct Options {
    /// `s3://bucket/prefix` or a directory; `None` verifies the lake's kept digests and manifest.
    pub source: Option<String>,
    /// The lake, when there is one: its manifest gives hashes of ingested objects and names the
    /// log files that must be covered.
    pub lake: Option<PathBuf>,
    /// Days, accounts and regions.
    pub filters: Filters,
    /// S3 client options.
    pub s3: S3Options,
    /// The trail's bucket, when the source is a copy in another bucket.
    pub bucket: Option<String>,
    /// Objects read at once.
    pub concurrency: usize,
}

/// What gathering found, beyond the inputs.
pub struct Gathered {
    /// Digests and log files (keys still to be added).
    pub inputs: Inputs,
    /// Regions whose digests were found (their keys are needed).
    pub regions: BTreeSet<String>,
    /// Fingerprints of the keys the digests name.
    pub fingerprints: BTreeSet<String>,
    /// Earliest digest start and latest digest end, for asking for keys.
    pub span: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
    /// Objects read and bytes hashed, for the closing line.
    pub logs_read: usize,
    /// Bytes of log files read and hashed.
    pub bytes_read: u64,
}

/// Finds and reads the digests and log files.
pub async fn gather(opts: &Options) -> Result<Gathered> {
    let slack = chrono::Days::new(1);
    // Digests are listed a day further than log files: the digest of a file delivered late on
    // the last day arrives the next day.
    let mut digest_filters = opts.filters.clone();
    digest_filters.until = opts.filters.until.and_then(|d| d.checked_add_days(slack));

    let manifest = match &opts.lake {
        Some(l) => manifest::load_entries(l)?,
        None => Vec::new(),
    };
    let (client, objects) = match opts.source.as_deref().map(SourceSpec::parse).transpose()? {
        Some(SourceSpec::S3 { bucket, prefix }) => {
            let client = S3Source::connect(&opts.s3, &bucket).await?;
            let listing = progress::listing();
            let found = |n: u64| listing.set_position(n);
            let objects = client
                .list(&bucket, &prefix, &digest_filters, &found)
                .await?;
            listing.finish_and_clear();
            (Some(client), objects)
        }
        Some(SourceSpec::Stdin) => {
            bail!("verify reads digests from S3 or a directory, not from stdin")
        }
        Some(spec) => {
            let filters = digest_filters.clone();
            let objects = tokio::task::spawn_blocking(move || source::list_local(&spec, &filters))
                .await
                .context("the listing thread panicked")??;
            (None, objects)
        }
        None => {
            let Some(lake) = &opts.lake else {
                bail!("give a SOURCE (s3://bucket/prefix or a directory) or a --lake to verify");
            };
            let dir = store::digest_dir(lake);
            if !dir.is_dir() {
                bail!(
                    "the lake {} keeps no digests; give the trail as SOURCE (s3://bucket/AWSLogs/ or a local copy), or ingest with --keep-digests first",
                    lake.display()
                );
            }
            let filters = digest_filters.clone();
            let objects = tokio::task::spawn_blocking(move || {
                source::list_local(&SourceSpec::Path(dir), &filters)
            })
            .await
            .context("the listing thread panicked")??;
            (None, objects)
        }
    };

    if opts.source.is_none() && !objects.iter().any(|o| o.kind == ObjectKind::Digest) {
        bail!(
            "the lake keeps no digests for this period; give the trail as SOURCE (s3://bucket/AWSLogs/ or a local copy), or ingest with --keep-digests first"
        );
    }
    let (digest_refs, log_refs): (Vec<ObjectRef>, Vec<ObjectRef>) = objects
        .into_iter()
        .filter(|o| o.kind != ObjectKind::NotLog)
        .partition(|o| o.kind == ObjectKind::Digest);
    let log_refs: Vec<ObjectRef> = log_refs
        .into_iter()
        .filter(|o| {
            o.expect_log
                && opts.filters.admits(&source::layout::parse(&o.uri))
                && opts.source.is_some()
        })
        .collect();

    let digests = read_digests(&digest_refs, client.as_ref(), opts).await?;
    let mut regions = BTreeSet::new();
    let mut fingerprints = BTreeSet::new();
    let mut span: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> = None;
    let mut listed: HashSet<String> = HashSet::new();
    for d in &digests {
        if let Some(n) = DigestName::parse(&d.uri) {
            regions.insert(n.region);
        }
        let Ok((_, parsed)) = &d.content else {
            continue;
        };
        for lf in &parsed.log_files {
            listed.insert(layout_key(&lf.s3_object));
        }
        fingerprints.insert(parsed.digest_public_key_fingerprint.clone());
        let time = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.to_utc())
        };
        if let (Some(a), Some(b)) = (
            time(&parsed.digest_start_time),
            time(&parsed.digest_end_time),
        ) {
            span = Some(match span {
                Some((x, y)) => (x.min(a), y.max(b)),
                None => (a, b),
            });
        }
    }

    // Ingested objects of the period, by layout key.
    let mut ingested: HashMap<String, Vec<&Entry>> = HashMap::new();
    // Objects outside the key layout (a lone file, stdin) are kept: no digest can list them,
    // so they are reported unverified rather than left out.
    for e in manifest
        .iter()
        .filter(|e| opts.filters.admits(&source::layout::parse(&e.uri)))
    {
        ingested.entry(layout_key(&e.uri)).or_default().push(e);
    }

    let mut logs: Vec<LogObject> = Vec::new();
    let mut to_read: Vec<(usize, ObjectRef)> = Vec::new();
    let mut from_source: HashSet<String> = HashSet::new();
    for o in log_refs {
        let key = layout_key(&o.uri);
        from_source.insert(key.clone());
        let entries = ingested.get(&key).map(Vec::as_slice).unwrap_or_default();
        let mut log = LogObject {
            uri: o.uri.clone(),
            source_uris: entries.iter().map(|e| e.uri.clone()).collect(),
            content_sha256: None,
        };
        if listed.contains(&key) {
            // The manifest's hash stands for this object only if it is the same version.
            let same = entries
                .iter()
                .find(|e| e.uri == o.uri && e.etag == o.etag && Some(e.size) == o.size);
            match same.map(|e| entry_hash(e)) {
                Some(Some(h)) => log.content_sha256 = Some(h),
                _ => to_read.push((logs.len(), o)),
            }
        }
        logs.push(log);
    }
    // Ingested objects the source no longer holds (or all of them, offline).
    for (key, entries) in &ingested {
        if from_source.contains(key) {
            continue;
        }
        let Some(last) = entries.last() else { continue };
        // A row written before content hashes were recorded gives none: the file stays
        // unverified until it is read again from the trail.
        let hash = if listed.contains(key) {
            entry_hash(last)
        } else {
            None
        };
        logs.push(LogObject {
            uri: last.uri.clone(),
            source_uris: entries.iter().map(|e| e.uri.clone()).collect(),
            content_sha256: hash,
        });
    }

    let bytes_read = to_read.iter().filter_map(|(_, o)| o.size).sum();
    let logs_read = to_read.len();
    let bar = progress::reading(bytes_read);
    let mut hashed = futures::stream::iter(to_read.into_iter().map(|(i, o)| {
        let client = client.clone();
        async move {
            let bytes = match store::read_object(&o, client.as_ref()).await {
                Ok((b, _)) => b,
                Err(e) => return (i, o.size, Err(format!("{e:#}"))),
            };
            let hash = tokio::task::spawn_blocking(move || {
                super::content_sha256(&bytes).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the hashing thread failed: {e}")));
            (i, o.size, hash)
        }
    }))
    .buffer_unordered(opts.concurrency.max(1));
    while let Some((i, size, hash)) = hashed.next().await {
        bar.inc(size.unwrap_or(0));
        logs[i].content_sha256 = Some(hash);
    }
    bar.finish_and_clear();
    logs.sort_by(|a, b| a.uri.cmp(&b.uri));

    Ok(Gathered {
        inputs: Inputs {
            digests,
            logs,
            listed_from: opts.filters.since.and_then(|d| d.checked_sub_days(slack)),
            logs_until: opts.filters.until.and_then(|d| d.checked_add_days(slack)),
            ..Inputs::default()
        },
        regions,
        fingerprints,
        span,
        logs_read,
        bytes_read,
    })
}

/// The content hash a manifest row gives: the hash, or why the object was unreadable.
fn entry_hash(e: &Entry) -> Option<Result<String, String>> {
    match (&e.status, &e.content_sha256) {
        (_, Some(h)) => Some(Ok(h.clone())),
        (EntryStatus::Quarantined, None) => Some(Err(format!(
            "unreadable when ingested: {}",
            e.reason.as_deref().unwrap_or("quarantined")
        ))),
        _ => None,
    }
}

async fn read_digests(
    refs: &[ObjectRef],
    client: Option<&S3Source>,
    opts: &Options,
) -> Result<Vec<FoundDigest>> {
    let bar = progress::reading(refs.iter().filter_map(|o| o.size).sum());
    let bar = &bar;
    let reads = futures::stream::iter(refs.iter().map(|o| async move {
        // A digest that cannot be read is a verdict (unreadable), not the end of the run.
        let (bytes, meta) = match store::read_object(o, client).await {
            Ok(r) => r,
            Err(e) => {
                bar.inc(o.size.unwrap_or(0));
                let found_at = FoundAt {
                    bucket: None,
                    key: o.uri.clone(),
                };
                return Ok(FoundDigest::new(
                    o.uri.clone(),
                    found_at,
                    Err(format!("{e:#}")),
                    None,
                ));
            }
        };
        let found_at = match (&o.location, &meta) {
            (Location::S3 { bucket, key }, _) => FoundAt {
                bucket: Some(opts.bucket.clone().unwrap_or_else(|| bucket.clone())),
                key: key.clone(),
            },
            (
                _,
                Some(DigestMeta {
                    bucket: b,
                    key: Some(k),
                    ..
                }),
            ) => FoundAt {
                bucket: b.clone(),
                key: k.clone(),
            },
            (_, _) => FoundAt {
                bucket: None,
                key: o.uri.clone(),
            },
        };
        let content = crate::ingest::decode::decode(&bytes, 64 << 20)
            .map(|c| c.into_owned())
            .map_err(|e| e.to_string());
        bar.inc(o.size.unwrap_or(0));
        Ok::<_, anyhow::Error>(FoundDigest::new(
            o.uri.clone(),
            found_at,
            content,
            meta.and_then(|m| m.signature),
        ))
    }))
    .buffered(opts.concurrency.max(1));
    let read: Vec<Result<FoundDigest>> = reads.collect().await;
    bar.finish_and_clear();
    read.into_iter().collect()
}
