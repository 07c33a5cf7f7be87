//! Lake step: one version of the table as a read-only object store that lists exactly that
//! version's files.
//!
//! Input: a loaded Delta table. Output: an [`ObjectStore`] whose listing is the files the table's
//! log holds at that version (no uncommitted, removed or foreign file), and whose reads go to the
//! table's own storage. The query session puts DataFusion's listing table over it, so partition
//! pruning, statistics, the page index and the lake's exact column types stay what they are for a
//! plain Parquet directory, while what is read is what the Delta log says.
//!
//! Every write through it fails: a session can never change the evidence through its tables.
//! This module does not decide the version; [`super::delta`] loads it.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result};
use deltalake::{DeltaTable, ObjectMeta, ObjectStore, Path};
use futures::stream::BoxStream;
use futures::{StreamExt, stream};
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, PutMultipartOptions,
    PutOptions, PutPayload, PutResult,
};

/// The files of one table version, read through the table's storage.
#[derive(Debug)]
pub struct SnapshotStore {
    inner: Arc<dyn ObjectStore>,
    files: Arc<Vec<ObjectMeta>>,
    version: u64,
}

impl SnapshotStore {
    /// The store of `table`'s loaded version.
    pub fn new(table: &DeltaTable) -> Result<SnapshotStore> {
        let snapshot = table.snapshot().context("the Delta table is not loaded")?;
        let mut files: Vec<ObjectMeta> = snapshot
            .log_data()
            .iter()
            .map(|f| ObjectMeta {
                location: f.object_store_path(),
                last_modified: chrono::DateTime::from_timestamp_millis(f.modification_time())
                    .unwrap_or_default(),
                size: f.size().max(0) as u64,
                e_tag: None,
                version: None,
            })
            .collect();
        files.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(SnapshotStore {
            inner: table.object_store(),
            files: Arc::new(files),
            version: table.version().unwrap_or(0),
        })
    }

    fn under(&self, prefix: Option<&Path>) -> Vec<ObjectMeta> {
        let prefix = prefix.map(|p| p.as_ref().trim_end_matches('/').to_owned());
        self.files
            .iter()
            .filter(|m| match &prefix {
                None => true,
                Some(p) if p.is_empty() => true,
                Some(p) => m
                    .location
                    .as_ref()
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/')),
            })
            .cloned()
            .collect()
    }
}

impl fmt::Display for SnapshotStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cloudtrail table version {} over {}",
            self.version, self.inner
        )
    }
}

fn read_only() -> object_store::Error {
    object_store::Error::NotSupported {
        source: "the lake's table is read-only in a query session".into(),
    }
}

#[async_trait::async_trait]
impl ObjectStore for SnapshotStore {
    async fn put_opts(
        &self,
        _location: &Path,
        _payload: PutPayload,
        _opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only())
    }

    async fn put_multipart_opts(
        &self,
        _location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only())
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[std::ops::Range<u64>],
    ) -> object_store::Result<Vec<bytes::Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        locations.map(|_| Err(read_only())).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        stream::iter(self.under(prefix).into_iter().map(Ok)).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let base = prefix
            .map(|p| p.as_ref().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let mut dirs = BTreeSet::new();
        let mut objects = Vec::new();
        for m in self.under(prefix) {
            let rest = if base.is_empty() {
                m.location.as_ref()
            } else {
                &m.location.as_ref()[base.len() + 1..]
            };
            match rest.split_once('/') {
                Some((dir, _)) => {
                    let full = if base.is_empty() {
                        dir.to_owned()
                    } else {
                        format!("{base}/{dir}")
                    };
                    dirs.insert(full);
                }
                None => objects.push(m),
            }
        }
        Ok(ListResult {
            common_prefixes: dirs.into_iter().map(Path::from).collect(),
            objects,
        })
    }

    async fn copy_opts(
        &self,
        _from: &Path,
        _to: &Path,
        _options: CopyOptions,
    ) -> object_store::Result<()> {
        Err(read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::delta::{self, NewFile};
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn lists_exactly_the_versions_files_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let t = delta::open_or_create(dir.path()).await.unwrap();
        let file = |p: &str| NewFile {
            path: p.into(),
            partition: delta::partition_of(p).unwrap(),
            size: 1,
            rows: 1,
            time_range: None,
        };
        let committed = "account=1/region=r/day=2024-01-01/a.parquet";
        delta::commit_run(&t, &[file(committed)], "run-1", serde_json::json!({}))
            .await
            .unwrap();
        // A file on disk that no commit added is not listed.
        let stray = dir
            .path()
            .join("cloudtrail/account=1/region=r/day=2024-01-02/b.parquet");
        std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
        std::fs::write(&stray, b"x").unwrap();
        let t = delta::load(dir.path(), None).await.unwrap().unwrap();
        let store = SnapshotStore::new(&t).unwrap();
        let all: Vec<ObjectMeta> = store.list(None).try_collect().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].location.as_ref(), committed);
        let top = store.list_with_delimiter(None).await.unwrap();
        assert_eq!(top.common_prefixes, vec![Path::from("account=1")]);
        let days = store
            .list_with_delimiter(Some(&Path::from("account=1/region=r")))
            .await
            .unwrap();
        assert_eq!(
            days.common_prefixes,
            vec![Path::from("account=1/region=r/day=2024-01-01")]
        );
        assert!(
            store
                .put(&Path::from("x"), b"y".to_vec().into())
                .await
                .is_err()
        );
    }
}
