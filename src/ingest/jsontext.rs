//! Small, fast helpers over JSON text shared by the parse and convert steps.
//!
//! CloudTrail records are parsed without building a `serde_json::Value`: objects are split into
//! borrowed `(key, raw value)` pairs, strings are borrowed when they hold no escapes, and nested
//! JSON that the lake keeps as text is copied as-is (minified only when the input was
//! pretty-printed). This keeps parsing close to the speed of the bytes.
//!
//! Nothing here knows about CloudTrail fields; `schema` and [`super::convert`] do.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON string, borrowed from the input when it has no escape sequences.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The members of one JSON object, in input order, values left as raw JSON.
pub struct Members<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(k) = map.next_key::<Text<'de>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    out.push((k.0, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Splits a raw JSON value into its members; `None` when it is not an object.
pub fn members(raw: &RawValue) -> Option<Members<'_>> {
    if !raw.get().starts_with('{') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// Reads a raw JSON value as a string; `None` when it is not a string.
pub fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let t = raw.get();
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<Text>(t).ok().map(|t| t.0)
}

/// Reads a raw JSON value as a boolean; `None` when it is not `true` or `false`.
pub fn boolean(raw: &RawValue) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// True when the raw value is the literal `null`.
pub fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// What one pass over a JSON text found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Deepest nesting of objects and arrays.
    pub depth: usize,
    /// Whether there is whitespace between tokens (the text is not minified).
    pub spaced: bool,
    /// Whether an object repeats a key, when the pass looked.
    pub keys: Keys,
}

/// What a pass found about repeated keys (see [`duplicate_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// No object repeats a key.
    Unique,
    /// An object repeats the key whose text (between its quotes, as written) is at this byte
    /// range of the scanned value.
    Repeated(usize, usize),
    /// Not looked at, or a key holds an escape sequence: ask [`duplicate_key`].
    Unchecked,
}

/// The keys of every open object on one stack, innermost last, so that an object costs no
/// allocation of its own, and a frame per open object or array: where its object's keys start
/// (None for an array) and whether a key comes next. Kept between records by the caller.
#[derive(Default)]
pub struct KeyStack {
    keys: Vec<(usize, usize)>,
    frames: Vec<(Option<usize>, bool)>,
}

/// Measures nesting depth and looks for whitespace between tokens in one pass. Strings are skipped
/// with `memchr`, so the cost is close to a memory scan. The text must be valid JSON.
pub fn shape(text: &str) -> Shape {
    scan_value(text.as_bytes(), 0, None).1
}

/// Scans from `start` to the end of the object or array that starts there (or to the end of the
/// text, for anything else). Returns the index just past the value, its shape, and whether the
/// value was closed; an unterminated string or bracket gives `false`.
pub fn scan(b: &[u8], start: usize) -> (usize, Shape, bool) {
    scan_value(b, start, None)
}

/// Like [`scan`], and looks for repeated keys in the same pass (the record splitter's one pass
/// over each record's bytes), with `stack` as scratch.
pub fn scan_with_keys(b: &[u8], start: usize, stack: &mut KeyStack) -> (usize, Shape, bool) {
    scan_value(b, start, Some(stack))
}

fn scan_value(b: &[u8], start: usize, mut stack: Option<&mut KeyStack>) -> (usize, Shape, bool) {
    let (mut depth, mut max, mut spaced, mut i) = (0usize, 0usize, false, start);
    let mut keys = match stack.as_deref_mut() {
        Some(st) => {
            st.keys.clear();
            st.frames.clear();
            Keys::Unique
        }
        None => Keys::Unchecked,
    };
    let shape = |max, spaced, keys| Shape {
        depth: max,
        spaced,
        keys,
    };
    while i < b.len() {
        match b[i] {
            b'"' => {
                let Some(end) = string_end(b, i) else {
                    return (b.len(), shape(max, spaced, Keys::Unchecked), false);
                };
                if let (Some(st), Keys::Unique) = (stack.as_deref_mut(), keys)
                    && let Some((Some(from), expect_key)) = st.frames.last_mut()
                    && *expect_key
                {
                    *expect_key = false;
                    let key = &b[i + 1..end];
                    if memchr::memchr(b'\\', key).is_some() {
                        keys = Keys::Unchecked;
                    } else if st.keys[*from..].iter().any(|&(s, e)| &b[s..e] == key) {
                        keys = Keys::Repeated(i + 1 - start, end - start);
                    } else {
                        st.keys.push((i + 1, end));
                    }
                }
                i = end;
            }
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
                if let Some(st) = stack.as_deref_mut() {
                    let frame = match b[i] {
                        b'{' => (Some(st.keys.len()), true),
                        _ => (None, false),
                    };
                    st.frames.push(frame);
                }
            }
            b'}' | b']' => {
                if let Some(st) = stack.as_deref_mut()
                    && let Some((Some(from), _)) = st.frames.pop()
                {
                    st.keys.truncate(from);
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (i + 1, shape(max, spaced, keys), true);
                }
            }
            b',' => {
                if let Some(st) = stack.as_deref_mut()
                    && let Some((Some(_), expect_key)) = st.frames.last_mut()
                {
                    *expect_key = true;
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => spaced = true,
            _ => {}
        }
        i += 1;
    }
    (b.len(), shape(max, spaced, keys), max == 0)
}

/// Index of the quote that closes the string whose opening quote is at `open`.
pub fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let off = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i + off] == b'\\' {
            i += off + 2;
        } else {
            return Some(i + off);
        }
    }
}

/// The first key that appears twice in one object, at any depth of `text` (which must be valid
/// JSON). JSON readers disagree on such objects (some keep the first value, most the last), so a
/// record holding one cannot be stored as one meaning. Keys are compared as decoded strings.
pub fn duplicate_key(text: &str) -> Option<String> {
    let b = text.as_bytes();
    // The keys of every open object on one stack, innermost last, so that an object costs no
    // allocation of its own (this runs over every record). A frame is where its object's keys
    // start (None for an array) and whether a key comes next.
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut frames: Vec<(Option<usize>, bool)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => frames.push((Some(keys.len()), true)),
            b'[' => frames.push((None, false)),
            b'}' | b']' => {
                if let Some((Some(start), _)) = frames.pop() {
                    keys.truncate(start);
                }
            }
            b',' => {
                if let Some((Some(_), expect_key)) = frames.last_mut() {
                    *expect_key = true;
                }
            }
            b'"' => {
                let end = string_end(b, i)?;
                if let Some((Some(start), expect_key)) = frames.last_mut()
                    && *expect_key
                {
                    *expect_key = false;
                    let start = *start;
                    let raw = &text[i..=end];
                    let key = match raw.contains('\\') {
                        false => Cow::Borrowed(&raw[1..raw.len() - 1]),
                        true => serde_json::from_str::<Text>(raw).ok()?.0,
                    };
                    if keys[start..].contains(&key) {
                        return Some(key.into_owned());
                    }
                    keys.push(key);
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Removes whitespace between tokens; string contents are kept byte for byte.
pub fn minify(text: &str) -> Cow<'_, str> {
    if !shape(text).spaced {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut run = 0; // start of the current run of bytes to copy
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i).map_or(b.len(), |end| end + 1),
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&text[run..i]);
                i += 1;
                run = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[run.min(b.len())..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert_eq!(
            duplicate_key(r#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}"#),
            None
        );
        assert_eq!(
            duplicate_key(r#"{"eventName":"A","x":1,"eventName":"B"}"#).as_deref(),
            Some("eventName")
        );
        assert_eq!(
            duplicate_key(r#"{"p":{"k":"v","k":"w"}}"#).as_deref(),
            Some("k")
        );
        assert_eq!(
            duplicate_key(r#"{"l":[{"k":1,"k":2}]}"#).as_deref(),
            Some("k")
        );
        assert_eq!(
            duplicate_key(r#"{"a\u0062":1,"ab":2}"#).as_deref(),
            Some("ab")
        );
        assert_eq!(duplicate_key(r#"{"s":"\"k\":","k":1}"#), None);
        assert_eq!(duplicate_key(r#"{"a":"x","b":"a"}"#), None);
        // A closed inner object's keys are not its parent's or its sibling's.
        assert_eq!(duplicate_key(r#"{"a":{"x":1},"b":{"x":2},"x":3}"#), None);
        assert_eq!(
            duplicate_key(r#"{"a":{"x":1,"y":[{"y":1}]},"a":2}"#).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn the_one_pass_key_check_agrees_with_duplicate_key() {
        let mut stack = KeyStack::default();
        let cases = [
            r#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}"#,
            r#"{"eventName":"A","x":1,"eventName":"B"}"#,
            r#"{"p":{"k":"v","k":"w"}}"#,
            r#"{"l":[{"k":1,"k":2}]}"#,
            r#"{"s":"\"k\":","k":1}"#,
            r#"{"a":"x","b":"a"}"#,
            r#"{"a":{"x":1},"b":{"x":2},"x":3}"#,
            r#"{"a":{"x":1,"y":[{"y":1}]},"a":2}"#,
            r#"{ "a" : [ 1 , { "b" : 2 , "b" : 3 } ] }"#,
            r#"{"a":[],"b":{},"a":null}"#,
        ];
        for text in cases {
            let (end, shape, closed) = scan_with_keys(text.as_bytes(), 0, &mut stack);
            assert!(closed && end == text.len(), "{text}");
            assert_eq!(shape.depth, scan(text.as_bytes(), 0).1.depth, "{text}");
            let found = match shape.keys {
                Keys::Unique => None,
                Keys::Repeated(s, e) => Some(text[s..e].to_string()),
                Keys::Unchecked => panic!("no escapes in {text}"),
            };
            assert_eq!(found, duplicate_key(text), "{text}");
        }
        // A key with an escape is left to duplicate_key, which decodes it.
        let escaped = r#"{"a\u0062":1,"ab":2}"#;
        let shape = scan_with_keys(escaped.as_bytes(), 0, &mut stack).1;
        assert_eq!(shape.keys, Keys::Unchecked);
        // Positions are relative to where the scan started.
        let body = r#"[{"k":1},{"k":1,"k":2}]"#;
        let (_, shape, _) = scan_with_keys(body.as_bytes(), 9, &mut stack);
        assert_eq!(shape.keys, Keys::Repeated(8, 9));
        assert_eq!(&body[9..][8..9], "k");
    }

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn strings_borrow_without_escapes() {
        assert!(matches!(
            string(raw(r#""abc""#)),
            Some(Cow::Borrowed("abc"))
        ));
        assert_eq!(string(raw(r#""a\"b\u00e9""#)).unwrap(), "a\"b\u{e9}");
        assert!(string(raw("12")).is_none());
        assert!(string(raw("null")).is_none());
    }

    #[test]
    fn members_keep_order_and_raw_values() {
        let m = members(raw(r#"{"b": [1, 2], "a\u0041": "x"}"#)).unwrap();
        assert_eq!(m.0.len(), 2);
        assert_eq!(m.0[0].0, "b");
        assert_eq!(m.0[0].1.get(), "[1, 2]");
        assert_eq!(m.0[1].0, "aA");
        assert!(members(raw("[1]")).is_none());
    }

    #[test]
    fn shape_counts_depth_and_spacing_outside_strings() {
        assert_eq!(
            shape(r#"{"a":[{"b":"[[[ ]]]"}]}"#),
            Shape {
                depth: 3,
                spaced: false,
                keys: Keys::Unchecked
            }
        );
        assert_eq!(
            shape(r#"{"a": 1}"#),
            Shape {
                depth: 1,
                spaced: true,
                keys: Keys::Unchecked
            }
        );
        assert_eq!(
            shape(r#"{"a\"[":1}"#),
            Shape {
                depth: 1,
                spaced: false,
                keys: Keys::Unchecked
            }
        );
    }

    #[test]
    fn minify_keeps_strings_intact() {
        let pretty = "{\n  \"a b\" : [ 1, \"x \\\" y\" ],\n  \"c\": {}\n}\n";
        let m = minify(pretty);
        assert_eq!(m, r#"{"a b":[1,"x \" y"],"c":{}}"#);
        let v1: serde_json::Value = serde_json::from_str(pretty).unwrap();
        let v2: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v1, v2);
        assert!(matches!(minify(r#"{"a":1}"#), Cow::Borrowed(_)));
    }
}
