//! Findings output: the table a responder reads, and json, ndjson, csv and SARIF 2.1.0 for
//! scripts, code-scanning and SIEM pipelines.
//!
//! Input: the [`Outcome`]s of a detect run. Output: text on a writer. The table groups findings
//! by severity, most severe first and in time order within a group, then lists them once more in
//! time order (the story), then one line per pack; the machine formats list findings in time order.
//!
//! The rule listings of `packs list`, `packs show` and the shell's `\packs` are written here too.
//!
//! This module does not run rules or decide the exit status.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::rule::{Rule, Severity};
use super::run::{Finding, Outcome, findings, suppressed};
use crate::progress::{Inert, inert};
use crate::query::output::{Format, json_error, write_records};

/// Writes the findings of `outcomes` in `format`. `took` is the run's wall time, for the table's
/// last line. Findings an exception suppressed are counted in the table; with `show_suppressed`
/// they are listed too (in the machine formats with their `suppressed` reason, in SARIF as
/// suppressions).
pub fn write(
    out: &mut dyn Write,
    outcomes: &[Outcome],
    format: Format,
    took: std::time::Duration,
    show_suppressed: bool,
) -> Result<()> {
    match format {
        Format::Table => table(&mut Inert(out), outcomes, took, show_suppressed),
        Format::Json | Format::Ndjson | Format::Csv | Format::CsvRaw => {
            let mut all = findings(outcomes);
            if show_suppressed {
                all.extend(suppressed(outcomes));
            }
            write_records(out, &all, format)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(outcomes, show_suppressed))
                .map_err(json_error)?;
            writeln!(out)?;
            Ok(())
        }
    }
}

/// How many findings the table's time-ordered story lists.
const TIMELINE: usize = 50;

/// How many evidence ids and sources the table shows before "+N more".
const SHOWN: usize = 3;

fn table(
    out: &mut dyn Write,
    outcomes: &[Outcome],
    took: std::time::Duration,
    show_suppressed: bool,
) -> Result<()> {
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
                inert(&f.account),
                inert(&f.region),
                if f.actor.is_empty() {
                    "-".into()
                } else {
                    inert(&f.actor)
                },
                f.event_count,
                plural(f.event_count as usize),
            )?;
            writeln!(out, "      {}", inert(&f.summary))?;
            if f.last_seen != f.first_seen {
                writeln!(out, "      until {}", f.last_seen)?;
            }
            writeln!(out, "      events: {}", inert(&shorten(&f.eventids)))?;
            writeln!(out, "      from:   {}", inert(&shorten(&f.source_uris)))?;
            writeln!(out, "      evidence: {}", f.evidence)?;
        }
        writeln!(out)?;
    }
    // The story: every finding once more, one line each, in time order.
    if !all.is_empty() {
        writeln!(out, "in time order:")?;
        for f in all.iter().take(TIMELINE) {
            writeln!(out, "{}", story_line(f))?;
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
    let quiet = suppressed(outcomes);
    if !quiet.is_empty() {
        writeln!(
            out,
            "{} finding{} suppressed by exceptions{}",
            quiet.len(),
            plural(quiet.len()),
            if show_suppressed {
                ":"
            } else {
                " (--show-suppressed lists them)"
            }
        )?;
        if show_suppressed {
            for f in &quiet {
                let why = inert(f.suppressed.as_deref().unwrap_or(""));
                writeln!(out, "{}  ({why})", story_line(f))?;
            }
        }
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

/// A finding on one line: when, how bad, which rule, who.
fn story_line(f: &Finding) -> String {
    let actor = if f.actor.is_empty() {
        "-".into()
    } else {
        inert(&f.actor)
    };
    format!(
        "  {}  {:<8}  {:<36}  {actor}",
        f.first_seen,
        f.severity.as_str(),
        f.rule_id
    )
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
pub fn sarif(outcomes: &[Outcome], show_suppressed: bool) -> Value {
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
    let mut listed = findings(outcomes);
    if show_suppressed {
        listed.extend(suppressed(outcomes));
    }
    let results: Vec<Value> = listed
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
            let suppressions: Vec<Value> = f
                .suppressed
                .iter()
                .map(|why| json!({"kind": "external", "justification": why}))
                .collect();
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index(&f.rule_id),
                "suppressions": suppressions,
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
    let lake_version = findings(outcomes).iter().find_map(|f| f.lake_version);
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
            "properties": {"lakeVersion": lake_version},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}
/// The rules as `packs list` and the shell's `\packs` print them: a table, or every header
/// field and the SQL in a machine format.
pub fn write_rule_list(out: &mut dyn Write, rules: &[Rule], format: Format) -> Result<()> {
    if format != Format::Table {
        return write_records(out, rules, format);
    }
    let out = &mut Inert(out);
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    writeln!(
        out,
        "{:<width$}  {:<8}  {:<8}  {:<16}  title",
        "id", "severity", "pack", "mitre"
    )?;
    for r in rules {
        writeln!(
            out,
            "{:<width$}  {:<8}  {:<8}  {:<16}  {}",
            r.id,
            r.severity.as_str(),
            r.pack,
            r.mitre.join(","),
            inert(&r.title)
        )?;
    }
    writeln!(out, "({} rules)", rules.len())?;
    Ok(())
}

/// One rule in full, as `packs show` and the shell's `\packs ID` print it.
pub fn write_rule(out: &mut dyn Write, r: &Rule) -> Result<()> {
    let out = &mut Inert(out);
    writeln!(out, "id:              {}", r.id)?;
    writeln!(out, "title:           {}", r.title)?;
    writeln!(out, "severity:        {}", r.severity)?;
    writeln!(out, "pack:            {} ({})", r.pack, r.origin)?;
    writeln!(out, "mitre:           {}", r.mitre.join(", "))?;
    writeln!(out, "description:     {}", r.description)?;
    if !r.false_positives.is_empty() {
        writeln!(out, "false positives: {}", r.false_positives)?;
    }
    for reference in &r.references {
        writeln!(out, "reference:       {reference}")?;
    }
    for p in &r.params {
        writeln!(
            out,
            "param:           {} = {}  ({}; override with --param {}.{}=VALUE)",
            p.name, p.default, p.about, r.id, p.name
        )?;
    }
    writeln!(out, "\n{};", r.sql)?;
    Ok(())
}
