//! The read-only check: no statement may change the lake or reach outside it through SQL.
//!
//! Input: a logical plan. Output: `Ok` or an error saying what was refused and what to do
//! instead. The whole plan is walked, every node and every subquery, so a writing statement
//! cannot hide inside `EXPLAIN ANALYZE` (which runs its input), a subquery or a view's
//! definition. This module does not run plans.

use anyhow::{Result, anyhow, bail};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};

use super::session::TABLE;

/// Refuses plans that could change the lake or reach outside it: DML (INSERT, UPDATE, DELETE,
/// COPY), external tables (which read arbitrary files), and statements such as SET, anywhere in
/// the plan. Views and in-memory tables of the session are allowed.
pub fn check_read_only(plan: &LogicalPlan) -> Result<()> {
    let mut refused = None;
    plan.apply_with_subqueries(|node| {
        if let Err(e) = check_node(node) {
            refused = Some(e);
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|e| anyhow!("checking the statement: {e}"))?;
    match refused {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Refuses anything but one read-only query: what a detection rule must be. Session DDL that
/// the shell allows (CREATE VIEW, …) is refused too: a rule reads, it does not define.
pub fn check_query(plan: &LogicalPlan) -> Result<()> {
    check_read_only(plan)?;
    match plan {
        LogicalPlan::Ddl(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Copy(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::Explain(_)
        | LogicalPlan::Analyze(_)
        | LogicalPlan::DescribeTable(_) => bail!("the body must be one SELECT query"),
        _ => Ok(()),
    }
}

fn check_node(plan: &LogicalPlan) -> Result<()> {
    match plan {
        LogicalPlan::Dml(_) | LogicalPlan::Copy(_) => bail!(
            "this shell is read-only toward the evidence: INSERT, UPDATE, DELETE and COPY are refused \
             (also inside EXPLAIN ANALYZE or a subquery); use --output FILE (or \\o FILE) to save results"
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
