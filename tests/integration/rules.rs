//! Every built-in detection against a positive and a negative fixture.
//!
//! Each fixture is a small, hand-written set of CloudTrail records: the positive one shows the
//! attack the rule is for, the negative one the nearest legitimate activity (same API, the
//! harmless variant; or the same behaviour below the threshold or with a baseline). Each set is
//! ingested into its own lake through the real pipeline and the rule run over it.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use trailscope::detect::{Overrides, Severity};

pub(crate) const ACCOUNT: &str = "111111111111";
const OTHER: &str = "999999999999";
/// 2024-05-01T00:00:00Z.
const BASE: i64 = 1_714_521_600;

static IDS: AtomicU64 = AtomicU64::new(1);

/// One fixture record, built from defaults: an IAM user `alice` calling from the CLI.
#[derive(Clone)]
pub(crate) struct Ev(pub(crate) Value);

pub(crate) fn ev(source: &str, name: &str) -> Ev {
    let n = IDS.fetch_add(1, Ordering::Relaxed);
    Ev(json!({
        "eventVersion": "1.09",
        "userIdentity": user_identity("alice"),
        "eventTime": "",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {},
        "responseElements": null,
        "requestID": format!("req-{n}"),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    }))
    .at_secs(0)
}

pub(crate) fn user_identity(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": format!("AIDA{}", name.to_uppercase()), "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
           "accountId": ACCOUNT, "accessKeyId": format!("AKIA{}", name.to_uppercase()), "userName": name})
}

pub(crate) fn role_identity(role: &str, session: &str, key: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROAROLE:{session}"),
           "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"), "accountId": ACCOUNT, "accessKeyId": key,
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAROLE", "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
                                                "accountId": ACCOUNT, "userName": role},
                              "attributes": {"creationDate": "2024-05-01T00:00:00Z", "mfaAuthenticated": "false"}}})
}

impl Ev {
    /// Event time: BASE plus `secs`.
    pub(crate) fn at_secs(mut self, secs: i64) -> Ev {
        let t = chrono::DateTime::from_timestamp(BASE + secs, 0).expect("a valid time");
        self.0["eventTime"] = json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        self
    }
    pub(crate) fn at_min(self, minutes: i64) -> Ev {
        self.at_secs(minutes * 60)
    }
    pub(crate) fn at_hour(self, hours: i64) -> Ev {
        self.at_secs(hours * 3600)
    }
    pub(crate) fn req(mut self, v: Value) -> Ev {
        self.0["requestParameters"] = v;
        self
    }
    pub(crate) fn resp(mut self, v: Value) -> Ev {
        self.0["responseElements"] = v;
        self
    }
    pub(crate) fn set(mut self, key: &str, v: Value) -> Ev {
        self.0[key] = v;
        self
    }
    pub(crate) fn user(self, name: &str) -> Ev {
        self.set("userIdentity", user_identity(name))
    }
    pub(crate) fn role(self, role: &str, session: &str) -> Ev {
        self.role_key(role, session, &format!("ASIA{}", session.to_uppercase()))
    }
    pub(crate) fn role_key(self, role: &str, session: &str, key: &str) -> Ev {
        self.set("userIdentity", role_identity(role, session, key))
    }
    pub(crate) fn root(self) -> Ev {
        self.set(
            "userIdentity",
            json!({"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT}),
        )
    }
    pub(crate) fn service(self, svc: &str) -> Ev {
        self.set(
            "userIdentity",
            json!({"type": "AWSService", "invokedBy": svc}),
        )
        .set("sourceIPAddress", json!(svc))
    }
    pub(crate) fn by_account(self, acct: &str) -> Ev {
        self.set(
            "userIdentity",
            json!({"type": "AWSAccount", "principalId": format!("AIDAX:{acct}"), "accountId": acct}),
        )
    }
    pub(crate) fn err(self, code: &str) -> Ev {
        self.set("errorCode", json!(code))
            .set("errorMessage", json!(format!("{code}: not authorized")))
    }
    pub(crate) fn data(self) -> Ev {
        self.set("managementEvent", json!(false))
            .set("eventCategory", json!("Data"))
    }
}

/// `n` copies of `make(i)`.
pub(crate) fn many(n: i64, make: impl Fn(i64) -> Ev) -> Vec<Ev> {
    (0..n).map(make).collect()
}

fn ec2(name: &str) -> Ev {
    ev("ec2.amazonaws.com", name)
}

fn lambda(name: &str) -> Ev {
    ev("lambda.amazonaws.com", name)
}
fn iam(name: &str) -> Ev {
    ev("iam.amazonaws.com", name)
}
pub(crate) fn sts(name: &str) -> Ev {
    ev("sts.amazonaws.com", name)
}

fn invoke(function: &str, at_secs: i64) -> Ev {
    lambda("Invoke")
        .data()
        .req(json!({"functionName": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"), "invocationType": "RequestResponse"}))
        .at_secs(at_secs)
}

fn login(user: &str, success: bool, mfa: &str) -> Ev {
    ev("signin.amazonaws.com", "ConsoleLogin")
        .user(user)
        .set("eventType", json!("AwsConsoleSignIn"))
        .resp(json!({"ConsoleLogin": if success { "Success" } else { "Failure" }}))
        .set(
            "additionalEventData",
            json!({"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com/"}),
        )
}

fn doc(v: Value) -> Value {
    json!(v.to_string())
}

/// (rule id, positive fixture, negative fixture).
type Case = (&'static str, Vec<Ev>, Vec<Ev>);

fn cases() -> Vec<Case> {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let star_policy = doc(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    );
    let narrow_policy = doc(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}),
    );
    let trust = |principal: Value| {
        doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}),
        )
    };
    vec![
        // ---- lambda
        (
            "lambda-permission-public",
            vec![lambda("AddPermission20150331v2").req(json!({"functionName": "f", "action": "lambda:InvokeFunction", "principal": "*", "statementId": "s"}))],
            vec![
                lambda("AddPermission20150331v2").req(json!({"functionName": "f", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::b"})),
                lambda("AddPermission").req(json!({"functionName": "f", "principal": "*", "sourceAccount": ACCOUNT})),
            ],
        ),
        (
            "lambda-permission-foreign-account",
            vec![lambda("AddPermission").req(json!({"functionName": "f", "principal": format!("arn:aws:iam::{OTHER}:root")}))],
            vec![lambda("AddPermission20150331v2").req(json!({"functionName": "f", "principal": ACCOUNT}))],
        ),
        (
            "lambda-url-auth-none",
            vec![lambda("UpdateFunctionUrlConfig20211031").req(json!({"functionName": "f", "authType": "NONE"}))],
            vec![lambda("CreateFunctionUrlConfig20211031").req(json!({"functionName": "f", "authType": "AWS_IAM"}))],
        ),
        (
            "lambda-code-updated-by-human",
            vec![lambda("UpdateFunctionCode20150331v2").user("bob").req(json!({"functionName": "f"}))],
            vec![lambda("UpdateFunctionCode20150331v2").role("deployer", "ci-123").req(json!({"functionName": "f"}))],
        ),
        (
            "lambda-code-updated-by-new-identity",
            vec![
                lambda("UpdateFunctionCode20150331v2").role("deployer", "ci-1").req(json!({"functionName": "f"})).at_hour(0),
                lambda("UpdateFunctionCode20150331v2").role("intruder", "x").req(json!({"functionName": "f"})).at_hour(30),
            ],
            vec![
                lambda("UpdateFunctionCode20150331v2").role("deployer", "ci-1").req(json!({"functionName": "f"})).at_hour(0),
                lambda("UpdateFunctionCode").role("deployer", "ci-2").req(json!({"functionName": "f"})).at_hour(30),
            ],
        ),
        (
            "lambda-layer-added",
            vec![lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "layers": [format!("arn:aws:lambda:us-east-1:{ACCOUNT}:layer:l:1")]}))],
            vec![lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "timeout": 30}))],
        ),
        (
            "lambda-layer-foreign-account",
            vec![lambda("CreateFunction20150331").req(json!({"functionName": "f", "role": "r", "layers": [format!("arn:aws:lambda:us-east-1:{ACCOUNT}:layer:mine:1"), format!("arn:aws:lambda:us-east-1:{OTHER}:layer:evil:3")]}))],
            vec![lambda("UpdateFunctionConfiguration").req(json!({"functionName": "f", "layers": [format!("arn:aws:lambda:us-east-1:{ACCOUNT}:layer:mine:2")]}))],
        ),
        (
            "lambda-layer-public",
            vec![lambda("AddLayerVersionPermission20181031").req(json!({"layerName": "l", "versionNumber": 3, "principal": "*", "action": "lambda:GetLayerVersion"}))],
            vec![lambda("AddLayerVersionPermission20181031").req(json!({"layerName": "l", "versionNumber": 3, "principal": "*", "organizationId": "o-abc"}))],
        ),
        (
            "lambda-env-changed",
            vec![lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "environment": {"variables": {"A": "b"}}}))],
            // Other settings; and the usual deployer, a CI role with a new session name per run,
            // first seen in the learning period of a lake longer than it.
            vec![
                lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "memorySize": 512})),
                lambda("UpdateFunctionConfiguration20150331v2").role("deploy", "GitHubActions-1").req(json!({"functionName": "f", "environment": {"variables": "HIDDEN_DUE_TO_SECURITY_REASONS"}})),
                lambda("UpdateFunctionConfiguration20150331v2").role("deploy", "GitHubActions-2").req(json!({"functionName": "f", "environment": {"variables": "HIDDEN_DUE_TO_SECURITY_REASONS"}})).at_hour(30),
            ],
        ),
        (
            "lambda-role-changed",
            vec![lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "role": format!("arn:aws:iam::{ACCOUNT}:role/admin")}))],
            vec![lambda("UpdateFunctionConfiguration20150331v2").req(json!({"functionName": "f", "description": "x"}))],
        ),
        (
            "lambda-event-source-mapping",
            vec![lambda("CreateEventSourceMapping20150331").req(json!({"functionName": "f", "eventSourceArn": "arn:aws:sqs:us-east-1:1:q"}))],
            vec![lambda("ListEventSourceMappings20150331").req(json!({"functionName": "f"})).set("readOnly", json!(true))],
        ),
        (
            "lambda-passrole-create-invoke",
            vec![
                lambda("CreateFunction20150331").user("mallory").req(json!({"functionName": "esc", "role": format!("arn:aws:iam::{ACCOUNT}:role/admin")})).at_min(0),
                invoke("esc", 120).user("mallory"),
            ],
            vec![
                lambda("CreateFunction20150331").user("mallory").req(json!({"functionName": "esc", "role": format!("arn:aws:iam::{ACCOUNT}:role/admin")})).at_min(0),
                invoke("esc", 120).user("alice"),
                invoke("esc", 3 * 3600).user("mallory"),
            ],
        ),
        (
            "lambda-code-signing-removed",
            vec![lambda("DeleteFunctionCodeSigningConfig20200630").req(json!({"functionName": "f"}))],
            vec![lambda("PutFunctionCodeSigningConfig20200630").req(json!({"functionName": "f", "codeSigningConfigArn": "arn:csc"}))],
        ),
        (
            "lambda-function-deleted",
            vec![lambda("DeleteFunction20150331").req(json!({"functionName": "f"}))],
            vec![lambda("DeleteFunction20150331").req(json!({"functionName": "f"})).err("AccessDeniedException")],
        ),
        (
            "lambda-concurrency-zero",
            vec![lambda("PutFunctionConcurrency20171031").req(json!({"functionName": "f", "reservedConcurrentExecutions": 0}))],
            vec![lambda("PutFunctionConcurrency20171031").req(json!({"functionName": "f", "reservedConcurrentExecutions": 50}))],
        ),
        (
            "lambda-getfunction-burst",
            many(12, |i| lambda("GetFunction20150331v2").req(json!({"functionName": format!("fn-{i}")})).at_secs(i * 20)),
            // The same twelve functions, fetched over two hours.
            many(12, |i| lambda("GetFunction20150331v2").req(json!({"functionName": format!("fn-{i}")})).at_min(i * 11)),
        ),
        (
            "lambda-invoke-spike",
            {
                let mut v = many(12, |h| invoke("f", h * 3600).service("apigateway.amazonaws.com"));
                v.extend(many(60, |i| invoke("f", 12 * 3600 + i * 10).role("intruder", "x")));
                v
            },
            // Steady: 60 an hour for twelve hours.
            many(13 * 60, |i| invoke("f", i * 60).service("apigateway.amazonaws.com")),
        ),
        (
            "lambda-invoke-new-principal",
            {
                let mut v = many(30, |h| invoke("f", h * 3600).service("apigateway.amazonaws.com"));
                v.push(invoke("f", 30 * 3600 + 5).by_account(OTHER));
                v
            },
            // New principals in the function's first day are its normal callers being learnt.
            vec![
                invoke("f", 0).service("apigateway.amazonaws.com"),
                invoke("f", 3600).role("app", "a1"),
                invoke("f", 40 * 3600).role("app", "a2"),
            ],
        ),
        // ---- iam / sts
        (
            "iam-admin-policy-attached",
            vec![iam("AttachRolePolicy").req(json!({"roleName": "r", "policyArn": admin}))],
            vec![iam("AttachRolePolicy").req(json!({"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}))],
        ),
        (
            "iam-policy-allows-all",
            vec![iam("PutUserPolicy").req(json!({"userName": "u", "policyName": "p", "policyDocument": star_policy}))],
            vec![iam("PutUserPolicy").req(json!({"userName": "u", "policyName": "p", "policyDocument": narrow_policy}))],
        ),
        (
            "iam-policy-version-default",
            vec![iam("CreatePolicyVersion").req(json!({"policyArn": "arn:aws:iam::1:policy/p", "setAsDefault": true, "policyDocument": narrow_policy}))],
            // Not the default; or the usual infrastructure pipeline, sessions named per run.
            vec![
                iam("CreatePolicyVersion").req(json!({"policyArn": "arn:aws:iam::1:policy/p", "setAsDefault": false, "policyDocument": narrow_policy})),
                iam("CreatePolicyVersion").role("terraform", "tf-1").req(json!({"policyArn": "arn:aws:iam::1:policy/p", "setAsDefault": true, "policyDocument": narrow_policy})),
                iam("CreatePolicyVersion").role("terraform", "tf-2").req(json!({"policyArn": "arn:aws:iam::1:policy/p", "setAsDefault": true, "policyDocument": narrow_policy})).at_hour(30),
            ],
        ),
        (
            "iam-access-key-for-other-user",
            vec![iam("CreateAccessKey").req(json!({"userName": "bob"})).resp(json!({"accessKey": {"accessKeyId": "AKIANEW", "userName": "bob"}}))],
            vec![iam("CreateAccessKey").req(json!({"userName": "alice"}))],
        ),
        (
            "iam-login-profile-for-other-user",
            vec![iam("UpdateLoginProfile").req(json!({"userName": "bob"}))],
            vec![iam("UpdateLoginProfile").req(json!({"userName": "alice"}))],
        ),
        (
            "iam-backdoor-user",
            vec![
                iam("CreateUser").req(json!({"userName": "svc"})).at_min(0),
                iam("AttachUserPolicy").req(json!({"userName": "svc", "policyArn": admin})).at_min(5),
            ],
            vec![
                iam("CreateUser").req(json!({"userName": "svc"})).at_min(0),
                iam("CreateAccessKey").req(json!({"userName": "svc"})).at_min(24 * 60),
            ],
        ),
        (
            "iam-role-trust-public",
            vec![iam("UpdateAssumeRolePolicy").req(json!({"roleName": "r", "policyDocument": trust(json!({"AWS": "*"}))}))],
            vec![iam("UpdateAssumeRolePolicy").req(json!({"roleName": "r", "policyDocument": trust(json!({"Service": "lambda.amazonaws.com"}))}))],
        ),
        (
            "iam-role-trust-external-account",
            vec![iam("CreateRole").req(json!({"roleName": "r", "assumeRolePolicyDocument": trust(json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:root"), format!("arn:aws:iam::{OTHER}:root")]}))}))],
            vec![iam("CreateRole").req(json!({"roleName": "r", "assumeRolePolicyDocument": trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}))}))],
        ),
        (
            "iam-write-by-lambda-role",
            vec![
                sts("AssumeRole").service("lambda.amazonaws.com").req(json!({"roleArn": "arn:aws:iam::1:role/fn-role", "roleSessionName": "fn"}))
                    .resp(json!({"credentials": {"accessKeyId": "ASIAFNKEY"}})),
                iam("CreateUser").role_key("fn-role", "fn", "ASIAFNKEY").req(json!({"userName": "x"})).at_min(1),
            ],
            vec![
                sts("AssumeRole").service("lambda.amazonaws.com").req(json!({"roleArn": "arn:aws:iam::1:role/fn-role", "roleSessionName": "fn"}))
                    .resp(json!({"credentials": {"accessKeyId": "ASIAFNKEY"}})),
                iam("GetUser").role_key("fn-role", "fn", "ASIAFNKEY").set("readOnly", json!(true)).at_min(1),
                iam("CreateUser").role_key("admin", "ops", "ASIAOPS").req(json!({"userName": "x"})).at_min(2),
            ],
        ),
        (
            "sts-get-federation-token",
            vec![sts("GetFederationToken").req(json!({"name": "x"}))],
            vec![sts("GetFederationToken").role("r", "s").req(json!({"name": "x"}))],
        ),
        (
            "sts-get-session-token",
            vec![sts("GetSessionToken").req(json!({}))],
            vec![sts("GetSessionToken").req(json!({})).err("AccessDenied")],
        ),
        (
            "sts-role-chaining",
            vec![sts("AssumeRole").role("a", "s").req(json!({"roleArn": "arn:aws:iam::1:role/b"}))],
            vec![sts("AssumeRole").req(json!({"roleArn": "arn:aws:iam::1:role/b"}))],
        ),
        (
            "sts-assumerole-outside-org",
            vec![sts("AssumeRole").by_account(OTHER).req(json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/x")}))],
            vec![
                sts("AssumeRole").by_account("222222222222").req(json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/x")})),
                // 222222222222 has logs in the lake: inside the organisation.
                ev("ec2.amazonaws.com", "DescribeInstances").set("recipientAccountId", json!("222222222222")),
                // A vendor known from the learning period, back every hour.
                sts("AssumeRole").by_account(OTHER).req(json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/vendor")})),
                sts("AssumeRole").by_account(OTHER).req(json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/vendor")})).at_hour(30),
            ],
        ),
        (
            "iam-identity-provider-changed",
            vec![iam("CreateOpenIDConnectProvider").req(json!({"url": "https://token.example.com"}))],
            vec![iam("ListOpenIDConnectProviders").set("readOnly", json!(true))],
        ),
        (
            "rolesanywhere-external-trust-anchor",
            vec![ev("rolesanywhere.amazonaws.com", "CreateTrustAnchor").req(json!({"name": "t", "source": {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": "-----BEGIN"}}}))],
            vec![ev("rolesanywhere.amazonaws.com", "CreateTrustAnchor").req(json!({"name": "t", "source": {"sourceType": "AWS_ACM_PCA", "sourceData": {"acmPcaArn": "arn:pca"}}}))],
        ),
        (
            "iam-accessdenied-burst",
            ["ListUsers", "ListRoles", "GetAccountSummary", "ListPolicies", "ListGroups"]
                .iter()
                .enumerate()
                .map(|(i, n)| iam(n).err("AccessDenied").at_secs(i as i64 * 30))
                .collect(),
            // One API denied many times (an application bug), and five APIs spread over hours.
            {
                let mut v = many(20, |i| ev("ssm.amazonaws.com", "GetParameter").err("AccessDenied").at_secs(i * 10));
                v.extend(["ListUsers", "ListRoles", "GetAccountSummary", "ListPolicies", "ListGroups"].iter().enumerate()
                    .map(|(i, n)| iam(n).user("bob").err("AccessDenied").at_hour(i as i64)));
                v
            },
        ),
        (
            "sts-getcalleridentity-enumeration",
            {
                // "whoami" asked three times: the evidence must still list each event once.
                let mut v = vec![sts("GetCallerIdentity"), sts("GetCallerIdentity").at_secs(5), sts("GetCallerIdentity").at_secs(200)];
                v.extend(["ListUsers", "ListRoles", "ListPolicies", "ListGroups", "GetAccountSummary", "ListBuckets", "DescribeInstances", "ListFunctions20150331", "ListSecrets"]
                    .iter().enumerate().map(|(i, n)| iam(n).set("readOnly", json!(true)).at_secs(10 + i as i64 * 10)));
                v
            },
            // Few distinct APIs; or a container task's role that does this with every new key.
            {
                let mut v = vec![sts("GetCallerIdentity")];
                v.extend(many(20, |i| ev("s3.amazonaws.com", "ListBuckets").at_secs(10 + i)));
                for (h, task) in [(0, "task-a"), (30, "task-b")] {
                    v.push(sts("GetCallerIdentity").role("worker", task).at_hour(h));
                    v.extend(["ListQueues", "DescribeTable", "GetParameter", "DescribeKey", "GetQueueUrl", "ListTables", "GetBucketLocation", "DescribeSecret"]
                        .iter().enumerate().map(|(i, n)| ev("sqs.amazonaws.com", n).role("worker", task).set("readOnly", json!(true)).at_secs(h * 3600 + 10 + i as i64)));
                }
                v
            },
        ),
        (
            "sts-assumerole-new-caller",
            vec![
                ev("ec2.amazonaws.com", "DescribeInstances").at_hour(0),
                sts("AssumeRole").req(json!({"roleArn": "arn:aws:iam::1:role/deployer"})).at_hour(30),
            ],
            vec![
                sts("AssumeRole").req(json!({"roleArn": "arn:aws:iam::1:role/deployer"})).at_hour(0),
                sts("AssumeRole").req(json!({"roleArn": "arn:aws:iam::1:role/deployer"})).at_hour(30),
            ],
        ),
        // ---- signin / mfa / root
        (
            "signin-console-no-mfa",
            vec![login("bob", true, "No")],
            vec![
                login("bob", true, "Yes"),
                // An SSO session: MFA happened at the identity provider.
                login("x", true, "No").set("userIdentity", role_identity("AWSReservedSSO_Admin_abc", "jane@example.com", "ASIAJANE")),
            ],
        ),
        (
            "signin-root-console-login",
            vec![login("x", true, "Yes").root()],
            vec![login("bob", true, "Yes")],
        ),
        (
            "root-api-activity",
            vec![iam("ListUsers").root()],
            vec![login("x", true, "Yes").root()],
        ),
        (
            "root-access-key-created",
            vec![iam("CreateAccessKey").root().resp(json!({"accessKey": {"accessKeyId": "AKIAROOT"}}))],
            vec![iam("CreateAccessKey").root().req(json!({"userName": "bob"}))],
        ),
        (
            "mfa-device-removed",
            vec![iam("DeactivateMFADevice").req(json!({"userName": "bob", "serialNumber": "arn:aws:iam::1:mfa/bob"}))],
            vec![iam("EnableMFADevice").req(json!({"userName": "bob", "serialNumber": "arn:aws:iam::1:mfa/bob"}))],
        ),
        (
            "signin-failed-burst",
            many(6, |i| login(&format!("user{i}"), false, "No").set("errorMessage", json!("Failed authentication")).at_secs(i * 30)),
            many(4, |i| login("bob", false, "No").set("errorMessage", json!("Failed authentication")).at_min(i * 2)),
        ),
        // ---- logging and monitoring
        (
            "cloudtrail-stop-logging",
            vec![ev("cloudtrail.amazonaws.com", "StopLogging").req(json!({"name": "main"}))],
            vec![ev("cloudtrail.amazonaws.com", "StartLogging").req(json!({"name": "main"}))],
        ),
        (
            "cloudtrail-delete-trail",
            vec![ev("cloudtrail.amazonaws.com", "DeleteTrail").req(json!({"name": "main"}))],
            vec![ev("cloudtrail.amazonaws.com", "DeleteTrail").req(json!({"name": "main"})).err("AccessDenied")],
        ),
        (
            "cloudtrail-trail-weakened",
            vec![ev("cloudtrail.amazonaws.com", "UpdateTrail").req(json!({"name": "main", "enableLogFileValidation": false}))],
            vec![ev("cloudtrail.amazonaws.com", "UpdateTrail").req(json!({"name": "main", "enableLogFileValidation": true, "isMultiRegionTrail": true}))],
        ),
        (
            "cloudtrail-event-selectors-reduced",
            vec![ev("cloudtrail.amazonaws.com", "PutEventSelectors").req(json!({"trailName": "main", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]}))],
            vec![ev("cloudtrail.amazonaws.com", "PutEventSelectors").req(json!({"trailName": "main", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true}]}))],
        ),
        (
            "logs-lambda-log-group-tampered",
            vec![ev("logs.amazonaws.com", "PutRetentionPolicy").req(json!({"logGroupName": "/aws/lambda/f", "retentionInDays": 1}))],
            vec![
                ev("logs.amazonaws.com", "PutRetentionPolicy").req(json!({"logGroupName": "/aws/lambda/f", "retentionInDays": 90})),
                ev("logs.amazonaws.com", "DeleteLogGroup").req(json!({"logGroupName": "/ecs/app"})),
            ],
        ),
        (
            "guardduty-disabled",
            vec![ev("guardduty.amazonaws.com", "UpdateDetector").req(json!({"detectorId": "d", "enable": false}))],
            vec![ev("guardduty.amazonaws.com", "UpdateDetector").req(json!({"detectorId": "d", "enable": true}))],
        ),
        (
            "config-recorder-stopped",
            vec![
                ev("config.amazonaws.com", "StopConfigurationRecorder").req(json!({"configurationRecorderName": "default"})),
                ev("config.amazonaws.com", "PutConfigurationRecorder").req(json!({"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": false, "resourceTypes": ["AWS::S3::Bucket"]}}})),
            ],
            vec![
                ev("config.amazonaws.com", "StartConfigurationRecorder").req(json!({"configurationRecorderName": "default"})),
                ev("config.amazonaws.com", "PutConfigurationRecorder").req(json!({"configurationRecorder": {"name": "default", "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": true}}})),
            ],
        ),
        (
            "securityhub-disabled",
            vec![ev("securityhub.amazonaws.com", "DisableSecurityHub")],
            vec![ev("securityhub.amazonaws.com", "EnableSecurityHub")],
        ),
        (
            "cloudwatch-alarms-tampered",
            vec![ev("monitoring.amazonaws.com", "DisableAlarmActions").req(json!({"alarmNames": ["root-login"]}))],
            vec![ev("monitoring.amazonaws.com", "EnableAlarmActions").req(json!({"alarmNames": ["root-login"]}))],
        ),
        (
            "organizations-leave",
            vec![ev("organizations.amazonaws.com", "LeaveOrganization")],
            vec![ev("organizations.amazonaws.com", "DescribeOrganization").set("readOnly", json!(true))],
        ),
        // ---- data
        (
            "kms-key-disabled-or-deleted",
            vec![ev("kms.amazonaws.com", "ScheduleKeyDeletion").req(json!({"keyId": "k", "pendingWindowInDays": 7}))],
            vec![ev("kms.amazonaws.com", "CancelKeyDeletion").req(json!({"keyId": "k"}))],
        ),
        (
            "kms-key-policy-opened",
            vec![ev("kms.amazonaws.com", "PutKeyPolicy").req(json!({"keyId": "k", "policyName": "default", "policy": trust(json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}))}))],
            vec![ev("kms.amazonaws.com", "PutKeyPolicy").req(json!({"keyId": "k", "policyName": "default", "policy": trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}))}))],
        ),
        (
            "secrets-bulk-read",
            many(5, |i| ev("secretsmanager.amazonaws.com", "GetSecretValue").req(json!({"secretId": format!("prod/s{i}")})).at_min(i * 5)),
            // One secret read all day, and four different ones.
            {
                let mut v = many(40, |i| ev("secretsmanager.amazonaws.com", "GetSecretValue").req(json!({"secretId": "prod/db"})).at_min(i));
                v.extend(many(3, |i| ev("secretsmanager.amazonaws.com", "GetSecretValue").req(json!({"secretId": format!("prod/s{i}")})).at_min(i)));
                v
            },
        ),
        (
            "ssm-parameters-bulk-decrypt",
            many(10, |i| ev("ssm.amazonaws.com", "GetParameter").req(json!({"name": format!("/prod/p{i}"), "withDecryption": true})).at_secs(i)),
            many(10, |i| ev("ssm.amazonaws.com", "GetParameter").req(json!({"name": format!("/prod/p{i}"), "withDecryption": false})).at_secs(i)),
        ),
        (
            "s3-bucket-policy-public",
            vec![ev("s3.amazonaws.com", "PutBucketPolicy").req(json!({"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}))],
            vec![ev("s3.amazonaws.com", "PutBucketPolicy").req(json!({"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}))],
        ),
        (
            "s3-bucket-acl-public",
            vec![ev("s3.amazonaws.com", "PutBucketAcl").req(json!({"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}))],
            vec![ev("s3.amazonaws.com", "PutBucketAcl").req(json!({"bucketName": "b", "x-amz-acl": ["private"]}))],
        ),
        (
            "s3-public-access-block-removed",
            vec![ev("s3.amazonaws.com", "PutBucketPublicAccessBlock").req(json!({"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}))],
            vec![ev("s3.amazonaws.com", "PutBucketPublicAccessBlock").req(json!({"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}))],
        ),
        (
            "s3-getobject-burst",
            {
                let get = |i: i64, at: i64| ev("s3.amazonaws.com", "GetObject").data().set("readOnly", json!(true)).req(json!({"bucketName": "b", "key": format!("k{i}")})).at_secs(at);
                let mut v = many(48, |h| get(h, h * 3600));
                v.extend(many(500, |i| get(1000 + i, 48 * 3600 + i)));
                v
            },
            // A nightly job that always reads 500 objects fast: its own rate is the baseline.
            {
                let get = |i: i64, at: i64| ev("s3.amazonaws.com", "GetObject").data().set("readOnly", json!(true)).req(json!({"bucketName": "b", "key": format!("k{i}")})).at_secs(at);
                let mut v = many(500, |i| get(i, i));
                v.extend(many(500, |i| get(1000 + i, 3600 + i)));
                v
            },
        ),
        (
            "vpc-endpoint-policy-opened",
            vec![ev("ec2.amazonaws.com", "ModifyVpcEndpoint").req(json!({"ModifyVpcEndpointRequest": {"VpcEndpointId": "vpce-1", "ResetPolicy": true}}))],
            vec![ev("ec2.amazonaws.com", "ModifyVpcEndpoint").req(json!({"ModifyVpcEndpointRequest": {"VpcEndpointId": "vpce-1", "AddSubnetId": {"item": "subnet-1"}}}))],
        ),
        (
            "critical-action-denied",
            vec![
                ev("organizations.amazonaws.com", "LeaveOrganization").set("errorCode", json!("AccessDenied")).set("errorMessage", json!("not authorized")),
                ev("cloudtrail.amazonaws.com", "StopLogging").set("errorCode", json!("AccessDenied")).at_secs(30),
            ],
            // Refused reads are recon, not an attempt to blind the account; a StopLogging that
            // succeeded is cloudtrail-stop-logging's.
            vec![
                ev("organizations.amazonaws.com", "DescribeOrganization").set("errorCode", json!("AccessDenied")),
                ev("cloudtrail.amazonaws.com", "StopLogging"),
                ev("kms.amazonaws.com", "ScheduleKeyDeletion").set("errorCode", json!("KMSInvalidStateException")),
            ],
        ),
        (
            "dynamodb-table-export",
            vec![ev("dynamodb.amazonaws.com", "ExportTableToPointInTime").req(json!({"tableArn": "arn:aws:dynamodb:us-east-1:1:table/t", "s3Bucket": "x", "s3BucketOwner": OTHER}))],
            vec![ev("dynamodb.amazonaws.com", "DescribeExport").set("readOnly", json!(true)).req(json!({"exportArn": "arn:x"}))],
        ),
        // ---- ec2
        (
            "ec2-security-group-open-to-world",
            vec![ec2("AuthorizeSecurityGroupIngress").req(json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}))],
            vec![
                ec2("AuthorizeSecurityGroupIngress").req(json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}})),
                ec2("RevokeSecurityGroupIngress").req(json!({"groupId": "sg-1", "cidrIp": "0.0.0.0/0", "fromPort": 22, "toPort": 22})),
            ],
        ),
        (
            "ec2-resource-shared-outside",
            vec![
                ec2("ModifySnapshotAttribute").req(json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [{"userId": OTHER}]}}})),
                ev("rds.amazonaws.com", "ModifyDBSnapshotAttribute").req(json!({"attributeName": "restore", "dBSnapshotIdentifier": "db1", "valuesToAdd": ["all"]})),
            ],
            vec![
                ec2("ModifySnapshotAttribute").req(json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"remove": {"items": [{"userId": OTHER}]}}})),
                ec2("ModifyImageAttribute").req(json!({"imageId": "ami-1", "description": {"value": "golden"}})),
            ],
        ),
        (
            "ec2-user-data-read-bulk",
            many(6, |i| ec2("DescribeInstanceAttribute").role("recon", "s1").err("Client.UnauthorizedOperation").req(json!({"attribute": "userData", "instanceId": format!("i-{i}")})).at_secs(i * 5)),
            // An inventory tool: the same sweep every day is info; a few reads are nothing.
            {
                let mut v = many(6, |i| ec2("DescribeInstanceAttribute").role("inventory", "run1").req(json!({"attribute": "userData", "instanceId": format!("i-{i}")})).at_secs(i));
                v.extend(many(6, |i| ec2("DescribeInstanceAttribute").role("inventory", "run2").req(json!({"attribute": "userData", "instanceId": format!("i-{i}")})).at_secs(86_400 + i)));
                v.extend(many(3, |i| ec2("DescribeInstanceAttribute").req(json!({"attribute": "userData", "instanceId": format!("i-{i}")})).at_secs(i)));
                v
            },
        ),
        (
            "ec2-user-data-modified",
            vec![ec2("ModifyInstanceAttribute").req(json!({"instanceId": "i-1", "userData": "<sensitiveDataRemoved>"}))],
            vec![ec2("ModifyInstanceAttribute").req(json!({"instanceId": "i-1", "instanceType": {"value": "t3.large"}}))],
        ),
        (
            "ec2-get-password-data",
            many(6, |i| ec2("GetPasswordData").role("recon", "s1").err("Client.UnauthorizedOperation").req(json!({"instanceId": format!("i-{i}")})).at_secs(i)),
            vec![ec2("GetPasswordData").req(json!({"instanceId": "i-1"}))],
        ),
        (
            "ec2-unusual-instance-launch",
            vec![ec2("RunInstances").role("ci", "s1").err("Client.UnauthorizedOperation").req(json!({"instanceType": "p3.2xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 10}]}}))],
            vec![
                ec2("RunInstances").role("ci", "s1").req(json!({"instanceType": "t3.micro", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 2}]}})),
                ec2("RunInstances").role("ml", "s1").req(json!({"instanceType": "g5.xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}})),
                ec2("RunInstances").role("ml", "s2").req(json!({"instanceType": "g5.xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}})).at_hour(30),
                // A batch cluster that launches a fleet of a type it already runs.
                ec2("RunInstances").role("batch", "b1").req(json!({"instanceType": "c5.24xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 10, "maxCount": 20}]}})).at_hour(1),
                ec2("RunInstances").role("batch", "b2").req(json!({"instanceType": "c5.24xlarge", "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 10, "maxCount": 20}]}})).at_hour(31),
            ],
        ),
        (
            "ec2-serial-console-access",
            vec![ec2("EnableSerialConsoleAccess"), ev("ec2-instance-connect.amazonaws.com", "SendSerialConsoleSSHPublicKey").req(json!({"instanceId": "i-1", "serialPort": 0}))],
            vec![ec2("GetSerialConsoleAccessStatus").set("readOnly", json!(true))],
        ),
        (
            "ec2-instance-connect-keys",
            many(3, |i| ev("ec2-instance-connect.amazonaws.com", "SendSSHPublicKey").req(json!({"instanceId": format!("i-{i}"), "instanceOSUser": "ec2-user"})).at_secs(i * 10)),
            vec![ev("ec2-instance-connect.amazonaws.com", "SendSSHPublicKey").req(json!({"instanceId": "i-1", "instanceOSUser": "ec2-user"}))],
        ),
        (
            "ec2-instance-credentials-used-elsewhere",
            vec![
                sts("GetCallerIdentity").role("web-instance-role", "i-0abc").set("sourceIPAddress", json!("203.0.113.9")),
                ec2("DescribeInstances").set("sourceIPAddress", json!("203.0.113.9")).at_secs(-60),
            ],
            // The instance from its own address, a person from theirs, calls through an endpoint.
            vec![
                sts("GetCallerIdentity").role("web-instance-role", "i-0abc").set("sourceIPAddress", json!("203.0.113.50")),
                sts("GetCallerIdentity").role("web-instance-role", "i-0abc").set("sourceIPAddress", json!("10.1.2.3")),
                ec2("DescribeInstances").at_secs(-60),
                // A NAT address that several instances and a person's tools share.
                sts("GetCallerIdentity").role("web-instance-role", "i-0def").set("sourceIPAddress", json!("203.0.113.77")),
                sts("GetCallerIdentity").role("web-instance-role", "i-0aaa").set("sourceIPAddress", json!("203.0.113.77")),
                ec2("DescribeInstances").user("bob").set("sourceIPAddress", json!("203.0.113.77")),
            ],
        ),
        // ---- ssm
        (
            "ssm-send-command",
            vec![ev("ssm.amazonaws.com", "SendCommand").req(json!({"documentName": "AWS-RunShellScript", "instanceIds": ["i-1"], "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"}))],
            // The deploy role runs its script every day.
            vec![
                ev("ssm.amazonaws.com", "SendCommand").role("deployer", "run-1").req(json!({"documentName": "AWS-RunShellScript", "instanceIds": ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"]})),
                ev("ssm.amazonaws.com", "SendCommand").role("deployer", "run-2").req(json!({"documentName": "AWS-RunShellScript", "instanceIds": ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"]})).at_hour(24),
            ],
        ),
        (
            "ssm-start-session",
            many(3, |i| ev("ssm.amazonaws.com", "StartSession").req(json!({"target": format!("i-{i}")})).at_min(i)),
            vec![
                ev("ssm.amazonaws.com", "StartSession").req(json!({"target": "i-1"})),
                ev("ssm.amazonaws.com", "StartSession").req(json!({"target": "i-2"})).at_hour(1),
            ],
        ),
        // ---- bedrock
        (
            "bedrock-model-access-enabled",
            vec![ev("bedrock.amazonaws.com", "PutFoundationModelEntitlement").req(json!({"modelId": "anthropic.claude-3-sonnet-20240229-v1:0"}))],
            vec![ev("bedrock.amazonaws.com", "GetFoundationModelAvailability").set("readOnly", json!(true)).req(json!({"modelId": "anthropic.claude-3-sonnet-20240229-v1:0"}))],
        ),
        (
            "bedrock-invoke-unusual",
            // A burst in a lake ten hours long.
            {
                let mut v = many(100, |i| ev("bedrock.amazonaws.com", "InvokeModel").role("app", "s").req(json!({"modelId": "m"})).at_secs(i));
                v.push(ec2("DescribeInstances").at_hour(10));
                v
            },
            // A few calls; an application that always calls this much.
            {
                let mut v = many(20, |i| ev("bedrock.amazonaws.com", "InvokeModel").role("app", "s").req(json!({"modelId": "m"})).at_min(i * 5));
                v.extend(many(600, |i| ev("bedrock.amazonaws.com", "InvokeModel").role("chatbot", "c").req(json!({"modelId": "m"})).at_secs(i * 6)));
                v
            },
        ),
        // ---- s3
        (
            "s3-objects-encrypted-by-outsider-key",
            vec![ev("s3.amazonaws.com", "CopyObject").data().req(json!({"bucketName": "b", "key": "k", "x-amz-server-side-encryption-customer-algorithm": "AES256"}))],
            // The account's own KMS key; an application built on SSE-C, writing every day.
            vec![
                ev("s3.amazonaws.com", "PutObject").data().req(json!({"bucketName": "b", "key": "k", "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1")})),
                ev("s3.amazonaws.com", "PutObject").data().role("vault", "w1").req(json!({"bucketName": "v", "key": "a", "x-amz-server-side-encryption-customer-algorithm": "AES256"})),
                ev("s3.amazonaws.com", "PutObject").data().role("vault", "w2").req(json!({"bucketName": "v", "key": "b", "x-amz-server-side-encryption-customer-algorithm": "AES256"})).at_hour(30),
            ],
        ),
        (
            "s3-delete-burst",
            {
                // Sixty single deletes by one identity, five batch deletes (5,000 objects at most) by another.
                let mut v = many(60, |i| ev("s3.amazonaws.com", "DeleteObject").data().req(json!({"bucketName": "b", "key": format!("k{i}")})).at_secs(i));
                v.extend(many(5, |i| ev("s3.amazonaws.com", "DeleteObjects").data().user("mallory").req(json!({"bucketName": "c", "delete": ""})).at_secs(i)));
                v
            },
            // A clean-up job that deletes in bulk every day.
            {
                let mut v = many(60, |i| ev("s3.amazonaws.com", "DeleteObject").data().req(json!({"bucketName": "b", "key": format!("k{i}")})).at_secs(i));
                v.extend(many(60, |i| ev("s3.amazonaws.com", "DeleteObject").data().req(json!({"bucketName": "b", "key": format!("j{i}")})).at_secs(86_400 + i)));
                v
            },
        ),
        (
            "s3-bucket-protection-removed",
            vec![
                ev("s3.amazonaws.com", "PutBucketVersioning").req(json!({"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}})),
                ev("s3.amazonaws.com", "PutBucketLifecycle").req(json!({"bucketName": "b", "LifecycleConfiguration": {"Rule": {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}}})),
            ],
            vec![
                ev("s3.amazonaws.com", "PutBucketVersioning").req(json!({"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}})),
                ev("s3.amazonaws.com", "PutBucketLifecycle").req(json!({"bucketName": "b", "LifecycleConfiguration": {"Rule": {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 90}}}})),
                ev("s3.amazonaws.com", "PutBucketLogging").req(json!({"bucketName": "b", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "b/"}}})),
            ],
        ),
        (
            "s3-bucket-deleted",
            vec![ev("s3.amazonaws.com", "DeleteBucket").req(json!({"bucketName": "b"}))],
            vec![ev("s3.amazonaws.com", "DeleteBucket").role("ci", "pr-42").req(json!({"bucketName": "test-stack-42"}))],
        ),
        (
            "s3-ransom-note",
            many(3, |i| ev("s3.amazonaws.com", "PutObject").data().req(json!({"bucketName": format!("b{i}"), "key": "README-RECOVER.txt"})).at_secs(i)),
            many(3, |i| ev("s3.amazonaws.com", "PutObject").data().req(json!({"bucketName": "b", "key": "README-RECOVER.txt"})).at_secs(i)),
        ),
        // ---- logging, sign-in, IAM, audit
        (
            "network-logging-deleted",
            vec![ec2("DeleteFlowLogs").req(json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}})), ev("route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig").req(json!({"resolverQueryLogConfigId": "rqlc-1"}))],
            // Creating them; an ephemeral-environment pipeline tearing down on two days.
            vec![
                ec2("CreateFlowLogs").req(json!({"CreateFlowLogsRequest": {"ResourceId": "vpc-1"}})),
                ec2("DeleteFlowLogs").role("envs", "pr-1").req(json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1"}}})),
                ec2("DeleteFlowLogs").role("envs", "pr-2").req(json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-2"}}})).at_hour(30),
            ],
        ),
        (
            "cloudtrail-trail-in-unused-region",
            vec![ev("cloudtrail.amazonaws.com", "CreateTrail").set("awsRegion", json!("ap-south-1")).req(json!({"name": "t", "s3BucketName": "x"}))],
            {
                let mut v = vec![ev("cloudtrail.amazonaws.com", "CreateTrail").req(json!({"name": "t", "s3BucketName": "x"}))];
                v.extend(many(25, |i| ec2("DescribeInstances").set("readOnly", json!(true)).at_secs(i)));
                v
            },
        ),
        (
            "root-password-changed",
            vec![ev("signin.amazonaws.com", "PasswordUpdated").root().set("responseElements", json!({"PasswordUpdated": "Success"}))],
            vec![ev("signin.amazonaws.com", "PasswordUpdated").set("responseElements", json!({"PasswordUpdated": "Success"}))],
        ),
        (
            "signin-console-without-sso",
            vec![
                login("alice", true, "Yes"),
                login("alice", true, "Yes").role("AWSReservedSSO_Admin_0123", "bob@example.com").at_hour(1),
            ],
            // No SSO in the account; or a known break-glass user, first seen in the learning period.
            {
                let mut v = vec![login("alice", true, "Yes")];
                v.extend([
                    login("alice", true, "Yes").set("recipientAccountId", json!(OTHER)),
                    login("alice", true, "Yes").role("AWSReservedSSO_Admin_0123", "bob@example.com").set("recipientAccountId", json!(OTHER)).at_hour(1),
                    login("alice", true, "Yes").set("recipientAccountId", json!(OTHER)).at_hour(30),
                ]);
                v
            },
        ),
        (
            "iam-compromised-key-quarantine",
            vec![iam("AttachUserPolicy").req(json!({"userName": "ci", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}))],
            vec![iam("AttachUserPolicy").req(json!({"userName": "ci", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}))],
        ),
        (
            "logs-log-group-deleted",
            vec![ev("logs.amazonaws.com", "DeleteLogGroup").req(json!({"logGroupName": "aws-cloudtrail-logs-111111111111-org"}))],
            // A Lambda function's group (another rule's), a test stack's group; a teardown role on two days.
            vec![
                ev("logs.amazonaws.com", "DeleteLogGroup").req(json!({"logGroupName": "/aws/lambda/f"})),
                ev("logs.amazonaws.com", "DeleteLogGroup").role("ci", "pr-1").req(json!({"logGroupName": "/ecs/test-stack-1"})),
                ev("logs.amazonaws.com", "DeleteLogGroup").role("ci", "pr-2").req(json!({"logGroupName": "/ecs/test-stack-2"})).at_hour(30),
            ],
        ),
        (
            "ec2-ebs-default-encryption-disabled",
            vec![ec2("DisableEbsEncryptionByDefault").req(json!({"DisableEbsEncryptionByDefaultRequest": ""}))],
            vec![
                ec2("EnableEbsEncryptionByDefault").req(json!({"EnableEbsEncryptionByDefaultRequest": ""})),
                ec2("ModifyEbsDefaultKmsKeyId").req(json!({"ModifyEbsDefaultKmsKeyIdRequest": {"KmsKeyId": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/1")}})),
            ],
        ),
        (
            "iam-change-by-new-principal",
            vec![iam("AttachRolePolicy").req(json!({"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}))],
            // The infrastructure pipeline, known from the learning period; reads.
            vec![
                iam("CreateRole").role("terraform", "tf-1").req(json!({"roleName": "a"})),
                iam("AttachRolePolicy").role("terraform", "tf-2").req(json!({"roleName": "a", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})).at_hour(30),
                iam("ListRoles").set("readOnly", json!(true)).at_hour(31),
            ],
        ),
        (
            "control-plane-change",
            vec![iam("CreateUser").req(json!({"userName": "x"}))],
            vec![iam("ListUsers").set("readOnly", json!(true))],
        ),
    ]
}

/// The severity in the header of built-in rule `id`.
fn header(id: &str) -> Severity {
    trailscope::detect::builtin()
        .expect("the built-in rules parse")
        .into_iter()
        .find(|r| r.id == id)
        .map_or(Severity::Critical, |r| r.severity)
}

/// Ingests `events` into a fresh lake and runs rule `id` over it; returns its findings.
async fn run(id: &str, events: &[Ev], dir: &std::path::Path) -> Vec<trailscope::detect::Finding> {
    let src = dir.join(format!("{id}.json"));
    let records: Vec<&Value> = events.iter().map(|e| &e.0).collect();
    std::fs::write(&src, json!({"Records": records}).to_string()).expect("writing a fixture");
    let lake = dir.join("lake");
    let opts = trailscope::ingest::Options::new(vec![src.display().to_string()], lake.clone());
    let report = trailscope::ingest::run(&opts)
        .await
        .expect("the fixture ingests");
    assert!(
        report.failures.is_empty(),
        "{id}: the fixture must ingest cleanly"
    );
    let ctx = trailscope::query::session::open(&lake)
        .await
        .expect("a session");
    let rule = trailscope::detect::builtin()
        .expect("the built-in rules parse")
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no built-in rule {id}"));
    trailscope::detect::run_rule(&ctx, &rule, &Overrides::default())
        .await
        .unwrap_or_else(|e| panic!("rule {id} failed: {e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_fires_on_its_positive_fixture_and_not_on_its_negative() {
    let cases = cases();
    let mut problems = Vec::new();
    for (id, positive, negative) in &cases {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(dir.path().join("pos")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("neg")).expect("mkdir");
        // Rules grade rows by context: a positive needs a finding at low or above (any finding
        // for an info rule), a negative may hold info rows (the routine, graded down) but no more.
        let counts = |f: &trailscope::detect::Finding| {
            f.severity > Severity::Info || header(id) == Severity::Info
        };
        let found = run(id, positive, &dir.path().join("pos")).await;
        if !found.iter().any(counts) {
            problems.push(format!("{id}: no finding on its positive fixture"));
        }
        let ids: Vec<&str> = positive
            .iter()
            .filter_map(|e| e.0["eventID"].as_str())
            .collect();
        for f in &found {
            let complete = !f.summary.is_empty()
                && !f.account.is_empty()
                && !f.region.is_empty()
                && !f.actor.is_empty()
                && f.first_seen <= f.last_seen
                && f.event_count as usize >= f.eventids.len().min(1)
                && !f.eventids.is_empty()
                && f.eventids.iter().all(|e| ids.contains(&e.as_str()))
                && f.source_uris.len() == 1;
            // A join that multiplies rows shows as evidence listed twice and a count too high.
            let mut unique = f.eventids.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != f.eventids.len() || f.event_count as usize > ids.len() {
                problems.push(format!(
                    "{id}: evidence counted more than once ({} events, {} ids, {} distinct)",
                    f.event_count,
                    f.eventids.len(),
                    unique.len()
                ));
            }
            if !complete {
                problems.push(format!("{id}: incomplete finding {f:?}"));
            }
        }
        let found: Vec<_> = run(id, negative, &dir.path().join("neg"))
            .await
            .into_iter()
            .filter(counts)
            .collect();
        if !found.is_empty() {
            problems.push(format!(
                "{id}: {} finding(s) on its negative fixture: {:?}",
                found.len(),
                found[0].summary
            ));
        }
    }
    let builtin: Vec<String> = trailscope::detect::builtin()
        .expect("rules parse")
        .into_iter()
        .map(|r| r.id)
        .collect();
    for id in &builtin {
        if !cases.iter().any(|(c, _, _)| c == id) {
            problems.push(format!("{id}: no fixtures"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
