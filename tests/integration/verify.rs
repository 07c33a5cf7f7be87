//! `trailscope verify` end to end: real signed digest chains (an RSA test key, digests made as
//! CloudTrail makes them) served with their signature metadata by the S3 server on 127.0.0.1, and
//! local copies; every way a trail can be tampered with, and offline use.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use trailscope::synth::Config;
use trailscope::synth::digests::{DigestConfig, SignedDigest, sign_tree};
use trailscope::verify::data_signing_string;

use crate::common::*;

const BUCKET: &str = "trail-bucket";

fn key_config(sidecars: bool) -> DigestConfig {
    DigestConfig::test(BUCKET, "main", sidecars, true)
}

/// A signed trail: logs of one account in two regions over two days, with the incident story.
/// The S3 tests use the account layout: the test server keeps an object's metadata in a file
/// named after the base64 of its key, and an organization trail's digest keys make that name
/// longer than a file name may be.
struct Trail {
    root: tempfile::TempDir,
    digests: Vec<SignedDigest>,
    keys: PathBuf,
}

impl Trail {
    fn new(sidecars: bool) -> Trail {
        Self::with_org(sidecars, None)
    }

    fn with_org(sidecars: bool, org: Option<&str>) -> Trail {
        let root = tempfile::tempdir().unwrap();
        let cfg = Config {
            events: 300,
            accounts: vec!["111122223333".into()],
            days: 2,
            events_per_object: 25,
            incident: true,
            digests: false,
            org: org.map(str::to_owned),
            ..Config::default()
        };
        generate(&root.path().join(BUCKET), &cfg);
        let kc = key_config(sidecars);
        let digests = sign_tree(&root.path().join(BUCKET), &kc).unwrap();
        let keys = root.path().join("keys.json");
        fs::write(&keys, kc.public_keys().unwrap().to_json()).unwrap();
        Trail {
            root,
            digests,
            keys,
        }
    }

    fn bucket(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    fn keys(&self) -> &str {
        self.keys.to_str().unwrap()
    }

    /// Log files, by key.
    fn logs(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.bucket(), &self.bucket(), &mut out);
        out.retain(|k| k.contains("/CloudTrail/") && k.ends_with(".json.gz"));
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// An S3 client for the test server.
fn client(server: &S3Server) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIATESTTESTTEST",
            "test-secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Uploads a digest with (or without) its signature metadata, as CloudTrail delivers it.
fn put(server: &S3Server, key: &str, bytes: Vec<u8>, signature: Option<&str>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client(server);
    rt.block_on(async {
        let mut req = c.put_object().bucket(BUCKET).key(key).body(bytes.into());
        if let Some(s) = signature {
            req = req
                .metadata("signature", s)
                .metadata("signature-algorithm", "SHA256withRSA");
        }
        req.send().await.expect("PutObject");
    });
}

/// Serves the trail over S3 with every digest's signature in its metadata.
fn serve(trail: &Trail) -> S3Server {
    let server = S3Server::start(trail.root.path());
    for d in &trail.digests {
        put(
            &server,
            &d.key,
            fs::read(&d.path).unwrap(),
            Some(&d.signature),
        );
    }
    server
}

/// `trailscope verify` of the served trail with `keys` and `extra` arguments (text output).
fn verify_text(server: &S3Server, keys: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "verify",
        "s3://trail-bucket/AWSLogs/",
        "--endpoint-url",
        &server.endpoint,
        "--public-keys",
        keys,
    ];
    args.extend_from_slice(extra);
    trailscope(&args)
}

/// `trailscope verify` of the served trail with the trail's keys, and its JSON output.
fn verify(server: &S3Server, trail: &Trail, extra: &[&str]) -> (std::process::Output, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = verify_text(server, trail.keys(), &args);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json output: {e}\n{}", describe(&out)));
    (out, json)
}

/// Ingests the served trail into a new lake.
fn ingested(server: &S3Server) -> tempfile::TempDir {
    let lake = tempfile::tempdir().unwrap();
    let out = ingest(
        "s3://trail-bucket/AWSLogs/",
        lake.path(),
        &["--endpoint-url", &server.endpoint],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    lake
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The verdicts on objects whose URI contains `part`.
fn verdicts<'a>(json: &'a Value, list: &str, part: &str) -> Vec<&'a Value> {
    json[list]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["uri"].as_str().unwrap().contains(part))
        .collect()
}

/// Asserts the verdict on the first object whose URI contains `part`.
fn expect(json: &Value, list: &str, part: &str, status: &str, reason: &str) {
    let v = verdicts(json, list, part);
    assert!(!v.is_empty(), "no verdict on {part}");
    assert_eq!(v[0]["status"], status, "{v:?}");
    assert!(
        v[0]["reason"].as_str().unwrap_or("").contains(reason),
        "{v:?}"
    );
}

fn counts(json: &Value, what: &str) -> (u64, u64, u64) {
    let c = &json[what];
    (
        c["valid"].as_u64().unwrap(),
        c["invalid"].as_u64().unwrap(),
        c["missing"].as_u64().unwrap(),
    )
}

/// Asserts, through the lake `lake_args` name, that the `verification` table holds every
/// ingested object as valid and that every finding's evidence is verified; the findings.
fn assert_all_verified(lake_args: &[&str]) -> Vec<Value> {
    let sql = [
        "sql",
        "--format",
        "csv",
        "-e",
        "SELECT v.status, count(*) AS n FROM cloudtrail c JOIN verification v ON v.source_uri = c.source_uri GROUP BY 1",
    ];
    let out = trailscope(&[&sql[..], lake_args].concat());
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.lines().nth(1).unwrap_or("").starts_with("valid,"),
        "{}",
        describe(&out)
    );
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let out = trailscope(&[&["detect", "--format", "json"][..], lake_args].concat());
    let findings: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("findings json: {e}\n{}", describe(&out)));
    let findings = findings.as_array().expect("findings").clone();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["evidence"] == "verified"),
        "{findings:?}"
    );
    findings
}

#[test]
fn a_valid_chain_over_hours_and_regions_verifies_and_marks_findings() {
    let trail = Trail::new(false);
    let server = serve(&trail);
    let lake = ingested(&server);
    let lake_dir = lake.path().to_str().unwrap();

    let (out, json) = verify(&server, &trail, &["--lake", lake_dir]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let logs = trail.logs().len() as u64;
    assert_eq!(
        counts(&json, "digest_files"),
        (trail.digests.len() as u64, 0, 0)
    );
    assert_eq!(counts(&json, "log_files"), (logs, 0, 0));
    assert!(json["all_valid"].as_bool().unwrap());
    let regions: std::collections::BTreeSet<&str> = json["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["chain"].as_str().unwrap().split('/').nth(1).unwrap())
        .collect();
    assert_eq!(regions.len(), 2, "{regions:?}");
    // The lake's manifest already holds every log file's content hash: nothing read twice.
    let log_gets = server
        .fetched()
        .iter()
        .filter(|k| k.contains("/CloudTrail/"))
        .count();
    assert_eq!(
        log_gets as u64, logs,
        "each log file downloaded once, by ingest"
    );

    // The text summary speaks the AWS CLI's terms.
    let text = verify_text(&server, trail.keys(), &["--lake", lake_dir]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(&format!("{0}/{0} digest files valid", trail.digests.len())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{logs}/{logs} log files valid")),
        "{stdout}"
    );

    // Stored as a table, and findings say their evidence is verified.
    let findings = assert_all_verified(&["--lake", lake_dir]);

    // One log file changed after delivery: verify says so and the findings from it are invalid.
    let victim = trail
        .logs()
        .into_iter()
        .find(|k| {
            findings.iter().any(|f| {
                f["source_uris"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|u| u.as_str().unwrap().ends_with(k.as_str()))
            })
        })
        .expect("a log file with findings");
    let path = trail.bucket().join(&victim);
    let mut content = gunzip(&fs::read(&path).unwrap());
    let at = content.iter().position(|b| *b == b'2').unwrap();
    content[at] = b'3';
    fs::write(&path, gzip(&content)).unwrap();
    // Re-ingest to put the changed object (a new version) in the lake, then verify.
    ingest(
        "s3://trail-bucket/AWSLogs/",
        lake.path(),
        &["--endpoint-url", &server.endpoint],
    );
    let (out, json) = verify(&server, &trail, &["--lake", lake_dir]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    expect(
        &json,
        "logs",
        &victim,
        "invalid",
        "hash value doesn't match",
    );
    let out = trailscope(&["detect", "--lake", lake_dir, "--format", "json"]);
    let findings: Value = serde_json::from_slice(&out.stdout).expect("findings json");
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["evidence"] == "invalid"),
        "{findings}"
    );
}

#[test]
fn changed_reformatted_and_appended_log_files_are_invalid() {
    let trail = Trail::new(false);
    let logs = trail.logs();
    let (changed, reformatted, appended) = (&logs[1], &logs[2], &logs[3]);
    let path = |k: &str| trail.bucket().join(k);
    // One byte of content.
    let mut c = gunzip(&fs::read(path(changed)).unwrap());
    let at = c.iter().rposition(|b| b.is_ascii_digit()).unwrap();
    c[at] = if c[at] == b'1' { b'2' } else { b'1' };
    fs::write(path(changed), gzip(&c)).unwrap();
    // Same records, other JSON formatting.
    let v: Value = serde_json::from_slice(&gunzip(&fs::read(path(reformatted)).unwrap())).unwrap();
    fs::write(
        path(reformatted),
        gzip(serde_json::to_string_pretty(&v).unwrap().as_bytes()),
    )
    .unwrap();
    // A second gzip member after the real one: the content of the first still hashes right.
    let mut bytes = fs::read(path(appended)).unwrap();
    bytes.extend_from_slice(&gzip(br#"{"Records":[{"eventName":"Smuggled"}]}"#));
    fs::write(path(appended), bytes).unwrap();

    let server = serve(&trail);
    let (out, json) = verify(&server, &trail, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(counts(&json, "digest_files").1, 0);
    assert_eq!(counts(&json, "log_files"), (logs.len() as u64 - 3, 3, 0));
    for k in [changed, reformatted] {
        expect(&json, "logs", k, "invalid", "hash value doesn't match");
    }
    expect(
        &json,
        "logs",
        appended,
        "invalid",
        "after the end of the gzip stream",
    );
    // The text output names them the AWS CLI way.
    let out = verify_text(&server, trail.keys(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("3/{} log files INVALID", logs.len())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Log file\ts3://trail-bucket/{changed}\tINVALID: hash value doesn't match"
        )),
        "{text}"
    );
}

#[test]
fn moved_unsigned_and_unknown_key_digests_are_invalid() {
    let trail = Trail::new(false);
    let server = serve(&trail);
    let d = &trail.digests[5];
    // Copied, metadata and all, to another key.
    let copy = d.key.replace("_main_", "_main-copy_");
    put(
        &server,
        &copy,
        fs::read(&d.path).unwrap(),
        Some(&d.signature),
    );
    // Another digest re-uploaded without its signature metadata.
    let unsigned = &trail.digests[9];
    put(
        &server,
        &unsigned.key,
        fs::read(&unsigned.path).unwrap(),
        None,
    );
    let (out, json) = verify(&server, &trail, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    expect(&json, "digests", "main-copy", "invalid", "moved or copied");
    expect(
        &json,
        "digests",
        &unsigned.key,
        "invalid",
        "no signature metadata",
    );
    // The log files only the unsigned digest lists are unverified, not valid.
    if unsigned.log_files > 0 {
        assert!(
            json["logs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["status"] == "unverified")
        );
    }

    // Keys that do not include the signing key's fingerprint.
    let other = trail.root.path().join("other-keys.json");
    let text = fs::read_to_string(&trail.keys).unwrap().replace(
        "5a1e0f7e6d4c3b2a19081716151413aa",
        "00000000000000000000000000000000",
    );
    fs::write(&other, text).unwrap();
    let out = verify_text(&server, other.to_str().unwrap(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&json, "digest_files").0, 0);
    assert!(
        json["digests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["reason"]
                .as_str()
                .unwrap_or("")
                .contains("public key not found for fingerprint 5a1e0f7e")),
        "{json}"
    );
}

#[test]
fn deleted_middle_and_newest_digests_are_gaps() {
    let trail = Trail::new(false);
    let server = serve(&trail);
    let chain: Vec<&SignedDigest> = trail
        .digests
        .iter()
        .filter(|d| d.key.contains("/us-east-1/"))
        .collect();
    let middle = chain[chain.len() / 2];
    let newest = chain[chain.len() - 1];
    assert!(newest.log_files > 0, "the last hour delivered logs");
    for d in [middle, newest] {
        fs::remove_file(trail.root.path().join(BUCKET).join(&d.key)).unwrap();
    }
    let (out, json) = verify(&server, &trail, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let missing: Vec<&Value> = json["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "missing")
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(
        missing
            .iter()
            .any(|d| d["uri"].as_str().unwrap().ends_with(&middle.key)),
        "the deleted middle digest is named: {missing:?}"
    );
    assert!(
        missing.iter().any(|d| d["reason"]
            .as_str()
            .unwrap()
            .contains("newest digests were deleted")),
        "{missing:?}"
    );
    // What the deleted digests listed is no longer proven.
    let unverified = json["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "unverified")
        .count();
    assert_eq!(unverified, middle.log_files + newest.log_files);
}

/// Rewrites digest `i` of the trail with `edit` applied to its JSON, signed validly.
fn resign(trail: &Trail, server: &S3Server, i: usize, edit: impl Fn(&mut Value)) {
    let d = &trail.digests[i];
    let mut v: Value = serde_json::from_slice(&gunzip(&fs::read(&d.path).unwrap())).unwrap();
    edit(&mut v);
    let body = v.to_string().into_bytes();
    let sig = key_config(false)
        .sign(&data_signing_string(
            v["digestEndTime"].as_str().unwrap(),
            BUCKET,
            &d.key,
            &body,
            v["previousDigestSignature"].as_str(),
        ))
        .unwrap();
    put(server, &d.key, gzip(&body), Some(&sig));
}

#[test]
fn broken_chain_hashes_and_signatures_are_invalid() {
    let trail = Trail::new(false);
    let server = serve(&trail);
    resign(&trail, &server, 4, |v| {
        v["previousDigestHashValue"] = Value::from(hex::encode(Sha256::digest(b"not it")));
    });
    resign(&trail, &server, 10, |v| {
        v["previousDigestSignature"] = Value::from("ab".repeat(256));
    });
    let (out, json) = verify(&server, &trail, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    expect(
        &json,
        "digests",
        &trail.digests[4].key,
        "invalid",
        "previousDigestHashValue",
    );
    expect(
        &json,
        "digests",
        &trail.digests[10].key,
        "invalid",
        "previousDigestSignature",
    );
}

#[test]
fn backfill_digests_cover_late_files_and_unlisted_files_are_unverified() {
    let trail = Trail::new(false);
    let logs = trail.logs();
    // Two late files in the first log file's directory: one a backfill digest lists, one nothing lists.
    let dir = Path::new(&logs[0])
        .parent()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let body = gzip(br#"{"Records":[]}"#);
    let late =
        format!("{dir}/111122223333_CloudTrail_us-east-1_20240304T0105Z_latelatelate0001.json.gz");
    let stray =
        format!("{dir}/111122223333_CloudTrail_us-east-1_20240304T0107Z_straystraystra01.json.gz");
    fs::write(trail.bucket().join(&late), &body).unwrap();
    fs::write(trail.bucket().join(&stray), &body).unwrap();
    let server = serve(&trail);
    let base = logs[0].split("/CloudTrail/").next().unwrap();
    let key = format!(
        "{base}/CloudTrail-Digest/us-east-1/2024/03/04/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20240304T020000Z_backfill.json.gz"
    );
    let v = serde_json::json!({
        "awsAccountId": "111122223333", "digestStartTime": "2024-03-04T01:00:00Z",
        "digestEndTime": "2024-03-04T02:00:00Z", "digestS3Bucket": BUCKET, "digestS3Object": key,
        "digestPublicKeyFingerprint": "5a1e0f7e6d4c3b2a19081716151413aa",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "previousDigestS3Bucket": null, "previousDigestS3Object": null,
        "previousDigestHashValue": null, "previousDigestHashAlgorithm": null,
        "previousDigestSignature": null,
        "logFiles": [{"s3Bucket": BUCKET, "s3Object": late,
            "hashValue": hex::encode(Sha256::digest(br#"{"Records":[]}"#)), "hashAlgorithm": "SHA-256"}]
    });
    let bytes = v.to_string().into_bytes();
    let sig = key_config(false)
        .sign(&data_signing_string(
            "2024-03-04T02:00:00Z",
            BUCKET,
            &key,
            &bytes,
            None,
        ))
        .unwrap();
    put(&server, &key, gzip(&bytes), Some(&sig));

    let (out, json) = verify(&server, &trail, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the stray file: {}",
        describe(&out)
    );
    let b = verdicts(&json, "digests", "_backfill");
    assert_eq!(b[0]["status"], "valid", "{b:?}");
    assert_eq!(b[0]["backfill"], true);
    assert_eq!(verdicts(&json, "logs", &late)[0]["status"], "valid");
    expect(&json, "logs", &stray, "unverified", "no digest lists it");
    assert_eq!(
        verdicts(&json, "logs", &stray)[0]["reason"],
        "no digest lists it"
    );
    assert_eq!(
        counts(&json, "digest_files"),
        (trail.digests.len() as u64 + 1, 0, 0)
    );
    assert!(
        json["notes"].as_array().unwrap().is_empty(),
        "{:?}",
        json["notes"]
    );
    assert_eq!(json["log_files"]["unverified"], 1);
}

#[test]
fn offline_verification_from_kept_digests_and_saved_keys() {
    let trail = Trail::new(false);
    let lake = tempfile::tempdir().unwrap();
    let lake_dir = lake.path().to_str().unwrap();
    {
        let server = serve(&trail);
        let out = ingest(
            "s3://trail-bucket/AWSLogs/",
            lake.path(),
            &["--endpoint-url", &server.endpoint, "--keep-digests"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("digests: {} kept", trail.digests.len())),
            "{text}"
        );
    }
    // The server is gone; the keys are re-saved by --save-public-keys and read back.
    let saved = lake.path().join("keys-copy.json");
    let out = trailscope(&[
        "verify",
        "--lake",
        lake_dir,
        "--public-keys",
        trail.keys(),
        "--save-public-keys",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{0}/{0} digest files valid", trail.digests.len())),
        "{text}"
    );
    let n = trail.logs().len();
    assert!(text.contains(&format!("{n}/{n} log files valid")), "{text}");
    let out = trailscope(&[
        "verify",
        "--lake",
        lake_dir,
        "--public-keys",
        saved.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // The keys used were kept beside the lake: no --public-keys needed from now on.
    let out = trailscope(&["verify", "--lake", lake_dir]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // A kept digest tampered with on disk is caught offline too.
    let kept = trailscope::lake::digests::digest_dir(lake.path())
        .join(BUCKET)
        .join(&trail.digests[3].key);
    let mut v: Value = serde_json::from_slice(&gunzip(&fs::read(&kept).unwrap())).unwrap();
    v["newestEventTime"] = Value::from("2024-03-04T03:59:59Z");
    fs::write(&kept, gzip(v.to_string().as_bytes())).unwrap();
    let out = trailscope(&["verify", "--lake", lake_dir, "--public-keys", trail.keys()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INVALID: signature verification failed"),
        "{text}"
    );
}

#[test]
fn a_lake_in_s3_is_verified_and_keeps_its_verdicts_and_keys() {
    let trail = Trail::new(false);
    fs::create_dir_all(trail.root.path().join("case-bucket")).unwrap();
    let server = serve(&trail);
    let ep = server.endpoint.as_str();
    let lake = "s3://case-bucket/cases/7";
    let out = trailscope(&[
        "ingest",
        "s3://trail-bucket/AWSLogs/",
        "--lake",
        lake,
        "--endpoint-url",
        ep,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let fetched = server.fetched().len();

    // `verify` of the served trail into the S3 lake, with `extra` arguments.
    let verify_into_lake = |extra: &[&str]| {
        let args = [
            "verify",
            "s3://trail-bucket/AWSLogs/",
            "--lake",
            lake,
            "--endpoint-url",
            ep,
        ];
        trailscope(&[&args[..], extra].concat())
    };
    let out = verify_into_lake(&["--public-keys", trail.keys()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let n = trail.logs().len();
    assert!(text.contains(&format!("{n}/{n} log files valid")), "{text}");
    assert!(
        text.contains(
            "Verdicts stored in s3://case-bucket/cases/7/_trailscope/verification.parquet"
        ),
        "{text}"
    );
    // The manifest in S3 holds every log file's hash: no log file was read again.
    let again: Vec<String> = server.fetched()[fetched..]
        .iter()
        .filter(|k| k.contains("/CloudTrail/"))
        .cloned()
        .collect();
    assert!(again.is_empty(), "{again:?}\n{}", describe(&out));
    // Nothing was left on this machine under a name like the URI.
    assert!(!Path::new("s3:").exists());

    // The keys were kept in the lake: a second run needs no --public-keys (nor CloudTrail).
    let out = verify_into_lake(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["all_valid"].as_bool().unwrap(), "{json}");

    // Every reader of the S3 lake sees the verdicts: SQL and the findings' evidence.
    assert_all_verified(&["--lake", lake, "--endpoint-url", ep]);

    // Offline, an S3 lake has no kept digests: the error says so and names the lake.
    let out = trailscope(&["verify", "--lake", lake, "--endpoint-url", ep]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the lake s3://case-bucket/cases/7 keeps no digests"),
        "{err}"
    );
    // A prefix with no lake is named as such.
    let out = trailscope(&[
        "verify",
        "--lake",
        "s3://case-bucket/none",
        "--endpoint-url",
        ep,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("s3://case-bucket/none is not a lake"),
        "{}",
        describe(&out)
    );
}

#[test]
fn local_copies_verify_with_sidecars_and_name_missing_signatures_without() {
    let trail = Trail::with_org(true, Some("o-a1b2c3d4e5"));
    let dir = trail.bucket();
    let local = |keys: &str| trailscope(&["verify", dir.to_str().unwrap(), "--public-keys", keys]);
    let out = local(trail.keys());
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("digest files valid"), "{text}");
    assert!(text.contains("No lake at"), "{text}");
    // Without the sidecars, nothing says the digests were signed.
    for d in &trail.digests {
        fs::remove_file(trailscope::lake::digests::sidecar(&d.path)).unwrap();
    }
    let out = local(trail.keys());
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INVALID: no signature metadata"), "{text}");
    // Bad input is an error, exit 2.
    let out = local("/nonexistent/keys.json");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

/// A CloudTrail endpoint on 127.0.0.1 that answers ListPublicKeys (the AWS JSON 1.1 protocol)
/// with `keys`, and records the requests.
fn cloudtrail_endpoint(
    keys: &trailscope::verify::PublicKeys,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let list: Vec<Value> = keys
        .entries()
        .iter()
        .map(|k| {
            serde_json::json!({
                "Value": k.value, "Fingerprint": k.fingerprint,
                "ValidityStartTime": 946684800.0, "ValidityEndTime": 4102444800.0
            })
        })
        .collect();
    let body = serde_json::json!({ "PublicKeyList": list }).to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let (head, start, need) = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (String::new(), 0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    break (head, end + 4, end + 4 + len);
                }
            };
            while buf.len() < need {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let target = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("x-amz-target:"))
                .unwrap_or("")
                .to_owned();
            log.lock().unwrap().push(format!(
                "{target} {}",
                String::from_utf8_lossy(&buf[start.min(buf.len())..])
            ));
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn public_keys_come_from_list_public_keys_and_are_saved() {
    let trail = Trail::new(false);
    let server = serve(&trail);
    let keys = key_config(false).public_keys().unwrap();
    let (endpoint, requests) = cloudtrail_endpoint(&keys);
    let lake = ingested(&server);
    let lake_dir = lake.path().to_str().unwrap();
    let saved = lake.path().join("saved-keys.json");
    let out = trailscope_with(
        &[
            "verify",
            "s3://trail-bucket/AWSLogs/",
            "--endpoint-url",
            &server.endpoint,
            "--lake",
            lake_dir,
            "--save-public-keys",
            saved.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_CLOUDTRAIL", &endpoint)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let requests = requests.lock().unwrap().clone();
    // One call per region whose digests were found.
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.contains("CloudTrail_20131101.ListPublicKeys")),
        "{requests:?}"
    );
    let saved =
        trailscope::verify::PublicKeys::from_json(&fs::read_to_string(&saved).unwrap()).unwrap();
    assert!(saved.get("5a1e0f7e6d4c3b2a19081716151413aa").is_some());
    // The keys were kept beside the lake too: offline verification needs nothing more.
    assert!(trailscope::lake::digests::keys_path(lake.path()).exists());
    let out = trailscope(&["verify", "--lake", lake_dir, "--format", "json"]);
    // No digests were kept (no --keep-digests), so offline there is nothing to verify with.
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn the_sample_carries_a_signed_chain_and_its_truncated_copy_is_unverified() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let keys = root.join("tests/fixtures/digest-test-public-keys.json");
    let nolake = tempfile::tempdir().unwrap();
    let out = trailscope(&[
        "verify",
        root.join("sample-logs").to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
        "--lake",
        nolake.path().join("none").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("60/60 digest files valid"), "{text}");
    assert!(
        text.contains("61/62 log files valid, 1/62 log files unverified"),
        "{text}"
    );
    assert!(
        text.contains("_partial.json.gz\tUNVERIFIED: no digest lists it"),
        "{text}"
    );
}
