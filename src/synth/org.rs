//! Organisation routine: the scheduled, repeated work real accounts do all day, which detection
//! rules must not mistake for attacks.
//!
//! Input: one log stream (account, region), the span and a random source. Output: timed events
//! ("episodes") merged into the stream beside the per-event routine of [`super::routine`]. What
//! it models, because each is a known source of false alarms:
//! - CI/CD roles (`github-actions-deploy`, `terraform-apply`) deploying function code and
//!   environment variables many times a working day, a new session name per run, and setting
//!   new policy versions as default;
//! - SDK clients (container tasks, data pipelines) that start with GetCallerIdentity and then
//!   make a few Describe/List/Get calls, a new task (session and key) every few minutes;
//! - a monitoring vendor's account assuming a read-only role several times an hour and reading;
//! - nightly jobs reading the same secrets and SecureString parameters, clean-up jobs deleting
//!   objects in bulk, a posture scanner reading every instance's user data, patching through SSM;
//! - people signing in through SSO and working from offices, an autoscaling group and a
//!   machine-learning team launching instances, an application calling Bedrock all day.
//!
//! It writes no attacks; [`super::incident`] does.

use serde_json::json;

use super::event::{BOTO, CLI, CONSOLE, Event, Identity, Rng, stable_id, time_text};

/// The monitoring vendor's account (outside the organisation).
const VENDOR_ACCOUNT: &str = "464622532012";
const FUNCTIONS: &[&str] = &[
    "payments-processor",
    "orders-api",
    "thumbnailer",
    "nightly-report",
];
const SECRETS: &[&str] = &[
    "prod/payments/db",
    "prod/orders/db",
    "prod/stripe/api-key",
    "prod/sendgrid/api-key",
    "prod/reporting/warehouse",
    "prod/etl/sftp",
];
const PEOPLE: &[&str] = &[
    "alice@corp.example",
    "bob@corp.example",
    "chen@corp.example",
    "dana@corp.example",
    "emeka@corp.example",
    "farah@corp.example",
];
const SDK_AGENTS: &[&str] = &[
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.4",
    "aws-sdk-java/2.25.11 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
    "aws-sdk-js/3.535.0 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 lang/js md/nodejs#20.11.1 api/sts#3.535.0",
    BOTO,
];
const GITHUB_AGENT: &str = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#lambda.update-function-code";
const TERRAFORM_AGENT: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.41.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64";
const VENDOR_AGENT: &str =
    "Datadog/1.0 aws-sdk-go/1.50.30 (go1.21.8; linux; amd64) exec-env/datadog-aws-crawler";

/// One stream's episodes, in no particular order: (time, record JSON).
pub(super) fn episodes(
    rng: &mut Rng,
    account: &str,
    region: &str,
    home: bool,
    start: i64,
    span: i64,
) -> Vec<(i64, String)> {
    let mut w = Writer {
        rng,
        account,
        region,
        out: Vec::new(),
    };
    let days = span / 86_400;
    for day in 0..days.max(1) {
        let d0 = start + day * 86_400;
        let date = time_text(d0)[..10].replace('-', "");
        // CI/CD deploys during working hours.
        let mut t = d0 + 8 * 3600 + w.rng.below(1800) as i64;
        while t < d0 + 18 * 3600 {
            w.github_deploy(t);
            t += 1800 + w.rng.below(3600) as i64;
        }
        if home {
            for h in [10, 15] {
                let at = d0 + h * 3600 + w.rng.below(1800) as i64;
                w.terraform_apply(at);
            }
            let at = d0 + 2 * 3600 + w.rng.below(600) as i64;
            w.nightly_etl(at, &date);
            let at = d0 + 3 * 3600 + 600 + w.rng.below(300) as i64;
            w.log_retention(at, &date);
            let at = d0 + 5 * 3600 + w.rng.below(600) as i64;
            w.posture_scan(at, &date);
            let at = d0 + 4 * 3600 + w.rng.below(600) as i64;
            w.patching(at, &date);
            for _ in 0..(2 + w.rng.below(3)) {
                let at = d0 + 8 * 3600 + w.rng.below(10 * 3600) as i64;
                w.person(at);
            }
            let at = d0 + 9 * 3600 + w.rng.below(3600) as i64;
            w.ml_training(at);
        }
        // Container tasks start every few minutes, all day.
        let mut t = d0 + w.rng.below(600) as i64;
        while t < d0 + 86_400 {
            w.sdk_client(t);
            t += 300 + w.rng.below(900) as i64;
        }
        // The vendor's crawler, four times an hour.
        let mut t = d0 + w.rng.below(900) as i64;
        while t < d0 + 86_400 {
            w.vendor_crawl(t);
            t += 900;
        }
        // Autoscaling a few times a day.
        for _ in 0..3 {
            let at = d0 + w.rng.below(86_400) as i64;
            w.autoscale(at);
        }
        // A chatbot calls Bedrock steadily in its region.
        if home {
            let mut t = d0 + w.rng.below(120) as i64;
            while t < d0 + 86_400 {
                w.chatbot(t);
                t += 60 + w.rng.below(240) as i64;
            }
        }
    }
    w.out
}

struct Writer<'a> {
    rng: &'a mut Rng,
    account: &'a str,
    region: &'a str,
    out: Vec<(i64, String)>,
}

/// What changes between the calls of one episode.
struct Call<'a> {
    source: &'a str,
    name: &'a str,
    request: serde_json::Value,
    response: Option<serde_json::Value>,
    read_only: bool,
    data: bool,
    event_type: &'a str,
}

/// An S3 data event.
fn s3_data<'a>(name: &'a str, request: serde_json::Value) -> Call<'a> {
    Call {
        data: true,
        ..call("s3.amazonaws.com", name, request)
    }
}

fn call<'a>(source: &'a str, name: &'a str, request: serde_json::Value) -> Call<'a> {
    let read_only = ["Get", "List", "Describe", "Head", "Lookup", "Search"]
        .iter()
        .any(|p| name.starts_with(p));
    // Sign-ins are CloudTrail's own event type (and carry no request id).
    let event_type = match source {
        "signin.amazonaws.com" => "AwsConsoleSignIn",
        _ => "AwsApiCall",
    };
    Call {
        source,
        name,
        request,
        response: None,
        read_only,
        data: false,
        event_type,
    }
}

impl Writer<'_> {
    fn key(&mut self) -> String {
        format!("ASIA{}", self.rng.alnum(16, true))
    }

    fn role(&mut self, role: &str, session: &str, created: i64) -> Identity {
        let key = self.key();
        Identity::role_session(
            self.account,
            role,
            session,
            &key,
            &time_text(created),
            false,
        )
    }

    /// The account's `i`th instance, the same id in every episode.
    fn instance(&self, i: u64) -> String {
        let id = stable_id(&format!("{}{i}", self.account), 16);
        format!("i-0{}", id.to_lowercase())
    }

    fn nat_ip(&mut self) -> String {
        let n = stable_id(self.account, 4).as_bytes()[0] % 200;
        format!("52.{}.{}.{}", 20 + n % 50, n, 10 + self.rng.below(3))
    }

    /// Writes `calls` by `who` from `ip`, a few seconds apart from `t`; returns the end time.
    fn emit(&mut self, t: i64, who: &Identity, ip: &str, agent: &str, calls: Vec<Call>) -> i64 {
        let mut t = t;
        let region = self.region;
        let account = self.account;
        for c in calls {
            let global = matches!(c.source, "iam.amazonaws.com" | "signin.amazonaws.com");
            let ev_region = if global { "us-east-1" } else { region };
            let host = match c.source {
                "iam.amazonaws.com" => Some("iam.amazonaws.com".to_owned()),
                "signin.amazonaws.com" => Some("signin.aws.amazon.com".to_owned()),
                s => Some(format!(
                    "{}.{ev_region}.amazonaws.com",
                    s.trim_end_matches(".amazonaws.com")
                )),
            };
            let mut additional = None;
            if c.data && c.source == "s3.amazonaws.com" {
                additional = Some(json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": self.rng.alnum(76, false), "bytesTransferredOut": self.rng.below(900_000)}).to_string());
            }
            let ev = Event {
                time: t,
                source: c.source,
                name: c.name,
                region: ev_region,
                ip,
                agent,
                identity: who,
                request: Some(c.request.to_string()),
                response: c.response.map(|r| r.to_string()),
                additional,
                error: None,
                read_only: Some(c.read_only),
                event_type: c.event_type,
                management: !c.data,
                category: if c.data { "Data" } else { "Management" },
                resources: Vec::new(),
                account,
                tls_host: host,
                console: agent == CONSOLE,
            };
            let mut s = String::with_capacity(1600);
            ev.write(self.rng, &mut s);
            self.out.push((t, s));
            t += 1 + self.rng.below(4) as i64;
        }
        t
    }

    fn function(&mut self) -> &'static str {
        *self.rng.pick(FUNCTIONS)
    }

    fn github_deploy(&mut self, t: i64) {
        let run = 8_000_000_000 + self.rng.below(999_999_999);
        let who = self.role(
            "github-actions-deploy",
            &format!("GitHubActions-{run}"),
            t - 5,
        );
        let ip = format!(
            "{}.{}.{}.{}",
            self.rng.pick(&[4u64, 20, 40, 52, 104, 172]),
            self.rng.below(255),
            self.rng.below(255),
            1 + self.rng.below(250)
        );
        let f = self.function();
        let bucket = format!("deploy-artifacts-{}", self.account);
        let sha = self.rng.alnum(40, false).to_lowercase();
        let calls = vec![
            call("sts.amazonaws.com", "GetCallerIdentity", json!(null)),
            call(
                "lambda.amazonaws.com",
                "GetFunction20150331v2",
                json!({"functionName": f}),
            ),
            call(
                "lambda.amazonaws.com",
                "UpdateFunctionCode20150331v2",
                json!({"functionName": f, "s3Bucket": bucket, "s3Key": format!("{f}/{sha}.zip"), "publish": false, "dryRun": false, "architectures": ["arm64"]}),
            ),
            call(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
                json!({"functionName": f, "environment": {"variables": "HIDDEN_DUE_TO_SECURITY_REASONS"}, "description": format!("deploy {}", &sha[..12])}),
            ),
            call(
                "lambda.amazonaws.com",
                "PublishVersion20150331",
                json!({"functionName": f, "codeSha256": self.rng.alnum(43, false), "description": &sha[..12]}),
            ),
            call(
                "lambda.amazonaws.com",
                "UpdateAlias20150331",
                json!({"functionName": f, "name": "live", "functionVersion": (1 + self.rng.below(400)).to_string()}),
            ),
        ];
        self.emit(t, &who, &ip, GITHUB_AGENT, calls);
    }

    fn terraform_apply(&mut self, t: i64) {
        let session = format!("terraform-{}", self.rng.alnum(12, false).to_lowercase());
        let who = self.role("terraform-apply", &session, t - 10);
        let ip = self.nat_ip();
        let policy = format!(
            "arn:aws:iam::{}:policy/{}",
            self.account,
            self.rng
                .pick(&["app-read-config", "etl-s3-access", "deploy-boundary"])
        );
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [format!("arn:aws:s3:::app-data-{}", self.account), format!("arn:aws:s3:::app-data-{}/*", self.account)]}]}).to_string();
        let old = format!("v{}", 2 + self.rng.below(4));
        let f = self.function();
        let calls = vec![
            call("sts.amazonaws.com", "GetCallerIdentity", json!(null)),
            call(
                "iam.amazonaws.com",
                "GetPolicy",
                json!({"policyArn": policy}),
            ),
            call(
                "iam.amazonaws.com",
                "ListPolicyVersions",
                json!({"policyArn": policy}),
            ),
            call(
                "iam.amazonaws.com",
                "DeletePolicyVersion",
                json!({"policyArn": policy, "versionId": old}),
            ),
            call(
                "iam.amazonaws.com",
                "CreatePolicyVersion",
                json!({"policyArn": policy, "policyDocument": doc, "setAsDefault": true}),
            ),
            call(
                "lambda.amazonaws.com",
                "GetFunctionConfiguration20150331v2",
                json!({"functionName": f}),
            ),
            call(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
                json!({"functionName": f, "environment": {"variables": "HIDDEN_DUE_TO_SECURITY_REASONS"}, "timeout": 30, "memorySize": 512}),
            ),
        ];
        self.emit(t, &who, &ip, TERRAFORM_AGENT, calls);
    }

    fn sdk_client(&mut self, t: i64) {
        let (role, reads): (&str, &[(&str, &str)]) = *self.rng.pick(&[
            (
                "orders-worker-task",
                &[
                    ("sqs.amazonaws.com", "GetQueueUrl"),
                    ("dynamodb.amazonaws.com", "DescribeTable"),
                    ("ssm.amazonaws.com", "GetParameter"),
                    ("secretsmanager.amazonaws.com", "DescribeSecret"),
                    ("kms.amazonaws.com", "DescribeKey"),
                    ("sqs.amazonaws.com", "GetQueueAttributes"),
                    ("dynamodb.amazonaws.com", "DescribeTimeToLive"),
                    ("sns.amazonaws.com", "GetTopicAttributes"),
                    ("s3.amazonaws.com", "GetBucketLocation"),
                    ("ecs.amazonaws.com", "DescribeTasks"),
                ][..],
            ),
            (
                "datapipeline-runner",
                &[
                    ("glue.amazonaws.com", "GetTable"),
                    ("glue.amazonaws.com", "GetPartitions"),
                    ("s3.amazonaws.com", "GetBucketLocation"),
                    ("athena.amazonaws.com", "GetWorkGroup"),
                    ("ssm.amazonaws.com", "GetParameter"),
                ][..],
            ),
        ]);
        let task = self.rng.alnum(32, false).to_lowercase();
        let who = self.role(role, &task, t - 2);
        let ip = self.nat_ip();
        let agent = *self.rng.pick(SDK_AGENTS);
        let mut calls = vec![call("sts.amazonaws.com", "GetCallerIdentity", json!(null))];
        let n = 3 + self.rng.below(8) as usize;
        for (src, name) in reads.iter().take(n) {
            calls.push(call(
                src,
                name,
                json!({"name": format!("/{role}/config"), "tableName": "orders", "queueName": "orders-in", "databaseName": "lake", "secretId": format!("prod/{role}"), "keyId": "alias/app"}),
            ));
        }
        self.emit(t, &who, &ip, agent, calls);
    }

    fn vendor_crawl(&mut self, t: i64) {
        let role_arn = format!("arn:aws:iam::{}:role/DatadogIntegrationRole", self.account);
        let caller = Identity {
            json: json!({"type": "AWSAccount", "principalId": format!("AROAWZ3XH2FGOKXNFK3EA:{}", self.rng.alnum(10, false)), "accountId": VENDOR_ACCOUNT}).to_string(),
        };
        let ip = format!("3.233.{}.{}", 140 + self.rng.below(10), self.rng.below(250));
        let key = self.key();
        let assume = Call {
            response: Some(
                json!({"credentials": {"accessKeyId": key, "sessionToken": self.rng.alnum(96, false), "expiration": time_text(t + 3600)}, "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLEDATADOG:DatadogAWSIntegration", "arn": format!("arn:aws:sts::{}:assumed-role/DatadogIntegrationRole/DatadogAWSIntegration", self.account)}}),
            ),
            ..call(
                "sts.amazonaws.com",
                "AssumeRole",
                json!({"roleArn": role_arn, "roleSessionName": "DatadogAWSIntegration", "externalId": "HIDDEN_DUE_TO_SECURITY_REASONS", "durationSeconds": 3600}),
            )
        };
        let t = self.emit(t, &caller, &ip, VENDOR_AGENT, vec![assume]);
        let who = Identity::role_session(
            self.account,
            "DatadogIntegrationRole",
            "DatadogAWSIntegration",
            &key,
            &time_text(t),
            false,
        );
        let calls = vec![
            call(
                "monitoring.amazonaws.com",
                "GetMetricData",
                json!({"startTime": time_text(t - 600), "endTime": time_text(t), "metricDataQueries": [{"id": "m1"}]}),
            ),
            call(
                "ec2.amazonaws.com",
                "DescribeInstances",
                json!({"maxResults": 1000, "filterSet": {}, "instancesSet": {}}),
            ),
            call(
                "tagging.amazonaws.com",
                "GetResources",
                json!({"resourcesPerPage": 100}),
            ),
            call("lambda.amazonaws.com", "ListFunctions20150331", json!({})),
        ];
        self.emit(t + 2, &who, &ip, VENDOR_AGENT, calls);
    }

    fn nightly_etl(&mut self, t: i64, date: &str) {
        let who = self.role("nightly-etl", &format!("etl-{date}"), t - 3);
        let ip = self.nat_ip();
        let region = self.region;
        let account = self.account;
        let mut calls = vec![call("sts.amazonaws.com", "GetCallerIdentity", json!(null))];
        for s in SECRETS {
            calls.push(call(
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                json!({"secretId": format!("arn:aws:secretsmanager:{region}:{account}:secret:{s}-{}", stable_id(s, 6))}),
            ));
        }
        let names: Vec<String> = (0..12).map(|i| format!("/etl/prod/param-{i:02}")).collect();
        calls.push(call(
            "ssm.amazonaws.com",
            "GetParameters",
            json!({"names": names, "withDecryption": true}),
        ));
        for i in 0..20 {
            calls.push(s3_data(
                "GetObject",
                json!({"bucketName": format!("warehouse-{account}"), "key": format!("exports/{date}/part-{i:05}.parquet"), "Host": format!("warehouse-{account}.s3.{region}.amazonaws.com")}),
            ));
        }
        self.emit(t, &who, &ip, BOTO, calls);
    }

    fn log_retention(&mut self, t: i64, date: &str) {
        let who = self.role("log-retention", &format!("retention-{date}"), t - 3);
        let ip = self.nat_ip();
        let account = self.account;
        let mut calls = Vec::new();
        for i in 0..60 {
            let name = if i % 10 == 0 {
                "DeleteObjects"
            } else {
                "DeleteObject"
            };
            calls.push(s3_data(
                name,
                json!({"bucketName": format!("logs-archive-{account}"), "key": format!("app/{date}/old-{i:04}.log.gz"), "delete": ""}),
            ));
        }
        self.emit(t, &who, &ip, BOTO, calls);
    }

    fn posture_scan(&mut self, t: i64, date: &str) {
        let who = self.role("SecurityAudit", &format!("cspm-scan-{date}"), t - 3);
        let ip = format!("35.171.{}.{}", self.rng.below(200), self.rng.below(250));
        let mut calls = vec![call(
            "ec2.amazonaws.com",
            "DescribeInstances",
            json!({"maxResults": 1000, "filterSet": {}, "instancesSet": {}}),
        )];
        for i in 0..12 {
            calls.push(call(
                "ec2.amazonaws.com",
                "DescribeInstanceAttribute",
                json!({"instanceId": self.instance(i), "attribute": "userData"}),
            ));
        }
        calls.push(call(
            "iam.amazonaws.com",
            "GetAccountAuthorizationDetails",
            json!({"maxItems": 1000}),
        ));
        self.emit(t, &who, &ip, "CSPMScanner/4.2 aws-sdk-go/1.50.30", calls);
    }

    fn patching(&mut self, t: i64, date: &str) {
        let who = self.role("ssm-patch-automation", &format!("patch-{date}"), t - 3);
        let ip = self.nat_ip();
        let ids: Vec<String> = (0..15).map(|i| self.instance(i)).collect();
        let calls = vec![call(
            "ssm.amazonaws.com",
            "SendCommand",
            json!({"documentName": "AWS-RunPatchBaseline", "instanceIds": ids, "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": false}),
        )];
        self.emit(t, &who, &ip, BOTO, calls);
    }

    fn person(&mut self, t: i64) {
        let person = *self.rng.pick(PEOPLE);
        let role = format!(
            "AWSReservedSSO_Developer_{}",
            stable_id(self.account, 16).to_lowercase()
        );
        let who = self.role(&role, person, t);
        let ip = format!("198.51.100.{}", 10 + self.rng.below(40));
        let login = Call {
            response: Some(json!({"ConsoleLogin": "Success"})),
            ..call("signin.amazonaws.com", "ConsoleLogin", json!(null))
        };
        let f = self.function();
        let mut calls = vec![
            login,
            call("lambda.amazonaws.com", "ListFunctions20150331", json!({})),
            call(
                "lambda.amazonaws.com",
                "GetFunction20150331v2",
                json!({"functionName": f}),
            ),
            call(
                "logs.amazonaws.com",
                "FilterLogEvents",
                json!({"logGroupName": format!("/aws/lambda/{f}"), "startTime": (t - 3600) * 1000}),
            ),
            call(
                "ec2.amazonaws.com",
                "DescribeInstances",
                json!({"maxResults": 1000, "filterSet": {}, "instancesSet": {}}),
            ),
        ];
        if self.rng.below(3) == 0 {
            let i = self.rng.below(15);
            calls.push(call(
                "ec2-instance-connect.amazonaws.com",
                "SendSSHPublicKey",
                json!({"instanceId": self.instance(i), "instanceOSUser": "ec2-user", "sSHPublicKey": format!("ssh-ed25519 {}", self.rng.alnum(68, false))}),
            ));
        }
        if self.rng.below(3) == 0 {
            let i = self.rng.below(15);
            calls.push(call(
                "ssm.amazonaws.com",
                "StartSession",
                json!({"target": self.instance(i)}),
            ));
        }
        self.emit(t, &who, &ip, CONSOLE, calls);
    }

    fn ml_training(&mut self, t: i64) {
        let session = format!("sagemaker-{}", self.rng.alnum(8, false).to_lowercase());
        let who = self.role("ml-training", &session, t - 3);
        let ip = self.nat_ip();
        let calls = vec![call(
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instanceType": "g5.2xlarge", "instancesSet": {"items": [{"imageId": "ami-0a1b2c3d4e5f67890", "minCount": 1, "maxCount": 2}]}, "blockDeviceMapping": {}, "monitoring": {"enabled": false}}),
        )];
        self.emit(t, &who, &ip, CLI, calls);
    }

    fn autoscale(&mut self, t: i64) {
        let who = Identity::role_session(
            self.account,
            "AWSServiceRoleForAutoScaling",
            "AutoScaling",
            &self.key(),
            &time_text(t),
            false,
        );
        let calls = vec![call(
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instanceType": "m6i.large", "launchTemplate": {"launchTemplateId": "lt-0abc", "version": "$Latest"}, "instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]}}),
        )];
        self.emit(
            t,
            &who,
            "autoscaling.amazonaws.com",
            "autoscaling.amazonaws.com",
            calls,
        );
    }

    fn chatbot(&mut self, t: i64) {
        let who = self.role("support-chatbot", "support-chatbot", t - 600);
        let mut c = call(
            "bedrock.amazonaws.com",
            "InvokeModel",
            json!({"modelId": "anthropic.claude-3-haiku-20240307-v1:0"}),
        );
        c.read_only = true;
        self.emit(t, &who, "lambda.amazonaws.com", BOTO, vec![c]);
    }
}
