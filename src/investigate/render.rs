//! Rendering: timelines, actor summaries and traced chains as the text a responder reads, and in
//! the machine formats through the one record writer ([`write_records`]).
//!
//! Input: what [`super::timeline`], [`super::summary`] and [`super::trace`] computed. Output: text
//! on a writer. This module computes nothing.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use super::chains::{Chain, Issue};
use super::summary::ActorSummary;
use super::timeline::Line;
use super::trace::Traced;
use crate::progress::{Inert, inert};
use crate::query::output::{Format, write_records};

/// Writes timeline lines in `format`.
pub fn write_timeline(out: &mut dyn Write, lines: &[Line], format: Format) -> Result<()> {
    if format != Format::Table {
        return write_records(out, lines, format);
    }
    let out = &mut Inert(out);
    for l in lines {
        let count = if l.count > 1 {
            format!("×{} ", l.count)
        } else {
            String::new()
        };
        let flag = if l.flagged.is_empty() {
            "  ".to_owned()
        } else {
            "! ".to_owned()
        };
        let until = if l.count > 1 {
            format!(" (until {})", &l.last_time[11.min(l.last_time.len())..])
        } else {
            String::new()
        };
        writeln!(
            out,
            "{flag}{}  {} {:<10} {:<32} {}{}{}{}{}  {}  {}",
            l.time,
            inert(&l.account),
            inert(&l.region),
            inert(&l.actor),
            count,
            inert(&l.event),
            if l.params.is_empty() {
                String::new()
            } else {
                format!("  {}", inert(&l.params))
            },
            if l.error.is_empty() {
                String::new()
            } else {
                format!("  ERROR {}", inert(&l.error))
            },
            until,
            inert(&l.source_ip),
            inert(&l.user_agent.chars().take(40).collect::<String>()),
        )?;
        if !l.flagged.is_empty() {
            writeln!(out, "      flagged by: {}", l.flagged.join(", "))?;
        }
    }
    let events: usize = lines.iter().map(|l| l.count).sum();
    writeln!(out, "({events} events in {} lines)", lines.len())?;
    Ok(())
}

/// Writes actor summaries in `format`.
pub fn write_summaries(out: &mut dyn Write, all: &[ActorSummary], format: Format) -> Result<()> {
    if format != Format::Table {
        return write_records(out, all, format);
    }
    let out = &mut Inert(out);
    for s in all {
        writeln!(out, "{}  {}", inert(&s.actor), inert(&s.arn))?;
        writeln!(out, "  seen        {} .. {}", s.first_seen, s.last_seen)?;
        writeln!(
            out,
            "  calls       {} ({} write, {} read, {} failed)",
            s.events, s.writes, s.reads, s.failed
        )?;
        writeln!(
            out,
            "  accounts    {}   regions {}",
            s.accounts.join(" "),
            s.regions.join(" ")
        )?;
        writeln!(out, "  source IPs  {}", inert(&s.source_ips.join(", ")))?;
        writeln!(out, "  keys        {}", inert(&s.access_keys.join(" ")))?;
        for ua in &s.user_agents {
            writeln!(
                out,
                "  user agent  {}",
                inert(&ua.chars().take(100).collect::<String>())
            )?;
        }
        let apis: Vec<String> = s.top_apis.iter().map(|(a, n)| format!("{a} {n}")).collect();
        writeln!(out, "  top APIs    {}", inert(&apis.join(", ")))?;
        if !s.detections.is_empty() {
            let d: Vec<String> = s
                .detections
                .iter()
                .map(|(r, n)| {
                    if *n > 1 {
                        format!("{r} ×{n}")
                    } else {
                        r.clone()
                    }
                })
                .collect();
            writeln!(out, "  detections  {}", d.join(", "))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "({} actors)", all.len())?;
    Ok(())
}

/// Writes chains as a tree; as JSON or NDJSON one object per traced key (its chain, its
/// origin and what the origin spawned); as CSV one row per hop.
pub fn write_traces(out: &mut dyn Write, traced: &[Traced], format: Format) -> Result<()> {
    match format {
        Format::Table => {
            let out = &mut Inert(out);
            for (c, s) in traced {
                print_chain(out, c, s)?;
            }
            Ok(())
        }
        Format::Csv | Format::CsvRaw => write_records(out, &hop_rows(traced), format),
        _ => {
            let v: Vec<_> = traced
                .iter()
                .map(|(c, s)| json!({"chain": c, "origin_label": c.origin.label(), "spawned": s.iter().map(|(d, i)| json!({"depth": d, "issue": i})).collect::<Vec<_>>()}))
                .collect();
            write_records(out, &v, format)
        }
    }
}

/// One hop of a traced chain, flat, for CSV.
#[derive(Serialize)]
struct HopRow<'a> {
    traced_key: &'a str,
    origin_type: &'static str,
    origin: String,
    /// `chain` (from the origin down to the traced key) or `spawned` (issued by the origin).
    relation: &'static str,
    depth: usize,
    #[serde(flatten)]
    issue: &'a Issue,
}

fn hop_rows(traced: &[Traced]) -> Vec<HopRow<'_>> {
    let mut rows = Vec::new();
    for (c, spawned) in traced {
        let hop = |relation, depth, issue| HopRow {
            traced_key: &c.key,
            origin_type: c.origin.kind(),
            origin: c.origin.label(),
            relation,
            depth,
            issue,
        };
        rows.extend(
            c.hops
                .iter()
                .rev()
                .enumerate()
                .map(|(d, h)| hop("chain", d + 1, h)),
        );
        rows.extend(spawned.iter().map(|(d, h)| hop("spawned", *d, h)));
    }
    rows
}

fn print_chain(out: &mut dyn Write, c: &Chain, spawned: &[(usize, Issue)]) -> Result<()> {
    writeln!(out, "{}", inert(&c.key))?;
    writeln!(out, "  origin: {}", inert(&c.origin.label()))?;
    // From the origin down to the key.
    for (depth, h) in c.hops.iter().rev().enumerate() {
        write_hop(out, depth, h)?;
    }
    if !spawned.is_empty() {
        writeln!(
            out,
            "  everything the origin spawned ({} key{}):",
            spawned.len(),
            if spawned.len() == 1 { "" } else { "s" }
        )?;
        for (depth, h) in spawned {
            write_hop(out, *depth - 1, h)?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn write_hop(out: &mut dyn Write, depth: usize, h: &Issue) -> Result<()> {
    let pad = "   ".repeat(depth);
    writeln!(
        out,
        "  {pad}└─ {} {} by {} ({}) → {}{}",
        inert(&h.eventname),
        h.time,
        inert(&h.caller),
        inert(h.caller_key.as_deref().unwrap_or("no key")),
        inert(&h.key),
        h.session_arn
            .as_deref()
            .map(|s| format!("  {}", inert(s)))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "  {pad}     event {} in {} {}  from {}  {}{}",
        inert(&h.eventid),
        inert(&h.account),
        inert(&h.region),
        inert(&h.source_ip),
        inert(&h.user_agent.chars().take(60).collect::<String>()),
        h.source_identity
            .as_deref()
            .map(|s| format!("  sourceIdentity {}", inert(s)))
            .unwrap_or_default()
    )?;
    Ok(())
}
