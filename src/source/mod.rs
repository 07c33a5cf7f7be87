//! Source step: where CloudTrail objects come from, listing them, and fetching their bytes.
//!
//! Input: the sources named on the command line (`s3://bucket/prefix`, a directory, a file, or
//! `-` for stdin) and the layout filters. Output: the list of objects with their URI, size, ETag
//! (or local modification time) and what their key says (account, region, digest or log), and then
//! each object's bytes on request.
//!
//! Listing walks the CloudTrail key layout one level at a time and never descends into a prefix
//! the filters exclude, so a few days of one region of a year-long organization trail costs a few
//! dozen list calls, not a full listing. This module does not decode or parse; `ingest::decode`
//! and `ingest::records` do.

pub mod layout;
pub mod local;
pub mod s3;

use std::path::PathBuf;

use anyhow::{Result, bail};

use layout::{Filters, ObjectKind};

/// What the object's key says about where its records belong; used only when a record lacks
/// recipientAccountId or awsRegion.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Account from the key layout.
    pub account: Option<String>,
    /// Region from the key layout.
    pub region: Option<String>,
}

/// A source as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// `s3://bucket/prefix`.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix (may be empty).
        prefix: String,
    },
    /// A local file or directory.
    Path(PathBuf),
    /// `-`: standard input.
    Stdin,
}

impl SourceSpec {
    /// Parses a source argument.
    pub fn parse(s: &str) -> Result<SourceSpec> {
        if s == "-" {
            return Ok(SourceSpec::Stdin);
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!(
                    "{s}: no bucket name; write s3://BUCKET/PREFIX, for example s3://my-trail-bucket/AWSLogs/"
                );
            }
            return Ok(SourceSpec::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if s.contains("://") {
            bail!("{s}: only s3:// URLs, local paths and - (stdin) are supported");
        }
        Ok(SourceSpec::Path(PathBuf::from(s)))
    }
}

/// Where an object's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An S3 object.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key.
        key: String,
    },
    /// A local file.
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// A local entry that could not be listed (a link loop, a dangling link, a directory it
    /// may not read): the reason, given when it is fetched, so it is named and counted.
    Unreadable(String),
}

/// One object found by listing.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    /// `s3://bucket/key`, the file path, or `stdin`.
    pub uri: String,
    /// Where to fetch it.
    pub location: Location,
    /// Size in bytes, when the listing says.
    pub size: Option<u64>,
    /// ETag (S3) or `mtime:<ns>` (local); identifies the version for incremental runs.
    pub etag: Option<String>,
    /// What the key says it is.
    pub kind: ObjectKind,
    /// Account and region from the key, for records that lack them.
    pub hints: Hints,
    /// Whether the object must be a log: named on the command line or in the CloudTrail key
    /// layout. Other files met while walking a directory (a README, a licence) are skipped as
    /// not logs when their content is not JSON.
    pub expect_log: bool,
}

impl ObjectRef {
    /// Builds the reference for a key or path, reading the layout from it.
    pub fn new(
        uri: String,
        key: &str,
        location: Location,
        size: Option<u64>,
        etag: Option<String>,
    ) -> Self {
        let info = layout::parse(key);
        ObjectRef {
            kind: layout::classify(key, &info),
            expect_log: info.in_layout,
            // A key outside the real layout (`AWSLogs/CloudTrail/2024/…`) must not name a
            // partition: only a 12-digit account and a region-shaped name are hints.
            hints: Hints {
                account: info.account.filter(|a| layout::is_account_id(a)),
                region: info.region.filter(|r| layout::is_region_name(r)),
            },
            uri,
            location,
            size,
            etag,
        }
    }
}

/// Lists the objects of one local source (S3 sources are listed by [`s3::S3Source`]).
pub fn list_local(spec: &SourceSpec, filters: &Filters) -> Result<Vec<ObjectRef>> {
    match spec {
        SourceSpec::Path(p) => local::list(p, filters),
        SourceSpec::Stdin => {
            let mut stdin = ObjectRef::new("stdin".into(), "stdin", Location::Stdin, None, None);
            stdin.expect_log = true;
            Ok(vec![stdin])
        }
        SourceSpec::S3 { .. } => bail!("an S3 source must be listed with an S3 client"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            SourceSpec::parse("s3://b/AWSLogs/").unwrap(),
            SourceSpec::S3 {
                bucket: "b".into(),
                prefix: "AWSLogs/".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("s3://b").unwrap(),
            SourceSpec::S3 {
                bucket: "b".into(),
                prefix: "".into()
            }
        );
        assert_eq!(SourceSpec::parse("-").unwrap(), SourceSpec::Stdin);
        assert!(SourceSpec::parse("s3:///x").is_err());
        assert!(SourceSpec::parse("https://x/y").is_err());
        assert_eq!(
            SourceSpec::parse("logs").unwrap(),
            SourceSpec::Path("logs".into())
        );
    }
}
