//! The command line as a user meets it: help, exit codes, messages, input shapes, workers.

use std::io::Write;
use std::path::{Path, PathBuf};

use trailscope::synth::Config;

use crate::common::*;

fn small() -> Config {
    Config {
        events: 400,
        days: 2,
        events_per_object: 25,
        ..Config::default()
    }
}

#[test]
fn help_teaches_with_examples() {
    let out = trailscope(&["ingest", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Examples:",
        "s3://",
        "--since",
        "--profile",
        "--endpoint-url",
        "--no-sign-request",
        "lookup-events",
        "Exit status",
    ] {
        assert!(
            help.contains(needle),
            "ingest --help lacks {needle}:\n{help}"
        );
    }
    let out = trailscope(&["--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("trailscope detect ./sample-logs"));
}

/// Splits an example command line as a shell would (quotes, no expansion); stops at a pipe, a
/// redirection, or three spaces (where an example's description starts). `None` while a quote
/// is still open.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut spaces = 0;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None => {
                if c == ' ' {
                    spaces += 1;
                    if spaces == 3 {
                        break;
                    }
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                    continue;
                }
                spaces = 0;
                match c {
                    '"' | '\'' => {
                        quote = Some(c);
                        in_word = true;
                    }
                    '|' | '>' | '<' if !in_word => break,
                    '\\' => {}
                    _ => {
                        word.push(c);
                        in_word = true;
                    }
                }
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// Every `trailscope …` example of every command's help (with its continuation lines).
fn help_examples() -> Vec<(String, Vec<String>)> {
    use clap::CommandFactory;
    let mut texts = Vec::new();
    // Unwrapped, so that each example is on its own line as written.
    let mut top = trailscope::cmd::Cli::command().term_width(0);
    top.build();
    texts.push(("trailscope".to_owned(), top.render_long_help().to_string()));
    for sub in top.get_subcommands_mut() {
        let mut sub = sub.clone().term_width(0);
        texts.push((
            sub.get_name().to_owned(),
            sub.render_long_help().to_string(),
        ));
        for subsub in sub.get_subcommands_mut() {
            let mut subsub = subsub.clone().term_width(0);
            texts.push((
                subsub.get_name().to_owned(),
                subsub.render_long_help().to_string(),
            ));
        }
    }
    let mut examples = Vec::new();
    for (name, text) in texts {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(at) = line.find("trailscope ") else {
                continue;
            };
            if !line[..at].trim().is_empty() && !line[..at].trim_end().ends_with('#') {
                continue;
            }
            let mut cmd = line[at..].to_owned();
            let mut next = i + 1;
            let words = loop {
                match shell_words(&cmd) {
                    Some(w) => break w,
                    None if next < lines.len() => {
                        cmd.push('\n');
                        cmd.push_str(lines[next]);
                        next += 1;
                    }
                    None => panic!("{name} --help: unbalanced quotes in {cmd}"),
                }
            };
            examples.push((format!("{name} --help: {cmd}"), words));
        }
    }
    examples
}

#[test]
fn every_help_example_parses_and_names_real_rules_and_packs() {
    use clap::Parser;
    let rules = trailscope::detect::builtin().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let packs: Vec<&str> = rules.iter().map(|r| r.pack.as_str()).collect();
    let examples = help_examples();
    assert!(
        examples.len() > 30,
        "found only {} examples",
        examples.len()
    );
    for (at, words) in &examples {
        // `trailscope <command> --help` is an example of asking for help, not a command.
        if at.contains("--help:") && at.contains("<command>") {
            continue;
        }
        if let Err(e) = trailscope::cmd::Cli::try_parse_from(words) {
            panic!("{at}\ndoes not parse: {e}");
        }
        for pair in words.windows(2) {
            let (flag, value) = (pair[0].as_str(), pair[1].as_str());
            let rule = match flag {
                "--rule" | "show" => Some(value),
                "--param" => value
                    .split_once('.')
                    .map(|(r, _)| r)
                    .filter(|r| !r.contains('=')),
                _ => None,
            };
            if let Some(rule) = rule {
                assert!(ids.contains(&rule), "{at}\nnames no rule: {rule}");
            }
            if flag == "--pack" {
                assert!(packs.contains(&value), "{at}\nnames no pack: {value}");
            }
        }
    }
}

#[test]
fn exit_0_when_every_object_is_ingested() {
    let src = tempfile::tempdir().unwrap();
    let stats = generate(src.path(), &small());
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(src.path().to_str().unwrap(), lake.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "records: {0} read = {0} written + 0 duplicates + 0 conflicts + 0 quarantined",
            stats.records
        )),
        "{stdout}"
    );
    assert_eq!(last_ledger(lake.path()).rows_written as usize, stats.events);
    assert_eq!(records(lake.path()).len(), stats.events);
}

#[test]
fn bad_gzip_is_named_and_the_rest_is_ingested() {
    let src = tempfile::tempdir().unwrap();
    let stats = generate(
        src.path(),
        &Config {
            bad_objects: true,
            ..small()
        },
    );
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(src.path().to_str().unwrap(), lake.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("_partial.json.gz: truncated gzip stream"),
        "{stderr}"
    );
    let l = last_ledger(lake.path());
    assert_eq!(
        (
            l.objects_failed,
            l.duplicates as usize,
            l.rows_written as usize
        ),
        (1, stats.duplicates, stats.events)
    );
    // The bad object is kept, with its reason.
    let q = std::fs::read_dir(lake.path().join("_trailscope/quarantine/objects"))
        .unwrap()
        .count();
    assert_eq!(q, 2, "the object's bytes and the list of bad objects");
}

#[test]
fn missing_source_is_an_error_with_exit_2() {
    let lake = tempfile::tempdir().unwrap();
    let out = ingest("/definitely/not/here", lake.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/definitely/not/here: no such file or directory"),
        "{err}"
    );
    let out = ingest("https://example.com/x", lake.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn lake_defaults_to_the_environment_variable() {
    let src = tempfile::tempdir().unwrap();
    generate(src.path(), &small());
    let lake = tempfile::tempdir().unwrap();
    let out = trailscope_with(
        &["ingest", src.path().to_str().unwrap()],
        &[("TRAILSCOPE_LAKE", lake.path().to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!parquet_files(lake.path()).is_empty());
}

#[test]
fn stdin_lookup_events_and_json_lines_are_ingested() {
    let lake = tempfile::tempdir().unwrap();
    let rec = |id: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2024-01-02T03:04:05Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333"}}"#
        )
    };
    let lookup = format!(
        "{{\"Events\":[{{\"EventId\":\"a\",\"CloudTrailEvent\":{}}},{{\"EventId\":\"b\",\"CloudTrailEvent\":{}}}]}}",
        serde_json::to_string(&rec("a")).unwrap(),
        serde_json::to_string(&rec("b")).unwrap()
    );
    let mut cmd = assert_cmd::Command::cargo_bin("trailscope").unwrap();
    let out = cmd
        .args(["ingest", "-", "--lake", lake.path().to_str().unwrap()])
        .write_stdin(lookup)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // JSON lines from a file, one of them already in the lake.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{}\n{}\n{{\"eventID\":\"no-time\"}}", rec("b"), rec("c")).unwrap();
    let out = ingest(path.to_str().unwrap(), lake.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let l = last_ledger(lake.path());
    assert_eq!(
        (l.records_read, l.rows_written, l.duplicates, l.quarantined),
        (3, 1, 1, 1)
    );
    let ids: Vec<String> = records(lake.path())
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let q = std::fs::read_dir(lake.path().join("_trailscope/quarantine/records"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let q = std::fs::read_to_string(q).unwrap();
    assert!(q.contains("no eventTime") && q.contains("no-time"), "{q}");
}

#[test]
fn one_worker_and_many_give_the_same_rows() {
    let src = tempfile::tempdir().unwrap();
    generate(
        src.path(),
        &Config {
            bad_objects: true,
            incident: true,
            ..small()
        },
    );
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = src.path().to_str().unwrap();
    let one = ingest(s, a.path(), &["-j", "1", "--fetch-concurrency", "1"]);
    let many = ingest(
        s,
        b.path(),
        &["-j", "4", "--fetch-concurrency", "32", "--memory", "64KiB"],
    );
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(many.status.code(), Some(1));
    assert_eq!(last_ledger(a.path()), last_ledger(b.path()));
    assert_eq!(restored(a.path()), restored(b.path()));
    // A tiny memory budget writes more, smaller files, never other rows.
    assert!(parquet_files(b.path()).len() > parquet_files(a.path()).len());
}

#[test]
fn write_failure_leaves_the_lake_unchanged() {
    let src = tempfile::tempdir().unwrap();
    generate(src.path(), &small());
    let lake = tempfile::tempdir().unwrap();
    let l = lake.path().to_str().unwrap();
    let first = tempfile::tempdir().unwrap();
    let cfg = Config {
        seed: 7,
        start: chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        ..small()
    };
    generate(first.path(), &cfg);
    assert_eq!(
        ingest(first.path().to_str().unwrap(), std::path::Path::new(l), &[])
            .status
            .code(),
        Some(0)
    );
    let before = restored(lake.path());
    let files_before = parquet_files(lake.path());
    let out = trailscope_with(
        &["ingest", src.path().to_str().unwrap(), "--lake", l],
        &[("TRAILSCOPE_FAILPOINT", "disk-full")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("is unchanged"), "{err}");
    assert_eq!(parquet_files(lake.path()), files_before);
    assert_eq!(restored(lake.path()), before);
    assert_eq!(
        trailscope::lake::manifest::read_runs(lake.path())
            .unwrap()
            .len(),
        1
    );
    let staging = lake.path().join("_trailscope/staging");
    assert_eq!(
        std::fs::read_dir(staging).map(|d| d.count()).unwrap_or(0),
        0
    );
}

#[test]
fn written_parquet_follows_the_schema_module_and_is_sorted_by_api_and_time() {
    use arrow::array::AsArray;
    let src = tempfile::tempdir().unwrap();
    generate(src.path(), &small());
    let lake = tempfile::tempdir().unwrap();
    ingest_ok(src.path(), lake.path());
    let files = parquet_files(lake.path());
    assert!(!files.is_empty());
    for path in files {
        let rel = path
            .strip_prefix(lake.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts[0], "cloudtrail");
        assert!(
            parts[1].starts_with("account=")
                && parts[2].starts_with("region=")
                && parts[3].starts_with("day="),
            "{rel}"
        );
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&path).unwrap(),
        )
        .unwrap();
        assert_eq!(
            builder.schema().fields(),
            trailscope::schema::file_schema().fields(),
            "{rel}"
        );
        let meta = builder.metadata().clone();
        // Long text with zstd, every other column with LZ4 (cheap to open, see the schema).
        for rg in meta.row_groups() {
            for c in rg.columns() {
                let top = c.column_path().parts()[0].as_str();
                let want = if trailscope::schema::ZSTD_COLUMNS.contains(&top) {
                    "ZSTD"
                } else {
                    "LZ4_RAW"
                };
                assert!(
                    c.compression().to_string().starts_with(want),
                    "{rel}: {} is {}",
                    c.column_path(),
                    c.compression()
                );
            }
        }
        let day = parts[3].trim_start_matches("day=");
        let mut last = (String::new(), String::new(), i64::MIN);
        for batch in builder.build().unwrap() {
            let batch = batch.unwrap();
            let t = batch
                .column_by_name("eventtime")
                .unwrap()
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            let text = |c: &str| batch.column_by_name(c).unwrap().as_string::<i32>().clone();
            let (source, name) = (text("eventsource"), text("eventname"));
            for i in 0..t.len() {
                let key = (
                    source.value(i).to_owned(),
                    name.value(i).to_owned(),
                    t.value(i),
                );
                assert!(
                    key >= last,
                    "{rel}: rows not sorted by service, API and time"
                );
                last = key;
                let d = chrono::DateTime::from_timestamp_micros(last.2)
                    .unwrap()
                    .format("%Y-%m-%d")
                    .to_string();
                assert_eq!(d, day, "{rel}: a row in the wrong day partition");
            }
        }
    }
}

#[test]
fn every_kind_of_bad_object_is_named_and_the_run_goes_on() {
    use flate2::{Compression, write::GzEncoder};
    let gz = |data: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let good = br#"{"Records":[{"eventID":"g1","eventTime":"2024-01-02T03:04:05Z","recipientAccountId":"111122223333","awsRegion":"us-east-1"}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02");
    std::fs::create_dir_all(&day).unwrap();
    let mut appended = gz(good);
    appended.extend_from_slice(&gz(b"{\"Records\":[]}"));
    let mut truncated = gz(&good.repeat(50));
    truncated.truncate(truncated.len() / 2);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("good.json.gz", gz(good), ""),
        (
            "appended.json.gz",
            appended,
            "after the end of the gzip stream",
        ),
        ("truncated.json.gz", truncated, "truncated gzip stream"),
        (
            "notjson.json.gz",
            gz(b"<html>oops</html>"),
            "not valid JSON",
        ),
        (
            "norecords.json.gz",
            gz(b"{\"hello\":\"world\"}"),
            "no CloudTrail records",
        ),
        ("bomb.json.gz", gz(&vec![b' '; 2 << 20]), "exceeds the cap"),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(day.join(name), bytes).unwrap();
    }
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        dir.path().to_str().unwrap(),
        lake.path(),
        &["--max-object-size", "1MiB"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (name, _, reason) in cases.iter().skip(1) {
        let line = stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} is not named:\n{stdout}"));
        assert!(line.contains(reason), "{name}: {line}");
    }
    let l = last_ledger(lake.path());
    assert_eq!(
        (l.objects_read, l.objects_failed, l.rows_written),
        (1, 5, 1)
    );
    let saved = std::fs::read_dir(lake.path().join("_trailscope/quarantine/objects"))
        .unwrap()
        .count();
    assert_eq!(saved, 6, "five objects' bytes and the list of bad objects");
}

/// A log whose attacker-written fields try to drive the terminal: a window title (OSC), a bell,
/// a carriage return, a C1 CSI, a right-to-left override and a forged line break; the object
/// name carries an escape too. The user agent is also a spreadsheet formula.
fn hostile_log(dir: &Path) -> PathBuf {
    let evil = "ev\u{1b}]0;pwned\u{7}il\r\u{9b}31m\u{202e}txt.exe\nerror: forged line";
    let record = serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
            "arn": format!("arn:aws:iam::111122223333:user/{evil}"), "accessKeyId": "AKIAEXAMPLEHOSTILE1",
            "userName": evil},
        "eventTime": "2024-03-05T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "AttachUserPolicy",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": format!("=HYPERLINK(\"http://x\",\"{evil}\")"),
        "requestParameters": {"userName": evil, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        "responseElements": null,
        "requestID": "r-1", "eventID": "e-hostile-1", "readOnly": false, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "111122223333"
    });
    let file = dir.join("hostile\u{1b}[2J.json");
    std::fs::write(&file, serde_json::json!({"Records": [record]}).to_string()).unwrap();
    file
}

#[test]
fn hostile_log_fields_reach_no_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    hostile_log(&src);
    let lake = dir.path().join("lake");
    let out = ingest(src.to_str().unwrap(), &lake, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let l = lake.to_str().unwrap();
    let raw = |o: &std::process::Output| {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all).into_owned();
        text.chars()
            .find(|c| matches!(*c, '\u{1b}' | '\u{7}' | '\r' | '\u{9b}' | '\u{202e}'))
            .map(|c| format!("{:?} in {text}", c))
    };
    assert_eq!(raw(&out), None, "ingest");
    for args in [
        vec!["detect", "--lake", l],
        vec!["timeline", "--lake", l, "--key", "AKIAEXAMPLEHOSTILE1"],
        vec!["summary", "--lake", l],
        vec!["trace", "AKIAEXAMPLEHOSTILE1", "--lake", l],
        vec![
            "sql",
            "--lake",
            l,
            "-e",
            "SELECT useridentity.username, useragent, source_uri FROM cloudtrail",
        ],
    ] {
        let o = trailscope(&args);
        assert!(
            o.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            describe(&o)
        );
        assert_eq!(raw(&o), None, "{args:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            !text.contains("\nerror: forged line"),
            "{args:?}: a forged line\n{text}"
        );
        // trace labels an IAM user by the end of its ARN, past the escapes.
        if args[0] != "trace" {
            assert!(
                text.contains("\\x1b]0;pwned\\x07"),
                "{args:?}: not shown escaped\n{text}"
            );
        }
    }
    // JSON keeps the values, escaped per its own rules; CSV keeps formulas text by default.
    let json = trailscope(&["detect", "--lake", l, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v[0]["actor"].as_str().unwrap().contains("\u{1b}]0;pwned"));
    let csv = trailscope(&[
        "sql",
        "--lake",
        l,
        "--format",
        "csv",
        "-e",
        "SELECT useragent FROM cloudtrail",
    ]);
    assert!(
        String::from_utf8_lossy(&csv.stdout).contains("\n\"'=HYPERLINK("),
        "{}",
        describe(&csv)
    );
    let csv = trailscope(&[
        "sql",
        "--lake",
        l,
        "--format",
        "csv-raw",
        "-e",
        "SELECT useragent FROM cloudtrail",
    ]);
    assert!(
        String::from_utf8_lossy(&csv.stdout).contains("\n\"=HYPERLINK("),
        "{}",
        describe(&csv)
    );
    let csv = trailscope(&["detect", "--lake", l, "--format", "csv"]);
    assert!(
        String::from_utf8_lossy(&csv.stdout)
            .lines()
            .nth(1)
            .is_some_and(|r| !r.contains(",="))
    );
}

fn record(id: &str, event: &str, ua: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a", "accountId": "111122223333"},
        "eventTime": "2024-03-05T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": event,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.1", "userAgent": ua,
        "eventID": id, "recipientAccountId": "111122223333", "readOnly": true
    })
}

#[test]
fn a_conflicting_record_is_quarantined_never_dropped_as_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    // One object: the same event twice (a re-delivery), and an eventID reused with other content.
    let original = record("id-1", "ListUsers", "aws-cli/2");
    let doc = serde_json::json!({"Records": [original, original, record("id-2", "ListRoles", "x"),
        record("id-2", "DeleteRole", "x")]});
    std::fs::write(a.join("one.json"), doc.to_string()).unwrap();
    let lake = dir.path().join("lake");
    let out = ingest(a.to_str().unwrap(), &lake, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let ledger = last_ledger(&lake);
    assert_eq!(
        (
            ledger.records_read,
            ledger.rows_written,
            ledger.duplicates,
            ledger.conflicts
        ),
        (4, 2, 1, 1)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("conflicting record: eventID id-2"));
    let q = std::fs::read_dir(lake.join("_trailscope/quarantine/records"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(q.path()).unwrap();
    assert!(
        text.contains("DeleteRole") && text.contains("conflicting record"),
        "{text}"
    );

    // A later run: the same record pretty-printed with its keys reordered is a duplicate; a third
    // version of id-1 conflicts with what the lake holds.
    let mut reordered = serde_json::Map::new();
    let o = record("id-1", "ListUsers", "aws-cli/2");
    for (k, v) in o.as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let doc = serde_json::json!({"Records": [serde_json::Value::Object(reordered),
        record("id-1", "ListUsers", "curl/8 (altered)")]});
    std::fs::write(
        b.join("two.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    let out = ingest(b.to_str().unwrap(), &lake, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let ledger = last_ledger(&lake);
    assert_eq!(
        (
            ledger.records_read,
            ledger.rows_written,
            ledger.duplicates,
            ledger.conflicts
        ),
        (2, 0, 1, 1)
    );
}

#[test]
fn every_record_shaped_piece_lands_in_the_lake_or_in_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let r = |id: &str| record(id, "ListUsers", "aws-cli/2").to_string();
    // Two Records arrays in one object.
    std::fs::write(
        src.join("two-lists.json"),
        format!(r#"{{"Records":[{}],"Records":[{}]}}"#, r("t-1"), r("t-2")),
    )
    .unwrap();
    // A record that also carries a Records list, and one that carries digest keys.
    let mut both = record("t-3", "ListUsers", "x");
    both["Records"] = serde_json::json!([record("t-4", "ListUsers", "x")]);
    std::fs::write(src.join("record-and-list.json"), both.to_string()).unwrap();
    let mut digestish = record("t-5", "ListUsers", "x");
    digestish["digestStartTime"] = serde_json::json!("2024-03-05T10:00:00Z");
    digestish["logFiles"] = serde_json::json!([]);
    std::fs::write(
        src.join("record-with-digest-keys.json"),
        digestish.to_string(),
    )
    .unwrap();
    // A duplicated key, at the top and nested.
    let dup = r("t-6").replacen(
        "\"eventName\":\"ListUsers\"",
        "\"eventName\":\"ListUsers\",\"eventName\":\"DeleteUser\"",
        1,
    );
    assert!(dup.contains("DeleteUser"));
    let nested = r("t-7").replacen("\"userIdentity\":{", "\"userIdentity\":{\"arn\":\"x\",", 1);
    std::fs::write(
        src.join("dup-keys.json"),
        format!(r#"{{"Records":[{dup},{nested}]}}"#),
    )
    .unwrap();
    // No records at all.
    std::fs::write(src.join("empty.json"), r#"{"Records":[]}"#).unwrap();

    let lake = dir.path().join("lake");
    let out = ingest(src.to_str().unwrap(), &lake, &[]);
    let ledger = last_ledger(&lake);
    ledger.check().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.json: holds no records"), "{err}");
    let ids: Vec<String> = records(&lake)
        .iter()
        .map(|v| v["eventID"].as_str().unwrap().to_owned())
        .collect();
    for id in ["t-1", "t-2", "t-4", "t-5"] {
        assert!(
            ids.contains(&id.to_owned()),
            "{id} is not in the lake: {ids:?}"
        );
    }
    let mut quarantined = String::new();
    for e in std::fs::read_dir(lake.join("_trailscope/quarantine/records")).unwrap() {
        quarantined.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    assert_eq!(
        quarantined.lines().count() as u64,
        ledger.quarantined,
        "{quarantined}"
    );
    for (id, why) in [
        ("t-3", "ambiguous object"),
        ("t-6", "duplicate key"),
        ("t-7", "duplicate key"),
    ] {
        let line = quarantined
            .lines()
            .find(|l| l.contains(&format!("\\\"eventID\\\":\\\"{id}\\\"")))
            .unwrap_or_else(|| {
                panic!("{id} is neither in the lake nor in quarantine:\n{quarantined}")
            });
        assert!(line.contains(why), "{id}: {line}");
    }
}

#[test]
fn a_broken_local_tree_is_named_and_the_rest_is_ingested() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let sub = src.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/05");
    std::fs::create_dir_all(&sub).unwrap();
    let log = |id: &str| {
        serde_json::json!({"Records": [record(id, "ListUsers", "aws-cli/2")]}).to_string()
    };
    std::fs::write(sub.join("good.json"), log("l-1")).unwrap();
    // A name that is not UTF-8, and one that differs from it only in how it is written.
    let odd = std::ffi::OsStr::from_bytes(b"odd-\xff.json");
    std::fs::write(sub.join(odd), log("l-2")).unwrap();
    std::fs::write(sub.join("odd-%FF.json"), log("l-3")).unwrap();
    // A link loop, a dangling link, and a hidden directory.
    std::os::unix::fs::symlink("..", sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), sub.join("dangling.json")).unwrap();
    std::fs::create_dir_all(src.join(".cache")).unwrap();
    std::fs::write(src.join(".cache/x.json"), log("l-4")).unwrap();

    let lake = dir.path().join("lake");
    let out = ingest(src.to_str().unwrap(), &lake, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dangling.json") && err.contains("link"),
        "{err}"
    );
    let l = last_ledger(&lake);
    l.check().unwrap();
    assert_eq!(
        (l.objects_read, l.rows_written, l.objects_not_logs),
        (3, 3, 1),
        "{l:?}"
    );
    assert_eq!(
        l.objects_retry, 2,
        "the link loop and the dangling link: {l:?}"
    );
    let sql = trailscope(&[
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        "-e",
        "SELECT eventid, source_uri FROM cloudtrail ORDER BY eventid",
    ]);
    let text = String::from_utf8_lossy(&sql.stdout);
    assert!(
        text.contains("l-2,") && text.contains("odd-%FF.json"),
        "{text}"
    );
    assert!(
        text.contains("l-3,") && text.contains("odd-%25FF.json"),
        "{text}"
    );
    // A second run reads nothing twice, and says the broken entries again.
    let again = ingest(src.to_str().unwrap(), &lake, &[]);
    let l = last_ledger(&lake);
    assert_eq!(
        (l.objects_read, l.objects_unchanged),
        (0, 3),
        "{}",
        describe(&again)
    );
}

#[test]
fn a_set_aside_index_is_read_back_and_still_catches_late_copies_and_conflicts() {
    // A tiny --index-memory drops every written partition's index; copies of events that come
    // late in the listing must still be caught from the partition's files, with the same counts
    // and rows as with the whole index held.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    generate(
        &src,
        &Config {
            bad_objects: true,
            ..small()
        },
    );
    // Listed after every generated object: a copy of the first object's records, one of them
    // changed (a conflict), the rest duplicates.
    use trailscope::source::{self, Location, SourceSpec, layout::ObjectKind};
    let spec = SourceSpec::parse(src.to_str().unwrap()).unwrap();
    let listed = source::list_local(&spec, &Default::default()).unwrap();
    let first = listed
        .iter()
        .find_map(|o| match (&o.kind, &o.location) {
            (ObjectKind::Log, Location::File(p)) => Some(p),
            _ => None,
        })
        .unwrap();
    let text = trailscope::ingest::decode::decode(&std::fs::read(first).unwrap(), 1 << 30)
        .unwrap()
        .into_owned();
    let mut doc: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let recs = doc["Records"].as_array_mut().unwrap();
    let copies = recs.len() as u64;
    recs[0]["eventName"] = "DeleteTrail".into();
    std::fs::write(src.join("zz-late-copy.json"), doc.to_string()).unwrap();

    let whole = dir.path().join("whole");
    let out = ingest(src.to_str().unwrap(), &whole, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let tiny = dir.path().join("tiny");
    let out = ingest(
        src.to_str().unwrap(),
        &tiny,
        &["-vv", "--memory", "1", "--index-memory", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("indexes read back") && !stderr.contains(" 0 indexes read back"),
        "{stderr}"
    );
    let (a, b) = (last_ledger(&whole), last_ledger(&tiny));
    let counts = |l: &trailscope::lake::ledger::Ledger| {
        (
            l.records_read,
            l.rows_written,
            l.duplicates,
            l.conflicts,
            l.quarantined,
        )
    };
    assert_eq!(counts(&a), counts(&b));
    assert_eq!(a.conflicts, 1);
    assert!(
        a.duplicates >= copies,
        "the late copies and the re-delivery"
    );
    assert_eq!(records(&whole), records(&tiny));
}
