//! Lake writer: partition batches in, de-duplicated, sorted, zstd Parquet files out.
//!
//! Input: [`PartBatch`]es from the convert step, in a deterministic order. Output: Parquet files in
//! the run's staging area, one or more per partition, rows sorted by service, API and time (then
//! eventid), in small pages: a rule's filter on a service or API reads a few pages of each row
//! group through the page index, and times stay in order within each API. Rows are buffered per partition and written as few large files;
//! when the buffers pass the memory budget, the partitions touched longest ago are written first,
//! which keeps memory flat however large the source is. Files are written on blocking threads
//! while conversion goes on.
//!
//! De-duplication: a row is dropped when its partition already holds its (eventID,
//! recipientAccountId) with the same content ([`content_hashes`]), in the lake before the run or
//! earlier in this run. The same id with other content is a conflict: the row is not written but
//! handed back to the caller to quarantine. The first occurrence in source order wins, so the
//! result does not depend on how many workers ran. The content of rows already in the lake is
//! read only when a partition meets its first repeated id.
//!
//! This module does not commit anything; the run's [`Txn`] does.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::{filter_record_batch, interleave_record_batch};
use arrow::datatypes::TimestampMicrosecondType;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use tokio::task::JoinHandle;

use super::{Txn, partition_dir};
use crate::lake::partition::{PartBatch, PartitionKey, content_hashes, dedupe_id};
use crate::schema;

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Bytes of Arrow rows held at once, buffered or being written; half of it triggers writing.
    pub memory_budget: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// zstd level.
    pub zstd_level: i32,
    /// Bytes of de-duplication index (every stored id and content hash of the partitions
    /// touched) held at once. Past it, the index of the partitions touched longest ago and
    /// holding no buffered rows is dropped, and read back from their files if they are touched
    /// again, so the memory of a long ingest stays flat.
    pub index_budget: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            memory_budget: 256 << 20,
            row_group_rows: 32 * 1024,
            zstd_level: 3,
            index_budget: 64 << 20,
        }
    }
}

/// The de-duplication keys are already uniform hashes; hashing them again is wasted work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// Each stored id with the content hash of its row ([`UNKNOWN`] until needed, for the lake's).
type IdMap = HashMap<u128, u128, BuildHasherDefault<IdHasher>>;

/// The content of a row already in the lake, before it is read.
const UNKNOWN: u128 = 0;

struct Part {
    seen: IdMap,
    /// Whether `seen` was dropped to keep the index within its budget, to be read back from the
    /// partition's files (the lake's and this run's) when the partition is touched again.
    set_aside: bool,
    /// Whether the content hashes of the partition's rows in the lake are in `seen`.
    lake_content: bool,
    batches: Vec<RecordBatch>,
    bytes: usize,
    touched: u64,
}

/// A file the writer produced, relative to the lake root.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    /// Path relative to the lake root.
    pub relative: String,
    /// Rows in it.
    pub rows: u64,
    /// Earliest and latest event time in it, microseconds since the epoch.
    pub time_range: Option<(i64, i64)>,
}

/// How many rows of a batch were kept and dropped, and the rows that conflict.
#[derive(Debug, Default)]
pub struct Added {
    /// Rows kept for writing.
    pub kept: u64,
    /// Rows dropped as duplicates (same id, same content).
    pub duplicates: u64,
    /// Rows with a stored id but other content, not written: for the caller to quarantine.
    pub conflicts: Option<Conflicts>,
}

/// Rows whose id is stored with other content.
#[derive(Debug)]
pub struct Conflicts {
    /// The rows, in the lake's file schema.
    pub rows: RecordBatch,
    /// For each row: the content hash of the stored version, then its own.
    pub hashes: Vec<(u128, u128)>,
}

/// Buffers, de-duplicates and writes one run's rows.
pub struct Writer<'t> {
    txn: &'t Txn,
    /// The table's files before the run, by partition directory.
    existing: HashMap<String, Vec<PathBuf>>,
    config: WriterConfig,
    parts: HashMap<PartitionKey, Part>,
    buffered: usize,
    tick: u64,
    /// Files being written, with the bytes of rows each holds until it is done.
    writing: VecDeque<(JoinHandle<Result<WrittenFile>>, usize)>,
    in_flight: usize,
    written: Vec<WrittenFile>,
    /// Bytes held by the partitions' indexes (estimated from their capacity).
    index_bytes: usize,
    /// Partitions whose index was set aside and read back, for `-vv`.
    reloads: u64,
    /// Time the run spent waiting for files to be written, for `-vv`.
    waited: std::time::Duration,
}

impl<'t> Writer<'t> {
    /// A writer staging into `txn`, de-duplicating against the table's files before the run
    /// (absolute paths by partition directory, from [`crate::lake::Lake::files_by_partition`]).
    pub fn new(
        txn: &'t Txn,
        existing: HashMap<String, Vec<PathBuf>>,
        config: WriterConfig,
    ) -> Self {
        Writer {
            txn,
            existing,
            config,
            parts: HashMap::new(),
            buffered: 0,
            tick: 0,
            writing: VecDeque::new(),
            in_flight: 0,
            written: Vec::new(),
            index_bytes: 0,
            reloads: 0,
            waited: std::time::Duration::ZERO,
        }
    }

    /// Adds one partition batch; returns how many rows were kept and dropped.
    pub async fn add(&mut self, pb: PartBatch) -> Result<Added> {
        self.tick += 1;
        if !self.parts.contains_key(&pb.key) {
            self.fetch_remote(&pb.key).await?;
            let seen = existing_ids(self.files_of(&pb.key))?;
            self.index_bytes += index_size(&seen);
            self.parts.insert(
                pb.key.clone(),
                Part {
                    seen,
                    set_aside: false,
                    lake_content: false,
                    batches: Vec::new(),
                    bytes: 0,
                    touched: 0,
                },
            );
        } else if self.parts.get(&pb.key).is_some_and(|p| p.set_aside) {
            self.read_back(&pb.key).await?;
        }
        let hashes = content_hashes(&pb.batch)?;
        let needs_content = self.parts.get(&pb.key).is_some_and(|part| {
            !part.lake_content && pb.ids.iter().any(|id| part.seen.get(id) == Some(&UNKNOWN))
        });
        // Stored ids whose content is not known yet: read the content of the partition's files.
        let stored = match needs_content {
            true => existing_content(&self.index_files(&pb.key))?,
            false => Vec::new(),
        };
        let part = self
            .parts
            .get_mut(&pb.key)
            .context("a partition that was just inserted")?;
        part.touched = self.tick;
        let before = index_size(&part.seen);
        if needs_content {
            for (id, hash) in stored {
                part.seen.insert(id, hash);
            }
            part.lake_content = true;
        }
        let mut keep = Vec::with_capacity(pb.ids.len());
        let mut conflicting = Vec::new();
        let mut conflict_hashes = Vec::new();
        let mut added = Added::default();
        for (id, hash) in pb.ids.iter().zip(&hashes) {
            let mut conflict = false;
            match part.seen.entry(*id) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(*hash);
                    added.kept += 1;
                    keep.push(true);
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    keep.push(false);
                    if e.get() == hash {
                        added.duplicates += 1;
                    } else {
                        conflict = true;
                        conflict_hashes.push((*e.get(), *hash));
                    }
                }
            }
            conflicting.push(conflict);
        }
        self.index_bytes = (self.index_bytes + index_size(&part.seen)).saturating_sub(before);
        if !conflict_hashes.is_empty() {
            added.conflicts = Some(Conflicts {
                rows: filter_record_batch(&pb.batch, &BooleanArray::from(conflicting))
                    .context("setting conflicting rows aside")?,
                hashes: conflict_hashes,
            });
        }
        if added.kept == 0 {
            return Ok(added);
        }
        let batch = if added.kept as usize == pb.ids.len() {
            pb.batch
        } else {
            filter_record_batch(&pb.batch, &BooleanArray::from(keep))
                .context("dropping duplicate rows")?
        };
        let size = batch.get_array_memory_size();
        part.bytes += size;
        part.batches.push(batch);
        self.buffered += size;
        if self.buffered > self.config.memory_budget / 2 {
            self.spill().await?;
        }
        if self.index_bytes > self.config.index_budget {
            self.set_aside();
        }
        while self.buffered + self.in_flight > self.config.memory_budget && !self.writing.is_empty()
        {
            self.wait_one().await?;
        }
        Ok(added)
    }

    /// Drops the index of the partitions touched longest ago that hold no buffered rows, until
    /// the indexes fit in half the budget. Their rows are all in files (the lake's, or this
    /// run's, written or being written), from which [`Self::read_back`] rebuilds the index.
    fn set_aside(&mut self) {
        for key in self.coldest(|p| p.batches.is_empty() && !p.set_aside) {
            if self.index_bytes <= self.config.index_budget / 2 {
                break;
            }
            if let Some(part) = self.parts.get_mut(&key) {
                self.index_bytes = self.index_bytes.saturating_sub(index_size(&part.seen));
                part.seen = IdMap::default();
                part.lake_content = false;
                part.set_aside = true;
            }
        }
    }

    /// The partitions that pass `which`, touched longest ago first.
    fn coldest(&self, which: impl Fn(&Part) -> bool) -> Vec<PartitionKey> {
        let mut order: Vec<(u64, &PartitionKey)> = self
            .parts
            .iter()
            .filter(|(_, p)| which(p))
            .map(|(k, p)| (p.touched, k))
            .collect();
        order.sort();
        order.into_iter().map(|(_, k)| k.clone()).collect()
    }

    /// Rebuilds the index of a partition set aside, from the lake's files and the files this
    /// run wrote for it (waiting for those still being written).
    async fn read_back(&mut self, key: &PartitionKey) -> Result<()> {
        while !self.writing.is_empty() {
            self.wait_one().await?;
        }
        let seen = existing_ids(&self.index_files(key))?;
        self.index_bytes += index_size(&seen);
        self.reloads += 1;
        if let Some(part) = self.parts.get_mut(key) {
            part.seen = seen;
            part.lake_content = false;
            part.set_aside = false;
        }
        Ok(())
    }

    /// The files whose rows a partition's index holds: the lake's before the run, and those this
    /// run has written for it.
    fn index_files(&self, key: &PartitionKey) -> Vec<PathBuf> {
        let dir = format!("{}/", partition_dir(key));
        let mut files = self.files_of(key).to_vec();
        files.extend(
            self.written
                .iter()
                .filter(|w| w.relative.starts_with(&dir))
                .filter_map(|w| self.txn.path(&w.relative).ok()),
        );
        files
    }

    /// For a lake in S3: downloads the partition's files into the scratch directory, once, so
    /// de-duplication reads them as it reads a local lake's.
    async fn fetch_remote(&self, key: &PartitionKey) -> Result<()> {
        let Some(s3) = &self.txn.remote else {
            return Ok(());
        };
        for path in self.files_of(key) {
            if path.exists() {
                continue;
            }
            let key = path
                .strip_prefix(&self.txn.root)
                .context("a table file outside the lake")?
                .to_string_lossy()
                .replace('\\', "/");
            s3.download(&key, path).await?;
        }
        Ok(())
    }

    fn files_of(&self, key: &PartitionKey) -> &[PathBuf] {
        self.existing
            .get(&partition_dir(key))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Hands the partitions touched longest ago to writer threads until the buffers hold a
    /// quarter of the budget. Buffers and files being written together stay within the budget:
    /// `add` waits for writes only when they would not.
    ///
    /// Small partitions (under 1/32 of the budget each) are kept buffered, up to an eighth of
    /// the budget in all: they are the few events of a partition met early in the listing
    /// (global-service events in every region's logs), and writing them makes a small file
    /// beside the one the partition's own objects make later. Every query opens every file:
    /// on a million events, 160 files for 96 partitions made all detection packs ~20% slower
    /// than one file each. The kept bytes stay below the quarter, so the spill still gets there.
    async fn spill(&mut self) -> Result<()> {
        let (small, reserve) = (
            self.config.memory_budget / 32,
            self.config.memory_budget / 8,
        );
        let mut kept = 0;
        for key in self.coldest(|p| !p.batches.is_empty()) {
            if self.buffered <= self.config.memory_budget / 4 {
                break;
            }
            let bytes = self.parts.get(&key).map_or(0, |p| p.bytes);
            if bytes < small && kept + bytes <= reserve {
                kept += bytes;
                continue;
            }
            self.write_part(&key).await?;
        }
        Ok(())
    }

    async fn write_part(&mut self, key: &PartitionKey) -> Result<()> {
        let Some(part) = self.parts.get_mut(key) else {
            return Ok(());
        };
        let batches = std::mem::take(&mut part.batches);
        let bytes = std::mem::take(&mut part.bytes);
        self.buffered -= bytes;
        if batches.is_empty() {
            return Ok(());
        }
        let relative = format!(
            "{}/{}.parquet",
            partition_dir(key),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.txn.path(&relative)?;
        let config = self.config.clone();
        while self.writing.len() >= WRITES_AT_ONCE {
            self.wait_one().await?;
        }
        self.in_flight += bytes;
        let task = tokio::task::spawn_blocking(move || {
            let (rows, time_range) = write_file(&batches, &path, &config)?;
            Ok(WrittenFile {
                relative,
                rows,
                time_range,
            })
        });
        self.writing.push_back((task, bytes));
        Ok(())
    }

    async fn wait_one(&mut self) -> Result<()> {
        if let Some((h, bytes)) = self.writing.pop_front() {
            self.in_flight -= bytes;
            let t = std::time::Instant::now();
            let file = h.await.context("a Parquet writer thread panicked")??;
            self.waited += t.elapsed();
            self.written.push(file);
        }
        Ok(())
    }

    /// Writes everything still buffered and returns the files of the run.
    pub async fn finish(mut self) -> Result<Vec<WrittenFile>> {
        let mut keys: Vec<PartitionKey> = self.parts.keys().cloned().collect();
        keys.sort();
        for key in keys {
            self.write_part(&key).await?;
        }
        let before_final = self.waited;
        while !self.writing.is_empty() {
            self.wait_one().await?;
        }
        log::debug!(
            "writer: {} files, {} indexes read back, waited {:.2}s for writes during the run and {:.2}s at the end",
            self.written.len(),
            self.reloads,
            before_final.as_secs_f64(),
            (self.waited - before_final).as_secs_f64()
        );
        Ok(self.written)
    }
}

/// Bytes a partition's index holds: hashbrown keeps a control byte beside each slot.
fn index_size(seen: &IdMap) -> usize {
    seen.capacity() * (std::mem::size_of::<(u128, u128)>() + 1)
}

/// Files written at once. A spill hands many partitions over together; writing each on its own
/// thread at once gave every thread its own encoders, buffers and allocator heap for the same two
/// cores' work: on the realistic 1M-event corpus, two at a time peaked ~110 MiB lower at the same
/// speed, and one at a time was 10-15% slower (benches/README.md).
const WRITES_AT_ONCE: usize = 2;

/// Rows per data page: small enough that the page index narrows a filter on one service or API
/// to a few pages of a row group.
const PAGE_ROWS: usize = 1024;

/// Writes one sorted, zstd-compressed Parquet file and syncs it. Returns its row count and the
/// range of its event times.
/// Rows are gathered in sorted order one row group at a time, so the partition is copied once,
/// a row group at a time, rather than concatenated and then sorted.
pub(crate) fn write_file(
    batches: &[RecordBatch],
    path: &Path,
    config: &WriterConfig,
) -> Result<(u64, Option<(i64, i64)>)> {
    let schema = schema::file_schema();
    let mut order: Vec<(&str, &str, i64, &str, u32, u32)> =
        Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for (b, batch) in batches.iter().enumerate() {
        let time = batch
            .column_by_name(schema::EVENT_TIME)
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            .context("no eventtime column")?;
        let id = batch
            .column_by_name(schema::EVENT_ID)
            .and_then(|c| c.as_string_opt::<i32>())
            .context("no eventid column")?;
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .with_context(|| format!("no {name} column"))
        };
        let (source, name) = (text(schema::EVENT_SOURCE)?, text(schema::EVENT_NAME)?);
        fn at(a: &arrow::array::StringArray, r: usize) -> &str {
            if a.is_null(r) { "" } else { a.value(r) }
        }
        for r in 0..batch.num_rows() {
            order.push((
                at(source, r),
                at(name, r),
                time.value(r),
                id.value(r),
                b as u32,
                r as u32,
            ));
        }
    }
    order.sort_unstable();
    let time_range = order.iter().map(|o| o.2).fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((lo, hi)) => Some((t.min(lo), t.max(hi))),
    });
    let order: Vec<(usize, usize)> = order
        .iter()
        .map(|&(_, _, _, _, b, r)| (b as usize, r as usize))
        .collect();
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let time_idx = schema
        .index_of(schema::EVENT_TIME)
        .context("no eventtime column")?;
    let source_idx = schema
        .index_of(schema::EVENT_SOURCE)
        .context("no eventsource column")?;
    let name_idx = schema
        .index_of(schema::EVENT_NAME)
        .context("no eventname column")?;
    let zstd = Compression::ZSTD(ZstdLevel::try_new(config.zstd_level).context("zstd level")?);
    let props = schema::ZSTD_COLUMNS
        .iter()
        .fold(
            WriterProperties::builder().set_compression(Compression::LZ4_RAW),
            |p, c| p.set_column_compression(ColumnPath::from(*c), zstd),
        )
        .set_max_row_group_row_count(Some(config.row_group_rows))
        .set_sorting_columns(Some(
            [source_idx, name_idx, time_idx]
                .iter()
                .map(|&i| SortingColumn {
                    column_idx: i as i32,
                    descending: false,
                    nulls_first: false,
                })
                .collect(),
        ))
        // Small pages, so a rule's filter on the service or API skips most of each row group
        // through the page index instead of decoding it.
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_created_by(format!("trailscope {}", env!("CARGO_PKG_VERSION")));
    // Random ids never repeat, so a dictionary only costs time; sorted times delta-encode to a
    // byte or two per row.
    let props = [
        schema::EVENT_ID,
        schema::REQUEST_ID,
        schema::SHARED_EVENT_ID,
    ]
    .into_iter()
    .fold(props, |p, c| {
        p.set_column_dictionary_enabled(ColumnPath::from(c), false)
            .set_column_encoding(ColumnPath::from(c), Encoding::DELTA_LENGTH_BYTE_ARRAY)
    })
    .set_column_dictionary_enabled(ColumnPath::from(schema::EVENT_TIME), false)
    .set_column_encoding(
        ColumnPath::from(schema::EVENT_TIME),
        Encoding::DELTA_BINARY_PACKED,
    );
    // A few hundred distinct values per row group at most: filters of a few hundred bytes each.
    let props = schema::BLOOM_FILTER_COLUMNS
        .iter()
        .fold(props, |p, path| {
            let path = ColumnPath::new(path.iter().map(|s| s.to_string()).collect());
            p.set_column_bloom_filter_enabled(path.clone(), true)
                .set_column_bloom_filter_fpp(path.clone(), 0.01)
                .set_column_bloom_filter_max_ndv(path, 1_000)
        })
        .build();
    if std::env::var("TRAILSCOPE_FAILPOINT").is_ok_and(|v| v == "disk-full") {
        // Crash-test hook: the error a full disk gives.
        return Err(std::io::Error::from_raw_os_error(28))
            .with_context(|| format!("writing {}", path.display()));
    }
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = ArrowWriter::try_new(file, schema, Some(props))
        .with_context(|| format!("starting the Parquet file {}", path.display()))?;
    for chunk in order.chunks(config.row_group_rows.max(1)) {
        let group =
            interleave_record_batch(&refs, chunk).context("gathering rows in time order")?;
        w.write(&group)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let file = w
        .into_inner()
        .with_context(|| format!("finishing {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    Ok((order.len() as u64, time_range))
}

/// The id and content hash of every row already in a partition of the table (its `files`):
/// every column is read, so this is done only for a partition that meets a repeated id.
fn existing_content(files: &[PathBuf]) -> Result<Vec<(u128, u128)>> {
    let mut out = Vec::new();
    for path in files {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .with_context(|| format!("reading {}", path.display()))?;
        for batch in reader {
            let batch = batch.with_context(|| format!("reading {}", path.display()))?;
            let hashes = content_hashes(&batch)?;
            let id = batch
                .column_by_name(schema::EVENT_ID)
                .and_then(|c| c.as_string_opt::<i32>())
                .context("no eventid column")?;
            let acct = batch
                .column_by_name(schema::RECIPIENT_ACCOUNT_ID)
                .and_then(|c| c.as_string_opt::<i32>())
                .context("no recipientaccountid column")?;
            for (i, hash) in hashes.into_iter().enumerate() {
                let a = if acct.is_null(i) { "" } else { acct.value(i) };
                out.push((dedupe_id(id.value(i), a), hash));
            }
        }
    }
    Ok(out)
}

/// The de-duplication keys of every row already in a partition of the table (its `files`),
/// their content not yet read.
fn existing_ids(files: &[PathBuf]) -> Result<IdMap> {
    let mut ids = IdMap::default();
    for path in files {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("reading the Parquet footer of {}", path.display()))?;
        let mask = ProjectionMask::columns(
            builder.parquet_schema(),
            [schema::EVENT_ID, schema::RECIPIENT_ACCOUNT_ID],
        );
        let reader = builder
            .with_projection(mask)
            .build()
            .with_context(|| format!("reading {}", path.display()))?;
        for batch in reader {
            let batch = batch.with_context(|| format!("reading {}", path.display()))?;
            let id = batch.column(0).as_string::<i32>();
            let acct = batch.column(1).as_string::<i32>();
            for i in 0..batch.num_rows() {
                let a = if acct.is_null(i) { "" } else { acct.value(i) };
                ids.insert(dedupe_id(id.value(i), a), UNKNOWN);
            }
        }
    }
    Ok(ids)
}
