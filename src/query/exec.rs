//! Statement execution, shared by `sql -e/-f` and the interactive shell.
//!
//! Input: SQL text (one or more statements) and where results go. Output: results written in the
//! chosen format, or to a file. Each statement is planned, checked read-only
//! ([`super::readonly`]) and run. Errors are made into one clear line, with the
//! nearest real column suggested for an unknown one.
//!
//! This module does not read input or parse meta-commands; the commands and the shell do.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;

use super::explain::{explain, one_line};
use super::output::{self, Format};
use super::readonly::check_read_only;
use super::session::SQL_DIALECT;

/// Where and how results go.
#[derive(Debug, Clone)]
pub struct Sink {
    /// Output format on stdout.
    pub format: Format,
    /// Longest table cell.
    pub max_width: usize,
    /// Results to this file instead of stdout.
    pub file: Option<PathBuf>,
    /// The lake the session reads: no result file may go inside it.
    pub lake: Option<PathBuf>,
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
    let dialect = datafusion::sql::sqlparser::dialect::dialect_from_str(SQL_DIALECT)
        .ok_or_else(|| anyhow!("unknown SQL dialect {SQL_DIALECT}"))?;
    let statements = DFParser::parse_sql_with_dialect(sql, dialect.as_ref())
        .map_err(|e| anyhow!("{}", one_line(&e.to_string())))?;
    if statements.is_empty() {
        anyhow::bail!("no SQL statement given");
    }
    for stmt in statements {
        let started = Instant::now();
        let mut plan = ctx
            .state()
            .statement_to_plan(stmt.clone())
            .await
            .map_err(|e| explain(&e.to_string()))?;
        if super::session::materialize_client_tables(ctx, &plan).await? {
            plan = ctx
                .state()
                .statement_to_plan(stmt)
                .await
                .map_err(|e| explain(&e.to_string()))?;
        }
        check_read_only(&plan)?;
        let df = ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| explain(&e.to_string()))?;
        let stream = df
            .execute_stream()
            .await
            .map_err(|e| explain(&e.to_string()))?;
        if let Some(path) = &sink.file {
            if let Some(lake) = &sink.lake {
                crate::lake::ensure_outside(lake, path)?;
            }
            let rows = output::write_file(stream, path)
                .await
                .map_err(explain_running)?;
            crate::progress::eprint_line(&format!("{rows} rows written to {}", path.display()));
            continue;
        }
        let rows = output::write_stream(stream, sink.format, sink.max_width, out)
            .await
            .map_err(explain_running)?;
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

/// An error met while the results stream: a query error is explained like a planning one; an
/// I/O error (a closed pipe) stays as it is, so that it can end the program quietly.
fn explain_running(e: anyhow::Error) -> anyhow::Error {
    if e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
    {
        return e;
    }
    explain(&format!("{e:#}"))
}

fn count_line(rows: u64, took: Duration) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    format!("{rows} {noun}, {:.3} s", took.as_secs_f64())
}
