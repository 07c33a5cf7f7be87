//! trailscope: a CloudTrail forensic query engine.
//!
//! The library holds the pipeline, one module per step:
//! `source` (list and fetch objects) → `decode` (gzip) → `record` (find records) →
//! `batch` (Arrow rows, per partition) → `lake` (Parquet files, manifest, quarantine).
//! `ingest` drives the pipeline, `restore` turns stored rows back into CloudTrail JSON,
//! `session` puts DataFusion over the lake and `output` prints results, `verify` proves the logs
//! against CloudTrail's signed digest files, and `cmd` holds one module per subcommand of the
//! binary.

pub mod batch;
pub mod chains;
pub mod cmd;
pub mod decode;
pub mod detect;
pub mod exec;
pub mod functions;
pub mod ingest;
pub mod jsontext;
pub mod lake;
pub mod ledger;
pub mod output;
pub mod packs;
pub mod progress;
pub mod record;
pub mod repl;
pub mod report;
pub mod restore;
pub mod schema;
pub mod session;
pub mod source;
pub mod synth;
pub mod timeline;
pub mod verify;
