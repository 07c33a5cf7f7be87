//! The `trailscope` binary: parses the command line, dispatches, and maps the outcome to an exit
//! status (0 success, 1 finished with failures or findings, 2 error).

use std::process::ExitCode;

use clap::Parser;
use trailscope::cmd::{self, Cli, EXIT_ERROR};

// mimalloc: many small, short-lived allocations on several threads (one per record field) are
// its strength, and it returns memory to the system more promptly than glibc's arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its position in mimalloc 3's `mi_option_e`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Ingest allocates and frees its whole volume of rows once; returning freed pages to the
    // system only to fault them back in cost about a tenth of the run. Keep them (peak memory is
    // bounded by --memory anyway).
    // SAFETY: setting an option is a plain store in mimalloc, valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // No transparent huge pages: mimalloc asks for them on its arenas, and then every first touch
    // of 2 MiB zeroes all of it, used or not. Without them, on the realistic 1M-event corpus,
    // ingest peaked ~100 MiB lower and all detection packs ~180 MiB lower, at the same speed
    // (benches/README.md).
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE sets one flag of this process and reads no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
    let cli = Cli::parse();
    trailscope::progress::init(cli.verbose, cli.quiet);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let broken_pipe = e
                .chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            trailscope::progress::eprint_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn purge_delay_option_is_where_we_think() {
        // mimalloc 3 sets purge_delay to 1000 ms by default; another value means the option
        // numbering moved and MI_OPTION_PURGE_DELAY must follow it.
        // SAFETY: reading an option has no preconditions.
        let v = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(v, 1000, "option {} is {v}", super::MI_OPTION_PURGE_DELAY);
    }
}
