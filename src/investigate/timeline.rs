//! Timeline: one actor's, key's, IP's or resource's events in time order, chained sessions
//! included, repeated read-only noise collapsed.
//!
//! Input: a session over the lake and a [`Pivot`]. Output: [`Line`]s (one per event, or one per
//! collapsed run) Keys spawned by the pivot's keys (AssumeRole and the rest,
//! [`crate::investigate::chains`]) are followed, so a user's timeline shows what its role sessions did.
//! Findings of the detections can be attached ([`mark`]).
//!
//! This module does not print; [`super::render`] does.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use datafusion::arrow::array::AsArray;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::detect::Finding;
use crate::investigate::chains;
use crate::query::columns::text_column;

/// What to follow.
#[derive(Debug, Clone)]
pub enum Pivot {
    /// An actor label (`user/alice`, `role/r/session`), ARN or user name.
    Actor(String),
    /// An access key.
    Key(String),
    /// A source IP address.
    Ip(String),
    /// A resource ARN or name, found in request and response parameters.
    Resource(String),
}

/// One line of a timeline: an event, or a run of similar read-only events collapsed.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Time of the (first) event.
    pub time: String,
    /// Time of the last event of a collapsed run.
    pub last_time: String,
    /// How many events the line stands for.
    pub count: usize,
    /// Recipient account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Who acted.
    pub actor: String,
    /// The access key used.
    pub key: String,
    /// The event (Lambda names without their version), or `Describe* (ec2)` for a collapsed run.
    pub event: String,
    /// The request parameters that matter for the event.
    pub params: String,
    /// Error code, if the call failed.
    pub error: String,
    /// Source IP.
    pub source_ip: String,
    /// User agent.
    pub user_agent: String,
    /// Ids of the detections that flagged it.
    pub flagged: Vec<String>,
    /// The eventIDs behind the line.
    pub eventids: Vec<String>,
    #[serde(skip)]
    collapsible: Option<String>,
}

/// The request parameters shown first, when present.
const PARAMS: &[&str] = &[
    "userName",
    "roleArn",
    "roleSessionName",
    "functionName",
    "policyArn",
    "bucketName",
    "key",
    "secretId",
    "name",
    "logGroupName",
    "detectorId",
    "principal",
    "authType",
    "keyId",
    "groupName",
    "trailName",
    "layers",
    "environment",
    "instanceId",
    "tableArn",
];

/// The parameters worth a column: the known ones first, else the first scalar ones.
fn key_params(json: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    let show = |k: &str, v: &serde_json::Value| {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text: String = text.chars().take(80).collect();
        format!("{k}={text}")
    };
    let mut out: Vec<String> = PARAMS
        .iter()
        .filter_map(|k| map.get(*k).map(|v| show(k, v)))
        .take(3)
        .collect();
    if out.is_empty() {
        out = map
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .take(2)
            .map(|(k, v)| show(k, v))
            .collect();
    }
    out.join(" ")
}

/// A filter for the events of an actor given as a label (`user/alice`, `role/r/session`,
/// `root/<account>`, `service/<name>`), an ARN or a user name. Labels become plain column
/// predicates, which Parquet pushdown evaluates cheaply; anything else is compared with
/// `actor(useridentity)` too.
pub fn actor_filter(a: &str) -> String {
    let q = |s: &str| s.replace('\'', "''");
    let like = |s: &str| q(s).replace('%', "\\%").replace('_', "\\_");
    let plain = format!(
        "useridentity.arn = '{0}' OR useridentity.username = '{0}'",
        q(a)
    );
    let parts: Vec<&str> = a.splitn(3, '/').collect();
    match parts.as_slice() {
        ["user", name] => format!(
            "(useridentity.type = 'IAMUser' AND (useridentity.username = '{0}' OR useridentity.arn LIKE '%/{1}')) OR {plain}",
            q(name),
            like(name)
        ),
        ["role", role, session] => format!(
            "(useridentity.type = 'AssumedRole' AND useridentity.arn LIKE '%:assumed-role/{}/{}') OR {plain}",
            like(role),
            like(session)
        ),
        ["root", account] => format!(
            "(useridentity.type = 'Root' AND useridentity.accountid = '{}') OR {plain}",
            q(account)
        ),
        ["service", name] => format!("useridentity.invokedby = '{}' OR {plain}", q(name)),
        _ => format!("actor(useridentity) = '{}' OR {plain}", q(a)),
    }
}

/// The events of `pivot` (and of every key its keys spawned), in time order, collapsed.
pub async fn timeline(ctx: &SessionContext, pivot: &Pivot, collapse: bool) -> Result<Vec<Line>> {
    let q = |s: &str| s.replace('\'', "''");
    let base = match pivot {
        Pivot::Actor(a) => actor_filter(a),
        Pivot::Key(k) => format!("useridentity.accesskeyid = '{}'", q(k)),
        Pivot::Ip(ip) => format!("sourceipaddress = '{}'", q(ip)),
        Pivot::Resource(r) => {
            let name = r.rsplit([':', '/']).next().unwrap_or(r);
            format!(
                "strpos(coalesce(requestparameters, ''), '{0}') > 0 OR strpos(coalesce(responseelements, ''), '{0}') > 0 \
                 OR strpos(coalesce(requestparameters, ''), '\"{1}\"') > 0",
                q(r),
                q(name)
            )
        }
    };
    // Keys of the pivot, then everything they spawned.
    let mut keys: BTreeSet<String> = BTreeSet::new();
    if !matches!(pivot, Pivot::Resource(_)) {
        let sql = format!(
            "SELECT DISTINCT useridentity.accesskeyid FROM cloudtrail WHERE ({base}) AND useridentity.accesskeyid IS NOT NULL"
        );
        for b in ctx
            .sql(&sql)
            .await?
            .collect()
            .await
            .context("finding the pivot's keys")?
        {
            keys.extend(text_column(&b, 0)?.iter().flatten().map(str::to_owned));
        }
        if let Pivot::Key(k) = pivot {
            keys.insert(k.clone());
        }
    }
    let issues = if keys.is_empty() {
        BTreeMap::new()
    } else {
        chains::issues(ctx).await?
    };
    let mut spawned = BTreeSet::new();
    for k in &keys {
        spawned.extend(
            chains::descendants(&issues, k)
                .into_iter()
                .map(|(_, i)| i.key),
        );
    }
    let mut filter = format!("({base})");
    if !spawned.is_empty() {
        let list: Vec<String> = spawned.iter().map(|k| format!("'{}'", q(k))).collect();
        filter.push_str(&format!(
            " OR useridentity.accesskeyid IN ({})",
            list.join(", ")
        ));
    }
    let sql = format!(
        "SELECT CAST(eventtime AS VARCHAR) AS t, account, region, coalesce(actor(useridentity), '') AS actor,
                coalesce(useridentity.accesskeyid, '') AS key, eventsource, lambda_api(eventname) AS event,
                coalesce(requestparameters, '') AS req, coalesce(errorcode, '') AS err,
                coalesce(sourceipaddress, '') AS ip, coalesce(useragent, '') AS ua,
                coalesce(readonly, false) AS ro, coalesce(managementevent, true) AS mgmt, eventid
         FROM cloudtrail WHERE {filter} ORDER BY eventtime, eventid"
    );
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .context("reading the timeline's events")?;
    let mut lines: Vec<Line> = Vec::new();
    for b in &batches {
        let s = |i: usize| text_column(b, i);
        let (t, acct, region, actor, key, src, event, req, err, ip, ua, id) = (
            s(0)?,
            s(1)?,
            s(2)?,
            s(3)?,
            s(4)?,
            s(5)?,
            s(6)?,
            s(7)?,
            s(8)?,
            s(9)?,
            s(10)?,
            s(13)?,
        );
        let ro = b.column(11).as_boolean().clone();
        let mgmt = b.column(12).as_boolean().clone();
        for i in 0..b.num_rows() {
            let name = event.value(i);
            let service = src.value(i).trim_end_matches(".amazonaws.com");
            let verb = ["Describe", "List", "Get", "Head", "Lookup"]
                .into_iter()
                .find(|v| name.starts_with(v));
            // Read-only calls collapse by verb and service; data events by their exact name.
            let collapsible = match (err.value(i).is_empty(), ro.value(i), verb, mgmt.value(i)) {
                (true, true, Some(v), _) => Some(format!("{v}* ({service})")),
                (true, _, _, false) => Some(format!("{name} ({service})")),
                _ => None,
            };
            lines.push(Line {
                time: t.value(i).replace(' ', "T"),
                last_time: t.value(i).replace(' ', "T"),
                count: 1,
                account: acct.value(i).to_owned(),
                region: region.value(i).to_owned(),
                actor: actor.value(i).to_owned(),
                key: key.value(i).to_owned(),
                event: name.to_owned(),
                params: key_params(req.value(i)),
                error: err.value(i).to_owned(),
                source_ip: ip.value(i).to_owned(),
                user_agent: ua.value(i).to_owned(),
                flagged: Vec::new(),
                eventids: vec![id.value(i).to_owned()],
                collapsible,
            });
        }
    }
    Ok(if collapse {
        collapse_runs(lines)
    } else {
        lines
    })
}

/// How many distinct parameter sets a collapsed line shows.
const SHOWN_PARAMS: usize = 6;

/// The shortest run that collapses.
const MIN_RUN: usize = 3;

/// Runs of at least [`MIN_RUN`] consecutive collapsible lines of one actor and kind become one.
fn collapse_runs(lines: Vec<Line>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut run: Vec<Line> = Vec::new();
    let flush = |run: &mut Vec<Line>, out: &mut Vec<Line>| {
        if run.len() >= MIN_RUN {
            let first = run[0].clone();
            let last = &run[run.len() - 1];
            let names: BTreeSet<&str> = run.iter().map(|l| l.event.as_str()).collect();
            let kind = first.collapsible.clone().unwrap_or_default();
            out.push(Line {
                last_time: last.time.clone(),
                count: run.len(),
                event: kind,
                params: {
                    // What the run touched matters more than that it ran: its distinct parameters.
                    let params: BTreeSet<&str> = run
                        .iter()
                        .map(|l| l.params.as_str())
                        .filter(|p| !p.is_empty())
                        .collect();
                    let mut text = names.into_iter().take(4).collect::<Vec<_>>().join(", ");
                    if !params.is_empty() {
                        let shown: Vec<&str> = params.iter().take(SHOWN_PARAMS).copied().collect();
                        text.push_str(&format!(": {}", shown.join("; ")));
                        if params.len() > SHOWN_PARAMS {
                            text.push_str(&format!(" (+{} more)", params.len() - SHOWN_PARAMS));
                        }
                    }
                    text
                },
                eventids: run.iter().flat_map(|l| l.eventids.clone()).collect(),
                ..first
            });
            run.clear();
        } else {
            out.append(run);
        }
    };
    for l in lines {
        let same = run.last().is_some_and(|r| {
            l.collapsible.is_some() && r.collapsible == l.collapsible && r.actor == l.actor
        });
        if !same {
            flush(&mut run, &mut out);
        }
        if l.collapsible.is_some() {
            run.push(l);
        } else {
            out.push(l);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Marks the lines whose events a finding names.
pub fn mark(lines: &mut [Line], findings: &[&Finding]) {
    let mut by_event: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in findings {
        for id in &f.eventids {
            by_event
                .entry(id.as_str())
                .or_default()
                .insert(f.rule_id.as_str());
        }
    }
    for l in lines {
        let rules: BTreeSet<&str> = l
            .eventids
            .iter()
            .filter_map(|id| by_event.get(id.as_str()))
            .flatten()
            .copied()
            .collect();
        l.flagged = rules.into_iter().map(str::to_owned).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(event: &str, collapsible: Option<&str>, actor: &str) -> Line {
        Line {
            time: "t".into(),
            last_time: "t".into(),
            count: 1,
            account: String::new(),
            region: String::new(),
            actor: actor.into(),
            key: String::new(),
            event: event.into(),
            params: String::new(),
            error: String::new(),
            source_ip: String::new(),
            user_agent: String::new(),
            flagged: Vec::new(),
            eventids: vec![event.into()],
            collapsible: collapsible.map(str::to_owned),
        }
    }

    #[test]
    fn runs_of_three_or_more_collapse_per_actor_and_kind() {
        let d = Some("Describe* (ec2)");
        let lines = vec![
            line("DescribeInstances", d, "a"),
            line("DescribeVolumes", d, "a"),
            line("DescribeSubnets", d, "a"),
            line("CreateUser", None, "a"),
            line("DescribeInstances", d, "a"),
            line("DescribeInstances", d, "a"),
            line("DescribeInstances", d, "b"),
        ];
        let out = collapse_runs(lines);
        let shape: Vec<(usize, &str)> = out.iter().map(|l| (l.count, l.event.as_str())).collect();
        assert_eq!(
            shape,
            [
                (3, "Describe* (ec2)"),
                (1, "CreateUser"),
                (1, "DescribeInstances"),
                (1, "DescribeInstances"),
                (1, "DescribeInstances")
            ]
        );
        assert_eq!(
            out[0].params,
            "DescribeInstances, DescribeSubnets, DescribeVolumes"
        );
        assert_eq!(out[0].eventids.len(), 3);
    }

    #[test]
    fn params_that_matter_come_first() {
        assert_eq!(
            key_params(r#"{"maxResults": 5, "userName": "svc", "policyArn": "arn:p"}"#),
            "userName=svc policyArn=arn:p"
        );
        assert_eq!(
            key_params(r#"{"maxResults": 5, "nested": {"a": 1}}"#),
            "maxResults=5"
        );
        assert_eq!(key_params("not json"), "");
    }
}
