//! Statement execution, shared by `sql -e/-f` and the interactive shell.
//!
//! Input: SQL text (one or more statements) and where results go. Output: results written in the
//! chosen format, or to a file. Each statement is planned, checked read-only
//! ([`crate::session::check_read_only`]) and run. Errors are made into one clear line, with the
//! nearest real column suggested for an unknown one.
//!
//! This module does not read input or parse meta-commands; the commands and the shell do.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;

use crate::output::{self, Format};
use crate::schema;
use crate::session;

/// Where and how results go.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Output format on stdout.
    pub format: Format,
    /// Longest table cell.
    pub max_width: usize,
    /// Results to this file instead of stdout.
    pub file: Option<PathBuf>,
    /// Print the row count and elapsed time after each result, in every format (on stderr
    /// unless the format is the table).
    pub timing: bool,
}

/// Runs every statement of `sql` in order; stops at the first error.
pub async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    sink: &Sink,
    out: &mut dyn Write,
) -> Result<()> {
    let statements =
        DFParser::parse_sql(sql).map_err(|e| anyhow!("{}", one_line(&e.to_string())))?;
    if statements.is_empty() {
        anyhow::bail!("no SQL statement given");
    }
    for stmt in statements {
        let started = Instant::now();
        let plan = ctx
            .state()
            .statement_to_plan(stmt)
            .await
            .map_err(|e| explain(&e.to_string()))?;
        session::check_read_only(&plan)?;
        let df = ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| explain(&e.to_string()))?;
        let stream = df
            .execute_stream()
            .await
            .map_err(|e| explain(&e.to_string()))?;
        if let Some(path) = &sink.file {
            let rows = output::write_file(stream, path).await?;
            crate::progress::eprint_line(&format!("{rows} rows written to {}", path.display()));
            continue;
        }
        let rows = output::write_stream(stream, sink.format, sink.max_width, out).await?;
        let took = started.elapsed();
        if sink.format == Format::Table {
            writeln!(out, "({})\n", count_line(rows, took))?;
        } else if sink.timing {
            crate::progress::eprint_line(&count_line(rows, took));
        }
        out.flush()?;
    }
    Ok(())
}

fn count_line(rows: u64, took: Duration) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    format!("{rows} {noun}, {:.3} s", took.as_secs_f64())
}

/// DataFusion's error as one line, with a hint where a common mistake is recognisable.
pub fn explain(message: &str) -> anyhow::Error {
    let line = one_line(message);
    // The list of every valid field is long and adds nothing to a suggestion.
    let line = match line.split_once(" Valid fields are ") {
        Some((head, _)) => head.to_owned(),
        None => line,
    };
    if line.contains("Did you mean") {
        return anyhow!("{line}");
    }
    if let Some(name) = unknown_field(&line)
        && let Some(best) = nearest_column(&name)
    {
        return anyhow!("{line}\nhint: did you mean {best}? (\\d cloudtrail lists the columns)");
    }
    anyhow!("{line}")
}

fn one_line(message: &str) -> String {
    let text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // DataFusion repeats the same message when it wraps errors; keep the last, most specific.
    match text.rsplit_once("Error during planning: ") {
        Some((_, tail)) if !tail.is_empty() => tail.to_owned(),
        _ => text,
    }
}

/// The unknown name in "No field named x" / "column 'x' not found" messages.
fn unknown_field(message: &str) -> Option<String> {
    let after = message.split("No field named ").nth(1)?;
    let name: String = after
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let name = name.trim_end_matches('.').rsplit('.').next()?.to_owned();
    (!name.is_empty()).then_some(name)
}

/// The real column (or struct path) closest in spelling to `name`.
pub fn nearest_column(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    schema::column_paths()
        .into_iter()
        .map(|c| {
            let last = c.rsplit('.').next().unwrap_or(&c).to_owned();
            // A prefix of a real name ("sourceip") is as good as a one-letter slip.
            let d = match last.starts_with(&name) && name.len() >= 4 {
                true => 1,
                false => edit_distance(&name, &last).min(edit_distance(&name, &c)),
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= 3.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Column `i` of a result batch as text (any string, dictionary or timestamp type is cast).
pub fn text_column(
    batch: &datafusion::arrow::array::RecordBatch,
    i: usize,
) -> Result<datafusion::arrow::array::StringArray> {
    use datafusion::arrow::array::AsArray;
    let a = datafusion::arrow::compute::cast(
        batch.column(i),
        &datafusion::arrow::datatypes::DataType::Utf8,
    )?;
    Ok(a.as_string::<i32>().clone())
}

/// Column `i` of a result batch as 64-bit integers.
pub fn int_column(
    batch: &datafusion::arrow::array::RecordBatch,
    i: usize,
) -> Result<datafusion::arrow::array::Int64Array> {
    use datafusion::arrow::array::AsArray;
    let a = datafusion::arrow::compute::cast(
        batch.column(i),
        &datafusion::arrow::datatypes::DataType::Int64,
    )?;
    Ok(a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_columns_get_the_nearest_real_one() {
        assert_eq!(nearest_column("eventnme").as_deref(), Some("eventname"));
        assert_eq!(
            nearest_column("sourceip").as_deref(),
            Some("sourceipaddress")
        );
        assert_eq!(
            nearest_column("accesskey").as_deref(),
            Some("useridentity.accesskeyid")
        );
        assert_eq!(nearest_column("zzzzzzzzzzzz"), None);
        let e = explain(
            "Schema error: No field named eventnme. Valid fields are cloudtrail.eventtime, …",
        );
        assert!(e.to_string().contains("did you mean eventname?"), "{e}");
        assert!(!e.to_string().contains("Valid fields"), "{e}");
        assert_eq!(
            unknown_field("No field named cloudtrail.foo_bar."),
            Some("foo_bar".into())
        );
    }
}
