//! Restore: stored lake rows back to CloudTrail JSON records.
//!
//! Input: a record batch in the lake's file schema. Output: one JSON object per row, built from
//! the typed columns with CloudTrail's own key names, with the `extra` column merged over it. The
//! result is semantically equal to the record that was ingested (same keys, same values; key order
//! and whitespace aside). This is the lake's losslessness promise made checkable, and the way to
//! hand evidence back in its original form.
//!
//! This module reads no files; callers pass batches.

use anyhow::{Context, Result, bail};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimestampMicrosecondType};
use serde_json::{Map, Value};

use crate::schema::{self, Kind, RECORD_FIELDS, Spec};
use crate::time::format_time;

/// Turns every row of a lake batch back into its CloudTrail record.
pub fn records(batch: &RecordBatch) -> Result<Vec<Value>> {
    let columns: Vec<&ArrayRef> = RECORD_FIELDS
        .iter()
        .map(|f| {
            batch
                .column_by_name(f.column)
                .with_context(|| format!("the batch has no column {}", f.column))
        })
        .collect::<Result<_>>()?;
    let extra = batch
        .column_by_name(schema::EXTRA)
        .context("the batch has no extra column")?;
    let extra = extra
        .as_string_opt::<i32>()
        .context("extra is not a string column")?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut obj = Map::new();
        for (spec, col) in RECORD_FIELDS.iter().zip(&columns) {
            if let Some(v) = value(spec, col, row)? {
                obj.insert(spec.json.to_owned(), v);
            }
        }
        let mut rec = Value::Object(obj);
        if extra.is_valid(row) {
            let residual: Value = serde_json::from_str(extra.value(row))
                .with_context(|| format!("row {row}: extra is not valid JSON"))?;
            merge(&mut rec, residual);
        }
        out.push(rec);
    }
    Ok(out)
}

/// Deep-merges `over` into `base`: objects merge key by key, anything else replaces.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn value(spec: &Spec, col: &ArrayRef, row: usize) -> Result<Option<Value>> {
    if col.is_null(row) {
        return Ok(None);
    }
    Ok(Some(match &spec.kind {
        Kind::Str => Value::String(string_at(col, row)?.to_owned()),
        Kind::Json => serde_json::from_str(string_at(col, row)?)
            .with_context(|| format!("{} holds invalid JSON", spec.column))?,
        Kind::Bool => Value::Bool(col.as_boolean().value(row)),
        Kind::Time => {
            let t = col
                .as_primitive_opt::<TimestampMicrosecondType>()
                .with_context(|| format!("{} is not a microsecond timestamp", spec.column))?;
            Value::String(format_time(t.value(row)))
        }
        Kind::Struct(fields) => {
            let s = col.as_struct();
            Value::Object(object(fields, s.columns(), row)?)
        }
        Kind::ListOfStruct(fields) => {
            let list = col.as_list::<i32>();
            let items = list.value(row);
            let s = items.as_struct();
            let mut arr = Vec::with_capacity(s.len());
            for i in 0..s.len() {
                match s.is_null(i) {
                    true => arr.push(Value::Null),
                    false => arr.push(Value::Object(object(fields, s.columns(), i)?)),
                }
            }
            Value::Array(arr)
        }
    }))
}

fn object(fields: &[Spec], columns: &[ArrayRef], row: usize) -> Result<Map<String, Value>> {
    let mut obj = Map::new();
    for (spec, col) in fields.iter().zip(columns) {
        if let Some(v) = value(spec, col, row)? {
            obj.insert(spec.json.to_owned(), v);
        }
    }
    Ok(obj)
}

fn string_at(col: &ArrayRef, row: usize) -> Result<&str> {
    match col.data_type() {
        DataType::Utf8 => Ok(col.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Ok(col.as_string::<i64>().value(row)),
        DataType::Utf8View => Ok(col.as_string_view().value(row)),
        other => bail!("expected a string column, found {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::records::{Content, parse};
    use {crate::ingest::convert::convert, crate::source::Hints};

    /// Ingests text, restores it, and compares with the records as a JSON reader sees them.
    fn round_trip(text: &str) {
        let Content::Records(parsed) = parse(text.as_bytes()).unwrap() else {
            panic!("not records")
        };
        let originals: Vec<Value> = parsed
            .records
            .iter()
            .map(|r| serde_json::from_str(r.text()).unwrap())
            .collect();
        let conv = convert(&parsed.records, "file:x", &Hints::default());
        assert!(conv.bad.is_empty(), "{:?}", conv.bad);
        let mut restored = Vec::new();
        for p in &conv.parts {
            restored.extend(records(&p.batch).unwrap());
        }
        let key = |v: &Value| v["eventID"].to_string();
        let mut a = originals.clone();
        a.sort_by_key(key);
        restored.sort_by_key(key);
        assert_eq!(a, restored);
    }

    #[test]
    fn typical_record_round_trips() {
        round_trip(
            r#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAX:s","arn":"arn:aws:sts::111122223333:assumed-role/r/s","accountId":"111122223333","accessKeyId":"ASIAX","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAX","arn":"arn:aws:iam::111122223333:role/r","accountId":"111122223333","userName":"r"},"webIdFederationData":{},"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-01-01T00:00:05Z","eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":{"functionName":"f","zipFile":"****","n":1.50,"big":12345678901234567},"responseElements":null,"requestID":"r1","eventID":"e1","readOnly":false,"resources":[{"ARN":"arn:aws:lambda:us-east-1:111122223333:function:f","accountId":"111122223333","type":"AWS::Lambda::Function"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"lambda.us-east-1.amazonaws.com"}}]}"#,
        );
    }

    #[test]
    fn odd_records_round_trip() {
        round_trip(
            "[{\"eventID\":\"e2\",\"eventTime\":\"2024-01-01T00:00:00.123Z\",\"readOnly\":\"true\",\"resources\":[],\"userIdentity\":{},\"errorCode\":null,\"x\":{\"y\":[1,{\"z\":null}]}},\n\
             {\"eventID\":\"e3\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"resources\":[{\"ARN\":\"a\"},7,{\"arn\":\"lower\"}],\"userIdentity\":{\"sessionContext\":{\"attributes\":{\"mfaAuthenticated\":true,\"new\":1}}},\"tlsDetails\":null,\"requestParameters\":\"just a string\"}]",
        );
    }

    #[test]
    fn pretty_and_single_line_give_the_same_rows() {
        let pretty = "{\"Records\": [\n {\n  \"eventID\": \"p\",\n  \"eventTime\": \"2024-01-01T00:00:00Z\",\n  \"requestParameters\": { \"a\" : [ 1, 2 ] , \"s\": \"x  y\" }\n }\n]}";
        let single = r#"{"Records":[{"eventID":"p","eventTime":"2024-01-01T00:00:00Z","requestParameters":{"a":[1,2],"s":"x  y"}}]}"#;
        let rows = |t: &str| {
            let Content::Records(p) = parse(t.as_bytes()).unwrap() else {
                panic!()
            };
            convert(&p.records, "u", &Hints::default())
                .parts
                .remove(0)
                .batch
        };
        assert_eq!(rows(pretty), rows(single));
        round_trip(pretty);
    }
}
