//! The HTTP face's API keys: who may use the gateway, and what each may reach
//! (`mcpgw keys create|list|revoke|rotate`).
//!
//! A key is `mcpgw_` and 256 random bits (base64url), shown once when it is made. Only its
//! SHA-256 is kept, with its name, its first characters (to recognise it), its scope (servers,
//! tool globs), its rate, whether it is an admin's, the identity it stands for, when it was
//! made, when it expires and when it was revoked, in `api-keys.json` in mcpgw's data folder —
//! no secret is in that file. A rotated key keeps working until its grace period ends
//! (`retired`). When each key was last used is kept beside it, in `api-keys.used.json`,
//! written by the running gateway at most every [`TOUCH_EVERY`].
//!
//! A client presents its key as `Authorization: Bearer KEY` or `X-API-Key: KEY`; the
//! presented key is hashed and compared with each stored hash in constant time. The face
//! reads the file again whenever it changes, so a revocation takes effect at the next request.
//! Keys may also come from the config (`[listen.keys.NAME] key = "${VAR}"`): the same checks,
//! never written anywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::ConfigKey;
use crate::principal::{self, Grant, Principal};

const PREFIX: &str = "mcpgw_";
/// How much of a key `keys list` shows.
const SHOWN: usize = 12;
/// How often a running gateway writes down when keys were last used.
pub const TOUCH_EVERY: Duration = Duration::from_secs(30);

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
    /// Rotated: it works until then, beside the key that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<u64>,
    #[serde(flatten)]
    pub grant: Grant,
    /// When it was last used (from the gateway's notes; never in the keys file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<u64>,
}

impl Record {
    /// Whether it may be used at `now`.
    pub fn active(&self, now: u64) -> bool {
        self.revoked.is_none()
            && self.expires.is_none_or(|e| now < e)
            && self.retired.is_none_or(|r| now < r)
    }

    /// The key of its name that is not being rotated out.
    fn current(&self, now: u64) -> bool {
        self.active(now) && self.retired.is_none()
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

    /// Where the running gateway notes when each key was last used.
    fn used_path(&self) -> PathBuf {
        self.path.with_extension("used.json")
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
        write_json(&self.path, file)
    }

    /// Makes a key named `name`; returns the key (shown once) and what is kept of it.
    pub fn create(
        &self,
        name: &str,
        expires_in: Option<Duration>,
        grant: Grant,
    ) -> Result<(String, Record), String> {
        grant
            .principal(name)
            .map_err(|e| format!("key `{name}`: {e}"))?;
        let mut file = self.read()?;
        let now = now();
        if file.keys.iter().any(|k| k.name == name && k.current(now)) {
            return Err(format!(
                "a key named `{name}` exists already (revoke or rotate it, or pick another name)"
            ));
        }
        let (key, record) = fresh(name, now, expires_in.map(|d| now + d.as_secs()), grant)?;
        // Keys of this name that no longer work are forgotten.
        file.keys.retain(|k| k.name != name || k.active(now));
        file.keys.push(record.clone());
        self.write(&file)?;
        Ok((key, record))
    }

    /// A new key in place of `name`'s, with the same scope and expiry; the old one keeps
    /// working for `grace`.
    pub fn rotate(&self, name: &str, grace: Duration) -> Result<(String, Record), String> {
        let mut file = self.read()?;
        let now = now();
        let Some(old) = file
            .keys
            .iter_mut()
            .find(|k| k.name == name && k.current(now))
        else {
            return Err(format!(
                "no active key named `{name}` (see `mcpgw keys list`)"
            ));
        };
        old.retired = Some(now + grace.as_secs());
        let (expires, grant) = (old.expires, old.grant.clone());
        let (key, record) = fresh(name, now, expires, grant)?;
        file.keys.retain(|k| k.name != name || k.active(now));
        file.keys.push(record.clone());
        self.write(&file)?;
        Ok((key, record))
    }

    /// The keys, with when each was last used.
    pub fn list(&self) -> Result<Vec<Record>, String> {
        let mut keys = self.read()?.keys;
        let used: HashMap<String, u64> = std::fs::read_to_string(self.used_path())
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        for k in &mut keys {
            k.last_used = used.get(&k.hash[..16]).copied();
        }
        Ok(keys)
    }

    /// Revokes every key named `name` (a rotated one in its grace period too).
    pub fn revoke(&self, name: &str) -> Result<(), String> {
        let mut file = self.read()?;
        let now = now();
        let mut found = false;
        for key in file
            .keys
            .iter_mut()
            .filter(|k| k.name == name && k.revoked.is_none())
        {
            key.revoked = Some(now);
            found = true;
        }
        if !found {
            return Err(format!("no key named `{name}` (see `mcpgw keys list`)"));
        }
        self.write(&file)
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value).expect("JSON");
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A new key and its record.
fn fresh(
    name: &str,
    now: u64,
    expires: Option<u64>,
    grant: Grant,
) -> Result<(String, Record), String> {
    let mut bits = [0u8; 32];
    getrandom::fill(&mut bits).map_err(|e| format!("no randomness: {e}"))?;
    let key = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bits)
    );
    let record = Record {
        name: name.to_owned(),
        prefix: key[..SHOWN].to_owned(),
        hash: principal::key_hash(&key),
        created: now,
        expires,
        revoked: None,
        retired: None,
        grant,
        last_used: None,
    };
    Ok((key, record))
}

/// The principals of the config's keys, by hash.
fn principals(config: &[ConfigKey]) -> Result<Vec<(String, Arc<Principal>)>, String> {
    config
        .iter()
        .map(|k| {
            let principal = k
                .grant
                .principal(&k.name)
                .map_err(|e| format!("[listen.keys.{}]: {e}", k.name))?;
            Ok((k.hash.clone(), Arc::new(principal)))
        })
        .collect()
}

/// What a request's key says.
#[derive(Debug)]
pub enum Verdict {
    /// No key is configured: the face is open (and on loopback only).
    Open,
    /// The key of this principal.
    Key(Arc<Principal>),
    Missing,
    Invalid,
}

/// The file's keys as last read, each with the principal it stands for (`None`: its grant is
/// broken, and it is refused).
#[derive(Default)]
struct Seen {
    modified: Option<SystemTime>,
    keys: Vec<(Record, Option<Arc<Principal>>)>,
}

/// Checks presented keys against the file (read again when it changes) and the config's.
pub struct Verifier {
    keys: Keys,
    /// Keys from the config: (hash, principal).
    config: Mutex<Vec<(String, Arc<Principal>)>>,
    seen: Mutex<Seen>,
    /// Keys were configured at some point: from then on the face never opens again, even if
    /// the file goes (it fails closed).
    required: std::sync::atomic::AtomicBool,
    /// When keys were used since last written down (hash prefix → time), and when that was.
    used: Mutex<(Option<std::time::Instant>, HashMap<String, u64>)>,
}

impl Verifier {
    pub fn new(keys: Keys, config: &[ConfigKey]) -> Result<Verifier, String> {
        Ok(Verifier {
            keys,
            config: Mutex::new(principals(config)?),
            seen: Mutex::default(),
            required: std::sync::atomic::AtomicBool::new(false),
            used: Mutex::default(),
        })
    }

    /// The file's keys in force now (read again if it changed).
    fn current(&self) -> Vec<(Record, Option<Arc<Principal>>)> {
        let modified = std::fs::metadata(self.keys.path())
            .and_then(|m| m.modified())
            .ok();
        let mut seen = self.seen.lock().expect("keys");
        // A change within the file system's time stamp granularity keeps the stamp: a file
        // changed lately is read again.
        let recent = modified
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < Duration::from_secs(3));
        if seen.modified != modified || recent {
            match self.keys.read() {
                Ok(file) => {
                    let keys = file
                        .keys
                        .into_iter()
                        .map(|r| {
                            let p = match r.grant.principal(&r.name) {
                                Ok(p) => Some(Arc::new(p)),
                                Err(e) => {
                                    tracing::error!("key `{}` is refused: {e}", r.name);
                                    None
                                }
                            };
                            (r, p)
                        })
                        .collect();
                    *seen = Seen { modified, keys };
                }
                Err(e) => tracing::error!("{e}; keeping the keys read before"),
            }
        }
        seen.keys.clone()
    }

    /// Takes the keys of a reloaded config.
    pub fn set_config_keys(&self, config: &[ConfigKey]) -> Result<(), String> {
        *self.config.lock().expect("config keys") = principals(config)?;
        Ok(())
    }

    /// Whether any key is configured (the face then demands one).
    pub fn configured(&self) -> bool {
        !self.config.lock().expect("config keys").is_empty() || !self.current().is_empty()
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
        let config = self.config.lock().expect("config keys").clone();
        if keys.is_empty() && config.is_empty() && !self.required.load(Ordering::Relaxed) {
            return Verdict::Open;
        }
        self.required.store(true, Ordering::Relaxed);
        let Some(presented) = presented else {
            return Verdict::Missing;
        };
        let presented = principal::key_hash(presented);
        let now = now();
        // Every hash is compared, whichever matches.
        let mut found = None;
        for (record, principal) in &keys {
            if same(record.hash.as_bytes(), presented.as_bytes()) {
                found = Some(principal.clone().filter(|_| record.active(now)));
            }
        }
        for (hash, principal) in &config {
            if same(hash.as_bytes(), presented.as_bytes()) {
                found = Some(Some(principal.clone()));
            }
        }
        match found.flatten() {
            Some(principal) => {
                self.touch(&presented, now);
                Verdict::Key(principal)
            }
            None => Verdict::Invalid,
        }
    }

    /// Notes that the key of hash `hash` was used; written down at most every
    /// [`TOUCH_EVERY`].
    fn touch(&self, hash: &str, now: u64) {
        let mut used = self.used.lock().expect("used");
        used.1.insert(hash[..16].to_owned(), now);
        if used.0.is_none_or(|at| at.elapsed() >= TOUCH_EVERY) {
            used.0 = Some(std::time::Instant::now());
            self.write_used(&mut used.1);
        }
    }

    /// Writes down what `touch` has not yet (at shutdown).
    pub fn flush(&self) {
        let mut used = self.used.lock().expect("used");
        if !used.1.is_empty() {
            self.write_used(&mut used.1);
        }
    }

    fn write_used(&self, fresh: &mut HashMap<String, u64>) {
        let path = self.keys.used_path();
        let mut all: HashMap<String, u64> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        all.extend(fresh.drain());
        if let Err(e) = write_json(&path, &all) {
            tracing::warn!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Identity;

    fn name(v: Verdict) -> String {
        match v {
            Verdict::Key(p) => p.name.clone(),
            other => format!("{other:?}"),
        }
    }

    fn verifier(keys: &Keys) -> Verifier {
        Verifier::new(Keys::new(keys.path().to_owned()), &[]).unwrap()
    }

    #[test]
    fn keys_are_made_checked_and_revoked_and_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path().join("api-keys.json"));
        let verifier = verifier(&keys);
        assert!(matches!(verifier.check(None), Verdict::Open));
        let (key, record) = keys.create("ci", None, Grant::default()).unwrap();
        assert!(key.starts_with("mcpgw_") && key.len() == 6 + 43, "{key}");
        assert!(key.starts_with(&record.prefix));
        let text = std::fs::read_to_string(keys.path()).unwrap();
        assert!(!text.contains(&key), "the key itself is never written");
        assert_eq!(name(verifier.check(Some(&key))), "ci");
        assert!(matches!(verifier.check(None), Verdict::Missing));
        assert!(matches!(
            verifier.check(Some("mcpgw_nope")),
            Verdict::Invalid
        ));
        assert!(
            keys.create("ci", None, Grant::default()).is_err(),
            "one active key per name"
        );
        keys.revoke("ci").unwrap();
        assert!(matches!(verifier.check(Some(&key)), Verdict::Invalid));
        assert!(keys.revoke("ci").is_err());
        // Expired: refused.
        let (old, _) = keys
            .create("old", Some(Duration::ZERO), Grant::default())
            .unwrap();
        assert!(matches!(verifier.check(Some(&old)), Verdict::Invalid));
        // The file gone: still closed.
        std::fs::remove_file(keys.path()).unwrap();
        assert!(matches!(verifier.check(None), Verdict::Missing));
    }

    #[test]
    fn a_key_carries_its_scope_rate_and_identity() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path().join("api-keys.json"));
        let mut identity = Identity::default();
        identity.set("email=ana@example.com").unwrap();
        let grant = Grant {
            servers: Some(vec!["a".into()]),
            tools: vec!["a__read_*".into()],
            rate: Some("10/s".into()),
            admin: true,
            identity,
        };
        let (key, _) = keys.create("ana", None, grant).unwrap();
        let Verdict::Key(p) = verifier(&keys).check(Some(&key)) else {
            panic!("the key works")
        };
        assert!(p.admin && p.scope.allows_tool("a", "a__read_x") && !p.scope.allows_server("b"));
        assert_eq!(p.rate.unwrap().to_string(), "10/s");
        assert_eq!(p.identity.email.as_deref(), Some("ana@example.com"));
        let bad = Grant {
            rate: Some("lots".into()),
            ..Grant::default()
        };
        assert!(keys.create("bad", None, bad).unwrap_err().contains("rate"));
    }

    #[test]
    fn a_rotated_key_works_through_its_grace_and_use_is_noted() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new(dir.path().join("api-keys.json"));
        let verifier = verifier(&keys);
        let (old, _) = keys.create("ci", None, Grant::default()).unwrap();
        let (new, _) = keys.rotate("ci", Duration::from_secs(3600)).unwrap();
        assert_eq!(
            name(verifier.check(Some(&old))),
            "ci",
            "in its grace period"
        );
        assert_eq!(name(verifier.check(Some(&new))), "ci");
        assert!(keys.create("ci", None, Grant::default()).is_err());
        let (newer, _) = keys.rotate("ci", Duration::ZERO).unwrap();
        assert!(
            matches!(verifier.check(Some(&new)), Verdict::Invalid),
            "no grace"
        );
        assert_eq!(name(verifier.check(Some(&newer))), "ci");
        verifier.flush();
        let listed = keys.list().unwrap();
        assert!(listed.iter().all(|k| k.name == "ci"));
        assert!(
            listed
                .iter()
                .any(|k| k.last_used.is_some() && k.active(now()))
        );
        keys.revoke("ci").unwrap();
        assert!(matches!(verifier.check(Some(&old)), Verdict::Invalid));
        assert!(matches!(verifier.check(Some(&newer)), Verdict::Invalid));
        assert!(keys.rotate("ci", Duration::ZERO).is_err());
    }

    #[test]
    fn comparison_is_by_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
