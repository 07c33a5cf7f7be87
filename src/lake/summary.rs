//! Lake summary: what the lake holds, per account and region, read from Parquet footers only.
//!
//! Input: a lake directory. Output: rows of (account, region, first day, last day, files, events),
//! cheap enough to print after every ingest since no data pages are read.
//!
//! This module does not query events; the SQL session does.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::schema::{PART_ACCOUNT, PART_DAY, PART_REGION, TABLE_DIR};

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

/// Summarises the lake at `root`, ordered by account and region.
pub fn summarize(root: &Path) -> Result<Vec<Slice>> {
    let mut out: BTreeMap<(String, String), Slice> = BTreeMap::new();
    let table = root.join(TABLE_DIR);
    for (account, a_dir) in partitions(&table, PART_ACCOUNT)? {
        for (region, r_dir) in partitions(&a_dir, PART_REGION)? {
            for (day, d_dir) in partitions(&r_dir, PART_DAY)? {
                let mut files = 0;
                let mut events = 0;
                for path in super::list_dir(&d_dir)? {
                    if path.extension().is_none_or(|e| e != "parquet") {
                        continue;
                    }
                    let f =
                        File::open(&path).with_context(|| format!("opening {}", path.display()))?;
                    let reader = SerializedFileReader::new(f).with_context(|| {
                        format!("reading the Parquet footer of {}", path.display())
                    })?;
                    files += 1;
                    events += reader.metadata().file_metadata().num_rows() as u64;
                }
                if files == 0 {
                    continue;
                }
                let s = out
                    .entry((account.clone(), region.clone()))
                    .or_insert_with(|| Slice {
                        account: account.clone(),
                        region: region.clone(),
                        first_day: day.clone(),
                        last_day: day.clone(),
                        days: 0,
                        files: 0,
                        events: 0,
                    });
                s.first_day = s.first_day.clone().min(day.clone());
                s.last_day = s.last_day.clone().max(day.clone());
                s.days += 1;
                s.files += files;
                s.events += events;
            }
        }
    }
    Ok(out.into_values().collect())
}

/// The `name=value` subdirectories of `dir`, sorted by value.
fn partitions(dir: &Path, name: &str) -> Result<Vec<(String, std::path::PathBuf)>> {
    let prefix = format!("{name}=");
    let mut out = Vec::new();
    for path in super::list_dir(dir)? {
        let value = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(&prefix))
            .map(str::to_owned);
        if let Some(value) = value {
            out.push((value, path));
        }
    }
    out.sort();
    Ok(out)
}
