//! The `mixfarm` command line: thin wrapper over [`mixfarm::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    mixfarm::cli::run()
}
