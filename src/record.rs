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
//! This module does not check fields or build rows; `batch` does.

use serde_json::value::RawValue;

use crate::jsontext::{self, Members};

/// One record's JSON text: borrowed from the object, or owned when it was unwrapped from a
/// lookup-events `CloudTrailEvent` string.
pub enum RecordText<'a> {
    /// A slice of the decoded object.
    Borrowed(&'a RawValue),
    /// Text decoded from a JSON string.
    Owned(Box<RawValue>),
}

impl RecordText<'_> {
    /// The record as raw JSON.
    pub fn raw(&self) -> &RawValue {
        match self {
            RecordText::Borrowed(r) => r,
            RecordText::Owned(r) => r,
        }
    }
}

/// A record that could not be read, kept with its text so it can be quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// The record's text exactly as found.
    pub raw: String,
    /// Why it was not stored.
    pub reason: String,
}

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
    // Fast path for what CloudTrail delivers to S3: one pass over the object.
    if let Ok(envelope) = serde_json::from_str::<Envelope>(body) {
        let mut parsed = Parsed {
            shape: InputShape::RecordsObject,
            records: Vec::with_capacity(envelope.records.len()),
            bad: Vec::new(),
        };
        for item in envelope.records {
            match item.get().starts_with('{') {
                true => parsed.records.push(RecordText::Borrowed(item)),
                false => parsed.bad.push(not_an_object(item)),
            }
        }
        return Ok(Content::Records(parsed));
    }
    match serde_json::from_str::<&RawValue>(body) {
        Ok(doc) => parse_document(doc),
        Err(whole) => match first_line_is_object(body) {
            true => parse_lines(body),
            false => Err(ParseError::NotJson(whole.to_string())),
        },
    }
}

/// `{"Records":[…]}`; other keys are skipped.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

fn not_an_object(item: &RawValue) -> BadRecord {
    BadRecord {
        raw: item.get().to_owned(),
        reason: format!(
            "a JSON {} where a record object was expected",
            kind_of(item)
        ),
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
    let get = |k: &str| members.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
    if let Some(list) = get("Records").or_else(|| get("Events")) {
        parsed.shape = if has("Records") {
            InputShape::RecordsObject
        } else {
            InputShape::LookupEvents
        };
        let items: Vec<&RawValue> = serde_json::from_str(list.get()).map_err(|_| {
            ParseError::NoRecords(format!(
                "\"Records\" or \"Events\" is a {}, not an array",
                kind_of(list)
            ))
        })?;
        for item in items {
            push_item(item, &mut parsed);
        }
        return Ok(Content::Records(parsed));
    }
    if has("digestStartTime") && has("logFiles") {
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
                reason: format!("line {}: not valid JSON: {e}", n + 1),
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
            Ok(rec) => parsed.records.push(RecordText::Owned(rec)),
            Err(reason) => parsed.bad.push(BadRecord {
                raw: text.to_owned(),
                reason,
            }),
        }
        return true;
    }
    parsed.records.push(RecordText::Borrowed(item));
    false
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
                p.records.iter().map(|r| r.raw().get().to_owned()).collect(),
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
            bad[0].reason.starts_with("line 3: not valid JSON"),
            "{}",
            bad[0].reason
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
        assert!(bad[0].reason.contains("does not hold valid JSON"));
        assert!(bad[1].reason.contains("not a JSON string"));
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
