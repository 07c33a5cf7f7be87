//! Synthetic CloudTrail: deterministic trees of realistic logs for the sample, tests and benchmarks.
//!
//! Input: a [`Config`] (seed, size, accounts, regions, days). Output: a directory in the real S3
//! key layout (`AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`) with routine
//! traffic from users, roles and services, optionally an incident story that the detection packs
//! must surface, a digest file per hour, and optionally the kinds of bad objects real buckets hold
//! (a truncated gzip, a re-delivered duplicate object). The same config always gives the same bytes.
//!
//! This is not part of the ingest pipeline; `examples/gen-logs.rs` and the tests drive it.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of the generator; the same seed gives the same tree.
    pub seed: u64,
    /// Routine events to generate (the incident story adds its own).
    pub events: usize,
    /// Accounts.
    pub accounts: Vec<String>,
    /// Log regions.
    pub regions: Vec<String>,
    /// Organization id: when set, keys use the organization trail layout.
    pub org: Option<String>,
    /// First day.
    pub start: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Records per log object (CloudTrail delivers about every 5 minutes).
    pub events_per_object: usize,
    /// Add the incident story (leaked key → backdoor user → Lambda takeover → evasion).
    pub incident: bool,
    /// Add a truncated gzip object and a re-delivered copy of one object.
    pub bad_objects: bool,
    /// Add hourly digest files.
    pub digests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            events: 1000,
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            org: Some("o-a1b2c3d4e5".into()),
            start: NaiveDate::from_ymd_opt(2024, 3, 4).unwrap_or_default(),
            days: 3,
            events_per_object: 190,
            incident: false,
            bad_objects: false,
            digests: true,
        }
    }
}

/// What was generated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Log objects written (good ones).
    pub objects: usize,
    /// Records in the good log objects, duplicates of a re-delivered object included.
    pub records: usize,
    /// Distinct events.
    pub events: usize,
    /// Digest files.
    pub digests: usize,
    /// Corrupt objects.
    pub corrupt: usize,
    /// Records that are re-deliveries of events already written.
    pub duplicates: usize,
    /// Uncompressed JSON bytes of the good log objects.
    pub json_bytes: u64,
    /// Compressed bytes of the good log objects.
    pub gz_bytes: u64,
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
    fn alnum(&mut self, n: usize, upper_only: bool) -> String {
        const U: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const M: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let set = if upper_only { U } else { M };
        (0..n)
            .map(|_| set[self.below(set.len() as u64) as usize] as char)
            .collect()
    }
}

/// Who acted.
#[derive(Clone)]
struct Identity {
    json: String,
}

impl Identity {
    fn user(account: &str, name: &str, key: &str) -> Identity {
        Identity {
            json: json!({
                "type": "IAMUser",
                "principalId": format!("AIDA{}", stable_id(name, 17)),
                "arn": format!("arn:aws:iam::{account}:user/{name}"),
                "accountId": account,
                "accessKeyId": key,
                "userName": name
            })
            .to_string(),
        }
    }

    fn role_session(
        account: &str,
        role: &str,
        session: &str,
        key: &str,
        created: &str,
        mfa: bool,
    ) -> Identity {
        let role_id = format!("AROA{}", stable_id(role, 17));
        Identity {
            json: json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session}"),
                "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                "accountId": account,
                "accessKeyId": key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": format!("arn:aws:iam::{account}:role/{role}"),
                        "accountId": account,
                        "userName": role
                    },
                    "webIdFederationData": {},
                    "attributes": {"creationDate": created, "mfaAuthenticated": if mfa { "true" } else { "false" }}
                }
            })
            .to_string(),
        }
    }

    fn service(service: &str) -> Identity {
        Identity {
            json: json!({"type": "AWSService", "invokedBy": service}).to_string(),
        }
    }

    fn root(account: &str) -> Identity {
        Identity {
            json: json!({
                "type": "Root",
                "principalId": account,
                "arn": format!("arn:aws:iam::{account}:root"),
                "accountId": account,
                "accessKeyId": ""
            })
            .to_string(),
        }
    }
}

/// A stable pseudo-id derived from a name (so a role has the same id in every file).
fn stable_id(name: &str, len: usize) -> String {
    let mut r = Rng(name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }));
    r.alnum(len, true)
}

/// One event, written in CloudTrail's key order.
struct Event<'a> {
    time: i64,
    source: &'a str,
    name: &'a str,
    region: &'a str,
    ip: &'a str,
    agent: &'a str,
    identity: &'a Identity,
    request: Option<String>,
    response: Option<String>,
    additional: Option<String>,
    error: Option<(&'a str, String)>,
    read_only: Option<bool>,
    event_type: &'a str,
    management: bool,
    category: &'a str,
    resources: Vec<(String, String, &'a str)>,
    account: &'a str,
    tls_host: Option<String>,
    console: bool,
}

impl Event<'_> {
    fn write(&self, rng: &mut Rng, out: &mut String) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let id = rng.uuid();
        let _ = write!(
            out,
            "{{\"eventVersion\":\"1.09\",\"userIdentity\":{}",
            self.identity.json
        );
        let _ = write!(out, ",\"eventTime\":\"{}\"", time_text(self.time));
        let _ = write!(
            out,
            ",\"eventSource\":{},\"eventName\":{},\"awsRegion\":{}",
            q(self.source),
            q(self.name),
            q(self.region)
        );
        let _ = write!(
            out,
            ",\"sourceIPAddress\":{},\"userAgent\":{}",
            q(self.ip),
            q(self.agent)
        );
        if let Some((code, msg)) = &self.error {
            let _ = write!(
                out,
                ",\"errorCode\":{},\"errorMessage\":{}",
                q(code),
                q(msg)
            );
        }
        let _ = write!(
            out,
            ",\"requestParameters\":{}",
            self.request.as_deref().unwrap_or("null")
        );
        let _ = write!(
            out,
            ",\"responseElements\":{}",
            self.response.as_deref().unwrap_or("null")
        );
        if let Some(a) = &self.additional {
            let _ = write!(out, ",\"additionalEventData\":{a}");
        }
        if self.event_type != "AwsConsoleSignIn" {
            let _ = write!(out, ",\"requestID\":\"{}\"", rng.uuid());
        }
        let _ = write!(out, ",\"eventID\":\"{id}\"");
        if let Some(ro) = self.read_only {
            let _ = write!(out, ",\"readOnly\":{ro}");
        }
        if !self.resources.is_empty() {
            out.push_str(",\"resources\":[");
            for (i, (arn, acct, ty)) in self.resources.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"accountId\":{},\"type\":{},\"ARN\":{}}}",
                    q(acct),
                    q(ty),
                    q(arn)
                );
            }
            out.push(']');
        }
        let _ = write!(
            out,
            ",\"eventType\":{},\"managementEvent\":{}",
            q(self.event_type),
            self.management
        );
        let _ = write!(
            out,
            ",\"recipientAccountId\":{},\"eventCategory\":{}",
            q(self.account),
            q(self.category)
        );
        if let Some(h) = &self.tls_host {
            let _ = write!(
                out,
                ",\"tlsDetails\":{{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":{}}}",
                q(h)
            );
        }
        if self.console {
            out.push_str(",\"sessionCredentialFromConsole\":\"true\"");
        }
        out.push('}');
        id
    }
}

fn time_text(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

const CLI: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off";
const CONSOLE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
const BOTO: &str = "Boto3/1.34.60 md/Botocore#1.34.60 ua/2.0 os/linux#5.10.210 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.60";
const ATTACKER_IP: &str = "203.0.113.77";
const ATTACKER_UA: &str =
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off";

/// The routine actors of one account.
struct Cast {
    alice: Identity,
    bob: Identity,
    auditor: Identity,
    app: Identity,
    autoscaler: Identity,
    apigw: Identity,
    lambda_svc: Identity,
}

impl Cast {
    fn new(account: &str, rng: &mut Rng) -> Cast {
        let created = "2024-03-04T00:00:00Z";
        Cast {
            alice: Identity::user(
                account,
                "alice",
                &format!("AKIA{}", stable_id(&format!("{account}alice"), 16)),
            ),
            bob: Identity::user(
                account,
                "bob",
                &format!("AKIA{}", stable_id(&format!("{account}bob"), 16)),
            ),
            auditor: Identity::role_session(
                account,
                "SecurityAudit",
                "auditor",
                &format!("ASIA{}", rng.alnum(16, true)),
                created,
                true,
            ),
            app: Identity::role_session(
                account,
                "payments-processor-role",
                "payments-processor",
                &format!("ASIA{}", rng.alnum(16, true)),
                created,
                false,
            ),
            autoscaler: Identity::role_session(
                account,
                "ec2-autoscaler",
                "autoscaler-1",
                &format!("ASIA{}", rng.alnum(16, true)),
                created,
                false,
            ),
            apigw: Identity::service("apigateway.amazonaws.com"),
            lambda_svc: Identity::service("lambda.amazonaws.com"),
        }
    }
}

/// Writes one routine event at `time` for `account` / `region`.
fn routine(rng: &mut Rng, cast: &Cast, account: &str, region: &str, time: i64, out: &mut String) {
    let fname = *rng.pick(&[
        "payments-processor",
        "orders-api",
        "thumbnailer",
        "nightly-report",
    ]);
    let fn_arn = format!("arn:aws:lambda:{region}:{account}:function:{fname}");
    let bucket = format!("app-data-{account}");
    let office_ip = *rng.pick(&["198.51.100.10", "198.51.100.11", "198.51.100.12"]);
    let host = |svc: &str| Some(format!("{svc}.{region}.amazonaws.com"));
    let mut ev = Event {
        time,
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        region,
        ip: "10.0.12.34",
        agent: CLI,
        identity: &cast.autoscaler,
        request: None,
        response: None,
        additional: None,
        error: None,
        read_only: Some(true),
        event_type: "AwsApiCall",
        management: true,
        category: "Management",
        resources: Vec::new(),
        account,
        tls_host: host("ec2"),
        console: false,
    };
    match rng.below(100) {
        0..=17 => {
            ev.name = *rng.pick(&[
                "DescribeInstances",
                "DescribeSecurityGroups",
                "DescribeVolumes",
                "DescribeSubnets",
            ]);
            ev.request =
                Some(json!({"maxResults": 1000, "filterSet": {}, "instancesSet": {}}).to_string());
        }
        18..=37 => {
            ev.source = "s3.amazonaws.com";
            ev.name = *rng.pick(&["GetObject", "GetObject", "PutObject", "HeadObject"]);
            ev.identity = &cast.app;
            ev.agent = BOTO;
            ev.ip = "lambda.amazonaws.com";
            ev.read_only = Some(ev.name != "PutObject");
            ev.management = false;
            ev.category = "Data";
            let key = format!("invoices/2024/{:05}.json", rng.below(50_000));
            ev.request = Some(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key}).to_string());
            ev.additional = Some(json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": rng.alnum(56, false), "bytesTransferredOut": rng.below(90_000)}).to_string());
            ev.resources = vec![
                (
                    format!("arn:aws:s3:::{bucket}/{key}"),
                    String::new(),
                    "AWS::S3::Object",
                ),
                (
                    format!("arn:aws:s3:::{bucket}"),
                    account.to_owned(),
                    "AWS::S3::Bucket",
                ),
            ];
            ev.resources[0].1 = account.to_owned();
            ev.tls_host = Some(format!("{bucket}.s3.{region}.amazonaws.com"));
        }
        38..=49 => {
            ev.source = "lambda.amazonaws.com";
            ev.name = "Invoke";
            ev.identity = &cast.apigw;
            ev.ip = "apigateway.amazonaws.com";
            ev.agent = "apigateway.amazonaws.com";
            ev.read_only = Some(false);
            ev.management = false;
            ev.category = "Data";
            ev.request = Some(
                json!({"functionName": fn_arn, "invocationType": "RequestResponse"}).to_string(),
            );
            ev.additional =
                Some(json!({"functionVersion": format!("{fn_arn}:$LATEST")}).to_string());
            ev.resources = vec![(fn_arn.clone(), account.to_owned(), "AWS::Lambda::Function")];
            ev.tls_host = None;
        }
        50..=59 => {
            ev.source = "sts.amazonaws.com";
            ev.name = "AssumeRole";
            ev.identity = &cast.lambda_svc;
            ev.ip = "lambda.amazonaws.com";
            ev.agent = "lambda.amazonaws.com";
            ev.read_only = Some(true);
            let role = format!("arn:aws:iam::{account}:role/{fname}-role");
            ev.request = Some(json!({"roleArn": role, "roleSessionName": fname}).to_string());
            ev.response = Some(json!({"credentials": {"accessKeyId": format!("ASIA{}", rng.alnum(16, true)), "sessionToken": rng.alnum(64, false), "expiration": format!("{}", time_text(time + 43_200).replace('T', " ").replace('Z', ""))}}).to_string());
            ev.resources = vec![(role, account.to_owned(), "AWS::IAM::Role")];
            ev.tls_host = None;
        }
        60..=69 => {
            ev.source = "kms.amazonaws.com";
            ev.name = *rng.pick(&["Decrypt", "GenerateDataKey", "Decrypt"]);
            ev.identity = &cast.app;
            ev.ip = "lambda.amazonaws.com";
            ev.agent = BOTO;
            let key = format!(
                "arn:aws:kms:{region}:{account}:key/{}",
                stable_uuid(account)
            );
            ev.request = Some(json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": fn_arn}, "keyId": key}).to_string());
            ev.resources = vec![(key, account.to_owned(), "AWS::KMS::Key")];
            ev.tls_host = host("kms");
        }
        70..=76 => {
            ev.source = "lambda.amazonaws.com";
            ev.name = *rng.pick(&[
                "ListFunctions20150331",
                "GetFunction20150331v2",
                "GetFunctionConfiguration20150331v2",
            ]);
            ev.identity = if rng.below(2) == 0 {
                &cast.alice
            } else {
                &cast.bob
            };
            ev.ip = office_ip;
            ev.request = Some(if ev.name == "ListFunctions20150331" {
                "{}".to_owned()
            } else {
                json!({"functionName": fname}).to_string()
            });
            ev.tls_host = host("lambda");
        }
        77..=83 => {
            ev.source = "iam.amazonaws.com";
            ev.name = *rng.pick(&["ListRoles", "GetRole", "ListPolicies", "GetPolicyVersion"]);
            ev.identity = &cast.auditor;
            ev.ip = "198.51.100.20";
            ev.region = "us-east-1";
            ev.request = Some(json!({"roleName": format!("{fname}-role")}).to_string());
            ev.tls_host = Some("iam.amazonaws.com".into());
        }
        84..=88 => {
            ev.source = "secretsmanager.amazonaws.com";
            ev.name = "GetSecretValue";
            ev.identity = &cast.app;
            ev.ip = "lambda.amazonaws.com";
            ev.agent = BOTO;
            ev.request = Some(json!({"secretId": format!("arn:aws:secretsmanager:{region}:{account}:secret:prod/payments/db-AbCdEf")}).to_string());
            ev.tls_host = host("secretsmanager");
        }
        89..=92 => {
            ev.source = "logs.amazonaws.com";
            ev.name = "CreateLogStream";
            ev.identity = &cast.app;
            ev.ip = "lambda.amazonaws.com";
            ev.agent = "awslambda-worker/1.0";
            ev.read_only = Some(false);
            ev.request = Some(json!({"logGroupName": format!("/aws/lambda/{fname}"), "logStreamName": format!("2024/03/04/[$LATEST]{}", rng.alnum(32, false).to_lowercase())}).to_string());
            ev.tls_host = host("logs");
        }
        93..=95 => {
            ev.source = "signin.amazonaws.com";
            ev.name = "ConsoleLogin";
            ev.identity = if rng.below(2) == 0 {
                &cast.alice
            } else {
                &cast.bob
            };
            ev.ip = office_ip;
            ev.agent = CONSOLE;
            ev.region = "us-east-1";
            ev.read_only = Some(false);
            ev.event_type = "AwsConsoleSignIn";
            ev.response = Some(json!({"ConsoleLogin": "Success"}).to_string());
            ev.additional = Some(json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}).to_string());
            ev.tls_host = Some("signin.aws.amazon.com".into());
        }
        _ => {
            ev.source = "ssm.amazonaws.com";
            ev.name = "GetParameter";
            ev.identity = &cast.app;
            ev.ip = "lambda.amazonaws.com";
            ev.agent = BOTO;
            ev.request = Some(
                json!({"name": "/payments/feature-flags", "withDecryption": false}).to_string(),
            );
            if rng.below(10) == 0 {
                ev.error = Some((
                    "AccessDenied",
                    format!(
                        "User: arn:aws:sts::{account}:assumed-role/payments-processor-role/payments-processor is not authorized to perform: ssm:GetParameter"
                    ),
                ));
            }
            ev.tls_host = host("ssm");
        }
    }
    ev.write(rng, out);
}

fn stable_uuid(seed: &str) -> String {
    let mut r = Rng(seed
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    r.uuid()
}

/// The incident: events in (account, region) order of delivery, each as (time, account, region, JSON).
fn incident(rng: &mut Rng, account: &str, start: i64) -> Vec<(i64, String)> {
    let region = "us-east-1";
    let user = Identity::user(account, "ci-deploy", "AKIAQXLEAKEDKEY7EXMP");
    let session_key = "ASIAQXATTACKERSESS01";
    let session = Identity::role_session(
        account,
        "lambda-deployer",
        "deploy-7731",
        session_key,
        &time_text(start + 900),
        false,
    );
    let fn_name = "payments-processor";
    let fn_arn = format!("arn:aws:lambda:{region}:{account}:function:{fn_name}");
    let mut out = Vec::new();
    let mut t = start;
    let mut emit = |rng: &mut Rng, ev: Event| {
        let mut s = String::new();
        ev.write(rng, &mut s);
        out.push((ev.time, s));
    };
    let api = |time, identity, source, name, req| {
        attacker_call(time, identity, source, name, req, account)
    };
    macro_rules! call {
        ($id:expr, $src:expr, $name:expr, $req:expr) => {{
            t += 7 + rng.below(40) as i64;
            api(t, $id, $src, $name, $req)
        }};
    }
    // 1. The leaked key is tried, then the account enumerated.
    let e = call!(&user, "sts.amazonaws.com", "GetCallerIdentity", None);
    emit(rng, e);
    for (src, name, denied) in [
        ("iam.amazonaws.com", "ListUsers", false),
        ("iam.amazonaws.com", "ListRoles", false),
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails", true),
        ("iam.amazonaws.com", "ListAttachedUserPolicies", false),
        ("organizations.amazonaws.com", "DescribeOrganization", true),
        ("lambda.amazonaws.com", "ListFunctions20150331", false),
        ("secretsmanager.amazonaws.com", "ListSecrets", false),
        ("guardduty.amazonaws.com", "ListDetectors", true),
        ("s3.amazonaws.com", "ListBuckets", false),
        ("ec2.amazonaws.com", "DescribeInstances", false),
        ("kms.amazonaws.com", "ListKeys", true),
        ("cloudtrail.amazonaws.com", "DescribeTrails", false),
        ("rds.amazonaws.com", "DescribeDBInstances", true),
        ("dynamodb.amazonaws.com", "ListTables", true),
    ] {
        let mut e = call!(&user, src, name, Some("{}".into()));
        if denied {
            e.error = Some((
                "AccessDenied",
                format!(
                    "User: arn:aws:iam::{account}:user/ci-deploy is not authorized to perform: {}:{name}",
                    src.split('.').next().unwrap_or(src)
                ),
            ));
            e.response = None;
        }
        emit(rng, e);
    }
    // 2. A backdoor user with admin rights, a key and a console password.
    let backdoor = "svc-backup";
    let mut e = call!(
        &user,
        "iam.amazonaws.com",
        "CreateUser",
        Some(json!({"userName": backdoor}).to_string())
    );
    e.response = Some(json!({"user": {"path": "/", "userName": backdoor, "userId": "AIDAQXBACKDOORUSER01", "arn": format!("arn:aws:iam::{account}:user/{backdoor}"), "createDate": "Mar 5, 2024, 2:20:00 AM"}}).to_string());
    emit(rng, e);
    let e = call!(&user, "iam.amazonaws.com", "AttachUserPolicy", Some(json!({"userName": backdoor, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}).to_string()));
    emit(rng, e);
    let mut e = call!(
        &user,
        "iam.amazonaws.com",
        "CreateAccessKey",
        Some(json!({"userName": backdoor}).to_string())
    );
    e.response = Some(json!({"accessKey": {"userName": backdoor, "accessKeyId": "AKIAQXBACKDOORKEY001", "status": "Active", "createDate": "Mar 5, 2024, 2:21:00 AM"}}).to_string());
    emit(rng, e);
    let e = call!(
        &user,
        "iam.amazonaws.com",
        "CreateLoginProfile",
        Some(json!({"userName": backdoor, "passwordResetRequired": false}).to_string())
    );
    emit(rng, e);
    // 3. The deploy role is assumed: a temporary key for the Lambda takeover.
    let mut e = call!(&user, "sts.amazonaws.com", "AssumeRole", Some(json!({"roleArn": format!("arn:aws:iam::{account}:role/lambda-deployer"), "roleSessionName": "deploy-7731", "durationSeconds": 3600}).to_string()));
    e.response = Some(json!({"credentials": {"accessKeyId": session_key, "sessionToken": rng.alnum(64, false), "expiration": "Mar 5, 2024, 3:25:00 AM"}, "assumedRoleUser": {"assumedRoleId": format!("AROA{}:deploy-7731", stable_id("lambda-deployer", 17)), "arn": format!("arn:aws:sts::{account}:assumed-role/lambda-deployer/deploy-7731")}}).to_string());
    e.resources = vec![(
        format!("arn:aws:iam::{account}:role/lambda-deployer"),
        account.to_owned(),
        "AWS::IAM::Role",
    )];
    emit(rng, e);
    // 4. The function is downloaded, replaced, opened to the world.
    let fr = json!({"functionName": fn_name}).to_string();
    for (name, req) in [
        ("GetFunction20150331v2", fr.clone()),
        ("UpdateFunctionCode20150331v2", json!({"functionName": fn_name, "publish": true, "zipFile": "<sensitiveDataRemoved>"}).to_string()),
        ("UpdateFunctionConfiguration20150331v2", json!({"functionName": fn_name, "environment": {"variables": {"EXFIL_URL": "https://203.0.113.77/c"}}, "layers": ["arn:aws:lambda:us-east-1:999988887777:layer:telemetry-agent:3"]}).to_string()),
        ("AddPermission20150331v2", json!({"functionName": fn_name, "statementId": "public-invoke", "action": "lambda:InvokeFunction", "principal": "*"}).to_string()),
        ("CreateFunctionUrlConfig20211031", json!({"functionName": fn_name, "authType": "NONE"}).to_string()),
    ] {
        let mut e = call!(&session, "lambda.amazonaws.com", name, Some(req));
        e.resources = vec![(fn_arn.clone(), account.to_owned(), "AWS::Lambda::Function")];
        emit(rng, e);
    }
    // 5. The backdoored function is invoked far above its baseline.
    for _ in 0..300 {
        t += 1 + rng.below(3) as i64;
        let mut e = api(
            t,
            &session,
            "lambda.amazonaws.com",
            "Invoke",
            Some(json!({"functionName": fn_arn, "invocationType": "RequestResponse"}).to_string()),
        );
        e.read_only = Some(false);
        e.management = false;
        e.category = "Data";
        e.additional = Some(json!({"functionVersion": format!("{fn_arn}:$LATEST")}).to_string());
        e.resources = vec![(fn_arn.clone(), account.to_owned(), "AWS::Lambda::Function")];
        e.tls_host = None;
        emit(rng, e);
    }
    // 6. Secrets are read in bulk.
    for s in [
        "prod/payments/db",
        "prod/payments/stripe",
        "prod/orders/db",
        "prod/reporting/warehouse",
        "prod/ci/github-token",
        "prod/admin/break-glass",
    ] {
        let e = call!(
            &session,
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            Some(json!({"secretId": s}).to_string())
        );
        emit(rng, e);
    }
    // 7. Tracks are covered.
    let e = call!(
        &session,
        "logs.amazonaws.com",
        "DeleteLogGroup",
        Some(json!({"logGroupName": format!("/aws/lambda/{fn_name}")}).to_string())
    );
    emit(rng, e);
    let e = call!(
        &user,
        "guardduty.amazonaws.com",
        "DeleteDetector",
        Some(json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}).to_string())
    );
    emit(rng, e);
    let e = call!(&user, "cloudtrail.amazonaws.com", "StopLogging", Some(json!({"name": format!("arn:aws:cloudtrail:us-east-1:{account}:trail/management-events")}).to_string()));
    emit(rng, e);
    // 8. The backdoor user signs in to the console, without MFA.
    t += 600;
    let bd = Identity::user(account, backdoor, "");
    let mut e = api(t, &bd, "signin.amazonaws.com", "ConsoleLogin", None);
    e.agent = CONSOLE;
    e.event_type = "AwsConsoleSignIn";
    e.read_only = Some(false);
    e.response = Some(json!({"ConsoleLogin": "Success"}).to_string());
    e.additional = Some(json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}).to_string());
    e.tls_host = Some("signin.aws.amazon.com".into());
    emit(rng, e);
    // And root, which nobody should use, lists the users.
    let root = Identity::root(account);
    let mut e = api(
        t + 300,
        &root,
        "iam.amazonaws.com",
        "ListUsers",
        Some("{}".into()),
    );
    e.agent = CONSOLE;
    e.console = true;
    emit(rng, e);
    out
}

/// An API call made from the attacker's machine.
fn attacker_call<'a>(
    time: i64,
    identity: &'a Identity,
    source: &'a str,
    name: &'a str,
    request: Option<String>,
    account: &'a str,
) -> Event<'a> {
    Event {
        time,
        source,
        name,
        region: "us-east-1",
        ip: ATTACKER_IP,
        agent: ATTACKER_UA,
        identity,
        request,
        response: None,
        additional: None,
        error: None,
        read_only: Some(
            name.starts_with("Get") || name.starts_with("List") || name.starts_with("Describe"),
        ),
        event_type: "AwsApiCall",
        management: true,
        category: "Management",
        resources: Vec::new(),
        account,
        tls_host: Some(source.to_owned()),
        console: false,
    }
}

/// Generates a tree under `out`.
pub fn generate(cfg: &Config, out: &Path) -> Result<Stats> {
    let mut stats = Stats::default();
    let start = cfg
        .start
        .and_hms_opt(0, 0, 0)
        .context("start day")?
        .and_utc()
        .timestamp();
    let span = cfg.days.max(1) as i64 * 86_400;
    let streams: Vec<(String, String)> = cfg
        .accounts
        .iter()
        .flat_map(|a| cfg.regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    let per_stream = cfg.events.div_ceil(streams.len().max(1));
    let objects_per_stream = per_stream.div_ceil(cfg.events_per_object.max(1)).max(1);
    // Delivery windows are 5-minute aligned, spread evenly over the span.
    let window = ((span / objects_per_stream as i64) / 300).max(1) * 300;

    let mut incident_events: Vec<(i64, String)> = Vec::new();
    if cfg.incident {
        let mut rng = Rng(cfg.seed ^ 0x1ec1_de47);
        let t0 = start + span / 2 + 2 * 3600 + 13 * 60 + 7;
        incident_events = incident(&mut rng, &cfg.accounts[0], t0);
    }
    let results: Vec<Result<(Stats, Vec<PathBuf>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = streams
            .iter()
            .enumerate()
            .map(|(i, (account, region))| {
                let incident_events = &incident_events;
                scope.spawn(move || {
                    let mut rng = Rng(cfg.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
                    let cast = Cast::new(account, &mut rng);
                    let story: Vec<&(i64, String)> = if cfg.incident && i == 0 {
                        incident_events.iter().collect()
                    } else {
                        Vec::new()
                    };
                    write_stream(
                        cfg,
                        out,
                        account,
                        region,
                        start,
                        window,
                        per_stream,
                        objects_per_stream,
                        &cast,
                        &story,
                        &mut rng,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a generator thread panicked")))
            })
            .collect()
    });
    let mut files = Vec::new();
    for r in results {
        let (s, f) = r?;
        stats.objects += s.objects;
        stats.records += s.records;
        stats.events += s.events;
        stats.digests += s.digests;
        stats.json_bytes += s.json_bytes;
        stats.gz_bytes += s.gz_bytes;
        files.extend(f);
    }
    if cfg.bad_objects {
        files.sort();
        // A re-delivered object: the same records under a second name, as overlapping trails do.
        if let Some(first) = files.first() {
            let bytes = copy_beside(first, "_redelivered", |b| b)?;
            let records = count_records(&bytes)?;
            stats.objects += 1;
            stats.records += records;
            stats.duplicates += records;
            stats.gz_bytes += bytes.len() as u64;
        }
        // A truncated object, as an interrupted copy leaves.
        if let Some(victim) = files.get(files.len() / 2) {
            copy_beside(victim, "_partial", |b| &b[..b.len() / 2])?;
            stats.corrupt += 1;
        }
    }
    Ok(stats)
}

/// Writes (part of) a log file again beside it, its name marked with `mark`; returns its bytes.
fn copy_beside(path: &Path, mark: &str, part: impl Fn(&[u8]) -> &[u8]) -> Result<Vec<u8>> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("a generated file name")?
        .replace(".json.gz", &format!("{mark}.json.gz"));
    let copy = path.with_file_name(name);
    let out = part(&bytes).to_vec();
    fs::write(&copy, &out).with_context(|| format!("writing {}", copy.display()))?;
    Ok(out)
}

fn count_records(gz: &[u8]) -> Result<usize> {
    let text = crate::decode::decode(gz, u64::MAX).map_err(|e| anyhow::anyhow!("{e}"))?;
    match crate::record::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))? {
        crate::record::Content::Records(p) => Ok(p.records.len()),
        crate::record::Content::Digest => Ok(0),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_stream(
    cfg: &Config,
    out: &Path,
    account: &str,
    region: &str,
    start: i64,
    window: i64,
    events: usize,
    objects: usize,
    cast: &Cast,
    story: &[&(i64, String)],
    rng: &mut Rng,
) -> Result<(Stats, Vec<PathBuf>)> {
    let mut stats = Stats::default();
    let mut files = Vec::new();
    let base = match &cfg.org {
        Some(org) => out.join("AWSLogs").join(org).join(account),
        None => out.join("AWSLogs").join(account),
    };
    let mut remaining = events;
    let mut story_at = 0;
    let mut last_digest_hour = i64::MIN;
    for o in 0..objects {
        let w_start = start + o as i64 * window;
        let n = remaining.div_ceil(objects - o);
        remaining -= n;
        let mut times: Vec<i64> = (0..n)
            .map(|_| w_start + rng.below(window as u64) as i64)
            .collect();
        times.sort_unstable();
        let mut body = String::with_capacity(n * 1600 + 16);
        body.push_str("{\"Records\":[");
        let mut count = 0;
        for t in times {
            if count > 0 {
                body.push(',');
            }
            routine(rng, cast, account, region, t, &mut body);
            count += 1;
        }
        // Story events are delivered by the window that holds them.
        while story_at < story.len() && story[story_at].0 < w_start + window {
            if count > 0 {
                body.push(',');
            }
            body.push_str(&story[story_at].1);
            story_at += 1;
            count += 1;
        }
        body.push_str("]}");
        let delivered = w_start + window;
        let day = DateTime::from_timestamp(delivered - 1, 0).context("time")?;
        let dir = base
            .join("CloudTrail")
            .join(region)
            .join(day.format("%Y/%m/%d").to_string());
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let name = format!(
            "{account}_CloudTrail_{region}_{}_{}.json.gz",
            day.format("%Y%m%dT%H%MZ"),
            rng.alnum(16, false)
        );
        let gz = gzip(body.as_bytes())?;
        let path = dir.join(name);
        fs::write(&path, &gz).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
        stats.objects += 1;
        stats.records += count;
        stats.events += count;
        stats.json_bytes += body.len() as u64;
        stats.gz_bytes += gz.len() as u64;
        let hour = delivered / 3600;
        if cfg.digests && hour != last_digest_hour {
            last_digest_hour = hour;
            let ddir = base
                .join("CloudTrail-Digest")
                .join(region)
                .join(day.format("%Y/%m/%d").to_string());
            fs::create_dir_all(&ddir).with_context(|| format!("creating {}", ddir.display()))?;
            let digest = json!({
                "awsAccountId": account,
                "digestStartTime": time_text(delivered - 3600),
                "digestEndTime": time_text(delivered),
                "digestS3Bucket": "org-trail-bucket",
                "digestS3Object": "",
                "digestPublicKeyFingerprint": "0123456789abcdef0123456789abcdef",
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": time_text(delivered - 1),
                "oldestEventTime": time_text(delivered - 3600),
                "previousDigestS3Bucket": null,
                "previousDigestS3Object": null,
                "previousDigestHashValue": null,
                "previousDigestHashAlgorithm": null,
                "previousDigestSignature": null,
                "logFiles": []
            });
            let dname = format!(
                "{account}_CloudTrail-Digest_{region}_org-trail_{region}_{}.json.gz",
                day.format("%Y%m%dT%H%M%SZ")
            );
            let dpath = ddir.join(dname);
            let mut f = fs::File::create(&dpath)
                .with_context(|| format!("creating {}", dpath.display()))?;
            f.write_all(&gzip(digest.to_string().as_bytes())?)
                .with_context(|| format!("writing {}", dpath.display()))?;
            stats.digests += 1;
        }
    }
    Ok((stats, files))
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut e = GzEncoder::new(Vec::with_capacity(data.len() / 6), Compression::new(6));
    e.write_all(data).context("compressing")?;
    e.finish().context("compressing")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_parseable() {
        let cfg = Config {
            events: 300,
            incident: true,
            bad_objects: true,
            ..Config::default()
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sa = generate(&cfg, a.path()).unwrap();
        let sb = generate(&cfg, b.path()).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.corrupt, 1);
        assert!(sa.duplicates > 0);
        assert!(sa.events > 300, "the story adds events");
        let list = |d: &Path| {
            let mut v = Vec::new();
            let mut stack = vec![d.to_path_buf()];
            while let Some(p) = stack.pop() {
                for e in fs::read_dir(&p).unwrap() {
                    let e = e.unwrap().path();
                    if e.is_dir() {
                        stack.push(e)
                    } else {
                        v.push((
                            e.strip_prefix(d).unwrap().to_path_buf(),
                            fs::read(&e).unwrap(),
                        ))
                    }
                }
            }
            v.sort();
            v
        };
        assert_eq!(list(a.path()), list(b.path()));
    }
}
