use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mcpgw::cli::Cli::parse();
    match mcpgw::commands::run(cli) {
        Ok(code) => code,
        Err(e) => mcpgw::commands::report(&e),
    }
}
