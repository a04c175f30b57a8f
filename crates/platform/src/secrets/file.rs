//! Secrets in an encrypted file, for machines without a keyring (headless servers, WSL, CI).
//!
//! The key comes from the passphrase in `MCPGW_SECRET_KEY` through Argon2id, with a random salt
//! kept in the file. Each entry is sealed with XChaCha20-Poly1305 under a random nonce, with
//! its name as associated data (so entries cannot be swapped). A sealed check value makes a
//! wrong passphrase an error that says so. The file is written whole, mode 0600 (on Windows
//! it sits in `%APPDATA%`, which only its user may read), and renamed into place. Updates
//! happen under a lock on a companion `.lock` file, never on the data file itself: Windows
//! locks are mandatory and would block readers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use super::{Kind, Secret, SecretError, SecretStore, entry_name};

pub const KEY_VARIABLE: &str = "MCPGW_SECRET_KEY";
const CHECK: &str = "mcpgw secret file";

pub struct FileStore {
    path: PathBuf,
    cipher: XChaCha20Poly1305,
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
struct Contents {
    version: u32,
    salt: String,
    check: Sealed,
    entries: BTreeMap<String, Sealed>,
}

#[derive(Serialize, Deserialize, Default, Clone)]
struct Sealed {
    nonce: String,
    data: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    bytes
}

impl FileStore {
    /// `secrets.enc` in the platform's data folder (`$XDG_DATA_HOME/mcpgw` on Linux,
    /// `%APPDATA%\mcpgw` on Windows).
    pub fn default_path() -> Option<PathBuf> {
        Some(crate::paths::data_dir()?.join("secrets.enc"))
    }

    /// Opens (or prepares) the file with the passphrase in `MCPGW_SECRET_KEY`.
    pub fn from_env(path: PathBuf) -> Result<FileStore, SecretError> {
        let passphrase = std::env::var(KEY_VARIABLE).map_err(|_| SecretError::Unavailable {
            store: "encrypted file",
            reason: format!(
                "{KEY_VARIABLE} is not set (it holds the passphrase for {})",
                path.display()
            ),
        })?;
        Self::open(path, &passphrase)
    }

    pub fn open(path: PathBuf, passphrase: &str) -> Result<FileStore, SecretError> {
        if passphrase.chars().count() < 8 {
            return Err(SecretError::Unavailable {
                store: "encrypted file",
                reason: format!("{KEY_VARIABLE} is shorter than 8 characters"),
            });
        }
        // Under the lock: processes opening a new file at once must agree on one salt.
        let _lock = lock(&path)?;
        let existing = read(&path)?;
        let salt = match &existing {
            Some(c) => unhex(&c.salt).ok_or_else(|| damaged(&path, "bad salt"))?,
            None => random::<16>().to_vec(),
        };
        let mut key = [0u8; 32];
        argon2::Argon2::default()
            .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
            .map_err(|e| SecretError::Failed {
                store: "encrypted file",
                reason: e.to_string(),
            })?;
        let store = FileStore {
            path,
            cipher: XChaCha20Poly1305::new(&key.into()),
            salt,
        };
        if let Some(contents) = existing
            && store.unseal(CHECK, &contents.check).as_deref() != Some(CHECK.as_bytes())
        {
            return Err(SecretError::Unavailable {
                store: "encrypted file",
                reason: format!(
                    "{KEY_VARIABLE} does not open {} (a different passphrase made it)",
                    store.path.display()
                ),
            });
        }
        if !path_exists(&store.path) {
            store.write(&store.contents()?)?;
        }
        Ok(store)
    }

    fn seal(&self, name: &str, plain: &[u8]) -> Sealed {
        let nonce = random::<24>();
        let data = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: name.as_bytes(),
                },
            )
            .expect("sealing cannot fail");
        Sealed {
            nonce: hex(&nonce),
            data: hex(&data),
        }
    }

    fn unseal(&self, name: &str, sealed: &Sealed) -> Option<Vec<u8>> {
        let nonce: [u8; 24] = unhex(&sealed.nonce)?.try_into().ok()?;
        let data = unhex(&sealed.data)?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &data,
                    aad: name.as_bytes(),
                },
            )
            .ok()
    }

    fn contents(&self) -> Result<Contents, SecretError> {
        Ok(read(&self.path)?.unwrap_or_else(|| Contents {
            version: 1,
            salt: hex(&self.salt),
            check: self.seal(CHECK, CHECK.as_bytes()),
            entries: BTreeMap::new(),
        }))
    }

    /// Runs a read-modify-write of the file under an exclusive lock, so that mcpgw processes
    /// storing keys at the same moment do not lose each other's.
    fn update<T>(&self, change: impl FnOnce(&mut Contents) -> T) -> Result<T, SecretError> {
        let _lock = lock(&self.path)?;
        let mut contents = self.contents()?;
        if unhex(&contents.salt).as_deref() != Some(&self.salt[..]) {
            return Err(damaged(
                &self.path,
                "it was made anew while mcpgw had it open; run the command again",
            ));
        }
        let result = change(&mut contents);
        self.write(&contents)?;
        Ok(result)
    }

    fn write(&self, contents: &Contents) -> Result<(), SecretError> {
        let fail = |e: std::io::Error| SecretError::Failed {
            store: "encrypted file",
            reason: format!("{}: {e}", self.path.display()),
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let temp = dir.join(format!(".secrets.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let text = serde_json::to_vec_pretty(contents).expect("contents serialize");
        std::io::Write::write_all(&mut options.open(&temp).map_err(fail)?, &text).map_err(fail)?;
        std::fs::rename(&temp, &self.path).map_err(fail)
    }
}

/// An exclusive lock on the file's companion `.lock` file, held until the guard drops.
fn lock(path: &Path) -> Result<crate::lock::FileLock, SecretError> {
    crate::lock::FileLock::acquire(&path.with_extension("lock")).map_err(|e| SecretError::Failed {
        store: "encrypted file",
        reason: format!("{}: {e}", path.display()),
    })
}

fn path_exists(path: &Path) -> bool {
    path.try_exists().unwrap_or(false)
}

fn damaged(path: &Path, why: &str) -> SecretError {
    SecretError::Failed {
        store: "encrypted file",
        reason: format!("{} is damaged: {why}", path.display()),
    }
}

fn read(path: &Path) -> Result<Option<Contents>, SecretError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| damaged(path, &e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SecretError::Failed {
            store: "encrypted file",
            reason: format!("{}: {e}", path.display()),
        }),
    }
}

impl SecretStore for FileStore {
    fn describe(&self) -> String {
        format!("encrypted file {}", self.path.display())
    }

    fn get(&self, server: &str, kind: Kind) -> Result<Option<Secret>, SecretError> {
        let name = entry_name(server, kind);
        let Some(sealed) = self.contents()?.entries.remove(&name) else {
            return Ok(None);
        };
        let plain = self
            .unseal(&name, &sealed)
            .ok_or_else(|| damaged(&self.path, &format!("`{name}` does not decrypt")))?;
        String::from_utf8(plain)
            .map(|s| Some(Secret::new(s)))
            .map_err(|_| damaged(&self.path, "not UTF-8"))
    }

    fn set(&self, server: &str, kind: Kind, secret: &Secret) -> Result<(), SecretError> {
        let name = entry_name(server, kind);
        let sealed = self.seal(&name, secret.expose().as_bytes());
        self.update(|contents| {
            contents.entries.insert(name, sealed);
        })
    }

    fn delete(&self, server: &str, kind: Kind) -> Result<bool, SecretError> {
        self.update(|contents| contents.entries.remove(&entry_name(server, kind)).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_refuses_wrong_passphrases_and_keeps_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/secrets.enc");
        let store = FileStore::open(path.clone(), "correct horse battery").unwrap();
        store
            .set("github", Kind::ApiKey, &Secret::new("ghp_sup3rs3cret"))
            .unwrap();
        store
            .set("linear", Kind::ApiKey, &Secret::new("lin_api_x"))
            .unwrap();
        let again = FileStore::open(path.clone(), "correct horse battery").unwrap();
        assert_eq!(
            again.get("github", Kind::ApiKey).unwrap().unwrap().expose(),
            "ghp_sup3rs3cret"
        );
        assert!(again.delete("linear", Kind::ApiKey).unwrap());
        assert!(again.get("linear", Kind::ApiKey).unwrap().is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("sup3rs3cret") && !text.contains("lin_api"),
            "{text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let wrong = FileStore::open(path.clone(), "wrong horse battery")
            .err()
            .unwrap()
            .to_string();
        assert!(wrong.contains("does not open"), "{wrong}");
        assert!(FileStore::open(path, "short").is_err());
    }
}
