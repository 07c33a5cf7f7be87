//! Detect wing: detection rules as data, their catalogue and lint, running them over a session,
//! and the findings' reports.
//!
//! Input: a query session ([`crate::query`]) and `.sql` rule files (the built-in packs under
//! `queries/`, embedded, and the user's `--packs-dir`). Output: [`Finding`]s per rule, printed by
//! [`report`] as a table, JSON, NDJSON, CSV or SARIF.
//!
//! - [`rule`]: one rule file's header, thresholds and finding columns;
//! - [`catalogue`]: the built-in and user packs, and choosing rules;
//! - [`lint`]: checking a rule against the lake's schema without running it over data;
//! - [`run`]: running rules and reading their rows into findings, with their evidence status;
//! - [`exceptions`]: the responder's known-routine activity, marking findings suppressed;
//! - [`report`]: the findings' output formats.
//!
//! This wing does not open sessions or print outside [`report`]; the front ends do.

pub mod catalogue;
pub mod exceptions;
pub mod lint;
pub mod report;
pub mod rule;
pub mod run;

pub use catalogue::{builtin, catalogue, load_dir, nearest, rule_files, select};
pub use lint::lint;
pub use rule::{FINDING_COLUMNS, Overrides, Param, Rule, Severity, finding_type};
pub use run::{
    Finding, Outcome, findings, keep_at_least, mark_evidence, run, run_rule, suppressed,
};
