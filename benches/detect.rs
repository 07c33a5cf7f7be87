//! Detection benchmark: every built-in rule (`--min-severity info`, the audit pack included) over
//! the lake of a generated realistic organisation of 1,000,000 events (routine only, see
//! `realistic_config`), by the release binary; wall time (median of the runs), peak RSS of the
//! detect process, every rule's own time, and the noise: findings by severity, and medium or
//! above per 100,000 routine events (the budget is 1). Then, when Python's `duckdb` module is installed,
//! the same rule SQL run by DuckDB over the same Parquet files (`benches/duckdb_rules.py`), rules
//! it cannot run being left out, and trailscope timed on exactly the rules DuckDB ran.
//!
//! `cargo bench --bench detect -- [--events 1000000] [--runs 3]`
//!
//! Not a test: nothing here asserts a time.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use trailscope::synth::generate;

mod common;
use common::{events_and_runs, ingest_once, listed, median, realistic_config};

/// Runs `cmd` and returns (wall seconds, peak RSS in bytes, stdout, stderr), the RSS of that one
/// process (wait4), not of every child so far.
fn measure(cmd: &mut Command) -> (f64, u64, String, String) {
    let t = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the command");
    let pid = child.id() as libc::pid_t;
    let out = std::thread::spawn(move || {
        let mut child = child;
        let mut o = String::new();
        let mut e = String::new();
        use std::io::Read;
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_string(&mut o);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut e);
        }
        (o, e)
    });
    let (stdout, stderr) = out.join().expect("reader thread");
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child and writes into structs we own.
    unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let secs = t.elapsed().as_secs_f64();
    (secs, ru.ru_maxrss as u64 * 1024, stdout, stderr)
}

fn main() {
    let (events, runs) = events_and_runs(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let corpus = root.join(format!("bench-corpus-realistic-{events}"));
    if !corpus.exists() {
        let cfg = realistic_config(events);
        let s = generate(&cfg, &corpus).expect("generating the corpus");
        println!(
            "generated {} events, {:.0} bytes per event, gzip {:.1}:1",
            s.events,
            s.json_bytes as f64 / s.events as f64,
            s.json_bytes as f64 / s.gz_bytes as f64
        );
    }
    let bin = env!("CARGO_BIN_EXE_trailscope");
    let lake = root.join(format!("bench-lake-realistic-{events}"));
    ingest_once(&corpus, &lake, &[]);
    let lake_s = lake.to_str().expect("utf-8").to_owned();
    let detect = |extra: &[&str]| {
        let mut c = Command::new(bin);
        c.args([
            "detect",
            "-v",
            "--lake",
            &lake_s,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--min-severity",
            "info",
        ]);
        c.args(extra);
        c
    };
    // One warm-up run so every run reads from the page cache.
    let _ = measure(&mut detect(&[]));
    let mut times = Vec::new();
    let mut rss = 0;
    let mut last = (String::new(), String::new());
    for _ in 0..runs {
        let (t, r, o, e) = measure(&mut detect(&[]));
        times.push(t);
        rss = rss.max(r);
        last = (o, e);
    }
    let findings: Vec<serde_json::Value> =
        serde_json::from_str(&last.0).expect("detect prints JSON");
    let mut per_rule: Vec<(f64, String)> = last
        .1
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("info: rule ")?;
            let (id, tail) = rest.split_once(':')?;
            let secs: f64 = tail
                .split(" in ")
                .nth(1)?
                .trim_end_matches(" s")
                .parse()
                .ok()?;
            Some((secs, id.to_owned()))
        })
        .collect();
    per_rule.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "detect, all built-in rules, {events} events: median {:.2} s of {runs} ({})",
        median(times.clone()),
        listed(&times)
    );
    println!(
        "  peak RSS {:.0} MiB, {} findings, {} rules timed",
        rss as f64 / 1048576.0,
        findings.len(),
        per_rule.len()
    );
    println!("  slowest rules (run three at a time, so these overlap):");
    for (t, id) in per_rule.iter().take(8) {
        println!("    {t:>6.2} s  {id}");
    }
    // Every rule alone: one process per rule, the rule's own time as `-v` reports it (the
    // session start is not the rule's). The target is under 1 s for each.
    let mut alone: Vec<(f64, String)> = per_rule
        .iter()
        .filter_map(|(_, id)| {
            let (_, _, _, e) = measure(&mut detect(&["--rule", id]));
            let secs = e.lines().find_map(|l| {
                let rest = l.strip_prefix(&format!("info: rule {id}:"))?;
                rest.split(" in ")
                    .nth(1)?
                    .trim_end_matches(" s")
                    .parse()
                    .ok()
            })?;
            Some((secs, id.clone()))
        })
        .collect();
    alone.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "  every rule alone ({} rules, one process each): {} over 1 s; slowest:",
        alone.len(),
        alone.iter().filter(|(t, _)| *t >= 1.0).count()
    );
    for (t, id) in alone.iter().take(5) {
        println!("    {t:>6.2} s  {id}");
    }
    let mut by_severity = std::collections::BTreeMap::new();
    let mut loud = std::collections::BTreeMap::new();
    for f in &findings {
        let sev = f["severity"].as_str().unwrap_or("?").to_owned();
        if !matches!(sev.as_str(), "info" | "low") {
            *loud
                .entry(f["rule_id"].as_str().unwrap_or("?").to_owned())
                .or_insert(0) += 1;
        }
        *by_severity.entry(sev).or_insert(0) += 1;
    }
    let n_loud: usize = loud.values().sum();
    println!(
        "  noise: {by_severity:?}; medium or above: {n_loud} = {:.2} per 100,000 routine events {loud:?}",
        n_loud as f64 * 100_000.0 / events as f64
    );

    // DuckDB over the same Parquet, when it is installed.
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/duckdb_rules.py");
    let out = Command::new("python3")
        .args([script.to_str().expect("utf-8"), &lake_s, &runs.to_string()])
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        println!("duckdb: skipped (pip install duckdb to compare)");
        return;
    };
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let ran: Vec<String> = report["ran"]
        .as_array()
        .expect("ran")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    let mut args: Vec<String> = Vec::new();
    for id in &ran {
        args.push("--rule".into());
        args.push(id.clone());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let ours = median((0..runs).map(|_| measure(&mut detect(&refs)).0).collect());
    println!(
        "duckdb {}: {} of {} rules portable; on those rules duckdb {:.2} s (median of {runs}), trailscope {:.2} s (one process each, session start included)",
        report["version"].as_str().unwrap_or("?"),
        ran.len(),
        per_rule.len(),
        report["seconds"].as_f64().unwrap_or(f64::NAN),
        ours
    );
    let ours_counts: std::collections::BTreeMap<String, usize> =
        findings.iter().fold(Default::default(), |mut m, f| {
            *m.entry(f["rule_id"].as_str().unwrap_or("").to_owned())
                .or_default() += 1;
            m
        });
    let mut differ = Vec::new();
    for (id, n) in report["findings"].as_object().expect("findings") {
        let theirs = n.as_u64().unwrap_or(0) as usize;
        let mine = ours_counts.get(id).copied().unwrap_or(0);
        if theirs != mine {
            differ.push(format!("{id}: trailscope {mine}, duckdb {theirs}"));
        }
    }
    println!(
        "  finding counts that differ between the engines: {}",
        if differ.is_empty() {
            "none".into()
        } else {
            differ.join("; ")
        }
    );
    for (id, why) in report["skipped"].as_object().expect("skipped") {
        println!(
            "  not portable: {id}: {}",
            why.as_str().unwrap_or("").lines().next().unwrap_or("")
        );
    }
}
