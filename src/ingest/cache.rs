//! The cache lake: commands given a raw SOURCE (`detect sample-logs`, `sql s3://…`) ingest it
//! first into a lake of its own, kept between runs, so the second run reads only new objects.
//!
//! Input: a source as named on the command line. Output: its cache lake, under
//! `TRAILSCOPE_CACHE`, else the user's cache directory, named by a hash of the source's absolute
//! location. This module does not print the run's report; the front end does.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::{Options, Report};
use crate::source::s3::S3Options;

/// Ingests a raw source into its cache lake (only what is new since last time); returns the lake
/// and the run's report.
pub async fn ingest(source: &str, s3: S3Options) -> Result<(PathBuf, Report)> {
    let lake = cache_lake(source)?;
    let mut opts = Options::new(vec![source.to_owned()], lake.clone());
    opts.s3 = s3;
    let report = super::run(&opts).await?;
    Ok((lake, report))
}

/// Where the cache lake of a source lives: under `TRAILSCOPE_CACHE`, else the user's cache
/// directory, named by a hash of the source's absolute location.
pub fn cache_lake(source: &str) -> Result<PathBuf> {
    let id = if source.starts_with("s3://") {
        source.trim_end_matches('/').to_owned()
    } else {
        Path::new(source)
            .canonicalize()
            .with_context(|| format!("{source}: no such file or directory"))?
            .display()
            .to_string()
    };
    let base = match std::env::var_os("TRAILSCOPE_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
            (Some(x), _) => PathBuf::from(x).join("trailscope"),
            (None, Some(h)) => PathBuf::from(h).join(".cache").join("trailscope"),
            (None, None) => bail!("no cache directory: set TRAILSCOPE_CACHE, or give --lake"),
        },
    };
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    Ok(base.join("lakes").join(&hash[..16]))
}
