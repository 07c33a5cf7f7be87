//! Every Stratus Red Team AWS technique, as one real detonation recorded it, is cited by a
//! finding of the built-in rules at low severity or above (the audit pack does not count).
//!
//! The recordings live beside the repository (`../shared/data/attacks/stratus/`, one JSON array
//! of records per technique), not in it; like the real-samples test, this one is ignored by a
//! plain `cargo test` and fails with a clear message under `--ignored` when they are absent.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::Value;
use trailscope::detect::{Overrides, Severity};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ../shared/data/attacks/stratus beside the repository; run with --ignored"]
async fn every_stratus_technique_is_cited_by_a_finding() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/attacks/stratus");
    assert!(
        dir.is_dir(),
        "{} is absent: the Stratus Red Team recordings cannot be checked",
        dir.display()
    );
    let lake = tempfile::tempdir().expect("a temporary directory");
    let opts =
        trailscope::ingest::Options::new(vec![dir.display().to_string()], lake.path().join("l"));
    let report = trailscope::ingest::run(&opts)
        .await
        .expect("the recordings ingest");
    assert!(
        report.failures.is_empty(),
        "every recording ingests cleanly"
    );
    let ctx = trailscope::query::session::open(&lake.path().join("l"))
        .await
        .expect("a session");
    let rules = trailscope::detect::builtin().expect("the built-in rules parse");
    let outcomes = trailscope::detect::run(&ctx, rules, &Overrides::default(), |_| {}).await;
    // eventID -> the rules that cite it at low or above.
    let mut cited: HashMap<String, HashSet<String>> = HashMap::new();
    for o in &outcomes {
        let findings = o
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("rule {} failed: {e:#}", o.rule.id));
        for f in findings
            .iter()
            .filter(|f| f.severity >= Severity::Low && f.pack != "audit")
        {
            for id in &f.eventids {
                cited
                    .entry(id.clone())
                    .or_default()
                    .insert(f.rule_id.clone());
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("listing the recordings")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 35, "the recordings hold 35 techniques");
    let mut missed = Vec::new();
    for file in &files {
        let records: Vec<Value> =
            serde_json::from_slice(&std::fs::read(file).expect("reading a recording"))
                .expect("a recording is a JSON array of records");
        let rules: HashSet<&String> = records
            .iter()
            .filter_map(|r| r["eventID"].as_str())
            .filter_map(|id| cited.get(id))
            .flatten()
            .collect();
        if rules.is_empty() {
            missed.push(
                file.file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    assert!(
        missed.is_empty(),
        "{} of 35 techniques cited; missed: {}",
        35 - missed.len(),
        missed.join(", ")
    );
}
