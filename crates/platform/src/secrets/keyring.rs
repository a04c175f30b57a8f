//! The OS keyring: Secret Service on Linux and the BSDs, the login Keychain on macOS, the
//! Credential Manager on Windows, all through keyring-core under the service `mcpgw`, one
//! entry (`<server>/<kind>`) per server and kind.
//!
//! # Values larger than an entry holds
//!
//! A Windows credential holds at most 2,560 bytes, and an OAuth record (tokens, a client
//! secret, the authorization server's metadata) is often larger. Such a value is **split**
//! across several entries of the same store, so that every secret stays in the keyring and
//! nothing depends on a second store or a passphrase:
//!
//! - the parts go to `<server>/<kind>#<generation>.<i>`, each at most the platform's limit;
//! - then the main entry gets a small head, `\u{1}mcpgw-split:<generation>:<parts>:<digest>`,
//!   where the digest is the first 16 hex digits of the value's SHA-256;
//! - then the parts of the previous generation, if any, are deleted.
//!
//! A reader reads the head, then that generation's parts, and checks the digest. Because a
//! writer never touches the parts a head points to until a new head is in place, a reader
//! racing a writer sees either the old value or the new one; if it finds a part gone (the
//! writer deleted it after replacing the head) it reads the head again. A deletion removes the
//! head first, so a reader then finds nothing rather than a head without parts. Writers of the
//! same entry are not meant to race: mcpgw writes an OAuth record under its per-server lock,
//! and `add-key` is a person at a terminal; the last head written wins and the other writer's
//! parts are left behind, unreachable, until that entry is next replaced or deleted. A value that starts
//! with the head's marker is always split, so a stored value is never mistaken for a head.
//! Only Windows has a limit; elsewhere values are stored whole.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry, Error};
use sha2::{Digest, Sha256};

use super::{Kind, Secret, SecretError, SecretStore, entry_name};

const SERVICE: &str = "mcpgw";
const STORE: &str = "OS keyring";
const MARKER: &str = "\u{1}mcpgw-split:";
/// `CRED_MAX_CREDENTIAL_BLOB_SIZE`: the most a Windows credential holds.
const WINDOWS_LIMIT: usize = 2560;

pub struct KeyringStore {
    store: Arc<CredentialStore>,
    platform: &'static str,
    /// The most bytes one entry holds, where the platform has a limit.
    limit: Option<usize>,
}

impl KeyringStore {
    /// Connects to the platform's keyring and checks that it answers.
    pub fn open() -> Result<KeyringStore, SecretError> {
        let unavailable = |reason: String| SecretError::Unavailable {
            store: STORE,
            reason,
        };
        let store = KeyringStore {
            store: platform_store().map_err(unavailable)?,
            platform: platform_name(),
            limit: cfg!(windows).then_some(WINDOWS_LIMIT),
        };
        // A lookup of an entry nobody made: "no entry" means the keyring works.
        store
            .read(&entry_name("mcpgw-probe", Kind::ApiKey))
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(store)
    }

    /// A store over any keyring-core store, with an entry limit (for tests of splitting).
    #[cfg(test)]
    fn with_store(store: Arc<CredentialStore>, limit: Option<usize>) -> KeyringStore {
        KeyringStore {
            store,
            platform: "test",
            limit,
        }
    }

    fn entry(&self, user: &str) -> Result<Entry, SecretError> {
        self.store
            .build(SERVICE, user, None)
            .map_err(|e| self.failed(e))
    }

    fn failed(&self, e: Error) -> SecretError {
        SecretError::Failed {
            store: STORE,
            reason: e.to_string(),
        }
    }

    /// One entry's bytes, `None` when there is none.
    fn read(&self, user: &str) -> Result<Option<Vec<u8>>, SecretError> {
        match self.entry(user)?.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn write(&self, user: &str, bytes: &[u8]) -> Result<(), SecretError> {
        self.entry(user)?
            .set_secret(bytes)
            .map_err(|e| self.failed(e))
    }

    fn remove(&self, user: &str) -> Result<bool, SecretError> {
        match self.entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn remove_parts(&self, name: &str, head: &Head) {
        for i in 0..head.parts {
            if let Err(e) = self.remove(&head.part(name, i)) {
                tracing::debug!("left a stale part of `{name}` in the keyring: {e}");
            }
        }
    }

    /// The value under `name`, joining its parts when it was split.
    fn read_value(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        // A writer replacing the value may delete the parts we are reading; the new head is
        // then already in place, so a second look finds a whole value.
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let Some(bytes) = self.read(name)? else {
                return Ok(None);
            };
            let Some(head) = Head::parse(&bytes) else {
                return Ok(Some(bytes));
            };
            let mut value = Vec::new();
            let mut whole = true;
            for i in 0..head.parts {
                match self.read(&head.part(name, i))? {
                    Some(part) => value.extend_from_slice(&part),
                    None => {
                        whole = false;
                        break;
                    }
                }
            }
            if whole && digest(&value) == head.digest {
                return Ok(Some(value));
            }
        }
        Err(SecretError::Failed {
            store: STORE,
            reason: format!("the parts of `{name}` are missing or do not match; store it again"),
        })
    }

    fn write_value(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        let old = self.read(name)?.as_deref().and_then(Head::parse);
        let fits = self.limit.is_none_or(|limit| value.len() <= limit);
        if fits && !value.starts_with(MARKER.as_bytes()) {
            self.write(name, value)?;
        } else {
            let limit = self.limit.unwrap_or(value.len()).max(1);
            let chunks: Vec<&[u8]> = value.chunks(limit).collect();
            let mut generation = generation();
            while old.as_ref().is_some_and(|o| o.generation == generation) {
                generation = self::generation();
            }
            let head = Head {
                generation,
                parts: chunks.len(),
                digest: digest(value),
            };
            let written = chunks
                .iter()
                .enumerate()
                .try_for_each(|(i, chunk)| self.write(&head.part(name, i), chunk))
                .and_then(|()| self.write(name, head.to_string().as_bytes()));
            if let Err(e) = written {
                // Parts nothing points to would never be found again.
                self.remove_parts(name, &head);
                return Err(e);
            }
        }
        if let Some(old) = old {
            self.remove_parts(name, &old);
        }
        Ok(())
    }
}

/// The head of a split value: which generation of parts holds it, how many, and its digest.
#[derive(Debug, PartialEq)]
struct Head {
    generation: String,
    parts: usize,
    digest: String,
}

impl Head {
    fn parse(bytes: &[u8]) -> Option<Head> {
        let rest = std::str::from_utf8(bytes).ok()?.strip_prefix(MARKER)?;
        let mut fields = rest.split(':');
        let head = Head {
            generation: fields.next()?.to_owned(),
            parts: fields.next()?.parse().ok()?,
            digest: fields.next()?.to_owned(),
        };
        fields.next().is_none().then_some(head)
    }

    fn part(&self, name: &str, i: usize) -> String {
        format!("{name}#{}.{i}", self.generation)
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{MARKER}{}:{}:{}",
            self.generation, self.parts, self.digest
        )
    }
}

fn digest(value: &[u8]) -> String {
    Sha256::digest(value)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn generation() -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a person can do when the keyring does not answer.
pub(super) const REMEDY: &str = if cfg!(target_os = "macos") {
    "unlock the login keychain (Keychain Access)"
} else if cfg!(windows) {
    "check that the Credential Manager service (VaultSvc) runs"
} else {
    "start a Secret Service (gnome-keyring, KeePassXC)"
};

fn platform_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "Keychain"
    } else if cfg!(windows) {
        "Credential Manager"
    } else {
        "Secret Service"
    }
}

/// The platform's store, connected once per process.
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    static STORE: OnceLock<Result<Arc<CredentialStore>, String>> = OnceLock::new();
    STORE.get_or_init(connect).clone()
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn connect() -> Result<Arc<CredentialStore>, String> {
    let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| e.to_string())?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn connect() -> Result<Arc<CredentialStore>, String> {
    let store = apple_native_keyring_store::keychain::Store::new().map_err(|e| e.to_string())?;
    Ok(store)
}

#[cfg(windows)]
fn connect() -> Result<Arc<CredentialStore>, String> {
    let store = windows_native_keyring_store::Store::new().map_err(|e| e.to_string())?;
    Ok(store)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    windows
)))]
fn connect() -> Result<Arc<CredentialStore>, String> {
    Err("this platform has no keyring mcpgw knows; use the encrypted file store".into())
}

impl SecretStore for KeyringStore {
    fn describe(&self) -> String {
        format!("{STORE} ({})", self.platform)
    }

    fn get(&self, server: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        let Some(bytes) = self.read_value(&entry_name(server, kind))? else {
            return Ok(None);
        };
        String::from_utf8(bytes)
            .map(|s| Some(Secret::new(s)))
            .map_err(|_| SecretError::Failed {
                store: STORE,
                reason: format!("`{}` is not UTF-8", entry_name(server, kind)),
            })
    }

    fn set(&self, server: &str, kind: Kind, secret: &Secret) -> Result<(), SecretError> {
        self.write_value(&entry_name(server, kind), secret.expose().as_bytes())
    }

    fn delete(&self, server: &str, kind: Kind) -> Result<bool, SecretError> {
        let name = entry_name(server, kind);
        let head = self.read(&name)?.as_deref().and_then(Head::parse);
        // The head goes first: a reader then finds no value, never a head without its parts.
        let existed = self.remove(&name)?;
        if let Some(head) = head {
            self.remove_parts(&name, &head);
        }
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(limit: Option<usize>) -> KeyringStore {
        KeyringStore::with_store(keyring_core::mock::Store::new().unwrap(), limit)
    }

    fn parts_left(store: &KeyringStore, name: &str) -> usize {
        let Some(head) = store.read(name).unwrap().as_deref().and_then(Head::parse) else {
            return 0;
        };
        (0..head.parts)
            .filter(|i| store.read(&head.part(name, *i)).unwrap().is_some())
            .count()
    }

    #[test]
    fn a_value_over_the_limit_is_split_and_joined_again() {
        let store = store(Some(16));
        let big = "x".repeat(40) + "é" + &"y".repeat(30);
        store.set("s", Kind::OAuth, &Secret::new(&big)).unwrap();
        assert_eq!(parts_left(&store, "s/oauth"), 5);
        assert_eq!(store.get("s", Kind::OAuth).unwrap().unwrap().expose(), big);
        // No entry, head or part, holds more than the limit.
        let head = store.read("s/oauth").unwrap().unwrap();
        assert!(head.len() < 64, "{}", String::from_utf8_lossy(&head));
    }

    #[test]
    fn a_smaller_value_replaces_a_split_one_and_leaves_no_parts() {
        let store = store(Some(16));
        store
            .set("s", Kind::OAuth, &Secret::new("a".repeat(100)))
            .unwrap();
        let head = Head::parse(&store.read("s/oauth").unwrap().unwrap()).unwrap();
        store.set("s", Kind::OAuth, &Secret::new("short")).unwrap();
        assert_eq!(
            store.get("s", Kind::OAuth).unwrap().unwrap().expose(),
            "short"
        );
        for i in 0..head.parts {
            assert!(store.read(&head.part("s/oauth", i)).unwrap().is_none());
        }
    }

    #[test]
    fn a_new_split_value_replaces_the_old_generation() {
        let store = store(Some(8));
        store
            .set("s", Kind::ApiKey, &Secret::new("1".repeat(30)))
            .unwrap();
        let old = Head::parse(&store.read("s/api-key").unwrap().unwrap()).unwrap();
        store
            .set("s", Kind::ApiKey, &Secret::new("2".repeat(50)))
            .unwrap();
        assert_eq!(
            store.get("s", Kind::ApiKey).unwrap().unwrap().expose(),
            "2".repeat(50)
        );
        assert!(store.read(&old.part("s/api-key", 0)).unwrap().is_none());
        assert!(store.delete("s", Kind::ApiKey).unwrap());
        assert!(store.get("s", Kind::ApiKey).unwrap().is_none());
        assert_eq!(parts_left(&store, "s/api-key"), 0);
        assert!(!store.delete("s", Kind::ApiKey).unwrap());
    }

    #[test]
    fn a_value_that_looks_like_a_head_is_stored_split_so_it_reads_back_as_itself() {
        let store = store(None);
        let tricky = format!("{MARKER}deadbeef:1:0000000000000000");
        store.set("s", Kind::ApiKey, &Secret::new(&tricky)).unwrap();
        assert_eq!(
            store.get("s", Kind::ApiKey).unwrap().unwrap().expose(),
            tricky
        );
    }

    #[test]
    fn without_a_limit_values_are_stored_whole() {
        let store = store(None);
        let big = "z".repeat(10_000);
        store.set("s", Kind::OAuth, &Secret::new(&big)).unwrap();
        assert_eq!(store.read("s/oauth").unwrap().unwrap(), big.as_bytes());
    }

    #[test]
    fn a_missing_part_is_an_error_that_says_to_store_it_again() {
        let store = store(Some(4));
        store
            .set("s", Kind::OAuth, &Secret::new("abcdefghij"))
            .unwrap();
        let head = Head::parse(&store.read("s/oauth").unwrap().unwrap()).unwrap();
        store.remove(&head.part("s/oauth", 1)).unwrap();
        let err = store.get("s", Kind::OAuth).unwrap_err().to_string();
        assert!(err.contains("store it again"), "{err}");
    }
}
