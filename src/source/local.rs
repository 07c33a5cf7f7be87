//! Local sources: a file, or a directory walked recursively, pruned by the key layout.
//!
//! Input: a path and the filters. Output: the files, sorted by path so that runs are repeatable.
//! Each file's version is its size and modification time. Hidden files and directories are skipped.
//! This module does not read file contents; fetching does.

use std::fs;
use std::path::Path;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, bail};

use super::layout::{self, Filters};
use super::{Location, ObjectRef};

/// Lists a local file or directory.
pub fn list(path: &Path, filters: &Filters) -> Result<Vec<ObjectRef>> {
    let meta = fs::metadata(path).with_context(|| {
        format!("{}: no such file or directory (give a directory of CloudTrail logs, a file, s3://bucket/prefix or -)", path.display())
    })?;
    let mut out = Vec::new();
    if meta.is_file() {
        let mut named = file_ref(path, &meta);
        named.expect_log = true;
        out.push(named);
        return Ok(out);
    }
    if !meta.is_dir() {
        bail!("{}: not a file or directory", path.display());
    }
    walk(path, filters, &mut out)?;
    out.sort_by(|a, b| a.uri.cmp(&b.uri));
    Ok(out)
}

fn walk(dir: &Path, filters: &Filters, out: &mut Vec<ObjectRef>) -> Result<()> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("reading the directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading the directory {}", dir.display()))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        let text = path.to_string_lossy();
        if meta.is_dir() {
            if filters.admits(&layout::parse(&format!("{text}/"))) {
                walk(&path, filters, out)?;
            }
        } else if meta.is_file() && filters.admits(&layout::parse(&text)) {
            out.push(file_ref(&path, &meta));
        }
    }
    Ok(())
}

fn file_ref(path: &Path, meta: &fs::Metadata) -> ObjectRef {
    let text = path.to_string_lossy().into_owned();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| format!("mtime:{}", d.as_nanos()));
    ObjectRef::new(
        text.clone(),
        &text,
        Location::File(path.to_path_buf()),
        Some(meta.len()),
        mtime,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("AWSLogs/111122223333/CloudTrail");
        for (r, d) in [
            ("us-east-1", "2024/03/05"),
            ("us-east-1", "2024/04/01"),
            ("eu-west-1", "2024/03/05"),
        ] {
            let p = base.join(r).join(d);
            fs::create_dir_all(&p).unwrap();
            fs::write(p.join("a.json.gz"), b"x").unwrap();
        }
        fs::write(dir.path().join(".hidden"), b"x").unwrap();
        let all = list(dir.path(), &Filters::default()).unwrap();
        assert_eq!(all.len(), 3);
        let f = Filters {
            regions: vec!["us-east-1".into()],
            since: chrono::NaiveDate::from_ymd_opt(2024, 3, 1),
            until: chrono::NaiveDate::from_ymd_opt(2024, 3, 10),
            ..Filters::default()
        };
        let some = list(dir.path(), &f).unwrap();
        assert_eq!(some.len(), 1);
        assert!(some[0].uri.contains("us-east-1/2024/03/05"));
        assert_eq!(some[0].hints.account.as_deref(), Some("111122223333"));
        assert!(list(&dir.path().join("missing"), &f).is_err());
    }
}
