//! Exceptions: what the responder knows to be routine (a CI role that deploys all day, a vendor's
//! account, a scanner's addresses), written once in a TOML file and applied to findings.
//!
//! Input: the exceptions file and the outcomes of a detect run (with the source IPs of their
//! evidence, when an entry names addresses). Output: findings marked `suppressed` with the
//! entry's reason. A suppressed finding is never dropped: it is counted, listed with
//! `--show-suppressed`, and does not count for the exit status.
//!
//! ```toml
//! [[allow]]
//! rules = ["lambda-env-changed", "lambda-code-updated-by-new-identity"]  # or "lambda-*"; none: every rule
//! actors = ["role/github-actions-deploy/*"]    # the finding's actor label (`*` matches anything)
//! arns = ["arn:aws:iam::111122223333:role/terraform-*"]
//! accounts = ["111122223333"]
//! source_ips = ["192.0.2.0/24"]                # every evidence event from these addresses
//! reason = "CI deploys functions from GitHub Actions"
//! ```
//! An entry matches a finding when its rules match and every condition it gives holds (any value
//! of a list may match). This module does not run rules or print.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::Array;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use super::rule::Rule;
use super::run::{Finding, Outcome};
use crate::query::columns::text_column;
use crate::query::functions::aws::ip_in_cidr;

/// The exceptions file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    allow: Vec<Allow>,
}

/// One exception: which rules, which findings, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// Rule ids or patterns (`lambda-*`); none means every rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Actor labels or patterns (`role/deployer/*`).
    #[serde(default)]
    pub actors: Vec<String>,
    /// Actor ARNs or patterns.
    #[serde(default)]
    pub arns: Vec<String>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Addresses or CIDR blocks every evidence event must come from.
    #[serde(default)]
    pub source_ips: Vec<String>,
    /// Why it is routine: shown beside every finding it suppresses.
    pub reason: String,
}

/// The exceptions of one file.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    entries: Vec<Allow>,
    origin: String,
}

impl Exceptions {
    /// Reads and checks an exceptions file: its syntax, and that every entry names a reason and
    /// at least one condition besides rules (an entry that would silence whole rules is what
    /// `--rule`/`--pack` are for).
    pub fn load(path: &Path) -> Result<Exceptions> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the exceptions file {}", path.display()))?;
        Exceptions::parse(&text, &path.display().to_string())
    }

    /// Parses exceptions from TOML text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Exceptions> {
        let mut file: File = toml::from_str(text)
            .with_context(|| format!("{origin}: not a valid exceptions file"))?;
        for (i, e) in file.allow.iter_mut().enumerate() {
            let at = format!("{origin}: [[allow]] number {}", i + 1);
            if e.reason.trim().is_empty() {
                bail!("{at}: give a reason (it is shown beside every finding it suppresses)");
            }
            if e.actors.is_empty()
                && e.arns.is_empty()
                && e.accounts.is_empty()
                && e.source_ips.is_empty()
            {
                bail!(
                    "{at}: name at least one of actors, arns, accounts or source_ips; to skip whole rules, choose rules with --rule or --pack"
                );
            }
            // Kept as blocks: a single address is the block of just itself.
            for ip in e.source_ips.iter_mut() {
                if !ip.contains('/') {
                    *ip = host_block(ip);
                }
                if ip_in_cidr("0.0.0.0", ip).is_none() && ip_in_cidr("::", ip).is_none() {
                    bail!("{at}: {ip:?} is not an IP address or CIDR block");
                }
            }
        }
        Ok(Exceptions {
            entries: file.allow,
            origin: origin.to_owned(),
        })
    }

    /// Problems with the file against the rules that exist: rule names or patterns that match
    /// no rule (a misspelt id would otherwise silently allow nothing).
    pub fn check(&self, rules: &[Rule]) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            for pattern in &e.rules {
                if !rules.iter().any(|r| glob(pattern, &r.id)) {
                    let hint = super::nearest(pattern, rules.iter().map(|r| r.id.as_str()))
                        .map(|n| format!(" (did you mean {n}?)"))
                        .unwrap_or_default();
                    problems.push(format!(
                        "{}: [[allow]] number {}: no rule is {pattern:?}{hint}",
                        self.origin,
                        i + 1
                    ));
                }
            }
        }
        problems
    }

    /// Whether any entry needs the source addresses of the evidence.
    pub fn needs_ips(&self) -> bool {
        self.entries.iter().any(|e| !e.source_ips.is_empty())
    }

    /// Marks every finding an entry matches as suppressed, with the entry's reason; `ips` maps
    /// evidence eventIDs to their source addresses. Returns how many were suppressed.
    pub fn apply(&self, outcomes: &mut [Outcome], ips: &HashMap<String, String>) -> usize {
        let mut n = 0;
        for o in outcomes {
            let Ok(findings) = &mut o.result else {
                continue;
            };
            for f in findings.iter_mut() {
                if let Some(e) = self.entries.iter().find(|e| matches(e, f, ips)) {
                    f.suppressed = Some(e.reason.clone());
                    n += 1;
                }
            }
        }
        n
    }
}

fn matches(e: &Allow, f: &Finding, ips: &HashMap<String, String>) -> bool {
    let any = |patterns: &[String], value: &str| {
        patterns.is_empty() || patterns.iter().any(|p| glob(p, value))
    };
    any(&e.rules, &f.rule_id)
        && any(&e.actors, &f.actor)
        && any(&e.arns, &f.actor_arn)
        && (e.accounts.is_empty() || e.accounts.iter().any(|a| a == &f.account))
        && (e.source_ips.is_empty()
            || (!f.eventids.is_empty()
                && f.eventids.iter().all(|id| {
                    ips.get(id).is_some_and(|ip| {
                        e.source_ips
                            .iter()
                            .any(|block| ip_in_cidr(ip, block) == Some(true))
                    })
                })))
}

/// A single address as the block of just itself.
fn host_block(ip: &str) -> String {
    if ip.contains(':') {
        format!("{ip}/128")
    } else {
        format!("{ip}/32")
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// The source address of every evidence event of `outcomes`, by eventID.
pub async fn evidence_ips(
    ctx: &SessionContext,
    outcomes: &[Outcome],
) -> Result<HashMap<String, String>> {
    let ids: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .flatten()
        .flat_map(|f| f.eventids.iter().map(String::as_str))
        .collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| format!("'{}'", id.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT eventid, sourceipaddress FROM cloudtrail WHERE eventid IN ({list})");
        let batches = ctx
            .sql(&sql)
            .await?
            .collect()
            .await
            .context("reading the source addresses of the evidence")?;
        for b in &batches {
            let (id, ip) = (text_column(b, 0)?, text_column(b, 1)?);
            for i in 0..b.num_rows() {
                if !id.is_null(i) && !ip.is_null(i) {
                    out.insert(id.value(i).to_owned(), ip.value(i).to_owned());
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_globs() {
        assert!(glob("role/deployer/*", "role/deployer/run-42"));
        assert!(glob("lambda-*", "lambda-env-changed"));
        assert!(glob("*-burst", "secrets-bulk-read-burst"));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("a*b*c", "a-x-c-y-b"));
        assert!(!glob("role/deployer", "role/deployer/x"));
        assert!(glob("*", ""));
    }

    #[test]
    fn the_file_is_checked() {
        let ok = Exceptions::parse(
            "[[allow]]\nrules = [\"lambda-*\"]\nactors = [\"role/ci/*\"]\nsource_ips = [\"192.0.2.0/24\", \"2001:db8::1\"]\nreason = \"CI\"\n",
            "x",
        )
        .unwrap();
        assert!(ok.needs_ips());
        for bad in [
            "[[allow]]\nactors = [\"a\"]\nreason = \"\"\n",
            "[[allow]]\nrules = [\"x\"]\nreason = \"why\"\n",
            "[[allow]]\nsource_ips = [\"999.1.1.1/8\"]\nreason = \"why\"\n",
            "[[allow]]\nactors = [\"a\"]\nreason = \"why\"\nactor = \"typo\"\n",
            "allow = 3\n",
        ] {
            assert!(Exceptions::parse(bad, "x").is_err(), "{bad}");
        }
    }
}
