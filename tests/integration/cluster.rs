//! The cluster: a scheduler and two executors (child processes on 127.0.0.1) over a lake in the
//! in-process S3 server give the same findings, view rows, traces and timelines as one machine;
//! an unreachable scheduler and a server that is not a trailscope scheduler are named clearly.

use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::roles::{self, Role, free_port_pair};
use crate::s3server::S3Server;

fn role(args: &[&str], endpoint: &str, log: &Path) -> Role {
    let bin = assert_cmd::cargo::cargo_bin("trailscope");
    let mut args = args.to_vec();
    args.extend_from_slice(&["--endpoint-url", endpoint]);
    let log = std::fs::File::create(log).unwrap();
    roles::start(bin.to_str().unwrap(), &args, &TEST_AWS, log.into())
}

/// Sorted lines: a query without ORDER BY may come back in another order on a cluster.
fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn the_cluster_gives_the_same_answers_as_one_machine() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("case-bucket")).unwrap();
    let server = S3Server::start(root.path());
    let ep = server.endpoint.clone();
    let uri = "s3://case-bucket/org-lake";
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let out = trailscope(&[
        "ingest",
        sample.to_str().unwrap(),
        "--lake",
        uri,
        "--endpoint-url",
        &ep,
    ]);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        describe(&out)
    );

    let logs = tempfile::tempdir().unwrap();
    let port = free_port_pair();
    let sched = format!("127.0.0.1:{port}");
    let at = format!("df://{sched}");
    let _scheduler = role(
        &["cluster", "scheduler", "--bind", &sched],
        &ep,
        &logs.path().join("scheduler.log"),
    );
    let _executors: Vec<Role> = (0..2)
        .map(|i| {
            let args = roles::executor_args(&sched, 2);
            role(
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                &ep,
                &logs.path().join(format!("executor{i}.log")),
            )
        })
        .collect();
    let logs_text = || {
        ["scheduler.log", "executor0.log", "executor1.log"]
            .iter()
            .map(|f| {
                format!(
                    "== {f}\n{}",
                    std::fs::read_to_string(logs.path().join(f)).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Both executors registered.
    let status: Value = match roles::wait_for_executors(env!("CARGO_BIN_EXE_trailscope"), &at, 2) {
        Ok(v) => v,
        Err(out) => panic!(
            "the cluster did not come up: {}\n{}",
            describe(&out),
            logs_text()
        ),
    };
    assert_eq!(status["executors"][0]["slots"], 2, "{status}");
    assert!(
        status["scheduler_id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("trailscope-{}-", env!("CARGO_PKG_VERSION"))),
        "{status}"
    );
    // The table sees the cluster status as plain text too.
    let text = trailscope(&["cluster", "status", "--cluster", &at]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("executors: 2, task slots: 4"),
        "{}",
        describe(&text)
    );

    let both = |args: &[&str]| {
        let mut local: Vec<&str> = args.to_vec();
        local.extend_from_slice(&["--lake", uri, "--endpoint-url", &ep]);
        let mut remote = local.clone();
        remote.extend_from_slice(&["--cluster", &at]);
        let l = trailscope(&local);
        let r = trailscope(&remote);
        assert_eq!(
            l.status.code(),
            r.status.code(),
            "{args:?}\ncluster: {}\nlocal: {}\n{}",
            describe(&r),
            describe(&l),
            logs_text()
        );
        assert!(
            l.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            describe(&l)
        );
        (l, r)
    };

    // Every built-in rule, every finding.
    let (l, r) = both(&["detect", "--min-severity", "info", "--format", "json"]);
    let findings: Vec<Value> = serde_json::from_slice(&l.stdout).unwrap();
    assert!(findings.len() > 20, "{}", describe(&l));
    assert_eq!(
        String::from_utf8_lossy(&l.stdout),
        String::from_utf8_lossy(&r.stdout),
        "detect differs on the cluster\n{}",
        logs_text()
    );

    // Every view, the credential chains and the verdicts.
    let (views, _) = both(&[
        "sql",
        "--format",
        "csv",
        "-e",
        "SELECT table_name FROM information_schema.views ORDER BY 1",
    ]);
    let views: Vec<String> = String::from_utf8_lossy(&views.stdout)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert!(views.len() >= 3, "{views:?}");
    for table in
        views
            .iter()
            .map(String::as_str)
            .chain(["credential_chains", "verification", "cloudtrail"])
    {
        let sql = format!("SELECT * FROM {table}");
        let (l, r) = both(&["sql", "--format", "csv", "-e", &sql]);
        assert_eq!(
            sorted_lines(&l.stdout),
            sorted_lines(&r.stdout),
            "{table} differs on the cluster"
        );
    }

    // An investigation: the attacker's key traced, and its timeline.
    let (l, r) = both(&["trace", "ASIAQXATTACKERSESS01", "--format", "json"]);
    let traced: Value = serde_json::from_slice(&l.stdout).unwrap();
    assert_eq!(traced[0]["chain"]["origin"]["key"], "AKIAQXLEAKEDKEY7EXMP");
    assert_eq!(l.stdout, r.stdout, "trace differs on the cluster");
    let (l, r) = both(&[
        "timeline",
        "--key",
        "ASIAQXATTACKERSESS01",
        "--format",
        "json",
    ]);
    let lines: Vec<Value> = serde_json::from_slice(&l.stdout).unwrap();
    assert!(lines.len() > 5, "{}", describe(&l));
    assert_eq!(l.stdout, r.stdout, "the timeline differs on the cluster");
    // Per-actor summaries, whose lists (keys, addresses, agents) were in the order the engine
    // produced them before, which differed between the two (and between runs).
    let (l, r) = both(&["summary", "--format", "json"]);
    assert_eq!(
        String::from_utf8_lossy(&l.stdout),
        String::from_utf8_lossy(&r.stdout),
        "summary differs on the cluster"
    );
}

#[test]
fn an_unreachable_scheduler_and_a_stranger_are_named() {
    let port = free_port_pair();
    let at = format!("df://127.0.0.1:{port}");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let lake = crate::sql::sample_lake();
    let out = trailscope(&[
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--cluster",
        &at,
        "-e",
        "SELECT 1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the scheduler at {at} is unreachable")),
        "{err}"
    );
    let out = trailscope(&["cluster", "status", "--cluster", &at]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    // An HTTP server that is not a trailscope scheduler (the S3 server).
    let root = tempfile::tempdir().unwrap();
    let server = S3Server::start(root.path());
    let stranger = server.endpoint.replace("http://", "df://");
    let out = trailscope(&["detect", sample.to_str().unwrap(), "--cluster", &stranger]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a trailscope scheduler"),
        "{}",
        describe(&out)
    );
    // An address that is not one.
    let out = trailscope(&["cluster", "status", "--cluster", "http://x/y"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a scheduler address"),
        "{}",
        describe(&out)
    );
}
