//! `trailscope packs`: list the detection rules, show one, or lint rule files.
//!
//! `list` and `show` read the built-in packs plus `--packs-dir`; `lint` parses each rule file's
//! header and plans its query against the lake's schema (no lake needed), so a misspelt column
//! or a missing finding column fails before the rule ever runs. Exit status: 0 clean, 1 lint
//! problems, 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::args::{PacksDirs, schema_session};
use super::{EXIT_FOUND, EXIT_OK};
use crate::detect::report::{write_rule, write_rule_list};
use crate::detect::{self, Rule};
use crate::query::output::Format;

/// Options of `trailscope packs`.
#[derive(Debug, Args)]
pub struct PacksArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PacksCommand,
}

/// The `packs` subcommands.
#[derive(Debug, Subcommand)]
pub enum PacksCommand {
    /// List the rules: id, severity, pack, MITRE techniques, title.
    List {
        /// Only this pack (repeatable).
        #[arg(long = "pack", value_name = "PACK")]
        packs: Vec<String>,
        #[command(flatten)]
        packs_dirs: PacksDirs,
        /// How the list is printed (json, ndjson and csv carry every header field and the SQL).
        #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
        format: Format,
        /// The same as --format json (kept for scripts written before --format).
        #[arg(long, hide = true)]
        json: bool,
    },
    /// Show one rule: its header, thresholds and SQL (the SQL runs as-is in `trailscope sql`).
    Show {
        /// The rule's id.
        id: String,
        #[command(flatten)]
        packs_dirs: PacksDirs,
    },
    /// Check rule files: header fields, thresholds, and that the query plans against the lake
    /// schema and returns every finding column. Without DIR, checks the built-in packs.
    Lint {
        /// Directories (or single .sql files) to check.
        #[arg(value_name = "DIR")]
        paths: Vec<PathBuf>,
        /// Also check an exceptions file (its syntax, and that its rules exist among the
        /// built-in rules and those checked).
        #[arg(long, value_name = "FILE", env = "TRAILSCOPE_EXCEPTIONS")]
        exceptions: Option<PathBuf>,
    },
}

/// Runs `trailscope packs`.
pub fn run(args: PacksArgs) -> Result<ExitCode> {
    let mut out = crate::progress::stdout();
    match args.command {
        PacksCommand::List {
            packs,
            packs_dirs,
            format,
            json,
        } => {
            let rules =
                detect::select(packs_dirs.catalogue()?, &packs, &[], detect::Severity::Info)?;
            let format = if json { Format::Json } else { format };
            write_rule_list(&mut out, &rules, format)?;
        }
        PacksCommand::Show { id, packs_dirs } => {
            let rules = packs_dirs.catalogue()?;
            let Some(rule) = rules.iter().find(|r| r.id == id) else {
                let hint = detect::nearest(&id, rules.iter().map(|r| r.id.as_str()))
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default();
                bail!("no rule with id {id:?}{hint}; `trailscope packs list` shows them all");
            };
            write_rule(&mut out, rule)?;
        }
        PacksCommand::Lint { paths, exceptions } => {
            let mut problems = super::runtime()?.block_on(lint(&mut out, &paths))?;
            if let Some(path) = exceptions {
                problems += lint_exceptions(&mut out, &path, &paths)?;
            }
            return Ok(ExitCode::from(if problems == 0 {
                EXIT_OK
            } else {
                EXIT_FOUND
            }));
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Checks an exceptions file against the built-in rules and the rules under `paths`; prints one
/// line per problem and returns their number.
fn lint_exceptions(
    out: &mut dyn Write,
    path: &std::path::Path,
    paths: &[PathBuf],
) -> Result<usize> {
    let exceptions = match crate::detect::exceptions::Exceptions::load(path) {
        Ok(e) => e,
        Err(e) => {
            writeln!(out, "FAIL {e:#}")?;
            return Ok(1);
        }
    };
    let dirs: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
    let problems = exceptions.check(&detect::catalogue(&dirs)?);
    for p in &problems {
        writeln!(out, "FAIL {p}")?;
    }
    if problems.is_empty() {
        writeln!(out, "ok   {}", path.display())?;
    }
    Ok(problems.len())
}

/// Lints the rule files under `paths` (the built-in packs when empty); prints one line per
/// file and returns the number of problems.
async fn lint(out: &mut dyn Write, paths: &[PathBuf]) -> Result<usize> {
    let ctx = schema_session().await?;
    let mut parsed: Vec<Result<Rule, String>> = Vec::new();
    if paths.is_empty() {
        parsed.extend(detect::builtin()?.into_iter().map(Ok));
    }
    for path in paths {
        let files = if path.is_dir() {
            detect::rule_files(path)?
        } else {
            vec![("custom".to_owned(), path.clone())]
        };
        for (pack, file) in files {
            let origin = file.display().to_string();
            parsed.push(
                std::fs::read_to_string(&file)
                    .map_err(|e| format!("{origin}: {e}"))
                    .and_then(|text| {
                        Rule::parse(&text, &pack, &origin).map_err(|e| format!("{e:#}"))
                    }),
            );
        }
    }
    let mut problems = 0;
    let mut ids: std::collections::BTreeMap<String, String> = Default::default();
    for rule in &parsed {
        match rule {
            Err(e) => {
                problems += 1;
                writeln!(out, "FAIL {e}")?;
            }
            Ok(rule) => {
                let mut found = detect::lint(&ctx, rule).await;
                if let Some(first) = ids.insert(rule.id.clone(), rule.origin.clone()) {
                    found.push(format!("id {} is also used by {first}", rule.id));
                }
                if found.is_empty() {
                    writeln!(out, "ok   {} ({})", rule.id, rule.origin)?;
                } else {
                    problems += found.len();
                    for p in found {
                        writeln!(out, "FAIL {} ({}): {p}", rule.id, rule.origin)?;
                    }
                }
            }
        }
    }
    writeln!(
        out,
        "{} rule files, {problems} problem{}",
        parsed.len(),
        if problems == 1 { "" } else { "s" }
    )?;
    Ok(problems)
}
