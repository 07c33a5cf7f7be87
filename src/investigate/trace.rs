//! Trace: who is really behind an access key, role session or principal id, and every key and
//! session that origin spawned.
//!
//! Input: a session and what to trace (a key, an ARN or a principal id). Output: for each key it
//! stands for, the [`Chain`] up to its origin and the keys that origin issued, directly or through
//! others. This module does not print; [`super::render`] does.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use datafusion::prelude::SessionContext;

use super::chains::{self, Chain, Issue, KeyUser, Origin};
use crate::query::columns::text_column;

/// A key's chain and everything its origin spawned.
pub type Traced = (Chain, Vec<(usize, Issue)>);

/// The chains of every key `what` (a key, ARN or principal id) stands for; empty when nothing in
/// the lake matches.
pub async fn traces(ctx: &SessionContext, what: &str) -> Result<Vec<Traced>> {
    let issues = chains::issues(ctx).await?;
    let users = chains::key_users(ctx).await?;
    let keys = resolve(ctx, what, &issues, &users).await?;
    let lookup = |k: &str| users.get(k).cloned();
    Ok(keys
        .iter()
        .map(|k| {
            let chain = chains::trace_up(&issues, k, &lookup);
            let root = chain
                .hops
                .last()
                .and_then(|h| h.caller_key.clone())
                .filter(|_| !matches!(chain.origin, Origin::Missing { .. }))
                .unwrap_or_else(|| chain.key.clone());
            let spawned = chains::descendants(&issues, &root);
            (chain, spawned)
        })
        .collect())
}

/// The keys `what` stands for.
async fn resolve(
    ctx: &SessionContext,
    what: &str,
    issues: &BTreeMap<String, Issue>,
    users: &BTreeMap<String, KeyUser>,
) -> Result<Vec<String>> {
    if issues.contains_key(what) || users.contains_key(what) {
        return Ok(vec![what.to_owned()]);
    }
    let mut keys: Vec<String> = issues
        .values()
        .filter(|i| i.session_arn.as_deref() == Some(what))
        .map(|i| i.key.clone())
        .collect();
    let quoted = what.replace('\'', "''");
    let sql = format!(
        "SELECT DISTINCT useridentity.accesskeyid AS k FROM cloudtrail
         WHERE (useridentity.arn = '{quoted}' OR useridentity.principalid = '{quoted}')
           AND useridentity.accesskeyid IS NOT NULL"
    );
    let batches = ctx
        .sql(&sql)
        .await?
        .collect()
        .await
        .with_context(|| format!("finding the keys of {what}"))?;
    for b in &batches {
        keys.extend(text_column(b, 0)?.iter().flatten().map(str::to_owned));
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}
