//! Query wing: DataFusion over the lake.
//!
//! Input: a lake directory. Output: a read-only SQL session and results written in the chosen
//! format. Every front end and every higher wing (detect, investigate) queries through here.
//!
//! - [`session`]: the session: table `cloudtrail`, the views of `queries/views/`, the
//!   `verification` table, the SQL functions, and the tables higher wings add;
//! - [`apis`]: the lake's table, whose scans skip the files that hold none of the APIs they
//!   ask for;
//! - [`planstats`]: the per-file statistics the lake's table keeps for planning;
//! - [`spans`]: the `account_spans` table (each account's first and last event), computed once;
//! - [`readonly`]: the check that no statement writes or reads outside the lake;
//! - [`exec`]: running statements from text, one after another, into a sink;
//! - [`explain`]: DataFusion's errors as one line with a hint;
//! - [`columns`]: reading result columns as text or numbers;
//! - [`output`]: the one output format and its writers;
//! - [`functions`]: trailscope's SQL functions (ARNs, IPs, Lambda names, Athena spellings);
//! - [`cluster`]: the same sessions on a Ballista cluster, and the cluster's own roles.
//!
//! This wing does not know rules, chains or digests.

pub mod apis;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod columns;
pub mod exec;
pub mod explain;
pub mod functions;
pub mod output;
pub mod planstats;
pub mod readonly;
pub mod session;
pub mod spans;
