//! Query step: the `account_spans` table, each account's first and last event, worked out once
//! per session.
//!
//! Input: the session's `cloudtrail` table (narrowed to `--since`/`--until` when given). Output:
//! one row per account: `account`, `t0` (first event), `t1` (last event). Detections that learn
//! a baseline ("nothing is new during an account's first day") need these bounds; computed in
//! each rule, they cost a scan of every event time per rule. The rows are computed the first
//! time a statement reads the table and kept for the session, whose table version never
//! changes.
//!
//! This module does not decide what a learning period is; the rules do.

use std::sync::Arc;

use anyhow::{Context, Result};
use async_trait::async_trait;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::TableType;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{Expr, SessionContext};

use crate::schema;

/// The statement the table holds the rows of.
const SQL: &str = "SELECT account, min(eventtime) AS t0, max(eventtime) AS t1 FROM cloudtrail GROUP BY account ORDER BY account";

/// The `account_spans` table of one session.
#[derive(Debug, Default)]
pub struct SpansTable {
    rows: tokio::sync::OnceCell<RecordBatch>,
}

/// Adds the `account_spans` table to `ctx`, whose `cloudtrail` table is registered.
pub fn register(ctx: &SessionContext) -> Result<()> {
    ctx.register_table(schema::SPANS_TABLE, Arc::new(SpansTable::default()))
        .context("registering the account_spans table")?;
    // A cluster cannot run this provider's code: the rows are computed here (the query runs on
    // the cluster) the first time a statement reads the table.
    super::session::register_client_table(
        ctx,
        schema::SPANS_TABLE,
        Arc::new(|ctx: SessionContext| Box::pin(async move { compute(&ctx).await })),
    );
    Ok(())
}

/// The table's rows, from `ctx`'s `cloudtrail` table.
pub async fn compute(ctx: &SessionContext) -> Result<RecordBatch> {
    let batches = ctx
        .sql(SQL)
        .await
        .context("planning the account_spans table")?
        .collect()
        .await
        .context("computing the account_spans table")?;
    let spans = schema::spans_schema();
    let Some(first) = batches.first() else {
        return Ok(RecordBatch::new_empty(spans));
    };
    let all = concat_batches(&first.schema(), &batches)?;
    let columns = spans
        .fields()
        .iter()
        .zip(all.columns())
        .map(|(field, column)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(spans, columns).context("holding the account_spans table")
}

#[async_trait]
impl TableProvider for SpansTable {
    fn schema(&self) -> SchemaRef {
        schema::spans_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let rows = self
            .rows
            .get_or_try_init(|| async {
                let ctx = super::session::context_of(state, schema::SPANS_TABLE)?;
                compute(&ctx)
                    .await
                    .map_err(|e| DataFusionError::Execution(format!("{e:#}")))
            })
            .await?;
        let mem = MemTable::try_new(schema::spans_schema(), vec![vec![rows.clone()]])?;
        mem.scan(state, projection, filters, limit).await
    }
}
