//! Convert step: raw CloudTrail records to Arrow record batches, one per lake partition.
//!
//! Input: the records of one object (from `record`) and the object's URI. Output: one batch per
//! (account, region, day) partition in the lake schema, each row with its de-duplication key, plus
//! the records that cannot be stored (no eventID, no or unparseable eventTime, nesting too deep),
//! kept with their text and the reason for quarantine.
//!
//! Nothing is lost or changed silently: a value whose type or spelling the typed columns cannot
//! hold exactly (an unknown key at any depth, an explicit `null`, a number where a string is
//! usual, an eventTime not in CloudTrail's own format) is written to the `extra` column as JSON,
//! and `restore` merges it back over the typed columns to give the original record.
//!
//! This module does not de-duplicate across objects or write files; the lake writer does.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanBuilder, DictionaryArray, Int32Array, ListArray, RecordBatch, StringArray,
    StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{Field, Fields, Int32Type};
use serde_json::value::RawValue;

use crate::jsontext::{self, Members};
use crate::record::{BadRecord, RecordText};
use crate::schema::{self, Kind, RECORD_FIELDS, Spec};

/// Records nested deeper than this are quarantined: other engines (and `serde_json`) refuse them.
pub const MAX_DEPTH: usize = 100;

/// Most fields any spec level has; slots are a fixed array of this size.
const MAX_FIELDS: usize = 32;
const _: () = assert!(RECORD_FIELDS.len() <= MAX_FIELDS);

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

/// The result of converting one object's records.
pub struct Converted {
    /// Rows grouped by partition.
    pub parts: Vec<PartBatch>,
    /// Records that cannot be stored, for quarantine.
    pub bad: Vec<BadRecord>,
}

/// What the object's key says about where its records belong; used only when a record lacks
/// recipientAccountId or awsRegion.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Account from the key layout.
    pub account: Option<String>,
    /// Region from the key layout.
    pub region: Option<String>,
}

/// Converts the records of one object.
pub fn convert(records: &[RecordText<'_>], uri: &str, hints: &Hints) -> Converted {
    let mut parts: Vec<(PartitionKey, Rows)> = Vec::new();
    let mut bad = Vec::new();
    let mut days = DayCache::default();
    for rec in records {
        if let Err(reason) = add_record(rec, hints, records.len(), &mut parts, &mut days) {
            bad.push(BadRecord {
                raw: rec.text().to_owned(),
                reason,
            });
        }
    }
    let parts = parts
        .into_iter()
        .map(|(key, rows)| rows.finish(key, uri))
        .collect();
    Converted { parts, bad }
}

/// Key used to decide that two records are the same event.
pub fn dedupe_id(event_id: &str, account: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(event_id.as_bytes());
    h.update(&[0]);
    h.update(account.as_bytes());
    h.digest128()
}

fn add_record(
    rec: &RecordText<'_>,
    hints: &Hints,
    expected_rows: usize,
    parts: &mut Vec<(PartitionKey, Rows)>,
    days: &mut DayCache,
) -> Result<(), String> {
    let text = rec.text();
    let shape = rec.shape.unwrap_or_else(|| jsontext::shape(text));
    if shape.depth > MAX_DEPTH {
        return Err(format!(
            "nesting too deep ({} levels; the lake accepts at most {MAX_DEPTH})",
            shape.depth
        ));
    }
    let Members(members) = serde_json::from_str(text).map_err(|e| match text.starts_with('{') {
        true => format!("not valid JSON: {e}"),
        false => "the record is not a JSON object".to_owned(),
    })?;
    let mut residual = Residual::default();
    let slots = assign(RECORD_FIELDS, members, &mut residual);
    let field = |name: &str| {
        RECORD_FIELDS
            .iter()
            .position(|f| f.column == name)
            .and_then(|i| slots[i])
    };
    let event_id = match field(schema::EVENT_ID) {
        None => return Err("no eventID".into()),
        Some(v) => match jsontext::string(v) {
            Some(s) if !s.is_empty() => s,
            _ => return Err(format!("eventID is not a non-empty string: {}", v.get())),
        },
    };
    let micros = match field(schema::EVENT_TIME) {
        None => return Err("no eventTime".into()),
        Some(v) => match jsontext::string(v).and_then(|s| parse_time(&s)) {
            Some((t, _)) => t,
            None => return Err(format!("eventTime is not an ISO-8601 time: {}", v.get())),
        },
    };
    let recipient = field(schema::RECIPIENT_ACCOUNT_ID).and_then(jsontext::string);
    let region = field(schema::AWS_REGION).and_then(jsontext::string);
    let account = part_value(recipient.as_deref(), hints.account.as_deref());
    let region = part_value(region.as_deref(), hints.region.as_deref());
    let day = days.day(micros);
    let at = match parts
        .iter()
        .position(|(k, _)| k.account == account && k.region == region && k.day == day)
    {
        Some(i) => i,
        None => {
            let key = PartitionKey {
                account: account.to_owned(),
                region: region.to_owned(),
                day: day.to_owned(),
            };
            parts.push((key, Rows::new(expected_rows)));
            parts.len() - 1
        }
    };
    let rows = &mut parts[at].1;
    rows.ids
        .push(dedupe_id(&event_id, recipient.as_deref().unwrap_or("")));
    for ((spec, col), slot) in RECORD_FIELDS.iter().zip(&mut rows.cols).zip(slots) {
        col.append(spec, slot, &mut residual, shape.spaced);
    }
    if residual.is_empty() {
        rows.extra.append_null();
    } else {
        rows.extra.append_value(residual.to_json());
    }
    Ok(())
}

/// A partition value safe to use as a directory name, or a fallback.
fn part_value<'a>(value: Option<&'a str>, hint: Option<&'a str>) -> &'a str {
    let ok = |v: &&str| {
        !v.is_empty()
            && v.len() <= 64
            && !v.starts_with('.')
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    value.filter(ok).or(hint.filter(ok)).unwrap_or("unknown")
}

/// Matches an object's members to spec slots; unknown keys go to the residual.
fn assign<'a>(
    specs: &[Spec],
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
    residual: &mut Residual<'a>,
) -> [Option<&'a RawValue>; MAX_FIELDS] {
    let mut slots = [None; MAX_FIELDS];
    for (key, value) in members {
        match specs.iter().position(|s| s.json == key) {
            Some(i) => {
                // A repeated key: JSON readers keep the last value, and so do we.
                slots[i] = Some(value);
            }
            None => residual.push(key, Res::Raw(value)),
        }
    }
    slots
}

/// What the typed columns could not hold, as a JSON object to merge over them.
#[derive(Default)]
struct Residual<'a> {
    items: Vec<(Cow<'a, str>, Res<'a>)>,
}

enum Res<'a> {
    Raw(&'a RawValue),
    Obj(Residual<'a>),
}

impl<'a> Residual<'a> {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push(&mut self, key: Cow<'a, str>, value: Res<'a>) {
        self.items.push((key, value));
    }

    fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Serialising a str cannot fail.
            out.push_str(&serde_json::to_string(k.as_ref()).unwrap_or_default());
            out.push(':');
            match v {
                Res::Raw(r) => out.push_str(&jsontext::minify(r.get())),
                Res::Obj(o) => o.write(out),
            }
        }
        out.push('}');
    }
}

/// One column (or struct field) being built.
enum Col {
    Str(StringBuilder),
    Json(StringBuilder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    Struct {
        specs: &'static [Spec],
        children: Vec<Col>,
        nulls: NullBufferBuilder,
    },
    List {
        item: Box<Col>,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
    },
}

impl Col {
    /// A builder sized for `rows` values. Sizing matters: an object holds a few hundred records,
    /// and the builders' default capacity (1,024 values each, for ~50 builders) would allocate and
    /// then carry several times the data through the whole pipeline.
    fn new(kind: &'static Kind, rows: usize) -> Col {
        let strings = || StringBuilder::with_capacity(rows, rows * 16);
        match kind {
            Kind::Str => Col::Str(strings()),
            Kind::Json => Col::Json(strings()),
            Kind::Bool => Col::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::Time => {
                Col::Time(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
            Kind::Struct(specs) => Col::Struct {
                specs,
                children: specs.iter().map(|s| Col::new(&s.kind, rows)).collect(),
                nulls: NullBufferBuilder::new(rows),
            },
            Kind::ListOfStruct(specs) => Col::List {
                item: Box::new(Col::Struct {
                    specs,
                    children: specs.iter().map(|s| Col::new(&s.kind, rows)).collect(),
                    nulls: NullBufferBuilder::new(rows),
                }),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(rows),
            },
        }
    }

    fn append_null(&mut self) {
        match self {
            Col::Str(b) | Col::Json(b) => b.append_null(),
            Col::Bool(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::Struct {
                children, nulls, ..
            } => {
                children.iter_mut().for_each(Col::append_null);
                nulls.append_null();
            }
            Col::List { offsets, nulls, .. } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                nulls.append_null();
            }
        }
    }

    /// Appends the value of field `spec`; anything the column cannot hold exactly goes to the
    /// residual under the field's key. `spaced` says the record's text is not minified.
    fn append<'a>(
        &mut self,
        spec: &'static Spec,
        value: Option<&'a RawValue>,
        residual: &mut Residual<'a>,
        spaced: bool,
    ) {
        let Some(v) = value else {
            self.append_null();
            return;
        };
        let kept = match self {
            Col::Str(b) => match jsontext::string(v) {
                Some(s) => {
                    b.append_value(s);
                    true
                }
                None => false,
            },
            Col::Json(b) => {
                if jsontext::is_null(v) {
                    false
                } else {
                    match spaced {
                        true => b.append_value(jsontext::minify(v.get())),
                        false => b.append_value(v.get()),
                    }
                    true
                }
            }
            Col::Bool(b) => match jsontext::boolean(v) {
                Some(x) => {
                    b.append_value(x);
                    true
                }
                None => false,
            },
            Col::Time(b) => match jsontext::string(v).and_then(|s| parse_time(&s)) {
                Some((t, canonical)) => {
                    b.append_value(t);
                    if !canonical {
                        // Keep the exact original spelling; the column keeps the instant.
                        residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
                    }
                    return;
                }
                None => false,
            },
            Col::Struct {
                specs,
                children,
                nulls,
            } => match jsontext::members(v) {
                Some(Members(m)) => {
                    let mut inner = Residual::default();
                    let slots = assign(specs, m, &mut inner);
                    for ((s, c), slot) in specs.iter().zip(children.iter_mut()).zip(slots) {
                        c.append(s, slot, &mut inner, spaced);
                    }
                    nulls.append_non_null();
                    if !inner.is_empty() {
                        residual.push(Cow::Borrowed(spec.json), Res::Obj(inner));
                    }
                    return;
                }
                None => false,
            },
            Col::List {
                item,
                offsets,
                nulls,
            } => match serde_json::from_str::<Vec<&RawValue>>(v.get()) {
                Ok(elems) => {
                    let mut exact = true;
                    for e in &elems {
                        let mut inner = Residual::default();
                        item.append(spec, Some(e), &mut inner, spaced);
                        exact &= inner.is_empty();
                    }
                    let last = *offsets.last().unwrap_or(&0);
                    offsets.push(last + elems.len() as i32);
                    nulls.append_non_null();
                    if !exact {
                        // Element-level differences cannot be merged by key: keep the whole
                        // original array, which overrides the list on restore.
                        residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
                    }
                    return;
                }
                Err(_) => false,
            },
        };
        if !kept {
            self.append_null();
            residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
        }
    }

    fn finish(&mut self, spec_kind: &Kind) -> ArrayRef {
        match self {
            Col::Str(b) | Col::Json(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::Struct {
                specs,
                children,
                nulls,
            } => {
                let arrays = specs
                    .iter()
                    .zip(children.iter_mut())
                    .map(|(s, c)| c.finish(&s.kind))
                    .collect();
                Arc::new(StructArray::new(
                    schema::struct_fields(specs),
                    arrays,
                    nulls.finish(),
                ))
            }
            Col::List {
                item,
                offsets,
                nulls,
            } => {
                let Kind::ListOfStruct(specs) = spec_kind else {
                    unreachable!("a list column is only built for a list spec")
                };
                let values = item.finish(&Kind::Struct(specs));
                let field = Arc::new(Field::new(
                    "item",
                    arrow::datatypes::DataType::Struct(Fields::clone(&schema::struct_fields(
                        specs,
                    ))),
                    true,
                ));
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::new(field, offsets, values, nulls.finish()))
            }
        }
    }
}

/// Builders for the rows of one partition.
struct Rows {
    cols: Vec<Col>,
    extra: StringBuilder,
    ids: Vec<u128>,
}

impl Rows {
    fn new(rows: usize) -> Rows {
        Rows {
            cols: RECORD_FIELDS
                .iter()
                .map(|f| Col::new(&f.kind, rows))
                .collect(),
            extra: StringBuilder::with_capacity(rows, 0),
            ids: Vec::new(),
        }
    }

    fn finish(mut self, key: PartitionKey, uri: &str) -> PartBatch {
        let n = self.ids.len();
        let mut arrays: Vec<ArrayRef> = RECORD_FIELDS
            .iter()
            .zip(self.cols.iter_mut())
            .map(|(f, c)| c.finish(&f.kind))
            .collect();
        arrays.push(Arc::new(self.extra.finish()));
        let keys = Int32Array::from(vec![0; n]);
        let values = Arc::new(StringArray::from(vec![uri]));
        // One value and in-range keys: construction cannot fail.
        let uris = DictionaryArray::<Int32Type>::try_new(keys, values)
            .expect("source_uri dictionary keys are all 0 and in range");
        arrays.push(Arc::new(uris));
        let batch = RecordBatch::try_new(schema::file_schema(), arrays)
            .expect("builders follow schema::file_schema");
        PartBatch {
            key,
            batch,
            ids: self.ids,
        }
    }
}

/// Remembers the last day string so that formatting happens once per day, not once per record.
#[derive(Default)]
struct DayCache {
    number: Option<i64>,
    text: String,
}

impl DayCache {
    fn day(&mut self, micros: i64) -> &str {
        let number = micros.div_euclid(86_400_000_000);
        if self.number != Some(number) {
            self.number = Some(number);
            self.text = chrono::DateTime::from_timestamp_micros(micros)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "unknown".into());
        }
        &self.text
    }
}

/// Parses an ISO-8601 time to UTC microseconds. The flag says whether [`format_time`] gives the
/// same text back (CloudTrail's own `YYYY-MM-DDTHH:MM:SSZ` form always does).
pub fn parse_time(s: &str) -> Option<(i64, bool)> {
    if let Some(t) = parse_cloudtrail_time(s.as_bytes()) {
        return Some((t, true));
    }
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .ok()?
        .timestamp_micros();
    Some((t, format_time(t) == s))
}

/// Formats UTC microseconds as CloudTrail does: seconds precision with `Z`, or microseconds
/// when there is a fraction.
pub fn format_time(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) if micros % 1_000_000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => micros.to_string(),
    }
}

/// Fast path for exactly `YYYY-MM-DDTHH:MM:SSZ`, with full range checks.
fn parse_cloudtrail_time(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize] || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    fn conv(records: &[&str]) -> Converted {
        let texts: Vec<RecordText> = records
            .iter()
            .map(|r| RecordText {
                text: r.to_string().into(),
                shape: None,
            })
            .collect();
        convert(&texts, "s3://b/k.json.gz", &Hints::default())
    }

    #[test]
    fn time_fast_path_matches_chrono() {
        for s in [
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00Z",
            "2023-07-19T21:14:20Z",
        ] {
            let fast = parse_cloudtrail_time(s.as_bytes()).unwrap();
            let slow = chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_micros();
            assert_eq!(fast, slow, "{s}");
            assert_eq!(format_time(fast), s);
        }
        assert!(parse_cloudtrail_time(b"2023-02-29T00:00:00Z").is_none());
        assert_eq!(
            parse_time("2020-09-14T00:44:23.000Z").map(|t| t.1),
            Some(false)
        );
        assert_eq!(
            parse_time("2020-09-14T00:44:23.5Z").map(|t| t.1),
            Some(false)
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn records_without_id_or_time_are_quarantined_with_reasons() {
        let c = conv(&[
            r#"{"eventTime":"2024-01-01T00:00:00Z"}"#,
            r#"{"eventID":"x"}"#,
            r#"{"eventID":"x","eventTime":"soon"}"#,
            r#"{"eventID":"","eventTime":"2024-01-01T00:00:00Z"}"#,
            r#"{"eventID":"ok","eventTime":"2024-01-01T00:00:00Z"}"#,
        ]);
        let reasons: Vec<_> = c.bad.iter().map(|b| b.reason.as_str()).collect();
        assert_eq!(reasons[0], "no eventID");
        assert_eq!(reasons[1], "no eventTime");
        assert!(reasons[2].starts_with("eventTime is not an ISO-8601 time"));
        assert!(reasons[3].starts_with("eventID is not a non-empty string"));
        assert_eq!(c.parts.len(), 1);
        assert_eq!(c.parts[0].batch.num_rows(), 1);
        assert_eq!(c.parts[0].key.account, "unknown");
    }

    #[test]
    fn too_deep_records_are_quarantined() {
        let deep = format!("{}1{}", "[".repeat(150), "]".repeat(150));
        let rec = format!(
            r#"{{"eventID":"d","eventTime":"2024-01-01T00:00:00Z","requestParameters":{deep}}}"#
        );
        let c = conv(&[&rec]);
        assert!(c.parts.is_empty());
        assert!(c.bad[0].reason.starts_with("nesting too deep"));
        assert_eq!(c.bad[0].raw, rec);
    }

    #[test]
    fn rows_are_split_by_partition() {
        let c = conv(&[
            r#"{"eventID":"1","eventTime":"2024-01-01T23:59:59Z","recipientAccountId":"111122223333","awsRegion":"us-east-1"}"#,
            r#"{"eventID":"2","eventTime":"2024-01-02T00:00:00Z","recipientAccountId":"111122223333","awsRegion":"us-east-1"}"#,
            r#"{"eventID":"3","eventTime":"2024-01-02T00:00:01Z","recipientAccountId":"111122223333","awsRegion":"us-east-1"}"#,
            r#"{"eventID":"4","eventTime":"2024-01-02T00:00:01Z","recipientAccountId":"../etc","awsRegion":"eu-west-1"}"#,
        ]);
        let keys: Vec<_> = c
            .parts
            .iter()
            .map(|p| (p.key.dir(), p.batch.num_rows()))
            .collect();
        assert_eq!(
            keys,
            [
                (
                    "account=111122223333/region=us-east-1/day=2024-01-01".to_string(),
                    1
                ),
                (
                    "account=111122223333/region=us-east-1/day=2024-01-02".to_string(),
                    2
                ),
                (
                    "account=unknown/region=eu-west-1/day=2024-01-02".to_string(),
                    1
                ),
            ]
        );
    }

    #[test]
    fn odd_values_go_to_extra() {
        let c = conv(&[
            r#"{"eventID":"1","eventTime":"2024-01-01T00:00:00.000Z","readOnly":"true","errorCode":null,"responseElements":null,"userIdentity":{"type":"Root","foo":{"a":1}},"resources":[{"ARN":"a","extraKey":1}],"@timestamp":"x"}"#,
        ]);
        let b = &c.parts[0].batch;
        let extra = b
            .column_by_name("extra")
            .unwrap()
            .as_string::<i32>()
            .value(0)
            .to_string();
        let v: serde_json::Value = serde_json::from_str(&extra).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "eventTime": "2024-01-01T00:00:00.000Z",
                "readOnly": "true",
                "errorCode": null,
                "responseElements": null,
                "userIdentity": {"foo": {"a": 1}},
                "resources": [{"ARN": "a", "extraKey": 1}],
                "@timestamp": "x"
            })
        );
        assert!(b.column_by_name("readonly").unwrap().is_null(0));
        assert!(!b.column_by_name("eventtime").unwrap().is_null(0));
    }
}
