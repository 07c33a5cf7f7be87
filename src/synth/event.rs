//! The pieces every synthetic event is made of: a deterministic random source, identities,
//! and an event written in CloudTrail's own key order.

use std::fmt::Write as _;

use chrono::DateTime;
use serde_json::json;

/// SplitMix64: small, fast, and the same everywhere.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(super) fn uuid(&mut self) -> String {
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
    pub(super) fn alnum(&mut self, n: usize, upper_only: bool) -> String {
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
pub(super) struct Identity {
    pub(super) json: String,
}

impl Identity {
    pub(super) fn user(account: &str, name: &str, key: &str) -> Identity {
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

    pub(super) fn role_session(
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

    pub(super) fn service(service: &str) -> Identity {
        Identity {
            json: json!({"type": "AWSService", "invokedBy": service}).to_string(),
        }
    }

    pub(super) fn root(account: &str) -> Identity {
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
pub(super) fn stable_id(name: &str, len: usize) -> String {
    let mut r = Rng(name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }));
    r.alnum(len, true)
}

/// One event, written in CloudTrail's key order.
pub(super) struct Event<'a> {
    pub(super) time: i64,
    pub(super) source: &'a str,
    pub(super) name: &'a str,
    pub(super) region: &'a str,
    pub(super) ip: &'a str,
    pub(super) agent: &'a str,
    pub(super) identity: &'a Identity,
    pub(super) request: Option<String>,
    pub(super) response: Option<String>,
    pub(super) additional: Option<String>,
    pub(super) error: Option<(&'a str, String)>,
    pub(super) read_only: Option<bool>,
    pub(super) event_type: &'a str,
    pub(super) management: bool,
    pub(super) category: &'a str,
    pub(super) resources: Vec<(String, String, &'a str)>,
    pub(super) account: &'a str,
    pub(super) tls_host: Option<String>,
    pub(super) console: bool,
}

impl Event<'_> {
    pub(super) fn write(&self, rng: &mut Rng, out: &mut String) -> String {
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

pub(super) fn time_text(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub(super) const CLI: &str = "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off";
pub(super) const CONSOLE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
pub(super) const BOTO: &str = "Boto3/1.34.60 md/Botocore#1.34.60 ua/2.0 os/linux#5.10.210 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.60";
