//! Ingest wing: the pipeline from raw object to committed lake run.
//!
//! - [`decode`]: gzip (one stream, size-capped) or plain bytes to JSON text;
//! - [`records`]: the records inside (`{"Records":[…]}`, JSON lines, lookup-events output);
//! - [`jsontext`]: reading and minifying JSON text without re-serialising it;
//! - [`convert`] and [`columns`]: records to Arrow rows per lake partition, and the column builders;
//! - [`restore`]: stored rows back to CloudTrail JSON (the losslessness proof);
//! - [`report`]: the run's ledger as the text a responder reads;
//! - [`cache`]: the cache lake that commands given a raw SOURCE build first;
//! - this module: [`run`], which drives them.
//!
//! Input: the sources, the lake, filters and tuning. Output: one committed run (Parquet files,
//! manifest rows, quarantine) and its [`Report`]. Objects are fetched with bounded concurrency,
//! decoded and converted on blocking threads (one per core by default), and handed to the lake
//! writer in listing order, so the result is the same with one worker or many.
//!
//! A bad object or record never stops the run: it is quarantined, counted and reported. A failure
//! to write the lake (disk full, permissions) stops the run and leaves the lake as it was.
//! This module does not print; [`report`] renders what it returns.

pub mod cache;
pub mod columns;
pub mod convert;
pub mod decode;
pub mod jsontext;
pub mod object;
pub mod records;
pub mod report;
pub mod restore;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::lake::Lake;
use crate::lake::ledger::Ledger;
use crate::lake::manifest::{self, Entry, Run, Status};
use crate::lake::quarantine::Quarantine;
use crate::lake::writer::{Writer, WriterConfig};
use crate::progress::{self, inert};
use crate::source::layout::{Filters, ObjectKind};
use crate::source::s3::{S3Options, S3Source};
use crate::source::{self, Location, ObjectRef, SourceSpec};
use object::{Processed, fetch, process};
use records::BadRecord;

/// Default cap on an object's decompressed size: 1 GiB.
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 1 << 30;

/// Objects fetched at once by default. Measured against an S3 server answering each request
/// 50 ms late (benches/README.md): 16 in flight reach 47% of the speed from local disk, 32 68%,
/// 64 79%, 128 no more; on two cores the conversion is then the limit.
pub const FETCH_CONCURRENCY: usize = 64;

/// Converted objects per conversion thread that may wait for the writer. The writer pauses now
/// and then for files being written; with 4 waiting per thread the conversion threads stopped
/// within milliseconds and a core idled (9.1 s for the realistic 1M-event corpus), with 32
/// they keep on (8.6 s). An object of CloudTrail's size converts to a few hundred KiB of rows.
const CONVERTED_AHEAD: usize = 32;

/// KiB of converted rows that may wait for the writer, whatever the objects' sizes: large
/// objects (a lookup-events export) wait fewer at a time. One object larger than this still
/// passes, alone.
const CONVERTED_AHEAD_KIB: u32 = 32 << 10;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sources as given: `s3://bucket/prefix`, paths, `-`.
    pub sources: Vec<String>,
    /// The lake directory.
    pub lake: PathBuf,
    /// Key-layout filters.
    pub filters: Filters,
    /// S3 client options.
    pub s3: S3Options,
    /// Conversion workers (CPU threads).
    pub jobs: usize,
    /// Objects being downloaded at once.
    pub fetch_concurrency: usize,
    /// Cap on an object's decompressed size, in bytes.
    pub max_object_size: u64,
    /// Lake writer tuning.
    pub writer: WriterConfig,
    /// Keep digest files and their signatures beside the lake, for offline verification.
    pub keep_digests: bool,
    /// Compact the partitions the run wrote to, past the threshold of `maintain::Policy`.
    pub compact: bool,
}

impl Options {
    /// Options with defaults for everything but the sources and the lake.
    pub fn new(sources: Vec<String>, lake: PathBuf) -> Options {
        Options {
            sources,
            lake,
            filters: Filters::default(),
            s3: S3Options::default(),
            jobs: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            fetch_concurrency: FETCH_CONCURRENCY,
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            writer: WriterConfig::default(),
            keep_digests: false,
            compact: true,
        }
    }
}

/// An object that could not be ingested, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The object.
    pub uri: String,
    /// What went wrong and what to do.
    pub reason: String,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run's id (also the name of its manifest file).
    pub run_id: String,
    /// Every object and record accounted for.
    pub ledger: Ledger,
    /// Objects that failed (not fetched, or quarantined whole).
    pub failures: Vec<Failure>,
    /// Parquet files written.
    pub files_written: usize,
    /// The table version after the run: its commit, or the automatic compaction that followed.
    pub version: u64,
    /// What the lake holds after the run, per account and region.
    pub lake: Vec<crate::lake::summary::Slice>,
    /// Digest files kept beside the lake by this run (`--keep-digests`).
    pub digests_kept: usize,
}

/// Runs one ingest.
pub async fn run(opts: &Options) -> Result<Report> {
    let specs: Vec<SourceSpec> = opts
        .sources
        .iter()
        .map(|s| SourceSpec::parse(s))
        .collect::<Result<_>>()?;
    if specs.is_empty() {
        bail!(
            "no source given; name a directory of CloudTrail logs, a file, s3://bucket/prefix, or -"
        );
    }
    if specs.iter().filter(|s| **s == SourceSpec::Stdin).count() > 1 {
        bail!("- (stdin) can be given only once");
    }
    let location = crate::lake::Location::resolve(&opts.lake, &opts.s3).await?;
    if opts.keep_digests && matches!(location, crate::lake::Location::S3(_)) {
        bail!(
            "--keep-digests keeps digest files beside a lake on disk; a lake in S3 cannot hold them yet"
        );
    }
    let mut lake = Lake::open_at(&location).await?;
    let seen = manifest::load_seen(lake.root())?;

    let mut s3: HashMap<String, S3Source> = HashMap::new();
    let listing = progress::listing();
    let mut objects = Vec::new();
    for spec in &specs {
        match spec {
            SourceSpec::S3 { bucket, prefix } => {
                if !s3.contains_key(bucket) {
                    s3.insert(bucket.clone(), S3Source::connect(&opts.s3, bucket).await?);
                }
                let base = objects.len() as u64;
                let found = |n: u64| listing.set_position(base + n);
                let listed = s3[bucket]
                    .list(bucket, prefix, &opts.filters, &found)
                    .await?;
                if listed.is_empty() {
                    log::warn!(
                        "no objects under s3://{bucket}/{prefix} match; check the prefix (CloudTrail writes under AWSLogs/) and the filters"
                    );
                }
                objects.extend(listed);
            }
            local => {
                let filters = opts.filters.clone();
                let spec = local.clone();
                let listed =
                    tokio::task::spawn_blocking(move || source::list_local(&spec, &filters))
                        .await
                        .context("the listing thread panicked")??;
                if listed.is_empty() {
                    log::warn!("no files found in {}", describe(local));
                }
                objects.extend(listed);
            }
        }
        listing.set_position(objects.len() as u64);
    }
    listing.finish_and_clear();

    let mut ledger = Ledger {
        objects_listed: objects.len() as u64,
        ..Ledger::default()
    };
    let mut to_read = Vec::new();
    let mut queued = HashSet::new();
    let mut digests = Vec::new();
    for obj in objects {
        if obj.kind == ObjectKind::Digest && opts.keep_digests {
            digests.push(obj.clone());
        }
        if obj.kind != ObjectKind::Log {
            log::debug!("skipping {} (not a log file)", obj.uri);
            ledger.objects_not_logs += 1;
        } else if obj.location != Location::Stdin
            && seen.contains(&(obj.uri.clone(), obj.etag.clone(), obj.size.unwrap_or(0)))
        {
            ledger.objects_unchanged += 1;
        } else if !queued.insert(obj.uri.clone()) {
            // The same object named by two overlapping sources.
            ledger.objects_unchanged += 1;
        } else {
            to_read.push(obj);
        }
    }

    let run_id = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let started_at = now();
    let had_files: std::collections::BTreeSet<_> = crate::lake::delta::files(lake.table())?
        .into_iter()
        .map(|f| f.partition)
        .collect();
    let txn = lake.begin(&run_id)?;
    let s3 = Arc::new(s3);
    let result = convert_and_write(opts, &lake, &txn, &run_id, to_read, &s3, &mut ledger).await;
    let (entries, failures, files) = match result {
        Ok(r) => r,
        Err(e) => {
            txn.abort();
            return Err(e.context(format!(
                "the ingest stopped; the lake {} is unchanged",
                opts.lake.display()
            )));
        }
    };
    if let Err(msg) = ledger.check() {
        txn.abort();
        bail!("internal error, nothing was committed: {msg}");
    }
    let digests_kept = match keep_digests(opts, &digests, &s3).await {
        Ok(n) => n,
        Err(e) => {
            txn.abort();
            return Err(e.context("keeping digest files beside the lake; nothing was committed"));
        }
    };
    let run = Run {
        run_id: run_id.clone(),
        started_at,
        finished_at: now(),
        sources: opts.sources.clone(),
        ledger: ledger.clone(),
    };
    let files_written = files.len();
    let ledger_json = serde_json::to_value(&ledger).context("recording the run's ledger")?;
    if let Err(e) = manifest::stage(&txn, &run, &entries) {
        txn.abort();
        return Err(e.context(format!(
            "staging the run's manifest in {}; nothing was committed",
            opts.lake.display()
        )));
    }
    crate::lake::failpoint("staged");
    let version = match txn.commit(lake.table(), &files, ledger_json).await {
        Ok(v) => v,
        Err(e) => {
            return Err(e.context(format!(
                "committing the run to {}; run the same ingest again to complete it",
                opts.lake.display()
            )));
        }
    };
    // Automatic compaction of the partitions this run added files to that held files before it,
    // past the documented threshold (`maintain::Policy`): the small files of frequent runs. The
    // files one large run writes are as large as its memory allows, and rewriting them would
    // only slow the run down (`lake optimize` merges them on request). The run is committed
    // already: a failure here is only a warning.
    let touched: std::collections::BTreeSet<_> = files
        .iter()
        .filter_map(|f| {
            f.relative
                .split_once('/')
                .and_then(|(_, rel)| crate::lake::delta::partition_of(rel))
        })
        .filter(|k| had_files.contains(k))
        .collect();
    lake.reload().await?;
    let mut version = version;
    if opts.compact && !touched.is_empty() {
        let policy = crate::lake::maintain::Policy::default();
        match crate::lake::maintain::compact(&mut lake, policy, &|k| touched.contains(k)).await {
            Ok(c) => {
                if let Some(v) = c.version {
                    log::info!(
                        "compacted {} partitions ({} small files into {}); version {v}",
                        c.partitions,
                        c.files_removed,
                        c.files_added
                    );
                    version = v;
                }
            }
            Err(e) => log::warn!(
                "the run is committed, but compacting its partitions failed: {e:#}; \
                 `trailscope lake optimize` tries again"
            ),
        }
    }
    let slices = crate::lake::summary::summarize(&crate::lake::delta::files(lake.table())?);
    Ok(Report {
        run_id,
        ledger,
        failures,
        files_written,
        version,
        lake: slices,
        digests_kept,
    })
}

/// Saves digest files with their signature metadata under the lake's digest store, skipping
/// those kept by an earlier run.
async fn keep_digests(
    opts: &Options,
    digests: &[ObjectRef],
    s3: &HashMap<String, S3Source>,
) -> Result<usize> {
    use crate::lake::digests as store;
    let mut kept = 0;
    let fresh = digests.iter().filter(|o| match &o.location {
        // An S3 digest is kept under its bucket and key: kept before means nothing to read.
        Location::S3 { bucket, key } => {
            let path = store::digest_dir(&opts.lake).join(bucket).join(key);
            !(path.exists() && store::sidecar(&path).exists())
        }
        _ => true,
    });
    let mut reads = futures::stream::iter(fresh.map(|o| async move {
        let client = match &o.location {
            Location::S3 { bucket, .. } => s3.get(bucket),
            _ => None,
        };
        (o, store::read_object(o, client).await)
    }))
    .buffered(opts.fetch_concurrency.max(1));
    while let Some((o, read)) = reads.next().await {
        let (bytes, meta) = read.with_context(|| format!("reading the digest {}", o.uri))?;
        let mut meta = meta.unwrap_or_default();
        if meta.key.is_none() {
            meta.key = Some(o.uri.clone());
        }
        meta.source_uri.get_or_insert_with(|| o.uri.clone());
        if store::keep_digest(&opts.lake, &meta, &bytes)? {
            kept += 1;
        }
    }
    Ok(kept)
}

type Converted = (
    Vec<Entry>,
    Vec<Failure>,
    Vec<crate::lake::writer::WrittenFile>,
);

async fn convert_and_write(
    opts: &Options,
    lake: &Lake,
    txn: &crate::lake::Txn,
    run_id: &str,
    to_read: Vec<ObjectRef>,
    s3: &Arc<HashMap<String, S3Source>>,
    ledger: &mut Ledger,
) -> Result<Converted> {
    let total_bytes: u64 = to_read.iter().filter_map(|o| o.size).sum();
    let total_objects = to_read.len();
    let bar = progress::reading(total_bytes);
    let mut writer = Writer::new(txn, lake.files_by_partition()?, opts.writer.clone());
    let mut quarantine = Quarantine::new(txn, run_id);
    let mut entries = Vec::new();
    let mut failures = Vec::new();
    let cpu = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let cap = opts.max_object_size;

    // Fetching and converting run in their own task, ahead of the writer, so that a writer
    // waiting for a file to be written does not stall them; the channel bounds how far ahead.
    // Many fetches are in flight (S3 is latency-bound) but only a few objects are converted
    // ahead: a fetched object is its compressed bytes, a converted one ten times more.
    let jobs = opts.jobs.max(1);
    // Local files are read on blocking threads, a few at a time: many reads at once buy nothing
    // from a disk and cost memory (measured on a million events: 64 at a time peaked at 0.9-1.2
    // GiB, 16 at 0.75; dozens of threads, each with its own allocator heap, touch memory).
    let remote = to_read
        .iter()
        .any(|o| matches!(o.location, Location::S3 { .. }));
    let fetch_concurrency = if remote {
        opts.fetch_concurrency.max(1)
    } else {
        opts.fetch_concurrency.clamp(1, jobs * 2)
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(jobs * CONVERTED_AHEAD);
    let ahead = Arc::new(Semaphore::new(CONVERTED_AHEAD_KIB as usize));
    let s3 = s3.clone();
    let producer = tokio::spawn(async move {
        let fetched = futures::stream::iter(to_read.into_iter().map(|obj| {
            let s3 = s3.clone();
            async move {
                let bytes = fetch(&obj, &s3).await;
                (obj, bytes)
            }
        }))
        .buffered(fetch_concurrency);
        let mut results = fetched
            .map(|(obj, bytes)| {
                let cpu = cpu.clone();
                async move {
                    let bytes = match bytes {
                        Ok(b) => b,
                        Err(e) => return (obj, Err(e)),
                    };
                    let Ok(_permit) = cpu.acquire_owned().await else {
                        return (obj, Err(anyhow::anyhow!("the worker pool closed")));
                    };
                    let o = obj.clone();
                    let processed = tokio::task::spawn_blocking(move || process(&o, bytes, cap))
                        .await
                        .context("a conversion thread panicked");
                    (obj, processed)
                }
            })
            .buffered(jobs * 2);
        while let Some((obj, outcome)) = results.next().await {
            let kib = outcome.as_ref().map_or(1, converted_kib);
            let Ok(room) = ahead.clone().acquire_many_owned(kib).await else {
                break;
            };
            if tx.send((obj, outcome, room)).await.is_err() {
                break; // the writer stopped on an error
            }
        }
    });

    let mut done = 0usize;
    let (mut waited, started) = (std::time::Duration::ZERO, std::time::Instant::now());
    loop {
        let t = std::time::Instant::now();
        // `_room` gives the object's share of CONVERTED_AHEAD_KIB back when it is handled.
        let Some((obj, outcome, _room)) = rx.recv().await else {
            break;
        };
        waited += t.elapsed();
        done += 1;
        let fetched = match outcome {
            Ok(f) => f,
            Err(e) => {
                let reason = format!("{e:#}");
                log::error!("{}: {reason}; the next run tries again", inert(&obj.uri));
                bar.inc(obj.size.unwrap_or(0));
                ledger.objects_retry += 1;
                failures.push(Failure {
                    uri: obj.uri.clone(),
                    reason,
                });
                continue;
            }
        };
        ledger.bytes_read += fetched.size;
        bar.inc(obj.size.unwrap_or(fetched.size));
        let mut entry = Entry {
            uri: obj.uri.clone(),
            etag: obj.etag.clone(),
            size: fetched.size,
            sha256: fetched.sha256.clone(),
            content_sha256: fetched.content_sha256.clone(),
            status: Status::Ingested,
            reason: None,
            records_read: 0,
            rows_written: 0,
            duplicates: 0,
            conflicts: 0,
            quarantined: 0,
            run_id: run_id.to_owned(),
            ingested_at: now(),
        };
        match fetched.result {
            Processed::Digest | Processed::NotLog => {
                log::info!("skipping {} (not a CloudTrail log)", inert(&obj.uri));
                ledger.objects_not_logs += 1;
                continue;
            }
            Processed::Retry { reason } => {
                log::error!("{}: {reason}; the next run tries again", inert(&obj.uri));
                ledger.objects_retry += 1;
                failures.push(Failure {
                    uri: obj.uri.clone(),
                    reason,
                });
                continue;
            }
            Processed::Bad { bytes, reason } => {
                log::error!(
                    "{}: {reason}; the object is kept in the lake's quarantine",
                    inert(&obj.uri)
                );
                quarantine.object(&obj.uri, &bytes, &fetched.sha256, &reason)?;
                ledger.objects_failed += 1;
                failures.push(Failure {
                    uri: obj.uri.clone(),
                    reason: reason.clone(),
                });
                entry.status = Status::Quarantined;
                entry.reason = Some(reason);
            }
            Processed::Records {
                parts,
                bad,
                records,
            } => {
                ledger.objects_read += 1;
                entry.records_read = records;
                if records == 0 {
                    log::warn!("{}: holds no records", inert(&obj.uri));
                }
                for part in parts {
                    let added = writer.add(part).await?;
                    entry.rows_written += added.kept;
                    entry.duplicates += added.duplicates;
                    if let Some(c) = added.conflicts {
                        entry.conflicts += quarantine_conflicts(&mut quarantine, &obj.uri, &c)?;
                    }
                }
                for b in &bad {
                    quarantine.record(&obj.uri, b)?;
                }
                if !bad.is_empty() {
                    log::warn!(
                        "{}: {} record(s) quarantined ({})",
                        inert(&obj.uri),
                        bad.len(),
                        reasons(&bad)
                    );
                }
                entry.quarantined = bad.len() as u64;
            }
        }
        ledger.records_read += entry.records_read;
        ledger.rows_written += entry.rows_written;
        ledger.duplicates += entry.duplicates;
        ledger.conflicts += entry.conflicts;
        ledger.quarantined += entry.quarantined;
        entries.push(entry);
        bar.set_message(format!(
            "{done}/{total_objects} objects, {} records",
            ledger.records_read
        ));
    }
    bar.finish_and_clear();
    producer.await.context("the fetch task panicked")?;
    log::debug!(
        "reading and converting took {:.2}s, {:.2}s of it waiting for converted objects",
        started.elapsed().as_secs_f64(),
        waited.as_secs_f64()
    );
    let files = writer.finish().await?;
    quarantine.finish()?;
    Ok((entries, failures, files))
}

/// KiB of rows an object converted to, for [`CONVERTED_AHEAD_KIB`]: at least 1, at most all of
/// it, so that any one object can pass.
fn converted_kib(f: &object::Fetched) -> u32 {
    let bytes: usize = match &f.result {
        Processed::Records { parts, .. } => {
            parts.iter().map(|p| p.batch.get_array_memory_size()).sum()
        }
        _ => 0,
    };
    u32::try_from(bytes >> 10)
        .unwrap_or(u32::MAX)
        .clamp(1, CONVERTED_AHEAD_KIB)
}

/// Quarantines rows whose eventID is stored with other content, each as its record's JSON
/// with both versions' hashes, and names them on stderr. Returns how many there were.
fn quarantine_conflicts(
    quarantine: &mut Quarantine<'_>,
    uri: &str,
    conflicts: &crate::lake::writer::Conflicts,
) -> Result<u64> {
    let records = restore::records(&conflicts.rows).context("restoring conflicting records")?;
    for (record, (kept, this)) in records.iter().zip(&conflicts.hashes) {
        let event_id = record["eventID"].as_str().unwrap_or("?").to_owned();
        let reason = records::Reason::Conflict {
            event_id,
            kept: format!("{kept:032x}"),
            this: format!("{this:032x}"),
        };
        log::error!("{}: {reason}", inert(uri));
        quarantine.record(
            uri,
            &BadRecord {
                raw: record.to_string(),
                reason,
            },
        )?;
    }
    Ok(records.len() as u64)
}

/// The distinct reasons of bad records with their counts, for one log line.
fn reasons(bad: &[BadRecord]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for b in bad {
        let key = b.reason.kind();
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} × {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        SourceSpec::Path(p) => p.display().to_string(),
        SourceSpec::Stdin => "stdin".into(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
