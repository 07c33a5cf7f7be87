//! What `timeline` and `summary` share: the lake or raw source they read, the period, the output
//! format, and the detections run first so that flagged events and actors can be shown.

use anyhow::Result;
use clap::Args;
use datafusion::prelude::SessionContext;

use super::args::{LakeInput, PacksDirs};
use crate::detect::{self, Finding, Overrides, Severity};
use crate::query::output::Format;
use crate::query::session::Scope;
use crate::time::{parse_until, parse_when};

/// Options shared by `timeline` and `summary`.
#[derive(Debug, Args)]
pub struct Common {
    #[command(flatten)]
    pub input: LakeInput,

    /// Only events at or after WHEN (YYYY-MM-DD, an RFC 3339 time, or a span such as 36h).
    #[arg(long, value_parser = parse_when, value_name = "WHEN")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,

    /// Only events before WHEN (a bare date includes that whole day).
    #[arg(long, value_parser = parse_until, value_name = "WHEN")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,

    /// How it is printed.
    #[arg(long, value_parser = Format::parser(Format::RECORDS), default_value = "table", value_name = "FORMAT")]
    pub format: Format,

    /// Do not run the detections (faster; nothing is marked as flagged).
    #[arg(long)]
    pub no_detections: bool,

    #[command(flatten)]
    pub packs: PacksDirs,
}

impl Common {
    /// The session, narrowed to --since/--until, and the findings of every rule over it.
    pub async fn open(&self) -> Result<(SessionContext, Vec<Finding>)> {
        let scope = Scope {
            since: self.since,
            until: self.until,
        };
        let (_, ctx) = self.input.open(scope).await?;
        if self.no_detections {
            return Ok((ctx, Vec::new()));
        }
        let rules = detect::select(self.packs.catalogue()?, &[], &[], Severity::Info)?;
        let outcomes = detect::run(&ctx, rules, &Overrides::default(), |_| {}).await;
        let findings = detect::findings(&outcomes).into_iter().cloned().collect();
        Ok((ctx, findings))
    }
}
