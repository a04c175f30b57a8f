//! `mcpgw serve --listen` run for a test, and driven by hand.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

/// `mcpgw serve --listen` in front of server-everything (`every`); stopped when dropped.
pub struct Face {
    pub child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT`.
    pub base: String,
    /// What the test's own requests go out with (over TLS: trusting the face's CA; see
    /// [`Face::use_client`]).
    http: std::sync::Mutex<reqwest::Client>,
}

impl Face {
    pub async fn start() -> Face {
        Face::start_with_keys(None).await
    }

    /// With the API keys of `keys` (a keys file), or none.
    pub async fn start_with_keys(keys: Option<&Path>) -> Face {
        let config = Setup::new()
            .gateway(r#"max_message_size = "1MiB""#)
            .server(Server::everything("every"))
            .config_text();
        Face::launch(&config, keys, &[]).await
    }

    /// With the config `config`, the keys file `keys` (none: an empty folder's) and `env`.
    pub async fn launch(config: &str, keys: Option<&Path>, env: &[(&str, &str)]) -> Face {
        Face::launch_with(config, keys, env, None).await
    }

    /// [`Face::launch`] over TLS (`[listen.tls]` in `config`) when `tls` is the client to
    /// reach it with.
    pub async fn launch_with(
        config: &str,
        keys: Option<&Path>,
        env: &[(&str, &str)],
        tls: Option<reqwest::Client>,
    ) -> Face {
        let dir = tempfile::tempdir().unwrap();
        let keys = keys.map_or_else(|| dir.path().join("api-keys.json"), |k| k.to_owned());
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, config).unwrap();
        let config = config_file;
        let port = free_port();
        let child = std::process::Command::new(mcpgw_bin())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(&config)
            .env("MCPGW_LOG", "trace")
            .env("XDG_CACHE_HOME", dir.path())
            .env("MCPGW_KEYS_FILE", &keys)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("mcpgw.log")).unwrap())
            .spawn()
            .unwrap();
        let (base, http) = match tls {
            Some(client) => (format!("https://127.0.0.1:{port}"), client),
            // A connection per request, as separate clients would have (the face may close
            // one after refusing a request).
            None => (
                format!("http://127.0.0.1:{port}"),
                reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap(),
            ),
        };
        let face = Face {
            child,
            port,
            dir,
            base,
            http: std::sync::Mutex::new(http),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while face.health().await.is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the face never listened: {}",
                face.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        face
    }

    /// From now on the test's requests go out with `client` (another client certificate, say).
    pub fn use_client(&self, client: reqwest::Client) {
        *self.http.lock().unwrap() = client;
    }

    pub fn client(&self) -> reqwest::Client {
        self.http.lock().unwrap().clone()
    }

    /// A GET of `path` that may fail to connect (a refused TLS handshake, say).
    pub async fn try_get(&self, path: &str) -> Result<u16, reqwest::Error> {
        let got = self
            .client()
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        Ok(got.status().as_u16())
    }

    /// mcp-remote (a real client) in front of the face, with `headers` (`Name: value`) and
    /// `env`, its client answering what servers ask with `handler`; initialized at
    /// 2025-06-18, declaring elicitation. `name` keeps its state apart from other instances'.
    pub async fn mcp_remote(
        &self,
        name: &str,
        headers: &[&str],
        env: &[(&str, &str)],
        handler: mcpgw::client::Handler,
    ) -> (mcpgw::client::Client, tokio::process::Child) {
        let mut command = tokio::process::Command::new(node());
        command
            .arg(root().join("tests/npm/node_modules/mcp-remote/dist/proxy.js"))
            .args([&self.url(), "--transport", "http-only"])
            .env("MCP_REMOTE_CONFIG_DIR", self.dir.path().join(name))
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .stderr(std::process::Stdio::null());
        if self.base.starts_with("http:") {
            command.arg("--allow-http");
        }
        for header in headers {
            command.args(["--header", header]);
        }
        let (client, child) = mcpgw::client::Client::spawn(&mut command, handler).unwrap();
        client
            .initialize_as("2025-06-18", json!({ "elicitation": {} }))
            .await
            .expect("initialize through mcp-remote");
        (client, child)
    }

    pub fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mcpgw.log")).unwrap_or_default()
    }

    pub async fn health(&self) -> Option<Value> {
        let got = self
            .client()
            .get(format!("{}/health", self.base))
            .send()
            .await
            .ok()?;
        got.json().await.ok()
    }

    /// A POST by hand: the status, the headers and the body.
    pub async fn post(
        &self,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = self
            .client()
            .post(self.url())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("mcp-method"))
        {
            for (k, v) in standard_headers(body) {
                request = request.header(k, v);
            }
        }
        let got = request.send().await.unwrap();
        let status = got.status().as_u16();
        let headers = got.headers().clone();
        (status, headers, got.text().await.unwrap_or_default())
    }
}

impl Drop for Face {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        assert!(!self.log().contains(CANARY), "a secret reached the log");
    }
}

/// The headers a client of 2026-07-28 sends with `body` (none for another era's): its
/// version, method and target, as the transport wants them.
pub fn standard_headers(body: &str) -> Vec<(&'static str, String)> {
    let Ok(message) = serde_json::from_str::<Value>(body) else {
        return vec![];
    };
    let Some(version) =
        message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"].as_str()
    else {
        return vec![];
    };
    let method = message["method"].as_str().unwrap_or_default();
    let mut headers = vec![
        ("mcp-protocol-version", version.to_owned()),
        ("mcp-method", method.to_owned()),
    ];
    let target = match method {
        "tools/call" | "prompts/get" => message["params"]["name"].as_str(),
        "resources/read" => message["params"]["uri"].as_str(),
        _ => None,
    };
    if let Some(target) = target {
        headers.push(("mcp-name", target.to_owned()));
    }
    headers
}

/// The JSON-RPC messages of an SSE body (or of a JSON one).
pub fn events(body: &str) -> Vec<Value> {
    // A single answer may come as JSON rather than a stream.
    if body.trim_start().starts_with('{') {
        return serde_json::from_str(body).into_iter().collect();
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

/// A 2026-07-28 request's params: `params` with the era's `_meta`.
pub fn modern(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} },
        "io.modelcontextprotocol/clientInfo": { "name": "by hand", "version": "1" },
    });
    params
}

/// A handshake-era session opened by hand with `headers` (a key): POSTs on it return the
/// JSON-RPC messages of their streams.
pub struct HandSession<'a> {
    face: &'a Face,
    pub id: String,
    headers: Vec<(String, String)>,
    next: std::sync::atomic::AtomicU64,
}

impl Face {
    /// Initializes a session with `headers`; its `initialize` result too.
    pub async fn open_session(&self, headers: &[(&str, &str)]) -> (HandSession<'_>, Value) {
        let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"by hand","version":"1"}}}"#;
        let (status, got, body) = self.post(headers, init).await;
        assert_eq!(status, 200, "{body}");
        let id = got["mcp-session-id"].to_str().unwrap().to_owned();
        let result = events(&body).remove(0)["result"].clone();
        let session = HandSession {
            face: self,
            id,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            next: 1.into(),
        };
        let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let (status, _, _) = session.post_raw(initialized).await;
        assert_eq!(status, 202);
        (session, result)
    }

    /// A GET of `path` with the key `key`: status and body as JSON (`Null` if not JSON).
    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut r = self.client().get(format!("{}{path}", self.base));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        let got = r.send().await.unwrap();
        let status = got.status().as_u16();
        (status, got.json().await.unwrap_or(Value::Null))
    }
}

impl HandSession<'_> {
    pub async fn post_raw(&self, body: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        headers.push(("mcp-session-id", &self.id));
        self.face.post(&headers, body).await
    }

    /// `method` with `params`: its answer (the whole message).
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let (status, _, text) = self.post_raw(&body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        events(&text)
            .into_iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no answer to {method}: {text}"))
    }
}
