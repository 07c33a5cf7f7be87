//! Output: the one output format of every command, and its writers: query results as an aligned
//! table, CSV, JSON or JSON lines, or into a file; and any command's typed records (findings,
//! timeline lines, summaries, chains, rules) as JSON, JSON lines or CSV.
//!
//! Input: a stream of record batches, or records that serialize. Output: text on a writer. CSV and JSON lines stream batch by
//! batch, so a large result is never held in memory to be printed; the table and the JSON array
//! are built from what they are given. Nested values (structs, lists) are written as JSON text in
//! CSV and in table cells. One [`Format`] serves every `--format`, the shell's `\format` and
//! the reports; a command that has no use for a format refuses it when the command line is parsed
//! ([`Format::parser`]). The table for reading is each command's own; the machine formats of
//! typed records are written here, once ([`write_records`]).
//!
//! This module does not run queries; the session and the commands do.

use std::io::Write;

pub use crate::progress::inert;
use std::path::Path;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use std::sync::Arc;

/// How results are written, by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned for reading (each command's own layout).
    #[default]
    Table,
    /// Comma-separated values with a header row; lists of plain values joined with spaces,
    /// anything more nested as JSON text. A text cell that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`.
    Csv,
    /// The same CSV with every text cell as it is, formulas included.
    CsvRaw,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// SARIF 2.1.0, for code-scanning and SIEM pipelines (findings only).
    Sarif,
}

impl Format {
    /// The formats of everything but findings.
    pub const RECORDS: &[Format] = &[
        Format::Table,
        Format::Csv,
        Format::CsvRaw,
        Format::Json,
        Format::Ndjson,
    ];

    /// The formats of findings.
    pub const FINDINGS: &[Format] = &[
        Format::Table,
        Format::Csv,
        Format::CsvRaw,
        Format::Json,
        Format::Ndjson,
        Format::Sarif,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::CsvRaw => "csv-raw",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Sarif => "sarif",
        }
    }

    /// A `--format` parser that offers (and accepts) only `allowed`, so `--help` lists what the
    /// command can write and a wrong choice is refused before any work.
    pub fn parser(
        allowed: &'static [Format],
    ) -> impl clap::builder::TypedValueParser<Value = Format> {
        use clap::builder::TypedValueParser;
        clap::builder::PossibleValuesParser::new(allowed.iter().map(|f| {
            let help = match f {
                Format::Table => "aligned for reading",
                Format::Csv => {
                    "comma-separated values with a header row; cells a spreadsheet would run as formulas get a leading '"
                }
                Format::CsvRaw => "the same CSV with every cell as it is",
                Format::Json => "one JSON array",
                Format::Ndjson => "one JSON object per line",
                Format::Sarif => "SARIF 2.1.0",
            };
            let value = clap::builder::PossibleValue::new(f.name()).help(help);
            // `verify` printed "text" before every command shared one format.
            match f {
                Format::Table => value.alias("text"),
                _ => value,
            }
        }))
        .map(|s| match s.as_str() {
            "text" => Format::Table,
            _ => <Format as clap::ValueEnum>::from_str(&s, true).unwrap_or_default(),
        })
    }

    /// The format a file name's extension asks for.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            "sarif" => Some(Format::Sarif),
            "txt" => Some(Format::Table),
            _ => None,
        }
    }
}

/// Writes typed records in a machine format: JSON (an indented array), NDJSON (one object per
/// line) or CSV (a header from the first record's fields, in their declared order). `Table` and
/// `Sarif` are each caller's own and are refused here.
pub fn write_records<T: serde::Serialize>(
    out: &mut dyn Write,
    items: &[T],
    format: Format,
) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, items).map_err(json_error)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for item in items {
                serde_json::to_writer(&mut *out, item).map_err(json_error)?;
                writeln!(out)?;
            }
        }
        Format::Csv | Format::CsvRaw => {
            let safe = format == Format::Csv;
            let mut header_written = false;
            for item in items {
                let text = serde_json::to_string(item)?;
                let Ordered(fields) = serde_json::from_str(&text)
                    .context("a CSV record must serialize as an object")?;
                if !header_written {
                    let names: Vec<String> = fields.iter().map(|(k, _)| csv_field(k)).collect();
                    writeln!(out, "{}", names.join(","))?;
                    header_written = true;
                }
                let cells: Vec<String> = fields
                    .iter()
                    .map(|(_, v)| {
                        let text = cell(v);
                        match (safe, v) {
                            (true, serde_json::Value::String(_)) => csv_field(&defuse(&text)),
                            _ => csv_field(&text),
                        }
                    })
                    .collect();
                writeln!(out, "{}", cells.join(","))?;
            }
        }
        Format::Table | Format::Sarif => bail!("{} is not a record format", format.name()),
    }
    Ok(())
}

/// A JSON writer's error, with a failed write kept as the I/O error it was: a closed pipe
/// (`| head`) must stay recognisable so that it ends the program quietly.
pub fn json_error(e: serde_json::Error) -> anyhow::Error {
    match e.io_error_kind() {
        Some(kind) => std::io::Error::from(kind).into(),
        None => e.into(),
    }
}

/// A JSON object's fields in the order they were written (serde_json's own map sorts them).
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// One CSV cell of a JSON value: text as is, null empty, a list of plain values joined with
/// spaces, anything more nested as JSON text.
fn cell(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            items.iter().map(cell).collect::<Vec<_>>().join(" ")
        }
        _ => v.to_string(),
    }
}

/// A text cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, carriage
/// return first) with a leading `'`, the convention spreadsheets read as "text"; others as
/// they are. Log fields are attacker-written: `=HYPERLINK(…)` in a user agent must stay text.
pub fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// One CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// Writes a result stream in `format`; returns the number of rows.
pub async fn write_stream(
    stream: SendableRecordBatchStream,
    format: Format,
    max_width: usize,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut watch = PipeWatch {
        inner: out,
        broken: false,
    };
    match write_formatted(stream, format, max_width, &mut watch).await {
        // The CSV and JSON writers turn I/O errors into text; a closed pipe (`| head`) must stay
        // recognisable so that it ends the program quietly.
        Err(_) if watch.broken => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe).into()),
        other => other,
    }
}

/// A writer that remembers whether the reader went away.
struct PipeWatch<'a> {
    inner: &'a mut dyn Write,
    broken: bool,
}

impl Write for PipeWatch<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.broken |= matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe);
        r
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.broken |= matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe);
        r
    }
}

async fn write_formatted(
    mut stream: SendableRecordBatchStream,
    format: Format,
    max_width: usize,
    out: &mut dyn Write,
) -> Result<u64> {
    let schema = stream.schema();
    let mut rows = 0u64;
    match format {
        Format::Csv | Format::CsvRaw => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            while let Some(batch) = stream.next().await {
                let mut batch = flatten(&batch?)?;
                if format == Format::Csv {
                    batch = defuse_batch(&batch)?;
                }
                rows += batch.num_rows() as u64;
                w.write(&batch).context("writing CSV")?;
            }
            if rows == 0 {
                // The CSV writer writes the header with the first batch; an empty result still
                // gets its header.
                let empty = flatten(&RecordBatch::new_empty(schema))?;
                w.write(&empty).context("writing CSV")?;
            }
        }
        Format::Ndjson => {
            let w = datafusion::arrow::json::LineDelimitedWriter::new(out);
            rows = write_json(&mut stream, w).await?;
        }
        Format::Json => {
            let w = datafusion::arrow::json::ArrayWriter::new(&mut *out);
            rows = write_json(&mut stream, w).await?;
            out.write_all(b"\n").context("writing JSON")?;
        }
        Format::Sarif => bail!("sarif is a format of findings (trailscope detect --format sarif)"),
        Format::Table => {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                batches.push(batch);
            }
            write_table(&schema, &batches, max_width, out)?;
        }
    }
    Ok(rows)
}

/// Streams batches through an arrow JSON writer (array or lines); returns the number of rows.
async fn write_json<W: Write, F: datafusion::arrow::json::writer::JsonFormat>(
    stream: &mut SendableRecordBatchStream,
    mut w: datafusion::arrow::json::Writer<W, F>,
) -> Result<u64> {
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        w.write(&batch).context("writing JSON")?;
    }
    w.finish().context("writing JSON")?;
    Ok(rows)
}

/// Writes results to a file whose extension names the format: `.csv`, `.json`, `.ndjson` /
/// `.jsonl`, or `.parquet`. Returns the number of rows.
pub async fn write_file(stream: SendableRecordBatchStream, path: &Path) -> Result<u64> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut file = std::io::BufWriter::new(file);
    let rows = match ext.as_str() {
        "csv" => write_stream(stream, Format::Csv, 0, &mut file).await?,
        "json" => write_stream(stream, Format::Json, 0, &mut file).await?,
        "ndjson" | "jsonl" => write_stream(stream, Format::Ndjson, 0, &mut file).await?,
        "parquet" => write_parquet(stream, &mut file).await?,
        _ => bail!(
            "{}: unknown output type; name the file .csv, .json, .ndjson or .parquet",
            path.display()
        ),
    };
    file.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(rows)
}

async fn write_parquet(
    mut stream: SendableRecordBatchStream,
    out: &mut (dyn Write + Send),
) -> Result<u64> {
    let props = datafusion::parquet::file::properties::WriterProperties::builder()
        .set_compression(datafusion::parquet::basic::Compression::ZSTD(
            Default::default(),
        ))
        .build();
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(out, stream.schema(), Some(props))
        .context("starting the Parquet output")?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        w.write(&batch).context("writing the Parquet output")?;
    }
    w.close().context("finishing the Parquet output")?;
    Ok(rows)
}

/// Every text column with [`defuse`] applied to its values.
fn defuse_batch(batch: &RecordBatch) -> Result<RecordBatch> {
    let text = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
        )
    };
    if !batch.schema().fields().iter().any(|f| text(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if !text(f.data_type()) {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
            continue;
        }
        let strings = datafusion::arrow::compute::cast(c, &DataType::Utf8)?;
        let strings = strings
            .as_any()
            .downcast_ref::<StringArray>()
            .context("a text column cast to text")?;
        let defused: StringArray = strings.iter().map(|v| v.map(defuse)).collect();
        fields.push(Field::new(f.name(), DataType::Utf8, f.is_nullable()));
        columns.push(Arc::new(defused));
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Replaces nested columns (structs, lists, maps) by their JSON-like text, for CSV.
fn flatten(batch: &RecordBatch) -> Result<RecordBatch> {
    let nested = |t: &DataType| t.is_nested();
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| nested(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if nested(f.data_type()) {
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(text_column(c.as_ref())?));
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn text_column(array: &dyn Array) -> Result<StringArray> {
    let options = FormatOptions::default();
    let fmt = ArrayFormatter::try_new(array, &options)?;
    Ok((0..array.len())
        .map(|i| array.is_valid(i).then(|| fmt.value(i).to_string()))
        .collect())
}

/// An aligned table with a header rule; cells longer than `max_width` characters are cut with `…`.
fn write_table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    max_width: usize,
    out: &mut dyn Write,
) -> Result<()> {
    let max_width = max_width.max(4);
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let options = FormatOptions::default().with_null("NULL");
    let mut cells: Vec<Vec<String>> = Vec::new();
    for batch in batches {
        let fmts = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let line: Vec<String> = fmts
                .iter()
                .map(|f| cut(&f.value(row).to_string(), max_width))
                .collect();
            for (w, c) in widths.iter_mut().zip(&line) {
                *w = (*w).max(c.chars().count());
            }
            cells.push(line);
        }
    }
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    let line = |row: &[String]| -> String {
        row.iter()
            .zip(&widths)
            .map(|(c, w)| pad(c, *w))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    writeln!(out, "{}", line(&headers).trim_end())?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    )?;
    for row in &cells {
        writeln!(out, "{}", line(row).trim_end())?;
    }
    Ok(())
}

/// Cuts a cell to `max` characters, on one line, inert ([`inert`]).
fn cut(s: &str, max: usize) -> String {
    let one_line = inert(s).into_owned();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut t: String = one_line.chars().take(max - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        zeta: &'static str,
        alpha: Vec<&'static str>,
        nested: Vec<(&'static str, i64)>,
        none: Option<i64>,
    }

    #[test]
    fn records_keep_their_field_order_in_csv() {
        let rows = [Row {
            zeta: "a,b",
            alpha: vec!["x", "y"],
            nested: vec![("api", 3)],
            none: None,
        }];
        let mut out = Vec::new();
        write_records(&mut out, &rows, Format::Csv).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "zeta,alpha,nested,none\n\"a,b\",x y,\"[[\"\"api\"\",3]]\",\n"
        );
        let mut out = Vec::new();
        write_records(&mut out, &rows, Format::Ndjson).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("{\"zeta\""));
        assert!(write_records(&mut Vec::new(), &rows, Format::Sarif).is_err());
    }

    #[test]
    fn hostile_text_is_shown_escaped() {
        assert_eq!(inert("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert_eq!(inert("\u{1b}]0;owned\u{7}"), "\\x1b]0;owned\\x07");
        assert_eq!(inert("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(inert("\u{9b}31m"), "\\u009b31m");
        assert_eq!(inert("txt.\u{202e}exe"), "txt.\\u202eexe");
        assert_eq!(inert("\u{2066}x\u{2069}\u{2028}"), "\\u2066x\\u2069\\u2028");
        assert_eq!(inert("\u{7f}"), "\\x7f");
    }

    #[test]
    fn formulas_stay_text_in_csv_unless_raw_is_asked_for() {
        for f in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(f), format!("'{f}"));
        }
        assert_eq!(defuse("aws-cli/2.15"), "aws-cli/2.15");
        #[derive(serde::Serialize)]
        struct R {
            ua: &'static str,
            n: i64,
        }
        let rows = [R {
            ua: "=HYPERLINK(\"x\")",
            n: -1,
        }];
        let mut out = Vec::new();
        write_records(&mut out, &rows, Format::Csv).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ua,n\n\"'=HYPERLINK(\"\"x\"\")\",-1\n"
        );
        let mut out = Vec::new();
        write_records(&mut out, &rows, Format::CsvRaw).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ua,n\n\"=HYPERLINK(\"\"x\"\")\",-1\n"
        );
    }

    #[test]
    fn cells_are_cut_on_one_line() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("a\nb", 5), "a\\nb");
    }
}
