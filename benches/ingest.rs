//! Ingest benchmark: a generated corpus of CloudTrail-sized objects, ingested from local disk by
//! the release binary, beside `gzip -dc` and flate2 decompression of the same files.
//!
//! `cargo bench --bench ingest -- --events 1000000 [--runs 3] [--jobs N]`
//! `cargo bench --bench ingest -- --corpus DIR --s3-latency-ms 20,50 --fetch-concurrency 16,64`
//!
//! Prints wall time (median of the runs), events/s, input MB/s (gzip and JSON), peak RSS of the
//! ingest process, and lake size against input size. With `--s3-latency-ms`, the same corpus is
//! also ingested from an S3 server on 127.0.0.1 that answers every request that late, once per
//! latency and `--fetch-concurrency` in each round, alternating with the ingest from local disk.
//! Not a test: nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use trailscope::synth::{Stats, generate};

mod common;
use common::s3server::S3Server;
use common::{corpus_config, files, listed, median};

struct Args {
    events: usize,
    runs: usize,
    jobs: Option<usize>,
    corpus: Option<PathBuf>,
    latencies: Vec<u64>,
    concurrency: Vec<usize>,
}

fn numbers<T: std::str::FromStr>(v: Option<String>, what: &str) -> Vec<T> {
    v.unwrap_or_default()
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{what} N,N,..."))
        })
        .collect()
}

fn args() -> Args {
    let mut a = Args {
        events: 1_000_000,
        runs: 3,
        jobs: None,
        corpus: None,
        latencies: Vec::new(),
        concurrency: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--events" => a.events = it.next().and_then(|v| v.parse().ok()).expect("--events N"),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--jobs" => a.jobs = it.next().and_then(|v| v.parse().ok()),
            "--corpus" => a.corpus = it.next().map(PathBuf::from),
            "--s3-latency-ms" => a.latencies = numbers(it.next(), "--s3-latency-ms"),
            "--fetch-concurrency" => a.concurrency = numbers(it.next(), "--fetch-concurrency"),
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

/// Runs `cmd` to its end: whether it succeeded, its standard error, its peak RSS in bytes and
/// its CPU time (user + system) in seconds (`wait4`: each run's own, not every child's so far).
fn run_measured(cmd: &mut Command) -> (bool, String, u64, f64) {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running trailscope");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the status and struct we own; the pid is our child's.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert!(pid > 0, "wait4 failed");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(ru.ru_utime) + secs(ru.ru_stime);
    (ok, err, ru.ru_maxrss as u64 * 1024, cpu)
}

/// One ingest of `source` into a fresh `lake` by the release binary: its wall time, peak RSS and
/// CPU time.
fn ingest_once(source: &str, lake: &Path, jobs: Option<usize>, extra: &[&str]) -> (f64, u64, f64) {
    let _ = std::fs::remove_dir_all(lake);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailscope"));
    cmd.args([
        "ingest",
        "-q",
        source,
        "--lake",
        lake.to_str().expect("utf-8 path"),
    ]);
    cmd.args(extra);
    if let Some(j) = jobs {
        cmd.args(["--jobs", &j.to_string()]);
    }
    // The test server's credentials; nothing from this machine's AWS configuration.
    cmd.env("AWS_ACCESS_KEY_ID", "AKIATESTTESTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3");
    let t = Instant::now();
    let (ok, err, rss, cpu) = run_measured(&mut cmd);
    let took = t.elapsed().as_secs_f64();
    assert!(ok, "ingest of {source} failed: {err}");
    (took, rss, cpu)
}

/// Rows the lake's last run wrote.
fn rows_written(lake: &Path) -> u64 {
    let runs = trailscope::lake::manifest::read_runs(lake).expect("runs");
    runs.last().expect("a run").ledger.rows_written
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
    let lake = root.join("bench-lake");
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut rows = 0u64;
    // From S3: one server per latency, serving the corpus's parent with the corpus as the bucket.
    let servers: Vec<(u64, S3Server)> = a
        .latencies
        .iter()
        .map(|&ms| {
            let parent = corpus.parent().expect("the corpus has a parent directory");
            (
                ms,
                S3Server::with_latency(parent, std::time::Duration::from_millis(ms)),
            )
        })
        .collect();
    let bucket = corpus
        .file_name()
        .and_then(|n| n.to_str())
        .expect("the corpus directory's name")
        .to_owned();
    let concurrency = if a.concurrency.is_empty() {
        vec![16]
    } else {
        a.concurrency.clone()
    };
    let mut s3_times: Vec<Vec<f64>> = vec![Vec::new(); servers.len() * concurrency.len()];
    let mut s3_rss = vec![0u64; servers.len() * concurrency.len()];
    let mut rss = 0u64;
    for _ in 0..a.runs {
        let (t, r, c) = ingest_once(&corpus.display().to_string(), &lake, a.jobs, &[]);
        times.push(t);
        cpu_times.push(c);
        rss = rss.max(r);
        rows = rows_written(&lake);
        for (i, (_, server)) in servers.iter().enumerate() {
            for (j, c) in concurrency.iter().enumerate() {
                let (t, r, _) = ingest_once(
                    &format!("s3://{bucket}/"),
                    &lake,
                    a.jobs,
                    &[
                        "--endpoint-url",
                        &server.endpoint,
                        "--fetch-concurrency",
                        &c.to_string(),
                    ],
                );
                assert_eq!(rows_written(&lake), rows, "the S3 ingest wrote other rows");
                s3_times[i * concurrency.len() + j].push(t);
                s3_rss[i * concurrency.len() + j] = s3_rss[i * concurrency.len() + j].max(r);
            }
        }
    }
    let wall = median(times.clone());
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
    println!(
        "  CPU (user + system) {:.2} s (median; runs: {})",
        median(cpu_times.clone()),
        listed(&cpu_times)
    );
    println!("  peak RSS {:.0} MiB", rss as f64 / (1 << 20) as f64);
    for (i, (ms, _)) in servers.iter().enumerate() {
        for (j, c) in concurrency.iter().enumerate() {
            let t = &s3_times[i * concurrency.len() + j];
            let m = median(t.clone());
            println!(
                "from S3, {ms} ms per request, --fetch-concurrency {c}: {m:.2} s = {:.0}% of local disk ({:.0} objects/s, {:.0} events/s; peak RSS {:.0} MiB; runs: {})",
                100.0 * wall / m,
                logs.len() as f64 / m,
                rows as f64 / m,
                s3_rss[i * concurrency.len() + j] as f64 / (1 << 20) as f64,
                listed(t)
            );
        }
    }
    println!(
        "  lake {:.0} MB = {:.2} x gzip input",
        lake_size as f64 / 1e6,
        lake_size as f64 / gz_bytes as f64
    );
}
