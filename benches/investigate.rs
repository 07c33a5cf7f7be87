//! Investigation benchmark: `trace`, `timeline` and the `credential_chains` table over the lake of
//! the generated 1,000,000-event corpus (the detect benchmark's lake, built on first use by
//! `cargo bench --bench detect`, or here), by the release binary, warm; median of the runs.
//!
//! `cargo bench --bench investigate -- [--runs 5]`
//!
//! Not a test: nothing here asserts a time.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

mod common;
use common::{ingest_once, median};

fn main() {
    let mut runs = 5usize;
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        if x == "--runs" {
            runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N");
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let lake = root.join("bench-lake-detect-1000000");
    let bin = env!("CARGO_BIN_EXE_trailscope");
    let corpus = root.join("bench-corpus-1000000");
    assert!(
        lake.exists() || corpus.exists(),
        "run `cargo bench --bench detect` first: it generates the corpus and the lake"
    );
    ingest_once(&corpus, &lake, &[]);
    let l = lake.to_str().expect("utf-8").to_owned();
    let sql = |q: &str| {
        let out = Command::new(bin)
            .args(["sql", "--lake", &l, "--format", "csv", "-e", q])
            .output()
            .expect("sql");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap_or("")
            .to_owned()
    };
    // A temporary key with the deepest chain, and the busiest actor.
    let key = sql(
        "SELECT access_key FROM credential_chains WHERE depth > 0 ORDER BY depth DESC, access_key LIMIT 1",
    );
    let actor = sql(
        "SELECT actor(useridentity) AS a FROM cloudtrail GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    );
    let time = |args: &[&str]| {
        let mut cmd = Command::new(bin);
        cmd.args(args).args(["--lake", &l]);
        let _ = cmd.output(); // warm-up
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    let out = cmd.output().expect("running trailscope");
                    assert!(
                        out.status.code().is_some_and(|c| c <= 1),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    println!("investigate, 1,000,002-event lake, median of {runs} warm runs:");
    println!("  trace {key}: {:.2} s", time(&["trace", &key]));
    println!(
        "  timeline --key {key} --no-detections: {:.2} s",
        time(&["timeline", "--key", &key, "--no-detections"])
    );
    println!(
        "  timeline --actor user/alice --no-detections: {:.2} s",
        time(&["timeline", "--actor", "user/alice", "--no-detections"])
    );
    println!(
        "  timeline --actor {actor} (the busiest) --no-detections: {:.2} s",
        time(&["timeline", "--actor", &actor, "--no-detections"])
    );
    println!(
        "  timeline --key {key} (detections marked): {:.2} s",
        time(&["timeline", "--key", &key])
    );
    println!(
        "  credential_chains over all keys: {:.2} s",
        time(&[
            "sql",
            "--format",
            "csv",
            "-e",
            "SELECT origin_type, count(*) FROM credential_chains GROUP BY 1"
        ])
    );
    println!(
        "  summary (all actors, detections): {:.2} s",
        time(&["summary"])
    );
}
