//! The harness every integration test uses: a config in a temporary folder, the real `mcpgw`
//! binary serving on its stdio, and a client speaking to it like an AI client would.
//!
//! The real peers (server-everything) come from `tests/npm`, installed by `scripts/test`; a
//! test that needs them fails with the command to run when they are missing, never skips.
#![allow(dead_code)]

pub mod face;
pub mod pki;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mcpgw::client::{Client, ClientError, Handler, no_handler};
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(20);

/// Part of every secret the tests use. Every gateway the harness runs logs at trace level and
/// checks, when dropped, that its log never held one; so does every command `run_cli_env`
/// runs, for its stderr (logs and errors). Across the whole suite, no secret reaches a log.
pub const CANARY: &str = "c4n4ry";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn mcpgw_bin() -> &'static str {
    env!("CARGO_BIN_EXE_mcpgw")
}

/// server-everything's entry point, or a panic that says how to install it.
pub fn everything_js() -> String {
    let path =
        root().join("tests/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        path.exists(),
        "server-everything is not installed at {}: run `scripts/test` once (it runs `npm ci` in tests/npm)",
        path.display()
    );
    path.display().to_string()
}

/// The Node.js the tests run servers with: the one pinned in tests/npm (the `node` package),
/// not whatever the machine has.
pub fn node() -> String {
    let path = root().join("tests/npm/node_modules/.bin/node");
    assert!(
        path.exists(),
        "the pinned Node.js is not installed at {}: run `scripts/test` once",
        path.display()
    );
    path.display().to_string()
}

/// The Python of the venv `scripts/test` makes (tests/python/.venv, with the pinned `mcp`).
pub fn python() -> String {
    let path = root().join("tests/python/.venv/bin/python");
    assert!(
        path.exists(),
        "the pinned Python packages are not installed at {}: run `scripts/test` once",
        path.display()
    );
    path.display().to_string()
}

/// The Python of the venv with the `mcp` SDK's 2.x line (tests/python-sdk2/.venv): a real
/// client and server of both protocol eras.
pub fn python_sdk2() -> String {
    let path = root().join("tests/python-sdk2/.venv/bin/python");
    assert!(
        path.exists(),
        "the pinned Python packages are not installed at {}: run `scripts/test` once",
        path.display()
    );
    path.display().to_string()
}

/// What a finished process wrote, stdout then stderr.
pub fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn fixture_js() -> String {
    root()
        .join("tests/fixtures/fault-server.mjs")
        .display()
        .to_string()
}

pub fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A server table for the config.
#[derive(Clone)]
pub struct Server {
    name: String,
    lines: Vec<String>,
    marker: Option<String>,
}

static NEXT_MARKER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Server {
    pub fn command(name: &str, command: &str, args: &[&str]) -> Server {
        let args: Vec<String> = args.iter().map(|a| toml_str(a)).collect();
        Server {
            name: name.into(),
            lines: vec![
                format!("command = {}", toml_str(command)),
                format!("args = [{}]", args.join(", ")),
            ],
            marker: None,
        }
    }

    /// server-everything over stdio, with a unique marker in its argv so that a test can
    /// find its process ([`Gateway::pids`]).
    pub fn everything(name: &str) -> Server {
        let n = NEXT_MARKER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let marker = format!("--mcpgw-test-marker={name}-{}-{n}", std::process::id());
        let mut server = Server::command(name, &node(), &[&everything_js(), "stdio", &marker]);
        server.marker = Some(marker);
        server
    }

    pub fn fixture(name: &str, flags: &[&str]) -> Server {
        let mut args = vec![fixture_js(), "--name".into(), name.into()];
        args.extend(flags.iter().map(|f| f.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::command(name, &node(), &args)
    }

    /// The marker in its argv, for [`pids_matching`].
    pub fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    pub fn with(mut self, line: &str) -> Server {
        self.lines.push(line.into());
        self
    }
}

pub struct Setup {
    gateway: Vec<String>,
    servers: Vec<Server>,
    capabilities: Value,
    handler: Handler,
    version: Option<String>,
    initialize: bool,
    env: Vec<(String, String)>,
    cache_dir: Option<PathBuf>,
    proxy: Option<Vec<String>>,
}

impl Setup {
    pub fn new() -> Setup {
        Setup {
            gateway: vec![],
            servers: vec![],
            capabilities: json!({}),
            handler: no_handler(),
            version: None,
            initialize: true,
            env: vec![],
            cache_dir: None,
            proxy: None,
        }
    }

    pub fn server(mut self, server: Server) -> Setup {
        self.servers.push(server);
        self
    }

    /// A line for the `[gateway]` table.
    pub fn gateway(mut self, line: &str) -> Setup {
        self.gateway.push(line.into());
        self
    }

    pub fn capabilities(mut self, caps: Value) -> Setup {
        self.capabilities = caps;
        self
    }

    pub fn handler(mut self, handler: Handler) -> Setup {
        self.handler = handler;
        self
    }

    pub fn protocol(mut self, version: &str) -> Setup {
        self.version = Some(version.into());
        self
    }

    /// Leaves the `initialize` handshake to the test.
    pub fn raw(mut self) -> Setup {
        self.initialize = false;
        self
    }

    /// Runs `mcpgw proxy ARGS…` instead of `mcpgw serve` (the servers are then unused).
    pub fn proxy(mut self, args: &[&str]) -> Setup {
        self.proxy = Some(args.iter().map(|a| a.to_string()).collect());
        self
    }

    /// Shares a catalog cache folder (`XDG_CACHE_HOME`) between gateways; each gets its own
    /// otherwise.
    pub fn cache_dir(mut self, dir: &Path) -> Setup {
        self.cache_dir = Some(dir.to_owned());
        self
    }

    pub fn envs(mut self, env: Vec<(String, String)>) -> Setup {
        self.env.extend(env);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Setup {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn config_text(&self) -> String {
        let mut text = String::from("[gateway]\n");
        for line in &self.gateway {
            text.push_str(line);
            text.push('\n');
        }
        for server in &self.servers {
            text.push_str(&format!("\n[servers.{}]\n", server.name));
            for line in &server.lines {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }

    pub async fn start(self) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, self.config_text()).unwrap();
        let log = dir.path().join("mcpgw.log");
        let mut command = tokio::process::Command::new(mcpgw_bin());
        match &self.proxy {
            Some(args) => command.arg("proxy").args(args),
            None => command.args(["serve", "--config"]).arg(&config),
        };
        command
            .env("MCPGW_LOG", "trace")
            .env(
                "XDG_CACHE_HOME",
                self.cache_dir.as_deref().unwrap_or(dir.path()),
            )
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let (client, child) = Client::spawn(&mut command, self.handler).unwrap();
        let markers = self
            .servers
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.marker.clone()?)))
            .collect();
        let gateway = Gateway {
            client,
            child,
            dir,
            log,
            markers,
        };
        if self.initialize {
            let version = self
                .version
                .as_deref()
                .unwrap_or(mcpgw::protocol::LATEST_PROTOCOL_VERSION);
            gateway
                .client
                .initialize_as(version, self.capabilities)
                .await
                .expect("initialize");
        }
        gateway
    }
}

pub struct Gateway {
    pub client: Client,
    pub child: tokio::process::Child,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    markers: std::collections::HashMap<String, String>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(
                !self.log_text().contains(CANARY),
                "a secret reached the log:\n{}",
                self.log_text()
            );
        }
    }
}

impl Gateway {
    /// The pids of the `everything` server called `name`.
    pub fn pids(&self, name: &str) -> Vec<u32> {
        pids_matching(&self.markers[name])
    }

    /// Opens a `subscriptions/listen` with `params` (2026-07-28); its id and the
    /// acknowledgement's params. The listen stays open until cancelled.
    pub async fn listen(&self, params: Value) -> (mcpgw::protocol::RequestId, Value) {
        let id = self.client.next_id();
        self.client.send_line(
            serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": "subscriptions/listen", "params": params })
                .to_string(),
        );
        let ack = self
            .client
            .wait_for("notifications/subscriptions/acknowledged", WAIT)
            .await
            .expect("acknowledged");
        (id, serde_json::from_str(ack.params.unwrap().get()).unwrap())
    }

    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.client.request(method, params).await
    }

    #[track_caller]
    pub fn ok(&self, r: Result<Value, ClientError>) -> Value {
        match r {
            Ok(v) => v,
            Err(e) => panic!(
                "request failed: {e}\n--- mcpgw log ---\n{}",
                self.log_text()
            ),
        }
    }

    pub async fn tools(&self) -> Vec<Value> {
        self.client
            .list_all("tools/list", "tools")
            .await
            .expect("tools/list")
    }

    pub async fn tool_names(&self) -> Vec<String> {
        self.tools()
            .await
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> Value {
        let r = self
            .request(
                "tools/call",
                json!({ "name": tool, "arguments": arguments }),
            )
            .await;
        self.ok(r)
    }

    /// Waits until the log contains `needle`; panics with the log after [`WAIT`].
    pub async fn wait_log(&self, needle: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.log_text().contains(needle) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the log never said {needle:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// mcpgw's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("mcpgw is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM in /proc");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Closes stdin and waits for a clean exit.
    pub async fn shutdown(mut self) -> std::process::ExitStatus {
        self.client.close();
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("mcpgw exits after stdin closes")
            .unwrap()
    }
}

/// The text of a tool result's first content item.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// The key of the first of an `input_required` result's `inputRequests`.
pub fn first_input_key(asked: &Value) -> String {
    asked["inputRequests"]
        .as_object()
        .and_then(|r| r.keys().next())
        .unwrap_or_else(|| panic!("no input requests in {asked}"))
        .clone()
}

/// The text of all of a tool result's content items.
pub fn all_text(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap_or_else(|| panic!("no content in {result}"))
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect()
}

/// Pids of processes whose command line contains `needle`.
pub fn pids_matching(needle: &str) -> Vec<u32> {
    let mut pids = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(needle) && pid != std::process::id() {
            pids.push(pid);
        }
    }
    pids
}

/// One run of the mcpgw binary to completion, as a person types it: its arguments, config,
/// standard input and environment. The catalog cache goes beside the config (or the temporary
/// folder), away from the user's own; `MCPGW_CONFIG` and `MCPGW_LOG` of the caller are never
/// inherited.
pub struct Cli {
    args: Vec<String>,
    config: Option<PathBuf>,
    stdin: Option<String>,
    env: Vec<(String, String)>,
    log: Option<&'static str>,
}

impl Cli {
    pub fn new(args: &[&str]) -> Cli {
        Cli {
            args: args.iter().map(|a| a.to_string()).collect(),
            config: None,
            stdin: None,
            env: vec![],
            log: None,
        }
    }

    pub fn config(mut self, path: &Path) -> Cli {
        self.config = Some(path.to_owned());
        self
    }

    pub fn stdin(mut self, text: &str) -> Cli {
        self.stdin = Some(text.to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cli {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn envs(mut self, env: &[(String, String)]) -> Cli {
        self.env.extend_from_slice(env);
        self
    }

    /// Logs everything (`MCPGW_LOG=trace`), for tests that read what mcpgw printed.
    pub fn trace(mut self) -> Cli {
        self.log = Some("trace");
        self
    }

    pub fn run(self) -> std::process::Output {
        use std::io::Write;
        let mut command = std::process::Command::new(mcpgw_bin());
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        let cache = self
            .config
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(std::env::temp_dir, Path::to_owned);
        command
            .args(&self.args)
            .env("XDG_CACHE_HOME", cache)
            .env_remove("MCPGW_CONFIG")
            .env_remove("MCPGW_LOG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(level) = self.log {
            command.env("MCPGW_LOG", level);
        }
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = &self.stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }
}

/// A port nobody listens on right now (taken from the kernel, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An MCP server over HTTP on a loopback port, stopped when dropped.
pub struct HttpServer {
    pub port: u16,
    child: std::process::Child,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl HttpServer {
    /// server-everything in `streamableHttp` or `sse` mode.
    pub fn everything(mode: &str) -> HttpServer {
        Self::start(vec![everything_js(), mode.to_owned()], free_port(), vec![])
    }

    /// The HTTP fault fixture.
    pub fn faulty() -> HttpServer {
        Self::faulty_with(&[])
    }

    /// The HTTP fault fixture with extra environment (`TLS_CERT`, `TLS_KEY`, `TLS_CLIENT_CA`).
    pub fn faulty_with(env: &[(&str, &str)]) -> HttpServer {
        Self::start_script("tests/fixtures/http-fault-server.mjs", env)
    }

    fn start(args: Vec<String>, port: u16, env: Vec<(String, String)>) -> HttpServer {
        let child = Self::spawn(&args, port, &env);
        HttpServer {
            port,
            child,
            args,
            env,
        }
    }

    /// The Python `mcp` SDK's MCP server behind its OAuth authorization server
    /// (`tests/fixtures/oauth_server.py`), in the venv `scripts/test` makes.
    pub fn python_oauth(env: &[(&str, &str)]) -> HttpServer {
        let script = root()
            .join("tests/fixtures/oauth_server.py")
            .display()
            .to_string();
        Self::start(vec![python(), script], free_port(), owned(env))
    }

    /// The Python SDK 2.x server of tests/python-sdk2 over Streamable HTTP at `/mcp`
    /// (`--modern-only`: it refuses `initialize`).
    pub fn python_sdk2(flags: &[&str]) -> HttpServer {
        Self::python_sdk2_with(flags, &[])
    }

    /// [`HttpServer::python_sdk2`] with extra environment.
    pub fn python_sdk2_with(flags: &[&str], env: &[(&str, &str)]) -> HttpServer {
        let script = root()
            .join("tests/python-sdk2/server.py")
            .display()
            .to_string();
        let mut args = vec![python_sdk2(), script, "--http".to_owned()];
        args.extend(flags.iter().map(|f| f.to_string()));
        Self::start(args, free_port(), owned(env))
    }

    /// A Node script of the repo's as an HTTP server, with extra environment.
    pub fn start_script(script: &str, env: &[(&str, &str)]) -> HttpServer {
        let script = root().join(script).display().to_string();
        Self::start(vec![script], free_port(), owned(env))
    }

    /// The fixture's counters (`/stats`): grants, refused refresh tokens, revocations.
    pub fn stats(&self) -> serde_json::Value {
        let out = std::process::Command::new(node())
            .args([
                "-e",
                &format!(
                    "fetch('{}').then(r => r.text()).then(t => process.stdout.write(t))",
                    self.url("/stats")
                ),
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).expect("the fixture answers /stats")
    }

    fn spawn(args: &[String], port: u16, env: &[(String, String)]) -> std::process::Child {
        // A program of its own (python), or a script for the pinned node.
        let (program, args) = match args.first() {
            Some(first) if !first.ends_with(".js") && !first.ends_with(".mjs") => {
                (first.clone(), &args[1..])
            }
            _ => (node(), args),
        };
        let child = std::process::Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs");
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the HTTP server on {port} never listened"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// Kills the server and starts a new one on the same port (which knows no sessions).
    pub fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(&self.args, self.port, &self.env);
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Server {
    pub fn url(name: &str, url: &str) -> Server {
        Server {
            name: name.into(),
            lines: vec![format!("url = {}", toml_str(url))],
            marker: None,
        }
    }
}

/// A private Secret Service for one test: its own session bus and an unlocked gnome-keyring,
/// in a temporary home, stopped when dropped. Processes that get [`Keyring::env`] use it.
pub struct Keyring {
    bus: std::process::Child,
    daemon: std::process::Child,
    address: String,
    dir: tempfile::TempDir,
}

impl Keyring {
    pub fn start() -> Keyring {
        use std::io::{BufRead, Write};
        for tool in ["dbus-daemon", "dbus-send", "gnome-keyring-daemon"] {
            assert!(
                std::process::Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .output()
                    .unwrap()
                    .status
                    .success(),
                "{tool} is missing: `scripts/test` installs gnome-keyring and dbus"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut bus = std::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        let mut keyring = Keyring {
            bus,
            daemon: std::process::Command::new("true").spawn().unwrap(),
            address,
            dir,
        };
        let mut daemon = std::process::Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(keyring.env())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The unlock password: any, but not empty (or no collection is made).
        daemon
            .stdin
            .take()
            .unwrap()
            .write_all(b"mcpgw-test")
            .unwrap();
        keyring.daemon = daemon;
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let owned = std::process::Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .envs(keyring.env())
                .output()
                .unwrap();
            if String::from_utf8_lossy(&owned.stdout).contains("boolean true") {
                return keyring;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gnome-keyring never appeared on the bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What a process needs to use this keyring.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            (
                "XDG_RUNTIME_DIR".into(),
                self.dir.path().join("run").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".into(),
                self.dir.path().join("data").display().to_string(),
            ),
            ("HOME".into(), self.dir.path().display().to_string()),
        ]
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
