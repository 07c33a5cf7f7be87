//! Ingest over the real S3 protocol: the AWS SDK against s3s-fs on 127.0.0.1.

use std::collections::HashSet;

use trailscope::source::layout;
use trailscope::synth::Config;

use crate::common::*;

fn org_config() -> Config {
    Config {
        events: 1500,
        accounts: vec!["111122223333".into(), "444455556666".into()],
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        org: Some("o-a1b2c3d4e5".into()),
        days: 4,
        events_per_object: 40,
        bad_objects: true,
        incident: true,
        ..Config::default()
    }
}

#[test]
fn s3_ingest_counts_everything_and_equals_a_local_ingest() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("trail-bucket");
    let stats = generate(&bucket, &org_config());
    let server = S3Server::start(root.path());
    let lakes = tempfile::tempdir().unwrap();
    let s3_lake = lakes.path().join("s3");
    let s3_lake = s3_lake.as_path();

    let out = ingest(
        "s3://trail-bucket/AWSLogs/",
        s3_lake,
        &["--endpoint-url", &server.endpoint],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the truncated object makes the run exit 1\n{}",
        describe(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("_partial.json.gz: truncated gzip stream"),
        "{}",
        describe(&out)
    );
    let l = last_ledger(s3_lake);
    assert_eq!(l.objects_failed, 1);
    assert_eq!(l.objects_read as usize, stats.objects);
    assert_eq!(l.objects_not_logs as usize, stats.digests);
    assert_eq!(l.records_read as usize, stats.records);
    assert_eq!(l.rows_written as usize, stats.events);
    assert_eq!(l.duplicates as usize, stats.duplicates);
    assert_eq!(l.quarantined, 0);
    // Digests were listed, never downloaded.
    assert!(
        server
            .fetched()
            .iter()
            .all(|k| !k.contains("CloudTrail-Digest"))
    );

    // The same files ingested from disk give the same rows.
    let local_lake = lakes.path().join("local");
    let out = ingest(bucket.to_str().unwrap(), &local_lake, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(records(s3_lake), records(&local_lake));
    let uris: HashSet<String> = restored(s3_lake).into_iter().map(|(_, u)| u).collect();
    assert!(
        uris.iter()
            .all(|u| u.starts_with("s3://trail-bucket/AWSLogs/o-a1b2c3d4e5/")),
        "{uris:?}"
    );

    // A second run reads nothing new.
    let fetched_before = server.fetched().len();
    let out = ingest(
        "s3://trail-bucket/AWSLogs/",
        s3_lake,
        &["--endpoint-url", &server.endpoint],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let l = last_ledger(s3_lake);
    assert_eq!(l.records_read, 0);
    assert_eq!(l.objects_unchanged as usize, stats.objects + stats.corrupt);
    assert_eq!(
        server.fetched().len(),
        fetched_before,
        "nothing is downloaded again"
    );
    assert_eq!(records(s3_lake), records(&local_lake));
}

#[test]
fn s3_filters_prune_prefixes_before_download() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("org-trail");
    let cfg = Config {
        events: 2000,
        days: 10,
        bad_objects: false,
        incident: false,
        ..org_config()
    };
    generate(&bucket, &cfg);
    let server = S3Server::start(root.path());
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        "s3://org-trail/AWSLogs/o-a1b2c3d4e5/",
        lake.path(),
        &[
            "--endpoint-url",
            &server.endpoint,
            "--accounts",
            "444455556666",
            "--regions",
            "eu-west-1",
            "--since",
            "2024-03-07",
            "--until",
            "2024-03-08",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let fetched = server.fetched();
    assert!(!fetched.is_empty());
    for key in &fetched {
        let info = layout::parse(key);
        assert_eq!(info.account.as_deref(), Some("444455556666"), "{key}");
        assert_eq!(info.region.as_deref(), Some("eu-west-1"), "{key}");
        assert!(
            (6..=9).contains(&info.day.unwrap()),
            "a day outside the slack was fetched: {key}"
        );
    }
    // Listing never descended into another account's or region's prefix.
    let requests = server.requests.lock().unwrap().clone();
    for r in requests.iter().filter(|r| r.op == "ListObjectsV2") {
        assert!(!r.uri.contains("111122223333"), "listed {}", r.uri);
        assert!(!r.uri.contains("us-east-1"), "listed {}", r.uri);
    }
    // Every object under the admitted day prefixes was read.
    let mut expected = 0;
    for day in 6..=9 {
        let dir = bucket.join(format!(
            "AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2024/03/{day:02}"
        ));
        expected += std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    }
    assert_eq!(fetched.len(), expected);
    let l = last_ledger(lake.path());
    assert_eq!(l.objects_read as usize, expected);
}

#[test]
fn unreachable_bucket_is_an_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("present")).unwrap();
    let server = S3Server::start(root.path());
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        "s3://absent-bucket/AWSLogs/",
        lake.path(),
        &["--endpoint-url", &server.endpoint],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s3://absent-bucket/AWSLogs/"), "{err}");
    assert!(
        trailscope::lake::manifest::read_runs(lake.path())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn public_buckets_are_read_unsigned_and_throttling_is_retried() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("public-trail");
    let cfg = Config {
        events: 300,
        days: 2,
        bad_objects: false,
        incident: false,
        ..org_config()
    };
    let stats = generate(&bucket, &cfg);
    let server = S3Server::start_with(root.path(), true, 3);
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        "s3://public-trail/AWSLogs/",
        lake.path(),
        &["--endpoint-url", &server.endpoint, "--no-sign-request"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let l = last_ledger(lake.path());
    assert_eq!(l.rows_written as usize, stats.events);
    // Three downloads were refused with SlowDown and retried: three more GetObject calls than objects.
    assert_eq!(server.fetched().len(), stats.objects + 3);

    // Signed requests to the public-only server are refused, and the error names the bucket.
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        "s3://public-trail/AWSLogs/",
        lake.path(),
        &["--endpoint-url", &server.endpoint],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listing s3://public-trail/AWSLogs/"));
}

#[test]
fn objects_that_failed_to_arrive_are_retried_by_the_next_run_not_forgotten() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("flaky-trail");
    let cfg = Config {
        events: 120,
        days: 1,
        events_per_object: 40,
        bad_objects: false,
        incident: false,
        ..org_config()
    };
    let stats = generate(&bucket, &cfg);
    // Every download is refused for this run (the SDK's own retries included).
    let flaky = S3Server::start_with(root.path(), true, 10_000);
    let lake = tempfile::tempdir().unwrap();
    let args = |endpoint: &str| {
        vec![
            "--endpoint-url".to_owned(),
            endpoint.to_owned(),
            "--no-sign-request".to_owned(),
        ]
    };
    let mut a = vec![
        "ingest".to_owned(),
        "s3://flaky-trail/AWSLogs/".to_owned(),
        "--lake".to_owned(),
    ];
    a.push(lake.path().to_str().unwrap().to_owned());
    a.extend(args(&flaky.endpoint));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    // One attempt per request, so that the refusals come quickly.
    let out = trailscope_with(&a, &[("AWS_MAX_ATTEMPTS", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let l = last_ledger(lake.path());
    assert_eq!(
        (l.objects_retry as usize, l.objects_failed),
        (stats.objects, 0)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the next run tries again"));
    drop(flaky);
    // The network is back: every object is read, none is "unchanged since last run".
    let good = S3Server::start_with(root.path(), true, 0);
    let a = args(&good.endpoint);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = ingest("s3://flaky-trail/AWSLogs/", lake.path(), &a);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let l = last_ledger(lake.path());
    assert_eq!(
        (
            l.objects_read as usize,
            l.objects_unchanged,
            l.rows_written as usize
        ),
        (stats.objects, 0, stats.events)
    );
}
