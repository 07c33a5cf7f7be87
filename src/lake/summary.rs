//! Lake summary: what the lake holds, per account and region, read from the Delta log only.
//!
//! Input: the table's files as its log lists them. Output: rows of (account, region, first day,
//! last day, files, events), cheap enough to print after every ingest since no file is opened.
//!
//! This module does not query events; the SQL session does.

use std::collections::BTreeMap;

use super::delta::DataFile;

/// What the lake holds for one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// Account partition value.
    pub account: String,
    /// Region partition value.
    pub region: String,
    /// First day with events.
    pub first_day: String,
    /// Last day with events.
    pub last_day: String,
    /// Days with events.
    pub days: u64,
    /// Parquet files.
    pub files: u64,
    /// Events (rows).
    pub events: u64,
}

/// Summarises the table's `files` (from its Delta log: no file is opened), ordered by account
/// and region.
pub fn summarize(files: &[DataFile]) -> Vec<Slice> {
    let mut days: BTreeMap<(String, String), BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    for f in files {
        let p = &f.partition;
        let d = days
            .entry((p.account.clone(), p.region.clone()))
            .or_default()
            .entry(p.day.clone())
            .or_default();
        d.0 += 1;
        d.1 += f.rows.unwrap_or(0);
    }
    days.into_iter()
        .filter_map(|((account, region), by_day)| {
            let first_day = by_day.keys().next()?.clone();
            let last_day = by_day.keys().next_back()?.clone();
            Some(Slice {
                account,
                region,
                first_day,
                last_day,
                days: by_day.len() as u64,
                files: by_day.values().map(|d| d.0).sum(),
                events: by_day.values().map(|d| d.1).sum(),
            })
        })
        .collect()
}
