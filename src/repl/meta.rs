//! The shell's backslash commands, parsed from a line.

use std::path::PathBuf;
use std::str::FromStr;

use crate::output::Format;

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

/// The text `\help` prints.
pub const HELP: &str = "\
SQL statements end with ';' and may span lines. Tab completes tables, columns, struct fields
(useridentity.<Tab>), functions and keywords. Ctrl-C cancels a running query; Ctrl-D leaves.

  \\d [NAME]       tables and views, or NAME's columns with what each means
  \\dt             tables and views
  \\df             trailscope's SQL functions
  \\timing         show row counts and times after every result
  \\format FMT     table | csv | json | ndjson
  \\o [FILE]       results to FILE (.csv .json .ndjson .parquet); \\o alone: back to the screen
  \\help, \\?       this text
  \\q              quit";

impl FromStr for Meta {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim().trim_end_matches(';').trim();
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        Ok(match (cmd, arg) {
            ("\\d", name) => Meta::Describe(name.map(str::to_ascii_lowercase)),
            ("\\dt", None) => Meta::Tables,
            ("\\df", None) => Meta::Functions,
            ("\\timing", None) => Meta::Timing,
            ("\\format", Some(f)) => Meta::Format(
                <Format as clap::ValueEnum>::from_str(f, true)
                    .map_err(|_| format!("unknown format {f:?}: use table, csv, json or ndjson"))?,
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
            ("\\help" | "\\?" | "\\h", _) => Meta::Help,
            ("\\q" | "\\quit", None) => Meta::Quit,
            _ => return Err(format!("unknown command {cmd}; \\help lists them")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
