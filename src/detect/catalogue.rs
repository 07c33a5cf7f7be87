//! Rule catalogue: the built-in packs embedded at build time, the user's `--packs-dir` packs, and
//! choosing rules by pack, id and severity.
//!
//! Input: directories of `.sql` rule files. Output: [`Rule`]s, a user rule replacing a built-in
//! one with the same id. This module does not parse a rule's header ([`super::rule`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::rule::{Rule, Severity};

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// The built-in rules.
pub fn builtin() -> Result<Vec<Rule>> {
    BUILTIN
        .iter()
        .map(|(pack, file, text)| {
            Rule::parse(text, pack, &format!("built-in queries/{pack}/{file}"))
        })
        .collect()
}

/// The rule files under `dir` as (pack, path): its `.sql` files form a pack named after the
/// directory, and each sub-directory holding `.sql` files is a pack of its own.
pub fn rule_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let pack = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "custom".into());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the pack directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading the pack directory {}", dir.display()))?;
    entries.sort();
    let mut files = Vec::new();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "views") {
                files.extend(rule_files(&path)?);
            }
        } else if path.extension().is_some_and(|x| x == "sql") {
            files.push((pack.clone(), path));
        }
    }
    Ok(files)
}

/// Reads and parses the rules under `dir` (see [`rule_files`]).
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>> {
    rule_files(dir)?
        .into_iter()
        .map(|(pack, path)| {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the rule file {}", path.display()))?;
            Rule::parse(&text, &pack, &path.display().to_string())
        })
        .collect()
}

/// The built-in rules plus those of `dirs`; a rule from a directory replaces a built-in rule
/// with the same id. Two files with one id in the directories are an error.
pub fn catalogue(dirs: &[PathBuf]) -> Result<Vec<Rule>> {
    let mut rules = builtin()?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for dir in dirs {
        for rule in load_dir(dir)? {
            if let Some(first) = seen.insert(rule.id.clone(), rule.origin.clone()) {
                bail!(
                    "rule id {} is defined twice: in {first} and in {}",
                    rule.id,
                    rule.origin
                );
            }
            match rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule,
                None => rules.push(rule),
            }
        }
    }
    Ok(rules)
}

/// The rules of `packs` (all when empty) plus those named in `ids`, at or above `min`.
pub fn select(
    rules: Vec<Rule>,
    packs: &[String],
    ids: &[String],
    min: Severity,
) -> Result<Vec<Rule>> {
    for p in packs {
        if !rules.iter().any(|r| &r.pack == p) {
            let mut names: Vec<&str> = rules.iter().map(|r| r.pack.as_str()).collect();
            names.dedup();
            bail!("no pack named {p:?}; the packs are: {}", names.join(", "));
        }
    }
    for id in ids {
        if !rules.iter().any(|r| &r.id == id) {
            let hint = nearest(id, rules.iter().map(|r| r.id.as_str()))
                .map(|n| format!(" (did you mean {n}?)"))
                .unwrap_or_default();
            bail!("no rule with id {id:?}{hint}; `trailscope packs list` shows them all");
        }
    }
    let everything = packs.is_empty() && ids.is_empty();
    Ok(rules
        .into_iter()
        .filter(|r| everything || packs.contains(&r.pack) || ids.contains(&r.id))
        .filter(|r| r.severity >= min)
        .collect())
}

/// The candidate most like `word`, when one is close.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (c, crate::query::explain::edit_distance(word, c)))
        .filter(|(c, d)| *d <= c.len().max(word.len()) / 3 || c.contains(word))
        .min_by_key(|(_, d)| *d)
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ids() {
        let ids = ["lambda-public-url", "iam-admin-attached"];
        assert_eq!(
            nearest("lambda-public-ur", ids.into_iter()),
            Some("lambda-public-url")
        );
        assert_eq!(nearest("zzz", ids.into_iter()), None);
    }
}
