//! What the benchmarks share: the corpus they are measured on, their two options, and medians.
//! Each benchmark is its own binary and uses part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use trailscope::synth::Config;

#[path = "../../tests/integration/roles.rs"]
pub mod roles;
/// The S3 server the integration tests use, here with a delay per request.
#[path = "../../tests/integration/s3server.rs"]
pub mod s3server;

/// The median of some timings.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `--events N` and `--runs N` from the command line (cargo's own `--bench` is ignored).
pub fn events_and_runs(runs: usize) -> (usize, usize) {
    let (mut events, mut runs) = (1_000_000usize, runs);
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--events" => events = it.next().and_then(|v| v.parse().ok()).expect("--events N"),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            _ => {}
        }
    }
    (events, runs)
}

/// The corpus every benchmark uses: an organization trail, two accounts, three regions, 192
/// records per object, one object per account and region every five minutes or so.
pub fn corpus_config(events: usize) -> Config {
    Config {
        seed: 1,
        events,
        accounts: vec!["111122223333".into(), "444455556666".into()],
        regions: vec!["us-east-1".into(), "eu-west-1".into(), "us-west-2".into()],
        org: Some("o-a1b2c3d4e5".into()),
        days: (events / 330_000).max(3) as u32,
        events_per_object: 192,
        ..Config::default()
    }
}

/// The corpus the detection benchmark uses: a realistic organisation (four accounts, three
/// regions, a week) whose scheduled routine ([`Config::realistic`]) the rules must stay quiet on,
/// about 1.5 KB per event and 8:1 under gzip like real CloudTrail. No attack is planted.
pub fn realistic_config(events: usize) -> Config {
    Config {
        seed: 11,
        events,
        accounts: vec![
            "111111111111".into(),
            "222222222222".into(),
            "333333333333".into(),
            "444444444444".into(),
        ],
        regions: vec![
            "us-east-1".into(),
            "eu-west-1".into(),
            "ap-southeast-2".into(),
        ],
        org: Some("o-a1b2c3d4e5".into()),
        days: (events / 140_000).clamp(2, 30) as u32,
        events_per_object: 192,
        realistic: true,
        ..Config::default()
    }
}

/// Files under `dir` whose names end with `suffix`, digests included or not, sorted.
pub fn files(dir: &Path, suffix: &str, digests: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus directory") {
            let p = e.expect("entry").path();
            let name = p.to_string_lossy();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(suffix) && (digests || !name.contains("Digest")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Ingests `corpus` into `lake` with the benchmarked binary, unless the lake is there already.
pub fn ingest_once(corpus: &Path, lake: &Path, extra: &[&str]) {
    if lake.join("_trailscope").exists() {
        return;
    }
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .args(["-q", "ingest"])
        .arg(corpus)
        .arg("--lake")
        .arg(lake)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("ingesting");
    assert!(ok.success(), "ingest failed");
}

/// Timings as `1.23, 1.25, …`.
pub fn listed(times: &[f64]) -> String {
    times
        .iter()
        .map(|t| format!("{t:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
