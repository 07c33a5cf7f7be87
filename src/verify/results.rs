//! Verification results: the verdicts of a `verify` run stored as the `verification` table beside
//! the lake, and each lake object's [`Evidence`] for findings from the verdicts.
//!
//! Input: a [`Report`], or verdicts per `source_uri` (read from the session's `verification`
//! table). Output: `_trailscope/verification.parquet`, or a finding's evidence. This module does
//! not judge; [`super::judge`] does.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{Array, RecordBatch, StringArray};

use serde::Serialize;

use super::judge::{Report, Status};
use crate::lake::digests::{results_path, write_atomic};
use crate::schema;

/// Stores the verdicts as the `verification` table, replacing the previous ones.
pub fn write_results(lake: &Path, report: &Report) -> Result<PathBuf> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); schema::VERIFICATION_COLUMNS.len()];
    let mut push = |row: [Option<String>; 9]| {
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    };
    for d in &report.digests {
        push([
            Some("digest".into()),
            Some(d.uri.clone()),
            None,
            Some(d.status.as_str().into()),
            d.reason.clone(),
            Some(d.uri.clone()),
            Some(d.chain.clone()),
            (!d.end_time.is_empty()).then(|| d.end_time.clone()),
            Some(at.clone()),
        ]);
    }
    for l in &report.logs {
        let uris: Vec<Option<String>> = if l.source_uris.is_empty() {
            vec![None]
        } else {
            l.source_uris.iter().cloned().map(Some).collect()
        };
        for u in uris {
            push([
                Some("log".into()),
                Some(l.uri.clone()),
                u,
                Some(l.status.as_str().into()),
                l.reason.clone(),
                l.digest.clone(),
                None,
                None,
                Some(at.clone()),
            ]);
        }
    }
    let arrays: Vec<Arc<dyn Array>> = cols
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as Arc<dyn Array>)
        .collect();
    let batch = RecordBatch::try_new(schema::verification_schema(), arrays)
        .context("building the verification table")?;
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None)
        .context("writing the verification table")?;
    w.write(&batch).context("writing the verification table")?;
    w.close().context("writing the verification table")?;
    let path = results_path(lake);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_atomic(&path, &buf)?;
    Ok(path)
}

/// Whether a finding's evidence is proven by CloudTrail's signed digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Every object the evidence came from is covered by a valid digest and hashes right.
    Verified,
    /// One of them was changed or is missing, or its digest is bad.
    Invalid,
    /// Not all of them are covered by a valid digest, or the lake was never verified.
    #[default]
    Unverified,
}

impl Evidence {
    /// The evidence of events that came from `uris`, by the latest verdict of each object.
    pub fn of<'a>(
        uris: impl IntoIterator<Item = &'a String>,
        verdicts: &HashMap<String, Status>,
    ) -> Evidence {
        let mut any = false;
        let mut all_valid = true;
        for u in uris {
            any = true;
            match verdicts.get(u).copied().unwrap_or(Status::Unverified) {
                Status::Invalid | Status::Missing => return Evidence::Invalid,
                Status::Valid => {}
                Status::Unverified => all_valid = false,
            }
        }
        if any && all_valid {
            Evidence::Verified
        } else {
            Evidence::Unverified
        }
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Evidence::Verified => "verified",
            Evidence::Invalid => "invalid",
            Evidence::Unverified => "unverified",
        })
    }
}
