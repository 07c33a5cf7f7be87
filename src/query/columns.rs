//! Result columns: a column of a query's result as text or 64-bit integers, whatever Arrow type
//! the query gave it.
//!
//! Input: a record batch and a column index. Output: an owned Arrow array. This module does not
//! run queries.

use anyhow::Result;

/// Column `i` of a result batch as text (any string, dictionary or timestamp type is cast).
pub fn text_column(
    batch: &datafusion::arrow::array::RecordBatch,
    i: usize,
) -> Result<datafusion::arrow::array::StringArray> {
    use datafusion::arrow::array::AsArray;
    let a = datafusion::arrow::compute::cast(
        batch.column(i),
        &datafusion::arrow::datatypes::DataType::Utf8,
    )?;
    Ok(a.as_string::<i32>().clone())
}

/// Column `i` of a result batch as 64-bit integers.
pub fn int_column(
    batch: &datafusion::arrow::array::RecordBatch,
    i: usize,
) -> Result<datafusion::arrow::array::Int64Array> {
    use datafusion::arrow::array::AsArray;
    let a = datafusion::arrow::compute::cast(
        batch.column(i),
        &datafusion::arrow::datatypes::DataType::Int64,
    )?;
    Ok(a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .clone())
}
