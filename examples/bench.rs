//! Measures what mcpgw costs: `echo` through the gateway versus straight to the same
//! server-everything, sequentially and at concurrency 16; mcpgw's peak memory; and the time
//! until a client has the tool list with 1 and with 5 upstreams.
//!
//! A third path is the floor any stdio gateway stands on: this same program run as a relay that
//! copies bytes both ways and does nothing else. What mcpgw adds above that is its own cost;
//! what the relay adds above direct is the price of one more process hop on the machine.
//!
//! ```sh
//! scripts/test              # once: installs the pinned server-everything into tests/npm
//! cargo build --release && cargo run --release --example bench [-- CALLS]
//! ```
//!
//! Before and after a change, in one run: build the old version's release binary elsewhere
//! (a `git worktree` of the old commit) and name it in `MCPGW_BENCH_BASELINE`; its gateway
//! then joins the alternating rounds as a fourth path, and a table compares the two.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use mcpgw::client::{Client, no_handler};
use serde_json::json;

const CONCURRENCY: usize = 16;

fn everything() -> anyhow::Result<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run scripts/test once to install it",
        path.display()
    );
    Ok(path.display().to_string())
}

/// The Node.js pinned in tests/npm, which runs every server here.
fn node() -> anyhow::Result<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/npm/node_modules/.bin/node");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run scripts/test once to install it",
        path.display()
    );
    Ok(path.display().to_string())
}

fn mcpgw_binary() -> anyhow::Result<PathBuf> {
    // target/release/examples/bench → target/release/mcpgw
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("mcpgw"))
        .unwrap_or_default();
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: run `cargo build --release` first",
        binary.display()
    );
    Ok(binary)
}

/// A connected, initialized client and the process behind it.
async fn connect(
    mut command: tokio::process::Command,
) -> anyhow::Result<(Arc<Client>, tokio::process::Child)> {
    command.stderr(std::process::Stdio::null());
    let (client, child) = Client::spawn(&mut command, no_handler())?;
    client.initialize(json!({})).await?;
    Ok((Arc::new(client), child))
}

/// `mcpgw serve` with its catalog cache in `cache` (never the user's own).
fn gateway_command(
    binary: &Path,
    config: &std::path::Path,
    cache: &std::path::Path,
) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(binary);
    c.arg("-q")
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env("XDG_CACHE_HOME", cache);
    c
}

fn write_config(
    dir: &std::path::Path,
    upstreams: usize,
    everything: &str,
) -> anyhow::Result<PathBuf> {
    let mut text = String::new();
    let node = node()?;
    for i in 0..upstreams {
        text.push_str(&format!(
            "[servers.s{i}]\ncommand = {node:?}\nargs = [{everything:?}, \"stdio\"]\n"
        ));
    }
    let path = dir.join(format!("bench-{upstreams}.toml"));
    std::fs::write(&path, text)?;
    Ok(path)
}

async fn echo(client: &Client, tool: &str) -> anyhow::Result<()> {
    let r = client
        .request(
            "tools/call",
            json!({ "name": tool, "arguments": { "message": "benchmark" } }),
        )
        .await?;
    anyhow::ensure!(
        r["content"][0]["text"] == "Echo: benchmark",
        "unexpected answer {r}"
    );
    Ok(())
}

/// One `echo` call by some path; cheap to clone into each concurrent worker.
type Caller = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// `echo` through an MCP client over stdio (straight to the server, or through a relay).
fn stdio_caller(client: Arc<Client>, tool: &'static str) -> Caller {
    Arc::new(move || {
        let client = client.clone();
        Box::pin(async move { echo(&client, tool).await })
    })
}

/// The fields every request of MCP 2026-07-28 carries.
fn stateless_meta() -> serde_json::Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "bench", "version": "1" },
    })
}

/// `echo` by a client of 2026-07-28 (no handshake; `_meta` on every request).
fn stateless_caller(client: Arc<Client>, tool: &'static str) -> Caller {
    Arc::new(move || {
        let client = client.clone();
        Box::pin(async move {
            let r = client
                .request(
                    "tools/call",
                    json!({ "name": tool, "arguments": { "message": "benchmark" }, "_meta": stateless_meta() }),
                )
                .await?;
            anyhow::ensure!(
                r["content"][0]["text"] == "Echo: benchmark" && r["resultType"] == "complete",
                "unexpected answer {r}"
            );
            Ok(())
        })
    })
}

/// `examples/tiny_server`, built beside this benchmark.
fn tiny_server() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let tiny = exe
        .with_file_name("tiny_server")
        .with_extension(std::env::consts::EXE_EXTENSION);
    anyhow::ensure!(
        tiny.exists(),
        "{} is missing: run `cargo build --release --examples` first",
        tiny.display()
    );
    Ok(tiny)
}

/// Both protocol eras on one server (`examples/tiny_server`, which speaks either): each era's
/// client straight to it, and through `mcpgw serve`.
async fn eras(binary: &Path, dir: &Path, calls: usize) -> anyhow::Result<Vec<Figures>> {
    let tiny = tiny_server()?;
    let config = |name: &str, modern: bool| -> anyhow::Result<PathBuf> {
        let path = dir.join(format!("{name}.toml"));
        let args = if modern { "[\"--modern\"]" } else { "[]" };
        std::fs::write(
            &path,
            format!(
                "[servers.t]\ncommand = {:?}\nargs = {args}\n",
                tiny.display().to_string()
            ),
        )?;
        Ok(path)
    };
    let spawn = |command: &mut tokio::process::Command| {
        command.stderr(std::process::Stdio::null());
        Client::spawn(command, no_handler())
    };
    // The handshake era: initialized clients.
    let (old_direct, mut c1) = connect(tokio::process::Command::new(&tiny)).await?;
    let (old_through, mut c2) =
        connect(gateway_command(binary, &config("eras-old", false)?, dir)).await?;
    old_through.list_all("tools/list", "tools").await?;
    // The stateless era: no handshake at all.
    let mut modern = tokio::process::Command::new(&tiny);
    modern.arg("--modern");
    let (new_direct, mut c3) = spawn(&mut modern)?;
    let (new_through, mut c4) = spawn(&mut gateway_command(
        binary,
        &config("eras-new", true)?,
        dir,
    ))?;
    new_through
        .request("tools/list", json!({ "_meta": stateless_meta() }))
        .await?;
    let (new_direct, new_through) = (Arc::new(new_direct), Arc::new(new_through));
    let paths = [
        stdio_caller(old_direct.clone(), "echo"),
        stdio_caller(old_through.clone(), "t__echo"),
        stateless_caller(new_direct.clone(), "echo"),
        stateless_caller(new_through.clone(), "t__echo"),
    ];
    let figures = compare(&paths, calls).await?;
    drop((paths, old_direct, old_through, new_direct, new_through));
    for child in [&mut c1, &mut c3] {
        child.kill().await?;
    }
    for child in [&mut c2, &mut c4] {
        child.wait().await?;
    }
    Ok(figures)
}

struct Figures {
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

/// One round: `calls` sequential calls (latencies), then `calls` at concurrency 16.
async fn round(call: &Caller, calls: usize) -> anyhow::Result<Figures> {
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        call().await?;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let start = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                for _ in 0..calls / CONCURRENCY {
                    call().await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    let per_second = (calls / CONCURRENCY * CONCURRENCY) as f64 / start.elapsed().as_secs_f64();
    Ok(Figures {
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        per_second,
    })
}

/// The median of each figure over rounds that alternate between the paths, so that drift in
/// the machine's speed affects them all alike. Each round starts with another path: in a fixed
/// order the last path measured at concurrency 16 came out about 9 % faster than the same
/// binary measured just before it (an A/A run).
async fn compare(paths: &[Caller], calls: usize) -> anyhow::Result<Vec<Figures>> {
    const ROUNDS: usize = 7;
    for _ in 0..calls / 4 {
        for call in paths {
            call().await?;
        }
    }
    let mut rounds: Vec<Vec<Figures>> = paths.iter().map(|_| vec![]).collect();
    for r in 0..ROUNDS {
        for i in (0..paths.len()).map(|i| (i + r) % paths.len()) {
            rounds[i].push(round(&paths[i], calls / ROUNDS).await?);
        }
    }
    Ok(rounds.into_iter().map(median).collect())
}

fn median(mut rounds: Vec<Figures>) -> Figures {
    let mid = rounds.len() / 2;
    let mut pick = |key: fn(&Figures) -> f64| {
        rounds.sort_by(|a, b| key(a).total_cmp(&key(b)));
        key(&rounds[mid])
    };
    let p50 = Duration::from_secs_f64(pick(|f| f.p50.as_secs_f64()));
    let p99 = Duration::from_secs_f64(pick(|f| f.p99.as_secs_f64()));
    let per_second = pick(|f| f.per_second);
    Figures {
        p50,
        p99,
        per_second,
    }
}

/// server-everything over Streamable HTTP on a free loopback port; its URL.
async fn http_server(everything: &str) -> anyhow::Result<(tokio::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = tokio::process::Command::new(node()?)
        .arg(everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((child, format!("http://127.0.0.1:{port}/mcp")))
}

/// A Streamable HTTP POST of `body`, in the session when there is one.
fn mcp_post(
    http: &reqwest::Client,
    url: &str,
    body: serde_json::Value,
    session: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());

    match session {
        Some(session) => request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25"),
        None => request,
    }
}

/// A handshake-era session at `url` for a client called `name`: initialized, its id.
async fn open_session(
    http: &reqwest::Client,
    url: &str,
    name: &str,
) -> anyhow::Result<Option<String>> {
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": name, "version": "1" } } });
    let response = mcp_post(http, url, init, None).send().await?;
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    response.text().await?;
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    mcp_post(http, url, initialized, session.as_deref())
        .send()
        .await?
        .text()
        .await?;
    Ok(session)
}

/// `echo` by a bare keep-alive HTTP client speaking Streamable HTTP to the server itself:
/// the least any path to a remote server can cost.
async fn raw_http_caller(url: &str) -> anyhow::Result<Caller> {
    http_caller(url, "echo", None).await
}

/// `tool` (an echo) by a keep-alive HTTP client in a session of its own at `url`, presenting
/// `key` when given.
async fn http_caller(url: &str, tool: &'static str, key: Option<&str>) -> anyhow::Result<Caller> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = key {
        headers.insert("x-api-key", key.parse()?);
    }
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()?;
    let session = open_session(&http, url, "raw").await?;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let url = url.to_owned();
    Ok(Arc::new(move || {
        let (http, url, session) = (http.clone(), url.clone(), session.clone());
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async move {
            let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": { "message": "benchmark" } } });
            let text = mcp_post(&http, &url, body, session.as_deref())
                .send()
                .await?
                .text()
                .await?;
            anyhow::ensure!(text.contains("Echo: benchmark"), "unexpected answer {text}");
            Ok(())
        })
    }))
}

/// What the HTTP face costs: `echo` at server-everything over Streamable HTTP, straight and
/// through `mcpgw serve --listen` (without keys, and with a key checked on every request), and
/// the gateway's memory with 200 idle handshake-era sessions.
struct FaceFigures {
    direct: Figures,
    open: Figures,
    keyed: Figures,
    idle_kib: (u64, u64),
}

async fn face(binary: &Path, dir: &Path, url: &str, calls: usize) -> anyhow::Result<FaceFigures> {
    let config = dir.join("face.toml");
    std::fs::write(&config, format!("[servers.every]\nurl = {url:?}\n"))?;
    let keys = dir.join("face-keys.json");
    let start = |keys_file: &Path| -> anyhow::Result<(tokio::process::Child, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = tokio::process::Command::new(binary)
            .args([
                "-q",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(&config)
            .env("MCPGW_KEYS_FILE", keys_file)
            .env("XDG_CACHE_HOME", dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        Ok((child, format!("http://127.0.0.1:{port}/mcp")))
    };
    let healthy = |url: String| async move {
        let health = url.replace("/mcp", "/health");
        for _ in 0..400 {
            // Its server shakes hands when the first client says hello.
            if reqwest::get(&health).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the face at {url} never listened")
    };
    let (open_child, open_url) = start(&dir.join("no-keys.json"))?;
    let made = std::process::Command::new(binary)
        .args(["keys", "create", "bench"])
        .env("MCPGW_KEYS_FILE", &keys)
        .env("MCPGW_CONFIG", &config)
        .output()?;
    anyhow::ensure!(made.status.success(), "keys create failed");
    let key = String::from_utf8(made.stdout)?.trim().to_owned();
    let (_keyed_child, keyed_url) = start(&keys)?;
    healthy(open_url.clone()).await?;
    healthy(keyed_url.clone()).await?;
    let paths = [
        http_caller(url, "echo", None).await?,
        http_caller(&open_url, "every__echo", None).await?,
        http_caller(&keyed_url, "every__echo", Some(&key)).await?,
    ];
    let mut figures = compare(&paths, calls).await?.into_iter();
    let (direct, open, keyed) = (
        figures.next().unwrap(),
        figures.next().unwrap(),
        figures.next().unwrap(),
    );
    // 200 clients initialize and then say nothing.
    let pid = open_child.id().unwrap_or(0);
    let before = rss_kib(pid).unwrap_or(0);
    let http = reqwest::Client::new();
    let mut idle = vec![];
    for n in 0..200 {
        idle.push(open_session(&http, &open_url, &format!("idle-{n}")).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid).unwrap_or(0);
    Ok(FaceFigures {
        direct,
        open,
        keyed,
        idle_kib: (before, after),
    })
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// A memory figure of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What five servers cost when one of them is used.
struct Usage {
    first_list: Duration,
    children: usize,
    children_kib: u64,
}

/// `servers` servers with `start = MODE` and their catalogs cached: the time to the first tool
/// list (the median of 15 starts), then the server processes running after one call, and
/// their memory.
async fn used_one_of(
    servers: usize,
    binary: &Path,
    dir: &Path,
    everything: &str,
    mode: &str,
) -> anyhow::Result<Usage> {
    const STARTS: usize = 15;
    let config = dir.join(format!("bench-{servers}-{mode}.toml"));
    let text = std::fs::read_to_string(write_config(dir, servers, everything)?)?;
    std::fs::write(&config, format!("[gateway]\nstart = {mode:?}\n{text}"))?;
    let cache = tempfile::tempdir()?;
    // The first start learns the catalogs.
    let (client, mut child) = connect(gateway_command(binary, &config, cache.path())).await?;
    client.list_all("tools/list", "tools").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(client);
    child.wait().await?;

    let mut firsts = vec![];
    for start_number in 0..STARTS {
        let start = Instant::now();
        let (client, mut child) = connect(gateway_command(binary, &config, cache.path())).await?;
        let tools = client.list_all("tools/list", "tools").await?;
        firsts.push(start.elapsed());
        anyhow::ensure!(
            tools.len() == 13 * servers,
            "expected {} tools, got {}",
            13 * servers,
            tools.len()
        );
        if start_number + 1 < STARTS {
            drop(client);
            child.wait().await?;
            continue;
        }
        echo(&client, &format!("s{}__echo", servers / 2)).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let gateway = child.id().unwrap_or_default();
        let children = descendants(gateway);
        let children_kib = children.iter().filter_map(|p| rss_kib(*p)).sum();
        drop(client);
        child.wait().await?;
        firsts.sort();
        return Ok(Usage {
            first_list: firsts[STARTS / 2],
            children: children.len(),
            children_kib,
        });
    }
    unreachable!("the last start returns")
}

/// Every process under `root`, from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // The command name is in parentheses and may hold spaces: the parent id is the
            // second field after it.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Median time from start to having all `13 * upstreams` tools listed: `warm` with the
/// catalogs of an earlier run cached, else with an empty cache every time.
async fn ready_time(
    binary: &Path,
    config: &std::path::Path,
    upstreams: usize,
    warm: bool,
) -> anyhow::Result<Duration> {
    let shared = tempfile::tempdir()?;
    if warm {
        let (client, mut child) = connect(gateway_command(binary, config, shared.path())).await?;
        client.list_all("tools/list", "tools").await?;
        // The cache is written once every server's lists are in; give it a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(client);
        child.wait().await?;
    }
    let mut times = vec![];
    for _ in 0..5 {
        let fresh = tempfile::tempdir()?;
        let cache = if warm { shared.path() } else { fresh.path() };
        let start = Instant::now();
        let (client, mut child) = connect(gateway_command(binary, config, cache)).await?;
        let tools = client.list_all("tools/list", "tools").await?;
        times.push(start.elapsed());
        anyhow::ensure!(
            tools.len() == 13 * upstreams,
            "expected {} tools, got {}",
            13 * upstreams,
            tools.len()
        );
        drop(client);
        child.wait().await?;
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Median time for `upstreams` servers started directly, in parallel, to all list their tools.
async fn direct_ready_time(everything: &str, upstreams: usize) -> anyhow::Result<Duration> {
    let mut times = vec![];
    for _ in 0..5 {
        let start = Instant::now();
        let starts = (0..upstreams).map(|_| async {
            let mut c = tokio::process::Command::new(node()?);
            c.arg(everything).arg("stdio");
            let (client, mut child) = connect(c).await?;
            client.list_all("tools/list", "tools").await?;
            child.kill().await?;
            anyhow::Ok(())
        });
        for r in futures_util::future::join_all(starts).await {
            r?;
        }
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// `bench --relay CMD ARGS…`: copies stdin to the child and the child's stdout back, unparsed.
fn relay(command: &[String]) -> anyhow::Result<()> {
    let mut child = std::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut to_child = child.stdin.take().expect("piped");
    let mut from_child = child.stdout.take().expect("piped");
    std::thread::spawn(move || std::io::copy(&mut from_child, &mut std::io::stdout()));
    std::io::copy(&mut std::io::stdin(), &mut to_child)?;
    drop(to_child);
    child.wait()?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--relay") {
        return relay(&args[2..]);
    }
    tokio::runtime::Runtime::new()?.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(8000);
    let everything = everything()?;
    let binary = mcpgw_binary()?;
    let dir = tempfile::tempdir()?;
    // `MCPGW_BENCH_ONLY=lazy`: the lazy start alone, 1 and 5 servers in turn.
    if std::env::var("MCPGW_BENCH_ONLY").is_ok_and(|v| v == "lazy") {
        let mut ratios = vec![];
        for _ in 0..3 {
            let one = used_one_of(1, &binary, dir.path(), &everything, "lazy").await?;
            let five = used_one_of(5, &binary, dir.path(), &everything, "lazy").await?;
            let r = five.first_list.as_secs_f64() / one.first_list.as_secs_f64();
            println!(
                "lazy start to tool list: 1 server {}, 5 servers {} ({r:.2}×)",
                ms(one.first_list),
                ms(five.first_list),
            );
            ratios.push(r);
        }
        ratios.sort_by(f64::total_cmp);
        println!("median 5 / 1: {:.2}×", ratios[1]);
        return Ok(());
    }

    let mut direct = tokio::process::Command::new(node()?);
    direct.arg(&everything).arg("stdio");
    let (direct_client, mut direct_child) = connect(direct).await?;
    let one = write_config(dir.path(), 1, &everything)?;
    let (client, mut child) = connect(gateway_command(&binary, &one, dir.path())).await?;
    client.list_all("tools/list", "tools").await?;
    let mut relayed = tokio::process::Command::new(std::env::current_exe()?);
    relayed
        .arg("--relay")
        .arg(node()?)
        .arg(&everything)
        .arg("stdio");
    let (relay_client, mut relay_child) = connect(relayed).await?;
    let mut paths = vec![
        stdio_caller(direct_client.clone(), "echo"),
        stdio_caller(relay_client.clone(), "echo"),
        stdio_caller(client.clone(), "s0__echo"),
    ];
    let baseline = match std::env::var_os("MCPGW_BENCH_BASELINE") {
        Some(old) => {
            let (old_client, old_child) =
                connect(gateway_command(Path::new(&old), &one, dir.path())).await?;
            old_client.list_all("tools/list", "tools").await?;
            paths.push(stdio_caller(old_client.clone(), "s0__echo"));
            Some((old_client, old_child))
        }
        None => None,
    };
    let mut figures = compare(&paths, calls).await?.into_iter();
    let (direct, relay, through) = (
        figures.next().unwrap(),
        figures.next().unwrap(),
        figures.next().unwrap(),
    );
    let before = figures.next();
    drop(paths);
    if let Some((old_client, mut old_child)) = baseline {
        drop(old_client);
        old_child.wait().await?;
    }
    let rss = child.id().and_then(peak_rss_kib);
    drop((client, direct_client, relay_client));
    child.wait().await?;
    direct_child.kill().await?;
    relay_child.kill().await?;
    // `MCPGW_BENCH_ONLY=face`: the HTTP face alone.
    if std::env::var("MCPGW_BENCH_ONLY").is_ok_and(|v| v == "face") {
        let (_server, url) = http_server(&everything).await?;
        let f = face(&binary, dir.path(), &url, (calls / 8).max(CONCURRENCY * 7)).await?;
        print_face(&f);
        return Ok(());
    }
    // `MCPGW_BENCH_ONLY=relay`: the relay figures alone (a quick before/after).
    if std::env::var("MCPGW_BENCH_ONLY").is_ok_and(|v| v == "relay") {
        for (name, f) in [
            ("direct", &direct),
            ("relay", &relay),
            ("through", &through),
        ]
        .into_iter()
        .chain(before.iter().map(|b| ("before", b)))
        {
            println!(
                "{name}: p50 {} p99 {} {:.0}/s",
                ms(f.p50),
                ms(f.p99),
                f.per_second
            );
        }
        return Ok(());
    }

    let era_figures = eras(&binary, dir.path(), calls / 2).await?;

    let five = write_config(dir.path(), 5, &everything)?;
    let ready_one = ready_time(&binary, &one, 1, false).await?;
    let ready_five = ready_time(&binary, &five, 5, false).await?;
    let warm_one = ready_time(&binary, &one, 1, true).await?;
    let warm_five = ready_time(&binary, &five, 5, true).await?;
    let direct_one = direct_ready_time(&everything, 1).await?;
    let direct_five = direct_ready_time(&everything, 5).await?;
    let eager = used_one_of(5, &binary, dir.path(), &everything, "eager").await?;
    let lazy = used_one_of(5, &binary, dir.path(), &everything, "lazy").await?;
    let lazy_one = used_one_of(1, &binary, dir.path(), &everything, "lazy").await?;

    // Remote: mcpgw proxy and mcp-remote, both stdio to HTTP, and a bare HTTP client.
    let http_calls = (calls / 8).max(CONCURRENCY * 7);
    let (_server, url) = http_server(&everything).await?;
    let raw = raw_http_caller(&url).await?;
    let mut remote = tokio::process::Command::new(node()?);
    let mcp_remote = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/npm/node_modules/mcp-remote/dist/proxy.js");
    anyhow::ensure!(
        mcp_remote.exists(),
        "{} is missing: run scripts/test once",
        mcp_remote.display()
    );
    // mcp-remote keeps files under $HOME; give it a folder of its own.
    remote
        .arg(&mcp_remote)
        .arg(&url)
        .arg("--allow-http")
        .env("HOME", dir.path());
    let (remote_client, mut remote_child) = connect(remote).await?;
    let mut proxy = tokio::process::Command::new(&binary);
    proxy.arg("-q").arg("proxy").arg(&url);
    let (proxy_client, mut proxy_child) = connect(proxy).await?;
    let face_figures = face(&binary, dir.path(), &url, http_calls).await?;
    let paths = [
        raw,
        stdio_caller(remote_client.clone(), "echo"),
        stdio_caller(proxy_client.clone(), "echo"),
    ];
    let mut figures = compare(&paths, http_calls).await?.into_iter();
    let (raw, remote, proxied) = (
        figures.next().unwrap(),
        figures.next().unwrap(),
        figures.next().unwrap(),
    );
    drop((paths, remote_client, proxy_client));
    proxy_child.wait().await?;
    remote_child.kill().await?;

    println!(
        "mcpgw benchmark: {calls} echo calls each way in 7 alternating rounds (medians), concurrency {CONCURRENCY}, {} cores",
        std::thread::available_parallelism()?
    );
    println!();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "| measure | direct | byte relay (floor) | through mcpgw | mcpgw / direct | mcpgw / relay | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    let p50 = |f: &Figures| f.p50;
    let p99 = |f: &Figures| f.p99;
    for (name, pick, target) in [
        (
            "p50 latency, sequential",
            &p50 as &dyn Fn(&Figures) -> Duration,
            "≤ 1.3×",
        ),
        ("p99 latency, sequential", &p99, ""),
    ] {
        let (d, r, t) = (pick(&direct), pick(&relay), pick(&through));
        println!(
            "| {name} | {} | {} | {} | {:.2}× | {:.2}× | {target} |",
            ms(d),
            ms(r),
            ms(t),
            ratio(t, d),
            ratio(t, r)
        );
    }
    println!(
        "| throughput, concurrency {CONCURRENCY} | {:.0}/s | {:.0}/s | {:.0}/s | {:.2}× | {:.2}× | ≥ 0.8× |",
        direct.per_second,
        relay.per_second,
        through.per_second,
        through.per_second / direct.per_second,
        through.per_second / relay.per_second
    );
    if let Some(before) = &before {
        println!();
        println!(
            "| through mcpgw | before (MCPGW_BENCH_BASELINE) | after (this build) | after / before |"
        );
        println!("|---|---|---|---|");
        for (name, b, a) in [
            ("p50 latency, sequential", before.p50, through.p50),
            ("p99 latency, sequential", before.p99, through.p99),
        ] {
            println!("| {name} | {} | {} | {:.2}× |", ms(b), ms(a), ratio(a, b));
        }
        println!(
            "| throughput, concurrency {CONCURRENCY} | {:.0}/s | {:.0}/s | {:.2}× |",
            before.per_second,
            through.per_second,
            through.per_second / before.per_second
        );
    }
    println!();
    println!(
        "Both protocol eras, `echo` on `examples/tiny_server` (which speaks either), {} calls each way:",
        calls / 2
    );
    println!();
    println!("| era | measure | direct | through mcpgw | mcpgw / direct |");
    println!("|---|---|---|---|---|");
    for (era, direct, through) in [
        ("handshake (2025-11-25)", &era_figures[0], &era_figures[1]),
        ("stateless (2026-07-28)", &era_figures[2], &era_figures[3]),
    ] {
        println!(
            "| {era} | p50 latency | {} | {} | {:.2}× |",
            ms(direct.p50),
            ms(through.p50),
            ratio(through.p50, direct.p50)
        );
        println!(
            "| {era} | throughput, concurrency {CONCURRENCY} | {:.0}/s | {:.0}/s | {:.2}× |",
            direct.per_second,
            through.per_second,
            through.per_second / direct.per_second
        );
    }
    println!();
    println!("| measure | direct | through mcpgw | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| start to tool list, 1 upstream, no cache | {} | {} | {:.2}× | |",
        ms(direct_one),
        ms(ready_one),
        ratio(ready_one, direct_one)
    );
    println!(
        "| start to tool list, 5 upstreams, no cache | {} (all 5 in parallel) | {} | {:.2}× | |",
        ms(direct_five),
        ms(ready_five),
        ratio(ready_five, direct_five)
    );
    println!(
        "| 5 upstreams against 1, no cache | {:.2}× | {:.2}× | | |",
        ratio(direct_five, direct_one),
        ratio(ready_five, ready_one)
    );
    println!(
        "| start to tool list, 1 upstream, catalogs cached | | {} | | |",
        ms(warm_one)
    );
    println!(
        "| start to tool list, 5 upstreams, catalogs cached | | {} | | |",
        ms(warm_five)
    );
    println!(
        "| 5 upstreams against 1, catalogs cached | | {:.2}× | | ≤ 1.2× |",
        ratio(warm_five, warm_one)
    );
    println!();
    println!(
        "Five servers, catalogs cached, one of them used (`start = \"eager\"` against `\"lazy\"`; first lists: the median of 15 starts):"
    );
    println!();
    println!("| measure | eager | lazy | lazy / eager |");
    println!("|---|---|---|---|");
    println!(
        "| start to tool list | {} | {} | {:.2}× |",
        ms(eager.first_list),
        ms(lazy.first_list),
        ratio(lazy.first_list, eager.first_list)
    );
    println!(
        "| server processes running after one call | {} | {} | |",
        eager.children, lazy.children
    );
    println!(
        "| their memory (RSS) | {:.1} MB | {:.1} MB | {:.2}× |",
        eager.children_kib as f64 / 1024.0,
        lazy.children_kib as f64 / 1024.0,
        lazy.children_kib as f64 / eager.children_kib.max(1) as f64
    );
    println!();
    println!("| lazy servers | 1 | 5 | 5 / 1 | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| start to tool list (median of 15 starts) | {} | {} | {:.2}× | ≤ 1.1× |",
        ms(lazy_one.first_list),
        ms(lazy.first_list),
        ratio(lazy.first_list, lazy_one.first_list)
    );
    println!();
    println!(
        "Remote server (server-everything over Streamable HTTP), {http_calls} calls each way:"
    );
    println!();
    println!(
        "| measure | raw keep-alive client | mcp-remote | mcpgw proxy | mcpgw / raw | mcpgw vs mcp-remote | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| p50 latency, sequential | {} | {} | {} | {:.2}× | {:.2}× faster | ≤ 1.3× raw |",
        ms(raw.p50),
        ms(remote.p50),
        ms(proxied.p50),
        ratio(proxied.p50, raw.p50),
        ratio(remote.p50, proxied.p50)
    );
    println!(
        "| throughput, concurrency {CONCURRENCY} | {:.0}/s | {:.0}/s | {:.0}/s | {:.2}× | {:.1}× | ≥ 5× mcp-remote |",
        raw.per_second,
        remote.per_second,
        proxied.per_second,
        proxied.per_second / raw.per_second,
        proxied.per_second / remote.per_second
    );
    match rss {
        Some(kib) => println!(
            "| mcpgw peak RSS under load | | {:.1} MB | | ≤ 15 MB |",
            kib as f64 / 1024.0
        ),
        None => println!("| mcpgw peak RSS under load | | unknown (no /proc) | | ≤ 15 MB |"),
    }
    println!();
    print_face(&face_figures);
    Ok(())
}

fn print_face(f: &FaceFigures) {
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "The HTTP face (`mcpgw serve --listen`) in front of server-everything over Streamable HTTP, each client in a session of its own:"
    );
    println!();
    println!(
        "| measure | straight to the server | face, no keys | face, key checked | face / straight | key / no keys | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| p50 latency, sequential | {} | {} | {} | {:.2}× | {:.2}× | key ≤ 1.05× |",
        ms(f.direct.p50),
        ms(f.open.p50),
        ms(f.keyed.p50),
        ratio(f.open.p50, f.direct.p50),
        ratio(f.keyed.p50, f.open.p50)
    );
    println!(
        "| throughput, concurrency {CONCURRENCY} | {:.0}/s | {:.0}/s | {:.0}/s | {:.2}× | {:.2}× | key ≥ 0.95× |",
        f.direct.per_second,
        f.open.per_second,
        f.keyed.per_second,
        f.open.per_second / f.direct.per_second,
        f.keyed.per_second / f.open.per_second
    );
    let (before, after) = f.idle_kib;
    println!(
        "| gateway RSS, then with 200 idle sessions | | {:.1} MB → {:.1} MB ({:.1} KB each) | | | | |",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 200.0
    );
}
