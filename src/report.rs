//! Findings output: the table a responder reads, and json, ndjson, csv and SARIF 2.1.0 for
//! scripts, code-scanning and SIEM pipelines.
//!
//! Input: the [`Outcome`]s of a detect run. Output: text on a writer. The table groups findings
//! by severity, most severe first and in time order within a group, then lists them once more in
//! time order (the story), then one line per pack; the machine formats list findings in time order.
//!
//! This module does not run rules or decide the exit status.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::detect::{Finding, Outcome, findings};
use crate::packs::Severity;

/// How findings are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FindingFormat {
    /// Grouped by severity, with evidence and a per-pack summary.
    #[default]
    Table,
    /// One JSON array of findings.
    Json,
    /// One JSON finding per line.
    Ndjson,
    /// Comma-separated values with a header row; lists joined with spaces.
    Csv,
    /// SARIF 2.1.0, for code-scanning and SIEM pipelines.
    Sarif,
}

impl FindingFormat {
    /// The format a file name's extension asks for.
    pub fn from_path(path: &std::path::Path) -> Option<FindingFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(FindingFormat::Json),
            "ndjson" | "jsonl" => Some(FindingFormat::Ndjson),
            "csv" => Some(FindingFormat::Csv),
            "sarif" => Some(FindingFormat::Sarif),
            "txt" => Some(FindingFormat::Table),
            _ => None,
        }
    }
}

/// Writes the findings of `outcomes` in `format`. `took` is the run's wall time, for the table's
/// last line.
pub fn write(
    out: &mut dyn Write,
    outcomes: &[Outcome],
    format: FindingFormat,
    took: std::time::Duration,
) -> Result<()> {
    match format {
        FindingFormat::Table => table(out, outcomes, took),
        FindingFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &findings(outcomes))?;
            writeln!(out)?;
            Ok(())
        }
        FindingFormat::Ndjson => {
            for f in findings(outcomes) {
                serde_json::to_writer(&mut *out, f)?;
                writeln!(out)?;
            }
            Ok(())
        }
        FindingFormat::Csv => csv(out, outcomes),
        FindingFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(outcomes))?;
            writeln!(out)?;
            Ok(())
        }
    }
}

/// How many findings the table's time-ordered story lists.
const TIMELINE: usize = 50;

/// How many evidence ids and sources the table shows before "+N more".
const SHOWN: usize = 3;

fn table(out: &mut dyn Write, outcomes: &[Outcome], took: std::time::Duration) -> Result<()> {
    let all = findings(outcomes);
    let mut by_severity: BTreeMap<std::cmp::Reverse<Severity>, Vec<&Finding>> = BTreeMap::new();
    for f in &all {
        by_severity
            .entry(std::cmp::Reverse(f.severity))
            .or_default()
            .push(f);
    }
    for (std::cmp::Reverse(sev), group) in &by_severity {
        let label = sev.as_str().to_ascii_uppercase();
        writeln!(
            out,
            "{label} ({} finding{})",
            group.len(),
            plural(group.len())
        )?;
        for f in group {
            writeln!(
                out,
                "  {}  {}  {} {}  {}  ({} event{})",
                f.first_seen,
                f.rule_id,
                f.account,
                f.region,
                if f.actor.is_empty() { "-" } else { &f.actor },
                f.event_count,
                plural(f.event_count as usize),
            )?;
            writeln!(out, "      {}", f.summary)?;
            if f.last_seen != f.first_seen {
                writeln!(out, "      until {}", f.last_seen)?;
            }
            writeln!(out, "      events: {}", shorten(&f.eventids))?;
            writeln!(out, "      from:   {}", shorten(&f.source_uris))?;
            writeln!(out, "      evidence: {}", f.evidence)?;
        }
        writeln!(out)?;
    }
    // The story: every finding once more, one line each, in time order.
    if !all.is_empty() {
        writeln!(out, "in time order:")?;
        for f in all.iter().take(TIMELINE) {
            writeln!(
                out,
                "  {}  {:<8}  {:<36}  {}",
                f.first_seen,
                f.severity.as_str(),
                f.rule_id,
                if f.actor.is_empty() { "-" } else { &f.actor }
            )?;
        }
        if all.len() > TIMELINE {
            writeln!(
                out,
                "  (+{} more; --format json lists them all)",
                all.len() - TIMELINE
            )?;
        }
        writeln!(out)?;
    }
    // One line per pack.
    let mut packs: BTreeMap<&str, PackTally> = BTreeMap::new();
    for o in outcomes {
        let e = packs.entry(o.rule.pack.as_str()).or_default();
        e.rules += 1;
        match &o.result {
            Ok(found) => {
                e.found += found.len();
                for f in found {
                    *e.by_severity
                        .entry(std::cmp::Reverse(f.severity))
                        .or_default() += 1;
                }
            }
            Err(_) => e.failed += 1,
        }
    }
    writeln!(out, "packs:")?;
    for (
        pack,
        PackTally {
            rules,
            found,
            by_severity: sevs,
            failed,
        },
    ) in &packs
    {
        let detail: Vec<String> = sevs
            .iter()
            .map(|(std::cmp::Reverse(s), n)| format!("{n} {s}"))
            .collect();
        write!(
            out,
            "  {pack:<10} {rules:>3} rule{}  {found:>4} finding{}",
            plural(*rules),
            plural(*found)
        )?;
        if !detail.is_empty() {
            write!(out, " ({})", detail.join(", "))?;
        }
        if *failed > 0 {
            write!(out, "  {failed} rule{} failed", plural(*failed))?;
        }
        writeln!(out)?;
    }
    let rules = outcomes.len();
    writeln!(
        out,
        "{} finding{} from {rules} rule{} in {:.2} s",
        all.len(),
        plural(all.len()),
        plural(rules),
        took.as_secs_f64()
    )?;
    Ok(())
}

/// One pack's line in the table.
#[derive(Default)]
struct PackTally {
    rules: usize,
    found: usize,
    by_severity: BTreeMap<std::cmp::Reverse<Severity>, usize>,
    failed: usize,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn shorten(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    if items.len() > SHOWN {
        s.push_str(&format!(" (+{} more)", items.len() - SHOWN));
    }
    if s.is_empty() { "-".into() } else { s }
}

fn csv(out: &mut dyn Write, outcomes: &[Outcome]) -> Result<()> {
    writeln!(
        out,
        "rule_id,title,severity,mitre,pack,first_seen,last_seen,account,region,actor,actor_arn,event_count,eventids,source_uris,summary,evidence"
    )?;
    for f in findings(outcomes) {
        let fields = [
            f.rule_id.clone(),
            f.title.clone(),
            f.severity.to_string(),
            f.mitre.join(" "),
            f.pack.clone(),
            f.first_seen.clone(),
            f.last_seen.clone(),
            f.account.clone(),
            f.region.clone(),
            f.actor.clone(),
            f.actor_arn.clone(),
            f.event_count.to_string(),
            f.eventids.join(" "),
            f.source_uris.join(" "),
            f.summary.clone(),
            f.evidence.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|v| csv_field(v)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// One CSV field, quoted when it holds a comma, quote or line break.
pub(crate) fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// SARIF level of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's numeric security severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The SARIF 2.1.0 log of a run: one run, every rule that ran in the driver, one result per
/// finding, and rules that failed as tool notifications.
pub fn sarif(outcomes: &[Outcome]) -> Value {
    let rules: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let r = &o.rule;
            let mut tags = vec!["security".to_owned(), r.pack.clone()];
            tags.extend(r.mitre.iter().map(|m| format!("mitre/{m}")));
            let mut help = r.description.clone();
            if !r.false_positives.is_empty() {
                help.push_str(&format!("\n\nFalse positives: {}", r.false_positives));
            }
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.description},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "tags": tags,
                    "severity": r.severity,
                    "security-severity": security_severity(r.severity),
                    "references": r.references,
                },
            })
        })
        .collect();
    let index = |id: &str| outcomes.iter().position(|o| o.rule.id == id);
    let results: Vec<Value> = findings(outcomes)
        .into_iter()
        .map(|f| {
            let locations: Vec<Value> = f
                .source_uris
                .iter()
                .map(|u| json!({"physicalLocation": {"artifactLocation": {"uri": u}}}))
                .collect();
            let print = Sha256::digest(
                format!(
                    "{}\n{}\n{}\n{}\n{}",
                    f.rule_id,
                    f.account,
                    f.region,
                    f.actor,
                    f.eventids.first().map(String::as_str).unwrap_or("")
                )
                .as_bytes(),
            );
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index(&f.rule_id),
                "level": level(f.severity),
                "message": {"text": f.summary},
                "locations": locations,
                "partialFingerprints": {"trailscopeFinding/v1": hex::encode(&print[..16])},
                "properties": f,
            })
        })
        .collect();
    let notifications: Vec<Value> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| (o, e)))
        .map(|(o, e)| {
            json!({
                "level": "error",
                "message": {"text": format!("{e:#}")},
                "associatedRule": {"id": o.rule.id},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "trailscope",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}
