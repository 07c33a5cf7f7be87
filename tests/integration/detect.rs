//! `trailscope detect` and `trailscope packs` from the command line: the sample incident, output
//! formats, exit codes, thresholds, user packs and linting.

use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::sql::sample_lake;

fn detect(args: &[&str]) -> std::process::Output {
    let lake = sample_lake().to_str().unwrap().to_owned();
    let mut all = vec!["detect", "--lake", lake.as_str()];
    all.extend_from_slice(args);
    trailscope(&all)
}

fn json_findings(out: &std::process::Output) -> Vec<Value> {
    serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

/// The planted incident, step by step, in the order the story happens.
const INCIDENT: &[&str] = &[
    "sts-getcalleridentity-enumeration",
    "iam-accessdenied-burst",
    "iam-backdoor-user",
    "iam-change-by-new-principal",
    "iam-admin-policy-attached",
    "iam-access-key-for-other-user",
    "iam-login-profile-for-other-user",
    "sts-assumerole-new-caller",
    "lambda-code-updated-by-new-identity",
    "lambda-layer-foreign-account",
    "lambda-env-changed",
    "lambda-permission-public",
    "lambda-url-auth-none",
    "lambda-invoke-spike",
    "lambda-invoke-new-principal",
    "secrets-bulk-read",
    "logs-lambda-log-group-tampered",
    "guardduty-disabled",
    "cloudtrail-stop-logging",
    "signin-console-no-mfa",
    "root-api-activity",
];

#[test]
fn sample_incident_is_found_in_order_and_nothing_else() {
    let out = detect(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let findings = json_findings(&out);
    let ids: Vec<&str> = findings
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // Same-second findings may come in either order; the story's order is by first_seen.
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| INCIDENT.iter().position(|i| i == id).unwrap_or(usize::MAX));
    assert_eq!(sorted, INCIDENT, "findings: {ids:?}");
    let times: Vec<&str> = findings
        .iter()
        .map(|f| f["first_seen"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    for f in &findings {
        // Every finding is in the attacked account, and its evidence is in the lake.
        assert_eq!(f["account"], "111122223333", "{f}");
        assert!(
            f["source_uris"][0]
                .as_str()
                .unwrap()
                .starts_with("sample-logs/")
                || f["source_uris"][0]
                    .as_str()
                    .unwrap()
                    .contains("sample-logs"),
            "{f}"
        );
        assert!(!f["eventids"].as_array().unwrap().is_empty());
        assert!(!f["summary"].as_str().unwrap().is_empty());
    }
    let spike = findings
        .iter()
        .find(|f| f["rule_id"] == "lambda-invoke-spike")
        .unwrap();
    assert_eq!(spike["event_count"], 300);
    assert_eq!(spike["actor"], "role/lambda-deployer/deploy-7731");
}

#[test]
fn table_groups_by_severity_with_pack_lines() {
    let out = detect(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let critical = text.find("CRITICAL (").expect("a critical group");
    let high = text.find("HIGH (").expect("a high group");
    let medium = text.find("MEDIUM (").expect("a medium group");
    assert!(critical < high && high < medium, "{text}");
    for pack in ["lambda", "iam", "signin", "logging", "data"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(pack) && l.contains("rules")),
            "{pack}: {text}"
        );
    }
    assert!(text.contains("21 findings from 89 rules"), "{text}");
}

#[test]
fn exit_codes_follow_fail_on_and_errors() {
    // Only medium findings in the iam pack's enumeration rules: --fail-on high passes.
    let out = detect(&[
        "--rule",
        "sts-getcalleridentity-enumeration",
        "--fail-on",
        "high",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sts-getcalleridentity-enumeration"));
    let out = detect(&["--rule", "sts-getcalleridentity-enumeration"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // No findings at all.
    let out = detect(&["--rule", "organizations-leave"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // A window with no incident in it.
    let out = detect(&["--since", "2024-03-06", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(json_findings(&out).len(), 0);
    // Errors: an unknown rule, a lake that is not there, a threshold no rule has.
    let out = detect(&["--rule", "lambda-url-auth-non"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean lambda-url-auth-none"),
        "{}",
        describe(&out)
    );
    let out = trailscope(&["detect", "--lake", "/nonexistent/lake"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = detect(&["--param", "no_such_threshold=3"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn thresholds_can_be_overridden() {
    let out = detect(&[
        "--rule",
        "secrets-bulk-read",
        "--format",
        "json",
        "--param",
        "secrets-bulk-read.min_secrets=7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(json_findings(&out).is_empty());
    let out = detect(&[
        "--rule",
        "secrets-bulk-read",
        "--format",
        "json",
        "--param",
        "min_secrets=6",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(json_findings(&out).len(), 1);
}

#[test]
fn sarif_has_the_required_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.sarif");
    let out = detect(&["--output", file.to_str().unwrap(), "--pack", "logging"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let log: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    // Required by the SARIF 2.1.0 schema: version and runs; run.tool.driver.name; result.message.
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "trailscope");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 14);
    for r in rules {
        assert!(
            r["id"].is_string() && r["shortDescription"]["text"].is_string(),
            "{r}"
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert!(
            r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(["error", "warning", "note", "none"].contains(&r["level"].as_str().unwrap()));
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn csv_and_ndjson_carry_the_same_findings() {
    let csv = detect(&["--pack", "data", "--format", "csv"]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("rule_id,title,severity,"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    let nd = detect(&["--pack", "data", "--format", "ndjson"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&nd.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rule_id"], "secrets-bulk-read");
    assert_eq!(lines[0]["event_count"], 6);
}

fn write_rule(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

const USER_RULE: &str = "\
-- id: custom-office-logins
-- title: Console logins
-- severity: low
-- description: every console login, to check the override machinery
SELECT min(eventtime) AS first_seen, max(eventtime) AS last_seen, account, region,
       actor(useridentity) AS actor, useridentity.arn AS actor_arn, count(*) AS event_count,
       array_agg(eventid) AS eventids, array_agg(DISTINCT source_uri) AS source_uris,
       concat(actor(useridentity), ' logged in') AS summary
FROM cloudtrail WHERE eventname = 'ConsoleLogin'
GROUP BY account, region, actor(useridentity), useridentity.arn
";

#[test]
fn user_packs_add_rules_and_override_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("mine");
    write_rule(&packs, "logins.sql", USER_RULE);
    // Same id as a built-in rule, made never to match: it replaces the built-in one.
    let quiet = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/logging/cloudtrail-stop-logging.sql"),
    )
    .unwrap()
    .replace("eventname = 'StopLogging'", "eventname = 'NoSuchEvent'");
    write_rule(&packs, "stop.sql", &quiet);
    let p = packs.to_str().unwrap();
    let out = detect(&["--packs-dir", p, "--pack", "mine", "--format", "json"]);
    let ids: Vec<String> = json_findings(&out)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"custom-office-logins".to_owned()), "{ids:?}");
    assert!(
        !ids.contains(&"cloudtrail-stop-logging".to_owned()),
        "{ids:?}"
    );
    let list = trailscope(&["packs", "list", "--packs-dir", p]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("custom-office-logins") && text.contains("(91 rules)"),
        "{text}"
    );

    // A broken user rule: lint names the file and the column, detect exits 2 but still reports.
    write_rule(
        &packs,
        "broken.sql",
        &USER_RULE
            .replace("custom-office-logins", "custom-broken")
            .replace("eventname =", "evnetname ="),
    );
    let lint = trailscope(&["packs", "lint", p]);
    assert_eq!(lint.status.code(), Some(1), "{}", describe(&lint));
    let text = String::from_utf8_lossy(&lint.stdout);
    assert!(
        text.contains("FAIL custom-broken")
            && text.contains("evnetname")
            && text.contains("eventname"),
        "{text}"
    );
    // A stranger's rule with a threshold marker written `/*/`: FAIL, never a panic.
    let odd = tempfile::tempdir().unwrap();
    write_rule(
        odd.path(),
        "odd.sql",
        "-- id: odd-marker\n-- title: t\n-- severity: low\n-- description: d\n-- param: n = 1 | n\nSELECT 1 /*/ n */ AS x\n",
    );
    let lint_odd = trailscope(&["packs", "lint", odd.path().to_str().unwrap()]);
    assert_eq!(lint_odd.status.code(), Some(1), "{}", describe(&lint_odd));
    assert!(String::from_utf8_lossy(&lint_odd.stdout).contains("FAIL"));

    let out = detect(&["--packs-dir", p, "--pack", "mine"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("custom-office-logins"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("custom-broken"));
}

#[test]
fn every_query_file_is_embedded_and_lints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut on_disk = Vec::new();
    for pack in std::fs::read_dir(&root).unwrap() {
        let pack = pack.unwrap();
        if pack.file_name() == "views" || !pack.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(pack.path()).unwrap() {
            let f = f.unwrap().path();
            assert_eq!(
                f.extension().and_then(|e| e.to_str()),
                Some("sql"),
                "only rule files belong in {}",
                pack.path().display()
            );
            on_disk.push(std::fs::read_to_string(&f).unwrap());
        }
    }
    let embedded: Vec<&str> = trailscope::detect::catalogue::BUILTIN
        .iter()
        .map(|(_, _, text)| *text)
        .collect();
    assert_eq!(on_disk.len(), embedded.len());
    for text in &on_disk {
        assert!(
            embedded.contains(&text.as_str()),
            "not embedded: {}",
            &text[..60]
        );
    }
    assert!(embedded.len() >= 55);
    let lint = trailscope(&["packs", "lint"]);
    assert_eq!(lint.status.code(), Some(0), "{}", describe(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stdout)
            .contains(&format!("{} rule files, 0 problems", embedded.len()))
    );
}

#[test]
fn packs_show_prints_header_thresholds_and_sql() {
    let out = trailscope(&["packs", "show", "secrets-bulk-read"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("severity:        high"), "{text}");
    assert!(text.contains("param:           min_secrets = 5"), "{text}");
    assert!(text.contains("GetSecretValue"), "{text}");
    let out = trailscope(&["packs", "show", "secrets-bulk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean secrets-bulk-read"));
    let out = trailscope(&["packs", "list", "--pack", "signin"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(8 rules)"),
        "{}",
        describe(&out)
    );
}

#[test]
fn detect_straight_from_raw_logs() {
    let cache = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let out = trailscope_with(
        &[
            "detect",
            sample.to_str().unwrap(),
            "--pack",
            "logging",
            "--format",
            "json",
        ],
        &[("TRAILSCOPE_CACHE", cache.path().to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(json_findings(&out).len(), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated gzip stream"),
        "the bad sample object is named: {err}"
    );
}

#[test]
fn the_shell_lists_and_runs_rules() {
    use std::io::Write;
    let lake = sample_lake().to_str().unwrap().to_owned();
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .args(["sql", "-i", "--lake", &lake])
        .env("XDG_DATA_HOME", data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "\\packs signin\n\\run secrets-bulk-read\n\\run secrets-bulk-read min_secrets=9\n\\run nope\n\\trace ASIAQXATTACKERSESS01\n\\summary root/111122223333\nSELECT 1 AS still_here;\n\\q").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("signin-console-no-mfa") && text.contains("(8 rules)"),
        "{text}"
    );
    assert!(
        text.contains("role/lambda-deployer/deploy-7731 read 6 secrets"),
        "{text}"
    );
    assert!(text.contains("0 findings from 1 rule"), "{text}");
    assert!(err.contains("no rule with id \"nope\""), "{err}");
    assert!(
        text.contains("origin: user/ci-deploy (key AKIAQXLEAKEDKEY7EXMP)"),
        "{text}"
    );
    assert!(text.contains("top APIs    ListUsers 1"), "{text}");
    assert!(text.contains("still_here"), "{text}");
}

#[test]
fn a_strangers_pack_cannot_write_or_read_outside_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("written-by-a-rule.csv");
    let header =
        |id: &str| format!("-- id: {id}\n-- title: t\n-- severity: high\n-- description: d\n");
    let rules = [
        (
            "copy.sql",
            format!(
                "{}COPY (SELECT 1 AS x) TO '{}'\n",
                header("evil-copy"),
                target.display()
            ),
        ),
        (
            "explain.sql",
            format!(
                "{}EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{}'\n",
                header("evil-explain"),
                target.display()
            ),
        ),
        (
            "external.sql",
            format!(
                "{}CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'\n",
                header("evil-external")
            ),
        ),
    ];
    let packs = dir.path().join("evil");
    for (file, text) in &rules {
        write_rule(&packs, file, text);
    }
    let p = packs.to_str().unwrap();
    let out = detect(&["--packs-dir", p, "--pack", "evil", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for (file, _) in &rules {
        assert!(err.contains(file), "{file} is not named: {err}");
    }
    assert!(json_findings(&out).is_empty());
    assert!(!target.exists(), "a rule wrote {}", target.display());
    // Nor can a rule make a table over /etc/passwd that a later query of the session reads.
    let lake = sample_lake().to_str().unwrap().to_owned();
    let timeline = trailscope(&[
        "timeline",
        "--lake",
        &lake,
        "--ip",
        "203.0.113.77",
        "--packs-dir",
        p,
        "--format",
        "json",
    ]);
    assert!(!target.exists());
    // The timeline still prints, and the exit status says a rule behind its marks failed.
    assert_eq!(timeline.status.code(), Some(2), "{}", describe(&timeline));
    assert!(String::from_utf8_lossy(&timeline.stderr).contains("evil-external"));
    let summary = trailscope(&[
        "summary",
        "--lake",
        &lake,
        "--packs-dir",
        p,
        "--format",
        "json",
    ]);
    assert_eq!(summary.status.code(), Some(2), "{}", describe(&summary));
    assert!(serde_json::from_slice::<Value>(&summary.stdout).is_ok());
    let lint = trailscope(&["packs", "lint", p]);
    assert_eq!(lint.status.code(), Some(1), "{}", describe(&lint));
}

#[test]
fn exceptions_suppress_routine_findings_but_never_drop_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exceptions.toml");
    std::fs::write(
        &file,
        r#"
# The backdoor user is created by a known automation in this test.
[[allow]]
rules = ["iam-backdoor-user"]
actors = ["user/ci-*"]
reason = "user provisioning by the CI user"
"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let all = json_findings(&detect(&["--format", "json"]));
    let out = detect(&["--format", "json", "--exceptions", f]);
    let shown = json_findings(&out);
    assert_eq!(shown.len() + 1, all.len(), "{}", describe(&out));
    assert!(shown.iter().all(|x| x["rule_id"] != "iam-backdoor-user"));
    let listed = json_findings(&detect(&[
        "--format",
        "json",
        "--exceptions",
        f,
        "--show-suppressed",
    ]));
    let quiet: Vec<&Value> = listed
        .iter()
        .filter(|x| x.get("suppressed").is_some())
        .collect();
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0]["suppressed"], "user provisioning by the CI user");
    let table = detect(&["--exceptions", f]);
    assert!(
        String::from_utf8_lossy(&table.stdout)
            .contains("1 finding suppressed by exceptions (--show-suppressed lists them)")
    );

    // By address: every finding whose evidence all comes from the attacker's network.
    std::fs::write(
        &file,
        "[[allow]]\nrules = [\"*\"]\nsource_ips = [\"203.0.113.0/24\"]\nreason = \"lab\"\n",
    )
    .unwrap();
    // The sample's whole incident comes from there: nothing is left to report, and detect exits 0,
    // while --show-suppressed still lists every finding.
    let out = detect(&["--format", "json", "--exceptions", f, "--show-suppressed"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let by_ip = json_findings(&out);
    assert_eq!(by_ip.len(), all.len());
    assert!(by_ip.iter().all(|x| x["suppressed"] == "lab"));

    // A wrong file is refused before any rule runs, and lint names the problem.
    std::fs::write(
        &file,
        "[[allow]]\nrules = [\"iam-backdoor-usr\"]\nactors = [\"x\"]\nreason = \"typo\"\n",
    )
    .unwrap();
    let out = detect(&["--exceptions", f]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean iam-backdoor-user"));
    let lint = trailscope(&["packs", "lint", "--exceptions", f]);
    assert_eq!(lint.status.code(), Some(1), "{}", describe(&lint));
    assert!(String::from_utf8_lossy(&lint.stdout).contains("FAIL"));
}

/// Findings of every built-in rule over a fresh realistic organisation (scheduled CI/CD, SDK
/// clients, a vendor, nightly jobs, scanners, people through SSO), as JSON.
fn realistic_findings(incident: bool) -> (usize, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = trailscope::synth::Config {
        seed: 7,
        events: 20_000,
        accounts: vec!["111111111111".into(), "222222222222".into()],
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        days: 2,
        events_per_object: 150,
        incident,
        realistic: true,
        ..trailscope::synth::Config::default()
    };
    let stats = generate(&dir.path().join("logs"), &cfg);
    let lake = dir.path().join("lake");
    ingest_ok(&dir.path().join("logs"), &lake);
    let out = trailscope(&[
        "detect",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        describe(&out)
    );
    (stats.events, json_findings(&out))
}

/// The noise budget: routine work of a realistic organisation raises nothing at medium or above
/// (the budget is one per 100,000 events; this corpus is a fifth of that). Info rows are hidden by
/// the default --min-severity low; low ones are allowed.
#[test]
fn realistic_routine_raises_nothing_at_medium_or_above() {
    let (events, findings) = realistic_findings(false);
    assert!(events >= 15_000, "only {events} events");
    let loud: Vec<String> = findings
        .iter()
        .filter(|f| !matches!(f["severity"].as_str(), Some("info" | "low")))
        .map(|f| format!("{} {}: {}", f["severity"], f["rule_id"], f["summary"]))
        .collect();
    assert!(
        loud.is_empty(),
        "{} loud finding(s) on routine traffic:\n{}",
        loud.len(),
        loud.join("\n")
    );
    // With the incident planted in the same organisation, the baselines do not hide it.
    let (_, findings) = realistic_findings(true);
    let ids: std::collections::HashSet<&str> = findings
        .iter()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    for id in INCIDENT {
        assert!(
            ids.contains(id),
            "{id} missing from the incident in a realistic organisation: {ids:?}"
        );
    }
}
