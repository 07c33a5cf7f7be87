//! A run killed at any step of its commit leaves no partial or duplicated data for any reader of
//! the Delta log, and the next run completes it.

use trailscope::synth::Config;

use crate::common::*;

#[test]
fn a_run_killed_at_any_point_is_completed_by_the_next() {
    let src = tempfile::tempdir().unwrap();
    let cfg = Config {
        events: 600,
        days: 2,
        events_per_object: 30,
        incident: true,
        ..Config::default()
    };
    let stats = generate(src.path(), &cfg);
    let s = src.path().to_str().unwrap();
    let clean = tempfile::tempdir().unwrap();
    assert_eq!(ingest(s, clean.path(), &[]).status.code(), Some(0));
    let expected = restored(clean.path());
    assert_eq!(expected.len(), stats.events);

    for point in ["staged", "committing", "moving"] {
        let lake = tempfile::tempdir().unwrap();
        let l = lake.path().to_str().unwrap();
        let killed = trailscope_with(
            &["ingest", s, "--lake", l, "--memory", "256KiB"],
            &[("TRAILSCOPE_FAILPOINT", point)],
        );
        assert!(
            !killed.status.success(),
            "{point}: the run was meant to die\n{}",
            describe(&killed)
        );
        assert_eq!(killed.status.code(), None, "{point}: killed by a signal");
        // Before the Delta commit nothing is visible (even with the run's files already moved
        // into the table's directory); after it, the whole run, each row once, though its
        // manifest is only moved into place by the next trailscope command.
        let seen = restored(lake.path());
        match point {
            "committing" => assert_eq!(seen, expected, "{point}: the committed run is whole"),
            _ => assert!(
                seen.is_empty(),
                "{point}: {} rows visible before the commit",
                seen.len()
            ),
        }
        let mut ids: Vec<_> = seen.iter().map(|(r, _)| r["eventID"].to_string()).collect();
        ids.dedup();
        assert_eq!(ids.len(), seen.len(), "{point}: duplicated rows");

        if point == "committing" {
            // Opening the lake to query it finishes the interrupted run's bookkeeping first.
            let out = trailscope(&[
                "sql",
                "--lake",
                l,
                "--format",
                "csv",
                "-e",
                "SELECT count(*) AS n FROM cloudtrail",
            ]);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("n\n{}\n", expected.len()),
                "{}",
                describe(&out)
            );
        }
        let rerun = ingest(s, std::path::Path::new(l), &[]);
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "{point}\n{}",
            describe(&rerun)
        );
        assert_eq!(
            restored(lake.path()),
            expected,
            "{point}: the rerun completes the lake exactly"
        );
        let staging = lake.path().join("_trailscope/staging");
        assert_eq!(
            std::fs::read_dir(staging).map(|d| d.count()).unwrap_or(0),
            0,
            "{point}"
        );
        last_ledger(lake.path());
    }
}

#[test]
fn a_commit_that_fails_with_an_error_leaves_no_part_of_the_run_visible() {
    let src = tempfile::tempdir().unwrap();
    let cfg = Config {
        events: 300,
        days: 2,
        events_per_object: 30,
        ..Config::default()
    };
    let stats = generate(src.path(), &cfg);
    let s = src.path().to_str().unwrap();
    let lake = tempfile::tempdir().unwrap();
    let l = lake.path().to_str().unwrap();
    // Small memory, so that the run writes several files and the second move fails.
    let failed = trailscope_with(
        &["ingest", s, "--lake", l, "--memory", "256KiB"],
        &[("TRAILSCOPE_FAILPOINT", "move-error")],
    );
    assert_eq!(failed.status.code(), Some(2), "{}", describe(&failed));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("the lake is as it was"));
    // What any reader of the table sees, without trailscope opening the lake first; and no file
    // of the run is left in the table's directory either.
    assert!(
        parquet_files(lake.path()).is_empty(),
        "part of a failed run is visible"
    );
    let mut stray = Vec::new();
    let mut stack = vec![lake.path().join("cloudtrail")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                stray.push(p);
            }
        }
    }
    assert!(
        stray.is_empty(),
        "files of the failed run left behind: {stray:?}"
    );
    let rerun = ingest(s, lake.path(), &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", describe(&rerun));
    assert_eq!(restored(lake.path()).len(), stats.events);
}
