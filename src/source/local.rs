//! Local sources: a file, or a directory walked recursively, pruned by the key layout.
//!
//! Input: a path and the filters. Output: the files, sorted by path so that runs are repeatable.
//! Each file's version is its size and modification time. Names are kept exact ([`path_text`]).
//! Hidden files and directories are not read, but listed as not logs so that they are counted;
//! entries that cannot be listed are listed as unreadable, so that they are named and counted.
//! This module does not read file contents; fetching does.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, bail};

use super::layout::{self, Filters};
use super::{Location, ObjectRef};

/// Lists a local file or directory. An entry below the directory that cannot be listed (a link
/// loop, a dangling link, an unreadable directory) does not stop the listing: it is listed as
/// [`Location::Unreadable`], so the run names it, counts it and goes on. Hidden files and
/// directories are listed as not logs, so the ledger counts them.
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
    let mut walked = HashSet::new();
    walk(path, &meta, filters, &mut walked, &mut out)
        .with_context(|| format!("reading the directory {}", path.display()))?;
    out.sort_by(|a, b| a.uri.cmp(&b.uri));
    Ok(out)
}

/// A path as text, exactly: bytes that are not UTF-8 are written `%XX`, and `%` itself `%25`,
/// so two names never read alike.
pub fn path_text(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if let Ok(text) = std::str::from_utf8(bytes)
            && !text.contains('%')
        {
            return text.to_owned();
        }
        let mut out = String::with_capacity(bytes.len() + 8);
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '%' => out.push_str("%25"),
                    c => out.push(c),
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().replace('%', "%25")
    }
}

fn unreadable(path: &Path, why: String) -> ObjectRef {
    let text = path_text(path);
    let mut o = ObjectRef::new(text.clone(), &text, Location::Unreadable(why), None, None);
    // Whatever it is, it is named and counted as a failure of this run.
    o.kind = layout::ObjectKind::Log;
    o.expect_log = true;
    o
}

fn hidden(path: &Path) -> ObjectRef {
    let text = path_text(path);
    let mut o = ObjectRef::new(
        text.clone(),
        &text,
        Location::File(path.to_path_buf()),
        None,
        None,
    );
    o.kind = layout::ObjectKind::NotLog;
    o
}

/// The identity of a directory, so that a link back up the tree is walked once.
fn dir_id(meta: &fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

fn walk(
    dir: &Path,
    meta: &fs::Metadata,
    filters: &Filters,
    walked: &mut HashSet<(u64, u64)>,
    out: &mut Vec<ObjectRef>,
) -> Result<()> {
    if cfg!(unix) && !walked.insert(dir_id(meta)) {
        out.push(unreadable(
            dir,
            format!(
                "{}: a link back to a directory already walked (a link loop)",
                dir.display()
            ),
        ));
        return Ok(());
    }
    let entries =
        fs::read_dir(dir).with_context(|| format!("reading the directory {}", dir.display()))?;
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.push(unreadable(
                    dir,
                    format!("reading the directory {}: {e}", dir.display()),
                ));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            out.push(hidden(&path));
            continue;
        }
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                let what = match fs::symlink_metadata(&path) {
                    Ok(l) if l.file_type().is_symlink() => {
                        "a link that leads nowhere (dangling, or a loop)"
                    }
                    _ => "cannot be read",
                };
                out.push(unreadable(
                    &path,
                    format!("{}: {what}: {e}", path.display()),
                ));
                continue;
            }
        };
        let text = path_text(&path);
        if meta.is_dir() {
            if filters.admits(&layout::parse(&format!("{text}/")))
                && let Err(e) = walk(&path, &meta, filters, walked, out)
            {
                out.push(unreadable(&path, format!("{e:#}")));
            }
        } else if meta.is_file() && filters.admits(&layout::parse(&text)) {
            out.push(file_ref(&path, &meta));
        }
    }
    Ok(())
}

fn file_ref(path: &Path, meta: &fs::Metadata) -> ObjectRef {
    let text = path_text(path);
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
        assert_eq!(all.len(), 4);
        assert_eq!(
            all.iter()
                .filter(|o| o.kind == layout::ObjectKind::NotLog)
                .count(),
            1,
            "the hidden file is counted as not a log"
        );
        let f = Filters {
            regions: vec!["us-east-1".into()],
            since: chrono::NaiveDate::from_ymd_opt(2024, 3, 1),
            until: chrono::NaiveDate::from_ymd_opt(2024, 3, 10),
            ..Filters::default()
        };
        let some: Vec<ObjectRef> = list(dir.path(), &f)
            .unwrap()
            .into_iter()
            .filter(|o| o.kind == layout::ObjectKind::Log)
            .collect();
        assert_eq!(some.len(), 1);
        assert!(some[0].uri.contains("us-east-1/2024/03/05"));
        assert_eq!(some[0].hints.account.as_deref(), Some("111122223333"));
        assert!(list(&dir.path().join("missing"), &f).is_err());
    }
}
