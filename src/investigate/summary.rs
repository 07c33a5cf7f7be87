//! Summary: per-actor summaries for the first hour of an investigation: when, where, from which
//! IPs and keys, what, and which detections named the actor.
//!
//! Input: a session over the lake, an optional actor, and findings. Output: [`ActorSummary`]s,
//! most-flagged and busiest first. This module does not print; [`super::render`] does.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use datafusion::arrow::array::Array;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use super::timeline::actor_filter;
use crate::detect::Finding;
use crate::query::columns::{int_column, text_column};

/// One actor's first hour of investigation, on one screen.
#[derive(Debug, Clone, Serialize)]
pub struct ActorSummary {
    /// The actor label.
    pub actor: String,
    /// Its ARN.
    pub arn: String,
    /// First event.
    pub first_seen: String,
    /// Last event.
    pub last_seen: String,
    /// Accounts it acted in.
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Source IPs.
    pub source_ips: Vec<String>,
    /// User agents.
    pub user_agents: Vec<String>,
    /// Access keys used.
    pub access_keys: Vec<String>,
    /// All its events.
    pub events: i64,
    /// Calls that change something (readOnly false).
    pub writes: i64,
    /// Read-only calls.
    pub reads: i64,
    /// Calls that failed.
    pub failed: i64,
    /// Most frequent APIs with their counts.
    pub top_apis: Vec<(String, i64)>,
    /// Detections that named this actor, with their finding counts.
    pub detections: Vec<(String, usize)>,
    /// Findings at low or above that named this actor: the ranking key (the info marks of the
    /// audit pack and of routine work graded down do not make an actor suspect).
    pub flagged: usize,
}

/// Per-actor summaries (of one actor when given), most-flagged and busiest first.
pub async fn summaries(
    ctx: &SessionContext,
    actor: Option<&str>,
    findings: &[&Finding],
) -> Result<Vec<ActorSummary>> {
    let filter = actor
        .map(|a| format!("WHERE {}", actor_filter(a)))
        .unwrap_or_default();
    let sql = format!(
        "WITH ev AS (SELECT *, coalesce(actor(useridentity), '?') AS who FROM cloudtrail {filter})
         SELECT who, min(coalesce(useridentity.arn, '')) AS arn, CAST(min(eventtime) AS VARCHAR) AS first_seen,
                CAST(max(eventtime) AS VARCHAR) AS last_seen,
                array_to_string(array_sort(array_distinct(array_agg(account))), ' ') AS accounts,
                array_to_string(array_sort(array_distinct(array_agg(region))), ' ') AS regions,
                array_to_string(array_sort(array_distinct(array_agg(sourceipaddress))), '\u{1}') AS ips,
                array_to_string(array_sort(array_distinct(array_agg(useragent))), '\u{1}') AS uas,
                array_to_string(array_sort(array_distinct(array_agg(useridentity.accesskeyid))), ' ') AS keys,
                count(*) AS events,
                sum(CASE WHEN readonly THEN 0 ELSE 1 END) AS writes,
                sum(CASE WHEN readonly THEN 1 ELSE 0 END) AS reads,
                count(errorcode) AS failed
         FROM ev GROUP BY who"
    );
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .context("summarising actors")?;
    let top_sql = format!(
        "WITH ev AS (SELECT coalesce(actor(useridentity), '?') AS who, lambda_api(eventname) AS api FROM cloudtrail {filter}),
         n AS (SELECT who, api, count(*) AS c FROM ev GROUP BY who, api)
         SELECT who, api, c FROM (SELECT *, row_number() OVER (PARTITION BY who ORDER BY c DESC, api) AS r FROM n) WHERE r <= 5"
    );
    let mut top: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for b in ctx
        .sql(&top_sql)
        .await?
        .collect()
        .await
        .context("finding the top APIs")?
    {
        let (w, a, c) = (text_column(&b, 0)?, text_column(&b, 1)?, int_column(&b, 2)?);
        for i in 0..b.num_rows() {
            top.entry(w.value(i).to_owned())
                .or_default()
                .push((a.value(i).to_owned(), c.value(i)));
        }
    }
    let mut out = Vec::new();
    for b in &batches {
        let s = |i: usize| text_column(b, i);
        let n = |i: usize| int_column(b, i);
        let (who, arn, first, last, accts, regions, ips, uas, keys) = (
            s(0)?,
            s(1)?,
            s(2)?,
            s(3)?,
            s(4)?,
            s(5)?,
            s(6)?,
            s(7)?,
            s(8)?,
        );
        let (events, writes, reads, failed) = (n(9)?, n(10)?, n(11)?, n(12)?);
        let split =
            |a: &datafusion::arrow::array::StringArray, i: usize, sep: char| -> Vec<String> {
                if a.is_null(i) {
                    return Vec::new();
                }
                a.value(i)
                    .split(sep)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
        for i in 0..b.num_rows() {
            let actor = who.value(i).to_owned();
            let mut hits: BTreeMap<String, usize> = BTreeMap::new();
            let mut flagged = 0;
            for f in findings.iter().filter(|f| f.actor == actor) {
                *hits.entry(f.rule_id.clone()).or_default() += 1;
                flagged += usize::from(f.severity > crate::detect::Severity::Info);
            }
            out.push(ActorSummary {
                arn: arn.value(i).to_owned(),
                first_seen: first.value(i).replace(' ', "T"),
                last_seen: last.value(i).replace(' ', "T"),
                accounts: split(&accts, i, ' '),
                regions: split(&regions, i, ' '),
                source_ips: split(&ips, i, '\u{1}'),
                user_agents: split(&uas, i, '\u{1}'),
                access_keys: split(&keys, i, ' '),
                events: events.value(i),
                writes: writes.value(i),
                reads: reads.value(i),
                failed: failed.value(i),
                top_apis: top.remove(&actor).unwrap_or_default(),
                detections: hits.into_iter().collect(),
                flagged,
                actor,
            });
        }
    }
    out.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(b.events.cmp(&a.events))
            .then(a.actor.cmp(&b.actor))
    });
    Ok(out)
}
