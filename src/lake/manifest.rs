//! The manifest: one row per source object a run read, and each run's ledger.
//!
//! Input: the run's per-object outcomes. Output: `_trailscope/manifest/<run>.jsonl` and
//! `_trailscope/runs/<run>.json`, staged with the run's data and committed with it. Loading the
//! manifest tells the next run which objects it can skip: those seen with the same URI, ETag
//! (or local modification time) and size.
//!
//! JSON lines keep the manifest readable with `jq` and queryable by any engine. This module does
//! not decide what to skip; `ingest` does.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{META_DIR, Txn, list_dir, write_synced};
use crate::lake::ledger::Ledger;

/// Directory of the manifests, under the bookkeeping directory.
pub const MANIFEST_DIR: &str = "manifest";
/// Directory of the run ledgers, under the bookkeeping directory.
pub const RUNS_DIR: &str = "runs";

/// What happened to one source object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its records were read; see the counts.
    Ingested,
    /// The whole object was unreadable and is kept in quarantine.
    Quarantined,
}

/// One manifest row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `s3://bucket/key` or the file path.
    pub uri: String,
    /// The S3 ETag, or `mtime:<ns>` for a local file; absent for stdin.
    pub etag: Option<String>,
    /// Size in bytes as read.
    pub size: u64,
    /// SHA-256 of the bytes read, hex.
    pub sha256: String,
    /// SHA-256 of the decompressed content, hex: what a CloudTrail digest's `hashValue` is, so
    /// verification can prove an ingested object without reading it again. Absent for objects
    /// that could not be decoded, and in manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    /// Outcome.
    pub status: Status,
    /// Why the object was quarantined.
    pub reason: Option<String>,
    /// Records found.
    pub records_read: u64,
    /// Rows written to the lake.
    pub rows_written: u64,
    /// Records dropped as duplicates.
    pub duplicates: u64,
    /// Records with a stored eventID but other content, quarantined.
    #[serde(default)]
    pub conflicts: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// The run that read it.
    pub run_id: String,
    /// When it was read (RFC 3339, UTC).
    pub ingested_at: String,
}

/// One run's summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Run id (sortable by start time).
    pub run_id: String,
    /// Start time (RFC 3339, UTC).
    pub started_at: String,
    /// End time (RFC 3339, UTC).
    pub finished_at: String,
    /// The sources as given on the command line.
    pub sources: Vec<String>,
    /// The counts.
    pub ledger: Ledger,
}

/// The identity of an object version: seen before means unchanged.
pub type ObjectKey = (String, Option<String>, u64);

/// Loads the set of objects earlier runs read.
pub fn load_seen(root: &Path) -> Result<HashSet<ObjectKey>> {
    let dir = root.join(META_DIR).join(MANIFEST_DIR);
    let mut seen = HashSet::new();
    for path in list_dir(&dir)? {
        for e in read_entries(&path)? {
            seen.insert((e.uri, e.etag, e.size));
        }
    }
    Ok(seen)
}

/// Every row of every run, oldest run first.
pub fn load_entries(root: &Path) -> Result<Vec<Entry>> {
    let dir = root.join(META_DIR).join(MANIFEST_DIR);
    let mut out = Vec::new();
    for path in list_dir(&dir)? {
        out.extend(read_entries(&path)?);
    }
    Ok(out)
}

/// Reads the rows of one manifest file.
pub fn read_entries(path: &Path) -> Result<Vec<Entry>> {
    let f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: not a manifest row; was the file edited?",
                path.display(),
                n + 1
            )
        })?);
    }
    Ok(out)
}

/// Reads every run summary, oldest first.
pub fn read_runs(root: &Path) -> Result<Vec<Run>> {
    let dir = root.join(META_DIR).join(RUNS_DIR);
    list_dir(&dir)?
        .iter()
        .map(|p| {
            let text = fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a run summary", p.display()))
        })
        .collect()
}

/// Stages the run's manifest rows and summary for commit.
pub fn stage(txn: &Txn, run: &Run, entries: &[Entry]) -> Result<()> {
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).context("serialising a manifest row")?);
        text.push('\n');
    }
    let rel = format!("{META_DIR}/{MANIFEST_DIR}/{}.jsonl", run.run_id);
    write_synced(&txn.path(&rel)?, text.as_bytes())?;
    let rel = format!("{META_DIR}/{RUNS_DIR}/{}.json", run.run_id);
    let summary = serde_json::to_vec_pretty(run).context("serialising the run summary")?;
    write_synced(&txn.path(&rel)?, &summary)
}
