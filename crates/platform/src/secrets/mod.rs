//! Secrets: API keys and OAuth tokens, kept out of every config file.
//!
//! A [`SecretStore`] keeps one entry per server and [`Kind`]. There are three: the OS keyring
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows), an encrypted
//! file for machines without one (headless servers, WSL, CI), and memory for unit tests.
//! [`open`] picks one as the config says, or by what the machine offers, and says which
//! and why. A [`Secret`] never prints itself: not in logs, errors or debug output.
//!
//! The stores are synchronous (the keyring APIs are); async code calls them from the
//! blocking pool.

mod file;
mod keyring;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

pub use file::FileStore;
pub use keyring::KeyringStore;

/// A secret value. Its `Debug` and `Display` say `[secret]`, never the value.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    /// The value, for the one place that must send it (a header, a child's environment).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

/// What a secret is for; each server has at most one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `mcpgw add-key`: substituted for `{secret}` in the server's config.
    ApiKey,
    /// `mcpgw login`: the server's OAuth tokens and client registration, as JSON.
    OAuth,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::ApiKey => "api-key",
            Kind::OAuth => "oauth",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    #[error("the {store} cannot be used: {reason}")]
    Unavailable { store: &'static str, reason: String },
    #[error("the {store} failed: {reason}")]
    Failed { store: &'static str, reason: String },
}

pub trait SecretStore: Send + Sync {
    /// A name for messages: "OS keyring (Secret Service)", "encrypted file /…".
    fn describe(&self) -> String;
    fn get(&self, server: &str, kind: Kind) -> Result<Option<Secret>, SecretError>;
    fn set(&self, server: &str, kind: Kind, secret: &Secret) -> Result<(), SecretError>;
    /// Whether there was anything to delete.
    fn delete(&self, server: &str, kind: Kind) -> Result<bool, SecretError>;
}

/// The entry name of a server's secret: `<server>/<kind>` under the service `mcpgw`.
fn entry_name(server: &str, kind: Kind) -> String {
    format!("{server}/{}", kind.label())
}

/// Secrets in memory, for tests.
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<String, Secret>>);

impl SecretStore for MemoryStore {
    fn describe(&self) -> String {
        "memory store".into()
    }

    fn get(&self, server: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .0
            .lock()
            .expect("memory store lock")
            .get(&entry_name(server, kind))
            .cloned())
    }

    fn set(&self, server: &str, kind: Kind, secret: &Secret) -> Result<(), SecretError> {
        self.0
            .lock()
            .expect("memory store lock")
            .insert(entry_name(server, kind), secret.clone());
        Ok(())
    }

    fn delete(&self, server: &str, kind: Kind) -> Result<bool, SecretError> {
        Ok(self
            .0
            .lock()
            .expect("memory store lock")
            .remove(&entry_name(server, kind))
            .is_some())
    }
}

/// A store opened when first used, for configs that may never need one (remote servers that
/// might ask for OAuth), so that start-up waits for neither the keyring nor a key derivation.
pub struct Lazy {
    choice: Choice,
    file: Option<PathBuf>,
    /// Keep secrets in memory for this run when the store cannot be opened.
    memory_fallback: bool,
    opened: std::sync::OnceLock<Result<Arc<dyn SecretStore>, SecretError>>,
    /// Why the store could not be opened, when secrets went to memory instead; said once,
    /// when the first one is stored.
    fell_back: std::sync::Mutex<Option<SecretError>>,
}

impl Lazy {
    pub fn new(choice: Choice, file: Option<PathBuf>) -> Lazy {
        Lazy {
            choice,
            file,
            memory_fallback: false,
            opened: std::sync::OnceLock::new(),
            fell_back: std::sync::Mutex::new(None),
        }
    }

    /// When the store cannot be opened, keeps secrets in memory for this run, and says so
    /// once, when the first one is stored (`mcpgw proxy`: a login then lasts until it exits;
    /// a server that never asks for a login hears nothing of stores).
    pub fn or_memory(mut self) -> Lazy {
        self.memory_fallback = true;
        self
    }

    fn store(&self) -> Result<&Arc<dyn SecretStore>, SecretError> {
        self.opened
            .get_or_init(|| match open(&self.choice, self.file.clone()) {
                Ok((store, why)) => {
                    tracing::info!("secrets are kept in the {} ({why})", store.describe());
                    Ok(store)
                }
                Err(e) if self.memory_fallback => {
                    tracing::debug!("{e}; secrets will be kept in memory");
                    *self.fell_back.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    Ok(Arc::new(MemoryStore::default()))
                }
                Err(e) => Err(e),
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl SecretStore for Lazy {
    fn describe(&self) -> String {
        match self.opened.get() {
            Some(Ok(store)) => store.describe(),
            _ => "secret store".into(),
        }
    }

    fn get(&self, server: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        self.store()?.get(server, kind)
    }

    fn set(&self, server: &str, kind: Kind, secret: &Secret) -> Result<(), SecretError> {
        let store = self.store()?;
        if let Some(why) = self
            .fell_back
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            tracing::warn!("{why}; so this login is kept in memory for this run only");
        }
        store.set(server, kind, secret)
    }

    fn delete(&self, server: &str, kind: Kind) -> Result<bool, SecretError> {
        self.store()?.delete(server, kind)
    }
}

/// Which store to use, from `[secrets] store` in the config.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Choice {
    /// The OS keyring when it answers, else the encrypted file when `MCPGW_SECRET_KEY` is set.
    #[default]
    Auto,
    Keyring,
    File,
}

/// Opens the store the config asks for; the reason says which and why.
pub fn open(
    choice: &Choice,
    file: Option<PathBuf>,
) -> Result<(Arc<dyn SecretStore>, String), SecretError> {
    let file_store = || -> Result<Arc<dyn SecretStore>, SecretError> {
        let path = file
            .clone()
            .or_else(FileStore::default_path)
            .ok_or_else(|| SecretError::Unavailable {
                store: "encrypted file",
                reason: "no data folder on this platform; set [secrets] file".into(),
            })?;
        Ok(Arc::new(FileStore::from_env(path)?))
    };
    match choice {
        Choice::Keyring => Ok((Arc::new(KeyringStore::open()?), "as configured".into())),
        Choice::File => Ok((file_store()?, "as configured".into())),
        Choice::Auto => match KeyringStore::open() {
            Ok(store) => Ok((Arc::new(store), "the OS keyring answers".into())),
            Err(keyring) if std::env::var_os(file::KEY_VARIABLE).is_some() => Ok((
                file_store()?,
                format!("{keyring}; {} is set", file::KEY_VARIABLE),
            )),
            Err(keyring) => Err(SecretError::Unavailable {
                store: "secret store",
                reason: format!(
                    "{keyring}. Either {}, or set {} to a passphrase to keep secrets in an encrypted file ([secrets] store = \"file\")",
                    keyring::REMEDY,
                    file::KEY_VARIABLE
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_themselves() {
        let s = Secret::new("hunter2");
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(&s)),
            "[secret] [secret] Some([secret])"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn the_memory_store_keeps_one_entry_per_server_and_kind() {
        let store = MemoryStore::default();
        assert!(store.get("a", Kind::ApiKey).unwrap().is_none());
        store.set("a", Kind::ApiKey, &Secret::new("k1")).unwrap();
        store.set("b", Kind::ApiKey, &Secret::new("k2")).unwrap();
        assert_eq!(
            store.get("a", Kind::ApiKey).unwrap().unwrap().expose(),
            "k1"
        );
        assert!(store.delete("a", Kind::ApiKey).unwrap());
        assert!(!store.delete("a", Kind::ApiKey).unwrap());
        assert_eq!(
            store.get("b", Kind::ApiKey).unwrap().unwrap().expose(),
            "k2"
        );
    }
}
