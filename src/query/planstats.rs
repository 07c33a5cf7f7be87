//! Query step: the per-file statistics the `cloudtrail` table keeps for planning.
//!
//! Input: the statistics DataFusion's listing table works out for each Parquet file (once per
//! session, through the session's cache). Output: the same statistics without the smallest and
//! largest values of nested columns (`useridentity`, `resources`, ...). A plan merges the
//! statistics of every file on every scan; comparing struct values field by field made that
//! merge a tenth of all the work of `detect`, and no filter, join or pruning decision reads a
//! struct's minimum. Row counts, sizes, null counts and the bounds of flat columns stay.
//!
//! This module does not prune files; Parquet footers and page indexes still do that per file.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::{HashMap, Result as DfResult, Statistics, TableReference};
use datafusion::execution::cache::cache_manager::{CachedFileMetadata, FileStatisticsCache};
use datafusion::execution::cache::{Cache, CacheEntryInfo, TableScopedPath};

/// A statistics cache that stores what planning reads (see the module's header).
pub struct PlanStatistics {
    inner: Arc<FileStatisticsCache>,
    nested: Vec<usize>,
}

impl PlanStatistics {
    /// Statistics of files of `schema`, kept in `inner`.
    pub fn new(inner: Arc<FileStatisticsCache>, schema: &SchemaRef) -> PlanStatistics {
        let nested = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.data_type().is_nested())
            .map(|(i, _)| i)
            .collect();
        PlanStatistics { inner, nested }
    }

    fn trimmed(&self, statistics: &Statistics) -> Statistics {
        let mut s = statistics.clone();
        for &i in &self.nested {
            if let Some(c) = s.column_statistics.get_mut(i) {
                c.min_value = Precision::Absent;
                c.max_value = Precision::Absent;
            }
        }
        s
    }
}

impl Cache<TableScopedPath, CachedFileMetadata> for PlanStatistics {
    fn get(&self, key: &TableScopedPath) -> Option<CachedFileMetadata> {
        self.inner.get(key)
    }

    fn put(
        &self,
        key: &TableScopedPath,
        mut value: CachedFileMetadata,
    ) -> Option<CachedFileMetadata> {
        value.statistics = Arc::new(self.trimmed(&value.statistics));
        self.inner.put(key, value)
    }

    fn remove(&self, key: &TableScopedPath) -> Option<CachedFileMetadata> {
        self.inner.remove(key)
    }

    fn contains_key(&self, key: &TableScopedPath) -> bool {
        self.inner.contains_key(key)
    }

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn clear(&self) {
        self.inner.clear()
    }

    fn name(&self) -> String {
        format!("trailscope plan statistics over {}", self.inner.name())
    }

    fn cache_limit(&self) -> usize {
        self.inner.cache_limit()
    }

    fn update_cache_limit(&self, limit: usize) {
        self.inner.update_cache_limit(limit)
    }

    fn cache_ttl(&self) -> Option<Duration> {
        self.inner.cache_ttl()
    }

    fn update_cache_ttl(&self, ttl: Option<Duration>) {
        self.inner.update_cache_ttl(ttl)
    }

    fn drop_table_entries(&self, table: &TableReference) -> DfResult<()> {
        self.inner.drop_table_entries(table)
    }

    fn list_entries(&self) -> HashMap<TableScopedPath, CacheEntryInfo<CachedFileMetadata>> {
        self.inner.list_entries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::ScalarValue;
    use datafusion::common::stats::ColumnStatistics;
    use datafusion::execution::cache::default_cache::DefaultCache;

    #[test]
    fn only_the_bounds_of_nested_columns_are_dropped() {
        let schema = crate::schema::file_schema();
        let cache = PlanStatistics::new(Arc::new(DefaultCache::new(1 << 20)), &schema);
        let bounded = ColumnStatistics::new_unknown()
            .with_min_value(Precision::Exact(ScalarValue::from("a")))
            .with_max_value(Precision::Exact(ScalarValue::from("z")))
            .with_null_count(Precision::Exact(1));
        let stats = Statistics {
            num_rows: Precision::Exact(10),
            total_byte_size: Precision::Exact(100),
            column_statistics: vec![bounded.clone(); schema.fields().len()],
        };
        let trimmed = cache.trimmed(&stats);
        assert_eq!(trimmed.num_rows, Precision::Exact(10));
        assert!(!cache.nested.is_empty());
        for (i, field) in schema.fields().iter().enumerate() {
            let c = &trimmed.column_statistics[i];
            assert_eq!(c.null_count, Precision::Exact(1));
            if field.data_type().is_nested() {
                assert_eq!(c.min_value, Precision::Absent, "{}", field.name());
                assert_eq!(c.max_value, Precision::Absent, "{}", field.name());
            } else {
                assert_eq!(c.min_value, bounded.min_value, "{}", field.name());
            }
        }
    }
}
