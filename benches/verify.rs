//! Verify benchmark: the ingest bench's corpus shape with real signed digests (one per account,
//! region and hour, signed with the test key, signatures in `.metadata.json` sidecars), verified
//! from local disk by the release binary, beside `sha256sum` over the same files.
//!
//! `cargo bench --bench verify -- --events 1000000 [--runs 3]`
//!
//! Prints the median wall time of: `sha256sum` over every log and digest file (the hashing
//! floor: one process, one core); `trailscope verify CORPUS` (every digest checked, every log
//! file read, gunzipped and hashed); `trailscope verify --lake LAKE` offline (digests kept by
//! `ingest --keep-digests`, log hashes from the manifest); and `trailscope verify CORPUS --lake
//! LAKE` (the manifest spares re-reading ingested files). Not a test: nothing here asserts a time.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use trailscope::synth::digests::{DigestConfig, sign_tree};
use trailscope::synth::generate;

mod common;
use common::{corpus_config, events_and_runs, files, ingest_once, median};

fn time(runs: usize, mut f: impl FnMut() -> bool) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                assert!(f(), "a benchmark command failed");
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn main() {
    let (events, runs) = events_and_runs(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let corpus = root.join(format!("bench-corpus-verify-{events}"));
    let keys = root.join("bench-verify-keys.json");
    let kc = DigestConfig::test("org-trail-bucket", "org-trail", true, true);
    if !corpus.exists() {
        let cfg = trailscope::synth::Config {
            digests: false,
            ..corpus_config(events)
        };
        let t = Instant::now();
        generate(&cfg, &corpus).expect("generating the corpus");
        let made = sign_tree(&corpus, &kc).expect("signing digests");
        eprintln!(
            "generated and signed ({} digests) in {:.1}s",
            made.len(),
            t.elapsed().as_secs_f64()
        );
    }
    std::fs::write(&keys, kc.public_keys().expect("keys").to_json()).expect("keys file");
    let all = files(&corpus, ".json.gz", true);
    let digests = all
        .iter()
        .filter(|p| p.to_string_lossy().contains("Digest"))
        .count();
    let bytes: u64 = all
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let list_file = root.join("bench-verify-filelist.txt");
    std::fs::write(
        &list_file,
        all.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("file list");

    let bin = env!("CARGO_BIN_EXE_trailscope");
    let lake = root.join(format!("bench-lake-verify-{events}"));
    let no_lake = root.join("bench-no-lake");
    ingest_once(&corpus, &lake, &["--keep-digests"]);
    let verify = |args: &[&std::ffi::OsStr]| {
        Command::new(bin)
            .args(["-q", "verify"])
            .args(args)
            .arg("--public-keys")
            .arg(&keys)
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.code() == Some(0))
            .unwrap_or(false)
    };
    let sha = time(runs, || {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "xargs sha256sum < {} > /dev/null",
                list_file.display()
            ))
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    });
    let raw = time(runs, || {
        verify(&[corpus.as_os_str(), "--lake".as_ref(), no_lake.as_os_str()])
    });
    let offline = time(runs, || verify(&["--lake".as_ref(), lake.as_os_str()]));
    let with_lake = time(runs, || {
        verify(&[corpus.as_os_str(), "--lake".as_ref(), lake.as_os_str()])
    });
    println!(
        "corpus: {} files ({} log files, {digests} digests), {:.0} MB, {events} events",
        all.len(),
        all.len() - digests,
        bytes as f64 / 1e6
    );
    println!("sha256sum (all files)            {sha:>7.2} s");
    println!(
        "verify CORPUS (read + gunzip + hash every file)  {raw:>7.2} s  ({:.2}x sha256sum)",
        raw / sha
    );
    println!(
        "verify --lake (offline: kept digests + manifest) {offline:>7.2} s  ({:.2}x)",
        offline / sha
    );
    println!(
        "verify CORPUS --lake (manifest spares re-reads)  {with_lake:>7.2} s  ({:.2}x)",
        with_lake / sha
    );
}
