//! The ingest ledger: every object and every record accounted for.
//!
//! Objects: listed = read + unchanged + not logs + failed (final) + to retry (this run's own
//! failure). Records: read = written + duplicates + conflicts +
//! quarantined.
//! The ledger is printed at the end of a run and kept in the lake with the run's manifest; a
//! ledger that does not balance is a bug, and [`Ledger::check`] says so.
//!
//! This module only counts; it does no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Counts for one ingest run.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Objects found by listing the sources (after key-layout pruning).
    pub objects_listed: u64,
    /// Objects read and parsed.
    pub objects_read: u64,
    /// Objects not read because an earlier run already ingested them unchanged.
    pub objects_unchanged: u64,
    /// Objects not read because they are not logs (digest files, other files).
    pub objects_not_logs: u64,
    /// Objects whose bytes arrived whole and are bad: named, quarantined, final.
    pub objects_failed: u64,
    /// Objects this run could not read for reasons of its own (network, time-out, memory, local
    /// I/O, a cut-off transfer): named, not recorded, read again by the next run.
    #[serde(default)]
    pub objects_retry: u64,
    /// Bytes read from the sources (before decompression).
    pub bytes_read: u64,
    /// Records found in the objects read.
    pub records_read: u64,
    /// Rows written to the lake.
    pub rows_written: u64,
    /// Records dropped because the lake or this run already holds their eventID.
    pub duplicates: u64,
    /// Records with the eventID of a stored record but other content: quarantined with both
    /// versions' hashes, never dropped as duplicates.
    #[serde(default)]
    pub conflicts: u64,
    /// Records quarantined (kept with their raw text and the reason), conflicts aside.
    pub quarantined: u64,
}

impl Ledger {
    /// Errors when the counts do not reconcile.
    pub fn check(&self) -> Result<(), String> {
        let objects = self.objects_read
            + self.objects_unchanged
            + self.objects_not_logs
            + self.objects_failed
            + self.objects_retry;
        if objects != self.objects_listed {
            return Err(format!(
                "object counts do not reconcile: listed {} != read {} + unchanged {} + not logs {} + failed {} + to retry {}",
                self.objects_listed,
                self.objects_read,
                self.objects_unchanged,
                self.objects_not_logs,
                self.objects_failed,
                self.objects_retry
            ));
        }
        let records = self.rows_written + self.duplicates + self.conflicts + self.quarantined;
        if records != self.records_read {
            return Err(format!(
                "record counts do not reconcile: read {} != written {} + duplicates {} + conflicts {} + quarantined {}",
                self.records_read,
                self.rows_written,
                self.duplicates,
                self.conflicts,
                self.quarantined
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "objects: {} listed = {} read + {} unchanged since last run + {} not logs + {} failed + {} to retry",
            self.objects_listed,
            self.objects_read,
            self.objects_unchanged,
            self.objects_not_logs,
            self.objects_failed,
            self.objects_retry
        )?;
        write!(
            f,
            "records: {} read = {} written + {} duplicates + {} conflicts + {} quarantined",
            self.records_read, self.rows_written, self.duplicates, self.conflicts, self.quarantined
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_catches_a_lost_record() {
        let mut l = Ledger {
            objects_listed: 1,
            objects_read: 1,
            records_read: 3,
            rows_written: 2,
            duplicates: 1,
            ..Ledger::default()
        };
        assert!(l.check().is_ok());
        l.rows_written = 1;
        assert!(l.check().unwrap_err().contains("record counts"));
    }
}
