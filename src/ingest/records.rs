//! Parse step: decoded JSON text to the CloudTrail records inside it.
//!
//! Input: the decoded bytes of one object. Output: each record's raw JSON text, plus the records
//! that could not be read (with their text and the reason), or a verdict on the whole object.
//! The shape is recognised by content, never by file name:
//! - `{"Records":[…]}`, as CloudTrail delivers to S3;
//! - a bare JSON array of records;
//! - JSON lines, one record per line;
//! - `aws cloudtrail lookup-events` output: the whole `{"Events":[…]}` response, or one event per
//!   line, with each record inside a `CloudTrailEvent` string;
//! - a single record object.
//!
//! CloudTrail digest files are recognised and reported as such so they can be skipped.
//! This module does not check fields or build rows; [`super::convert`] does.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::ingest::jsontext::{self, Members};

/// One record's JSON text: borrowed from the object, or owned when it was unwrapped from a
/// lookup-events `CloudTrailEvent` string. The text is not yet checked to be valid JSON: the
/// convert step parses it and quarantines it if it is not.
pub struct RecordText<'a> {
    /// The record's text.
    pub text: Cow<'a, str>,
    /// Its nesting depth, spacing and repeated keys, when the splitter already measured them.
    pub shape: Option<jsontext::Shape>,
}

impl<'a> RecordText<'a> {
    fn borrowed(text: &'a str) -> Self {
        RecordText {
            text: Cow::Borrowed(text),
            shape: None,
        }
    }

    /// The record's text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

pub use crate::lake::quarantine::{BadRecord, Reason};

/// The layout the records were found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputShape {
    /// `{"Records":[…]}`.
    RecordsObject,
    /// `[…]`.
    Array,
    /// One JSON value per line.
    JsonLines,
    /// `{"Events":[…]}` from `aws cloudtrail lookup-events`.
    LookupEvents,
    /// One lookup event per line.
    LookupEventLines,
    /// A single record.
    Single,
}

/// The records of one object.
pub struct Parsed<'a> {
    /// How they were laid out.
    pub shape: InputShape,
    /// The readable records, in order.
    pub records: Vec<RecordText<'a>>,
    /// Records that could not be read.
    pub bad: Vec<BadRecord>,
}

/// What an object holds.
pub enum Content<'a> {
    /// CloudTrail records.
    Records(Parsed<'a>),
    /// A CloudTrail digest file: not a log, skipped.
    Digest,
}

/// Why a whole object is unusable. The object is quarantined with this reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes are not UTF-8 text.
    #[error("not text: invalid UTF-8 at byte {0} (is this a CloudTrail log?)")]
    NotUtf8(usize),
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but no CloudTrail records in it.
    #[error("no CloudTrail records: {0}")]
    NoRecords(String),
}

/// Finds the records in one decoded object.
pub fn parse(bytes: &[u8]) -> Result<Content<'_>, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotUtf8(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text.trim_start();
    if body.is_empty() {
        return Err(ParseError::NoRecords("the object is empty".into()));
    }
    // Fast path for what CloudTrail delivers to S3: one structural scan splits the records;
    // each is then parsed (and so validated) once, by the convert step.
    if let Some(records) = split_records(body) {
        return Ok(Content::Records(Parsed {
            shape: InputShape::RecordsObject,
            records,
            bad: Vec::new(),
        }));
    }
    match serde_json::from_str::<&RawValue>(body) {
        Ok(doc) => parse_document(doc),
        Err(whole) => match first_line_is_object(body) {
            true => parse_lines(body),
            false => Err(ParseError::NotJson(whole.to_string())),
        },
    }
}

fn not_an_object(item: &RawValue) -> BadRecord {
    BadRecord {
        raw: item.get().to_owned(),
        reason: Reason::NotAnObject {
            kind: kind_of(item),
        },
    }
}

fn first_line_is_object(body: &str) -> bool {
    let first = body.lines().next().unwrap_or("").trim();
    first.starts_with('{') && serde_json::from_str::<&RawValue>(first).is_ok()
}

fn parse_document(doc: &RawValue) -> Result<Content<'_>, ParseError> {
    let mut parsed = Parsed {
        shape: InputShape::Single,
        records: Vec::new(),
        bad: Vec::new(),
    };
    if doc.get().starts_with('[') {
        parsed.shape = InputShape::Array;
        let items: Vec<&RawValue> =
            serde_json::from_str(doc.get()).map_err(|e| ParseError::NotJson(e.to_string()))?;
        for item in items {
            push_item(item, &mut parsed);
        }
        return Ok(Content::Records(parsed));
    }
    let Some(Members(members)) = jsontext::members(doc) else {
        return Err(ParseError::NoRecords(format!(
            "the object holds a single JSON {}, not records",
            kind_of(doc)
        )));
    };
    let has = |k: &str| members.iter().any(|(key, _)| key == k);
    let record_shaped = ["eventID", "eventTime", "eventName", "eventVersion"]
        .iter()
        .any(|k| has(k));
    // Every list of records is read, however many the object holds.
    let lists: Vec<&RawValue> = members
        .iter()
        .filter(|(key, _)| key == "Records" || key == "Events")
        .map(|(_, v)| *v)
        .collect();
    if !lists.is_empty() {
        parsed.shape = if has("Records") {
            InputShape::RecordsObject
        } else {
            InputShape::LookupEvents
        };
        for list in lists {
            let items: Vec<&RawValue> = serde_json::from_str(list.get()).map_err(|_| {
                ParseError::NoRecords(format!(
                    "\"Records\" or \"Events\" is a {}, not an array",
                    kind_of(list)
                ))
            })?;
            for item in items {
                push_item(item, &mut parsed);
            }
        }
        if record_shaped {
            // Event fields beside the list: the object itself may be a record. Kept whole.
            parsed.bad.push(BadRecord {
                raw: doc.get().to_owned(),
                reason: Reason::Ambiguous {
                    detail: "event fields beside a \"Records\" or \"Events\" list".into(),
                },
            });
        }
        return Ok(Content::Records(parsed));
    }
    // A digest has no event fields; a record that happens to carry digest keys is a record.
    if has("digestStartTime") && has("logFiles") && !record_shaped {
        return Ok(Content::Digest);
    }
    if has("CloudTrailEvent") {
        parsed.shape = InputShape::LookupEvents;
        push_item(doc, &mut parsed);
        return Ok(Content::Records(parsed));
    }
    if ["eventID", "eventTime", "eventName", "eventVersion"]
        .iter()
        .any(|k| has(k))
    {
        push_item(doc, &mut parsed);
        return Ok(Content::Records(parsed));
    }
    let keys: Vec<&str> = members.iter().take(5).map(|(k, _)| k.as_ref()).collect();
    Err(ParseError::NoRecords(format!(
        "a JSON object without \"Records\", \"Events\" or CloudTrail event fields (keys: {})",
        keys.join(", ")
    )))
}

fn parse_lines(body: &str) -> Result<Content<'_>, ParseError> {
    let mut parsed = Parsed {
        shape: InputShape::JsonLines,
        records: Vec::new(),
        bad: Vec::new(),
    };
    let (mut items, mut lookups) = (0, 0);
    for (n, line) in body.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<&RawValue>(line) {
            Ok(item) => {
                items += 1;
                lookups += push_item(item, &mut parsed) as usize;
            }
            Err(e) => parsed.bad.push(BadRecord {
                raw: line.to_owned(),
                reason: Reason::NotJson {
                    line: Some(n + 1),
                    detail: e.to_string(),
                },
            }),
        }
    }
    if items > 0 && lookups == items {
        parsed.shape = InputShape::LookupEventLines;
    }
    Ok(Content::Records(parsed))
}

/// Adds one array element or line: a record, or a lookup event wrapping one. Returns whether it
/// was a lookup event.
fn push_item<'a>(item: &'a RawValue, parsed: &mut Parsed<'a>) -> bool {
    let text = item.get();
    if !text.starts_with('{') {
        parsed.bad.push(not_an_object(item));
        return false;
    }
    // Lookup events carry the record as a JSON string; look for the key cheaply first, since
    // almost every object is a plain record.
    if text.contains("\"CloudTrailEvent\"")
        && let Some(Members(m)) = jsontext::members(item)
        && let Some((_, inner)) = m.iter().find(|(k, _)| k == "CloudTrailEvent")
    {
        match unwrap_lookup(inner) {
            Ok(rec) => parsed.records.push(RecordText {
                text: Cow::Owned(Box::<str>::from(rec).into_string()),
                shape: None,
            }),
            Err(detail) => parsed.bad.push(BadRecord {
                raw: text.to_owned(),
                reason: Reason::BadLookupEvent { detail },
            }),
        }
        return true;
    }
    parsed.records.push(RecordText::borrowed(item.get()));
    false
}

/// Splits exactly `{"Records":[{…},{…},…]}` (any whitespace between tokens) into its record
/// objects, measuring each one's depth and spacing on the way. Strings are skipped with `memchr`.
/// Returns `None` for anything else, and the general parser then decides.
fn split_records(body: &str) -> Option<Vec<RecordText<'_>>> {
    let b = body.as_bytes();
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\n' | b'\r' | b'\t') {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, lit: &[u8]| -> Option<()> {
        ws(i);
        b.get(*i..*i + lit.len()).filter(|s| *s == lit)?;
        *i += lit.len();
        Some(())
    };
    let mut i = 0;
    expect(&mut i, b"{")?;
    expect(&mut i, b"\"Records\"")?;
    expect(&mut i, b":")?;
    expect(&mut i, b"[")?;
    let mut out = Vec::new();
    let mut stack = jsontext::KeyStack::default();
    ws(&mut i);
    if b.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            ws(&mut i);
            if b.get(i) != Some(&b'{') {
                return None;
            }
            let start = i;
            let (end, shape, closed) = jsontext::scan_with_keys(b, start, &mut stack);
            if !closed {
                return None;
            }
            i = end;
            out.push(RecordText {
                text: Cow::Borrowed(body.get(start..i)?),
                shape: Some(shape),
            });
            ws(&mut i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    expect(&mut i, b"}")?;
    ws(&mut i);
    (i == b.len()).then_some(out)
}

fn unwrap_lookup(inner: &RawValue) -> Result<Box<RawValue>, String> {
    let s = jsontext::string(inner)
        .ok_or_else(|| format!("CloudTrailEvent is a {}, not a JSON string", kind_of(inner)))?;
    let rec: Box<RawValue> = serde_json::from_str(s.trim())
        .map_err(|e| format!("CloudTrailEvent does not hold valid JSON: {e}"))?;
    if !rec.get().starts_with('{') {
        return Err("CloudTrailEvent does not hold a JSON object".into());
    }
    Ok(rec)
}

/// A word for the JSON type of a raw value, for messages.
pub fn kind_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> (InputShape, Vec<String>, Vec<BadRecord>) {
        match parse(text.as_bytes()).unwrap() {
            Content::Records(p) => (
                p.shape,
                p.records.iter().map(|r| r.text().to_owned()).collect(),
                p.bad,
            ),
            Content::Digest => panic!("digest"),
        }
    }

    const A: &str = r#"{"eventID":"a","eventTime":"2024-01-01T00:00:00Z"}"#;
    const B: &str = r#"{"eventID":"b","eventTime":"2024-01-01T00:00:01Z"}"#;

    #[test]
    fn records_object() {
        let (shape, recs, bad) = records(&format!("{{\"Records\":[{A},{B}]}}"));
        assert_eq!(shape, InputShape::RecordsObject);
        assert_eq!(recs, [A, B]);
        assert!(bad.is_empty());
    }

    #[test]
    fn splitter_measures_records_and_leaves_odd_shapes_to_the_parser() {
        let text = "{ \"Records\" : [\n {\"eventID\":\"a\",\"x\":\"}]{[\\\"\",\"n\":[[1]]} ,\n{\"eventID\": \"b\"}\n] }\n";
        let recs = split_records(text).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0].text(),
            "{\"eventID\":\"a\",\"x\":\"}]{[\\\"\",\"n\":[[1]]}"
        );
        assert_eq!(
            recs[0].shape,
            Some(jsontext::Shape {
                depth: 3,
                spaced: false,
                keys: jsontext::Keys::Unique
            })
        );
        assert_eq!(
            recs[1].shape,
            Some(jsontext::Shape {
                depth: 1,
                spaced: true,
                keys: jsontext::Keys::Unique
            })
        );
        assert!(split_records("{\"Records\":[]}").unwrap().is_empty());
        for odd in [
            "{\"Records\":[1]}",
            "{\"Records\":[{}],\"x\":1}",
            "{\"Records\":[{}]",
            "{\"Records\":[{}]}{}",
            "{\"Records\":[{\"a\":\"unterminated}]}",
            "[{}]",
        ] {
            assert!(split_records(odd).is_none(), "{odd}");
        }
    }

    #[test]
    fn invalid_json_inside_a_split_record_is_caught_by_the_record_parse() {
        let text =
            r#"{"Records":[{"eventID":"a","eventTime":"2024-01-01T00:00:00Z"},{"eventID":"b",,}]}"#;
        let Content::Records(p) = parse(text.as_bytes()).unwrap() else {
            panic!()
        };
        let c = crate::ingest::convert::convert(&p.records, "u", &crate::source::Hints::default());
        assert_eq!(c.parts[0].batch.num_rows(), 1);
        assert!(
            c.bad[0].reason.to_string().starts_with("not valid JSON"),
            "{}",
            c.bad[0].reason.to_string()
        );
    }

    #[test]
    fn empty_records_array_is_fine() {
        let (_, recs, bad) = records(r#"{"Records":[]}"#);
        assert!(recs.is_empty() && bad.is_empty());
    }

    #[test]
    fn bare_array() {
        let (shape, recs, _) = records(&format!("\u{feff} [{A},\n{B}]"));
        assert_eq!(shape, InputShape::Array);
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn json_lines_with_a_bad_line() {
        let (shape, recs, bad) = records(&format!("{A}\r\n\n{{\"eventID\": oops\n{B}\n"));
        assert_eq!(shape, InputShape::JsonLines);
        assert_eq!(recs, [A, B]);
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0]
                .reason
                .to_string()
                .starts_with("line 3: not valid JSON"),
            "{}",
            bad[0].reason.to_string()
        );
        assert_eq!(bad[0].raw, "{\"eventID\": oops");
    }

    #[test]
    fn single_record() {
        let (shape, recs, _) = records(A);
        assert_eq!(shape, InputShape::Single);
        assert_eq!(recs, [A]);
    }

    #[test]
    fn lookup_events_response_and_lines() {
        let ev = |r: &str| {
            format!(
                "{{\"EventId\":\"x\",\"CloudTrailEvent\":{}}}",
                serde_json::to_string(r).unwrap()
            )
        };
        let (shape, recs, _) = records(&format!(
            "{{\"Events\":[{},{}],\"NextToken\":\"t\"}}",
            ev(A),
            ev(B)
        ));
        assert_eq!(shape, InputShape::LookupEvents);
        assert_eq!(recs, [A, B]);
        let (shape, recs, _) = records(&format!("{}\n{}\n", ev(A), ev(B)));
        assert_eq!(shape, InputShape::LookupEventLines);
        assert_eq!(recs, [A, B]);
    }

    #[test]
    fn lookup_event_with_bad_inner_record_is_a_bad_record() {
        let (_, recs, bad) =
            records(r#"{"Events":[{"CloudTrailEvent":"{nope"},{"CloudTrailEvent":5}]}"#);
        assert!(recs.is_empty());
        assert_eq!(bad.len(), 2);
        assert!(
            bad[0]
                .reason
                .to_string()
                .contains("does not hold valid JSON")
        );
        assert!(bad[1].reason.to_string().contains("not a JSON string"));
    }

    #[test]
    fn non_object_elements_are_bad_records() {
        let (_, recs, bad) = records(&format!("{{\"Records\":[{A},42,null]}}"));
        assert_eq!(recs.len(), 1);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].raw, "42");
    }

    #[test]
    fn bad_objects_are_named() {
        assert!(matches!(parse(b"hello world"), Err(ParseError::NotJson(_))));
        assert!(matches!(
            parse(b"{\"Records\":[{\"eventID\":"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(parse(b"   "), Err(ParseError::NoRecords(_))));
        assert!(matches!(
            parse(b"{\"foo\":1}"),
            Err(ParseError::NoRecords(_))
        ));
        assert!(matches!(
            parse(b"{\"Records\":{}}"),
            Err(ParseError::NoRecords(_))
        ));
        assert!(matches!(parse(b"\"text\""), Err(ParseError::NoRecords(_))));
        assert!(matches!(
            parse(&[b'{', 0xff, b'}']),
            Err(ParseError::NotUtf8(1))
        ));
    }

    #[test]
    fn digest_files_are_recognised() {
        let digest = br#"{"awsAccountId":"111122223333","digestStartTime":"2024-01-01T00:00:00Z","logFiles":[]}"#;
        assert!(matches!(parse(digest), Ok(Content::Digest)));
    }

    #[test]
    fn deep_nesting_does_not_break_the_object() {
        let deep = format!("{}1{}", "[".repeat(400), "]".repeat(400));
        let text =
            format!("{{\"Records\":[{{\"eventID\":\"d\",\"requestParameters\":{deep}}},{A}]}}");
        let (_, recs, _) = records(&text);
        assert_eq!(recs.len(), 2);
    }
}
