//! Query step: the `cloudtrail` table, with the files that hold none of the APIs a scan asks for
//! left out before they are opened.
//!
//! Input: the lake's listing table and the filters DataFusion pushes into each scan. Output: that
//! table's scan over fewer files. Most detections and investigations name their APIs
//! (`eventsource = 'cloudtrail.amazonaws.com' AND eventname = 'StopLogging'`), and most files of a
//! lake hold none of them; DataFusion would still open every file on every scan (footer, schema,
//! pruning predicate, bloom filters), which cost more than the rest of most rules' work. So the
//! distinct `eventsource` and `eventname` values of each file are read once per session (two
//! small dictionary-encoded columns, through the session's footer cache) and a scan keeps only
//! the files where its filters can hold.
//!
//! This module never changes what a query returns: a file is left out only when one of the
//! scan's filters is false for every value the file holds; a filter it cannot judge (a function
//! of the column, a negation, a pattern other than a prefix) keeps every file.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::TableProvider;
use datafusion::common::{Constraints, DataFusionError, Result as DfResult, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::{
    CachedParquetFileReaderFactory, ParquetFileReaderFactory,
};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::{
    BinaryExpr, Expr, Operator, TableProviderFilterPushDown, expr::InList, expr::Like,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use crate::schema::{EVENT_NAME, EVENT_SOURCE};

/// The columns a file is indexed by, in the order of [`FileApis`].
const COLUMNS: [&str; 2] = [EVENT_SOURCE, EVENT_NAME];

/// How many files are read at once to index them.
const INDEX_READS_AT_ONCE: usize = 16;

/// The lake's table, whose scans skip the files their API filters rule out.
#[derive(Debug)]
pub struct ApiPrunedTable {
    inner: Arc<dyn TableProvider>,
    index: tokio::sync::Mutex<Index>,
}

/// The distinct values of [`COLUMNS`] in each indexed file, as sorted ids into [`Index::values`].
type FileApis = [Vec<u32>; 2];

/// Every file indexed so far in the session, and the values they hold.
#[derive(Debug, Default)]
struct Index {
    ids: HashMap<Arc<str>, u32>,
    values: Vec<Arc<str>>,
    files: HashMap<Path, FileApis>,
}

impl Index {
    fn intern(&mut self, value: String) -> u32 {
        if let Some(&id) = self.ids.get(value.as_str()) {
            return id;
        }
        let id = self.values.len() as u32;
        let value: Arc<str> = value.into();
        self.values.push(Arc::clone(&value));
        self.ids.insert(value, id);
        id
    }
}

impl ApiPrunedTable {
    /// `inner` (the lake's listing table), its scans narrowed by API.
    pub fn new(inner: Arc<dyn TableProvider>) -> ApiPrunedTable {
        ApiPrunedTable {
            inner,
            index: tokio::sync::Mutex::new(Index::default()),
        }
    }

    /// `plan` without the files where `test` cannot hold; `plan` itself when it is not a file
    /// scan or no file can be left out.
    async fn narrow(
        &self,
        state: &dyn Session,
        plan: Arc<dyn ExecutionPlan>,
        test: &Test,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let Some(config) = plan
            .downcast_ref::<DataSourceExec>()
            .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
        else {
            return Ok(plan);
        };
        let files: Vec<&PartitionedFile> =
            config.file_groups.iter().flat_map(|g| g.iter()).collect();
        let mut index = self.index.lock().await;
        let missing: Vec<PartitionedFile> = files
            .iter()
            .filter(|f| !index.files.contains_key(&f.object_meta.location))
            .map(|f| (*f).clone())
            .collect();
        if !missing.is_empty() {
            let store = state.runtime_env().object_store(&config.object_store_url)?;
            let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
            let factory = Arc::new(CachedParquetFileReaderFactory::new(store, cache));
            let read: Vec<(Path, [BTreeSet<String>; 2])> = futures::stream::iter(missing)
                .map(|file| {
                    let factory = Arc::clone(&factory);
                    async move {
                        let values: [BTreeSet<String>; 2] =
                            file_values(factory.as_ref(), &file).await?;
                        Ok::<_, DataFusionError>((file.object_meta.location.clone(), values))
                    }
                })
                .buffer_unordered(INDEX_READS_AT_ONCE)
                .try_collect()
                .await?;
            for (path, [sources, names]) in read {
                let mut ids = |values: BTreeSet<String>| {
                    let mut v: Vec<u32> = values.into_iter().map(|s| index.intern(s)).collect();
                    v.sort_unstable();
                    v
                };
                let apis = [ids(sources), ids(names)];
                index.files.insert(path, apis);
            }
        }
        let keep = |f: &PartitionedFile| {
            index
                .files
                .get(&f.object_meta.location)
                .is_none_or(|apis| test.may_hold(&index, apis))
        };
        // Groups keep their number (a scan may declare its partitioning by them); the engine
        // balances the files between partitions as it reads.
        let groups: Vec<FileGroup> = config
            .file_groups
            .iter()
            .map(|g| FileGroup::new(g.iter().filter(|f| keep(f)).cloned().collect()))
            .collect();
        let kept: usize = groups.iter().map(FileGroup::len).sum();
        log::debug!(
            "cloudtrail scan: {kept} of {} files hold the APIs asked for",
            files.len()
        );
        if kept == files.len() {
            return Ok(plan);
        }
        if kept == 0 {
            return Ok(Arc::new(EmptyExec::new(plan.schema())));
        }
        let narrowed = FileScanConfigBuilder::from(config.clone())
            .with_file_groups(groups)
            .build();
        Ok(DataSourceExec::from_data_source(narrowed))
    }
}

/// The distinct values of [`COLUMNS`] in `file`.
async fn file_values(
    factory: &dyn ParquetFileReaderFactory,
    file: &PartitionedFile,
) -> DfResult<[BTreeSet<String>; 2]> {
    // `AsyncFileReader` is `Send` already; the stream builder reads through the plain box.
    let reader: Box<dyn AsyncFileReader> =
        factory.create_reader(0, file.clone(), None, &ExecutionPlanMetricsSet::new())?;
    let builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), COLUMNS);
    let mut stream = builder.with_projection(mask).build()?;
    let mut out = [BTreeSet::new(), BTreeSet::new()];
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for (i, name) in COLUMNS.iter().enumerate() {
            let Some(column) = batch.column_by_name(name) else {
                continue;
            };
            let column = cast(column, &DataType::Utf8)?;
            let column = column.as_string::<i32>();
            // Files are sorted by service and API: runs of one value, looked up once.
            let mut last: Option<&str> = None;
            for value in column.iter().flatten() {
                if last != Some(value) {
                    if !out[i].contains(value) {
                        out[i].insert(value.to_owned());
                    }
                    last = Some(value);
                }
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl TableProvider for ApiPrunedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.scan(state, projection, filters, limit).await?;
        let test = Test::All(filters.iter().map(Test::of).collect()).simplified();
        if matches!(test, Test::Unknown) {
            return Ok(plan);
        }
        self.narrow(state, plan, &test).await
    }
}

/// What a scan's filters say about the values of [`COLUMNS`] a file must hold for a row of it
/// to pass.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Nothing known: every file may hold a passing row.
    Unknown,
    /// The file holds one of these values in `COLUMNS[column]`.
    OneOf { column: usize, values: Vec<String> },
    /// The file holds, in `COLUMNS[column]`, a value starting with `prefix`.
    Prefix { column: usize, prefix: String },
    /// Every one holds.
    All(Vec<Test>),
    /// At least one holds.
    Any(Vec<Test>),
}

impl Test {
    /// The test a filter implies.
    fn of(e: &Expr) -> Test {
        match e {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::And => Test::All(vec![Test::of(left), Test::of(right)]),
                Operator::Or => Test::Any(vec![Test::of(left), Test::of(right)]),
                Operator::Eq => match (column(left), text(right), column(right), text(left)) {
                    (Some(column), Some(v), _, _) | (_, _, Some(column), Some(v)) => Test::OneOf {
                        column,
                        values: vec![v.to_owned()],
                    },
                    _ => Test::Unknown,
                },
                _ => Test::Unknown,
            },
            Expr::InList(InList {
                expr,
                list,
                negated: false,
            }) => match (
                column(expr),
                list.iter().map(text).collect::<Option<Vec<_>>>(),
            ) {
                (Some(column), Some(values)) => Test::OneOf {
                    column,
                    values: values.into_iter().map(str::to_owned).collect(),
                },
                _ => Test::Unknown,
            },
            Expr::Like(Like {
                negated: false,
                expr,
                pattern,
                escape_char: None,
                case_insensitive: false,
            }) => match (column(expr), text(pattern)) {
                (Some(column), Some(p)) => {
                    let prefix = p.trim_end_matches('%');
                    if prefix.contains(['%', '_', '\\']) {
                        Test::Unknown
                    } else if prefix.len() == p.len() {
                        Test::OneOf {
                            column,
                            values: vec![p.to_owned()],
                        }
                    } else {
                        Test::Prefix {
                            column,
                            prefix: prefix.to_owned(),
                        }
                    }
                }
                _ => Test::Unknown,
            },
            _ => Test::Unknown,
        }
    }

    /// The same test with the parts that say nothing removed: `Unknown` when nothing is left.
    fn simplified(self) -> Test {
        match self {
            Test::All(parts) => {
                let mut parts: Vec<Test> = parts
                    .into_iter()
                    .map(Test::simplified)
                    .filter(|t| *t != Test::Unknown)
                    .collect();
                match parts.len() {
                    0 => Test::Unknown,
                    1 => parts.remove(0),
                    _ => Test::All(parts),
                }
            }
            Test::Any(parts) => {
                let mut parts: Vec<Test> = parts.into_iter().map(Test::simplified).collect();
                if parts.contains(&Test::Unknown) {
                    Test::Unknown
                } else if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Test::Any(parts)
                }
            }
            t => t,
        }
    }

    /// Whether a file holding `apis` may hold a row that passes.
    fn may_hold(&self, index: &Index, apis: &FileApis) -> bool {
        match self {
            Test::Unknown => true,
            Test::OneOf { column, values } => values.iter().any(|v| {
                index
                    .ids
                    .get(v.as_str())
                    .is_some_and(|id| apis[*column].binary_search(id).is_ok())
            }),
            Test::Prefix { column, prefix } => apis[*column]
                .iter()
                .any(|&id| index.values[id as usize].starts_with(prefix.as_str())),
            Test::All(parts) => parts.iter().all(|t| t.may_hold(index, apis)),
            Test::Any(parts) => parts.iter().any(|t| t.may_hold(index, apis)),
        }
    }
}

/// The index into [`COLUMNS`] of `e` when it is one of them (a cast between string types keeps
/// the values).
fn column(e: &Expr) -> Option<usize> {
    match e {
        Expr::Column(c) => COLUMNS.iter().position(|name| *name == c.name),
        Expr::Cast(c)
            if matches!(
                c.field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            column(&c.expr)
        }
        _ => None,
    }
}

/// The text of `e` when it is a non-null string literal.
fn text(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(value, _) => value.try_as_str().flatten(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn index(files: &[(&[&str], &[&str])]) -> (Index, Vec<FileApis>) {
        let mut index = Index::default();
        let apis = files
            .iter()
            .map(|(sources, names)| {
                let mut ids = |values: &[&str]| {
                    let mut v: Vec<u32> = values
                        .iter()
                        .map(|s| index.intern((*s).to_owned()))
                        .collect();
                    v.sort_unstable();
                    v
                };
                [ids(sources), ids(names)]
            })
            .collect();
        (index, apis)
    }

    fn holds(filters: &[Expr], index: &Index, apis: &FileApis) -> bool {
        Test::All(filters.iter().map(Test::of).collect())
            .simplified()
            .may_hold(index, apis)
    }

    #[test]
    fn a_file_is_left_out_only_when_a_filter_is_false_for_all_it_holds() {
        let (index, files) = index(&[
            (
                &["cloudtrail.amazonaws.com"],
                &["StopLogging", "LookupEvents"],
            ),
            (
                &["s3.amazonaws.com", "iam.amazonaws.com"],
                &["GetObject", "PutBucketAcl"],
            ),
        ]);
        let stop = [
            col(EVENT_SOURCE).eq(lit("cloudtrail.amazonaws.com")),
            col(EVENT_NAME).eq(lit("StopLogging")),
        ];
        assert!(holds(&stop, &index, &files[0]));
        assert!(!holds(&stop, &index, &files[1]));
        // A value no file holds at all.
        assert!(!holds(
            &[lit("DeleteTrail").eq(col(EVENT_NAME))],
            &index,
            &files[0]
        ));
        let acl = col(EVENT_NAME).in_list(vec![lit("PutBucketAcl"), lit("PutObjectAcl")], false);
        assert!(!holds(std::slice::from_ref(&acl), &index, &files[0]));
        assert!(holds(&[acl], &index, &files[1]));
        let like = col(EVENT_NAME).like(lit("Stop%"));
        assert!(holds(std::slice::from_ref(&like), &index, &files[0]));
        assert!(!holds(&[like], &index, &files[1]));
        let either = col(EVENT_NAME)
            .eq(lit("GetObject"))
            .or(col(EVENT_NAME).eq(lit("StopLogging")));
        assert!(holds(std::slice::from_ref(&either), &index, &files[0]));
        assert!(holds(&[either], &index, &files[1]));
    }

    #[test]
    fn what_it_cannot_judge_keeps_every_file() {
        let (index, files) = index(&[(&["s3.amazonaws.com"], &["GetObject"])]);
        let keeps = [
            col(EVENT_NAME).not_eq(lit("GetObject")),
            col(EVENT_NAME).in_list(vec![lit("StopLogging")], true),
            col(EVENT_NAME).not_like(lit("Get%")),
            col(EVENT_NAME).like(lit("%Logging")),
            col(EVENT_NAME).like(lit("Stop_ogging")),
            col(EVENT_NAME).ilike(lit("stoplogging")),
            datafusion::functions::string::expr_fn::lower(col(EVENT_NAME)).eq(lit("stoplogging")),
            col("errorcode").eq(lit("AccessDenied")),
            // One side of an OR that says nothing keeps the file.
            col(EVENT_NAME)
                .eq(lit("StopLogging"))
                .or(col("errorcode").is_null()),
        ];
        for filter in keeps {
            assert!(
                holds(std::slice::from_ref(&filter), &index, &files[0]),
                "{filter} left a file out"
            );
        }
    }
}
