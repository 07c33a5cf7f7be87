//! Lake step: the on-disk layout, the writer lock, and atomic commits.
//!
//! ```text
//! <lake>/cloudtrail/account=<id>/region=<r>/day=<YYYY-MM-DD>/<uuid>.parquet
//! <lake>/_trailscope/manifest/<run>.jsonl      one row per source object read
//! <lake>/_trailscope/runs/<run>.json           each run's ledger
//! <lake>/_trailscope/quarantine/records/<run>.jsonl   bad records, raw text and reason
//! <lake>/_trailscope/quarantine/objects/<run>.jsonl   bad objects, with the reason
//! <lake>/_trailscope/quarantine/objects/<sha256>      the bad object's bytes
//! <lake>/_trailscope/staging/<run>/…           a run's files before they are committed
//! ```
//!
//! A run writes everything under its staging directory, in the same relative layout as the lake.
//! Committing writes a `COMMITTED` marker and then renames each staged file into place; opening a
//! lake finishes any committed run that was cut short and deletes any uncommitted one. So a run
//! killed at any point leaves either nothing or everything, and the lake is never seen half
//! written by a reader that ignores `_trailscope/`.
//!
//! This module does not build Parquet files ([`writer`]) or decide what goes in them.

pub mod digests;
pub mod ledger;
pub mod manifest;
pub mod partition;
pub mod quarantine;
pub mod summary;
pub mod writer;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::schema::TABLE_DIR;

/// The directory of trailscope's own bookkeeping inside a lake.
pub const META_DIR: &str = "_trailscope";
const STAGING_DIR: &str = "staging";
const COMMIT_MARKER: &str = "COMMITTED";
const TREE_DIR: &str = "tree";

/// A lake opened for writing. Holds an exclusive lock until dropped.
pub struct Lake {
    root: PathBuf,
    _lock: File,
}

impl Lake {
    /// Opens (creating if needed) the lake at `root`, takes the writer lock, and repairs what an
    /// interrupted run left behind.
    pub fn open(root: &Path) -> Result<Lake> {
        let meta = root.join(META_DIR);
        fs::create_dir_all(&meta)
            .with_context(|| format!("creating the lake directory {}", meta.display()))?;
        let lock_path = meta.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => bail!(
                "another trailscope process is writing to the lake {}; wait for it to finish",
                root.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", lock_path.display()));
            }
        }
        let lake = Lake {
            root: root.to_path_buf(),
            _lock: lock,
        };
        lake.recover()?;
        Ok(lake)
    }

    /// The lake's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a run: a fresh staging directory.
    pub fn begin(&self, run_id: &str) -> Result<Txn> {
        let dir = self.root.join(META_DIR).join(STAGING_DIR).join(run_id);
        fs::create_dir_all(dir.join(TREE_DIR))
            .with_context(|| format!("creating the staging directory {}", dir.display()))?;
        Ok(Txn {
            root: self.root.clone(),
            dir,
        })
    }

    /// Finishes committed runs that were interrupted and removes uncommitted ones.
    fn recover(&self) -> Result<()> {
        let staging = self.root.join(META_DIR).join(STAGING_DIR);
        for dir in list_dir(&staging)? {
            if dir.join(COMMIT_MARKER).exists() {
                log::warn!(
                    "finishing the commit of an interrupted run ({})",
                    dir.display()
                );
                roll_forward(&self.root, &dir, &mut Vec::new())?;
            } else {
                log::info!(
                    "removing the uncommitted files of an interrupted run ({})",
                    dir.display()
                );
            }
            fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the staging directory {}", dir.display()))?;
        }
        Ok(())
    }
}

/// One run's staged files. Dropping it without [`Txn::commit`] leaves the lake as it was.
pub struct Txn {
    root: PathBuf,
    dir: PathBuf,
}

impl Txn {
    /// Where to stage a file that will live at `relative` inside the lake. Parent directories
    /// are created.
    pub fn path(&self, relative: &str) -> Result<PathBuf> {
        let p = self.dir.join(TREE_DIR).join(relative);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(p)
    }

    /// Where the final file for `relative` lives once committed.
    pub fn final_path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Makes the run's files part of the lake, all or nothing.
    pub fn commit(self) -> Result<()> {
        let marker = self.dir.join(COMMIT_MARKER);
        let mut f = File::create(&marker)
            .with_context(|| format!("writing the commit marker {}", marker.display()))?;
        f.write_all(b"committed\n")
            .and_then(|_| f.sync_all())
            .with_context(|| format!("writing the commit marker {}", marker.display()))?;
        sync_dir(&self.dir);
        failpoint("committing");
        let mut moved = Vec::new();
        if let Err(e) = roll_forward(&self.root, &self.dir, &mut moved) {
            // A failed move (not a crash) must not leave part of the run where other engines
            // read: the files already moved go back, and the run is discarded as uncommitted.
            return Err(match roll_back(&marker, &moved) {
                Ok(()) => e.context("committing the run failed; the lake is as it was"),
                Err(undo) => e.context(format!(
                    "committing the run failed, and undoing it failed too ({undo:#}); the lake \
                     holds part of the run until the next trailscope command finishes it"
                )),
            });
        }
        fs::remove_dir_all(&self.dir)
            .with_context(|| format!("removing the staging directory {}", self.dir.display()))?;
        Ok(())
    }

    /// Discards the run's files.
    pub fn abort(self) {
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            log::warn!(
                "could not remove the staging directory {}: {e}; the next run removes it",
                self.dir.display()
            );
        }
    }
}

/// Moves the files of a failed commit back to staging and withdraws its marker, newest first.
fn roll_back(marker: &Path, moved: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (staged, dest) in moved.iter().rev() {
        fs::rename(dest, staged)
            .with_context(|| format!("moving {} back to {}", dest.display(), staged.display()))?;
    }
    fs::remove_file(marker).with_context(|| format!("removing {}", marker.display()))?;
    Ok(())
}

/// Moves every staged file into the lake, noting each move in `moved` (staged path, final
/// path). Idempotent: files already moved are simply absent.
fn roll_forward(root: &Path, dir: &Path, moved: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    let tree = dir.join(TREE_DIR);
    let mut stack = vec![tree.clone()];
    let mut touched_dirs = Vec::new();
    while let Some(d) = stack.pop() {
        for path in list_dir(&d)? {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&tree)
                .context("a staged file outside the staging tree")?;
            let dest = root.join(rel);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
                touched_dirs.push(parent.to_path_buf());
            }
            if !moved.is_empty()
                && std::env::var("TRAILSCOPE_FAILPOINT").is_ok_and(|v| v == "move-error")
            {
                // Crash-test hook: a move that fails with an error, after one succeeded.
                return Err(std::io::Error::from_raw_os_error(5))
                    .with_context(|| format!("moving {} into the lake", path.display()));
            }
            fs::rename(&path, &dest).with_context(|| {
                format!(
                    "moving {} into the lake at {}",
                    path.display(),
                    dest.display()
                )
            })?;
            moved.push((path.clone(), dest));
            failpoint("moving");
        }
    }
    touched_dirs.sort();
    touched_dirs.dedup();
    for d in touched_dirs {
        sync_dir(&d);
    }
    Ok(())
}

/// Flushes a directory entry so renames survive a power cut. Best effort: not every filesystem
/// supports it, and the data files themselves are already synced.
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Crash-test hook: when the environment variable `TRAILSCOPE_FAILPOINT` names this point, the
/// process dies here at once, as if killed. The crash-safety tests use it to stop a run at each
/// step of a commit; it costs one environment lookup per commit step.
pub fn failpoint(name: &str) {
    if std::env::var("TRAILSCOPE_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

/// The entries of a directory as sorted paths; none when the directory does not exist.
pub fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut paths = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

/// Path of a partition directory relative to the lake root.
pub fn partition_dir(key: &partition::PartitionKey) -> String {
    format!("{TABLE_DIR}/{}", key.dir())
}

/// Refuses an output file inside the lake at `lake`: results written there could become rows of
/// the evidence (a `.parquet` under `cloudtrail/`) or overwrite the lake's own records. Links and
/// `..` are resolved first; a file that does not exist yet is judged by its directory.
pub fn ensure_outside(lake: &Path, output: &Path) -> Result<()> {
    let Ok(lake_real) = lake.canonicalize() else {
        return Ok(());
    };
    let absolute = if output.is_absolute() {
        output.to_path_buf()
    } else {
        std::env::current_dir()
            .context("finding the current directory")?
            .join(output)
    };
    // The nearest existing ancestor, resolved, with the rest of the path after it.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let resolved = loop {
        match existing.canonicalize() {
            Ok(real) => break real,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => break existing.to_path_buf(),
            },
        }
    };
    let mut target = resolved;
    for part in rest.iter().rev() {
        if part == ".." {
            target.pop();
        } else {
            target.push(part);
        }
    }
    if target.starts_with(&lake_real) {
        bail!(
            "{} is inside the lake {}: output never goes into the evidence; write it elsewhere",
            output.display(),
            lake.display()
        );
    }
    Ok(())
}

/// Whether `path` holds a lake (a manifest), so verification can use and update it.
pub fn is_lake(path: &Path) -> bool {
    path.join(META_DIR).join("manifest").is_dir()
}

/// Writes `bytes` to a staged file and syncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_runs_vanish_and_committed_ones_complete() {
        let dir = tempfile::tempdir().unwrap();
        {
            let lake = Lake::open(dir.path()).unwrap();
            let a = lake.begin("run-a").unwrap();
            write_synced(&a.path("cloudtrail/x/a.parquet").unwrap(), b"a").unwrap();
            let b = lake.begin("run-b").unwrap();
            write_synced(&b.path("cloudtrail/x/b.parquet").unwrap(), b"b").unwrap();
            // Simulate a crash after b's marker: marker written, nothing moved.
            File::create(b.dir.join(COMMIT_MARKER)).unwrap();
            std::mem::forget(a);
            std::mem::forget(b);
        }
        let _lake = Lake::open(dir.path()).unwrap();
        assert!(!dir.path().join("cloudtrail/x/a.parquet").exists());
        assert_eq!(
            fs::read(dir.path().join("cloudtrail/x/b.parquet")).unwrap(),
            b"b"
        );
        assert!(
            !dir.path()
                .join(META_DIR)
                .join(STAGING_DIR)
                .join("run-a")
                .exists()
        );
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Lake::open(dir.path()).unwrap();
        let err = Lake::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("another trailscope process"), "{err}");
    }
}
