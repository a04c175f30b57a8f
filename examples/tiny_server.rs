//! A tiny MCP server over stdio, with no dependencies but serde_json, for testing mcpgw where
//! Node.js is not at hand (the Windows tests under Wine) and as the smallest example of what
//! mcpgw fronts.
//!
//! With `--modern` it speaks only MCP 2026-07-28 (no `initialize`; `server/discover`, and the
//! per-request `_meta` required); otherwise only the handshake era.
//!
//! Tools:
//! - `echo {message}`: "Echo: " and the message (what the benchmark calls);
//! - `env {name}`: the value of an environment variable (shows that mcpgw gave the child its
//!   key);
//! - `pid`: this process's id;
//! - `spawn`: starts a grandchild (this program with `--sleep`) and returns its id, so a test
//!   can check that the whole tree dies with the gateway.
//!
//! ```sh
//! cargo build --example tiny_server
//! # in mcpgw's config:
//! # [servers.tiny]
//! # command = "target/debug/examples/tiny_server"
//! ```

use std::io::{BufRead, Write};

use serde_json::{Value, json};

fn main() {
    if std::env::args().any(|a| a == "--sleep") {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    let modern = std::env::args().any(|a| a == "--modern");
    let mut children = Vec::new();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = message.get("id").cloned() else {
            continue; // a notification
        };
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let method = message["method"].as_str().unwrap_or_default();
        let stateless = params["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28";
        let answer = match method {
            "initialize" if modern => Err(json!({
                "code": -32022,
                "message": "this server speaks only 2026-07-28",
                "data": {"supported": ["2026-07-28"], "requested": params["protocolVersion"]},
            })),
            _ if modern && !stateless => Err(json!({
                "code": -32602,
                "message": "every request carries _meta[\"io.modelcontextprotocol/protocolVersion\"] = 2026-07-28",
            })),
            "server/discover" if modern => Ok(json!({
                "supportedVersions": ["2026-07-28"],
                "capabilities": {"tools": {}},
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "tiny", "version": "1.0.0"}},
                "ttlMs": 0,
                "cacheScope": "public",
            })),
            "initialize" => Ok(json!({
                "protocolVersion": params["protocolVersion"].as_str().unwrap_or("2025-06-18"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "tiny", "version": "1.0.0"},
            })),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": [
                tool("echo", "Echoes the message", json!({"message": {"type": "string"}})),
                tool("env", "The value of an environment variable", json!({"name": {"type": "string"}})),
                tool("pid", "This server's process id", json!({})),
                tool("spawn", "Starts a grandchild process and returns its id", json!({})),
            ]})),
            "tools/call" => call(&params, &mut children),
            other => Err(json!({"code": -32601, "message": format!("Method not found: {other}")})),
        };
        let answer = answer.map(|mut result| {
            if modern {
                result["resultType"] = json!("complete");
                if method == "tools/list" {
                    result["ttlMs"] = json!(0);
                    result["cacheScope"] = json!("public");
                }
            }
            result
        });
        let reply = match answer {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}

fn tool(name: &str, description: &str, properties: Value) -> Value {
    json!({
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": properties},
    })
}

fn call(params: &Value, children: &mut Vec<std::process::Child>) -> Result<Value, Value> {
    let text = match params["name"].as_str().unwrap_or_default() {
        "echo" => format!(
            "Echo: {}",
            params["arguments"]["message"].as_str().unwrap_or_default()
        ),
        "env" => {
            let name = params["arguments"]["name"].as_str().unwrap_or_default();
            std::env::var(name).unwrap_or_default()
        }
        "pid" => std::process::id().to_string(),
        "spawn" => {
            let me = std::env::current_exe().map_err(|e| error(e.to_string()))?;
            let child = std::process::Command::new(me)
                .arg("--sleep")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .map_err(|e| error(e.to_string()))?;
            let pid = child.id().to_string();
            children.push(child);
            pid
        }
        other => return Err(error(format!("Unknown tool: {other}"))),
    };
    Ok(json!({"content": [{"type": "text", "text": text}]}))
}

fn error(message: String) -> Value {
    json!({"code": -32602, "message": message})
}
