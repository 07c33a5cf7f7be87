//! The shell's line helper: completion and the test for a finished statement.
//!
//! Completion offers SQL keywords, tables and views, columns and struct fields
//! (`useridentity.sessioncontext.<Tab>`), function names and backslash commands. A statement is
//! finished when it ends with `;`; a backslash command when its line ends.

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT JOIN",
    "INNER JOIN",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS NULL",
    "IS NOT NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "DISTINCT",
    "COUNT",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "WITH",
    "UNION ALL",
    "OVER",
    "PARTITION BY",
    "ASC",
    "DESC",
    "EXPLAIN",
    "CREATE VIEW",
    "SHOW TABLES",
    "TRUE",
    "FALSE",
    "INTERVAL",
    "CAST",
    "UNNEST",
];

/// Completion and validation for the shell.
pub struct ShellHelper {
    words: Vec<String>,
    rules: Vec<String>,
    packs: Vec<String>,
}

impl ShellHelper {
    /// A helper completing these tables, column paths and functions (plus keywords).
    pub fn new(tables: Vec<String>, columns: Vec<String>, functions: Vec<String>) -> Self {
        let mut words: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        words.extend(tables);
        words.extend(columns);
        words.extend(functions);
        words.sort();
        words.dedup();
        ShellHelper {
            words,
            rules: Vec::new(),
            packs: Vec::new(),
        }
    }

    /// Also completes detection rule ids after `\\run` and pack names after `\\packs`.
    pub fn with_rules(mut self, rules: &[crate::detect::Rule]) -> Self {
        self.rules = rules.iter().map(|r| r.id.clone()).collect();
        self.packs = rules.iter().map(|r| r.pack.clone()).collect();
        self.packs.sort();
        self.packs.dedup();
        self
    }

    /// The candidates for the word ending at `pos`, and where that word starts.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let head = &line[..pos];
        for (command, names) in [("\\run ", &self.rules), ("\\packs ", &self.packs)] {
            if let Some(rest) = head
                .trim_start()
                .strip_prefix(command)
                .filter(|rest| !rest.contains(char::is_whitespace))
            {
                let start = pos - rest.len();
                let out = names
                    .iter()
                    .filter(|n| n.starts_with(rest))
                    .cloned()
                    .collect();
                return (start, out);
            }
        }
        let start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '\\'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &head[start..];
        if word.is_empty() {
            return (start, Vec::new());
        }
        if word.starts_with('\\') {
            return (
                start,
                super::meta::COMMANDS
                    .iter()
                    .flat_map(|c| c.names.iter())
                    .filter(|m| m.starts_with(word))
                    .map(|m| m.to_string())
                    .collect(),
            );
        }
        let lower = word.to_ascii_lowercase();
        let depth = word.matches('.').count();
        let mut out: Vec<String> = self
            .words
            .iter()
            .filter(|w| {
                w.to_ascii_lowercase().starts_with(&lower) && w.matches('.').count() == depth
            })
            .cloned()
            .collect();
        if word.chars().next().is_some_and(char::is_lowercase) {
            // Typed in lower case: offer keywords in lower case too.
            out.iter_mut()
                .filter(|w| KEYWORDS.contains(&w.as_str()))
                .for_each(|w| *w = w.to_ascii_lowercase());
        }
        (start, out)
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.candidates(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

/// Whether the input so far is a whole statement or command.
pub fn is_complete(input: &str) -> bool {
    let t = input.trim();
    t.is_empty() || t.starts_with('\\') || t.ends_with(';') || matches!(t, "quit" | "exit")
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(match is_complete(ctx.input()) {
            true => ValidationResult::Valid(None),
            false => ValidationResult::Incomplete,
        })
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ShellHelper {
        ShellHelper::new(
            vec!["cloudtrail".into(), "lambda_events".into()],
            crate::schema::column_paths(),
            vec!["json_get_str".into(), "actor".into()],
        )
    }

    #[test]
    fn completes_tables_columns_struct_fields_functions_and_commands() {
        let h = helper();
        let c = |line: &str| h.candidates(line, line.len());
        assert_eq!(
            c("SELECT * FROM cloud"),
            (14, vec!["cloudtrail".to_string()])
        );
        assert!(c("SELECT eventn").1.contains(&"eventname".to_string()));
        let (start, fields) = c("SELECT useridentity.sessioncontext.sessionissuer.ar");
        assert_eq!(start, 7);
        assert_eq!(
            fields,
            vec!["useridentity.sessioncontext.sessionissuer.arn".to_string()]
        );
        let (_, fields) = c("SELECT useridentity.");
        assert!(fields.contains(&"useridentity.accesskeyid".to_string()));
        assert!(
            !fields.iter().any(|f| f.matches('.').count() > 1),
            "one level at a time"
        );
        assert_eq!(c("SELECT json_get_s").1, vec!["json_get_str".to_string()]);
        assert!(c("sel").1.contains(&"select".to_string()));
        assert_eq!(c("\\df").1, vec!["\\df".to_string()]);
        assert!(c("SELECT ").1.is_empty());
    }

    #[test]
    fn completes_rule_ids_and_packs() {
        let rules = crate::detect::builtin().unwrap();
        let h = helper().with_rules(&rules);
        let line = "\\run secrets-bu";
        assert_eq!(
            h.candidates(line, line.len()),
            (5, vec!["secrets-bulk-read".to_string()])
        );
        let line = "\\packs lam";
        assert_eq!(
            h.candidates(line, line.len()),
            (7, vec!["lambda".to_string()])
        );
        assert!(h.candidates("\\ru", 3).1.contains(&"\\run".to_string()));
    }

    #[test]
    fn statements_end_with_a_semicolon() {
        assert!(!is_complete("SELECT *\nFROM cloudtrail"));
        assert!(is_complete("SELECT *\nFROM cloudtrail;"));
        assert!(is_complete("\\dt"));
        assert!(is_complete(""));
    }
}
