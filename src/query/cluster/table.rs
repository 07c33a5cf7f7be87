//! Cluster step: the tables a query carries to a cluster.
//!
//! Input: a loaded Delta table version (for `cloudtrail`) or record batches (for small tables
//! computed on the client). Output: table providers that a plan can carry to the scheduler whole:
//! [`LakeTable`] names exactly the version's files and where they live, so the scheduler plans
//! the scan without listing anything (a listing would see files the version removed), and every
//! executor reads the files through its own object store; [`InlineTable`] holds its rows.
//!
//! This module does not encode them; [`super::codec`] does.

use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::project_schema;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::lake::Location;
use crate::schema::{self, PARTITION_COLUMNS, TABLE_DIR};

/// One data file of a table version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LakeFile {
    /// The file's path inside its object store (no leading slash).
    pub path: String,
    /// Its size in bytes, as the Delta log records it.
    pub size: u64,
    /// Its partition values, in the order of [`PARTITION_COLUMNS`].
    pub partition: Vec<String>,
}

/// Exactly the files of one version of the lake's table, and the object store that holds them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LakeTable {
    /// `s3://bucket` or `file:///`: the store every file is read from.
    pub store: String,
    /// The table version these files are.
    pub version: u64,
    /// The files.
    pub files: Vec<LakeFile>,
}

impl LakeTable {
    /// The files of `table`'s loaded version of the lake at `loc`, of the days from `first` to
    /// `last` (inclusive, `YYYY-MM-DD`) when given: the plan names only the files it may read.
    pub fn of(
        loc: &Location,
        table: &deltalake::DeltaTable,
        first: Option<&str>,
        last: Option<&str>,
    ) -> Result<LakeTable> {
        let (store, base) = match loc {
            Location::Local(dir) => {
                let dir = dir
                    .join(TABLE_DIR)
                    .canonicalize()
                    .with_context(|| format!("finding the table of {}", dir.display()))?;
                let text = dir
                    .to_str()
                    .with_context(|| format!("{} is not UTF-8", dir.display()))?;
                (
                    "file:///".to_owned(),
                    text.trim_start_matches('/').to_owned(),
                )
            }
            Location::S3(s3) => {
                let base = if s3.prefix.is_empty() {
                    TABLE_DIR.to_owned()
                } else {
                    format!("{}/{TABLE_DIR}", s3.prefix)
                };
                (format!("s3://{}", s3.bucket), base)
            }
        };
        let snapshot = table.snapshot().context("the Delta table is not loaded")?;
        let mut files = Vec::new();
        for f in snapshot.log_data().iter() {
            let relative = f.object_store_path().to_string();
            let key = crate::lake::delta::partition_of(&relative)
                .with_context(|| format!("{relative}: a data file outside the partitions"))?;
            if first.is_some_and(|d| key.day.as_str() < d)
                || last.is_some_and(|d| key.day.as_str() > d)
            {
                continue;
            }
            files.push(LakeFile {
                path: format!("{base}/{relative}"),
                size: f.size().max(0) as u64,
                partition: vec![key.account, key.region, key.day],
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(LakeTable {
            store,
            version: table.version().unwrap_or(0),
            files,
        })
    }

    /// The files' schema as the cluster reads it: `source_uri` as plain text. Ballista's
    /// shuffles lose the dictionary encoding of a column on the way (a stage then expects
    /// `Dictionary(Int32, Utf8)` and gets `Utf8`); the reader casts it, values unchanged.
    fn file_schema() -> SchemaRef {
        let fields: Vec<Field> = schema::file_schema()
            .fields()
            .iter()
            .map(|f| {
                if f.name() == schema::SOURCE_URI {
                    Field::new(f.name(), DataType::Utf8, f.is_nullable())
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        Arc::new(datafusion::arrow::datatypes::Schema::new(fields))
    }

    fn partition_fields() -> Vec<Arc<Field>> {
        PARTITION_COLUMNS
            .iter()
            .map(|c| Arc::new(Field::new(*c, DataType::Utf8, false)))
            .collect()
    }
}

#[async_trait::async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        let mut fields: Vec<Arc<Field>> = Self::file_schema().fields().iter().cloned().collect();
        fields.extend(Self::partition_fields());
        Arc::new(datafusion::arrow::datatypes::Schema::new(fields))
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if self.files.is_empty() {
            let projected = project_schema(&self.schema(), projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        // Files spread over as many groups as the session runs partitions, largest first, each
        // to the lightest group: executors get even work.
        let groups_wanted = state.config().target_partitions().max(1);
        let mut order: Vec<&LakeFile> = self.files.iter().collect();
        order.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> = vec![(0, Vec::new()); groups_wanted];
        for f in order {
            let lightest = groups
                .iter_mut()
                .min_by_key(|(bytes, _)| *bytes)
                .ok_or_else(|| datafusion::error::DataFusionError::Internal("no group".into()))?;
            lightest.0 += f.size;
            lightest.1.push(
                PartitionedFile::new(f.path.clone(), f.size).with_partition_values(
                    f.partition
                        .iter()
                        .map(|v| ScalarValue::Utf8(Some(v.clone())))
                        .collect(),
                ),
            );
        }
        let groups: Vec<FileGroup> = groups
            .into_iter()
            .filter(|(_, files)| !files.is_empty())
            .map(|(_, files)| FileGroup::new(files))
            .collect();
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let table_schema = TableSchema::builder(Self::file_schema())
            .with_table_partition_cols(Self::partition_fields())
            .build();
        let source = format.file_source(table_schema);
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::parse(&self.store)?, source)
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        // Filters stay above the scan; the physical optimizer pushes them into the Parquet
        // reader, where they prune row groups and pages as in a session on one machine.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}

/// A small table computed on the client (verdicts, credential chains) whose rows travel in the
/// plan.
#[derive(Debug, Clone)]
pub struct InlineTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl InlineTable {
    /// A table of `batches`, all of `schema`.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> InlineTable {
        InlineTable { schema, batches }
    }

    /// Its rows.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }
}

#[async_trait::async_trait]
impl TableProvider for InlineTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        MemTable::try_new(self.schema.clone(), vec![self.batches.clone()])?
            .scan(state, projection, filters, limit)
            .await
    }
}
