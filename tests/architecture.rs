//! The rooms of `src/` and the arrows that must never exist between them (design.md §3).
//! A forbidden `crate::…` path anywhere in a room fails this test with the file and line.
//!
//! The secret stores live in `crates/platform`, which cannot import mcpgw at all.

mod common;

use std::path::Path;

/// Every room of `src/`: a new one must be placed here (and in the list below) on purpose.
const ROOMS: &[&str] = &[
    "audit",
    "auth",
    "cli",
    "client",
    "commands",
    "config",
    "errors",
    "face",
    "hub",
    "lib",
    "logging",
    "main",
    "principal",
    "protocol",
    "session",
    "stdio",
    "upstream",
];

/// (room, rooms it must never import, why).
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "protocol",
        &[
            "auth", "cli", "client", "commands", "config", "face", "hub", "logging", "session",
            "stdio", "upstream",
        ],
        "the wire format is the bottom room",
    ),
    (
        "config",
        &[
            "auth", "client", "commands", "face", "hub", "session", "upstream",
        ],
        "the config is read before anything runs",
    ),
    (
        "upstream",
        &["cli", "client", "commands", "face", "hub", "session"],
        "the hub and sessions call upstreams, never the reverse (except through channels)",
    ),
    (
        "hub",
        &["cli", "client", "commands", "face", "session"],
        "sessions call the hub, never the reverse (except through channels)",
    ),
    (
        "session",
        &["cli", "client", "commands", "face"],
        "a session is one client's state, whatever face it came through",
    ),
    (
        "face",
        &["cli", "commands"],
        "anything → commands is forbidden",
    ),
    (
        "auth",
        &["client", "commands", "face", "hub", "session", "upstream"],
        "the OAuth client serves upstreams and commands alike",
    ),
    (
        "client",
        &["commands", "face", "hub", "session", "upstream"],
        "a plain JSON-RPC client",
    ),
    (
        "principal",
        &[
            "auth", "cli", "client", "commands", "config", "face", "hub", "logging", "protocol",
            "session", "stdio", "upstream",
        ],
        "who a session acts for is known before any of the rest",
    ),
    (
        "audit",
        &[
            "auth", "cli", "client", "commands", "face", "hub", "session", "stdio", "upstream",
        ],
        "everyone records, the log knows nobody",
    ),
    ("errors", &["commands"], "anything → commands is forbidden"),
    ("logging", &["commands"], "anything → commands is forbidden"),
];

/// The rooms a file's code names through `crate::`, with the line of each.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = vec![];
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c}`: the first name of each item at the top level.
                let mut depth = 0;
                let mut item = String::new();
                for ch in group.chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.push((n + 1, room_of(&item)));
                            item.clear();
                        }
                        c => item.push(c),
                    }
                }
                found.push((n + 1, room_of(&item)));
            } else {
                found.push((n + 1, room_of(rest)));
            }
        }
    }
    found.retain(|(_, room)| !room.is_empty());
    found
}

fn room_of(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_room_imports_what_it_must_not() {
    let src = common::root().join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut broken = vec![];
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let room = room_of(&relative.to_string_lossy());
        let Some((_, forbidden, why)) = FORBIDDEN.iter().find(|(r, _, _)| *r == room) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, target) in imports(&text) {
            if forbidden.contains(&target.as_str()) {
                broken.push(format!(
                    "src/{}:{line}: `{room}` imports `{target}` ({why})",
                    relative.display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(files.len() > 20, "the walk found the sources");
    let unknown: Vec<String> = files
        .iter()
        .map(|f| room_of(&f.strip_prefix(&src).unwrap().to_string_lossy()))
        .filter(|room| !ROOMS.contains(&room.as_str()))
        .collect();
    assert!(unknown.is_empty(), "rooms nobody placed: {unknown:?}");
}

#[test]
fn imports_are_read_in_every_form() {
    let text = "use crate::config::Config;\nuse crate::{hub, upstream::{self, Event}};\n// crate::commands in a comment\nlet x = crate::auth::login();\n";
    let rooms: Vec<(usize, String)> = imports(text);
    assert_eq!(
        rooms,
        [
            (1, "config".into()),
            (2, "hub".into()),
            (2, "upstream".into()),
            (4, "auth".into())
        ]
    );
}
