//! Convert step: raw CloudTrail records to Arrow record batches, one per lake partition.
//!
//! Input: the records of one object (from [`super::records`]) and the object's URI. Output: one batch per
//! (account, region, day) partition in the lake schema, each row with its de-duplication key, plus
//! the records that cannot be stored (no eventID, no or unparseable eventTime, nesting too deep),
//! kept with their text and the reason for quarantine.
//!
//! Nothing is lost or changed silently: a value whose type or spelling the typed columns cannot
//! hold exactly (an unknown key at any depth, an explicit `null`, a number where a string is
//! usual, an eventTime not in CloudTrail's own format) is written to the `extra` column as JSON,
//! and [`super::restore`] merges it back over the typed columns to give the original record.
//!
//! Column builders are in [`super::columns`]. This module does not de-duplicate across objects
//! or write files; the lake writer does.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::columns::{Res, Residual, Rows};
use super::jsontext::{self, Keys, Members};
use super::records::{BadRecord, Reason, RecordText};
use crate::lake::partition::{PartBatch, PartitionKey, dedupe_id};
use crate::schema::{self, RECORD_FIELDS, Spec};
use crate::source::Hints;
use crate::time::parse_time;

/// Records nested deeper than this are quarantined: other engines (and `serde_json`) refuse them.
pub const MAX_DEPTH: usize = 100;

/// Most fields any spec level has; slots are a fixed array of this size.
const MAX_FIELDS: usize = 32;
const _: () = assert!(RECORD_FIELDS.len() <= MAX_FIELDS);

/// The result of converting one object's records.
pub struct Converted {
    /// Rows grouped by partition.
    pub parts: Vec<PartBatch>,
    /// Records that cannot be stored, for quarantine.
    pub bad: Vec<BadRecord>,
}

/// Rows the builders of an object's second and later partitions are sized for (they grow).
const SECOND_PARTITION_ROWS: usize = 16;

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

fn add_record(
    rec: &RecordText<'_>,
    hints: &Hints,
    expected_rows: usize,
    parts: &mut Vec<(PartitionKey, Rows)>,
    days: &mut DayCache,
) -> Result<(), Reason> {
    let text = rec.text();
    let shape = rec.shape.unwrap_or_else(|| jsontext::shape(text));
    if shape.depth > MAX_DEPTH {
        return Err(Reason::TooDeep {
            depth: shape.depth,
            max: MAX_DEPTH,
        });
    }
    let Members(members) = serde_json::from_str(text).map_err(|e| match text.starts_with('{') {
        true => Reason::NotJson {
            line: None,
            detail: e.to_string(),
        },
        false => Reason::NotAnObject { kind: "value" },
    })?;
    // The splitter looked for repeated keys in its pass over the record, unless a key held an
    // escape sequence; then (and for records found otherwise) the text is read once more.
    let repeated = match shape.keys {
        Keys::Unique => None,
        // The range is the splitter's, inside this text; were it not, read the text again
        // rather than let a repeated key through.
        Keys::Repeated(from, to) => text
            .get(from..to)
            .map(str::to_owned)
            .or_else(|| jsontext::duplicate_key(text)),
        Keys::Unchecked => jsontext::duplicate_key(text),
    };
    if let Some(key) = repeated {
        return Err(Reason::DuplicateKey { key });
    }
    let mut residual = Residual::default();
    let slots = assign(RECORD_FIELDS, members, &mut residual);
    let field = |name: &str| {
        RECORD_FIELDS
            .iter()
            .position(|f| f.column == name)
            .and_then(|i| slots[i])
    };
    let event_id = match field(schema::EVENT_ID) {
        None => return Err(Reason::NoEventId),
        Some(v) => match jsontext::string(v) {
            Some(s) if !s.is_empty() => s,
            _ => {
                return Err(Reason::BadEventId {
                    value: v.get().to_owned(),
                });
            }
        },
    };
    let micros = match field(schema::EVENT_TIME) {
        None => return Err(Reason::NoEventTime),
        Some(v) => match jsontext::string(v).and_then(|s| parse_time(&s)) {
            Some((t, _)) => t,
            None => {
                return Err(Reason::BadEventTime {
                    value: v.get().to_owned(),
                });
            }
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
            // The first partition of an object holds nearly all its records; others (an event
            // of the next day, a global-service event filed under us-east-1) hold a few, and
            // builders sized for the whole object would carry ~40 times their rows' memory
            // to the writer, which then spilled them as early, small files.
            let rows = match parts.is_empty() {
                true => expected_rows,
                false => expected_rows.min(SECOND_PARTITION_ROWS),
            };
            parts.push((key, Rows::new(rows)));
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
pub(super) fn assign<'a>(
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
    fn records_without_id_or_time_are_quarantined_with_reasons() {
        let c = conv(&[
            r#"{"eventTime":"2024-01-01T00:00:00Z"}"#,
            r#"{"eventID":"x"}"#,
            r#"{"eventID":"x","eventTime":"soon"}"#,
            r#"{"eventID":"","eventTime":"2024-01-01T00:00:00Z"}"#,
            r#"{"eventID":"ok","eventTime":"2024-01-01T00:00:00Z"}"#,
        ]);
        let reasons: Vec<_> = c.bad.iter().map(|b| b.reason.to_string()).collect();
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
        assert!(c.bad[0].reason.to_string().starts_with("nesting too deep"));
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
