//! Property tests: the record splitter, the JSON text scanner and the gzip decoder, driven with
//! random and mutated input. Whatever the input, nothing panics, and every record found is
//! either converted to a row or quarantined with a reason.

use std::io::Write;

use proptest::prelude::*;
use serde_json::Value;
use trailscope::ingest::{convert, decode, jsontext, records};
use trailscope::source::Hints;

/// A JSON value of bounded depth, with keys and strings that include escapes and odd text.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[ -~\u{e9}\u{202e}\u{1b}\"\\\\]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_\"\\\\]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A CloudTrail-like record with random extra content.
fn record() -> impl Strategy<Value = Value> {
    (
        "[a-f0-9-]{1,12}",
        0u32..86_400,
        prop::option::of(json_value()),
        prop::option::of(json_value()),
        any::<bool>(),
    )
        .prop_map(|(id, secs, params, extra, with_time)| {
            let mut r = serde_json::json!({
                "eventVersion": "1.08",
                "eventID": id,
                "eventName": "ListUsers",
                "eventSource": "iam.amazonaws.com",
                "awsRegion": "us-east-1",
                "recipientAccountId": "111122223333",
                "requestParameters": params,
                "somethingNew": extra,
            });
            if with_time {
                r["eventTime"] = Value::String(format!(
                    "2024-03-05T{:02}:{:02}:{:02}Z",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ));
            }
            r
        })
}

/// Every record found is a row or a quarantined record, and nothing panics.
fn accounts_for_every_record(bytes: &[u8]) {
    let Ok(text) = decode::decode(bytes, 1 << 24) else {
        return;
    };
    let Ok(records::Content::Records(parsed)) = records::parse(&text) else {
        return;
    };
    let converted = convert::convert(&parsed.records, "file:prop", &Hints::default());
    let rows: usize = converted.parts.iter().map(|p| p.batch.num_rows()).sum();
    assert_eq!(rows + converted.bad.len(), parsed.records.len());
    for b in converted.bad.iter().chain(&parsed.bad) {
        assert!(!b.reason.to_string().is_empty());
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_splitter_finds_every_record_whatever_the_spacing(
        recs in prop::collection::vec(record(), 0..6),
        pretty in any::<bool>(),
    ) {
        let doc = serde_json::json!({ "Records": recs });
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        let records::Content::Records(parsed) = records::parse(text.as_bytes()).unwrap() else {
            panic!("not records");
        };
        prop_assert_eq!(parsed.records.len(), recs.len());
        for (found, original) in parsed.records.iter().zip(&recs) {
            let v: Value = serde_json::from_str(found.text()).unwrap();
            prop_assert_eq!(&v, original);
        }
        accounts_for_every_record(text.as_bytes());
    }

    #[test]
    fn mutated_logs_never_panic_and_every_record_is_accounted_for(
        recs in prop::collection::vec(record(), 1..5),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        compress in any::<bool>(),
    ) {
        let mut bytes = serde_json::json!({ "Records": recs }).to_string().into_bytes();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let bytes = if compress { gzip(&bytes) } else { bytes };
        accounts_for_every_record(&bytes);
    }

    #[test]
    fn the_gzip_decoder_takes_one_whole_stream_and_nothing_else(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 1..16),
        noise in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let gz = gzip(&body);
        let whole = decode::decode(&gz, 1 << 20).unwrap();
        prop_assert_eq!(whole.as_ref(), body.as_slice());
        // Cut after the magic number (without it the bytes are not gzip, but plain text).
        let short = &gz[..2 + cut.index(gz.len() - 2)];
        prop_assert!(decode::decode(short, 1 << 20).is_err(), "a cut stream was accepted");
        let mut longer = gz.clone();
        longer.extend_from_slice(&tail);
        prop_assert!(decode::decode(&longer, 1 << 20).is_err(), "data after the stream was accepted");
        let mut fake = vec![0x1f, 0x8b];
        fake.extend_from_slice(&noise);
        let _ = decode::decode(&fake, 1 << 20);
    }

    #[test]
    fn the_json_scanner_agrees_with_a_json_reader(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
        let min = jsontext::minify(&text);
        prop_assert_eq!(serde_json::from_str::<Value>(&min).unwrap(), value.clone());
        prop_assert!(!jsontext::shape(&min).spaced || min.contains(' '));
        // serde_json's map has unique keys: there is never a duplicate to find.
        prop_assert_eq!(jsontext::duplicate_key(&text), None);
        let (end, _, closed) = jsontext::scan(text.as_bytes(), 0);
        if value.is_object() || value.is_array() {
            prop_assert!(closed);
            prop_assert_eq!(end, text.len());
        }
    }
}
