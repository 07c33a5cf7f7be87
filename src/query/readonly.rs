//! The read-only check: no statement may change the lake or reach outside it through SQL.
//!
//! Input: a logical plan. Output: `Ok` or an error saying what was refused and what to do
//! instead. This module does not run plans.

use anyhow::{Result, bail};
use datafusion::logical_expr::{DdlStatement, LogicalPlan};

use super::session::TABLE;

/// Refuses plans that could change the lake or reach outside it: DML (INSERT, UPDATE, DELETE,
/// COPY), external tables (which read arbitrary files), and statements such as SET. Views and
/// in-memory tables of the session are allowed.
pub fn check_read_only(plan: &LogicalPlan) -> Result<()> {
    match plan {
        LogicalPlan::Dml(_) | LogicalPlan::Copy(_) => bail!(
            "this shell is read-only toward the evidence: INSERT, UPDATE, DELETE and COPY are refused; \
             use --output FILE (or \\o FILE) to save results"
        ),
        LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_)) => bail!(
            "CREATE EXTERNAL TABLE is refused: SQL reads only the lake; ingest other logs with `trailscope ingest`"
        ),
        LogicalPlan::Ddl(
            DdlStatement::CreateView(_)
            | DdlStatement::CreateMemoryTable(_)
            | DdlStatement::DropView(_),
        ) => Ok(()),
        LogicalPlan::Ddl(DdlStatement::DropTable(d)) if d.name.table() != TABLE => Ok(()),
        LogicalPlan::Ddl(other) => bail!(
            "{} is refused: this shell only reads the lake (session views and tables are allowed)",
            other.name()
        ),
        LogicalPlan::Statement(s) => bail!("{} statements are refused in this shell", s.name()),
        _ => Ok(()),
    }
}
