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
/// content is a conflict. Key order and white space of the JSON do not matter, values do.
///
/// Each row's values are written into one reused buffer in an encoding that cannot be read two
/// ways (a null mark, then lengths before text and list items), and the buffer is hashed: this
/// costs about two thirds of encoding whole batches in Arrow's row format, which allocated and
/// zeroed a buffer the size of the batch. A column of a type the encoding does not know (the
/// lake's schema has none) sends the batch through the row format instead.
pub fn content_hashes(batch: &RecordBatch) -> anyhow::Result<Vec<u128>> {
    let schema = batch.schema();
    let cells: Option<Vec<Cell>> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| f.name() != schema::SOURCE_URI)
        .map(|(_, c)| Cell::of(c.as_ref()))
        .collect();
    let Some(cells) = cells else {
        return row_format_hashes(batch);
    };
    let mut buf = Vec::with_capacity(4096);
    Ok((0..batch.num_rows())
        .map(|r| {
            buf.clear();
            for cell in &cells {
                cell.write(r, &mut buf);
            }
            xxhash_rust::xxh3::xxh3_128(&buf)
        })
        .collect())
}

/// One column, typed once per batch, that writes a row's value for [`content_hashes`].
enum Cell<'a> {
    Text(&'a arrow::array::StringArray),
    Bool(&'a arrow::array::BooleanArray),
    Time(&'a arrow::array::TimestampMicrosecondArray),
    Struct(&'a arrow::array::StructArray, Vec<Cell<'a>>),
    List(&'a arrow::array::ListArray, Box<Cell<'a>>),
}

impl<'a> Cell<'a> {
    fn of(array: &'a dyn arrow::array::Array) -> Option<Self> {
        use arrow::array::AsArray;
        use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
        Some(match array.data_type() {
            DataType::Utf8 => Cell::Text(array.as_string_opt::<i32>()?),
            DataType::Boolean => Cell::Bool(array.as_boolean_opt()?),
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Cell::Time(array.as_primitive_opt::<TimestampMicrosecondType>()?)
            }
            DataType::Struct(_) => {
                let s = array.as_struct_opt()?;
                let fields = s
                    .columns()
                    .iter()
                    .map(|c| Cell::of(c.as_ref()))
                    .collect::<Option<Vec<_>>>()?;
                Cell::Struct(s, fields)
            }
            DataType::List(_) => {
                let l = array.as_list_opt::<i32>()?;
                Cell::List(l, Box::new(Cell::of(l.values().as_ref())?))
            }
            _ => return None,
        })
    }

    fn array(&self) -> &dyn arrow::array::Array {
        match self {
            Cell::Text(a) => *a,
            Cell::Bool(a) => *a,
            Cell::Time(a) => *a,
            Cell::Struct(a, _) => *a,
            Cell::List(a, _) => *a,
        }
    }

    /// Appends row `r`: 0 for null; else 1 and the value (text and lists after their length).
    fn write(&self, r: usize, out: &mut Vec<u8>) {
        if self.array().is_null(r) {
            out.push(0);
            return;
        }
        out.push(1);
        match self {
            Cell::Text(a) => {
                let v = a.value(r).as_bytes();
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                out.extend_from_slice(v);
            }
            Cell::Bool(a) => out.push(u8::from(a.value(r))),
            Cell::Time(a) => out.extend_from_slice(&a.value(r).to_le_bytes()),
            Cell::Struct(_, fields) => {
                for f in fields {
                    f.write(r, out);
                }
            }
            Cell::List(l, item) => {
                let offsets = l.value_offsets();
                let (start, end) = (offsets[r] as usize, offsets[r + 1] as usize);
                out.extend_from_slice(&((end - start) as u64).to_le_bytes());
                for i in start..end {
                    item.write(i, out);
                }
            }
        }
    }
}

/// [`content_hashes`] through Arrow's row format, for any column type.
fn row_format_hashes(batch: &RecordBatch) -> anyhow::Result<Vec<u128>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        Array, ArrayRef, BooleanArray, ListArray, StringArray, StructArray,
        TimestampMicrosecondArray,
    };
    use arrow::buffer::{NullBuffer, OffsetBuffer};
    use arrow::datatypes::{DataType, Field, Fields, Schema};
    use std::sync::Arc;

    /// Rows that differ in one place each, rows equal but for what a null hides, and text that
    /// could be cut two ways; the direct hash must group them exactly as the row format does.
    fn batch() -> RecordBatch {
        let inner = Fields::from(vec![
            Field::new("type", DataType::Utf8, true),
            Field::new("arn", DataType::Utf8, true),
        ]);
        let who = |types: Vec<Option<&str>>, arns: Vec<Option<&str>>, valid: Vec<bool>| {
            StructArray::new(
                inner.clone(),
                vec![
                    Arc::new(StringArray::from(types)) as ArrayRef,
                    Arc::new(StringArray::from(arns)) as ArrayRef,
                ],
                Some(NullBuffer::from(valid)),
            )
        };
        // Nine rows. 0 and 1 equal; 2 differs from 0 in `b` only; 3 and 4 cut "abc" two ways;
        // 5 and 6 have a null struct with different values under it (equal); 7 and 8 have
        // lists [x, y] against [xy].
        let a = StringArray::from(vec![
            Some("k"),
            Some("k"),
            Some("k"),
            Some("ab"),
            Some("a"),
            None,
            None,
            Some("k"),
            Some("k"),
        ]);
        let b = StringArray::from(vec![
            Some("v"),
            Some("v"),
            Some("w"),
            Some("c"),
            Some("bc"),
            None,
            None,
            Some("v"),
            Some("v"),
        ]);
        let ok = BooleanArray::from(vec![
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            None,
            None,
            Some(true),
            Some(true),
        ]);
        let t =
            TimestampMicrosecondArray::from(vec![1, 1, 1, 1, 1, 2, 2, 3, 3]).with_timezone("UTC");
        let s = who(
            vec![Some("IAMUser"); 5]
                .into_iter()
                .chain([Some("x"), Some("y"), None, None])
                .collect(),
            vec![Some("arn"); 9],
            vec![true, true, true, true, true, false, false, true, true],
        );
        let items = StringArray::from(vec![
            "x", "y", "x", "y", "x", "y", "z", "z", "z", "z", "x", "y", "xy",
        ]);
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let lists = ListArray::new(
            item.clone(),
            OffsetBuffer::from_lengths([2, 2, 2, 1, 1, 1, 1, 2, 1]),
            Arc::new(items),
            None,
        );
        let uri = StringArray::from(
            vec!["s3://a"; 9]
                .into_iter()
                .enumerate()
                .map(|(i, u)| format!("{u}{i}"))
                .collect::<Vec<_>>(),
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("t", t.data_type().clone(), false),
            Field::new("who", DataType::Struct(inner.clone()), true),
            Field::new("l", DataType::List(item), true),
            Field::new(schema::SOURCE_URI, DataType::Utf8, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(a),
                Arc::new(b),
                Arc::new(ok),
                Arc::new(t),
                Arc::new(s),
                Arc::new(lists),
                Arc::new(uri),
            ],
        )
        .unwrap()
    }

    #[test]
    fn rows_hash_alike_exactly_when_their_values_are_equal() {
        let batch = batch();
        let direct = content_hashes(&batch).unwrap();
        let rows = row_format_hashes(&batch).unwrap();
        for i in 0..batch.num_rows() {
            for j in 0..batch.num_rows() {
                assert_eq!(
                    direct[i] == direct[j],
                    rows[i] == rows[j],
                    "rows {i} and {j}"
                );
            }
        }
        assert_eq!(direct[0], direct[1], "source_uri is not content");
        assert_ne!(direct[0], direct[2]);
        assert_ne!(direct[3], direct[4], "ab|c is not a|bc");
        assert_eq!(
            direct[5], direct[6],
            "values under a null struct are not content"
        );
        assert_ne!(direct[7], direct[8], "[x, y] is not [xy]");
        // A slice hashes its rows as the whole batch does.
        assert_eq!(content_hashes(&batch.slice(3, 4)).unwrap(), direct[3..7]);
    }
}
