//! Detect step: runs detection rules in one query session and collects their findings.
//!
//! Input: a session over the lake ([`crate::query::session`]) and the selected [`Rule`]s. Output: one
//! [`Outcome`] per rule, holding its [`Finding`]s or the error that stopped it. Rules run a few
//! at a time over the same session, so the lake's file listing and metadata are read once; a
//! rule that fails is reported and the others go on.
//!
//! This module does not print; [`super::report`] does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Serialize;

use std::collections::HashMap;

use super::rule::{FINDING_COLUMNS, Overrides, Rule, SEVERITY_COLUMN, Severity, finding_type};
use crate::verify::judge::Status;
use crate::verify::results::Evidence;

/// One finding: a rule's row, with the rule's identity attached.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's MITRE ATT&CK techniques.
    pub mitre: Vec<String>,
    /// The rule's pack.
    pub pack: String,
    /// Time of the first evidence event (RFC 3339, UTC).
    pub first_seen: String,
    /// Time of the last evidence event.
    pub last_seen: String,
    /// The account the events were recorded in.
    pub account: String,
    /// The region of the events.
    pub region: String,
    /// Who acted, as a readable label (`user/alice`, `role/deployer/session`).
    pub actor: String,
    /// The actor's ARN, when CloudTrail gives one.
    pub actor_arn: String,
    /// How many events the finding rests on.
    pub event_count: i64,
    /// The eventIDs of the evidence, in time order.
    pub eventids: Vec<String>,
    /// The objects (s3:// URIs or files) the evidence came from.
    pub source_uris: Vec<String>,
    /// One line a responder can read aloud.
    pub summary: String,
    /// Whether the objects the evidence came from are proven by CloudTrail's signed digests:
    /// `verified` (all of them), `invalid` (one was changed, or its digest is bad), or
    /// `unverified` (not all covered by a valid digest, or never verified).
    pub evidence: Evidence,
    /// The reason of the exception that marks this finding as routine; such findings are
    /// counted and listed on request, never dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// The lake's table version the finding was computed on (`--as-of` reproduces it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lake_version: Option<u64>,
}

/// What running one rule gave.
#[derive(Debug)]
pub struct Outcome {
    /// The rule.
    pub rule: Arc<Rule>,
    /// Its findings, or why it could not run.
    pub result: Result<Vec<Finding>>,
    /// How long it took.
    pub took: Duration,
}

/// How many rules run at once: each rule's plan is itself parallel, but much of a rule's time is
/// spent on one core (planning, opening files, a final aggregate), so three keep two cores busier
/// than two (all packs over a 1M-event lake on two cores: 8.9 s against 9.7 s; four: 8.9 s).
const CONCURRENT_RULES: usize = 3;

/// Runs `rules` over `ctx`, calling `done` after each; outcomes come back in `rules` order.
pub async fn run(
    ctx: &SessionContext,
    rules: Vec<Rule>,
    overrides: &Overrides,
    mut done: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let jobs = rules.into_iter().enumerate().map(|(i, rule)| {
        let rule = Arc::new(rule);
        async move {
            let started = Instant::now();
            let result = run_rule(ctx, &rule, overrides).await;
            (
                i,
                Outcome {
                    rule,
                    result,
                    took: started.elapsed(),
                },
            )
        }
    });
    let mut stream = futures::stream::iter(jobs).buffer_unordered(CONCURRENT_RULES);
    let mut out = Vec::new();
    while let Some((i, outcome)) = stream.next().await {
        done(&outcome);
        out.push((i, outcome));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, o)| o).collect()
}

/// Runs one rule and reads its rows as findings.
pub async fn run_rule(
    ctx: &SessionContext,
    rule: &Rule,
    overrides: &Overrides,
) -> Result<Vec<Finding>> {
    let version = crate::query::session::lake_version(ctx);
    let mut found = run_rule_at(ctx, rule, overrides).await?;
    for f in &mut found {
        f.lake_version = version;
    }
    Ok(found)
}

async fn run_rule_at(
    ctx: &SessionContext,
    rule: &Rule,
    overrides: &Overrides,
) -> Result<Vec<Finding>> {
    let sql = rule.render(overrides)?;
    // Planned without running: `ctx.sql` would carry out DDL (CREATE EXTERNAL TABLE) at once, and
    // a rule from a stranger's pack must pass the shell's check before anything runs.
    let plan_rule = || async {
        let plan = ctx
            .state()
            .create_logical_plan(&sql)
            .await
            .map_err(|e| crate::query::explain::explain(&e.to_string()))
            .with_context(|| format!("planning rule {} ({})", rule.id, rule.origin))?;
        crate::query::readonly::check_query(&plan)
            .with_context(|| format!("refusing rule {} ({})", rule.id, rule.origin))?;
        anyhow::Ok(plan)
    };
    let mut plan = plan_rule().await?;
    if crate::query::session::materialize_client_tables(ctx, &plan).await? {
        plan = plan_rule().await?;
    }
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| crate::query::explain::explain(&e.to_string()))
        .with_context(|| format!("planning rule {} ({})", rule.id, rule.origin))?;
    let batches = df
        .collect()
        .await
        .map_err(|e| anyhow!("{}", crate::query::explain::explain(&e.to_string())))
        .with_context(|| format!("running rule {} ({})", rule.id, rule.origin))?;
    let mut findings = Vec::new();
    for batch in &batches {
        findings.extend(
            read_findings(rule, batch)
                .with_context(|| format!("reading the results of rule {}", rule.id))?,
        );
    }
    Ok(findings)
}

/// The rows of `batch` as findings of `rule`.
fn read_findings(rule: &Rule, batch: &RecordBatch) -> Result<Vec<Finding>> {
    let column = |name: &str| -> Result<Arc<dyn Array>> {
        let array = batch.column_by_name(name).ok_or_else(|| {
            anyhow!("the query returns no column {name}; `trailscope packs lint` checks rule files")
        })?;
        let array = match (name, array.data_type()) {
            // Times print as RFC 3339 in UTC whatever the unit.
            ("first_seen" | "last_seen", DataType::Timestamp(_, _)) => cast(
                &cast(
                    array,
                    &DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
                )?,
                &DataType::Utf8,
            )?,
            _ => cast(array, &finding_type(name))?,
        };
        Ok(array)
    };
    let columns: Vec<(&str, Arc<dyn Array>)> = FINDING_COLUMNS
        .iter()
        .map(|(n, _)| column(n).map(|c| (*n, c)))
        .collect::<Result<_>>()?;
    let get = |name: &str| -> &Arc<dyn Array> {
        &columns
            .iter()
            .find(|(n, _)| *n == name)
            .expect("every finding column was read above")
            .1
    };
    let text = |name: &str, row: usize| -> String {
        let a = get(name).as_string::<i32>();
        if a.is_null(row) {
            String::new()
        } else {
            a.value(row).to_owned()
        }
    };
    let list = |name: &str, row: usize| -> Vec<String> {
        let a = get(name).as_list::<i32>();
        if a.is_null(row) {
            return Vec::new();
        }
        let values = a.value(row);
        let values = values.as_string::<i32>();
        let mut v: Vec<String> = values.iter().flatten().map(str::to_owned).collect();
        if name == "source_uris" {
            v.sort();
            v.dedup();
        }
        v
    };
    let graded = match batch.column_by_name(SEVERITY_COLUMN) {
        Some(a) => Some(cast(a, &DataType::Utf8)?),
        None => None,
    };
    let severity = |row: usize| -> Result<Severity> {
        let Some(a) = &graded else {
            return Ok(rule.severity);
        };
        let a = a.as_string::<i32>();
        if a.is_null(row) {
            return Ok(rule.severity);
        }
        let s: Severity = a
            .value(row)
            .parse()
            .with_context(|| format!("the {SEVERITY_COLUMN} column of row {row}"))?;
        // The header is the ceiling, so selecting rules by severity stays exact.
        Ok(s.min(rule.severity))
    };
    let counts = get("event_count").as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    (0..batch.num_rows())
        .map(|row| {
            Ok(Finding {
                rule_id: rule.id.clone(),
                title: rule.title.clone(),
                severity: severity(row)?,
                mitre: rule.mitre.clone(),
                pack: rule.pack.clone(),
                first_seen: text("first_seen", row).replace(' ', "T"),
                last_seen: text("last_seen", row).replace(' ', "T"),
                account: text("account", row),
                region: text("region", row),
                actor: text("actor", row),
                actor_arn: text("actor_arn", row),
                event_count: if counts.is_null(row) {
                    0
                } else {
                    counts.value(row)
                },
                eventids: list("eventids", row),
                source_uris: list("source_uris", row),
                summary: text("summary", row),
                evidence: Evidence::Unverified,
                suppressed: None,
                lake_version: None,
            })
        })
        .collect()
}

/// Marks each finding by the latest verification of the objects it came from (`verdicts`, by
/// `source_uri`, from the `verification` table). Without a verification every finding stays
/// unverified.
pub fn mark_evidence(outcomes: &mut [Outcome], verdicts: Option<&HashMap<String, Status>>) {
    let Some(verdicts) = verdicts else { return };
    for o in outcomes {
        let Ok(findings) = &mut o.result else {
            continue;
        };
        for f in findings {
            f.evidence = Evidence::of(&f.source_uris, verdicts);
        }
    }
}

/// Drops the findings below `min` (rules grade some rows below their header's severity);
/// returns how many were dropped, so the caller can say so.
pub fn keep_at_least(outcomes: &mut [Outcome], min: Severity) -> usize {
    let mut dropped = 0;
    for o in outcomes {
        if let Ok(findings) = &mut o.result {
            let before = findings.len();
            findings.retain(|f| f.severity >= min);
            dropped += before - findings.len();
        }
    }
    dropped
}

/// The findings of `outcomes` that no exception suppressed, in time order (then most severe
/// first, then by rule).
pub fn findings(outcomes: &[Outcome]) -> Vec<&Finding> {
    sorted(outcomes, false)
}

/// The findings an exception suppressed, in the same order.
pub fn suppressed(outcomes: &[Outcome]) -> Vec<&Finding> {
    sorted(outcomes, true)
}

/// The order of findings in every report: by time, most severe first, by rule, then by what
/// else tells two findings apart, so that findings of one rule at the same second come out the
/// same on every run, on one machine or on a cluster.
fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.first_seen
        .cmp(&b.first_seen)
        .then(b.severity.cmp(&a.severity))
        .then(a.rule_id.cmp(&b.rule_id))
        .then(a.account.cmp(&b.account))
        .then(a.region.cmp(&b.region))
        .then(a.actor_arn.cmp(&b.actor_arn))
        .then(a.eventids.cmp(&b.eventids))
        .then(a.summary.cmp(&b.summary))
}

fn sorted(outcomes: &[Outcome], suppressed: bool) -> Vec<&Finding> {
    let mut all: Vec<&Finding> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .flatten()
        .filter(|f| f.suppressed.is_some() == suppressed)
        .collect();
    all.sort_by(|a, b| order(a, b));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(account: &str, id: &str) -> Finding {
        Finding {
            rule_id: "lambda-env-changed".into(),
            title: "t".into(),
            severity: crate::detect::Severity::Info,
            mitre: vec![],
            pack: "lambda".into(),
            first_seen: "2024-03-04T08:04:27Z".into(),
            last_seen: "2024-03-04T08:04:27Z".into(),
            account: account.into(),
            region: "us-east-1".into(),
            actor: "role/deployer".into(),
            actor_arn: "arn".into(),
            event_count: 1,
            eventids: vec![id.into()],
            source_uris: vec![],
            summary: "s".into(),
            evidence: crate::verify::results::Evidence::Unverified,
            suppressed: None,
            lake_version: None,
        }
    }

    #[test]
    fn findings_of_one_rule_at_one_second_come_out_in_one_order() {
        // Before, two such findings kept the order the engine produced them in, which differs
        // between runs and between one machine and a cluster.
        let a = finding("222222222222", "b");
        let b = finding("444444444444", "a");
        let mut one = [&a, &b];
        let mut two = [&b, &a];
        one.sort_by(|x, y| order(x, y));
        two.sort_by(|x, y| order(x, y));
        assert_eq!(one[0].account, two[0].account);
        assert_eq!(one[0].account, "222222222222");
    }
}
