//! Lake step: the `cloudtrail` table as a Delta Lake table.
//!
//! Input: the lake directory and the Parquet files a run, a compaction or a conversion produced.
//! Output: Delta commits in `<lake>/cloudtrail/_delta_log/`, and the table's current (or past)
//! file list for the writer's de-duplication, the summary and the query session.
//!
//! A file is part of the table only once a commit adds it: readers that follow the log (this
//! crate, DuckDB's `delta_scan`, Spark, Athena, Python `deltalake`) never see a file of a run that
//! did not commit. Each ingest run is one commit whose commit information carries the run id and
//! its ledger ([`RUN_KEY`], [`LEDGER_KEY`]), so the log itself says which runs are in the lake.
//! A commit is the atomic creation of the next log entry (`put` if absent), which the local file
//! system and S3's conditional writes both provide.
//!
//! This module does not write Parquet ([`super::writer`]) or decide what goes in a file.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use deltalake::DeltaTable;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Remove, StructType};
use deltalake::protocol::{DeltaOperation, SaveMode};
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::lake::Location;
use crate::lake::partition::PartitionKey;
use crate::schema::{self, PART_ACCOUNT, PART_DAY, PART_REGION, TABLE_DIR};

/// Commit-information key holding the id of the ingest run a commit added.
pub const RUN_KEY: &str = "trailscope.run";
/// Commit-information key holding the run's ledger (every object and record accounted for).
pub const LEDGER_KEY: &str = "trailscope.ledger";
/// Commit-information key holding the ids of the runs a conversion brought in.
pub const CONVERTED_RUNS_KEY: &str = "trailscope.convertedRuns";
/// Commit-information key saying what kind of trailscope commit this is.
pub const KIND_KEY: &str = "trailscope.operation";

/// Which version of the table to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    /// A table version (a commit number).
    Version(u64),
    /// The latest version committed at or before this time.
    Time(chrono::DateTime<chrono::Utc>),
    /// The version that committed this ingest run.
    Run(String),
}

impl AsOf {
    /// Reads `--as-of`: a number is a version, an RFC 3339 time or a date is a time, anything
    /// else a run id.
    pub fn parse(text: &str) -> Result<AsOf> {
        let t = text.trim();
        if t.is_empty() {
            bail!("--as-of needs a version number, a time (2024-05-01T12:00:00Z) or a run id");
        }
        if let Ok(v) = t.parse::<u64>() {
            return Ok(AsOf::Version(v));
        }
        if t.starts_with('-') && t[1..].parse::<u64>().is_ok() {
            bail!("--as-of {t}: versions start at 0");
        }
        if let Ok(time) = crate::time::parse_when(t) {
            return Ok(AsOf::Time(time));
        }
        Ok(AsOf::Run(t.to_owned()))
    }
}

/// One data file of the table, as its log entry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Path relative to the table directory (`account=…/region=…/day=…/<id>.parquet`).
    pub path: String,
    /// Its partition.
    pub partition: PartitionKey,
    /// Bytes.
    pub size: u64,
    /// Rows, when the log records them.
    pub rows: Option<u64>,
}

/// A file to add in a commit.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Path relative to the table directory.
    pub path: String,
    /// Its partition.
    pub partition: PartitionKey,
    /// Bytes.
    pub size: u64,
    /// Rows.
    pub rows: u64,
    /// Earliest and latest event time in it, microseconds since the epoch.
    pub time_range: Option<(i64, i64)>,
}

/// The URL of the table inside the lake at `lake`.
pub fn table_url(lake: &Path) -> Result<url::Url> {
    let dir = lake.join(TABLE_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("finding {}", dir.display()))?;
    url::Url::from_directory_path(&dir)
        .map_err(|()| anyhow::anyhow!("{} cannot be written as a URL", dir.display()))
}

/// Whether the lake at `lake` holds a Delta table.
pub fn exists(lake: &Path) -> bool {
    lake.join(TABLE_DIR).join("_delta_log").is_dir()
}

/// Loads the table at its latest version, or at `as_of`; `None` when the lake has no table yet.
pub async fn load(lake: &Path, as_of: Option<&AsOf>) -> Result<Option<DeltaTable>> {
    load_at(&Location::Local(lake.to_path_buf()), as_of).await
}

/// A table handle for the lake at `loc`, not loaded.
fn handle(loc: &Location) -> Result<DeltaTable> {
    let (url, options) = match loc {
        Location::Local(dir) => (table_url(dir)?, HashMap::new()),
        Location::S3(s3) => {
            register_s3();
            (s3.table_url()?, s3.storage_options.clone())
        }
    };
    deltalake::DeltaTableBuilder::from_url(url.clone())
        .and_then(|b| b.with_storage_options(options).build())
        .with_context(|| format!("opening the Delta table {url}"))
}

/// Lets the Delta crate open `s3://` tables (once per process).
fn register_s3() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| deltalake::aws::register_handlers(None));
}

/// [`load`] for a lake on disk or in S3.
pub async fn load_at(loc: &Location, as_of: Option<&AsOf>) -> Result<Option<DeltaTable>> {
    if let Location::Local(dir) = loc
        && !exists(dir)
    {
        if let Some(a) = as_of {
            bail!(
                "--as-of {a:?}: the lake {} has no versions yet",
                dir.display()
            );
        }
        return Ok(None);
    }
    let mut table = handle(loc)?;
    let url = table.table_url().clone();
    let latest = table.load().await;
    match latest {
        Err(deltalake::DeltaTableError::NotATable(_)) => {
            if let Some(a) = as_of {
                bail!("--as-of {a:?}: the lake {loc} has no versions yet");
            }
            return Ok(None);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("reading the Delta log of {url}"));
        }
        Ok(()) => {}
    }
    match as_of {
        None => Ok(()),
        Some(AsOf::Version(v)) => table.load_version(*v).await,
        Some(AsOf::Time(t)) => table.load_with_datetime(*t).await,
        Some(AsOf::Run(run)) => {
            let v = run_version(&table, run).await?.with_context(|| {
                format!(
                    "--as-of {run}: no commit of the lake {loc} added that run (see `trailscope lake info`)"
                )
            })?;
            table.load_version(v).await
        }
    }
    .with_context(|| format!("loading {as_of:?} of the Delta table {url}"))?;
    Ok(Some(table))
}

/// The table's Delta schema: the lake's file columns, then the partition columns.
fn delta_schema() -> Result<StructType> {
    let arrow = schema::table_schema();
    let kernel: StructType = arrow
        .as_ref()
        .try_into_kernel()
        .context("describing the lake's columns as a Delta schema")?;
    Ok(kernel)
}

/// Creates the table (version 0) with `files` in it, for a new lake or a converted one.
pub async fn create(
    lake: &Path,
    files: &[NewFile],
    info: HashMap<String, Value>,
) -> Result<DeltaTable> {
    create_at(&Location::Local(lake.to_path_buf()), files, info).await
}

/// [`create`] for a lake on disk or in S3.
pub async fn create_at(
    loc: &Location,
    files: &[NewFile],
    info: HashMap<String, Value>,
) -> Result<DeltaTable> {
    let table = handle(loc)?;
    let url = table.table_url().clone();
    let columns = delta_schema()?.fields().cloned().collect::<Vec<_>>();
    let now = chrono::Utc::now().timestamp_millis();
    let table = table
        .create()
        .with_table_name(TABLE_DIR)
        .with_comment("CloudTrail events, one row per event, written by trailscope")
        .with_columns(columns)
        .with_partition_columns([PART_ACCOUNT, PART_REGION, PART_DAY])
        // A lake fed every 20 minutes makes dozens of commits a day; a checkpoint every ten
        // keeps opening the table to one Parquet file and a few JSON ones.
        .with_configuration_property(deltalake::TableProperty::CheckpointInterval, Some("10"))
        .with_save_mode(SaveMode::ErrorIfExists)
        .with_actions(files.iter().map(|f| add_action(f, now)))
        .with_commit_properties(CommitProperties::default().with_metadata(info))
        .await
        .with_context(|| format!("creating the Delta table {url}"))?;
    Ok(table)
}

/// Opens the table, creating an empty one if the lake has none.
pub async fn open_or_create(lake: &Path) -> Result<DeltaTable> {
    open_or_create_at(&Location::Local(lake.to_path_buf())).await
}

/// [`open_or_create`] for a lake on disk or in S3.
pub async fn open_or_create_at(loc: &Location) -> Result<DeltaTable> {
    match load_at(loc, None).await? {
        Some(t) => Ok(t),
        None => {
            let mut info = HashMap::new();
            info.insert(KIND_KEY.to_owned(), json!("create"));
            create_at(loc, &[], info).await
        }
    }
}

fn add_action(f: &NewFile, now_ms: i64) -> Action {
    let mut stats = json!({ "numRecords": f.rows });
    if let Some((lo, hi)) = f.time_range {
        let iso = |us: i64| {
            chrono::DateTime::from_timestamp_micros(us)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        };
        if let (Some(lo), Some(hi)) = (iso(lo), iso(hi)) {
            stats["minValues"] = json!({ schema::EVENT_TIME: lo });
            stats["maxValues"] = json!({ schema::EVENT_TIME: hi });
            stats["nullCount"] = json!({ schema::EVENT_TIME: 0 });
        }
    }
    Action::Add(Add {
        path: f.path.clone(),
        partition_values: partition_values(&f.partition),
        size: f.size as i64,
        modification_time: now_ms,
        data_change: true,
        stats: Some(stats.to_string()),
        ..Default::default()
    })
}

fn partition_values(p: &PartitionKey) -> HashMap<String, Option<String>> {
    HashMap::from([
        (PART_ACCOUNT.to_owned(), Some(p.account.clone())),
        (PART_REGION.to_owned(), Some(p.region.clone())),
        (PART_DAY.to_owned(), Some(p.day.clone())),
    ])
}

/// Commits one ingest run: its files become part of the table at once, with the run id and its
/// ledger in the commit information. Returns the new version.
pub async fn commit_run(
    table: &DeltaTable,
    files: &[NewFile],
    run_id: &str,
    ledger: Value,
) -> Result<u64> {
    let now = chrono::Utc::now().timestamp_millis();
    let actions: Vec<Action> = files.iter().map(|f| add_action(f, now)).collect();
    let info = HashMap::from([
        (KIND_KEY.to_owned(), json!("ingest")),
        (RUN_KEY.to_owned(), json!(run_id)),
        (LEDGER_KEY.to_owned(), ledger),
    ]);
    let op = DeltaOperation::Write {
        mode: SaveMode::Append,
        partition_by: Some(vec![
            PART_ACCOUNT.to_owned(),
            PART_REGION.to_owned(),
            PART_DAY.to_owned(),
        ]),
        predicate: None,
    };
    commit(table, actions, op, info).await
}

/// Commits a rewrite: `removed` files leave the table and `added` files (holding the same rows)
/// join it, in one commit that changes no data. Returns the new version.
pub async fn commit_rewrite(
    table: &DeltaTable,
    removed: &[DataFile],
    added: &[NewFile],
    info: HashMap<String, Value>,
) -> Result<u64> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut actions: Vec<Action> = added
        .iter()
        .map(|f| {
            let mut a = add_action(f, now);
            if let Action::Add(add) = &mut a {
                add.data_change = false;
            }
            a
        })
        .collect();
    actions.extend(removed.iter().map(|f| {
        Action::Remove(Remove {
            path: f.path.clone(),
            data_change: false,
            deletion_timestamp: Some(now),
            extended_file_metadata: Some(true),
            partition_values: Some(partition_values(&f.partition)),
            size: Some(f.size as i64),
            ..Default::default()
        })
    }));
    let op = DeltaOperation::Optimize {
        predicate: None,
        target_size: 0,
    };
    commit(table, actions, op, info).await
}

async fn commit(
    table: &DeltaTable,
    actions: Vec<Action>,
    op: DeltaOperation,
    info: HashMap<String, Value>,
) -> Result<u64> {
    let snapshot = table.snapshot().context("the Delta table is not loaded")?;
    // Built from commit properties so the post-commit hook runs: it writes the checkpoint every
    // `delta.checkpointInterval` commits, which keeps opening the table cheap.
    let done = CommitBuilder::from(CommitProperties::default().with_metadata(info))
        .with_actions(actions)
        .build(Some(snapshot), table.log_store(), op)
        .await
        .with_context(|| format!("committing to the Delta table {}", table.table_url()))?;
    Ok(done.version())
}

/// The table's data files at its loaded version.
pub fn files(table: &DeltaTable) -> Result<Vec<DataFile>> {
    let snapshot = table.snapshot().context("the Delta table is not loaded")?;
    let mut out = Vec::new();
    for view in snapshot.log_data().iter() {
        let values = view.partition_values_map();
        let get = |k: &str| values.get(k).cloned().flatten().unwrap_or_default();
        let rows = view.stats().and_then(|s| {
            serde_json::from_str::<Value>(&s)
                .ok()
                .and_then(|v| v.get("numRecords").and_then(Value::as_u64))
        });
        out.push(DataFile {
            path: view.path().into_owned(),
            partition: PartitionKey {
                account: get(PART_ACCOUNT),
                region: get(PART_REGION),
                day: get(PART_DAY),
            },
            size: view.size().max(0) as u64,
            rows,
        });
    }
    out.sort_by(|a, b| (&a.partition, &a.path).cmp(&(&b.partition, &b.path)));
    Ok(out)
}

/// One commit of the table, as `lake info` and `--as-of` see it.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The version it made.
    pub version: u64,
    /// When, milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// Delta's operation name (WRITE, OPTIMIZE, CREATE TABLE, …).
    pub operation: String,
    /// The ingest run it committed.
    pub run: Option<String>,
    /// Runs brought in by a conversion.
    pub converted_runs: Vec<String>,
    /// The run's ledger.
    pub ledger: Option<Value>,
}

/// Every commit still in the log, oldest first.
pub async fn history(table: &DeltaTable) -> Result<Vec<Commit>> {
    let infos: Vec<_> = table
        .history(None)
        .try_collect()
        .await
        .with_context(|| format!("reading the history of {}", table.table_url()))?;
    let latest = table.version().unwrap_or(0);
    // The history streams newest first, and does not carry version numbers.
    let mut out: Vec<Commit> = infos
        .into_iter()
        .enumerate()
        .map(|(i, c)| Commit {
            version: latest.saturating_sub(i as u64),
            timestamp: c.timestamp,
            operation: c.operation.clone().unwrap_or_default(),
            run: c
                .info
                .get(RUN_KEY)
                .and_then(Value::as_str)
                .map(str::to_owned),
            converted_runs: c
                .info
                .get(CONVERTED_RUNS_KEY)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            ledger: c.info.get(LEDGER_KEY).cloned(),
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// The ids of every run the log says is in the table (committed by an ingest, or brought in by a
/// conversion).
pub async fn committed_runs(table: &DeltaTable) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for c in history(table).await? {
        out.extend(c.run);
        out.extend(c.converted_runs);
    }
    Ok(out)
}

/// The version that committed `run`.
async fn run_version(table: &DeltaTable, run: &str) -> Result<Option<u64>> {
    Ok(history(table)
        .await?
        .into_iter()
        .find(|c| c.run.as_deref() == Some(run) || c.converted_runs.iter().any(|r| r == run))
        .map(|c| c.version))
}

/// Parses `account=…/region=…/day=…/<file>` into its partition.
pub fn partition_of(path: &str) -> Option<PartitionKey> {
    let mut parts = path.split('/');
    let mut value = |name: &str| {
        parts
            .next()
            .and_then(|p| p.strip_prefix(name))
            .and_then(|p| p.strip_prefix('='))
            .map(str::to_owned)
    };
    Some(PartitionKey {
        account: value(PART_ACCOUNT)?,
        region: value(PART_REGION)?,
        day: value(PART_DAY)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_reads_versions_times_and_runs() {
        assert_eq!(AsOf::parse("3").unwrap(), AsOf::Version(3));
        assert!(matches!(
            AsOf::parse("2024-05-01T12:00:00Z").unwrap(),
            AsOf::Time(_)
        ));
        assert_eq!(
            AsOf::parse("20240501T120000.000000Z-abcd1234").unwrap(),
            AsOf::Run("20240501T120000.000000Z-abcd1234".into())
        );
        assert!(AsOf::parse("-1").is_err());
    }

    #[test]
    fn partitions_are_read_from_paths() {
        let p = partition_of("account=123/region=us-east-1/day=2024-01-02/x.parquet").unwrap();
        assert_eq!(p.account, "123");
        assert_eq!(p.region, "us-east-1");
        assert_eq!(p.day, "2024-01-02");
        assert!(partition_of("x.parquet").is_none());
    }

    #[tokio::test]
    async fn runs_commit_and_versions_travel() {
        let dir = tempfile::tempdir().unwrap();
        let t = open_or_create(dir.path()).await.unwrap();
        assert_eq!(t.version(), Some(0));
        let p = partition_of("account=1/region=r/day=2024-01-01/a.parquet").unwrap();
        let f = NewFile {
            path: "account=1/region=r/day=2024-01-01/a.parquet".into(),
            partition: p,
            size: 10,
            rows: 5,
            time_range: Some((0, 1_000_000)),
        };
        let v = commit_run(&t, &[f], "run-1", json!({"objects": 1}))
            .await
            .unwrap();
        assert_eq!(v, 1);
        let t = load(dir.path(), None).await.unwrap().unwrap();
        let files = files(&t).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].rows, Some(5));
        assert!(committed_runs(&t).await.unwrap().contains("run-1"));
        let old = load(dir.path(), Some(&AsOf::Version(0)))
            .await
            .unwrap()
            .unwrap();
        assert!(super::files(&old).unwrap().is_empty());
        let by_run = load(dir.path(), Some(&AsOf::Run("run-1".into())))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_run.version(), Some(1));
    }
}
