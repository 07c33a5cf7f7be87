//! Lake step: the on-disk layout, the writer lock, and atomic commits.
//!
//! ```text
//! <lake>/cloudtrail/_delta_log/…               the Delta log: which files are the table
//! <lake>/cloudtrail/account=<id>/region=<r>/day=<YYYY-MM-DD>/<uuid>.parquet
//! <lake>/_trailscope/manifest/<run>.jsonl      one row per source object read
//! <lake>/_trailscope/runs/<run>.json           each run's ledger
//! <lake>/_trailscope/quarantine/records/<run>.jsonl   bad records, raw text and reason
//! <lake>/_trailscope/quarantine/objects/<run>.jsonl   bad objects, with the reason
//! <lake>/_trailscope/quarantine/objects/<sha256>      the bad object's bytes
//! <lake>/_trailscope/staging/<run>/…           a run's files before they are committed
//! ```
//!
//! The `cloudtrail` table is a Delta Lake table ([`delta`]). A run writes everything under its
//! staging directory, in the same relative layout as the lake. Committing moves the run's Parquet
//! files into the table's directory (where no reader of the Delta log sees them yet), then makes
//! the one Delta commit that adds them all, carrying the run id and its ledger, then moves the
//! run's manifest and quarantine into `_trailscope/`. The Delta commit is the moment the run
//! happens: opening a lake finishes the bookkeeping of a run the log holds and deletes every file
//! of a run it does not. So a run killed at any point leaves either nothing or everything, for
//! trailscope and for any other engine that reads the table as Delta.
//!
//! A lake written before the table was a Delta table (plain hive-partitioned Parquet) is
//! converted on first open: its files are added, unchanged, in the table's first commit, after
//! their row counts are checked against the new log.
//!
//! This module does not build Parquet files ([`writer`]) or decide what goes in them.

pub mod delta;
pub mod digests;
pub mod ledger;
pub mod maintain;
pub mod manifest;
pub mod partition;
pub mod quarantine;
pub mod remote;
pub mod snapshot;
pub mod summary;
pub mod writer;

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use deltalake::DeltaTable;

use crate::schema::TABLE_DIR;

/// Where a lake lives: a directory, or a prefix in S3.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory on this machine.
    Local(PathBuf),
    /// `s3://bucket/prefix`.
    S3(std::sync::Arc<remote::S3Lake>),
}

impl Location {
    /// The lake `--lake` names: `s3://…` is connected to with `s3`, anything else is a directory.
    pub async fn resolve(lake: &Path, s3: &crate::source::s3::S3Options) -> Result<Location> {
        if remote::is_s3(lake) {
            let uri = lake.to_string_lossy();
            Ok(Location::S3(std::sync::Arc::new(
                remote::S3Lake::connect(&uri, s3).await?,
            )))
        } else {
            Ok(Location::Local(lake.to_path_buf()))
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3(s) => write!(f, "{}", s.uri),
        }
    }
}

/// The directory of trailscope's own bookkeeping inside a lake.
pub const META_DIR: &str = "_trailscope";
const STAGING_DIR: &str = "staging";
/// Marker of a run committed by the format before Delta (files moved, no log): finished as it was.
const COMMIT_MARKER: &str = "COMMITTED";
/// A run's list of the data files it moved into the table before its Delta commit.
const MOVED_LIST: &str = "moved-data-files";
const TREE_DIR: &str = "tree";

/// A lake opened for writing. Holds an exclusive lock until dropped (a lake on disk; S3 has
/// no lock, and its commits need none).
pub struct Lake {
    /// The lake directory; for a lake in S3, a scratch directory where runs are staged and the
    /// bookkeeping of committed runs is read.
    root: PathBuf,
    table: DeltaTable,
    remote: Option<std::sync::Arc<remote::S3Lake>>,
    _lock: Option<File>,
}

impl Drop for Lake {
    fn drop(&mut self) {
        if let Some(s3) = &self.remote {
            let _ = fs::remove_dir_all(&self.root);
            // The lock object goes with the lake; a process killed outright leaves it, and the
            // next writer says how to remove it.
            if let Ok(handle) = tokio::runtime::Handle::try_current()
                && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
            {
                tokio::task::block_in_place(|| handle.block_on(s3.unlock()));
            }
        }
    }
}

impl Lake {
    /// Opens (creating if needed) the lake at `root`, takes the writer lock, converts a lake of
    /// the earlier format, and repairs what an interrupted run left behind. Fails at once when
    /// another process holds the lock.
    pub async fn open(root: &Path) -> Result<Lake> {
        Lake::open_with(root, false).await
    }

    /// Like [`Lake::open`], but waits for another writer (an ingest, a compaction) to finish
    /// instead of failing: two ingests started together both land, the second de-duplicated
    /// against the first.
    pub async fn open_waiting(root: &Path) -> Result<Lake> {
        Lake::open_with(root, true).await
    }

    async fn open_with(root: &Path, wait: bool) -> Result<Lake> {
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
        let lock = match lock.try_lock() {
            Ok(()) => lock,
            Err(fs::TryLockError::WouldBlock) if wait => {
                crate::progress::note(&format!(
                    "another trailscope process is writing to the lake {}; waiting for it to finish",
                    root.display()
                ));
                tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
                    .await
                    .context("waiting for the lake's lock")?
                    .with_context(|| format!("locking {}", lock_path.display()))?
            }
            Err(fs::TryLockError::WouldBlock) => bail!(
                "another trailscope process is writing to the lake {}; wait for it to finish",
                root.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", lock_path.display()));
            }
        };
        // Runs of the earlier format that were committed but not finished complete first, so
        // that a conversion sees all of them.
        finish_marked_runs(root)?;
        let table = match delta::load(root, None).await? {
            Some(t) => t,
            None => convert(root).await?,
        };
        let mut lake = Lake {
            root: root.to_path_buf(),
            table,
            remote: None,
            _lock: Some(lock),
        };
        lake.recover().await?;
        Ok(lake)
    }

    /// Opens the lake at `loc`: [`Lake::open_waiting`] on disk; in S3, the table (created when
    /// the lake is new) and a scratch directory holding the bookkeeping of its committed runs.
    pub async fn open_at(loc: &Location) -> Result<Lake> {
        let s3 = match loc {
            Location::Local(dir) => return Lake::open_waiting(dir).await,
            Location::S3(s3) => s3.clone(),
        };
        s3.lock().await?;
        let table = match delta::open_or_create_at(loc).await {
            Ok(t) => t,
            Err(e) => {
                s3.unlock().await;
                return Err(e);
            }
        };
        let lake = Lake {
            root: scratch_dir()?,
            table,
            remote: Some(s3.clone()),
            _lock: None,
        };
        fetch_committed(&s3, &lake.table, &lake.root).await?;
        Ok(lake)
    }

    /// The lake in S3 this lake is, if it is one.
    pub fn remote(&self) -> Option<&std::sync::Arc<remote::S3Lake>> {
        self.remote.as_ref()
    }

    /// Where the lake lives.
    pub fn location(&self) -> Location {
        match &self.remote {
            Some(s3) => Location::S3(s3.clone()),
            None => Location::Local(self.root.clone()),
        }
    }

    /// The lake's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The table at the version the lake was opened at (or last reloaded).
    pub fn table(&self) -> &DeltaTable {
        &self.table
    }

    /// Reads the table's latest version again, after a commit.
    pub async fn reload(&mut self) -> Result<()> {
        self.table = delta::load_at(&self.location(), None)
            .await?
            .context("the lake's table vanished")?;
        Ok(())
    }

    /// The table's data files, grouped by partition directory (relative to the lake root), as
    /// absolute paths: what de-duplication reads.
    pub fn files_by_partition(&self) -> Result<HashMap<String, Vec<PathBuf>>> {
        let table_dir = self.root.join(TABLE_DIR);
        let mut out: HashMap<String, Vec<PathBuf>> = HashMap::new();
        for f in delta::files(&self.table)? {
            out.entry(partition_dir(&f.partition))
                .or_default()
                .push(table_dir.join(&f.path));
        }
        Ok(out)
    }

    /// Starts a run: a fresh staging directory.
    pub fn begin(&self, run_id: &str) -> Result<Txn> {
        let dir = self.root.join(META_DIR).join(STAGING_DIR).join(run_id);
        fs::create_dir_all(dir.join(TREE_DIR))
            .with_context(|| format!("creating the staging directory {}", dir.display()))?;
        Ok(Txn {
            root: self.root.clone(),
            dir,
            run_id: run_id.to_owned(),
            remote: self.remote.clone(),
        })
    }

    /// Finishes the bookkeeping of runs the Delta log holds and removes every file of runs it
    /// does not.
    async fn recover(&mut self) -> Result<()> {
        let staging = self.root.join(META_DIR).join(STAGING_DIR);
        let dirs = list_dir(&staging)?;
        if dirs.is_empty() {
            return Ok(());
        }
        let committed: BTreeSet<String> = delta::committed_runs(&self.table).await?;
        for dir in dirs {
            let run = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if committed.contains(&run) {
                log::warn!(
                    "finishing the bookkeeping of run {run}, which committed before it was interrupted"
                );
                roll_forward(&self.root, &dir, &mut Vec::new())?;
            } else {
                log::info!(
                    "removing the files of run {run}, which was interrupted before it committed"
                );
                remove_moved(&self.root, &dir)?;
            }
            fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the staging directory {}", dir.display()))?;
        }
        Ok(())
    }
}

/// Finishes runs of the format before Delta that wrote their commit marker but were cut short.
fn finish_marked_runs(root: &Path) -> Result<()> {
    if delta::exists(root) {
        return Ok(());
    }
    for dir in list_dir(&root.join(META_DIR).join(STAGING_DIR))? {
        if dir.join(COMMIT_MARKER).exists() {
            log::warn!(
                "finishing the commit of an interrupted run ({})",
                dir.display()
            );
            roll_forward(root, &dir, &mut Vec::new())?;
            fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the staging directory {}", dir.display()))?;
        }
    }
    Ok(())
}

/// Makes the lake's table a Delta table: an empty one for a new lake, or one whose first commit
/// adds, unchanged, every Parquet file a lake of the earlier format holds.
async fn convert(root: &Path) -> Result<DeltaTable> {
    let table_dir = root.join(TABLE_DIR);
    let found: Vec<PathBuf> = files_under(&table_dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    let mut files = Vec::new();
    let mut rows_before = 0u64;
    for p in &found {
        let rel = p
            .strip_prefix(&table_dir)
            .context("a table file outside the table")?
            .to_string_lossy()
            .replace('\\', "/");
        let Some(partition) = delta::partition_of(&rel) else {
            log::warn!(
                "{} is not in a partition directory; it stays out of the table",
                p.display()
            );
            continue;
        };
        let f = File::open(p).with_context(|| format!("opening {}", p.display()))?;
        let size = f
            .metadata()
            .with_context(|| format!("reading {}", p.display()))?
            .len();
        let reader = parquet::file::reader::SerializedFileReader::new(f)
            .with_context(|| format!("reading the Parquet footer of {}", p.display()))?;
        let rows = parquet::file::reader::FileReader::metadata(&reader)
            .file_metadata()
            .num_rows() as u64;
        rows_before += rows;
        files.push(delta::NewFile {
            path: rel,
            partition,
            size,
            rows,
            time_range: None,
        });
    }
    let runs: Vec<String> = manifest::read_runs(root)?
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    let mut info = HashMap::new();
    info.insert(
        delta::KIND_KEY.to_owned(),
        serde_json::json!(if files.is_empty() {
            "create"
        } else {
            "convert"
        }),
    );
    if !runs.is_empty() {
        info.insert(
            delta::CONVERTED_RUNS_KEY.to_owned(),
            serde_json::json!(runs),
        );
    }
    if !files.is_empty() {
        log::warn!(
            "converting the lake {} to a Delta table: {} files, {rows_before} events, none rewritten",
            root.display(),
            files.len()
        );
    }
    let table = delta::create(root, &files, info).await?;
    let after = delta::files(&table)?;
    let rows_after: u64 = after.iter().filter_map(|f| f.rows).sum();
    if after.len() != files.len() || rows_after != rows_before {
        bail!(
            "converting {} to a Delta table: the new log lists {} files and {rows_after} events, \
             the directory held {} files and {rows_before}; the files are untouched, remove \
             {}/_delta_log to try again",
            root.display(),
            after.len(),
            files.len(),
            table_dir.display()
        );
    }
    Ok(table)
}

/// One run's staged files. Dropping it without [`Txn::commit`] leaves the lake as it was.
pub struct Txn {
    root: PathBuf,
    dir: PathBuf,
    run_id: String,
    remote: Option<std::sync::Arc<remote::S3Lake>>,
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

    /// Makes the run part of the lake, all or nothing: moves its data files into the table's
    /// directory, adds them to the table in one Delta commit (carrying the run id and `ledger`),
    /// then moves its bookkeeping into place. Returns the table version it made.
    pub async fn commit(
        self,
        table: &DeltaTable,
        files: &[writer::WrittenFile],
        ledger: serde_json::Value,
    ) -> Result<u64> {
        let table_prefix = format!("{TABLE_DIR}/");
        let mut new_files = Vec::with_capacity(files.len());
        let mut list = String::new();
        for f in files {
            let rel = f
                .relative
                .strip_prefix(&table_prefix)
                .with_context(|| format!("{} is not a table file", f.relative))?;
            let partition = delta::partition_of(rel)
                .with_context(|| format!("{} is not in a partition directory", f.relative))?;
            let staged = self.dir.join(TREE_DIR).join(&f.relative);
            let size = fs::metadata(&staged)
                .with_context(|| format!("reading {}", staged.display()))?
                .len();
            new_files.push(delta::NewFile {
                path: rel.to_owned(),
                partition,
                size,
                rows: f.rows,
                time_range: f.time_range,
            });
            list.push_str(&f.relative);
            list.push('\n');
        }
        if let Some(s3) = self.remote.clone() {
            return self.commit_s3(&s3, table, &new_files, ledger).await;
        }
        // Recovery removes exactly these if the run never reaches its Delta commit.
        write_synced(&self.dir.join(MOVED_LIST), list.as_bytes())?;
        sync_dir(&self.dir);
        let mut moved = Vec::new();
        let tree = self.dir.join(TREE_DIR);
        if let Err(e) = move_subtree(&self.root, &tree, TABLE_DIR, &mut moved) {
            return Err(self.undo(e, &moved));
        }
        let version = match delta::commit_run(table, &new_files, &self.run_id, ledger).await {
            Ok(v) => v,
            Err(e) => return Err(self.undo(e, &moved)),
        };
        failpoint("committing");
        roll_forward(&self.root, &self.dir, &mut Vec::new()).with_context(|| {
            format!(
                "run {} is committed (table version {version}), but its manifest was not moved \
                 into place; the next trailscope command finishes it",
                self.run_id
            )
        })?;
        fs::remove_dir_all(&self.dir)
            .with_context(|| format!("removing the staging directory {}", self.dir.display()))?;
        Ok(version)
    }

    /// The commit of a run into a lake in S3: uploads the data files (no reader sees them until
    /// the commit), then the run's bookkeeping (trusted only for committed runs), then makes the
    /// Delta commit with S3's conditional write.
    async fn commit_s3(
        self,
        s3: &remote::S3Lake,
        table: &DeltaTable,
        files: &[delta::NewFile],
        ledger: serde_json::Value,
    ) -> Result<u64> {
        let tree = self.dir.join(TREE_DIR);
        let mut staged = Vec::new();
        for p in files_under(&tree)? {
            let key = p
                .strip_prefix(&tree)
                .context("a staged file outside the staging tree")?
                .to_string_lossy()
                .replace('\\', "/");
            staged.push((p, key));
        }
        // Data first, bookkeeping second: a crash between them leaves only invisible files.
        staged.sort_by_key(|(_, k)| !k.starts_with(&format!("{TABLE_DIR}/")));
        let mut uploaded = Vec::new();
        let mut result = Ok(());
        for (path, key) in &staged {
            if let Err(e) = s3.upload(path, key).await {
                result = Err(e);
                break;
            }
            uploaded.push(key.clone());
            failpoint("moving");
        }
        let version = match result {
            Ok(()) => delta::commit_run(table, files, &self.run_id, ledger).await,
            Err(e) => Err(e),
        };
        let version = match version {
            Ok(v) => v,
            Err(e) => {
                for key in &uploaded {
                    s3.delete(key).await;
                }
                let _ = fs::remove_dir_all(&self.dir);
                return Err(e.context(format!(
                    "committing the run to {} failed; the lake is as it was",
                    s3.uri
                )));
            }
        };
        failpoint("committing");
        fs::remove_dir_all(&self.dir)
            .with_context(|| format!("removing the staging directory {}", self.dir.display()))?;
        Ok(version)
    }

    /// Puts moved files back after a failed commit (not a crash), so no part of the run stays
    /// where other engines read, and discards the run.
    fn undo(self, e: anyhow::Error, moved: &[(PathBuf, PathBuf)]) -> anyhow::Error {
        let result = roll_back(moved).and_then(|()| {
            fs::remove_dir_all(&self.dir)
                .with_context(|| format!("removing {}", self.dir.display()))
        });
        match result {
            Ok(()) => e.context("committing the run failed; the lake is as it was"),
            Err(undo) => e.context(format!(
                "committing the run failed, and undoing it failed too ({undo:#}); no reader sees \
                 the run's files, and the next trailscope command removes them"
            )),
        }
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

/// Removes the data files an uncommitted run moved into the table's directory.
fn remove_moved(root: &Path, dir: &Path) -> Result<()> {
    let list = match fs::read_to_string(dir.join(MOVED_LIST)) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(e).with_context(|| format!("reading {}", dir.join(MOVED_LIST).display()));
        }
    };
    for rel in list.lines().filter(|l| !l.is_empty()) {
        let p = root.join(rel);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", p.display())),
        }
    }
    Ok(())
}

/// Moves the files of a failed commit back to staging, newest first.
fn roll_back(moved: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (staged, dest) in moved.iter().rev() {
        fs::rename(dest, staged)
            .with_context(|| format!("moving {} back to {}", dest.display(), staged.display()))?;
    }
    Ok(())
}

/// Moves every staged file of the run in `dir` into the lake. Idempotent: files already moved
/// are simply absent.
fn roll_forward(root: &Path, dir: &Path, moved: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    move_subtree(root, &dir.join(TREE_DIR), "", moved)
}

/// Moves the staged files under `tree/<sub>` to the same place under `root`, noting each move in
/// `moved` (staged path, final path).
fn move_subtree(
    root: &Path,
    tree: &Path,
    sub: &str,
    moved: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    let mut stack = vec![if sub.is_empty() {
        tree.to_path_buf()
    } else {
        tree.join(sub)
    }];
    let mut touched_dirs = Vec::new();
    while let Some(d) = stack.pop() {
        for path in list_dir(&d)? {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(tree)
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

/// Every file under `dir`, at any depth, sorted; none when it does not exist.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for p in list_dir(&d)? {
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
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

/// A new scratch directory for the bookkeeping of a lake in S3.
fn scratch_dir() -> Result<PathBuf> {
    let root =
        std::env::temp_dir().join(format!("trailscope-lake-{}", uuid::Uuid::new_v4().simple()));
    fs::create_dir_all(root.join(META_DIR))
        .with_context(|| format!("creating the scratch directory {}", root.display()))?;
    Ok(root)
}

/// Downloads the manifests and ledgers of the runs `table` has committed into `root`: a run that
/// died before its commit left bookkeeping that no reader may trust.
async fn fetch_committed(s3: &remote::S3Lake, table: &DeltaTable, root: &Path) -> Result<()> {
    let committed = delta::committed_runs(table).await?;
    for dir in [manifest::MANIFEST_DIR, manifest::RUNS_DIR] {
        let prefix = format!("{META_DIR}/{dir}");
        for key in s3.list(&prefix).await? {
            // Run ids carry a '.' (fractional seconds): only the file's extension is cut off.
            let name = key.rsplit('/').next().unwrap_or_default();
            let run = name
                .strip_suffix(".jsonl")
                .or_else(|| name.strip_suffix(".json"))
                .unwrap_or(name);
            if committed.contains(run) {
                s3.download(&key, &root.join(&key)).await?;
            }
        }
    }
    Ok(())
}

/// A lake's bookkeeping as files on this machine, for a command that reads it and replaces files
/// beside the table without making a run (`verify`). On disk it is the lake directory itself. In
/// S3 it is a scratch copy of the committed runs' manifests and ledgers, the saved public keys
/// and the latest verdicts, removed when dropped; [`Bookkeeping::publish`] puts a file the
/// command replaced back into the lake.
pub struct Bookkeeping {
    root: PathBuf,
    remote: Option<std::sync::Arc<remote::S3Lake>>,
}

impl Drop for Bookkeeping {
    fn drop(&mut self) {
        if self.remote.is_some() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

impl Bookkeeping {
    /// The bookkeeping of the lake at `loc`, or `None` when there is no lake there.
    pub async fn fetch(loc: &Location) -> Result<Option<Bookkeeping>> {
        let s3 = match loc {
            Location::Local(dir) => {
                return Ok(is_lake(dir).then(|| Bookkeeping {
                    root: dir.clone(),
                    remote: None,
                }));
            }
            Location::S3(s3) => s3.clone(),
        };
        let Some(table) = delta::load_at(loc, None).await? else {
            return Ok(None);
        };
        let book = Bookkeeping {
            root: scratch_dir()?,
            remote: Some(s3.clone()),
        };
        fetch_committed(&s3, &table, &book.root).await?;
        for file in [digests::KEYS_FILE, digests::RESULTS_FILE] {
            if let Some(bytes) = s3.get(file).await? {
                let to = book.root.join(file);
                if let Some(d) = to.parent() {
                    fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                }
                fs::write(&to, &bytes).with_context(|| format!("writing {}", to.display()))?;
            }
        }
        Ok(Some(book))
    }

    /// The directory that stands for the lake.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Puts `path`, a file under [`Bookkeeping::root`], where the lake keeps it, and says where
    /// that is.
    pub async fn publish(&self, path: &Path) -> Result<String> {
        let Some(s3) = &self.remote else {
            return Ok(path.display().to_string());
        };
        let key = path
            .strip_prefix(&self.root)
            .with_context(|| format!("{} is not part of the lake", path.display()))?
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        s3.upload(path, &key).await?;
        Ok(format!("{}/{key}", s3.uri))
    }
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

    #[tokio::test]
    async fn uncommitted_runs_vanish_and_committed_ones_complete() {
        let dir = tempfile::tempdir().unwrap();
        let data = "cloudtrail/account=1/region=r/day=2024-01-01/a.parquet";
        {
            let lake = Lake::open(dir.path()).await.unwrap();
            // Run a: its data file moved into the table, then a crash before the Delta commit.
            let a = lake.begin("run-a").unwrap();
            write_synced(&a.path(data).unwrap(), b"a").unwrap();
            write_synced(&a.dir.join(MOVED_LIST), format!("{data}\n").as_bytes()).unwrap();
            let mut moved = Vec::new();
            move_subtree(&a.root, &a.dir.join(TREE_DIR), TABLE_DIR, &mut moved).unwrap();
            assert!(dir.path().join(data).exists());
            // Run b: committed to the log, then a crash before its manifest moved.
            let b = lake.begin("run-b").unwrap();
            write_synced(&b.path("_trailscope/manifest/run-b.jsonl").unwrap(), b"{}").unwrap();
            delta::commit_run(lake.table(), &[], "run-b", serde_json::json!({}))
                .await
                .unwrap();
            std::mem::forget(a);
            std::mem::forget(b);
        }
        let _lake = Lake::open(dir.path()).await.unwrap();
        assert!(
            !dir.path().join(data).exists(),
            "an uncommitted run's file stays"
        );
        assert_eq!(
            fs::read(dir.path().join("_trailscope/manifest/run-b.jsonl")).unwrap(),
            b"{}"
        );
        assert!(
            list_dir(&dir.path().join(META_DIR).join(STAGING_DIR))
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Lake::open(dir.path()).await.unwrap();
        let err = Lake::open(dir.path()).await.err().unwrap().to_string();
        assert!(err.contains("another trailscope process"), "{err}");
    }
}
