//! Routine traffic: what a quiet account does all day.

use serde_json::json;

use super::event::{BOTO, CLI, CONSOLE, Event, Identity, Rng, stable_id, time_text};

/// The routine actors of one account.
pub(super) struct Cast {
    pub(super) alice: Identity,
    pub(super) bob: Identity,
    pub(super) auditor: Identity,
    pub(super) app: Identity,
    pub(super) autoscaler: Identity,
    pub(super) apigw: Identity,
    pub(super) lambda_svc: Identity,
}

impl Cast {
    pub(super) fn new(account: &str, rng: &mut Rng) -> Cast {
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
pub(super) fn routine(
    rng: &mut Rng,
    cast: &Cast,
    account: &str,
    region: &str,
    time: i64,
    out: &mut String,
) {
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
    // Hosts in the VPC call from many private addresses.
    let vpc_ip = format!("10.0.{}.{}", rng.below(64), 1 + rng.below(250));
    let mut ev = Event {
        time,
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        region,
        ip: &vpc_ip,
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
            // Real describes name the resources they ask about: ids are most of a log's entropy.
            let ids: Vec<serde_json::Value> = (0..1 + rng.below(4))
                .map(|_| json!({"instanceId": format!("i-0{:017x}", rng.next() >> 4)}))
                .collect();
            ev.request = Some(
                json!({"maxResults": 1000, "filterSet": {}, "instancesSet": {"items": ids}})
                    .to_string(),
            );
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
            let key = format!("invoices/2024/{}.json", rng.uuid());
            ev.request = Some(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key}).to_string());
            ev.additional = Some(json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": rng.alnum(76, false), "bytesTransferredOut": rng.below(90_000)}).to_string());
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
            ev.response = Some(json!({"credentials": {"accessKeyId": format!("ASIA{}", rng.alnum(16, true)), "sessionToken": format!("IQoJb3JpZ2luX2VjE{}", rng.alnum(700, false)), "expiration": format!("{}", time_text(time + 43_200).replace('T', " ").replace('Z', ""))}}).to_string());
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
            ev.request = Some(json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:s3:arn": format!("arn:aws:s3:::{bucket}/invoices/2024/{}.json", rng.uuid())}, "keyId": key}).to_string());
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

pub(super) fn stable_uuid(seed: &str) -> String {
    let mut r = Rng(seed
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    r.uuid()
}
