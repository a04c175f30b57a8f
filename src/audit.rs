//! The audit log (`[audit] file`): one JSON object per line for every decision that matters —
//! who was let in or refused by the HTTP face, every tool call (who, server, tool, how long,
//! how it ended; its arguments only with `arguments = true`, secrets redacted), admin
//! actions, API key changes, and the upstream credential events (logins, refreshes,
//! revocations, step-ups). Never a secret: keys are named, not shown.
//!
//! One log per process, opened by [`init`] once the config is read (and again when it is
//! reloaded); [`record`] does nothing until then. Lines are appended whole, so several mcpgw
//! processes may share a file; past `max_size` it is renamed to `FILE.1` (the one before is
//! dropped) and a new one begun.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::AuditSettings;

/// Something worth a line.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// The HTTP face checked a request's credentials.
    Auth {
        /// The key's name, when it was valid.
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a str>,
        address: &'a str,
        /// "allowed", "missing", "invalid", "rate_limited", "forbidden".
        outcome: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    /// A tool call ended.
    ToolCall {
        /// The key's name; absent for the stdio client.
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a str>,
        server: &'a str,
        tool: &'a str,
        duration_ms: u64,
        /// "ok", "tool_error", "error", "cancelled", "refused".
        outcome: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        arguments: Option<Value>,
    },
    /// An admin endpoint was used.
    Admin {
        key: Option<&'a str>,
        action: &'a str,
        outcome: &'a str,
    },
    /// `mcpgw keys create|revoke|rotate`.
    KeyChanged { key: &'a str, change: &'a str },
    /// An upstream's credentials: "login", "refresh", "refresh_failed", "revoked",
    /// "step_up", "logout".
    Credential { server: &'a str, change: &'a str },
}

struct Sink {
    path: PathBuf,
    max_bytes: u64,
    arguments: bool,
    file: Option<std::fs::File>,
}

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

/// Opens (or closes, without a file) the process's audit log.
pub fn init(settings: &AuditSettings) {
    let sink = settings.file.as_ref().map(|path| Sink {
        path: path.clone(),
        max_bytes: settings.max_bytes,
        arguments: settings.arguments,
        file: None,
    });
    *SINK.lock().expect("audit") = sink;
}

/// Whether tool calls' arguments are wanted.
pub fn wants_arguments() -> bool {
    SINK.lock()
        .expect("audit")
        .as_ref()
        .is_some_and(|s| s.arguments)
}

/// Whether anything is recorded at all.
pub fn enabled() -> bool {
    SINK.lock().expect("audit").is_some()
}

/// Appends `event` to the log, if there is one. A log that cannot be written is said once
/// per failure on stderr's log, never fatal.
pub fn record(event: Event<'_>) {
    let mut guard = SINK.lock().expect("audit");
    let Some(sink) = guard.as_mut() else { return };
    let mut line =
        json!({ "ts": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string() });
    if let (Value::Object(head), Ok(Value::Object(body))) =
        (&mut line, serde_json::to_value(&event))
    {
        head.extend(body);
    }
    let mut text = line.to_string();
    text.push('\n');
    if let Err(e) = sink.append(text.as_bytes()) {
        tracing::warn!("cannot write the audit log {}: {e}", sink.path.display());
        sink.file = None;
    }
}

impl Sink {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        // Another process rotated the file: write to the new one.
        if self
            .file
            .as_ref()
            .is_some_and(|f| !same_file(f, &self.path))
        {
            self.file = None;
        }
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size > 0 && size + bytes.len() as u64 > self.max_bytes {
            let mut old = self.path.clone().into_os_string();
            old.push(".1");
            std::fs::rename(&self.path, old)?;
            self.file = None;
        }
        if self.file.is_none() || size == 0 {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            self.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        self.file.as_mut().expect("opened").write_all(bytes)
    }
}

/// Whether `file` is still the one at `path`.
#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

/// Windows does not rename a file another process has open: it is always the one at `path`.
#[cfg(not(unix))]
fn same_file(_: &std::fs::File, _: &std::path::Path) -> bool {
    true
}

/// Words that mark an argument as a secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "authorization",
    "credential",
    "private_key",
    "privatekey",
    "cookie",
    "session",
];

/// `arguments` with the values of secret-looking keys (and strings that look like bearer
/// tokens or keys) replaced by `"[redacted]"`.
pub fn redact(mut arguments: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let k = k.to_ascii_lowercase();
                    if SECRET_WORDS.iter().any(|w| k.contains(w)) {
                        *v = Value::String("[redacted]".into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(s) if looks_secret(s) => *s = "[redacted]".into(),
            _ => {}
        }
    }
    walk(&mut arguments);
    arguments
}

/// A bearer header value, or one of mcpgw's own keys.
fn looks_secret(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("mcpgw_") || s.to_ascii_lowercase().starts_with("bearer ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = redact(json!({
            "query": "rust",
            "api_key": "abc",
            "nested": { "Password": "hunter2", "list": ["Bearer xyz", "plain"] },
            "header": "mcpgw_abcdef",
        }));
        assert_eq!(
            v,
            json!({
                "query": "rust",
                "api_key": "[redacted]",
                "nested": { "Password": "[redacted]", "list": ["[redacted]", "plain"] },
                "header": "[redacted]",
            })
        );
    }

    #[test]
    fn lines_are_appended_and_rotated_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        init(&AuditSettings {
            file: Some(path.clone()),
            arguments: false,
            max_bytes: 4096,
        });
        for _ in 0..100 {
            record(Event::KeyChanged {
                key: "ci",
                change: "created",
            });
        }
        let now = std::fs::read_to_string(&path).unwrap();
        let old = std::fs::read_to_string(dir.path().join("audit.jsonl.1")).unwrap();
        assert!(now.len() <= 4096 && old.len() <= 4096);
        for line in now.lines().chain(old.lines()) {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["event"], "key_changed");
            assert_eq!(v["key"], "ci");
            assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        }
        assert!(now.lines().count() + old.lines().count() < 100);
        init(&AuditSettings::default());
        record(Event::KeyChanged {
            key: "x",
            change: "created",
        });
    }
}
