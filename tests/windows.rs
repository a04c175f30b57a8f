//! mcpgw on Windows: run by `scripts/check-platforms` under Wine, against Wine's Credential
//! Manager and its Job Objects, with `examples/tiny_server.rs` as the MCP server (Node.js is
//! not there). Each test is a promise a Windows user relies on:
//! - a key stored by one mcpgw process is read by another, however large;
//! - `add-key` then `serve` gives the child its key;
//! - a server's process tree dies with the gateway, even when the gateway is killed;
//! - `npx`-style `.cmd` launchers are found on `PATH` (the classic `spawn npx ENOENT`);
//! - concurrent processes keep every key in the encrypted file (Windows file locks).
#![cfg(windows)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mcpgw::secrets::{KeyringStore, Kind, SecretStore};
use serde_json::{Value, json};

/// A path cargo wrote on Linux (`/work/...`), as a Windows program under Wine sees it.
fn windows_path(path: &str) -> PathBuf {
    match path.strip_prefix('/') {
        Some(rest) => PathBuf::from(format!("Z:\\{}", rest.replace('/', "\\"))),
        None => PathBuf::from(path),
    }
}

fn mcpgw_exe() -> PathBuf {
    windows_path(env!("CARGO_BIN_EXE_mcpgw"))
}

fn tiny_server() -> PathBuf {
    let path = mcpgw_exe()
        .parent()
        .unwrap()
        .join("examples")
        .join("tiny_server.exe");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --example tiny_server`",
        path.display()
    );
    path
}

/// A temporary folder with a config, and a server name no earlier run has used (Wine's
/// Credential Manager outlives the test).
struct World {
    dir: tempfile::TempDir,
    server: String,
}

impl World {
    /// `config` gets the server's name and the folder (for the secret file).
    fn new(config: impl FnOnce(&str, &Path) -> String) -> World {
        let dir = tempfile::tempdir().unwrap();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let server = format!("w{}x{}", std::process::id(), stamp % 1_000_000_007);
        std::fs::write(dir.path().join("config.toml"), config(&server, dir.path())).unwrap();
        World { dir, server }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(mcpgw_exe());
        command
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .env("MCPGW_LOG", "mcpgw=debug")
            .env("MCPGW_LOCK_DIR", self.dir.path().join("locks"))
            .env("MCPGW_SECRET_KEY", "correct horse battery staple");
        command
    }

    #[track_caller]
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    #[track_caller]
    fn success(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "mcpgw {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn serve(&self) -> Gateway {
        let mut child = self
            .command()
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut gateway = Gateway {
            stdin: Some(child.stdin.take().unwrap()),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
            next: 1,
        };
        let init = gateway.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "windows-test", "version": "1"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "mcpgw", "{init}");
        gateway.notify("notifications/initialized");
        gateway
    }
}

/// `mcpgw serve` as a child, spoken to line by line.
struct Gateway {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Gateway {
    fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str) {
        self.send(json!({"jsonrpc": "2.0", "method": method}));
    }

    /// Sends a request and returns its answer, skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the gateway closed stdout before answering {method}"
            );
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// The text of a tool's answer.
    #[track_caller]
    fn call(&mut self, tool: &str, arguments: Value) -> String {
        let answer = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = &answer["result"];
        assert!(
            result["isError"] != json!(true) && answer.get("error").is_none(),
            "{tool} failed: {answer}"
        );
        result["content"][0]["text"].as_str().unwrap().to_owned()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether process `pid` ends within `limit`.
fn ends_within(pid: u32, limit: Duration) -> bool {
    use windows::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows::Win32::System::Threading::{
        OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, WaitForSingleObject,
    };
    let access = PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION;
    // SAFETY: plain Win32 calls on a handle we own and close.
    unsafe {
        let Ok(handle) = OpenProcess(access, false, pid) else {
            return true; // no such process any more
        };
        let ended = WaitForSingleObject(handle, limit.as_millis() as u32) == WAIT_OBJECT_0;
        let _ = CloseHandle(handle);
        ended
    }
}

fn tiny_config(server: &str, dir: &Path, store: &str) -> String {
    format!(
        "[secrets]\nstore = \"{store}\"\nfile = '{}'\n\n[servers.{server}]\ncommand = '{}'\nenv = {{ TINY_KEY = \"{{secret}}\" }}\n",
        secret_file(dir).display(),
        tiny_server().display()
    )
}

fn secret_file(dir: &Path) -> PathBuf {
    dir.join("secrets.enc")
}

/// A key larger than a credential holds (2,560 bytes), with characters outside ASCII.
fn large_key() -> String {
    let mut key = String::from("sk-ünïcødé-");
    while key.len() < 7000 {
        key.push_str(&format!("{:x}", key.len() * 2_654_435_761 % 4_294_967_291));
    }
    key
}

#[test]
fn a_key_stored_by_one_process_is_read_by_another_however_large() {
    let world = World::new(|s, d| tiny_config(s, d, "keyring"));
    let key = large_key();
    let said = world.success(&["add-key", &world.server, "--stdin"], &key);
    assert!(said.contains("Credential Manager"), "{said}");

    // This test process is the second one: it reads through the same store.
    let store = KeyringStore::open().unwrap();
    let read = store.get(&world.server, Kind::ApiKey).unwrap().unwrap();
    assert_eq!(read.expose(), key.trim());

    let list: Value = serde_json::from_str(&world.success(&["list", "--json"], "")).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == json!(world.server))
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(entry["key"], "set", "{list}");

    world.success(&["remove-key", &world.server], "");
    assert!(store.get(&world.server, Kind::ApiKey).unwrap().is_none());
}

#[test]
fn add_key_then_serve_gives_the_child_its_key() {
    let world = World::new(|s, d| tiny_config(s, d, "keyring"));
    let key = large_key();
    world.success(&["add-key", &world.server, "--stdin"], &key);
    let mut gateway = world.serve();
    let seen = gateway.call(
        &format!("{}__env", world.server),
        json!({"name": "TINY_KEY"}),
    );
    assert_eq!(seen, key.trim());
    world.success(&["remove-key", &world.server], "");
}

/// `serve` in front of the tiny server, which has started a grandchild; their process ids.
fn a_server_with_a_grandchild() -> (World, Gateway, u32, u32) {
    let world = World::new(|s, d| tiny_config(s, d, "file"));
    world.success(&["add-key", &world.server, "--stdin"], "k");
    let mut gateway = world.serve();
    let mut pid = |tool: &str| -> u32 {
        let text = gateway.call(&format!("{}__{tool}", world.server), json!({}));
        text.parse().unwrap()
    };
    let (child, grandchild) = (pid("pid"), pid("spawn"));
    (world, gateway, child, grandchild)
}

#[test]
fn the_process_tree_dies_with_a_killed_gateway() {
    let (_world, mut gateway, child, grandchild) = a_server_with_a_grandchild();
    assert!(!ends_within(child, Duration::ZERO), "the server is running");
    assert!(
        !ends_within(grandchild, Duration::ZERO),
        "the grandchild is running"
    );

    // TerminateProcess: no handler runs, only the Job Object's kill-on-close.
    gateway.child.kill().unwrap();
    gateway.child.wait().unwrap();
    assert!(
        ends_within(child, Duration::from_secs(10)),
        "the server outlived the gateway"
    );
    assert!(
        ends_within(grandchild, Duration::from_secs(10)),
        "the grandchild outlived the gateway"
    );
}

#[test]
fn the_process_tree_ends_when_the_client_closes_stdin() {
    let (_world, mut gateway, child, grandchild) = a_server_with_a_grandchild();
    drop(gateway.stdin.take());
    let start = Instant::now();
    while gateway.child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ends_within(child, Duration::from_secs(10)));
    assert!(ends_within(grandchild, Duration::from_secs(10)));
}

#[test]
fn a_cmd_launcher_is_found_on_path() {
    let world = World::new(|s, _| {
        format!("[servers.{s}]\ncommand = \"tiny-launcher\"\nargs = [\"--from-cmd\"]\n")
    });
    let bin = world.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Node.js installs a shell script beside each `.cmd` (`npx` and `npx.cmd`): it must not
    // be taken for the program.
    std::fs::write(
        bin.join("tiny-launcher"),
        "#!/bin/sh\nexec node tiny \"$@\"\n",
    )
    .unwrap();
    std::fs::write(
        bin.join("tiny-launcher.cmd"),
        format!("@echo off\r\n\"{}\" %*\r\n", tiny_server().display()),
    )
    .unwrap();
    let path = format!(
        "{};{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = world
        .command()
        .env("PATH", path)
        .args(["call", &format!("{}__pid", world.server)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.trim().parse::<u32>().is_ok(),
        "`call` should print the server's pid: {said}"
    );
}

#[test]
fn keys_stored_at_once_by_several_processes_are_all_kept_in_the_encrypted_file() {
    let world = World::new(|s, d| {
        (0..4)
            .map(|i| tiny_config(&format!("{s}n{i}"), d, "file"))
            .map(|c| c.split_once("\n\n").unwrap().1.to_owned())
            .fold(tiny_config(s, d, "file"), |all, server| {
                all + "\n" + &server
            })
    });
    let names: Vec<String> = (0..4).map(|i| format!("{}n{i}", world.server)).collect();
    let children: Vec<Child> = names
        .iter()
        .map(|name| {
            let mut child = world
                .command()
                .args(["add-key", name, "--stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            write!(child.stdin.take().unwrap(), "key-of-{name}").unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = mcpgw::secrets::FileStore::open(
        secret_file(world.dir.path()),
        "correct horse battery staple",
    )
    .unwrap();
    for name in &names {
        let key = store.get(name, Kind::ApiKey).unwrap();
        assert_eq!(
            key.map(|k| k.expose().to_owned()),
            Some(format!("key-of-{name}"))
        );
    }
}
