//! The lake as a Delta table: versions read back with --as-of, compaction that changes no row,
//! concurrent ingests, vacuum's retention, and conversion of a lake of the earlier format.

use std::path::Path;

use serde_json::Value;
use trailscope::synth::Config;

use crate::common::*;

/// A generated tree split into `n` sources, each holding every n-th object (hard links), and the
/// whole tree.
fn split_sources(n: usize, events: usize) -> (tempfile::TempDir, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    let cfg = Config {
        events,
        days: 1,
        events_per_object: 40,
        ..Config::default()
    };
    generate(&all, &cfg);
    let mut files = Vec::new();
    let mut stack = vec![all.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut parts = Vec::new();
    for i in 0..n {
        let part = dir.path().join(format!("part{i}"));
        for f in files.iter().skip(i).step_by(n) {
            let dest = part.join(f.strip_prefix(&all).unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::hard_link(f, &dest).unwrap();
        }
        parts.push(part.to_str().unwrap().to_owned());
    }
    let all = all.to_str().unwrap().to_owned();
    (dir, parts, all)
}

fn count(lake: &Path, extra: &[&str]) -> String {
    let l = lake.to_str().unwrap();
    let mut args = vec!["sql", "--lake", l, "--format", "csv", "-e"];
    args.push("SELECT count(*) AS n FROM cloudtrail");
    args.extend_from_slice(extra);
    let out = trailscope(&args);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The lake's records (source URIs left out: which source an event was kept from depends on
/// which run read it first).
fn records(lake: &Path) -> Vec<Value> {
    restored(lake).into_iter().map(|(r, _)| r).collect()
}

/// An S3 server over a fresh directory holding the bucket `case-bucket`.
fn case_bucket() -> (tempfile::TempDir, S3Server) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("case-bucket")).unwrap();
    let server = S3Server::start(root.path());
    (root, server)
}

fn info(lake: &Path) -> Value {
    json_ok(&["lake", "info", "--lake", lake.to_str().unwrap(), "--json"])
}

#[test]
fn as_of_reads_the_lake_as_it_was_after_more_logs_arrived() {
    let (_d, parts, _) = split_sources(2, 400);
    let lake = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&parts[0]), lake.path());
    let first = count(lake.path(), &[]);
    let run = info(lake.path())["commits"][1]["run"]
        .as_str()
        .unwrap()
        .to_owned();
    ingest_ok(Path::new(&parts[1]), lake.path());
    let now = count(lake.path(), &[]);
    assert_ne!(first, now, "the second run added events");
    assert_eq!(count(lake.path(), &["--as-of", "1"]), first);
    assert_eq!(count(lake.path(), &["--as-of", &run]), first);
    assert_eq!(count(lake.path(), &["--as-of", "0"]), "n\n0");
    // Detections name the version they were computed on.
    let l = lake.path().to_str().unwrap();
    let out = trailscope(&["detect", "--lake", l, "--as-of", "1", "--format", "json"]);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        describe(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lake version 1"), "{}", describe(&out));
    let missing = trailscope(&[
        "sql",
        "--lake",
        l,
        "--as-of",
        "no-such-run",
        "-e",
        "SELECT 1",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no commit"));
}

#[test]
fn compaction_changes_no_row_and_keeps_old_versions_readable() {
    let (_d, parts, all) = split_sources(6, 1200);
    let lake = tempfile::tempdir().unwrap();
    for p in &parts {
        ingest_ok(Path::new(p), lake.path());
    }
    let one = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&all), one.path());
    // Automatic compaction ran past the threshold: fewer files than 6 runs x partitions.
    let i = info(lake.path());
    let ops: Vec<&str> = i["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .collect();
    assert!(ops.contains(&"OPTIMIZE"), "{i}");
    let l = lake.path().to_str().unwrap();
    let out = trailscope(&["lake", "optimize", "--lake", l]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let after = info(lake.path());
    assert_eq!(after["files"], after["partitions"], "{after}");
    let (got, want) = (records(lake.path()), records(one.path()));
    assert!(got == want, "{} rows, {} expected", got.len(), want.len());
    // Every version before the compaction is still readable and whole.
    let v1 = count(lake.path(), &["--as-of", "1"]);
    assert!(v1.starts_with("n\n") && v1 != "n\n0", "{v1}");
    // Vacuum keeps files younger than the retention period.
    let out = trailscope(&["lake", "vacuum", "--lake", l]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted 0 files"));
    assert_eq!(count(lake.path(), &["--as-of", "1"]), v1);
    let short = trailscope(&["lake", "vacuum", "--lake", l, "--retention", "0d"]);
    assert_eq!(
        short.status.code(),
        Some(2),
        "a short retention needs confirming"
    );
    let out = trailscope(&[
        "lake",
        "vacuum",
        "--lake",
        l,
        "--retention",
        "0d",
        "--yes-shorter-retention",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (got, want) = (records(lake.path()), records(one.path()));
    assert!(got == want, "{} rows, {} expected", got.len(), want.len());
}

#[test]
fn two_ingests_at_once_both_land_without_duplicates() {
    let (_d, parts, all) = split_sources(2, 600);
    // Overlapping sources: the second holds everything, so half its events are duplicates of
    // whichever run lands first.
    let lake = tempfile::tempdir().unwrap();
    let l = lake.path().to_str().unwrap().to_owned();
    let spawn = |src: String, l: String| {
        std::thread::spawn(move || trailscope(&["ingest", &src, "--lake", &l]))
    };
    let a = spawn(parts[0].clone(), l.clone());
    let b = spawn(all.clone(), l.clone());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", describe(&a));
    assert_eq!(b.status.code(), Some(0), "{}", describe(&b));
    let one = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&all), one.path());
    let (got, want) = (records(lake.path()), records(one.path()));
    assert!(got == want, "{} rows, {} expected", got.len(), want.len());
    let runs: Vec<Value> = info(lake.path())["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["run"].is_string())
        .cloned()
        .collect();
    assert_eq!(runs.len(), 2, "both runs committed");
}

#[test]
fn a_lake_of_the_earlier_format_is_converted_in_place() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pre-delta-lake");
    let lake = tempfile::tempdir().unwrap();
    let mut stack = vec![fixture.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let dest = lake.path().join(p.strip_prefix(&fixture).unwrap());
            if p.is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
                stack.push(p);
            } else {
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::copy(&p, &dest).unwrap();
            }
        }
    }
    let bytes_before: Vec<Vec<u8>> = plain_parquet(lake.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!bytes_before.is_empty());
    let l = lake.path().to_str().unwrap();
    let out = trailscope(&["lake", "convert", "--lake", l]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("300 rows, none rewritten"),
        "{}",
        describe(&out)
    );
    assert_eq!(count(lake.path(), &[]), "n\n300");
    // The files are the same bytes, and an outside reader of the log sees all of them.
    let bytes_after: Vec<Vec<u8>> = plain_parquet(lake.path())
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(bytes_before, bytes_after);
    assert_eq!(parquet_files(lake.path()), plain_parquet(lake.path()));
    // The runs of the earlier format count as committed: re-ingesting reads nothing again.
    let i = info(lake.path());
    assert_eq!(
        i["commits"][0]["converted_runs"].as_array().unwrap().len(),
        1
    );
}

/// Every Parquet file under the table directory, whatever the log says.
fn plain_parquet(lake: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![lake.join("cloudtrail")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_lake_in_s3_is_ingested_queried_detected_and_compacted() {
    let (_root, server) = case_bucket();
    let (_d, parts, all) = split_sources(5, 600);
    let uri = "s3://case-bucket/cases/42";
    let ep = server.endpoint.clone();
    let run = |args: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(&["--endpoint-url", &ep]);
        trailscope(&a)
    };
    for (i, p) in parts.iter().enumerate() {
        let before = server.requests.lock().unwrap().len();
        let out = run(&["ingest", p, "--lake", uri]);
        assert_eq!(out.status.code(), Some(0), "run {i}\n{}", describe(&out));
        if i == 1 {
            // A run costs a bounded number of requests: the log entries, the data files, the
            // bookkeeping, the reads of the log, the lock.
            let reqs = server.requests.lock().unwrap()[before..].to_vec();
            let puts = reqs.iter().filter(|r| r.op == "PutObject").count();
            let log_puts = reqs
                .iter()
                .filter(|r| r.op == "PutObject" && r.uri.contains("_delta_log"))
                .count();
            // The run's commit, and the compaction of the partitions it added to.
            assert_eq!(log_puts, 2, "a run and its compaction: {reqs:?}");
            let mut by_op = std::collections::BTreeMap::new();
            for r in &reqs {
                *by_op.entry(r.op.clone()).or_insert(0) += 1;
            }
            eprintln!("requests of one incremental run into an S3 lake: {by_op:?}");
            assert!(puts <= 24, "{puts} uploads for one small run");
        }
    }
    // Nothing was written locally under a directory named like the URI.
    assert!(!Path::new("s3:").exists());
    let s3_rows = run(&[
        "sql",
        "--lake",
        uri,
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n, count(DISTINCT eventid) AS d FROM cloudtrail",
    ]);
    assert_eq!(s3_rows.status.code(), Some(0), "{}", describe(&s3_rows));
    let one = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&all), one.path());
    let local = count(one.path(), &[]);
    let n = local.trim_start_matches("n\n");
    assert_eq!(
        String::from_utf8_lossy(&s3_rows.stdout).trim(),
        format!("n,d\n{n},{n}")
    );
    // Re-ingesting a source reads nothing: the manifest of the committed runs lives in S3 too.
    let again = run(&["ingest", &parts[0], "--lake", uri]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(" = 0 read + "),
        "{}",
        describe(&again)
    );
    // The same objects under other names are read again and add no row.
    let again = run(&["ingest", &all, "--lake", uri]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(" = 0 written + "),
        "{}",
        describe(&again)
    );
    // Detections and the upkeep commands work on the S3 lake.
    let det = run(&["detect", "--lake", uri, "--format", "json"]);
    assert!(
        det.status.code().is_some_and(|c| c < 2),
        "{}",
        describe(&det)
    );
    let opt = run(&["lake", "optimize", "--lake", uri]);
    assert_eq!(opt.status.code(), Some(0), "{}", describe(&opt));
    // Vacuum sees the replaced files and, inside the retention period, deletes none.
    let vac = run(&["lake", "vacuum", "--lake", uri, "--dry-run"]);
    assert_eq!(vac.status.code(), Some(0), "{}", describe(&vac));
    assert!(
        String::from_utf8_lossy(&vac.stdout).contains("would delete 0 files"),
        "{}",
        describe(&vac)
    );
    let info = run(&["lake", "info", "--lake", uri, "--json"]);
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["files"], info["partitions"], "{info}");
    assert_eq!(info["rows"].as_u64().unwrap().to_string(), n);
}

#[test]
fn a_run_into_s3_killed_at_any_step_is_whole_or_absent_for_an_outside_reader() {
    let (root, server) = case_bucket();
    let (_d, _parts, all) = split_sources(1, 400);
    let one = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&all), one.path());
    let want = records(one.path());
    // The bucket's directory, read as any Delta reader reads the table: through its log.
    let on_disk = root.path().join("case-bucket/killed");
    for (i, point) in ["staged", "moving", "committing"].iter().enumerate() {
        let uri = format!("s3://case-bucket/killed/{i}");
        let lake = on_disk.join(i.to_string());
        let args = [
            "ingest",
            &all,
            "--lake",
            &uri,
            "--endpoint-url",
            &server.endpoint,
        ];
        let killed = trailscope_with(&args, &[("TRAILSCOPE_FAILPOINT", point)]);
        assert_eq!(
            killed.status.code(),
            None,
            "{point}: killed\n{}",
            describe(&killed)
        );
        let seen = records(&lake);
        match *point {
            "committing" => assert!(
                seen == want,
                "{point}: {} of {} rows",
                seen.len(),
                want.len()
            ),
            _ => assert!(
                seen.is_empty(),
                "{point}: {} rows visible before the commit",
                seen.len()
            ),
        }
        let rerun = trailscope(&args);
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "{point}\n{}",
            describe(&rerun)
        );
        let seen = records(&lake);
        assert!(
            seen == want,
            "{point}: the rerun completes the lake: {} of {}",
            seen.len(),
            want.len()
        );
    }
}

#[test]
fn two_ingests_into_one_s3_lake_at_once_both_land_without_duplicates() {
    let (root, server) = case_bucket();
    let (_d, parts, all) = split_sources(2, 500);
    let uri = "s3://case-bucket/shared".to_owned();
    let spawn = |src: String, uri: String, ep: String| {
        std::thread::spawn(move || {
            trailscope(&["-v", "ingest", &src, "--lake", &uri, "--endpoint-url", &ep])
        })
    };
    let a = spawn(parts[0].clone(), uri.clone(), server.endpoint.clone());
    let b = spawn(all.clone(), uri.clone(), server.endpoint.clone());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", describe(&a));
    assert_eq!(b.status.code(), Some(0), "{}", describe(&b));
    let one = tempfile::tempdir().unwrap();
    ingest_ok(Path::new(&all), one.path());
    let (got, want) = (
        records(&root.path().join("case-bucket/shared")),
        records(one.path()),
    );
    assert!(
        got == want,
        "{} rows, {} expected\n{}\n{}",
        got.len(),
        want.len(),
        describe(&a),
        describe(&b)
    );
    // The lock went with the runs.
    assert!(
        !root
            .path()
            .join("case-bucket/shared/_trailscope/lock")
            .exists()
    );
}
