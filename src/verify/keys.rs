//! CloudTrail's public keys for a period, from ListPublicKeys.
//!
//! Input: the regions whose digests are being verified and the period they cover. Output:
//! [`PublicKeys`]. CloudTrail signs with a different key pair in each region, so each region is
//! asked. Credentials, profile and region follow the AWS CLI's chain; the endpoint can be set with
//! `AWS_ENDPOINT_URL_CLOUDTRAIL` (`--endpoint-url` names the S3 endpoint only). This module does
//! not read key files; [`PublicKeys::from_json`] does.

use anyhow::{Context, Result};
use aws_sdk_cloudtrail::primitives::{DateTime, DateTimeFormat};
use aws_sdk_s3::error::DisplayErrorContext;

use super::{KeyEntry, PublicKeys, base64_encode};
use crate::source::s3::{S3Options, sdk_config};

/// Asks CloudTrail in each region for the keys valid between `start` and `end`.
pub async fn fetch(
    opts: &S3Options,
    regions: &[String],
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Result<PublicKeys> {
    let mut keys = PublicKeys::default();
    for region in regions {
        let sdk = sdk_config(opts, Some(region.clone()), false).await;
        let client = aws_sdk_cloudtrail::Client::new(&sdk);
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_public_keys()
                .start_time(DateTime::from_secs(start.timestamp()))
                .end_time(DateTime::from_secs(end.timestamp()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(&e)))
                .with_context(|| {
                    format!(
                        "CloudTrail ListPublicKeys in {region} (check your credentials and cloudtrail:ListPublicKeys permission, or verify offline with --public-keys FILE from `aws cloudtrail list-public-keys`)"
                    )
                })?;
            for k in out.public_key_list() {
                let (Some(value), Some(fingerprint)) = (k.value(), k.fingerprint()) else {
                    continue;
                };
                let time =
                    |t: Option<&DateTime>| t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok());
                keys.add(KeyEntry {
                    value: base64_encode(value.as_ref()),
                    validity_start_time: time(k.validity_start_time()),
                    validity_end_time: time(k.validity_end_time()),
                    fingerprint: fingerprint.to_owned(),
                })?;
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(keys)
}
