//! `mcpgw completions SHELL`: prints the script shipped in `completions/`, embedded at build
//! time, so the files and the binary can never disagree (a test regenerates and compares them).

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;

/// The shipped script for `shell`, and the file it lives in under `completions/`.
pub fn script(shell: Shell) -> (&'static str, &'static str) {
    match shell {
        Shell::Bash => ("mcpgw.bash", include_str!("../../completions/mcpgw.bash")),
        Shell::Zsh => ("_mcpgw", include_str!("../../completions/_mcpgw")),
        Shell::Fish => ("mcpgw.fish", include_str!("../../completions/mcpgw.fish")),
        Shell::PowerShell => ("_mcpgw.ps1", include_str!("../../completions/_mcpgw.ps1")),
        Shell::Elvish => ("mcpgw.elv", include_str!("../../completions/mcpgw.elv")),
        _ => ("", ""),
    }
}

#[cfg(test)]
/// Generates the script for `shell` from the clap definitions.
pub fn generate(shell: Shell) -> String {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "mcpgw", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

pub fn run(shell: Shell) -> anyhow::Result<ExitCode> {
    let (_, text) = script(shell);
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerate with `MCPGW_BLESS=1 cargo test completions`.
    #[test]
    fn shipped_completions_match_the_cli() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let (file, shipped) = script(shell);
            let generated = generate(shell);
            if std::env::var_os("MCPGW_BLESS").is_some() {
                std::fs::write(
                    format!("{}/completions/{file}", env!("CARGO_MANIFEST_DIR")),
                    &generated,
                )
                .unwrap();
                continue;
            }
            assert!(
                shipped == generated,
                "completions/{file} is stale: run MCPGW_BLESS=1 cargo test completions"
            );
        }
    }
}
