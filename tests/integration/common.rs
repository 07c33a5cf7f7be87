//! Helpers shared by the integration tests: running the binary, reading a lake back, and an
//! S3-compatible server on 127.0.0.1 that records every request it serves.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use trailscope::lake::ledger::Ledger;

/// The AWS setup of every command a test runs: no profile files, no instance metadata, and the
/// credentials the S3 test server accepts.
pub const TEST_AWS: [(&str, &str); 6] = [
    ("AWS_CONFIG_FILE", "/nonexistent/aws-config"),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/aws-credentials",
    ),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST"),
    ("AWS_SECRET_ACCESS_KEY", "test-secret"),
    ("AWS_REGION", "us-east-1"),
];

/// Runs `trailscope` with the given arguments, isolated from the developer's AWS setup.
pub fn trailscope(args: &[&str]) -> Output {
    trailscope_with(args, &[])
}

/// Runs `trailscope` with extra environment variables.
pub fn trailscope_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with(args, env, None)
}

/// Runs `trailscope` with `input` on its standard input (a scripted shell session).
pub fn trailscope_stdin(args: &[&str], input: &str) -> Output {
    run_with(args, &[], Some(input))
}

fn run_with(args: &[&str], env: &[(&str, &str)], input: Option<&str>) -> Output {
    let mut cmd = Command::cargo_bin("trailscope").expect("the trailscope binary is built");
    if let Some(text) = input {
        cmd.write_stdin(text.to_owned());
    }
    cmd.args(args)
        .env_remove("TRAILSCOPE_LAKE")
        .env_remove("TRAILSCOPE_FAILPOINT")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3");
    for (k, v) in TEST_AWS.iter().chain(env) {
        cmd.env(k, v);
    }
    cmd.output().expect("trailscope runs")
}

/// Runs `trailscope` with the given arguments, asserts it succeeded, and reads its JSON output.
pub fn json_ok<T: serde::de::DeserializeOwned>(args: &[&str]) -> T {
    let out = trailscope(args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON output: {e}\n{}", describe(&out)))
}

/// Runs `trailscope ingest SOURCE --lake LAKE EXTRA…`.
pub fn ingest(source: &str, lake: &Path, extra: &[&str]) -> Output {
    let lake = lake.to_str().expect("a UTF-8 temporary path");
    let mut args = vec!["ingest", source, "--lake", lake];
    args.extend_from_slice(extra);
    trailscope(&args)
}

/// Runs `trailscope ingest SOURCE --lake LAKE` and asserts that every object was ingested.
pub fn ingest_ok(source: &Path, lake: &Path) {
    let out = ingest(source.to_str().expect("a UTF-8 temporary path"), lake, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

/// Exit code, stderr and stdout of a run, for assertion messages: stderr first, because it
/// says why, and stdout cut to its first 4 KB, so a long report cannot push the reason out of a
/// log that keeps only the head and tail of a failure.
pub fn describe(o: &Output) -> String {
    const KEEP: usize = 4096;
    let stdout = String::from_utf8_lossy(&o.stdout);
    let shown = match stdout.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}\n[… {} more bytes]", &stdout[..cut], stdout.len() - cut),
        None => stdout.into_owned(),
    };
    format!(
        "exit {:?}\n--- stderr\n{}\n--- stdout\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr),
        shown
    )
}

/// The ledger of the lake's newest run, checked to balance.
pub fn last_ledger(lake: &Path) -> Ledger {
    let runs = trailscope::lake::manifest::read_runs(lake).expect("run summaries");
    let ledger = runs.last().expect("at least one run").ledger.clone();
    ledger.check().expect("the ledger balances");
    ledger
}

/// Every Parquet file of a lake's table, as an outside reader of the Delta log sees it: the log's
/// JSON commits replayed in order (adds minus removes), without trailscope or the `deltalake`
/// crate.
pub fn parquet_files(lake: &Path) -> Vec<PathBuf> {
    let table = lake.join("cloudtrail");
    let mut commits: Vec<PathBuf> = std::fs::read_dir(table.join("_delta_log"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    commits.sort();
    let mut live = std::collections::BTreeSet::new();
    for c in commits {
        for line in std::fs::read_to_string(&c).unwrap().lines() {
            let action: Value = serde_json::from_str(line).unwrap();
            if let Some(path) = action["add"]["path"].as_str() {
                live.insert(path.to_owned());
            }
            if let Some(path) = action["remove"]["path"].as_str() {
                live.remove(path);
            }
        }
    }
    live.into_iter().map(|p| table.join(p)).collect()
}

/// Every row of a lake restored to its CloudTrail record, with the source URI beside it, sorted by
/// eventID.
pub fn restored(lake: &Path) -> Vec<(Value, String)> {
    use arrow::array::{Array, AsArray};
    let mut rows = Vec::new();
    for path in parquet_files(lake) {
        let f = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let uris = batch.column_by_name("source_uri").unwrap();
            let uris = arrow::compute::cast(uris, &arrow::datatypes::DataType::Utf8).unwrap();
            let uris = uris.as_string::<i32>();
            for (i, rec) in trailscope::ingest::restore::records(&batch)
                .unwrap()
                .into_iter()
                .enumerate()
            {
                assert!(uris.is_valid(i));
                rows.push((rec, uris.value(i).to_owned()));
            }
        }
    }
    rows.sort_by_key(|a| key(&a.0));
    rows
}

/// Restored records only, sorted by eventID.
pub fn records(lake: &Path) -> Vec<Value> {
    restored(lake).into_iter().map(|(v, _)| v).collect()
}

fn key(v: &Value) -> String {
    format!("{}|{}", v["eventID"], v["recipientAccountId"])
}

/// Generates a synthetic tree.
pub fn generate(dir: &Path, cfg: &trailscope::synth::Config) -> trailscope::synth::Stats {
    trailscope::synth::generate(cfg, dir).expect("generation")
}

pub use crate::s3server::S3Server;
