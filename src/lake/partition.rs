//! Partitions: where a row belongs in the lake, and the rows of one partition as the writer
//! takes them.
//!
//! Input: the event's account, region and day (chosen by the conversion step). Output: the hive
//! directory of a partition and the key that de-duplicates events. This module does not choose
//! the partition of a record; `ingest::convert` does.

use arrow::array::RecordBatch;

use crate::schema;

/// The lake partition of a row: the event's account, region and UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// recipientAccountId (or the account of the key layout, or `unknown`).
    pub account: String,
    /// awsRegion (or the region of the key layout, or `unknown`).
    pub region: String,
    /// `YYYY-MM-DD` of eventTime in UTC.
    pub day: String,
}

impl PartitionKey {
    /// The partition's directory below the table directory, hive style.
    pub fn dir(&self) -> String {
        format!(
            "{}={}/{}={}/{}={}",
            schema::PART_ACCOUNT,
            self.account,
            schema::PART_REGION,
            self.region,
            schema::PART_DAY,
            self.day
        )
    }
}

/// Rows of one partition from one object.
pub struct PartBatch {
    /// Where the rows belong.
    pub key: PartitionKey,
    /// The rows, in the lake's file schema.
    pub batch: RecordBatch,
    /// The de-duplication key of each row (a hash of eventID and recipientAccountId).
    pub ids: Vec<u128>,
}

/// The content hash of every row of `batch`: two rows hash alike exactly when every column
/// but `source_uri` holds the same values, so the same record delivered twice (an organization
/// trail and an account trail, a re-delivery) is a duplicate, and the same eventID with other
/// content is a conflict. Computed on Arrow's row format: key order and white space of the JSON
/// do not matter, values do.
pub fn content_hashes(batch: &RecordBatch) -> anyhow::Result<Vec<u128>> {
    use anyhow::Context;
    use arrow::row::{RowConverter, SortField};
    let schema = batch.schema();
    let (fields, columns): (Vec<SortField>, Vec<arrow::array::ArrayRef>) = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| f.name() != schema::SOURCE_URI)
        .map(|(f, c)| (SortField::new(f.data_type().clone()), c.clone()))
        .unzip();
    let converter = RowConverter::new(fields).context("preparing the content hash")?;
    let rows = converter
        .convert_columns(&columns)
        .context("computing the content hash")?;
    Ok(rows
        .iter()
        .map(|r| xxhash_rust::xxh3::xxh3_128(r.as_ref()))
        .collect())
}

/// Key used to decide that two records are the same event.
pub fn dedupe_id(event_id: &str, account: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(event_id.as_bytes());
    h.update(&[0]);
    h.update(account.as_bytes());
    h.digest128()
}
