//! Verification results: the verdicts of a `verify` run stored as the `verification` table beside
//! the lake, and read back as each lake object's [`Evidence`] for findings.
//!
//! Input: a [`Report`] or a lake. Output: `_trailscope/verification.parquet`, or the latest verdict
//! per `source_uri`. This module does not judge; [`super::judge`] does.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{Array, RecordBatch, StringArray};

use serde::Serialize;

use super::judge::{Report, Status};
use parquet::file::reader::ChunkReader;

use crate::lake::Location;
use crate::lake::digests::{RESULTS_FILE, results_path, write_atomic};
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

/// The latest verdict per lake `source_uri`, or `None` when the lake was never verified.
pub fn load_evidence(lake: &Path) -> Result<Option<HashMap<String, Status>>> {
    let path = results_path(lake);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    };
    read_evidence(file, &path.display().to_string()).map(Some)
}

/// [`load_evidence`] of the lake at `loc`, on disk or in S3.
pub async fn load_evidence_at(loc: &Location) -> Result<Option<HashMap<String, Status>>> {
    match loc {
        Location::Local(lake) => load_evidence(lake),
        Location::S3(s3) => match s3.get(RESULTS_FILE).await? {
            Some(bytes) => read_evidence(bytes, &format!("{}/{RESULTS_FILE}", s3.uri)).map(Some),
            None => Ok(None),
        },
    }
}

/// The verdicts of a results file; `name` says which in errors.
fn read_evidence<R: ChunkReader + 'static>(file: R, name: &str) -> Result<HashMap<String, Status>> {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .with_context(|| format!("reading {name}"))?;
    let mut out = HashMap::new();
    for batch in reader {
        let batch = batch.with_context(|| format!("reading {name}"))?;
        let col = |column: &str| {
            batch
                .column_by_name(column)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .with_context(|| format!("{name}: no text column {column}"))
        };
        let (uri, status) = (col("source_uri")?, col("status")?);
        for i in 0..batch.num_rows() {
            if uri.is_valid(i) {
                let verdict = Status::parse(status.value(i))
                    .with_context(|| format!("{name}: unknown verdict {:?}", status.value(i)))?;
                out.insert(uri.value(i).to_owned(), verdict);
            }
        }
    }
    Ok(out)
}
