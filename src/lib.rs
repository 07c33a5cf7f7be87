//! trailscope: a CloudTrail forensic query engine.
//!
//! # Code map
//!
//! Every folder is a section of the README or a command. Dependencies run one way, from the top
//! of this list to the bottom; nothing imports a module above its own layer (a test,
//! `architecture` in `tests/`, fails when something does).
//!
//! | layer | module | what it does for the responder |
//! |---|---|---|
//! | front ends | [`cmd`] | one file per subcommand: its arguments, its `run`, its exit status |
//! | | [`repl`] | the interactive SQL shell: its loop, its backslash commands, completion |
//! | | [`synth`] | the generator of realistic CloudTrail (sample logs, tests, benchmarks) |
//! | wings | [`investigate`] | credential chains, trace, timeline, summary |
//! | | [`detect`] | rule format, catalogue, lint, running rules, findings and their reports |
//! | | [`verify`] | digest files, signatures, judging the chain and the logs, the verdicts |
//! | | [`query`] | DataFusion over the lake: session, read-only check, execution, output, SQL functions |
//! | | [`ingest`] | raw object to committed run: decode, records, conversion, restore, report, cache lake |
//! | shared leaves | [`lake`] | the Delta table on disk or in S3: commits, versions, compaction, manifest, ledger, quarantine, kept digests |
//! | | [`source`] | S3 and local sources: listing by the key layout, fetching |
//! | | [`schema`] | the only place that names columns and types |
//! | | [`time`] | every CloudTrail time form and every `--since`/`--until` form |
//! | | [`progress`] | progress bars and log lines on stderr |
//!
//! Within the wings the order is the table's: `investigate` may use `detect`, `verify`,
//! `query` and `ingest`; `detect` may use `verify` (for evidence), `query` and `ingest`; and so
//! on down. A wing that must put something into a lower wing's work (the `credential_chains`
//! table into every query session) hands it over as a value, rather than being imported.

pub mod cmd;
pub mod detect;
pub mod ingest;
pub mod investigate;
pub mod lake;
pub mod progress;
pub mod query;
pub mod repl;
pub mod schema;
pub mod source;
pub mod synth;
pub mod time;
pub mod verify;
