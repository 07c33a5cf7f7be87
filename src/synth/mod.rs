//! Synthetic CloudTrail: deterministic trees of realistic logs for the sample, tests and benchmarks.
//!
//! Input: a [`Config`] (seed, size, accounts, regions, days). Output: a directory in the real S3
//! key layout (`AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`) with routine
//! traffic from users, roles and services, optionally an incident story that the detection packs
//! must surface, a digest file per hour, and optionally the kinds of bad objects real buckets hold
//! (a truncated gzip, a re-delivered duplicate object). The same config always gives the same bytes.
//!
//! This is not part of the ingest pipeline; `examples/gen-logs.rs` and the tests drive it.

pub mod digests;
mod event;
mod incident;
mod org;
mod routine;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use event::{Rng, time_text};
use incident::incident;
use routine::{Cast, routine};

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
    /// Add an organisation's scheduled routine ([`org`]): CI/CD deploys, SDK clients, a
    /// monitoring vendor, nightly jobs, scanners, people through SSO. The events count towards
    /// `events`.
    pub realistic: bool,
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
            realistic: false,
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
    let mut window = ((span / objects_per_stream as i64) / 300).max(1) * 300;
    if cfg.realistic {
        // The schedules need every day covered: round the windows up, not down.
        window = (span as u64)
            .div_ceil(objects_per_stream as u64 * 300)
            .max(1) as i64
            * 300;
    }

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
    let text = crate::ingest::decode::decode(gz, u64::MAX).map_err(|e| anyhow::anyhow!("{e}"))?;
    match crate::ingest::records::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))? {
        crate::ingest::records::Content::Records(p) => Ok(p.records.len()),
        crate::ingest::records::Content::Digest => Ok(0),
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
    let mut merged: Vec<(i64, String)> = Vec::new();
    if cfg.realistic {
        let home = cfg.regions.first().is_some_and(|r| r == region);
        let span = (objects as i64) * window;
        merged = org::episodes(rng, account, region, home, start, span);
    }
    let mut remaining = events.saturating_sub(merged.len());
    merged.extend(story.iter().map(|(t, s)| (*t, s.clone())));
    merged.sort_by_key(|(t, _)| *t);
    let story = &merged;
    let mut story_at = 0;
    let mut last_digest_hour = i64::MIN;
    for o in 0..objects {
        let w_start = start + o as i64 * window;
        let n = remaining.div_ceil(objects - o);
        // Episodes past the last window still land in it.
        let w_end = if o + 1 == objects {
            i64::MAX
        } else {
            w_start + window
        };
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
        while story_at < story.len() && story[story_at].0 < w_end {
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

pub(crate) fn gzip(data: &[u8]) -> Result<Vec<u8>> {
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
