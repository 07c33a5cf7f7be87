//! Progress bars and log lines on stderr.
//!
//! Bars (indicatif) show listing and conversion progress when stderr is a terminal and `-q` is not
//! given; log lines (`warning: …`, `error: …`) are printed above the bars so neither garbles the
//! other. Stdout is left to results. This module knows nothing of the pipeline.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static BARS: OnceLock<MultiProgress> = OnceLock::new();
static QUIET: OnceLock<bool> = OnceLock::new();

fn bars() -> &'static MultiProgress {
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::hidden()))
}

struct StderrLogger {
    level: log::LevelFilter,
}

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level && m.target().starts_with("trailscope")
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let label = match r.level() {
            log::Level::Error => "error",
            log::Level::Warn => "warning",
            log::Level::Info => "info",
            log::Level::Debug => "debug",
            log::Level::Trace => "trace",
        };
        bars().suspend(|| {
            let _ = writeln!(std::io::stderr().lock(), "{label}: {}", r.args());
        });
    }

    fn flush(&self) {}
}

/// Sets up logging and bars. `verbose` counts `-v`; `quiet` (`-q`) shows errors only and no bars.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, 2) => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    let _ = QUIET.set(quiet);
    if !quiet && std::io::stderr().is_terminal() {
        bars().set_draw_target(ProgressDrawTarget::stderr());
    }
    // A second init (tests) keeps the first logger.
    if log::set_boxed_logger(Box::new(StderrLogger { level })).is_ok() {
        log::set_max_level(level);
    }
}

/// A spinner counting objects found while listing.
pub fn listing() -> ProgressBar {
    let pb = bars().add(ProgressBar::new_spinner());
    pb.set_style(
        ProgressStyle::with_template("{spinner} listing: {pos} objects found {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A bar over the bytes of the objects to read; the message carries object and record counts.
pub fn reading(total_bytes: u64) -> ProgressBar {
    let pb = bars().add(ProgressBar::new(total_bytes));
    pb.set_style(
        ProgressStyle::with_template(
            "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// Whether `-q` was given: informational messages are then not printed.
pub fn quiet() -> bool {
    QUIET.get().copied().unwrap_or(false)
}

/// Prints an informational message (a banner, a cache lake's ledger) to stderr above any bars,
/// unless `-q` was given. Errors and warnings use [`eprint_line`] or `log`, which `-q` keeps.
pub fn note(text: &str) {
    if quiet() {
        return;
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    eprint_line(text);
}

/// Prints a line to stderr above any bars.
pub fn eprint_line(line: &str) {
    bars().suspend(|| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    });
}

/// A bar over the rules of a detect run; the message names the last rule finished.
pub fn rules(total: u64) -> ProgressBar {
    let pb = bars().add(ProgressBar::new(total));
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} rules {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}
