//! The HTTP face's API keys: who may use the gateway (`mcpgw keys create|list|revoke`).
//!
//! A key is `mcpgw_` and 256 random bits (base64url), shown once when it is made. Only its
//! SHA-256 is kept, with its name, its first characters (to recognise it), when it was made,
//! when it expires and when it was revoked, in `api-keys.json` in mcpgw's data folder — no
//! secret is in that file. A client presents its key as `Authorization: Bearer KEY` or
//! `X-API-Key: KEY`; the presented key is hashed and compared with each stored hash in
//! constant time. The face reads the file again whenever it changes, so a revocation takes
//! effect at the next request.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const PREFIX: &str = "mcpgw_";
/// How much of a key `keys list` shows.
const SHOWN: usize = 12;

/// A key as kept: never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub name: String,
    /// Its first characters, to recognise it.
    pub prefix: String,
    /// SHA-256 of the key, hex.
    hash: String,
    /// Seconds since the epoch.
    pub created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<u64>,
}

impl Record {
    /// Whether it may be used at `now`.
    pub fn active(&self, now: u64) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|e| now < e)
    }
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    keys: Vec<Record>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The keys file in the platform's data folder.
pub fn default_path() -> Option<PathBuf> {
    Some(mcpgw_platform::paths::data_dir()?.join("api-keys.json"))
}

/// The keys kept at `path`.
pub struct Keys {
    path: PathBuf,
}

impl Keys {
    pub fn new(path: PathBuf) -> Keys {
        Keys { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<File, String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a keys file: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    fn write(&self, file: &File) -> Result<(), String> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(file).expect("JSON");
        let temp = self.path.with_extension("json.tmp");
        std::fs::write(&temp, text)
            .and_then(|()| std::fs::rename(&temp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    /// Makes a key named `name`; returns the key (shown once) and what is kept of it.
    pub fn create(
        &self,
        name: &str,
        expires_in: Option<Duration>,
    ) -> Result<(String, Record), String> {
        let mut file = self.read()?;
        let now = now();
        if file.keys.iter().any(|k| k.name == name && k.active(now)) {
            return Err(format!(
                "a key named `{name}` exists already (revoke it first, or pick another name)"
            ));
        }
        let mut bits = [0u8; 32];
        getrandom::fill(&mut bits).map_err(|e| format!("no randomness: {e}"))?;
        let key = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bits)
        );
        let record = Record {
            name: name.to_owned(),
            prefix: key[..SHOWN].to_owned(),
            hash: hash(&key),
            created: now,
            expires: expires_in.map(|d| now + d.as_secs()),
            revoked: None,
        };
        file.keys.retain(|k| k.name != name);
        file.keys.push(record.clone());
        self.write(&file)?;
        Ok((key, record))
    }

    pub fn list(&self) -> Result<Vec<Record>, String> {
        Ok(self.read()?.keys)
    }

    /// Revokes the key named `name`.
    pub fn revoke(&self, name: &str) -> Result<(), String> {
        let mut file = self.read()?;
        let now = now();
        let Some(key) = file
            .keys
            .iter_mut()
            .find(|k| k.name == name && k.revoked.is_none())
        else {
            return Err(format!("no key named `{name}` (see `mcpgw keys list`)"));
        };
        key.revoked = Some(now);
        self.write(&file)
    }
}

/// What a request's key says.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// No key is configured: the face is open (and on loopback only).
    Open,
    /// The key of this name.
    Key(String),
    Missing,
    Invalid,
}

/// Checks presented keys against the file, read again when it changes.
pub struct Verifier {
    keys: Keys,
    seen: Mutex<(Option<SystemTime>, Vec<Record>)>,
    /// Keys were configured at some point: from then on the face never opens again, even if
    /// the file goes (it fails closed).
    required: std::sync::atomic::AtomicBool,
}

impl Verifier {
    pub fn new(keys: Keys) -> Verifier {
        Verifier {
            keys,
            seen: Mutex::new((None, vec![])),
            required: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The keys in force now (the file read again if it changed).
    fn current(&self) -> Vec<Record> {
        let modified = std::fs::metadata(self.keys.path())
            .and_then(|m| m.modified())
            .ok();
        let mut seen = self.seen.lock().expect("keys");
        // A change within the file system's time stamp granularity keeps the stamp: a file
        // changed lately is read again.
        let recent = modified
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < Duration::from_secs(3));
        if seen.0 != modified || recent {
            match self.keys.list() {
                Ok(keys) => *seen = (modified, keys),
                Err(e) => tracing::error!("{e}; keeping the keys read before"),
            }
        }
        seen.1.clone()
    }

    /// Whether any key is configured (the face then demands one).
    pub fn configured(&self) -> bool {
        !self.current().is_empty()
    }

    /// From now on a key is demanded, whatever the file says (the face listens where only
    /// keys keep strangers out).
    pub fn require(&self) {
        self.required
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// What `presented` (the key a request carried, if any) says.
    pub fn check(&self, presented: Option<&str>) -> Verdict {
        use std::sync::atomic::Ordering;
        let keys = self.current();
        if keys.is_empty() && !self.required.load(Ordering::Relaxed) {
            return Verdict::Open;
        }
        self.required.store(true, Ordering::Relaxed);
        let Some(presented) = presented else {
            return Verdict::Missing;
        };
        let presented = hash(presented);
        let now = now();
        let mut found = None;
        for key in &keys {
            if same(key.hash.as_bytes(), presented.as_bytes()) {
                found = Some(key);
            }
        }
        match found {
            Some(key) if key.active(now) => Verdict::Key(key.name.clone()),
            _ => Verdict::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_made_checked_and_revoked_and_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path().join("api-keys.json"));
        let verifier = Verifier::new(Keys::new(dir.path().join("api-keys.json")));
        assert_eq!(verifier.check(None), Verdict::Open);
        let (key, record) = keys.create("ci", None).unwrap();
        assert!(key.starts_with("mcpgw_") && key.len() == 6 + 43, "{key}");
        assert!(key.starts_with(&record.prefix));
        let text = std::fs::read_to_string(keys.path()).unwrap();
        assert!(!text.contains(&key), "the key itself is never written");
        assert_eq!(verifier.check(Some(&key)), Verdict::Key("ci".into()));
        assert_eq!(verifier.check(None), Verdict::Missing);
        assert_eq!(verifier.check(Some("mcpgw_nope")), Verdict::Invalid);
        assert!(keys.create("ci", None).is_err(), "one active key per name");
        keys.revoke("ci").unwrap();
        assert_eq!(verifier.check(Some(&key)), Verdict::Invalid);
        assert!(keys.revoke("ci").is_err());
        // Expired: refused.
        let (old, _) = keys.create("old", Some(Duration::ZERO)).unwrap();
        assert_eq!(verifier.check(Some(&old)), Verdict::Invalid);
        // The file gone: still closed.
        std::fs::remove_file(keys.path()).unwrap();
        assert_eq!(verifier.check(None), Verdict::Missing);
    }

    #[test]
    fn comparison_is_by_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
