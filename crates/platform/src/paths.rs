//! The folders mcpgw keeps its files in, from the platform's conventions.
//!
//! | what          | Linux and macOS                       | Windows                         |
//! |---------------|---------------------------------------|---------------------------------|
//! | config        | `$XDG_CONFIG_HOME/mcpgw` (`~/.config`) | `%APPDATA%\mcpgw`               |
//! | data (secrets)| `$XDG_DATA_HOME/mcpgw` (`~/.local/share`) | `%APPDATA%\mcpgw`           |
//! | cache         | `$XDG_CACHE_HOME/mcpgw` (`~/.cache`)   | `%LOCALAPPDATA%\mcpgw`          |
//! | locks         | `$XDG_CACHE_HOME/mcpgw/locks`          | `%LOCALAPPDATA%\mcpgw\locks`    |
//!
//! macOS follows the XDG layout on purpose, as command-line tools there do (`gh`, `uv`,
//! `helix`): a config a person edits by hand belongs in `~/.config`, not in
//! `~/Library/Application Support`. `MCPGW_LOCK_DIR` moves the lock files (tests use it).

use std::path::PathBuf;

use etcetera::BaseStrategy;

fn base() -> Option<impl BaseStrategy> {
    etcetera::choose_base_strategy().ok()
}

/// Where `config.toml` lives.
pub fn config_dir() -> Option<PathBuf> {
    Some(base()?.config_dir().join("mcpgw"))
}

/// Where the encrypted secret file lives.
pub fn data_dir() -> Option<PathBuf> {
    Some(base()?.data_dir().join("mcpgw"))
}

/// Where the catalog cache lives.
pub fn cache_dir() -> Option<PathBuf> {
    Some(base()?.cache_dir().join("mcpgw"))
}

/// Where the per-server lock files live: in the cache folder, never in `$XDG_RUNTIME_DIR`.
/// Every mcpgw process of a user must find the same files, and a client that starts mcpgw
/// often passes it only `HOME`, `PATH` and a few more: a terminal's mcpgw would see a runtime
/// folder that the client's does not, and the two would refresh the same tokens at once.
pub fn lock_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MCPGW_LOCK_DIR") {
        return PathBuf::from(dir);
    }
    cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("mcpgw"))
        .join("locks")
}

/// The user's home folder.
pub fn home_dir() -> Option<PathBuf> {
    etcetera::home_dir().ok()
}

/// Where other applications keep their settings: `%APPDATA%` on Windows,
/// `~/Library/Application Support` on macOS, `$XDG_CONFIG_HOME` elsewhere. `mcpgw import`
/// looks there for Claude Desktop's and VS Code's configs.
pub fn app_config_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return Some(home_dir()?.join("Library/Application Support"));
    }
    Some(base()?.config_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folder_is_mcpgws_own() {
        for dir in [config_dir(), data_dir(), cache_dir()]
            .into_iter()
            .flatten()
        {
            assert!(dir.ends_with("mcpgw"), "{dir:?}");
        }
        if std::env::var_os("MCPGW_LOCK_DIR").is_none() {
            assert!(lock_dir().ends_with("mcpgw/locks"), "{:?}", lock_dir());
        }
    }
}
