//! `trailscope sql` in batch: the session over a lake, output formats, read-only refusals.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::*;

/// One lake of the shipped sample, ingested once for all the SQL tests.
pub fn sample_lake() -> &'static Path {
    static LAKE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let lake = dir.path().join("lake");
            let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
            let out = ingest(sample.to_str().unwrap(), &lake, &[]);
            assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
            (dir, lake)
        })
        .1
}

fn sql(args: &[&str]) -> std::process::Output {
    let lake = sample_lake().to_str().unwrap().to_owned();
    let mut all = vec!["sql", "--lake", lake.as_str()];
    all.extend_from_slice(args);
    trailscope(&all)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn counts_match_the_ledger_and_partitions_filter() {
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM cloudtrail",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "n\n2736\n");
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT account, count(*) AS n FROM cloudtrail WHERE region = 'us-east-1' AND day = '2024-03-05' GROUP BY account ORDER BY account",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.starts_with("account,n\n111122223333,"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn views_and_json_functions_answer_the_incident() {
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT eventname, json_get_str(requestparameters, 'functionName') AS fn FROM lambda_events \
         WHERE useridentity.accesskeyid = 'ASIAQXATTACKERSESS01' AND eventname LIKE 'Update%' ORDER BY eventtime",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        "eventname,fn\nUpdateFunctionCode20150331v2,payments-processor\nUpdateFunctionConfiguration20150331v2,payments-processor\n"
    );
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM error_events WHERE sourceipaddress = '203.0.113.77'",
    ]);
    assert_eq!(stdout(&out), "n\n6\n", "{}", describe(&out));
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM signin_events WHERE useridentity.username = 'svc-backup'",
    ]);
    assert_eq!(stdout(&out), "n\n1\n", "{}", describe(&out));
}

#[test]
fn every_format_prints_the_same_rows() {
    let q = "SELECT eventname, eventtime, readonly FROM iam_events WHERE eventname = 'CreateUser'";
    let out = sql(&["--format", "json", "-e", q]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)));
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["eventname"], "CreateUser");
    let out = sql(&["--format", "ndjson", "-e", q]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let out = sql(&["-e", q]);
    let text = stdout(&out);
    assert!(
        text.contains("eventname") && text.contains("CreateUser") && text.contains("(1 row,"),
        "{text}"
    );
    // Nested columns become text in CSV.
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT useridentity FROM cloudtrail WHERE eventname = 'CreateUser'",
    ]);
    assert!(stdout(&out).contains("ci-deploy"), "{}", describe(&out));
    // Empty results still have a shape.
    let out = sql(&[
        "--format",
        "json",
        "-e",
        "SELECT eventname FROM cloudtrail WHERE false",
    ]);
    assert_eq!(stdout(&out), "[]\n");
}

#[test]
fn statements_come_from_files_stdin_and_output_files() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hunt.sql");
    std::fs::write(&script, "CREATE VIEW attacker AS SELECT * FROM cloudtrail WHERE sourceipaddress = '203.0.113.77';\nSELECT count(*) AS n FROM attacker;\n").unwrap();
    let out = sql(&["--format", "csv", "-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout(&out).ends_with("n\n336\n"), "{}", describe(&out));

    let mut cmd = assert_cmd::Command::cargo_bin("trailscope").unwrap();
    let out = cmd
        .args([
            "sql",
            "--lake",
            sample_lake().to_str().unwrap(),
            "--format",
            "csv",
        ])
        .write_stdin("SELECT count(*) AS n FROM cloudtrail WHERE account = '444455556666';")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "n\n800\n",
        "{}",
        describe(&out)
    );

    let parquet = dir.path().join("out.parquet");
    let out = sql(&[
        "-e",
        "SELECT eventid, eventtime FROM cloudtrail WHERE eventname = 'Invoke'",
        "--output",
        parquet.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "results go to the file only");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&parquet).unwrap(),
    )
    .unwrap();
    assert!(reader.metadata().file_metadata().num_rows() > 300);
}

#[test]
fn the_lake_cannot_be_changed_or_escaped_from_sql() {
    for stmt in [
        "INSERT INTO cloudtrail SELECT * FROM cloudtrail",
        "COPY (SELECT 1) TO '/tmp/trailscope-copy-test.csv'",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "DROP TABLE cloudtrail",
        "SELECT * FROM '/etc/passwd'",
    ] {
        let out = sql(&["-e", stmt]);
        assert_eq!(out.status.code(), Some(2), "{stmt}\n{}", describe(&out));
        assert!(
            !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
            "{stmt}: no message"
        );
    }
    assert!(!Path::new("/tmp/trailscope-copy-test.csv").exists());
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM cloudtrail",
    ]);
    assert_eq!(stdout(&out), "n\n2736\n");
}

#[test]
fn errors_name_the_problem() {
    let out = sql(&["-e", "SELECT no_such_column FROM cloudtrail"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no_such_column"),
        "{}",
        describe(&out)
    );
    let out = trailscope(&["sql", "--lake", "/definitely/not/a/lake", "-e", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a trailscope lake"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_raw_source_is_ingested_into_a_cache_lake_first() {
    let cache = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let stats = generate(
        src.path(),
        &trailscope::synth::Config {
            events: 200,
            days: 1,
            ..Default::default()
        },
    );
    let run = || {
        trailscope_with(
            &[
                "sql",
                src.path().to_str().unwrap(),
                "--format",
                "csv",
                "-e",
                "SELECT count(*) AS n FROM cloudtrail",
            ],
            &[("TRAILSCOPE_CACHE", cache.path().to_str().unwrap())],
        )
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), format!("n\n{}\n", stats.events));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cache lake"));
    let again = run();
    assert_eq!(stdout(&again), format!("n\n{}\n", stats.events));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains(&format!("{} unchanged since last run", stats.objects)),
        "{}",
        describe(&again)
    );
}

#[test]
fn published_athena_queries_run_with_only_the_table_name_changed() {
    // The shape of the Athena CloudTrail queries AWS and vendors publish: string booleans,
    // string times, json_extract_scalar, from_iso8601_timestamp, date_diff.
    let q = "SELECT useridentity.arn, eventname, json_extract_scalar(requestparameters, '$.userName') AS target \
             FROM cloudtrail \
             WHERE readonly = 'false' AND eventsource = 'iam.amazonaws.com' \
               AND eventtime >= '2024-03-05T00:00:00Z' \
               AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp('2024-03-06T00:00:00Z') \
               AND date_diff('day', from_iso8601_timestamp('2024-03-05T00:00:00Z'), eventtime) = 0 \
             ORDER BY eventtime";
    let out = sql(&["--format", "csv", "-e", q]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        "cloudtrail.useridentity[arn],eventname,target\n\
         arn:aws:iam::111122223333:user/ci-deploy,CreateUser,svc-backup\n\
         arn:aws:iam::111122223333:user/ci-deploy,AttachUserPolicy,svc-backup\n\
         arn:aws:iam::111122223333:user/ci-deploy,CreateAccessKey,svc-backup\n\
         arn:aws:iam::111122223333:user/ci-deploy,CreateLoginProfile,svc-backup\n"
    );
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM cloudtrail WHERE readonly = 'TRUE' OR 'false' = managementevent",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT actor(useridentity) AS who, count(*) AS n FROM cloudtrail WHERE sourceipaddress = '203.0.113.77' GROUP BY 1 ORDER BY n DESC, who",
    ]);
    assert_eq!(
        stdout(&out),
        "who,n\nrole/lambda-deployer/deploy-7731,312\nuser/ci-deploy,22\nroot/111122223333,1\nuser/svc-backup,1\n",
        "{}",
        describe(&out)
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let lake = sample_lake().to_str().unwrap().to_owned();
    for format in ["csv", "ndjson", "json", "table"] {
        let args = [
            "sql",
            "--lake",
            &lake,
            "--format",
            format,
            "-e",
            "SELECT * FROM cloudtrail",
        ];
        read_64_bytes_then_close(&args);
    }
    // The record writer too: the rule list as JSON is larger than a pipe's buffer.
    for format in ["json", "ndjson", "csv"] {
        read_64_bytes_then_close(&["packs", "list", "--format", format]);
    }
}

/// Runs trailscope, reads 64 bytes of its output and closes the pipe, like `| head -c 64`: it
/// must end quietly with status 0.
fn read_64_bytes_then_close(args: &[&str]) {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
    assert!(out.stderr.is_empty(), "{args:?}: {}", describe(&out));
}

#[test]
fn json_arrows_bind_tighter_than_comparisons_as_in_postgresql() {
    // The sample's attacker opens a function to the world: AddPermission with principal "*".
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM cloudtrail WHERE requestparameters->>'principal' = '*'",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let n: u64 = stdout(&out).lines().nth(1).unwrap().parse().unwrap();
    assert!(n >= 1, "{}", stdout(&out));
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT count(*) AS n FROM cloudtrail WHERE json_get_str(requestparameters, 'principal') = '*'",
    ]);
    assert_eq!(stdout(&out).lines().nth(1).unwrap(), n.to_string());
}

#[test]
fn the_help_and_the_shell_name_every_table_of_the_session() {
    let help = String::from_utf8_lossy(&trailscope(&["sql", "--help"]).stdout).into_owned();
    let out = sql(&[
        "--format",
        "csv",
        "-e",
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    ]);
    let tables: Vec<String> = stdout(&out).lines().skip(1).map(str::to_owned).collect();
    assert!(tables.len() >= 7, "{tables:?}");
    for t in &tables {
        assert!(
            help.contains(t.as_str()),
            "sql --help does not name the table {t}"
        );
    }
}

#[test]
fn quiet_silences_the_cache_ingest_but_not_its_errors() {
    let cache = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let out = trailscope_with(
        &[
            "-q",
            "sql",
            sample.to_str().unwrap(),
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n FROM cloudtrail",
        ],
        &[("TRAILSCOPE_CACHE", cache.path().to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "n\n2736\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("cache lake") && !err.contains("records read"),
        "{err}"
    );
    // The sample's truncated object is still named: it is an error.
    assert!(
        err.lines().count() == 1 && err.starts_with("error: "),
        "{err}"
    );
}

#[test]
fn writing_statements_are_refused_wherever_they_hide() {
    let lake = sample_lake();
    let files_before = parquet_files(lake).len();
    let target =
        std::env::temp_dir().join(format!("trailscope-hidden-copy-{}.csv", std::process::id()));
    let t = target.display();
    for stmt in [
        format!("EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{t}'"),
        format!("EXPLAIN ANALYZE VERBOSE COPY (SELECT 1 AS x) TO '{t}'"),
        format!("EXPLAIN COPY (SELECT 1 AS x) TO '{t}'"),
        "EXPLAIN ANALYZE INSERT INTO cloudtrail SELECT * FROM cloudtrail LIMIT 1".to_owned(),
        "EXPLAIN ANALYZE CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'".to_owned(),
    ] {
        let out = sql(&["-e", &stmt]);
        assert_eq!(out.status.code(), Some(2), "{stmt}\n{}", describe(&out));
        // And in the shell, where an error keeps the shell going.
        let shell = trailscope_stdin(
            &["sql", "--lake", lake.to_str().unwrap(), "-i"],
            &format!("{stmt};\n"),
        );
        assert!(
            String::from_utf8_lossy(&shell.stderr).contains("refused"),
            "{stmt}\n{}",
            describe(&shell)
        );
    }
    assert!(!target.exists(), "a hidden COPY wrote {t}");
    assert_eq!(
        parquet_files(lake).len(),
        files_before,
        "rows were written into the lake"
    );
    assert_eq!(
        stdout(&sql(&[
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n FROM cloudtrail"
        ])),
        "n\n2736\n"
    );
}

#[test]
fn results_never_go_into_the_lake() {
    let lake = sample_lake();
    let inside =
        lake.join("cloudtrail/account=111122223333/region=us-east-1/day=2024-03-05/extra.parquet");
    let out = sql(&[
        "--output",
        inside.to_str().unwrap(),
        "-e",
        "SELECT * FROM cloudtrail LIMIT 3",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the lake"));
    assert!(!inside.exists());
    // Through `..` from outside, and from the shell's \o.
    let sneaky = lake
        .join("..")
        .join(lake.file_name().unwrap())
        .join("x.csv");
    let out = sql(&["--output", sneaky.to_str().unwrap(), "-e", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let shell = trailscope_stdin(
        &["sql", "--lake", lake.to_str().unwrap(), "-i"],
        &format!("\\o {}\nSELECT 1;\n", inside.display()),
    );
    assert!(
        String::from_utf8_lossy(&shell.stderr).contains("inside the lake"),
        "{}",
        describe(&shell)
    );
    assert!(!inside.exists() && !lake.join("x.csv").exists());
    let detect = trailscope(&[
        "detect",
        "--lake",
        lake.to_str().unwrap(),
        "--output",
        lake.join("findings.json").to_str().unwrap(),
    ]);
    assert_eq!(detect.status.code(), Some(2), "{}", describe(&detect));
    assert!(!lake.join("findings.json").exists());
}

#[test]
fn a_query_larger_than_the_memory_limit_fails_cleanly_or_spills() {
    let out = sql(&[
        "--memory-limit",
        "8MiB",
        "--format",
        "csv",
        "-e",
        "SELECT count(DISTINCT concat(a.eventid, b.eventid, a.useragent)) AS n
           FROM (SELECT * FROM cloudtrail LIMIT 700) a CROSS JOIN (SELECT * FROM cloudtrail LIMIT 700) b",
    ]);
    // Either the aggregation spilled and finished, or the query failed with a clear error: the
    // process was not killed by an allocation failure.
    match out.status.code() {
        Some(0) => assert_eq!(stdout(&out), "n\n490000\n"),
        Some(2) => assert!(
            String::from_utf8_lossy(&out.stderr).contains("--memory-limit"),
            "{}",
            describe(&out)
        ),
        other => panic!("exit {other:?}: {}", describe(&out)),
    }
    assert!(
        String::from_utf8_lossy(&trailscope(&["sql", "--help"]).stdout).contains("--memory-limit")
    );
}

#[test]
fn account_spans_and_scans_narrowed_by_api_agree_with_reading_everything() {
    let csv = |q: &str| {
        let out = sql(&["--format", "csv", "-e", q]);
        assert_eq!(out.status.code(), Some(0), "{q}: {}", describe(&out));
        stdout(&out)
    };
    let spans = csv("SELECT account, t0, t1 FROM account_spans ORDER BY account");
    assert_eq!(
        spans,
        csv(
            "SELECT account, min(eventtime) AS t0, max(eventtime) AS t1 FROM cloudtrail GROUP BY account ORDER BY account"
        )
    );
    assert!(spans.lines().count() > 2, "{spans}");
    // The same rows whether the scan skips files by API (plain filters) or reads every file
    // (filters the narrowing cannot judge).
    for (narrowed, everything) in [
        (
            "eventsource = 'lambda.amazonaws.com' AND eventname LIKE 'UpdateFunction%'",
            "lower(eventsource) = 'lambda.amazonaws.com' AND starts_with(eventname, 'UpdateFunction')",
        ),
        (
            "eventname IN ('StopLogging', 'DeleteTrail') OR eventname = 'PutBucketPolicy'",
            "lower(eventname) IN ('stoplogging', 'deletetrail', 'putbucketpolicy')",
        ),
        ("eventname = 'NoSuchApi'", "lower(eventname) = 'nosuchapi'"),
    ] {
        let q = |w: &str| {
            csv(&format!(
                "SELECT count(*) AS n, min(eventid) AS a, max(eventid) AS b FROM cloudtrail WHERE {w}"
            ))
        };
        assert_eq!(q(narrowed), q(everything), "{narrowed}");
    }
}
