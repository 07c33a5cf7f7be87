//! Rule lint: a rule must plan against the lake's schema, be one read-only query, and return
//! every finding column with a usable type.
//!
//! Input: a rule and a session (usually schema-only). Output: the problems found. This module
//! does not read rule files ([`super::catalogue`]).

use datafusion::arrow::compute::can_cast_types;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use super::rule::{FINDING_COLUMNS, Overrides, Rule, SEVERITY_COLUMN, finding_type};

/// Lints `rule` against the lake's schema in `ctx`: the query must plan, only read, and return
/// every finding column with a usable type. Returns the problems found (empty when clean).
pub async fn lint(ctx: &SessionContext, rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    let sql = match rule.render(&Overrides::default()) {
        Ok(s) => s,
        Err(e) => return vec![format!("{e:#}")],
    };
    let plan = match ctx.state().create_logical_plan(&sql).await {
        Ok(p) => p,
        Err(e) => return vec![crate::query::explain::explain(&e.to_string()).to_string()],
    };
    if let Err(e) = crate::query::readonly::check_query(&plan) {
        problems.push(format!("{e:#}"));
        return problems;
    }
    let schema = plan.schema().clone();
    // Some type errors (interval arithmetic, casts) surface only when the plan runs; over the
    // empty table of a schema-only session that costs nothing.
    match ctx.execute_logical_plan(plan).await {
        Ok(df) => {
            if let Err(e) = df.collect().await {
                problems.push(crate::query::explain::explain(&e.to_string()).to_string());
            }
        }
        Err(e) => problems.push(crate::query::explain::explain(&e.to_string()).to_string()),
    }
    for (name, about) in FINDING_COLUMNS {
        match schema.field_with_unqualified_name(name) {
            Ok(field) => {
                let want = finding_type(name);
                let ok = match (name, field.data_type()) {
                    (&"first_seen" | &"last_seen", t) => matches!(t, DataType::Timestamp(..)),
                    (_, t) => can_cast_types(t, &want),
                };
                if !ok {
                    problems.push(format!(
                        "column {name} is {} but must be {about}",
                        field.data_type()
                    ));
                }
            }
            Err(_) => problems.push(format!("the query returns no column {name} ({about})")),
        }
    }
    if let Ok(field) = schema.field_with_unqualified_name(SEVERITY_COLUMN)
        && !can_cast_types(field.data_type(), &DataType::Utf8)
    {
        problems.push(format!(
            "column {SEVERITY_COLUMN} is {} but must be text (info, low, medium, high or critical)",
            field.data_type()
        ));
    }
    problems
}
