//! Generates a deterministic tree of synthetic CloudTrail logs in the real S3 key layout.
//!
//! `cargo run --release --example gen-logs -- --events 1000000 --out ./corpus`
//!
//! `sample-logs/` is made with `--sample`. The same options always give the same bytes.
//!
//! With `--sign`, digests are real: signed with the test key `tests/fixtures/digest-test-key.rsa.der`
//! (a key made for tests and samples, not a secret), their signatures in `.metadata.json` sidecars,
//! and `--public-keys-out FILE` writes the public key as `aws cloudtrail list-public-keys` prints it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use trailscope::synth::digests::{DigestConfig, sign_tree};
use trailscope::synth::{Config, generate};

/// Generate synthetic CloudTrail logs.
#[derive(Parser)]
struct Args {
    /// Routine events to generate.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Accounts (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "111122223333,444455556666"
    )]
    accounts: Vec<String>,
    /// Regions (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "us-east-1,eu-west-1,us-west-2"
    )]
    regions: Vec<String>,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2024-03-04")]
    start: chrono::NaiveDate,
    /// Days covered.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Records per object.
    #[arg(long, default_value_t = 192)]
    events_per_object: usize,
    /// Organization id; "none" for the single-account layout.
    #[arg(long, default_value = "o-a1b2c3d4e5")]
    org: String,
    /// Add the incident story.
    #[arg(long)]
    incident: bool,
    /// Add a truncated object and a re-delivered duplicate.
    #[arg(long)]
    bad_objects: bool,
    /// Add an organisation's scheduled routine (CI/CD deploys, SDK clients, a monitoring
    /// vendor, nightly jobs, scanners, people through SSO): the traffic detections must stay
    /// quiet on.
    #[arg(long)]
    realistic: bool,
    /// Make the shipped sample: three accounts, two regions, three days, the incident and bad
    /// objects, digests signed with the test key for the hours with deliveries.
    #[arg(long)]
    sample: bool,
    /// Sign the digests with the test key (one per hour, signatures in sidecars).
    #[arg(long)]
    sign: bool,
    /// Write the test key's public key here (list-public-keys JSON).
    #[arg(long)]
    public_keys_out: Option<PathBuf>,
}

fn main() -> Result<()> {
    let a = Args::parse();
    let mut cfg = Config {
        seed: a.seed,
        events: a.events,
        accounts: a.accounts,
        regions: a.regions,
        org: (a.org != "none").then_some(a.org),
        start: a.start,
        days: a.days,
        events_per_object: a.events_per_object,
        incident: a.incident,
        bad_objects: a.bad_objects,
        digests: true,
        realistic: a.realistic,
    };
    if a.sample {
        cfg.events = 2400;
        cfg.accounts = vec![
            "111122223333".into(),
            "444455556666".into(),
            "777788889999".into(),
        ];
        cfg.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        cfg.days = 3;
        cfg.events_per_object = 40;
        cfg.incident = true;
        cfg.bad_objects = true;
    }
    let sign = a.sign || a.sample;
    cfg.digests = !sign;
    let t = std::time::Instant::now();
    let mut s = generate(&cfg, &a.out)?;
    if sign {
        let kc = DigestConfig::test("org-trail-bucket", "org-trail", true, !a.sample);
        s.digests = sign_tree(&a.out, &kc)?.len();
        if let Some(p) = &a.public_keys_out {
            std::fs::write(p, kc.public_keys()?.to_json() + "\n")?;
        }
    }
    eprintln!(
        "{} objects ({} records, {} distinct events, {} duplicates), {} digests, {} corrupt; {:.1} MB JSON, {:.1} MB gzip; {:.1}s",
        s.objects,
        s.records,
        s.events,
        s.duplicates,
        s.digests,
        s.corrupt,
        s.json_bytes as f64 / 1e6,
        s.gz_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
