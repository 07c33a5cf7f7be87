//! Session step: a DataFusion context over the lake, read-only toward the evidence.
//!
//! Input: a lake (a directory or `s3://…`) and the version to read. Output: a `SessionContext`
//! with the table `cloudtrail` (exactly the files of that Delta version, read as hive-partitioned
//! Parquet through [`crate::lake::snapshot`], with `account`, `region` and `day` as columns, so
//! filters on them prune files and filters on `eventtime` prune row groups), the views of
//! `queries/views/`, the
//! `verification` table of the latest `verify` verdicts, the JSON functions of
//! `datafusion-functions-json` and trailscope's own ([`super::functions`]), in the PostgreSQL
//! dialect. Tables that higher wings compute (`credential_chains`) are added by the caller.
//! Statements are checked by [`super::readonly`] before they run.
//!
//! This module does not print results; [`super::output`] does.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{Expr, SessionConfig, SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::cache::cache_manager::FileStatisticsCache;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::optimizer::{Analyzer, AnalyzerRule};

use crate::lake::Location;
use crate::lake::META_DIR;
use crate::lake::delta::AsOf;
use crate::query::functions::{self, athena::AthenaBooleans};
use crate::schema::{self, PARTITION_COLUMNS};

/// Where a session's `cloudtrail` table reads its version's files from.
const SNAPSHOT_URL: &str = "trailscope-lake://cloudtrail/";

/// The table name of the lake's events.
pub const TABLE: &str = "cloudtrail";

include!(concat!(env!("OUT_DIR"), "/views.rs"));

/// The SQL dialect of every session and of statements parsed outside one.
pub const SQL_DIALECT: &str = "PostgreSQL";

/// Which events of the lake a session sees; everything at the latest version by default.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Events at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Events before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The table version to read (`--as-of`); the latest when absent.
    pub as_of: Option<AsOf>,
}

/// The table version a session reads, kept in its configuration so every report can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeVersion(pub u64);

/// The table version `ctx` reads, when it reads a lake.
pub fn lake_version(ctx: &SessionContext) -> Option<u64> {
    ctx.state()
        .config()
        .get_extension::<LakeVersion>()
        .map(|v| v.0)
}

/// Opens a query session over the lake at `lake`.
pub async fn open(lake: &Path) -> Result<SessionContext> {
    open_scoped(lake, Scope::default()).await
}

/// Opens a query session over the events of the lake at `lake` that lie in `scope`, with the
/// default memory limit ([`default_memory_limit`]).
pub async fn open_scoped(lake: &Path, scope: Scope) -> Result<SessionContext> {
    open_limited(lake, scope, default_memory_limit()).await
}

/// The memory a session's queries may hold by default: half the machine's memory (4 GiB where
/// it cannot be read). Sorts, joins and aggregations spill to the temporary directory past it.
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kib| kib * 1024)
    });
    total.map_or(4 << 30, |t| t / 2)
}

/// Opens a query session over the events of the lake at `lake` that lie in `scope`: the table
/// `cloudtrail` (and every view over it) holds only those, with files of other days pruned.
/// Queries hold at most `memory_limit` bytes; past it, sorts, joins and aggregations spill to
/// the temporary directory, and a query that still cannot fit fails with an error that names
/// the memory limit, instead of taking the process down.
pub async fn open_limited(
    lake: &Path,
    scope: Scope,
    memory_limit: usize,
) -> Result<SessionContext> {
    open_at(&Location::Local(lake.to_path_buf()), scope, memory_limit).await
}

/// [`open_limited`] for a lake on disk or in S3.
pub async fn open_at(loc: &Location, scope: Scope, memory_limit: usize) -> Result<SessionContext> {
    open_on(loc, scope, memory_limit, &Engine::Local).await
}

/// Where a session's queries run: this process, or a Ballista cluster (`--cluster`).
#[derive(Debug, Clone, Default)]
pub enum Engine {
    /// DataFusion in this process.
    #[default]
    Local,
    /// The Ballista cluster whose scheduler is at this address (`df://host:port`).
    Cluster(String),
}

/// Marks a session whose queries run on a cluster, with the tables to compute on the client
/// before a query that reads them is sent (see [`materialize_client_tables`]).
#[derive(Default)]
pub struct OnCluster {
    client_tables: std::sync::Mutex<Vec<ClientEntry>>,
}

/// One client-side table: how to compute it, and whether it is computed. Statements planned
/// at the same time (`detect` runs several rules at once) all wait for the one computation,
/// rather than the later ones planning over the table before its rows are in.
#[derive(Clone)]
struct ClientEntry {
    name: String,
    compute: ClientTable,
    ready: Arc<tokio::sync::OnceCell<()>>,
}

/// Computes a table's rows on the client, from the session: for tables whose provider cannot
/// travel in a plan.
pub type ClientTable = Arc<
    dyn Fn(
            SessionContext,
        ) -> futures::future::BoxFuture<
            'static,
            Result<datafusion::arrow::record_batch::RecordBatch>,
        > + Send
        + Sync,
>;

/// Whether `ctx`'s queries run on a cluster.
pub fn on_cluster(ctx: &SessionContext) -> bool {
    ctx.state().config().get_extension::<OnCluster>().is_some()
}

/// The session a table provider's `scan` is called in, as a context its own queries can run in
/// (tables computed from the lake, such as `credential_chains` and `account_spans`).
pub fn context_of(
    state: &dyn datafusion::catalog::Session,
    table: &str,
) -> datafusion::error::Result<SessionContext> {
    let state = state
        .as_any()
        .downcast_ref::<datafusion::execution::SessionState>()
        .ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!("{table} needs a trailscope session"))
        })?;
    Ok(SessionContext::new_with_state(state.clone()))
}

/// Registers `name` as a table computed on the client by `compute` when `ctx` runs on a
/// cluster (the cluster cannot run a provider's own code); returns false on one machine, where
/// the caller registers its provider as usual.
pub fn register_client_table(ctx: &SessionContext, name: &str, compute: ClientTable) -> bool {
    let Some(on) = ctx.state().config().get_extension::<OnCluster>() else {
        return false;
    };
    if let Ok(mut tables) = on.client_tables.lock() {
        tables.retain(|t| t.name != name);
        tables.push(ClientEntry {
            name: name.to_owned(),
            compute,
            ready: Arc::default(),
        });
    }
    true
}

/// Before `plan` is sent to a cluster: computes every client-side table it reads, once per
/// session, and registers it with its rows. Returns whether the plan reads one (the caller
/// plans the statement again, so that the plan reads the rows: a plan made while another
/// statement was computing the table still reads the provider that cannot travel).
pub async fn materialize_client_tables(
    ctx: &SessionContext,
    plan: &datafusion::logical_expr::LogicalPlan,
) -> Result<bool> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let Some(on) = ctx.state().config().get_extension::<OnCluster>() else {
        return Ok(false);
    };
    let tables: Vec<ClientEntry> = on
        .client_tables
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    if tables.is_empty() {
        return Ok(false);
    }
    let mut wanted: Vec<&ClientEntry> = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let datafusion::logical_expr::LogicalPlan::TableScan(scan) = node {
            let name = scan.table_name.table();
            if let Some(t) = tables.iter().find(|t| t.name == name)
                && !wanted.iter().any(|w| w.name == name)
            {
                wanted.push(t);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .context("reading the plan's tables")?;
    for table in &wanted {
        let name = table.name.as_str();
        table
            .ready
            .get_or_try_init(|| async {
                let batch = (table.compute)(ctx.clone())
                    .await
                    .with_context(|| format!("computing the {name} table"))?;
                replace_with_rows(ctx, name, batch)
            })
            .await?;
    }
    Ok(!wanted.is_empty())
}

/// Registers `batch` as the table `name` in place of its provider.
fn replace_with_rows(
    ctx: &SessionContext,
    name: &str,
    batch: datafusion::arrow::record_batch::RecordBatch,
) -> Result<()> {
    #[cfg(feature = "cluster")]
    let table: Arc<dyn TableProvider> = Arc::new(crate::query::cluster::table::InlineTable::new(
        batch.schema(),
        vec![batch],
    ));
    #[cfg(not(feature = "cluster"))]
    let table: Arc<dyn TableProvider> = Arc::new(
        MemTable::try_new(batch.schema(), vec![vec![batch]])
            .with_context(|| format!("holding the {name} table"))?,
    );
    // No await between the two: statements planned beside this one never miss the table.
    ctx.deregister_table(name)
        .with_context(|| format!("replacing the {name} table"))?;
    ctx.register_table(name, table)
        .with_context(|| format!("registering the {name} table"))?;
    Ok(())
}

/// [`open_at`] with its queries run by `engine`.
pub async fn open_on(
    loc: &Location,
    scope: Scope,
    memory_limit: usize,
    engine: &Engine,
) -> Result<SessionContext> {
    if let Location::Local(lake) = loc {
        if !lake.join(META_DIR).is_dir() {
            bail!(
                "{} is not a trailscope lake (no {META_DIR}/ in it); build one with `trailscope ingest SOURCE --lake {}`",
                lake.display(),
                lake.display()
            );
        }
        // Finish (or discard) a run that an ingest left half-committed, and convert a lake of
        // the earlier format, unless an ingest is running right now; either way only committed
        // files are in the table.
        // (Only when there is something to do: opening the writer reads the log once more.)
        let staging = lake.join(META_DIR).join("staging");
        let pending = crate::lake::list_dir(&staging).is_ok_and(|d| !d.is_empty());
        if (pending || !crate::lake::delta::exists(lake))
            && let Ok(writer) = crate::lake::Lake::open(lake).await
        {
            drop(writer);
        }
    }
    let table = crate::lake::delta::load_at(loc, scope.as_of.as_ref())
        .await?
        .with_context(|| {
            format!("{loc} has no cloudtrail table yet; build one with `trailscope ingest SOURCE --lake {loc}`")
        })?;
    let version = table.version().unwrap_or(0);
    if let Engine::Cluster(at) = engine {
        return open_cluster(loc, &table, scope, memory_limit, at).await;
    }
    let ctx = context(memory_limit, Some(version))?;
    // DataFusion's own Parquet listing table, over a store that lists exactly this version's
    // files: pruning, statistics and the lake's column types as for any Parquet directory.
    let store = crate::lake::snapshot::SnapshotStore::new(&table)?;
    let url = url::Url::parse(SNAPSHOT_URL).context("the snapshot store's URL")?;
    ctx.register_object_store(&url, Arc::new(store));
    let url = ListingTableUrl::parse(SNAPSHOT_URL).context("the snapshot store's URL")?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(
            PARTITION_COLUMNS
                .iter()
                .map(|c| (c.to_string(), DataType::Utf8))
                .collect(),
        );
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema::file_schema());
    // The files' statistics are worked out once per session: without the session's cache a
    // listing table reads them again for every scan, which cost more than most rules' work.
    // Kept without the bounds of nested columns, which no plan reads but every scan merged.
    let statistics = ctx
        .runtime_env()
        .cache_manager
        .get_file_statistic_cache()
        .map(|cache| -> Arc<FileStatisticsCache> {
            Arc::new(super::planstats::PlanStatistics::new(
                cache,
                &schema::file_schema(),
            ))
        });
    let listing: Arc<dyn TableProvider> = Arc::new(
        ListingTable::try_new(config)
            .context("opening the cloudtrail table")?
            .with_cache(statistics),
    );
    let provider: Arc<dyn TableProvider> = Arc::new(super::apis::ApiPrunedTable::new(listing));
    let ctx = finish(ctx, provider, scope).await?;
    // The latest verdicts, when the lake was verified: a file beside the table, not versioned.
    match loc {
        Location::Local(lake) => {
            let results = crate::lake::digests::results_path(lake);
            if results.is_file() {
                ctx.deregister_table(schema::VERIFICATION_TABLE)
                    .context("replacing the verification table")?;
                ctx.register_parquet(
                    schema::VERIFICATION_TABLE,
                    &results.to_string_lossy(),
                    datafusion::prelude::ParquetReadOptions::default(),
                )
                .await
                .with_context(|| format!("opening {}", results.display()))?;
            }
        }
        Location::S3(_) => {
            // One small file per verify run: read whole, held in memory.
            if let Some((schema, batches)) = stored_verdicts(loc).await? {
                let table = MemTable::try_new(schema, vec![batches])
                    .context("loading the stored verdicts")?;
                replace_verification(&ctx, Arc::new(table))?;
            }
        }
    }
    Ok(ctx)
}

/// Puts `table` in place of the session's (empty) `verification` table.
fn replace_verification(ctx: &SessionContext, table: Arc<dyn TableProvider>) -> Result<()> {
    ctx.deregister_table(schema::VERIFICATION_TABLE)
        .context("replacing the verification table")?;
    ctx.register_table(schema::VERIFICATION_TABLE, table)
        .context("registering the verification table")?;
    Ok(())
}

/// The latest verdicts stored in the lake at `loc`, read whole (one small file per verify run).
async fn stored_verdicts(
    loc: &Location,
) -> Result<
    Option<(
        datafusion::arrow::datatypes::SchemaRef,
        Vec<datafusion::arrow::record_batch::RecordBatch>,
    )>,
> {
    let (name, bytes) = match loc {
        Location::Local(lake) => {
            let path = crate::lake::digests::results_path(lake);
            if !path.is_file() {
                return Ok(None);
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            (path.display().to_string(), bytes::Bytes::from(bytes))
        }
        Location::S3(s3) => {
            let key = crate::lake::digests::RESULTS_FILE;
            match s3.get(key).await? {
                Some(bytes) => (format!("{}/{key}", s3.uri), bytes),
                None => return Ok(None),
            }
        }
    };
    let batches = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .with_context(|| format!("reading {name}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {name}"))?;
    let schema = batches
        .first()
        .map_or_else(schema::verification_schema, |b| b.schema());
    Ok(Some((schema, batches)))
}

#[cfg(feature = "cluster")]
async fn open_cluster(
    loc: &Location,
    table: &deltalake::DeltaTable,
    scope: Scope,
    memory_limit: usize,
    at: &str,
) -> Result<SessionContext> {
    use crate::query::cluster::{self, table::InlineTable};
    let at = cluster::Address::parse(at)?;
    let version = table.version().unwrap_or(0);
    let config = cluster::client_config(base_config(Some(version)))
        .with_extension(Arc::new(OnCluster::default()));
    let state = base_state(config, memory_limit)?;
    // The plan goes to the scheduler after the client optimized it. Two of DataFusion 55's
    // rules name struct-field extractions `__datafusion_extracted_N` in a way the plan's
    // serialization does not carry back ("No field named min(__datafusion_extracted_1)"); the
    // scheduler optimizes the plan again with every rule, so the client leaves them out.
    let rules: Vec<_> = state
        .optimizers()
        .iter()
        .filter(|r| {
            !matches!(
                r.name(),
                "extract_leaf_expressions" | "push_down_leaf_projections"
            )
        })
        .cloned()
        .collect();
    let state = SessionStateBuilder::new_from_existing(state)
        .with_optimizer_rules(rules)
        .build();
    let mut ctx = cluster::connect(&at, state).await?;
    register_functions(&mut ctx)?;
    // The days outside --since/--until are left out of the plan (the filters stay exact).
    let first = scope.since.map(|t| t.format("%Y-%m-%d").to_string());
    let last = scope.until.map(|t| t.format("%Y-%m-%d").to_string());
    let provider: Arc<dyn TableProvider> = Arc::new(cluster::table::LakeTable::of(
        loc,
        table,
        first.as_deref(),
        last.as_deref(),
    )?);
    let ctx = finish(ctx, provider, scope).await?;
    // The verdicts travel in the plan, stored ones or none.
    let (schema, batches) = stored_verdicts(loc)
        .await?
        .unwrap_or_else(|| (schema::verification_schema(), Vec::new()));
    replace_verification(&ctx, Arc::new(InlineTable::new(schema, batches)))?;
    Ok(ctx)
}

#[cfg(not(feature = "cluster"))]
async fn open_cluster(
    _loc: &Location,
    _table: &deltalake::DeltaTable,
    _scope: Scope,
    _memory_limit: usize,
    at: &str,
) -> Result<SessionContext> {
    bail!(
        "this trailscope was built without cluster support (cargo feature `cluster`); cannot use the cluster at {at}"
    )
}

/// A session whose `cloudtrail` table is empty but has the lake's schema: enough to plan and
/// lint queries without a lake.
pub async fn open_schema_only() -> Result<SessionContext> {
    let ctx = context(default_memory_limit(), None)?;
    let table = MemTable::try_new(schema::table_schema(), vec![vec![]])
        .context("creating an empty cloudtrail table")?;
    finish(ctx, Arc::new(table), Scope::default()).await
}

/// A context with trailscope's configuration, analyzer rule, functions and memory pool, and no
/// tables.
fn context(memory_limit: usize, version: Option<u64>) -> Result<SessionContext> {
    let state = base_state(base_config(version), memory_limit)?;
    let mut ctx = SessionContext::new_with_state(state);
    register_functions(&mut ctx)?;
    Ok(ctx)
}

/// The memory for the Parquet footers and page indexes a session keeps.
const METADATA_CACHE_LIMIT: usize = 256 << 20;

/// The memory for the file statistics a session keeps.
const STATISTICS_CACHE_LIMIT: usize = 128 << 20;

/// trailscope's session configuration.
fn base_config(version: Option<u64>) -> SessionConfig {
    // Filters are evaluated while decoding Parquet, so the wide JSON and struct columns are only
    // decoded for rows that pass: detections select a sliver of the events.
    let config = SessionConfig::new()
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
        // Responders write `requestparameters->>'principal' = '*'` the PostgreSQL and DuckDB
        // way; the generic dialect binds `=` tighter than `->>` and fails on it.
        .set_str("datafusion.sql_parser.dialect", SQL_DIALECT)
        .with_information_schema(true)
        .with_default_catalog_and_schema("trailscope", "public");
    match version {
        Some(v) => config.with_extension(Arc::new(LakeVersion(v))),
        None => config,
    }
}

/// A session state of `config` with trailscope's analyzer rule and memory pool.
fn base_state(
    config: SessionConfig,
    memory_limit: usize,
) -> Result<datafusion::execution::SessionState> {
    // Athena-style boolean comparisons are rewritten before DataFusion's type coercion runs.
    let mut rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> = vec![Arc::new(AthenaBooleans)];
    rules.extend(Analyzer::new().rules);
    let pool = TrackConsumersPool::new(
        FairSpillPool::new(memory_limit),
        std::num::NonZeroUsize::new(5).context("a consumer count")?,
    );
    // Footers, page indexes and file statistics are kept for the session, so that the many
    // scans of one `detect` read and work them out once: DataFusion's defaults (50 and 20 MiB)
    // hold a few hundred day files, and a lake of a year holds thousands.
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_metadata_cache_limit(METADATA_CACHE_LIMIT)
        .with_file_statistics_cache_limit(STATISTICS_CACHE_LIMIT)
        .build_arc()
        .context("setting up the query memory pool")?;
    Ok(SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_analyzer_rules(rules)
        .build())
}

/// The JSON functions and trailscope's own.
fn register_functions(ctx: &mut SessionContext) -> Result<()> {
    datafusion_functions_json::register_all(ctx).context("registering the JSON functions")?;
    functions::register(ctx);
    Ok(())
}

/// Registers `table` as `cloudtrail`, narrowed to `scope`, and the views over it.
async fn finish(
    ctx: SessionContext,
    table: Arc<dyn TableProvider>,
    scope: Scope,
) -> Result<SessionContext> {
    let mut filters = Vec::new();
    let micros = |t: chrono::DateTime<chrono::Utc>| {
        lit(ScalarValue::TimestampMicrosecond(
            Some(t.timestamp_micros()),
            Some("UTC".into()),
        ))
    };
    // The day filters prune whole partitions; the time filters are exact.
    if let Some(since) = scope.since {
        filters.push(col(schema::PART_DAY).gt_eq(lit(since.format("%Y-%m-%d").to_string())));
        filters.push(col(schema::EVENT_TIME).gt_eq(micros(since)));
    }
    if let Some(until) = scope.until {
        filters.push(col(schema::PART_DAY).lt_eq(lit(until.format("%Y-%m-%d").to_string())));
        filters.push(col(schema::EVENT_TIME).lt(micros(until)));
    }
    let provider = match filters.into_iter().reduce(Expr::and) {
        None => table,
        Some(filter) => ctx
            .read_table(table)
            .and_then(|df| df.filter(filter))
            .context("narrowing the cloudtrail table to --since/--until")?
            .into_view(),
    };
    ctx.register_table(TABLE, provider)
        .context("registering the cloudtrail table")?;
    super::spans::register(&ctx)?;
    // Empty until `verify` stores verdicts; open_scoped replaces it with them.
    let empty = MemTable::try_new(schema::verification_schema(), vec![vec![]])
        .context("creating the verification table")?;
    ctx.register_table(schema::VERIFICATION_TABLE, Arc::new(empty))
        .context("registering the verification table")?;
    for (name, sql) in VIEWS {
        let df = ctx
            .sql(&format!("CREATE VIEW {name} AS {sql}"))
            .await
            .with_context(|| format!("defining the view {name}"))?;
        df.collect()
            .await
            .with_context(|| format!("defining the view {name}"))?;
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    /// Two statements planned over a client-side table while it is being computed: both wait
    /// for the rows and are planned again (before, the second went ahead over the provider
    /// that cannot travel to a cluster, and `detect` on a cluster failed now and then).
    #[tokio::test]
    async fn statements_planned_together_all_wait_for_a_client_table() {
        let config = SessionConfig::new().with_extension(Arc::new(OnCluster::default()));
        let ctx = SessionContext::new_with_config(config);
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        ctx.register_table(
            "t",
            Arc::new(MemTable::try_new(schema.clone(), vec![vec![]]).unwrap()),
        )
        .unwrap();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        assert!(register_client_table(
            &ctx,
            "t",
            Arc::new(move |_ctx: SessionContext| {
                let schema = schema.clone();
                let counted = counted.clone();
                Box::pin(async move {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Ok(RecordBatch::try_new(
                        schema,
                        vec![Arc::new(Int64Array::from(vec![7, 8, 9]))],
                    )?)
                })
            }),
        ));
        let sql = "SELECT count(*) FROM t";
        let first = ctx.state().create_logical_plan(sql).await.unwrap();
        let second = ctx.state().create_logical_plan(sql).await.unwrap();
        let (a, b) = tokio::join!(
            materialize_client_tables(&ctx, &first),
            materialize_client_tables(&ctx, &second)
        );
        assert!(a.unwrap() && b.unwrap(), "both plans must be made again");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let rows = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let n = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(n, 3);
    }
}
