//! Ingest benchmark: a generated corpus of CloudTrail-sized objects, ingested from local disk by
//! the release binary, beside `gzip -dc` and flate2 decompression of the same files.
//!
//! `cargo bench --bench ingest -- --events 1000000 [--runs 3] [--jobs N]`
//!
//! Prints wall time (median of the runs), events/s, input MB/s (gzip and JSON), peak RSS of the
//! ingest process, and lake size against input size. Not a test: nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use trailscope::synth::{Stats, generate};

mod common;
use common::{corpus_config, files, listed, median};

struct Args {
    events: usize,
    runs: usize,
    jobs: Option<usize>,
    corpus: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        events: 1_000_000,
        runs: 3,
        jobs: None,
        corpus: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--events" => a.events = it.next().and_then(|v| v.parse().ok()).expect("--events N"),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--jobs" => a.jobs = it.next().and_then(|v| v.parse().ok()),
            "--corpus" => a.corpus = it.next().map(PathBuf::from),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

/// Peak RSS, in bytes, of the largest child process waited for so far.
fn children_max_rss() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss as u64 * 1024
}

fn main() {
    let a = args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let corpus = a
        .corpus
        .clone()
        .unwrap_or_else(|| root.join(format!("bench-corpus-{}", a.events)));
    let cfg = corpus_config(a.events);
    if !corpus.exists() {
        let t = Instant::now();
        let s: Stats = generate(&cfg, &corpus).expect("generating the corpus");
        eprintln!(
            "generated {} objects, {:.0} MB JSON, {:.0} MB gzip in {:.1}s",
            s.objects,
            s.json_bytes as f64 / 1e6,
            s.gz_bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    let logs = files(&corpus, ".json.gz", false);
    let gz_bytes: u64 = logs
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();

    // gzip -dc over the same files (one process, one core).
    let list = logs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let list_file = root.join("bench-filelist.txt");
    std::fs::write(&list_file, list).expect("file list");
    let gzip = median(
        (0..a.runs)
            .map(|_| {
                let t = Instant::now();
                let ok = Command::new("sh")
                    .arg("-c")
                    .arg(format!(
                        "xargs gzip -dc < {} > /dev/null",
                        list_file.display()
                    ))
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                assert!(ok, "gzip -dc failed");
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );

    // flate2 (zlib-rs) decompression alone, one core, files already in memory.
    let bytes: Vec<Vec<u8>> = logs
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    let mut json_bytes = 0u64;
    let flate = median(
        (0..a.runs)
            .map(|_| {
                let t = Instant::now();
                json_bytes = bytes
                    .iter()
                    .map(|b| {
                        trailscope::ingest::decode::decode(b, u64::MAX)
                            .expect("gzip")
                            .len() as u64
                    })
                    .sum();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    drop(bytes);

    // The ingest itself, by the release binary, into a fresh lake each run.
    let bin = env!("CARGO_BIN_EXE_trailscope");
    let lake = root.join("bench-lake");
    let mut times = Vec::new();
    let mut rows = 0u64;
    for _ in 0..a.runs {
        let _ = std::fs::remove_dir_all(&lake);
        let mut cmd = Command::new(bin);
        cmd.args([
            "ingest",
            "-q",
            corpus.to_str().expect("utf-8 path"),
            "--lake",
            lake.to_str().expect("utf-8 path"),
        ]);
        if let Some(j) = a.jobs {
            cmd.args(["--jobs", &j.to_string()]);
        }
        let t = Instant::now();
        let out = cmd.output().expect("running trailscope");
        times.push(t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "ingest failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let runs = trailscope::lake::manifest::read_runs(&lake).expect("runs");
        rows = runs.last().expect("a run").ledger.rows_written;
    }
    let wall = median(times.clone());
    let rss = children_max_rss();
    let lake_size = dir_size(&lake.join("cloudtrail"));
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "corpus: {} ({} objects, {:.0} MB gzip, {:.0} MB JSON, {} events)",
        corpus.display(),
        logs.len(),
        gz_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6,
        rows
    );
    println!("machine: {cpus} CPUs");
    println!("gzip -dc (1 core):               {gzip:.2} s");
    println!("flate2 zlib-rs decode (1 core):  {flate:.2} s");
    println!(
        "trailscope ingest (median of {}): {wall:.2} s  (runs: {})",
        a.runs,
        listed(&times)
    );
    println!(
        "  {:.0} events/s, {:.0} MB/s gzip in, {:.0} MB/s JSON",
        rows as f64 / wall,
        gz_bytes as f64 / 1e6 / wall,
        json_bytes as f64 / 1e6 / wall
    );
    println!("  peak RSS {:.0} MiB", rss as f64 / (1 << 20) as f64);
    println!(
        "  lake {:.0} MB = {:.2} x gzip input",
        lake_size as f64 / 1e6,
        lake_size as f64 / gz_bytes as f64
    );
}
