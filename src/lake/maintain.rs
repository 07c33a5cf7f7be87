//! Lake step: upkeep of the table: compaction, vacuum, and the description `lake info` prints.
//!
//! Input: an open [`Lake`] (the writer lock held). Output: Delta commits that change no row
//! (compaction), deleted files no version needs (vacuum), and a [`Description`] of versions, runs
//! and files.
//!
//! Compaction reads every row of a partition's small files, writes them again as one sorted file
//! (the ingest writer's layout: sorted by service, API and time, small pages, bloom filters), and
//! checks that the new file holds the same number of rows with the same content checksum (every
//! column, `source_uri` included, order-free) before one commit swaps them. Old files stay on disk
//! for earlier versions until `vacuum` removes them past the retention period.
//!
//! This module does not print; `cmd::lake` does.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use arrow::array::RecordBatch;
use arrow::row::{RowConverter, SortField};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

use super::delta::{self, DataFile, NewFile};
use super::partition::PartitionKey;
use super::writer::{WriterConfig, write_file};
use super::{Lake, META_DIR, STAGING_DIR, list_dir};
use crate::schema::TABLE_DIR;

/// When a partition is compacted: the documented threshold.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A file smaller than this is small.
    pub small_file_bytes: u64,
    /// A partition is compacted when it holds at least this many small files.
    pub min_small_files: usize,
    /// Input bytes merged into one output file at most.
    pub target_file_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            small_file_bytes: 64 << 20,
            min_small_files: 2,
            target_file_bytes: 256 << 20,
        }
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    /// Partitions rewritten.
    pub partitions: usize,
    /// Files replaced.
    pub files_removed: usize,
    /// Files written in their place.
    pub files_added: usize,
    /// Rows moved (the same before and after).
    pub rows: u64,
    /// The version the compaction made, if it made one.
    pub version: Option<u64>,
}

/// Order-free checksum of a set of rows: count, wrapping sum and xor of each row's 128-bit hash
/// over every column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Checksum {
    rows: u64,
    sum: u128,
    xor: u128,
}

impl Checksum {
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let fields: Vec<SortField> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        let converter = RowConverter::new(fields).context("preparing the content checksum")?;
        let rows = converter
            .convert_columns(batch.columns())
            .context("computing the content checksum")?;
        for r in rows.iter() {
            let h = xxhash_rust::xxh3::xxh3_128(r.as_ref());
            self.rows += 1;
            self.sum = self.sum.wrapping_add(h);
            self.xor ^= h;
        }
        Ok(())
    }
}

fn read_all(path: &Path, sum: &mut Checksum) -> Result<Vec<RecordBatch>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for b in reader {
        let b = b.with_context(|| format!("reading {}", path.display()))?;
        sum.add(&b)?;
        out.push(b);
    }
    Ok(out)
}

/// Compacts the partitions `policy` selects (only those `only` accepts), in one commit.
pub async fn compact(
    lake: &mut Lake,
    policy: Policy,
    only: &dyn Fn(&PartitionKey) -> bool,
) -> Result<Compaction> {
    let table_dir = lake.root().join(TABLE_DIR);
    let mut by_part: BTreeMap<PartitionKey, Vec<DataFile>> = BTreeMap::new();
    for f in delta::files(lake.table())? {
        if only(&f.partition) && f.size < policy.small_file_bytes {
            by_part.entry(f.partition.clone()).or_default().push(f);
        }
    }
    by_part.retain(|_, files| files.len() >= policy.min_small_files.max(2));
    let mut out = Compaction::default();
    if by_part.is_empty() {
        return Ok(out);
    }
    let run = format!("optimize-{}", uuid::Uuid::new_v4().simple());
    let staging = lake.root().join(META_DIR).join(STAGING_DIR).join(&run);
    let mut removed = Vec::new();
    let mut added = Vec::new();
    let mut moved: Vec<PathBuf> = Vec::new();
    let mut uploaded: Vec<String> = Vec::new();
    let remote = lake.remote().cloned();
    let result: Result<()> = async {
        for (key, files) in &by_part {
            // Bins of at most target_file_bytes of input each.
            let mut bins: Vec<Vec<&DataFile>> = vec![Vec::new()];
            let mut bytes = 0;
            for f in files {
                if bytes + f.size > policy.target_file_bytes
                    && bins.last().is_some_and(|b| !b.is_empty())
                {
                    bins.push(Vec::new());
                    bytes = 0;
                }
                bytes += f.size;
                if let Some(b) = bins.last_mut() {
                    b.push(f);
                }
            }
            for bin in bins.into_iter().filter(|b| b.len() >= 2) {
                let mut before = Checksum::default();
                let mut batches = Vec::new();
                if let Some(s3) = &remote {
                    for f in &bin {
                        let local = table_dir.join(&f.path);
                        if !local.exists() {
                            s3.download(&format!("{TABLE_DIR}/{}", f.path), &local)
                                .await?;
                        }
                    }
                }
                for f in &bin {
                    batches.extend(read_all(&table_dir.join(&f.path), &mut before)?);
                }
                let rel = format!("{}/{}.parquet", key.dir(), uuid::Uuid::new_v4().simple());
                let staged = staging.join(&rel);
                if let Some(parent) = staged.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                let (rows, time_range) = {
                    let staged = staged.clone();
                    tokio::task::spawn_blocking(move || {
                        write_file(&batches, &staged, &WriterConfig::default())
                    })
                    .await
                    .context("a compaction thread panicked")??
                };
                let mut after = Checksum::default();
                read_all(&staged, &mut after)?;
                if after != before || rows != before.rows {
                    bail!(
                        "compacting {}: the new file holds {} rows (checksum {:x}), the old files \
                         {} (checksum {:x}); nothing was changed",
                        key.dir(),
                        after.rows,
                        after.sum,
                        before.rows,
                        before.sum
                    );
                }
                let dest = table_dir.join(&rel);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                let size = std::fs::metadata(&staged)
                    .with_context(|| format!("reading {}", staged.display()))?
                    .len();
                match &remote {
                    Some(s3) => {
                        let key = format!("{TABLE_DIR}/{rel}");
                        s3.upload(&staged, &key).await?;
                        uploaded.push(key);
                    }
                    None => {
                        std::fs::rename(&staged, &dest).with_context(|| {
                            format!("moving {} to {}", staged.display(), dest.display())
                        })?;
                        moved.push(dest);
                    }
                }
                out.rows += rows;
                added.push(NewFile {
                    path: rel,
                    partition: key.clone(),
                    size,
                    rows,
                    time_range,
                });
                removed.extend(bin.into_iter().cloned());
            }
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&staging);
    let undo = |moved: &[PathBuf]| {
        for p in moved {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = result {
        undo(&moved);
        if let Some(s3) = &remote {
            for k in &uploaded {
                s3.delete(k).await;
            }
        }
        return Err(e);
    }
    if added.is_empty() {
        return Ok(out);
    }
    let info = std::collections::HashMap::from([
        (delta::KIND_KEY.to_owned(), json!("optimize")),
        ("trailscope.rows".to_owned(), json!(out.rows)),
    ]);
    let version = match delta::commit_rewrite(lake.table(), &removed, &added, info).await {
        Ok(v) => v,
        Err(e) => {
            undo(&moved);
            if let Some(s3) = &remote {
                for k in &uploaded {
                    s3.delete(k).await;
                }
            }
            return Err(e.context("compaction changed nothing"));
        }
    };
    lake.reload().await?;
    out.partitions = added
        .iter()
        .map(|f| &f.partition)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    out.files_removed = removed.len();
    out.files_added = added.len();
    out.version = Some(version);
    Ok(out)
}

/// What a vacuum removed (or would remove, in a dry run).
#[derive(Debug, Clone, Default)]
pub struct Vacuumed {
    /// Files, relative to the table directory.
    pub files: Vec<String>,
    /// Whether they were only listed.
    pub dry_run: bool,
}

/// Removes data files no version of the table within `retention` needs, and files no commit
/// ever added, older than `retention`.
pub async fn vacuum(
    lake: &mut Lake,
    retention: chrono::Duration,
    dry_run: bool,
) -> Result<Vacuumed> {
    let table = lake.table().clone();
    let (_, metrics) = table
        .vacuum()
        .with_mode(deltalake::operations::vacuum::VacuumMode::Full)
        .with_retention_period(retention)
        .with_enforce_retention_duration(false)
        .with_dry_run(dry_run)
        .await
        .context("vacuuming the lake's table")?;
    lake.reload().await?;
    Ok(Vacuumed {
        files: metrics.files_deleted,
        dry_run,
    })
}

/// What `lake info` prints.
#[derive(Debug, Clone)]
pub struct Description {
    /// The current version.
    pub version: u64,
    /// Every commit still in the log, oldest first.
    pub commits: Vec<delta::Commit>,
    /// Partitions.
    pub partitions: usize,
    /// Data files of the current version.
    pub files: usize,
    /// Of those, small ones ([`Policy::small_file_bytes`]).
    pub small_files: usize,
    /// Partitions that automatic compaction would rewrite.
    pub partitions_to_compact: usize,
    /// Rows.
    pub rows: u64,
    /// Bytes of the current version's files.
    pub bytes: u64,
    /// Files under the table directory that no version lists (removed by compaction, or left
    /// by a run that never committed): what `vacuum` can delete.
    pub unreferenced_files: usize,
}

/// Describes the table at `table`'s loaded version.
pub async fn describe(root: &Path, table: &deltalake::DeltaTable) -> Result<Description> {
    let files = delta::files(table)?;
    let policy = Policy::default();
    let mut per_part: BTreeMap<&PartitionKey, usize> = BTreeMap::new();
    for f in &files {
        let e = per_part.entry(&f.partition).or_default();
        if f.size < policy.small_file_bytes {
            *e += 1;
        }
    }
    let live: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let table_dir = root.join(TABLE_DIR);
    let mut unreferenced = 0;
    let mut stack = vec![table_dir.clone()];
    while let Some(d) = stack.pop() {
        for p in list_dir(&d)? {
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "_delta_log") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "parquet") {
                let rel = p
                    .strip_prefix(&table_dir)
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if !live.contains(rel.as_str()) {
                    unreferenced += 1;
                }
            }
        }
    }
    Ok(Description {
        version: table.version().unwrap_or(0),
        commits: delta::history(table).await?,
        partitions: per_part.len(),
        files: files.len(),
        small_files: per_part.values().sum(),
        partitions_to_compact: per_part
            .values()
            .filter(|n| **n >= policy.min_small_files)
            .count(),
        rows: files.iter().filter_map(|f| f.rows).sum(),
        bytes: files.iter().map(|f| f.size).sum(),
        unreferenced_files: unreferenced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn checksums_ignore_order_and_see_every_change() {
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("a", arrow::datatypes::DataType::Int64, false),
            arrow::datatypes::Field::new("b", arrow::datatypes::DataType::Utf8, true),
        ]));
        let batch = |a: Vec<i64>, b: Vec<&str>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(a)),
                    Arc::new(StringArray::from(b)),
                ],
            )
            .unwrap()
        };
        let mut x = Checksum::default();
        x.add(&batch(vec![1, 2], vec!["p", "q"])).unwrap();
        let mut y = Checksum::default();
        y.add(&batch(vec![2], vec!["q"])).unwrap();
        y.add(&batch(vec![1], vec!["p"])).unwrap();
        assert_eq!(x, y);
        let mut z = Checksum::default();
        z.add(&batch(vec![1, 2], vec!["p", "r"])).unwrap();
        assert_ne!(x, z);
    }
}
