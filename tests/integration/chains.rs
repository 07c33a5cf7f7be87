//! Credential chains: `trailscope trace` and the `credential_chains` table over hand-built chains
//! of depth 1 to 4 (role chaining, a cross-account hop recorded in both accounts, SAML, web
//! identity, GetSessionToken), a cycle, a missing issuer, and the sample incident.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use trailscope::investigate::chains::{self, Origin};

use crate::common::*;
use crate::rules::{ACCOUNT, Ev, ev, role_identity, sts};

const B: &str = "222222222222";

fn assume(caller: Ev, role: &str, session: &str, new_key: &str, at: i64) -> Ev {
    caller
        .req(json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "roleSessionName": session}))
        .resp(json!({"credentials": {"accessKeyId": new_key, "sessionToken": "x", "expiration": "later"},
                     "assumedRoleUser": {"arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"), "assumedRoleId": format!("AROA{role}:{session}")}}))
        .at_min(at)
}

/// The fixture records: every chain shape at once (they do not interfere).
fn records() -> Vec<Value> {
    let mut v: Vec<Ev> = Vec::new();
    // alice's long-term key -> ASIA1 (r1) -> ASIA2 (r2) -> ASIA3 (role in account B) -> ASIA4.
    v.push(assume(
        sts("AssumeRole").user("alice"),
        "r1",
        "s1",
        "ASIAONE",
        1,
    ));
    v.push(assume(
        sts("AssumeRole").role_key("r1", "s1", "ASIAONE"),
        "r2",
        "s2",
        "ASIATWO",
        2,
    ));
    // The cross-account hop, recorded by both accounts under one eventID: the caller's copy names
    // the caller's key, the role account's copy only the caller's account.
    let hop = assume(
        sts("AssumeRole").role_key("r2", "s2", "ASIATWO"),
        "r3",
        "s3",
        "ASIATHREE",
        3,
    );
    let mut copy = hop.clone().set("recipientAccountId", json!(B));
    copy.0["userIdentity"] =
        json!({"type": "AWSAccount", "principalId": "AROAR2:s2", "accountId": ACCOUNT});
    v.push(hop);
    v.push(copy);
    v.push(assume(
        sts("AssumeRole")
            .role_key("r3", "s3", "ASIATHREE")
            .set("recipientAccountId", json!(B)),
        "r4",
        "s4",
        "ASIAFOUR",
        4,
    ));
    v.push(
        ev("s3.amazonaws.com", "ListBuckets")
            .role_key("r4", "s4", "ASIAFOUR")
            .set("recipientAccountId", json!(B))
            .at_min(5),
    );
    // SAML and web identity.
    v.push(
        assume(sts("AssumeRoleWithSAML"), "sso-admin", "jane", "ASIASAML", 6)
            .set("userIdentity", json!({"type": "SAMLUser", "principalId": "okta:jane@example.com", "userName": "jane@example.com", "identityProvider": "arn:aws:iam::111111111111:saml-provider/Okta"}))
            .set("responseElements", json!({"credentials": {"accessKeyId": "ASIASAML"}, "subject": "jane@example.com", "assumedRoleUser": {"arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/sso-admin/jane")}})),
    );
    v.push(
        assume(sts("AssumeRoleWithWebIdentity"), "gh-deploy", "run-42", "ASIAWEB", 7)
            .set("userIdentity", json!({"type": "WebIdentityUser", "principalId": "token.actions.githubusercontent.com:repo:org/app", "userName": "repo:org/app:ref:refs/heads/main", "identityProvider": "token.actions.githubusercontent.com"})),
    );
    // bob's key -> GetSessionToken -> ASIABOBSESSION -> AssumeRole -> ASIABOBROLE.
    v.push(
        sts("GetSessionToken")
            .user("bob")
            .resp(json!({"credentials": {"accessKeyId": "ASIABOBSESSION"}}))
            .at_min(8),
    );
    v.push(assume(sts("AssumeRole").set("userIdentity", json!({"type": "IAMUser", "principalId": "AIDABOB", "arn": format!("arn:aws:iam::{ACCOUNT}:user/bob"), "accountId": ACCOUNT, "accessKeyId": "ASIABOBSESSION", "userName": "bob"})), "ops", "bob", "ASIABOBROLE", 9));
    // A cycle (impossible in AWS, possible in tampered or merged logs).
    v.push(assume(
        sts("AssumeRole").role_key("x", "x", "ASIACYCLEB"),
        "y",
        "y",
        "ASIACYCLEA",
        10,
    ));
    v.push(assume(
        sts("AssumeRole").role_key("y", "y", "ASIACYCLEA"),
        "x",
        "x",
        "ASIACYCLEB",
        11,
    ));
    // A key whose issuing event is not in the lake, seen only in later events.
    v.push(
        ev("ec2.amazonaws.com", "DescribeInstances")
            .role_key("orphan", "o", "ASIAORPHAN")
            .at_min(12),
    );
    v.push(assume(
        sts("AssumeRole").role_key("orphan", "o", "ASIAORPHAN"),
        "r5",
        "s5",
        "ASIACHILD",
        13,
    ));
    let _ = role_identity;
    v.into_iter().map(|e| e.0).collect()
}

fn lake() -> &'static Path {
    static LAKE: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    &LAKE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let src = dir.path().join("chains.json");
            std::fs::write(&src, json!({"Records": records()}).to_string()).unwrap();
            let lake = dir.path().join("lake");
            ingest_ok(&src, &lake);
            (dir, lake)
        })
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_resolve_to_their_origins() {
    let ctx = trailscope::query::session::open(lake()).await.unwrap();
    let issues = chains::issues(&ctx).await.unwrap();
    let users = chains::key_users(&ctx).await.unwrap();
    let lookup = |k: &str| users.get(k).cloned();
    let trace = |k: &str| chains::trace_up(&issues, k, &lookup);
    let alice = Origin::User {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        key: Some("AKIAALICE".into()),
    };
    for (key, depth) in [
        ("ASIAONE", 1),
        ("ASIATWO", 2),
        ("ASIATHREE", 3),
        ("ASIAFOUR", 4),
    ] {
        let c = trace(key);
        assert_eq!(c.origin, alice, "{key}: {c:?}");
        assert_eq!(c.hops.len(), depth, "{key}");
    }
    // The cross-account hop resolves through the copy that names the caller's key.
    assert_eq!(
        trace("ASIATHREE").hops[0].caller_key.as_deref(),
        Some("ASIATWO")
    );
    assert_eq!(
        trace("ASIASAML").origin,
        Origin::Saml {
            who: "jane@example.com".into()
        }
    );
    assert_eq!(
        trace("ASIAWEB").origin,
        Origin::WebIdentity {
            who: "repo:org/app:ref:refs/heads/main".into()
        }
    );
    let bob = trace("ASIABOBROLE");
    assert_eq!(
        bob.origin,
        Origin::User {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/bob"),
            key: Some("AKIABOB".into())
        }
    );
    assert_eq!(
        bob.hops
            .iter()
            .map(|h| h.eventname.as_str())
            .collect::<Vec<_>>(),
        ["AssumeRole", "GetSessionToken"]
    );
    assert!(matches!(trace("ASIACYCLEA").origin, Origin::Cycle { .. }));
    assert_eq!(
        trace("ASIACHILD").origin,
        Origin::Missing {
            key: "ASIAORPHAN".into()
        }
    );
    assert_eq!(
        trace("ASIAORPHAN").origin,
        Origin::Missing {
            key: "ASIAORPHAN".into()
        }
    );
    // Downward: everything alice's key spawned, in depth order along each branch.
    let spawned: Vec<(usize, String)> = chains::descendants(&issues, "AKIAALICE")
        .into_iter()
        .map(|(d, i)| (d, i.key))
        .collect();
    assert_eq!(
        spawned,
        [
            (1, "ASIAONE".into()),
            (2, "ASIATWO".into()),
            (3, "ASIATHREE".into()),
            (4, "ASIAFOUR".into())
        ]
    );
}

#[test]
fn credential_chains_table_and_trace_command() {
    let l = lake().to_str().unwrap();
    let rows: Vec<Value> = json_ok(&[
        "sql",
        "--lake",
        l,
        "--format",
        "json",
        "-e",
        "SELECT access_key, depth, origin_type, origin_key, chain FROM credential_chains ORDER BY access_key",
    ]);
    let by: BTreeMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["access_key"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by["ASIAFOUR"]["depth"], 4);
    assert_eq!(by["ASIAFOUR"]["origin_key"], "AKIAALICE");
    assert_eq!(
        by["ASIAFOUR"]["chain"],
        json!(["AKIAALICE", "ASIAONE", "ASIATWO", "ASIATHREE", "ASIAFOUR"])
    );
    assert_eq!(by["AKIAALICE"]["depth"], 0);
    assert_eq!(by["ASIASAML"]["origin_type"], "saml");
    assert_eq!(by["ASIACHILD"]["origin_type"], "missing");
    // Activity grouped by the human behind it.
    let out = trailscope(&[
        "sql",
        "--lake",
        l,
        "--format",
        "csv",
        "-e",
        "SELECT k.origin_key, count(*) AS n FROM cloudtrail c JOIN credential_chains k ON c.useridentity.accesskeyid = k.access_key WHERE k.origin_key = 'AKIAALICE' GROUP BY 1",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "origin_key,n\nAKIAALICE,5",
        "{}",
        describe(&out)
    );

    let out = trailscope(&["trace", "ASIAFOUR", "--lake", l]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("origin: user/alice (key AKIAALICE)"),
        "{text}"
    );
    let order: Vec<usize> = ["→ ASIAONE", "→ ASIATWO", "→ ASIATHREE", "→ ASIAFOUR"]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    let out = trailscope(&[
        "trace",
        "arn:aws:sts::111111111111:assumed-role/r2/s2",
        "--lake",
        l,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["chain"]["key"], "ASIATWO");
    let out = trailscope(&["trace", "ASIACHILD", "--lake", l]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("missing link: the event that issued ASIAORPHAN is not in the lake")
    );
    // Nothing matching is an answer, not a finding: exit 0, said on stderr.
    let out = trailscope(&["trace", "ASIANOSUCHKEY", "--lake", l]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing in the lake matches"));
}

#[test]
fn the_sample_attacker_key_traces_back_to_the_leaked_user_key() {
    let lake = crate::sql::sample_lake().to_str().unwrap().to_owned();
    let v: Value = json_ok(&[
        "trace",
        "ASIAQXATTACKERSESS01",
        "--lake",
        &lake,
        "--format",
        "json",
    ]);
    assert_eq!(v[0]["chain"]["origin"]["key"], "AKIAQXLEAKEDKEY7EXMP");
    assert_eq!(v[0]["chain"]["hops"][0]["source_ip"], "203.0.113.77");
}

#[test]
fn a_users_timeline_follows_its_role_sessions_across_accounts() {
    let l = lake().to_str().unwrap();
    let lines: Vec<Value> = json_ok(&[
        "timeline",
        "--actor",
        "user/alice",
        "--lake",
        l,
        "--format",
        "json",
        "--no-detections",
    ]);
    let keys: Vec<&str> = lines.iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["AKIAALICE", "ASIAONE", "ASIATWO", "ASIATHREE", "ASIAFOUR"]
    );
    assert_eq!(lines[4]["account"], B);
    assert_eq!(
        lines[0]["params"],
        "roleArn=arn:aws:iam::111111111111:role/r1 roleSessionName=s1"
    );
    let out = trailscope(&[
        "timeline",
        "--ip",
        "192.0.2.99",
        "--lake",
        l,
        "--no-detections",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing from that IP: {}",
        describe(&out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no event in the lake matches"));
}

#[test]
fn the_sample_timeline_collapses_noise_and_marks_detections() {
    let lake = crate::sql::sample_lake().to_str().unwrap().to_owned();
    let lines: Vec<Value> = json_ok(&[
        "timeline",
        "--key",
        "ASIAQXATTACKERSESS01",
        "--lake",
        &lake,
        "--format",
        "json",
    ]);
    let counts: Vec<u64> = lines.iter().map(|l| l["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 1, 1, 1, 1, 300, 6, 1], "{lines:?}");
    assert_eq!(lines[5]["event"], "Invoke (lambda)");
    assert!(
        lines[5]["flagged"]
            .as_array()
            .unwrap()
            .contains(&json!("lambda-invoke-spike"))
    );
    assert!(
        lines[6]["params"]
            .as_str()
            .unwrap()
            .contains("secretId=prod/admin/break-glass")
    );
    assert!(
        lines[0]["flagged"].as_array().unwrap().is_empty(),
        "GetFunction alone is not flagged"
    );
    let csv = trailscope(&[
        "timeline",
        "--resource",
        "payments-processor",
        "--lake",
        &lake,
        "--format",
        "csv",
        "--no-detections",
        "--since",
        "2024-03-05T14:20:00Z",
        "--until",
        "2024-03-05T14:24:00Z",
    ]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("time,last_time,count,"), "{text}");
    assert!(
        text.contains("AddPermission") && text.contains("CreateFunctionUrlConfig"),
        "{text}"
    );
}

#[test]
fn the_sample_summary_matches_hand_counts() {
    let lake = crate::sql::sample_lake().to_str().unwrap().to_owned();
    let all: Vec<Value> = json_ok(&[
        "summary",
        "--actor",
        "user/ci-deploy",
        "--lake",
        &lake,
        "--format",
        "json",
    ]);
    assert_eq!(all.len(), 1);
    let s = &all[0];
    // GetCallerIdentity + 14 enumeration calls (6 denied) + 4 IAM writes + AssumeRole +
    // DeleteDetector + StopLogging.
    assert_eq!(
        (
            s["events"].as_i64(),
            s["writes"].as_i64(),
            s["reads"].as_i64(),
            s["failed"].as_i64()
        ),
        (Some(22), Some(7), Some(15), Some(6))
    );
    assert_eq!(s["access_keys"], json!(["AKIAQXLEAKEDKEY7EXMP"]));
    assert_eq!(s["source_ips"], json!(["203.0.113.77"]));
    assert_eq!(s["first_seen"], "2024-03-05T14:13:25Z");
    let hits: Vec<&str> = s["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[0].as_str().unwrap())
        .collect();
    for rule in [
        "iam-backdoor-user",
        "cloudtrail-stop-logging",
        "guardduty-disabled",
        "iam-accessdenied-burst",
    ] {
        assert!(hits.contains(&rule), "{hits:?}");
    }
    let top = trailscope(&["summary", "--lake", &lake, "--top", "2"]);
    let text = String::from_utf8_lossy(&top.stdout);
    // The most-flagged actors first (findings at low or above; the audit pack's info marks do
    // not count): the leaked user (10) and the attacker's session (9).
    assert!(text.starts_with("user/ci-deploy "), "{text}");
    assert!(
        text.contains("\nrole/lambda-deployer/deploy-7731 ") && text.contains("(2 actors)"),
        "{text}"
    );
}

#[test]
fn timeline_straight_from_raw_logs() {
    let cache = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let out = trailscope_with(
        &[
            "timeline",
            sample.to_str().unwrap(),
            "--key",
            "ASIAQXATTACKERSESS01",
            "--no-detections",
            "--format",
            "json",
        ],
        &[("TRAILSCOPE_CACHE", cache.path().to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let lines: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines.len(), 8);
}
