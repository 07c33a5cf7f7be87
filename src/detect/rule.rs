//! Rule format: one detection's `.sql` file, its header, its thresholds and the columns a
//! finding must have.
//!
//! Input: `.sql` files, one detection each: a comment header (`-- id:`, `-- title:`,
//! `-- severity:`, `-- mitre:`, `-- description:`, `-- false_positives:`, `-- references:`,
//! `-- param:`) and then one query. The built-in packs (`queries/<pack>/`) are embedded at build
//! time; `--packs-dir` adds packs or replaces a built-in rule with the same id. Output: [`Rule`]s,
//! and their SQL with thresholds overridden ([`Rule::render`]).
//!
//! A threshold stays plain SQL so the file runs in any SQL shell: the literal is followed by a
//! marker comment naming it, e.g. `HAVING count(*) >= 20 /* min_calls */`, and declared in the
//! header as `-- param: min_calls = 20 | what it counts`. Overriding rewrites that literal.
//!
//! This module does not find rule files ([`super::catalogue`]), lint ([`super::lint`]) or run
//! them ([`super::run`]).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result, anyhow, bail};
use datafusion::arrow::datatypes::{DataType, Field};
use serde::Serialize;

/// How bad a finding is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; rarely an attack on its own.
    Info,
    /// Unusual; look when time allows.
    Low,
    /// Suspicious; look today.
    Medium,
    /// Likely an attack step; look now.
    High,
    /// Attack or loss of evidence; look first.
    Critical,
}

impl Severity {
    /// The lower-case name used in headers and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        <Severity as clap::ValueEnum>::from_str(s.trim(), true)
            .map_err(|_| anyhow!("unknown severity {s:?}: use info, low, medium, high or critical"))
    }
}

/// A tunable threshold of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// Its name, as written in the marker comment.
    pub name: String,
    /// The default, as written in the SQL (quotes removed).
    pub default: String,
    /// What it means.
    pub about: String,
}

/// One detection.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `lambda-public-invoke-permission`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Severity of its findings: the highest, when the query grades each row itself
    /// ([`SEVERITY_COLUMN`]).
    pub severity: Severity,
    /// MITRE ATT&CK technique ids.
    pub mitre: Vec<String>,
    /// What it finds and how that shows in CloudTrail.
    pub description: String,
    /// Legitimate activity that also matches.
    pub false_positives: String,
    /// Further reading.
    pub references: Vec<String>,
    /// Tunable thresholds.
    pub params: Vec<Param>,
    /// The pack it belongs to (its directory name).
    pub pack: String,
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
    /// The query, header removed.
    pub sql: String,
}

/// The columns every rule's query returns, and the types they are read as.
pub const FINDING_COLUMNS: &[(&str, &str)] = &[
    ("first_seen", "timestamp"),
    ("last_seen", "timestamp"),
    ("account", "text"),
    ("region", "text"),
    ("actor", "text"),
    ("actor_arn", "text"),
    ("event_count", "integer"),
    ("eventids", "list of text"),
    ("source_uris", "list of text"),
    ("summary", "text"),
];

/// The optional column by which a rule grades each finding itself (`info` .. `critical`): the
/// same call is routine from its usual caller and suspicious from a stranger. The header's
/// severity is the ceiling: a row may lower it, never raise it; a null row keeps it.
pub const SEVERITY_COLUMN: &str = "severity";

/// The Arrow type a finding column is read as.
pub fn finding_type(column: &str) -> DataType {
    match column {
        "first_seen" | "last_seen" => DataType::Utf8,
        "event_count" => DataType::Int64,
        "eventids" | "source_uris" => DataType::List(std::sync::Arc::new(Field::new(
            "item",
            DataType::Utf8,
            true,
        ))),
        _ => DataType::Utf8,
    }
}

impl Rule {
    /// Parses a rule file: the header, then the query.
    pub fn parse(text: &str, pack: &str, origin: &str) -> Result<Rule> {
        let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut params = Vec::new();
        let mut last: Option<&'static str> = None;
        let mut body_start = text.len();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                offset += line.len();
                last = None;
                continue;
            }
            let Some(comment) = trimmed.strip_prefix("--") else {
                body_start = offset;
                break;
            };
            offset += line.len();
            let comment = comment.trim();
            let known = comment.split_once(':').and_then(|(k, v)| {
                let key = KEYS.iter().find(|known| **known == k.trim())?;
                Some((*key, v.trim()))
            });
            match known {
                Some(("param", value)) => {
                    params.push(
                        parse_param(value)
                            .with_context(|| format!("{origin}: -- param: {value}"))?,
                    );
                    last = None;
                }
                Some((key, value)) => {
                    if fields.insert(key, value.to_owned()).is_some() && key != "references" {
                        bail!("{origin}: the header gives `{key}` twice");
                    }
                    last = Some(key);
                }
                // A comment line that is not `key: value` continues the previous field.
                None => match last {
                    Some(key) if !comment.is_empty() => {
                        let v = fields.entry(key).or_default();
                        v.push(' ');
                        v.push_str(comment);
                    }
                    _ => {}
                },
            }
        }
        let sql = text[body_start..]
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_owned();
        let take = |k: &str| fields.get(k).cloned().unwrap_or_default();
        let id = take("id");
        if id.is_empty() {
            bail!(
                "{origin}: no `-- id:` line in the header (every rule file starts with -- id:, -- title:, -- severity:, -- description:)"
            );
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bail!("{origin}: id {id:?} may hold only a-z, 0-9 and '-'");
        }
        for required in ["title", "severity", "description"] {
            if take(required).is_empty() {
                bail!("{origin}: rule {id} has no `-- {required}:` line");
            }
        }
        if sql.is_empty() {
            bail!("{origin}: rule {id} has a header but no query");
        }
        let severity = take("severity")
            .parse()
            .with_context(|| format!("{origin}: rule {id}"))?;
        let list = |k: &str| -> Vec<String> {
            take(k)
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let rule = Rule {
            mitre: list("mitre"),
            references: list("references"),
            title: take("title"),
            severity,
            description: take("description"),
            false_positives: take("false_positives"),
            params,
            pack: pack.to_owned(),
            origin: origin.to_owned(),
            sql,
            id,
        };
        for p in &rule.params {
            let found = markers(&rule.sql, &p.name);
            if found.is_empty() {
                bail!(
                    "{origin}: rule {}: param {} is declared but no `/* {} */` marker follows a literal in the query",
                    rule.id,
                    p.name,
                    p.name
                );
            }
            for (start, end) in found {
                let literal = unquote(&rule.sql[start..end]);
                if literal != p.default {
                    bail!(
                        "{origin}: rule {}: param {} defaults to {:?} in the header but the query has {:?}",
                        rule.id,
                        p.name,
                        p.default,
                        literal
                    );
                }
            }
        }
        Ok(rule)
    }

    /// The query with `overrides` applied to its thresholds.
    pub fn render(&self, overrides: &Overrides) -> Result<String> {
        let mut sql = self.sql.clone();
        for p in &self.params {
            let Some(value) = overrides.value(&self.id, &p.name) else {
                continue;
            };
            // Replace from the end so earlier spans stay valid.
            for (start, end) in markers(&sql, &p.name).into_iter().rev() {
                let quoted = sql[start..end].starts_with('\'');
                let replacement = if quoted {
                    format!("'{}'", value.replace('\'', "''"))
                } else {
                    if !is_number(value) {
                        bail!(
                            "--param {}={value}: {} of rule {} is a number",
                            p.name,
                            p.name,
                            self.id
                        );
                    }
                    value.to_owned()
                };
                sql.replace_range(start..end, &replacement);
            }
        }
        Ok(sql)
    }
}

/// A plain decimal number (`20`, `-1`, `0.5`): anything else, such as `1--` (which would
/// comment out the rest of the rule's line), is refused.
fn is_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

const KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "mitre",
    "description",
    "false_positives",
    "references",
    "param",
];

/// `name = default | about`.
fn parse_param(value: &str) -> Result<Param> {
    let (name, rest) = value
        .split_once('=')
        .ok_or_else(|| anyhow!("write a param as `name = default | what it means`"))?;
    let (default, about) = rest.split_once('|').unwrap_or((rest, ""));
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        bail!("param name {name:?} may hold only a-z, 0-9 and '_'");
    }
    Ok(Param {
        name: name.to_owned(),
        default: unquote(default.trim()).to_owned(),
        about: about.trim().to_owned(),
    })
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s)
}

/// The spans of the literals that a `/* name */` marker follows.
fn markers(sql: &str, name: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = sql[from..].find("/*").map(|i| i + from) {
        // The close is searched after the opening `/*`: in `/*/` the two overlap.
        let Some(close) = sql[open + 2..].find("*/").map(|i| i + open + 2) else {
            break;
        };
        from = close + 2;
        if sql[open + 2..close].trim() != name {
            continue;
        }
        let before = sql[..open].trim_end();
        let end = before.len();
        let start = if before.ends_with('\'') {
            match before[..end - 1].rfind('\'') {
                Some(s) => s,
                None => continue,
            }
        } else {
            let digits = before
                .bytes()
                .rev()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            if digits == 0 {
                continue;
            }
            end - digits
        };
        spans.push((start, end));
    }
    spans
}

/// Threshold overrides from `--param [RULE.]NAME=VALUE`.
#[derive(Debug, Clone, Default)]
pub struct Overrides(Vec<(Option<String>, String, String)>);

impl Overrides {
    /// Parses `--param` values; a bare name applies to every rule that declares it.
    pub fn parse(args: &[String]) -> Result<Overrides> {
        let mut out = Vec::new();
        for a in args {
            let (key, value) = a
                .split_once('=')
                .ok_or_else(|| anyhow!("--param {a}: write NAME=VALUE or RULE.NAME=VALUE"))?;
            let (rule, name) = match key.rsplit_once('.') {
                Some((r, n)) => (Some(r.trim().to_owned()), n.trim().to_owned()),
                None => (None, key.trim().to_owned()),
            };
            out.push((rule, name, value.trim().to_owned()));
        }
        Ok(Overrides(out))
    }

    /// The override for `param` of `rule`; a rule-specific one wins over a bare one.
    pub fn value(&self, rule: &str, param: &str) -> Option<&str> {
        let matching = |specific: bool| {
            self.0
                .iter()
                .rev()
                .find(|(r, p, _)| {
                    p == param
                        && r.as_deref().is_some_and(|r| r == rule) == specific
                        && (specific || r.is_none())
                })
                .map(|(_, _, v)| v.as_str())
        };
        matching(true).or_else(|| matching(false))
    }

    /// Fails when an override names no param of any of `rules` (a typo would otherwise be
    /// silently ignored).
    pub fn check(&self, rules: &[Rule]) -> Result<()> {
        for (rule, name, _) in &self.0 {
            let known = rules.iter().any(|r| {
                rule.as_deref().is_none_or(|id| id == r.id)
                    && r.params.iter().any(|p| &p.name == name)
            });
            if !known {
                let target = rule
                    .as_deref()
                    .map(|r| format!("rule {r}"))
                    .unwrap_or("any selected rule".into());
                bail!(
                    "--param {name}: {target} has no such threshold; `trailscope packs show ID` lists a rule's params"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "\
-- id: demo-burst
-- title: A demo
-- severity: high
-- mitre: T1098, T1136.003
-- description: Finds a burst
--   over several lines.
-- false_positives: none
-- param: min_calls = 20 | calls in the window
-- param: window = '10 minutes' | how far back
SELECT 1 FROM cloudtrail
WHERE x >= 20 /* min_calls */ AND t > now() - INTERVAL '10 minutes' /* window */
";

    #[test]
    fn header_fields_and_continuations() {
        let r = Rule::parse(RULE, "demo", "t").unwrap();
        assert_eq!(r.id, "demo-burst");
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.mitre, ["T1098", "T1136.003"]);
        assert_eq!(r.description, "Finds a burst over several lines.");
        assert_eq!(r.params.len(), 2);
        assert_eq!(r.params[1].default, "10 minutes");
        assert!(r.sql.starts_with("SELECT 1"));
    }

    #[test]
    fn overrides_rewrite_the_marked_literals() {
        let r = Rule::parse(RULE, "demo", "t").unwrap();
        let o =
            Overrides::parse(&["min_calls=5".into(), "demo-burst.window=1 hour".into()]).unwrap();
        let sql = r.render(&o).unwrap();
        assert!(sql.contains("x >= 5 /* min_calls */"), "{sql}");
        assert!(sql.contains("INTERVAL '1 hour' /* window */"), "{sql}");
        assert_eq!(r.render(&Overrides::default()).unwrap(), r.sql);
        let bad = Overrides::parse(&["min_calls=5; DROP".into()]).unwrap();
        assert!(r.render(&bad).is_err());
        for odd in ["1--", "--1", "1-2", "1.2.3", ".5", "5.", "-", ""] {
            let o = Overrides::parse(&[format!("min_calls={odd}")]).unwrap();
            assert!(r.render(&o).is_err(), "{odd:?} was taken for a number");
        }
        for fine in ["0", "-1", "0.5", "20"] {
            let o = Overrides::parse(&[format!("min_calls={fine}")]).unwrap();
            assert!(r.render(&o).is_ok(), "{fine:?}");
        }
        assert!(Overrides::parse(&["nothing".into()]).is_err());
        let typo = Overrides::parse(&["min_call=5".into()]).unwrap();
        assert!(typo.check(&[r]).is_err());
    }

    #[test]
    fn an_overlapping_marker_is_a_mistake_not_a_panic() {
        for odd in ["/*/", "/*/ min_calls */", "/**/", "/*"] {
            let text = RULE.replace("/* min_calls */", odd);
            assert!(Rule::parse(&text, "d", "t").is_err(), "{odd}");
        }
    }

    #[test]
    fn header_mistakes_are_named() {
        let no_marker = RULE.replace("/* min_calls */", "");
        assert!(
            Rule::parse(&no_marker, "d", "t")
                .unwrap_err()
                .to_string()
                .contains("min_calls")
        );
        let wrong_default = RULE.replace("x >= 20", "x >= 21");
        assert!(Rule::parse(&wrong_default, "d", "t").is_err());
        let bad_sev = RULE.replace("severity: high", "severity: severe");
        assert!(Rule::parse(&bad_sev, "d", "t").is_err());
        assert!(Rule::parse("SELECT 1", "d", "t").is_err());
        assert!(Rule::parse(&RULE.replace("demo-burst", "Demo Burst"), "d", "t").is_err());
    }
}
