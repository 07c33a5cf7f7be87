//! The shell's backslash commands: one table ([`COMMANDS`]) that `\help`, completion and the tests
//! read, and the parsing of a line into a [`Meta`].

use std::path::PathBuf;
use std::str::FromStr;

use crate::query::output::Format;

/// One backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// `\d [name]`: the tables and views, or one's columns with their meaning.
    Describe(Option<String>),
    /// `\dt`: the tables and views.
    Tables,
    /// `\df`: trailscope's functions with one-line docs.
    Functions,
    /// `\timing`: toggle the row count and time after results in every format.
    Timing,
    /// `\format table|csv|json|ndjson`.
    Format(Format),
    /// `\o FILE` sends results to a file; `\o` alone back to the screen.
    Output(Option<PathBuf>),
    /// `\packs [PACK]`: the detection rules.
    Packs(Option<String>),
    /// `\run RULE [NAME=VALUE…]`: run one detection rule and print its findings.
    Run(String, Vec<String>),
    /// `\trace KEY|ARN|PRINCIPALID`.
    Trace(String),
    /// `\timeline actor|key|ip|resource VALUE`.
    Timeline(String, String),
    /// `\summary [ACTOR]`.
    Summary(Option<String>),
    /// `\help` or `\?`.
    Help,
    /// `\q`.
    Quit,
}

/// One backslash command as the shell documents and completes it.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// Its spellings, the first the main one.
    pub names: &'static [&'static str],
    /// Its arguments, as `\help` shows them.
    pub args: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
    /// An argument that makes a valid call (for the coverage test; empty when none is needed).
    pub example: &'static str,
}

/// Every backslash command: parsing ([`Meta`]'s `FromStr`), `\help`, completion and the tests all
/// read this table, so a new command is one row here and one arm in `from_str`.
pub const COMMANDS: &[Command] = &[
    Command {
        names: &["\\d"],
        args: "[NAME]",
        about: "tables and views, or NAME's columns with what each means",
        example: "cloudtrail",
    },
    Command {
        names: &["\\dt"],
        args: "",
        about: "tables and views",
        example: "",
    },
    Command {
        names: &["\\df"],
        args: "",
        about: "trailscope's SQL functions",
        example: "",
    },
    Command {
        names: &["\\timing"],
        args: "",
        about: "show row counts and times after every result",
        example: "",
    },
    Command {
        names: &["\\format"],
        args: "FMT",
        about: "table | csv | json | ndjson",
        example: "csv",
    },
    Command {
        names: &["\\o"],
        args: "[FILE]",
        about: "results to FILE (.csv .json .ndjson .parquet); \\o alone: back to the screen",
        example: "out.csv",
    },
    Command {
        names: &["\\packs"],
        args: "[PACK]",
        about: "the detection rules (of one pack)",
        example: "lambda",
    },
    Command {
        names: &["\\run"],
        args: "RULE [NAME=VALUE…]",
        about: "run one detection rule, thresholds overridden, and print its findings",
        example: "iam-backdoor-user",
    },
    Command {
        names: &["\\trace"],
        args: "KEY|ARN|PRINCIPALID",
        about: "the credential chain behind a key, and everything its origin spawned",
        example: "ASIAEXAMPLE",
    },
    Command {
        names: &["\\timeline"],
        args: "actor|key|ip|resource VALUE",
        about: "one pivot's events in time order, flagged events marked",
        example: "ip 203.0.113.77",
    },
    Command {
        names: &["\\summary"],
        args: "[ACTOR]",
        about: "per-actor summaries, the flagged and busiest first",
        example: "",
    },
    Command {
        names: &["\\help", "\\?", "\\h"],
        args: "",
        about: "this text",
        example: "",
    },
    Command {
        names: &["\\q", "\\quit"],
        args: "",
        about: "quit",
        example: "",
    },
];

/// The text `\help` prints, from [`COMMANDS`].
pub fn help() -> String {
    let mut text = String::from(
        "SQL statements end with ';' and may span lines. Tab completes tables, columns, struct fields\n\
         (useridentity.<Tab>), functions, keywords, rule ids and packs. Ctrl-C cancels a running\n\
         query; Ctrl-D leaves.\n",
    );
    for c in COMMANDS {
        let call = format!("{} {}", c.names.join(", "), c.args);
        text.push_str(&format!("\n  {:<38} {}", call.trim_end(), c.about));
    }
    text
}

impl FromStr for Meta {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim().trim_end_matches(';').trim();
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        // The table knows every spelling; the match below sees only the main one.
        let Some(spec) = COMMANDS.iter().find(|c| c.names.contains(&cmd)) else {
            return Err(format!("unknown command {cmd}; \\help lists them"));
        };
        Ok(match (spec.names[0], arg) {
            ("\\d", name) => Meta::Describe(name.map(str::to_ascii_lowercase)),
            ("\\dt", None) => Meta::Tables,
            ("\\df", None) => Meta::Functions,
            ("\\timing", None) => Meta::Timing,
            ("\\format", Some(f)) => Meta::Format(
                Format::RECORDS
                    .iter()
                    .copied()
                    .find(|x| x.name().eq_ignore_ascii_case(f))
                    .ok_or_else(|| {
                        format!("unknown format {f:?}: use table, csv, json or ndjson")
                    })?,
            ),
            ("\\format", None) => {
                return Err("\\format needs one of table, csv, json, ndjson".into());
            }
            ("\\packs", pack) => Meta::Packs(pack.map(str::to_owned)),
            ("\\run", Some(args)) => {
                let mut words = args.split_whitespace().map(str::to_owned);
                let rule = words.next().unwrap_or_default();
                Meta::Run(rule, words.collect())
            }
            ("\\run", None) => return Err("\\run needs a rule id; \\packs lists them".into()),
            ("\\trace", Some(what)) => Meta::Trace(what.to_owned()),
            ("\\trace", None) => return Err("\\trace needs a key, ARN or principal id".into()),
            ("\\timeline", Some(args)) => match args.split_once(char::is_whitespace) {
                Some((kind @ ("actor" | "key" | "ip" | "resource"), value)) => {
                    Meta::Timeline(kind.to_owned(), value.trim().to_owned())
                }
                _ => return Err("usage: \\timeline actor|key|ip|resource VALUE".into()),
            },
            ("\\timeline", None) => {
                return Err("usage: \\timeline actor|key|ip|resource VALUE".into());
            }
            ("\\summary", actor) => Meta::Summary(actor.map(str::to_owned)),
            ("\\o", file) => Meta::Output(file.map(PathBuf::from)),
            ("\\help", _) => Meta::Help,
            ("\\q", None) => Meta::Quit,
            (_, Some(_)) => return Err(format!("{cmd} takes no argument; \\help shows its use")),
            _ => return Err(format!("unknown command {cmd}; \\help lists them")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's row of each command: a new [`Meta`] variant fails to compile here until it
    /// has one.
    fn row_of(m: &Meta) -> &'static str {
        match m {
            Meta::Describe(_) => "\\d",
            Meta::Tables => "\\dt",
            Meta::Functions => "\\df",
            Meta::Timing => "\\timing",
            Meta::Format(_) => "\\format",
            Meta::Output(_) => "\\o",
            Meta::Packs(_) => "\\packs",
            Meta::Run(..) => "\\run",
            Meta::Trace(_) => "\\trace",
            Meta::Timeline(..) => "\\timeline",
            Meta::Summary(_) => "\\summary",
            Meta::Help => "\\help",
            Meta::Quit => "\\q",
        }
    }

    #[test]
    fn every_command_is_in_the_table_in_help_and_parses() {
        let help = help();
        for c in COMMANDS {
            for name in c.names {
                assert!(help.contains(name), "\\help does not name {name}");
                let line = format!("{name} {}", c.example);
                let m = line
                    .parse::<Meta>()
                    .unwrap_or_else(|e| panic!("{line}: {e}"));
                assert_eq!(row_of(&m), c.names[0], "{line} parses as another command");
            }
        }
    }

    #[test]
    fn parses_commands() {
        assert_eq!("\\d".parse(), Ok(Meta::Describe(None)));
        assert_eq!(
            "\\d CloudTrail;".parse(),
            Ok(Meta::Describe(Some("cloudtrail".into())))
        );
        assert_eq!("\\format csv".parse(), Ok(Meta::Format(Format::Csv)));
        assert!(
            "\\format xml"
                .parse::<Meta>()
                .unwrap_err()
                .contains("unknown format")
        );
        assert_eq!(
            "\\o out.csv".parse(),
            Ok(Meta::Output(Some("out.csv".into())))
        );
        assert_eq!("\\o".parse(), Ok(Meta::Output(None)));
        assert_eq!(" \\q ".parse(), Ok(Meta::Quit));
        assert!("\\zz".parse::<Meta>().is_err());
        assert_eq!("\\packs".parse(), Ok(Meta::Packs(None)));
        assert_eq!(
            "\\run secrets-bulk-read min_secrets=3;".parse(),
            Ok(Meta::Run(
                "secrets-bulk-read".into(),
                vec!["min_secrets=3".into()]
            ))
        );
        assert!("\\run".parse::<Meta>().is_err());
        assert_eq!(
            "\\timeline key ASIAX".parse(),
            Ok(Meta::Timeline("key".into(), "ASIAX".into()))
        );
        assert!("\\timeline user x".parse::<Meta>().is_err());
        assert_eq!("\\summary".parse(), Ok(Meta::Summary(None)));
    }
}
