//! Cluster benchmark: the overhead of running on a Ballista cluster against one machine, on the
//! same machine. A scheduler and two executors (one task slot each, so the cluster uses the same
//! two cores as a local session) are started from the release binary over the lake of the
//! realistic organisation (`target/bench-lake-realistic-<N>`, built by the detect benchmark's
//! code on first use); then, alternating local and cluster runs: one query (a `GROUP BY` over
//! every event) and every built-in rule (`detect --min-severity info`). Medians, the ratio, and a
//! check that both give the same findings.
//!
//! `cargo bench --bench cluster -- [--events 1000000] [--runs 3]`
//!
//! Not a test: nothing here asserts a time.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use trailscope::synth::generate;

mod common;
use common::roles::{self, Role, free_port_pair};
use common::{events_and_runs, ingest_once, listed, median, realistic_config};

fn role(bin: &str, args: &[&str]) -> Role {
    roles::start(bin, args, &[], Stdio::null())
}

/// Runs `cmd`, returns (seconds, stdout).
fn timed(cmd: &mut Command) -> (f64, String) {
    let t = Instant::now();
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .expect("running trailscope");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn main() {
    let (events, runs) = events_and_runs(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let corpus = root.join(format!("bench-corpus-realistic-{events}"));
    if !corpus.exists() {
        generate(&realistic_config(events), &corpus).expect("generating the corpus");
    }
    let lake = root.join(format!("bench-lake-realistic-{events}"));
    ingest_once(&corpus, &lake, &[]);
    let lake = lake.to_str().expect("utf-8").to_owned();
    let bin = env!("CARGO_BIN_EXE_trailscope");

    let port = free_port_pair();
    let sched = format!("127.0.0.1:{port}");
    let at = format!("df://{sched}");
    let _scheduler = role(bin, &["cluster", "scheduler", "--bind", &sched]);
    let executors: Vec<Role> = (0..2)
        .map(|_| {
            let args = roles::executor_args(&sched, 1);
            role(bin, &args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .collect();
    if let Err(out) = roles::wait_for_executors(bin, &at, executors.len()) {
        panic!("the cluster did not come up: {out:?}");
    }

    let query = "SELECT eventsource, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY n DESC";
    let sql = |cluster: bool| {
        let mut c = Command::new(bin);
        c.args(["sql", "--lake", &lake, "--format", "csv", "-e", query]);
        if cluster {
            c.args(["--cluster", &at]);
        }
        c
    };
    let detect = |cluster: bool| {
        let mut c = Command::new(bin);
        c.args([
            "detect",
            "--lake",
            &lake,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--min-severity",
            "info",
        ]);
        if cluster {
            c.args(["--cluster", &at]);
        }
        c
    };
    // Warm-up: the page cache, and the executors' first sessions.
    let _ = timed(&mut sql(false));
    let _ = timed(&mut sql(true));
    let (mut q_local, mut q_cluster, mut d_local, mut d_cluster) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut same = true;
    for _ in 0..runs {
        let (t, a) = timed(&mut sql(false));
        q_local.push(t);
        let (t, b) = timed(&mut sql(true));
        q_cluster.push(t);
        same &= a == b;
        let (t, a) = timed(&mut detect(false));
        d_local.push(t);
        let (t, b) = timed(&mut detect(true));
        d_cluster.push(t);
        same &= a == b;
    }
    let (ql, qc, dl, dc) = (
        median(q_local.clone()),
        median(q_cluster.clone()),
        median(d_local.clone()),
        median(d_cluster.clone()),
    );
    println!(
        "cluster (a scheduler and two 1-slot executors on this machine) against one machine, {events} events, median of {runs}:"
    );
    println!(
        "  one query:  local {ql:.2} s ({}), cluster {qc:.2} s ({}): {:.2}x",
        listed(&q_local),
        listed(&q_cluster),
        qc / ql
    );
    println!(
        "  all packs:  local {dl:.2} s ({}), cluster {dc:.2} s ({}): {:.2}x",
        listed(&d_local),
        listed(&d_cluster),
        dc / dl
    );
    println!(
        "  same results on both: {}",
        if same { "yes" } else { "NO" }
    );
}
