//! Error explanations: DataFusion's messages as one clear line, with the nearest real column
//! suggested for an unknown one.
//!
//! Input: an error message. Output: an `anyhow::Error` to print. This module does not run
//! anything.

use anyhow::anyhow;

use crate::schema;

/// DataFusion's error as one line, with a hint where a common mistake is recognisable.
pub fn explain(message: &str) -> anyhow::Error {
    let line = one_line(message);
    // The list of every valid field is long and adds nothing to a suggestion.
    let line = match line.split_once(" Valid fields are ") {
        Some((head, _)) => head.to_owned(),
        None => line,
    };
    if line.contains("Did you mean") {
        return anyhow!("{line}");
    }
    if line.contains("Resources exhausted") {
        return anyhow!(
            "{line}\nhint: the query needs more memory than --memory-limit allows; raise it, or narrow \
             the query (a WHERE on day or account, --since/--until)"
        );
    }
    if let Some(name) = unknown_field(&line)
        && let Some(best) = nearest_column(&name)
    {
        return anyhow!("{line}\nhint: did you mean {best}? (\\d cloudtrail lists the columns)");
    }
    anyhow!("{line}")
}

pub(crate) fn one_line(message: &str) -> String {
    let text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // DataFusion repeats the same message when it wraps errors; keep the last, most specific.
    match text.rsplit_once("Error during planning: ") {
        Some((_, tail)) if !tail.is_empty() => tail.to_owned(),
        _ => text,
    }
}

/// The unknown name in "No field named x" / "column 'x' not found" messages.
fn unknown_field(message: &str) -> Option<String> {
    let after = message.split("No field named ").nth(1)?;
    let name: String = after
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let name = name.trim_end_matches('.').rsplit('.').next()?.to_owned();
    (!name.is_empty()).then_some(name)
}

/// The real column (or struct path) closest in spelling to `name`.
pub fn nearest_column(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    schema::column_paths()
        .into_iter()
        .map(|c| {
            let last = c.rsplit('.').next().unwrap_or(&c).to_owned();
            // A prefix of a real name ("sourceip") is as good as a one-letter slip.
            let d = match last.starts_with(&name) && name.len() >= 4 {
                true => 1,
                false => edit_distance(&name, &last).min(edit_distance(&name, &c)),
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= 3.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_columns_get_the_nearest_real_one() {
        assert_eq!(nearest_column("eventnme").as_deref(), Some("eventname"));
        assert_eq!(
            nearest_column("sourceip").as_deref(),
            Some("sourceipaddress")
        );
        assert_eq!(
            nearest_column("accesskey").as_deref(),
            Some("useridentity.accesskeyid")
        );
        assert_eq!(nearest_column("zzzzzzzzzzzz"), None);
        let e = explain(
            "Schema error: No field named eventnme. Valid fields are cloudtrail.eventtime, …",
        );
        assert!(e.to_string().contains("did you mean eventname?"), "{e}");
        assert!(!e.to_string().contains("Valid fields"), "{e}");
        assert_eq!(
            unknown_field("No field named cloudtrail.foo_bar."),
            Some("foo_bar".into())
        );
    }
}
