//! Lake benchmark: a day of a realistic organisation's logs (four accounts, three regions,
//! `realistic_config` with one day) ingested the way a responder pulls them during an incident,
//! in 60 incremental runs by delivery time, against the same logs ingested in one run. For each
//! lake: the table's files and bytes, a query's time and all packs' time, by the release binary:
//!
//! - one run;
//! - 60 runs with `--no-compact` (what the lake degrades to without compaction);
//! - the same lake after `trailscope lake optimize`;
//! - 60 runs with the default automatic compaction.
//!
//! `cargo bench --bench lake -- [--events 250000] [--runs 3]`
//!
//! Not a test: nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use trailscope::synth::{Config, generate};

mod common;
use common::{events_and_runs, files, listed, median, realistic_config};

const RUNS: usize = 60;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailscope"));
    c.arg("-q").stdout(Stdio::null());
    c
}

fn ok(c: &mut Command) {
    let st = c.status().expect("running trailscope");
    assert!(st.code().is_some_and(|c| c < 2), "trailscope failed: {c:?}");
}

/// Time of `args` run `runs` times (wall seconds).
fn timed(args: &[&str], runs: usize) -> Vec<f64> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            ok(bin().args(args));
            t.elapsed().as_secs_f64()
        })
        .collect()
}

/// The delivery minute of the day in a CloudTrail key (`…_20240304T1205Z_…`).
fn minute_of_day(p: &Path) -> usize {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.split('_')
        .find_map(|part| {
            let t = part.split_once('T')?.1.strip_suffix('Z')?;
            let (h, m) = (
                t.get(..2)?.parse::<usize>().ok()?,
                t.get(2..4)?.parse::<usize>().ok()?,
            );
            Some(h * 60 + m)
        })
        .unwrap_or(0)
}

/// Table files and bytes, from `lake info --json`.
fn table_size(lake: &Path) -> (u64, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .args(["lake", "info", "--json", "--lake"])
        .arg(lake)
        .output()
        .expect("lake info");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("lake info JSON");
    (
        v["files"].as_u64().unwrap_or(0),
        v["bytes"].as_u64().unwrap_or(0),
    )
}

fn main() {
    let (events, runs) = events_and_runs(3);
    let events = if std::env::args().any(|a| a == "--events") {
        events
    } else {
        250_000
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let corpus = root.join(format!("bench-corpus-day-{events}"));
    if !corpus.exists() {
        let cfg = Config {
            days: 1,
            ..realistic_config(events)
        };
        generate(&cfg, &corpus).expect("generating the corpus");
    }
    let logs = files(&corpus, ".json.gz", false);
    // 60 delivery windows of 24 minutes: each run ingests what was delivered in its window.
    let slices = root.join(format!("bench-slices-{events}"));
    if !slices.exists() {
        for f in &logs {
            let i = (minute_of_day(f) * RUNS / (24 * 60)).min(RUNS - 1);
            let dest = slices
                .join(format!("{i:02}"))
                .join(f.strip_prefix(&corpus).expect("a corpus file"));
            std::fs::create_dir_all(dest.parent().expect("a parent")).expect("slice dir");
            std::fs::hard_link(f, &dest).expect("linking a slice");
        }
    }
    let lakes = root.join(format!("bench-lakes-{events}"));
    let _ = std::fs::remove_dir_all(&lakes);
    let one = lakes.join("one");
    let many = lakes.join("many-no-compact");
    let auto = lakes.join("many-auto");
    let t = Instant::now();
    ok(bin().arg("ingest").arg(&corpus).arg("--lake").arg(&one));
    let one_secs = t.elapsed().as_secs_f64();
    let mut many_secs = 0.0;
    let mut auto_secs = 0.0;
    for i in 0..RUNS {
        let s = slices.join(format!("{i:02}"));
        if !s.exists() {
            continue;
        }
        let t = Instant::now();
        ok(bin()
            .arg("ingest")
            .arg(&s)
            .arg("--lake")
            .arg(&many)
            .arg("--no-compact"));
        many_secs += t.elapsed().as_secs_f64();
        let t = Instant::now();
        ok(bin().arg("ingest").arg(&s).arg("--lake").arg(&auto));
        auto_secs += t.elapsed().as_secs_f64();
    }
    println!(
        "corpus: {events} events, {} objects, one day, 4 accounts x 3 regions; ingest in one run {one_secs:.2} s, in {RUNS} runs {many_secs:.2} s (no compaction) / {auto_secs:.2} s (automatic compaction)",
        logs.len()
    );
    let query = "SELECT eventsource, eventname, count(*) AS n FROM cloudtrail WHERE eventtime >= TIMESTAMP '2000-01-01T00:00:00Z' GROUP BY 1, 2 ORDER BY n DESC LIMIT 20";
    let measure = |label: &str, lake: &Path| {
        let l = lake.to_str().expect("a UTF-8 path");
        let (files, bytes) = table_size(lake);
        let q = timed(&["sql", "--lake", l, "-e", query], runs);
        let d = timed(&["detect", "--lake", l, "--min-severity", "info"], runs);
        println!(
            "{label:<34} {files:>6} files {:>8.1} MiB   query {:.3} s ({})   all packs {:.2} s ({})",
            bytes as f64 / (1 << 20) as f64,
            median(q.clone()),
            listed(&q),
            median(d.clone()),
            listed(&d),
        );
        (median(q), median(d))
    };
    let (q1, d1) = measure("one run", &one);
    let (qn, dn) = measure("60 runs, no compaction", &many);
    ok(bin().args(["lake", "optimize", "--lake"]).arg(&many));
    let (qo, dop) = measure("60 runs, then lake optimize", &many);
    let (qa, da) = measure("60 runs, automatic compaction", &auto);
    println!(
        "ratio to one run (query / all packs): no compaction {:.2}x / {:.2}x; optimized {:.2}x / {:.2}x; automatic {:.2}x / {:.2}x",
        qn / q1,
        dn / d1,
        qo / q1,
        dop / d1,
        qa / q1,
        da / d1
    );
}
