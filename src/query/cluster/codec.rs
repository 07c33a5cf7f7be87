//! Cluster step: how trailscope's tables travel inside a plan.
//!
//! Input: a logical plan's table providers. Output: bytes in the plan that the scheduler turns
//! back into the same providers. A [`LakeTable`] travels as its file list (JSON), an
//! [`InlineTable`] as its rows (Arrow IPC); everything else is Ballista's own codec's business.
//! Physical plans need nothing of ours: the scan of a [`LakeTable`] is DataFusion's own Parquet
//! scan, which Ballista's physical codec already carries.
//!
//! This module does not decide what runs where; Ballista does.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion_proto::logical_plan::LogicalExtensionCodec;

use super::table::{InlineTable, LakeTable};

const OTHER: u8 = 0;
const LAKE: u8 = 1;
const INLINE: u8 = 2;

/// Ballista's logical codec, plus trailscope's tables.
#[derive(Debug, Default)]
pub struct TrailscopeCodec {
    inner: ballista_core::serde::BallistaLogicalExtensionCodec,
}

fn bad(what: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("{what}: {e}"))
}

impl LogicalExtensionCodec for TrailscopeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&LAKE, rest)) => {
                let table: LakeTable =
                    serde_json::from_slice(rest).map_err(|e| bad("decoding the lake table", e))?;
                Ok(Arc::new(table))
            }
            Some((&INLINE, rest)) => {
                let reader = StreamReader::try_new(rest, None)
                    .map_err(|e| bad(&format!("decoding the table {table_ref}"), e))?;
                let batches = reader
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| bad(&format!("decoding the table {table_ref}"), e))?;
                Ok(Arc::new(InlineTable::new(schema, batches)))
            }
            Some((&OTHER, rest)) => self
                .inner
                .try_decode_table_provider(rest, table_ref, schema, ctx),
            _ => Err(bad(
                &format!("decoding the table {table_ref}"),
                "not a table of this trailscope version",
            )),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(lake) = node.downcast_ref::<LakeTable>() {
            buf.push(LAKE);
            serde_json::to_writer(&mut *buf, lake).map_err(|e| bad("encoding the lake table", e))
        } else if let Some(inline) = node.downcast_ref::<InlineTable>() {
            buf.push(INLINE);
            let mut writer = StreamWriter::try_new(&mut *buf, &inline.schema())?;
            for batch in inline.batches() {
                writer.write(batch)?;
            }
            writer.finish()?;
            Ok(())
        } else {
            buf.push(OTHER);
            self.inner.try_encode_table_provider(table_ref, node, buf)
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.inner.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.inner.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn trailscope_tables_come_back_as_they_went() {
        let codec = TrailscopeCodec::default();
        let ctx = TaskContext::default();
        let name = TableReference::bare("cloudtrail");
        let lake = LakeTable {
            store: "s3://evidence".into(),
            version: 7,
            files: vec![super::super::table::LakeFile {
                path: "org/cloudtrail/account=1/region=r/day=d/a.parquet".into(),
                size: 42,
                partition: vec!["1".into(), "r".into(), "d".into()],
            }],
        };
        let mut buf = Vec::new();
        codec
            .try_encode_table_provider(&name, Arc::new(lake.clone()), &mut buf)
            .unwrap();
        let back = codec
            .try_decode_table_provider(&buf, &name, lake.schema(), &ctx)
            .unwrap();
        assert_eq!(back.downcast_ref::<LakeTable>(), Some(&lake));

        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))])
                .unwrap();
        let mut buf = Vec::new();
        codec
            .try_encode_table_provider(
                &name,
                Arc::new(InlineTable::new(schema.clone(), vec![batch.clone()])),
                &mut buf,
            )
            .unwrap();
        let back = codec
            .try_decode_table_provider(&buf, &name, schema, &ctx)
            .unwrap();
        assert_eq!(
            back.downcast_ref::<InlineTable>().unwrap().batches(),
            &[batch]
        );

        let err = codec
            .try_decode_table_provider(&[9, 9], &name, lake.schema(), &ctx)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("not a table of this trailscope version")
        );
    }
}
