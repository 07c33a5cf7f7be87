//! Output: query results as an aligned table, CSV, JSON or JSON lines, or into a file.
//!
//! Input: a stream of record batches. Output: text on a writer. CSV and JSON lines stream batch by
//! batch, so a large result is never held in memory to be printed; the table and the JSON array
//! are built from what they are given. Nested values (structs, lists) are written as JSON text in
//! CSV and in table cells. One [`Format`] serves `--format`, the shell's `\format` and reports.
//!
//! This module does not run queries; the session and the commands do.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use std::sync::Arc;

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// An aligned table, long values cut to --max-width, with the row count.
    #[default]
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
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
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            while let Some(batch) = stream.next().await {
                let batch = flatten(&batch?)?;
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

/// Cuts a cell to `max` characters, on one line.
fn cut(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
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

    #[test]
    fn cells_are_cut_on_one_line() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("a\nb", 5), "a b");
    }
}
