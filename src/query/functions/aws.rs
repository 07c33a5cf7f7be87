//! AWS helpers: ARN parts, a stable actor label, Lambda API names, and IP tests.

use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray, StructArray};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr_fn::SimpleScalarUDF;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, Volatility};

use super::{bool_fn, string_fn};
use crate::schema::{self, Kind};

/// The AWS helper functions.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        string_fn("arn_account", 1, |a| arn_part(a[0], 4)),
        string_fn("arn_service", 1, |a| arn_part(a[0], 2)),
        string_fn("arn_resource", 1, |a| arn_part(a[0], 5)),
        string_fn("lambda_api", 1, |a| Some(lambda_api(a[0]).to_owned())),
        string_fn("lambda_function", 1, |a| lambda_function(a[0])),
        bool_fn("ip_in_cidr", 2, |a| ip_in_cidr(a[0], a[1])),
        bool_fn("is_private_ip", 1, |a| is_private_ip(a[0])),
        actor_udf(),
        principal_udf(),
    ]
}

/// Part `i` of `arn:partition:service:region:account:resource`; `None` for anything else.
pub fn arn_part(arn: &str, i: usize) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| parts[i].to_owned())
}

/// A Lambda eventName without the API version CloudTrail appends to most of them
/// (`UpdateFunctionCode20150331v2`, `ListFunctions20150331`, `CreateFunctionUrlConfig20211031`).
pub fn lambda_api(name: &str) -> &str {
    let trimmed = match name.rfind('v') {
        Some(v) if v + 1 < name.len() && name[v + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &name[..v]
        }
        _ => name,
    };
    let digits = trimmed
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 8 && trimmed.len() > 8 {
        &trimmed[..trimmed.len() - 8]
    } else {
        name
    }
}

/// A Lambda function's bare name from what `functionName` may hold: `f`, `f:alias`,
/// `123456789012:function:f`, or `arn:aws:lambda:region:account:function:f[:qualifier]`.
pub fn lambda_function(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let rest = match name.find("function:") {
        Some(i) => &name[i + "function:".len()..],
        None => name,
    };
    rest.split(':').next().map(str::to_owned)
}

/// Whether `ip` lies in `cidr`; `None` when either does not parse.
pub fn ip_in_cidr(ip: &str, cidr: &str) -> Option<bool> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    let (net, bits) = cidr.trim().split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Some(u32::from(a) & mask == u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            Some(u128::from(a) & mask == u128::from(n) & mask)
        }
        (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => Some(false),
        _ => None,
    }
}

/// Whether an address is private, loopback, link-local or carrier-grade NAT; `None` when the text
/// is not an address (CloudTrail writes service names such as `lambda.amazonaws.com` there).
pub fn is_private_ip(ip: &str) -> Option<bool> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    let blocks: &[&str] = match ip {
        IpAddr::V4(_) => &[
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "100.64.0.0/10",
        ],
        IpAddr::V6(_) => &["fc00::/7", "::1/128", "fe80::/10"],
    };
    let text = ip.to_string();
    Some(blocks.iter().any(|b| ip_in_cidr(&text, b) == Some(true)))
}

/// One label for whoever acted, stable across their events:
/// `user/<name>`, `role/<role>/<session>`, `root/<account>`, `service/<service>`,
/// `federated/<name>`, `account/<id>`, or the principal id / ARN for anything else.
pub fn actor_label(f: &IdentityFields<'_>) -> Option<String> {
    let tail = |arn: Option<&str>| arn.and_then(|a| a.rsplit('/').next()).map(str::to_owned);
    match f.kind {
        Some("IAMUser") => f
            .user_name
            .map(|u| format!("user/{u}"))
            .or_else(|| tail(f.arn).map(|t| format!("user/{t}"))),
        Some("AssumedRole") => {
            let role = f
                .issuer_user_name
                .map(str::to_owned)
                .or_else(|| f.arn.and_then(|a| a.split('/').nth(1)).map(str::to_owned));
            let session = tail(f.arn);
            match (role, session) {
                (Some(r), Some(s)) => Some(format!("role/{r}/{s}")),
                (Some(r), None) => Some(format!("role/{r}")),
                _ => f.principal_id.map(str::to_owned),
            }
        }
        Some("Root") => f
            .account_id
            .map(|a| format!("root/{a}"))
            .or(Some("root".into())),
        Some("AWSService") => f.invoked_by.map(|s| format!("service/{s}")),
        Some("FederatedUser") => tail(f.arn).map(|t| format!("federated/{t}")),
        Some("AWSAccount") => f
            .account_id
            .or(f.principal_id)
            .map(|a| format!("account/{a}")),
        _ => f
            .user_name
            .map(|u| format!("{}/{u}", f.kind.unwrap_or("unknown").to_ascii_lowercase()))
            .or_else(|| f.arn.map(str::to_owned))
            .or_else(|| f.principal_id.map(str::to_owned))
            .or_else(|| f.invoked_by.map(|s| format!("service/{s}"))),
    }
}

/// The identity a baseline is kept for: like [`actor_label`], but a role's automation sessions
/// collapse to `role/<role>` (CI runs, container tasks and instances get a new session name
/// each time, and "new" must not mean "new session"). Sessions of people stay apart: roles of
/// IAM Identity Center (`AWSReservedSSO_*`) and session names that are e-mail addresses keep
/// `role/<role>/<session>`.
pub fn principal_label(f: &IdentityFields<'_>) -> Option<String> {
    let label = actor_label(f)?;
    if f.kind != Some("AssumedRole") {
        return Some(label);
    }
    let mut parts = label.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("role"), Some(role), Some(session))
            if !role.starts_with("AWSReservedSSO_") && !session.contains('@') =>
        {
            Some(format!("role/{role}"))
        }
        _ => Some(label),
    }
}

/// The identity fields `actor` looks at.
#[derive(Default)]
pub struct IdentityFields<'a> {
    /// `type`.
    pub kind: Option<&'a str>,
    /// `userName`.
    pub user_name: Option<&'a str>,
    /// `arn`.
    pub arn: Option<&'a str>,
    /// `principalId`.
    pub principal_id: Option<&'a str>,
    /// `accountId`.
    pub account_id: Option<&'a str>,
    /// `invokedBy`.
    pub invoked_by: Option<&'a str>,
    /// `sessionContext.sessionIssuer.userName`.
    pub issuer_user_name: Option<&'a str>,
}

fn actor_udf() -> ScalarUDF {
    identity_udf("actor", actor_label)
}

fn principal_udf() -> ScalarUDF {
    identity_udf("principal", principal_label)
}

fn identity_udf(name: &'static str, label: fn(&IdentityFields<'_>) -> Option<String>) -> ScalarUDF {
    let input = schema::data_type(&Kind::Struct(schema::USER_IDENTITY_FIELDS));
    let signature = Signature::exact(vec![input], Volatility::Immutable);
    let fun = Arc::new(move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let ui = arrays[0].as_struct_opt().ok_or_else(|| {
            DataFusionError::Execution(format!("{name}() takes the useridentity column"))
        })?;
        let out = identity_column(ui, label)?;
        match &args[0] {
            ColumnarValue::Scalar(_) => Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            )),
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(Arc::new(out))),
        }
    });
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        signature,
        datafusion::arrow::datatypes::DataType::Utf8,
        fun,
    ))
}

fn identity_column(
    ui: &StructArray,
    label: fn(&IdentityFields<'_>) -> Option<String>,
) -> Result<StringArray> {
    let col = |name: &str| {
        ui.column_by_name(name)
            .and_then(|c| c.as_string_opt::<i32>().cloned())
    };
    let (kind, user, arn, principal, account, invoked) = (
        col("type"),
        col("username"),
        col("arn"),
        col("principalid"),
        col("accountid"),
        col("invokedby"),
    );
    let issuer = ui
        .column_by_name("sessioncontext")
        .and_then(|c| c.as_struct_opt().cloned())
        .and_then(|sc| {
            sc.column_by_name("sessionissuer")
                .and_then(|c| c.as_struct_opt().cloned())
        })
        .and_then(|si| {
            si.column_by_name("username")
                .and_then(|c| c.as_string_opt::<i32>().cloned())
        });
    fn get(a: &Option<StringArray>, i: usize) -> Option<&str> {
        a.as_ref().and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }
    Ok((0..ui.len())
        .map(|i| {
            if ui.is_null(i) {
                return None;
            }
            label(&IdentityFields {
                kind: get(&kind, i),
                user_name: get(&user, i),
                arn: get(&arn, i),
                principal_id: get(&principal, i),
                account_id: get(&account, i),
                invoked_by: get(&invoked, i),
                issuer_user_name: get(&issuer, i),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts_and_odd_shapes() {
        let a = "arn:aws:iam::111122223333:user/alice";
        assert_eq!(arn_part(a, 2).as_deref(), Some("iam"));
        assert_eq!(arn_part(a, 4).as_deref(), Some("111122223333"));
        assert_eq!(arn_part(a, 5).as_deref(), Some("user/alice"));
        assert_eq!(
            arn_part("arn:aws:s3:::bucket/key:with:colons", 5).as_deref(),
            Some("bucket/key:with:colons")
        );
        assert_eq!(arn_part("arn:aws:s3:::bucket", 4).as_deref(), Some(""));
        assert_eq!(arn_part("not an arn", 2), None);
        assert_eq!(arn_part("arn:aws:iam", 2), None);
    }

    #[test]
    fn lambda_api_strips_version_suffixes_only() {
        assert_eq!(
            lambda_api("UpdateFunctionCode20150331v2"),
            "UpdateFunctionCode"
        );
        assert_eq!(lambda_api("ListFunctions20150331"), "ListFunctions");
        assert_eq!(
            lambda_api("CreateFunctionUrlConfig20211031"),
            "CreateFunctionUrlConfig"
        );
        assert_eq!(lambda_api("Invoke"), "Invoke");
        assert_eq!(
            lambda_api("PutFunctionConcurrency20171031"),
            "PutFunctionConcurrency"
        );
        assert_eq!(lambda_api("Getv2"), "Getv2");
        assert_eq!(lambda_api("20150331"), "20150331");
        assert_eq!(lambda_api(""), "");
    }

    #[test]
    fn lambda_function_names() {
        for f in [
            "orders",
            "orders:prod",
            "123456789012:function:orders",
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
            "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        ] {
            assert_eq!(lambda_function(f).as_deref(), Some("orders"), "{f}");
        }
        assert_eq!(lambda_function(" "), None);
    }

    #[test]
    fn ip_tests() {
        assert_eq!(ip_in_cidr("203.0.113.77", "203.0.113.0/24"), Some(true));
        assert_eq!(ip_in_cidr("203.0.114.1", "203.0.113.0/24"), Some(false));
        assert_eq!(ip_in_cidr("1.2.3.4", "0.0.0.0/0"), Some(true));
        assert_eq!(ip_in_cidr("2001:db8::1", "2001:db8::/32"), Some(true));
        assert_eq!(ip_in_cidr("2001:db8::1", "10.0.0.0/8"), Some(false));
        assert_eq!(ip_in_cidr("1.2.3.4", "10.0.0.0/33"), None);
        assert_eq!(ip_in_cidr("1.2.3.4", "bad"), None);
        assert_eq!(ip_in_cidr("lambda.amazonaws.com", "10.0.0.0/8"), None);
        assert_eq!(is_private_ip("10.1.2.3"), Some(true));
        assert_eq!(is_private_ip("172.31.255.255"), Some(true));
        assert_eq!(is_private_ip("172.32.0.1"), Some(false));
        assert_eq!(is_private_ip("100.64.1.1"), Some(true));
        assert_eq!(is_private_ip("fd00::1"), Some(true));
        assert_eq!(is_private_ip("203.0.113.77"), Some(false));
        assert_eq!(is_private_ip("AWS Internal"), None);
    }

    #[test]
    fn principals_collapse_automation_sessions_only() {
        let role = |issuer, arn| {
            principal_label(&IdentityFields {
                kind: Some("AssumedRole"),
                arn: Some(arn),
                issuer_user_name: Some(issuer),
                ..IdentityFields::default()
            })
        };
        assert_eq!(
            role(
                "deploy",
                "arn:aws:sts::1:assumed-role/deploy/GitHubActions-81234"
            )
            .as_deref(),
            Some("role/deploy")
        );
        assert_eq!(
            role(
                "AWSReservedSSO_Dev_1",
                "arn:aws:sts::1:assumed-role/AWSReservedSSO_Dev_1/bob"
            )
            .as_deref(),
            Some("role/AWSReservedSSO_Dev_1/bob")
        );
        assert_eq!(
            role(
                "okta-admin",
                "arn:aws:sts::1:assumed-role/okta-admin/ann@corp.example"
            )
            .as_deref(),
            Some("role/okta-admin/ann@corp.example")
        );
        let user = principal_label(&IdentityFields {
            kind: Some("IAMUser"),
            user_name: Some("alice"),
            ..IdentityFields::default()
        });
        assert_eq!(user.as_deref(), Some("user/alice"));
    }

    #[test]
    fn actor_labels_for_every_identity_type() {
        let f = |kind, user, arn, principal, account, invoked, issuer| {
            actor_label(&IdentityFields {
                kind,
                user_name: user,
                arn,
                principal_id: principal,
                account_id: account,
                invoked_by: invoked,
                issuer_user_name: issuer,
            })
        };
        assert_eq!(
            f(Some("IAMUser"), Some("alice"), None, None, None, None, None).as_deref(),
            Some("user/alice")
        );
        assert_eq!(
            f(
                Some("IAMUser"),
                None,
                Some("arn:aws:iam::1:user/ops/bob"),
                None,
                None,
                None,
                None
            )
            .as_deref(),
            Some("user/bob")
        );
        assert_eq!(
            f(
                Some("AssumedRole"),
                None,
                Some("arn:aws:sts::1:assumed-role/deployer/s-1"),
                Some("AROA:s-1"),
                None,
                None,
                Some("deployer")
            )
            .as_deref(),
            Some("role/deployer/s-1")
        );
        assert_eq!(
            f(
                Some("AssumedRole"),
                None,
                None,
                Some("AROAX:s"),
                None,
                None,
                None
            )
            .as_deref(),
            Some("AROAX:s")
        );
        assert_eq!(
            f(
                Some("Root"),
                None,
                None,
                None,
                Some("111122223333"),
                None,
                None
            )
            .as_deref(),
            Some("root/111122223333")
        );
        assert_eq!(
            f(
                Some("AWSService"),
                None,
                None,
                None,
                None,
                Some("lambda.amazonaws.com"),
                None
            )
            .as_deref(),
            Some("service/lambda.amazonaws.com")
        );
        assert_eq!(
            f(
                Some("FederatedUser"),
                None,
                Some("arn:aws:sts::1:federated-user/carol"),
                None,
                None,
                None,
                None
            )
            .as_deref(),
            Some("federated/carol")
        );
        assert_eq!(
            f(
                Some("AWSAccount"),
                None,
                None,
                Some("AIDAX"),
                Some("444455556666"),
                None,
                None
            )
            .as_deref(),
            Some("account/444455556666")
        );
        assert_eq!(
            f(
                Some("IdentityCenterUser"),
                Some("dana"),
                None,
                None,
                None,
                None,
                None
            )
            .as_deref(),
            Some("identitycenteruser/dana")
        );
        assert_eq!(
            f(
                Some("SAMLUser"),
                None,
                None,
                Some("SAML:x"),
                None,
                None,
                None
            )
            .as_deref(),
            Some("SAML:x")
        );
        assert_eq!(f(None, None, None, None, None, None, None), None);
    }
}
