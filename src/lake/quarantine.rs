//! Quarantine: what could not go into the lake, kept with the reason, never silently dropped.
//!
//! Input: bad records (raw text and reason) and bad objects (bytes and reason). Output, staged with
//! the run: `_trailscope/quarantine/records/<run>.jsonl` (one JSON object per record with its
//! source, reason and raw text), `_trailscope/quarantine/objects/<run>.jsonl` (one row per bad
//! object) and the bad object's bytes under `_trailscope/quarantine/objects/<sha256>`.
//!
//! This module does not judge what is bad; the ingest steps (decode, records, convert) do, and
//! say why with a typed [`Reason`].

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Txn, write_synced};

/// Why a record was not stored. The text (`Display`) says it to a person; [`Reason::kind`] names
/// the class, for counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Not JSON at all (in JSON lines, the line number, counted from 1).
    NotJson {
        /// The line, for JSON-lines input.
        line: Option<usize>,
        /// The parser's message.
        detail: String,
    },
    /// A JSON value of another type (`a JSON array`, `a JSON string`, …) where a record was
    /// expected.
    NotAnObject {
        /// The JSON type found.
        kind: &'static str,
    },
    /// A lookup-events item whose `CloudTrailEvent` does not hold a record.
    BadLookupEvent {
        /// What is wrong with it.
        detail: String,
    },
    /// Nested deeper than other engines accept.
    TooDeep {
        /// Its depth.
        depth: usize,
        /// The most the lake accepts.
        max: usize,
    },
    /// No eventID.
    NoEventId,
    /// An eventID that is not a non-empty string.
    BadEventId {
        /// The value found, as JSON.
        value: String,
    },
    /// No eventTime.
    NoEventTime,
    /// An eventTime that is not an ISO-8601 time.
    BadEventTime {
        /// The value found, as JSON.
        value: String,
    },
    /// A key that appears twice in one object of the record: readers disagree on its value.
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A record-shaped object that is also a container (it holds `Records` or `Events` beside
    /// event fields): which of the two it is cannot be told, so neither reading is stored.
    Ambiguous {
        /// What makes it ambiguous.
        detail: String,
    },
    /// The eventID (and account) of a record already stored, with other content.
    Conflict {
        /// The eventID.
        event_id: String,
        /// Content hash of the record kept in the lake.
        kept: String,
        /// Content hash of this record.
        this: String,
    },
}

impl Reason {
    /// The class of the reason, the same for every record it applies to.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NotJson { .. } => "not valid JSON",
            Reason::NotAnObject { .. } => "not a record object",
            Reason::BadLookupEvent { .. } => "unreadable CloudTrailEvent",
            Reason::TooDeep { .. } => "nesting too deep",
            Reason::NoEventId => "no eventID",
            Reason::BadEventId { .. } => "eventID is not a non-empty string",
            Reason::NoEventTime => "no eventTime",
            Reason::BadEventTime { .. } => "eventTime is not an ISO-8601 time",
            Reason::Conflict { .. } => "conflicting record",
            Reason::DuplicateKey { .. } => "duplicate key",
            Reason::Ambiguous { .. } => "ambiguous object",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::NotJson {
                line: Some(n),
                detail,
            } => write!(f, "line {n}: not valid JSON: {detail}"),
            Reason::NotJson { line: None, detail } => write!(f, "not valid JSON: {detail}"),
            Reason::NotAnObject { kind } => {
                write!(f, "a JSON {kind} where a record object was expected")
            }
            Reason::BadLookupEvent { detail } => f.write_str(detail),
            Reason::TooDeep { depth, max } => write!(
                f,
                "nesting too deep ({depth} levels; the lake accepts at most {max})"
            ),
            Reason::BadEventId { value } | Reason::BadEventTime { value } => {
                write!(f, "{}: {value}", self.kind())
            }
            Reason::NoEventId | Reason::NoEventTime => f.write_str(self.kind()),
            Reason::DuplicateKey { key } => write!(
                f,
                "duplicate key {key:?}: readers disagree on which value counts, so the record is kept here whole"
            ),
            Reason::Ambiguous { detail } => write!(f, "ambiguous object: {detail}"),
            Reason::Conflict {
                event_id,
                kept,
                this,
            } => write!(
                f,
                "conflicting record: eventID {event_id} is already stored with other content \
                 (stored version {kept}, this version {this}); both are kept, this one here"
            ),
        }
    }
}

/// A record that could not be stored, kept with its text so it can be quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// The record's text exactly as found.
    pub raw: String,
    /// Why it was not stored.
    pub reason: Reason,
}

/// Where a lake keeps the bytes of its bad objects.
pub fn objects_dir(lake: &std::path::Path) -> std::path::PathBuf {
    lake.join(QUARANTINE_DIR).join("objects")
}

/// The file of the records that the run `run_id` quarantined.
pub fn records_file(lake: &std::path::Path, run_id: &str) -> std::path::PathBuf {
    lake.join(QUARANTINE_DIR)
        .join("records")
        .join(format!("{run_id}.jsonl"))
}

/// Relative directory of the quarantine.
pub const QUARANTINE_DIR: &str = "_trailscope/quarantine";

#[derive(Serialize)]
struct RecordRow<'a> {
    source_uri: &'a str,
    reason: String,
    kind: &'static str,
    raw: &'a str,
}

#[derive(Serialize)]
struct ObjectRow<'a> {
    source_uri: &'a str,
    reason: &'a str,
    size: u64,
    sha256: &'a str,
    saved_as: String,
}

/// Writes one run's quarantine into its staging area.
pub struct Quarantine<'t> {
    txn: &'t Txn,
    run_id: String,
    records: Option<BufWriter<File>>,
    objects: Option<BufWriter<File>>,
}

impl<'t> Quarantine<'t> {
    /// A quarantine for the run `run_id`; files are created on first use.
    pub fn new(txn: &'t Txn, run_id: &str) -> Self {
        Quarantine {
            txn,
            run_id: run_id.to_owned(),
            records: None,
            objects: None,
        }
    }

    fn open(&self, kind: &str) -> Result<BufWriter<File>> {
        let path = self
            .txn
            .path(&format!("{QUARANTINE_DIR}/{kind}/{}.jsonl", self.run_id))?;
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(BufWriter::new(f))
    }

    /// Keeps a bad record.
    pub fn record(&mut self, source_uri: &str, bad: &BadRecord) -> Result<()> {
        if self.records.is_none() {
            self.records = Some(self.open("records")?);
        }
        let w = self.records.as_mut().context("quarantine records file")?;
        let row = RecordRow {
            source_uri,
            reason: bad.reason.to_string(),
            kind: bad.reason.kind(),
            raw: &bad.raw,
        };
        serde_json::to_writer(&mut *w, &row).context("writing the quarantine records file")?;
        w.write_all(b"\n")
            .context("writing the quarantine records file")
    }

    /// Keeps a bad object: its bytes and why.
    pub fn object(
        &mut self,
        source_uri: &str,
        bytes: &[u8],
        sha256: &str,
        reason: &str,
    ) -> Result<()> {
        let saved_as = format!("{QUARANTINE_DIR}/objects/{sha256}");
        write_synced(&self.txn.path(&saved_as)?, bytes)?;
        if self.objects.is_none() {
            self.objects = Some(self.open("objects")?);
        }
        let w = self.objects.as_mut().context("quarantine objects file")?;
        let row = ObjectRow {
            source_uri,
            reason,
            size: bytes.len() as u64,
            sha256,
            saved_as,
        };
        serde_json::to_writer(&mut *w, &row).context("writing the quarantine objects file")?;
        w.write_all(b"\n")
            .context("writing the quarantine objects file")
    }

    /// Flushes and syncs what was written.
    pub fn finish(self) -> Result<()> {
        for w in [self.records, self.objects].into_iter().flatten() {
            let f = w
                .into_inner()
                .map_err(|e| e.into_error())
                .context("flushing the quarantine")?;
            f.sync_all().context("syncing the quarantine")?;
        }
        Ok(())
    }
}
