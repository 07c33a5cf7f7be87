//! The run's report as the text a responder reads: the ledger (which always balances), the files
//! written, the failed objects and quarantined records by name, and what the lake now holds.
//!
//! Input: an ingest [`Report`] and its lake. Output: text on a writer. This module does not
//! choose where the text goes (stdout for `ingest`, stderr before a cache lake is queried).

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::Report;
use crate::lake::quarantine;
use crate::progress::inert;

/// Writes the ledger, the failures and the lake summary.
pub fn write_report(out: &mut dyn Write, r: &Report, lake: &Path) -> Result<()> {
    write_ledger(out, r, lake)?;
    write_lake_summary(out, r, lake)
}

/// Writes the ledger, the files written, and the failed objects and quarantined records.
pub fn write_ledger(out: &mut dyn Write, r: &Report, lake: &Path) -> Result<()> {
    writeln!(out, "{}", r.ledger)?;
    writeln!(
        out,
        "files: {} Parquet files written (run {})",
        r.files_written, r.run_id
    )?;
    if r.digests_kept > 0 {
        writeln!(
            out,
            "digests: {} kept with their signatures in {} (verify offline: trailscope verify --lake {})",
            r.digests_kept,
            crate::lake::digests::digest_dir(lake).display(),
            lake.display()
        )?;
    }
    if !r.failures.is_empty() {
        writeln!(out, "\n{} object(s) failed:", r.failures.len())?;
        for f in &r.failures {
            writeln!(out, "  {}: {}", inert(&f.uri), inert(&f.reason))?;
        }
        writeln!(
            out,
            "Readable bad objects are kept in {}; objects that could not be downloaded are retried by the next run.",
            quarantine::objects_dir(lake).display()
        )?;
    }
    if r.ledger.quarantined > 0 {
        writeln!(
            out,
            "\n{} record(s) quarantined with their raw text and the reason: {}",
            r.ledger.quarantined,
            quarantine::records_file(lake, &r.run_id).display()
        )?;
    }
    Ok(())
}

/// Writes what the lake holds per account and region.
fn write_lake_summary(out: &mut dyn Write, r: &Report, lake: &Path) -> Result<()> {
    let slices = &r.lake;
    writeln!(out, "\nlake {} (version {}):", lake.display(), r.version)?;
    if slices.is_empty() {
        writeln!(out, "  (empty)")?;
        return Ok(());
    }
    let w_acct = slices
        .iter()
        .map(|s| s.account.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let w_reg = slices
        .iter()
        .map(|s| s.region.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "  {:<w_acct$}  {:<w_reg$}  {:<10}  {:<10}  {:>4}  {:>10}",
        "account", "region", "first day", "last day", "days", "events"
    )?;
    let mut total = 0;
    for s in slices {
        total += s.events;
        writeln!(
            out,
            "  {:<w_acct$}  {:<w_reg$}  {:<10}  {:<10}  {:>4}  {:>10}",
            s.account, s.region, s.first_day, s.last_day, s.days, s.events
        )?;
    }
    writeln!(
        out,
        "  {} events in {} account/region slices",
        total,
        slices.len()
    )?;
    writeln!(
        out,
        "\nThe table is a Delta Lake table: any engine that reads Delta reads it, for example\n  duckdb -c \"SELECT eventname, count(*) FROM delta_scan('{}/cloudtrail') GROUP BY 1 ORDER BY 2 DESC\"",
        lake.display()
    )?;
    Ok(())
}
