//! The `trailscope` binary: parses the command line, dispatches, and maps the outcome to an exit
//! status (0 success, 1 finished with failures or findings, 2 error).

use std::process::ExitCode;

use clap::Parser;
use trailscope::cmd::{self, Cli, EXIT_ERROR};

// mimalloc: many small, short-lived allocations on several threads (one per record field) are
// its strength, and it returns memory to the system more promptly than glibc's arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
