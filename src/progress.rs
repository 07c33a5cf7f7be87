//! Progress bars and log lines on stderr, and text from logs made inert for any terminal.
//!
//! Bars (indicatif) show listing and conversion progress when stderr is a terminal and `-q` is not
//! given; log lines (`warning: …`, `error: …`) are printed above the bars so neither garbles the
//! other. Every line printed here passes through [`inert`] (line breaks aside), so no object name
//! or field quoted in a message can drive the terminal. Stdout is left to results. This module
//! knows nothing of the pipeline.

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
        // Ballista's own lines matter when trailscope runs a cluster role.
        m.level() <= self.level
            && (m.target().starts_with("trailscope") || m.target().starts_with("ballista"))
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
            let text = inert_lines(&r.args().to_string());
            let _ = writeln!(std::io::stderr().lock(), "{label}: {text}");
        });
    }

    fn flush(&self) {}
}

/// Text from a log made inert for a terminal: control characters (ESC, BEL, CR, line breaks,
/// C1 controls) and the invisible characters that reorder or hide text (bidi overrides,
/// isolates and marks, line and paragraph separators) are shown escaped (`\x1b`, `\u202e`), so
/// that no field can move the cursor, retitle the window, forge a line or reverse what it says.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }
    if !text.chars().any(hidden) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.into()
}

/// A writer for text meant for reading: everything written through it is made [`inert`], line
/// breaks aside (the layout's own). Fields that could hold a line break of their own are made
/// inert before they are written, so they cannot forge a line.
pub struct Inert<'a>(pub &'a mut dyn Write);

impl Write for Inert<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(inert_lines(text).as_bytes())?,
            // Not text: shown as Rust would spell the bytes.
            Err(_) => self
                .0
                .write_all(inert(&String::from_utf8_lossy(buf)).as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Standard output for a command's results. When it is a terminal, everything is made
/// [`inert`] (line breaks aside), so that machine formats printed to a screen (CSV, JSON lines,
/// raw SQL results) cannot drive it either; a pipe or a file gets the bytes as they are.
pub fn stdout() -> Stdout {
    let out = std::io::stdout();
    Stdout {
        inert: out.is_terminal(),
        out: out.lock(),
    }
}

/// See [`stdout`].
pub struct Stdout {
    out: std::io::StdoutLock<'static>,
    inert: bool,
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.inert {
            Inert(&mut self.out).write(buf)
        } else {
            self.out.write(buf)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// [`inert`] for a message of several lines: its line breaks stay.
fn inert_lines(text: &str) -> String {
    text.split('\n')
        .map(|l| inert(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
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
    let line = inert_lines(line);
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
