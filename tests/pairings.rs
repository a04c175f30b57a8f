//! Every pairing of eras through `mcpgw serve`: a client of the handshake era or of
//! 2026-07-28, against a server of the handshake era only (the reference server), of
//! 2026-07-28 only, or of both (the Python SDK 2.x server), over stdio and Streamable HTTP.
//! Each pairing relays the same things: tools (listed and called), resources, prompts,
//! completion (where the server offers it), progress, list changes, elicitation, sampling and
//! roots asked by the server while it serves a call, log messages at the level the client
//! asked for, and cancellation — through whatever bridge the pairing needs.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::FutureExt;
use mcpgw::client::ClientError;
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Client {
    Handshake,
    Stateless,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// The reference server (handshake era only).
    Everything,
    /// The SDK server, 2026-07-28 only.
    ModernOnly,
    /// The SDK server, both eras.
    Dual,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Wire {
    Stdio,
    Http,
}

const CAPABILITIES: &str =
    r#"{"elicitation":{"form":{}},"sampling":{},"roots":{"listChanged":true}}"#;

const HAIKU: &str = "gateways hum softly";
const ROOT: &str = "file:///tmp/pairings-root";

/// What a host answers when a server asks it `method`.
fn answer(method: &str) -> Option<Value> {
    match method {
        "elicitation/create" => Some(
            json!({ "action": "accept", "content": { "name": "Ada", "check": true, "email": "ada@example.org" } }),
        ),
        "sampling/createMessage" => Some(
            json!({ "role": "assistant", "content": { "type": "text", "text": HAIKU }, "model": "test-model" }),
        ),
        "roots/list" => Some(json!({ "roots": [{ "uri": ROOT, "name": "pairings" }] })),
        _ => None,
    }
}

fn host() -> mcpgw::client::Handler {
    Arc::new(|r: Request| {
        async move {
            answer(&r.method)
                .map(|a| mcpgw::protocol::raw(&a))
                .ok_or_else(|| ErrorObject::new(-32601, format!("Method not found: {}", r.method)))
        }
        .boxed()
    })
}

/// The gateway in front of one server `s` of `kind` over `wire`, with a client of `client`'s
/// era; the HTTP server lives as long as the gateway is used. An SDK server writes to
/// `cancelled` when it takes a request as cancelled.
async fn gateway(
    client: Client,
    kind: Kind,
    wire: Wire,
    cancelled: &std::path::Path,
) -> (Gateway, Option<HttpServer>) {
    let mark = cancelled.display().to_string();
    let sdk = root()
        .join("tests/python-sdk2/server.py")
        .display()
        .to_string();
    let flags: &[&str] = if kind == Kind::ModernOnly {
        &["--modern-only"]
    } else {
        &[]
    };
    let (server, http) = match (kind, wire) {
        (Kind::Everything, Wire::Stdio) => (Server::everything("s"), None),
        (Kind::Everything, Wire::Http) => {
            let http = HttpServer::everything("streamableHttp");
            (Server::url("s", &http.url("/mcp")), Some(http))
        }
        (_, Wire::Stdio) => {
            let mut args = vec![sdk.as_str()];
            args.extend(flags);
            let server = Server::command("s", &python_sdk2(), &args)
                .with(&format!("env = {{ MCPGW_TEST_CANCELLED = {mark:?} }}"));
            (server, None)
        }
        (_, Wire::Http) => {
            let http = HttpServer::python_sdk2_with(flags, &[("MCPGW_TEST_CANCELLED", &mark)]);
            (Server::url("s", &http.url("/mcp")), Some(http))
        }
    };
    let setup = Setup::new().server(server);
    let setup = match client {
        Client::Handshake => setup
            .capabilities(serde_json::from_str(CAPABILITIES).unwrap())
            .handler(host()),
        Client::Stateless => setup.raw(),
    };
    (setup.start().await, http)
}

/// A client of either era making requests.
struct Asker<'a> {
    gw: &'a Gateway,
    client: Client,
}

impl Asker<'_> {
    fn params(&self, mut params: Value) -> Value {
        if self.client == Client::Stateless {
            let meta = params
                .as_object_mut()
                .unwrap()
                .entry("_meta")
                .or_insert(json!({}));
            meta["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
            meta["io.modelcontextprotocol/clientCapabilities"] =
                serde_json::from_str(CAPABILITIES).unwrap();
            meta["io.modelcontextprotocol/clientInfo"] =
                json!({ "name": "pairings", "version": "1" });
        }
        params
    }

    /// A request, its input (if the server asks for some in this era) given as a host would.
    async fn ask(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let mut extra = json!({});
        for _ in 0..5 {
            let mut p = self.params(params.clone());
            for (k, v) in extra.as_object().unwrap() {
                p[k] = v.clone();
            }
            let result = self.gw.client.request(method, p).await?;
            if result["resultType"] != "input_required" {
                return Ok(result);
            }
            let mut responses = serde_json::Map::new();
            for (key, asked) in result["inputRequests"].as_object().unwrap() {
                let method = asked["method"].as_str().unwrap_or_default();
                let given = answer(method).unwrap_or_else(|| panic!("asked {method}: {result}"));
                responses.insert(key.clone(), given);
            }
            extra = json!({ "inputResponses": responses });
            if let Some(state) = result.get("requestState") {
                extra["requestState"] = state.clone();
            }
        }
        panic!("{method}: input asked for five times")
    }

    async fn ok(&self, method: &str, params: Value) -> Value {
        self.ask(method, params.clone())
            .await
            .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
    }

    async fn tool_names(&self) -> Vec<String> {
        let list = self.ok("tools/list", json!({})).await;
        list["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn pairing(client: Client, kind: Kind, wire: Wire) {
    let dir = tempfile::tempdir().unwrap();
    let cancelled = dir.path().join("cancelled");
    let (gw, _http) = gateway(client, kind, wire, &cancelled).await;
    let a = Asker { gw: &gw, client };
    let sdk = kind != Kind::Everything;
    let names = a.tool_names().await;
    assert!(names.contains(&"s__echo".to_owned()), "{names:?}");
    if client == Client::Stateless {
        // The era's fields on every answer.
        let list = a.ok("tools/list", json!({})).await;
        assert_eq!(list["resultType"], "complete");
        assert!(
            list["ttlMs"].is_u64() && list["cacheScope"].is_string(),
            "{list}"
        );
    }

    // Tools.
    echo(&a, sdk, "hi").await;

    // Resources and prompts.
    let uri = if sdk {
        "demo://info"
    } else {
        "demo://resource/static/document/architecture.md"
    };
    let read = a.ok("resources/read", json!({ "uri": uri })).await;
    assert!(read["contents"][0]["uri"].is_string(), "{read}");
    let (prompt, arguments) = if sdk {
        ("s__greeting_prompt", json!({ "who": "Ada" }))
    } else {
        ("s__simple-prompt", json!({}))
    };
    let got = a
        .ok(
            "prompts/get",
            json!({ "name": prompt, "arguments": arguments }),
        )
        .await;
    assert!(
        got["messages"].as_array().is_some_and(|m| !m.is_empty()),
        "{got}"
    );

    // Completion (the SDK server completes its prompt's argument).
    if sdk {
        let done = a
            .ok(
                "completion/complete",
                json!({ "ref": { "type": "ref/prompt", "name": "s__greeting_prompt" },
                        "argument": { "name": "who", "value": "a" } }),
            )
            .await;
        assert_eq!(done["completion"]["values"], json!(["alice"]), "{done}");
    }

    // Progress, with the client's own token.
    let (tool, arguments) = if sdk {
        ("s__log_and_progress", json!({}))
    } else {
        (
            "s__trigger-long-running-operation",
            json!({ "duration": 1, "steps": 2 }),
        )
    };
    let call = a.ask(
        "tools/call",
        json!({ "name": tool, "arguments": arguments, "_meta": { "progressToken": "mine" } }),
    );
    let progress = async {
        let n = gw
            .client
            .wait_for("notifications/progress", WAIT)
            .await
            .expect("progress");
        let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
        p["progressToken"].clone()
    };
    let (result, token) = tokio::join!(call, progress);
    result.unwrap();
    assert_eq!(token, "mine");

    // Elicitation asked while serving a call, answered by the client in its era's way.
    let (tool, answered) = if sdk {
        ("s__greet_user", "Hello, Ada!")
    } else {
        ("s__trigger-elicitation-request", "Name: Ada")
    };
    let greeted = a
        .ok("tools/call", json!({ "name": tool, "arguments": {} }))
        .await;
    let all: String = greeted["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert!(all.contains(answered), "{greeted}");

    // Sampling and roots asked while serving a call.
    let (tool, arguments) = if sdk {
        ("s__sample_haiku", json!({}))
    } else {
        (
            "s__trigger-sampling-request",
            json!({ "prompt": "a haiku", "maxTokens": 20 }),
        )
    };
    let sampled = a
        .ok(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
        .await;
    assert!(all_text(&sampled).contains(HAIKU), "{sampled}");
    let tool = if sdk {
        "s__roots_seen"
    } else {
        "s__get-roots-list"
    };
    let rooted = a
        .ok("tools/call", json!({ "name": tool, "arguments": {} }))
        .await;
    assert!(all_text(&rooted).contains(ROOT), "{rooted}");

    logging(&a, sdk).await;
    cancellation(&a, sdk, &cancelled).await;

    // A list change, heard in the client's era's way.
    let listen_id = gw.client.next_id();
    if client == Client::Stateless {
        let listen = json!({ "jsonrpc": "2.0", "id": listen_id, "method": "subscriptions/listen",
            "params": a.params(json!({ "notifications": { "toolsListChanged": true, "resourcesListChanged": true } })) });
        gw.client.send_line(listen.to_string());
        gw.client
            .wait_for("notifications/subscriptions/acknowledged", WAIT)
            .await
            .expect("acknowledged");
    }
    let (tool, arguments, changed) = if sdk {
        (
            "s__add_dynamic_tool",
            json!({}),
            "notifications/tools/list_changed",
        )
    } else {
        (
            "s__gzip-file-as-resource",
            json!({ "name": "p.gz", "data": "data:text/plain;base64,aGVsbG8=", "outputType": "resource" }),
            "notifications/resources/list_changed",
        )
    };
    if client == Client::Handshake {
        // A client of the handshake era hears only of lists it has fetched.
        a.ok("resources/list", json!({})).await;
    }
    a.ok(
        "tools/call",
        json!({ "name": tool, "arguments": arguments }),
    )
    .await;
    let heard = gw
        .client
        .wait_for(changed, WAIT)
        .await
        .unwrap_or_else(|| panic!("no {changed}"));
    if client == Client::Stateless {
        let p: Value = serde_json::from_str(heard.params.unwrap().get()).unwrap();
        assert_eq!(
            p["_meta"]["io.modelcontextprotocol/subscriptionId"],
            json!(listen_id)
        );
        gw.client
            .notify("notifications/cancelled", json!({ "requestId": listen_id }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Log messages reach the client at the level it asked for, in its era's way: `setLevel`
/// for a client of the handshake era, the request's own `logLevel` in 2026-07-28.
async fn logging(a: &Asker<'_>, sdk: bool) {
    let gw = a.gw;
    // What earlier calls logged is not this check's.
    while gw
        .client
        .wait_for("notifications/message", Duration::from_millis(200))
        .await
        .is_some()
    {}
    // The SDK server logs at debug and at warning; the reference server at a random level,
    // once at once and then every five seconds until toggled off.
    let (tool, level) = if sdk {
        ("s__log_and_progress", "warning")
    } else {
        ("s__toggle-simulated-logging", "debug")
    };
    let mut params = json!({ "name": tool, "arguments": {} });
    if a.client == Client::Handshake {
        a.ok("logging/setLevel", json!({ "level": level })).await;
    } else {
        params["_meta"] = json!({ "io.modelcontextprotocol/logLevel": level });
    }
    a.ok("tools/call", params.clone()).await;
    let mut heard = vec![];
    while let Some(n) = gw
        .client
        .wait_for("notifications/message", Duration::from_millis(500))
        .await
    {
        let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
        heard.push(p);
    }
    if sdk {
        let said: Vec<&str> = heard.iter().filter_map(|p| p["data"].as_str()).collect();
        assert_eq!(
            said,
            ["a warning line"],
            "only what was asked for: {heard:?}"
        );
    } else {
        assert!(!heard.is_empty(), "no log message");
        a.ok("tools/call", params).await; // and off again
    }
}

/// A call the client cancels is cancelled at the server, and nothing else is disturbed.
async fn cancellation(a: &Asker<'_>, sdk: bool, cancelled: &std::path::Path) {
    let gw = a.gw;
    let (tool, arguments) = if sdk {
        ("s__slow", json!({ "seconds": 30 }))
    } else {
        (
            "s__trigger-long-running-operation",
            json!({ "duration": 30, "steps": 30 }),
        )
    };
    let id = gw.client.next_id();
    let params = a.params(json!({ "name": tool, "arguments": arguments }));
    gw.client.send_line(
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params }).to_string(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    gw.client.notify(
        "notifications/cancelled",
        json!({ "requestId": id, "reason": "changed my mind" }),
    );
    // The SDK server says it was cancelled; the reference server cannot, so mcpgw's log of
    // what it sent must show the cancellation.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = if sdk {
            std::fs::read_to_string(cancelled).is_ok_and(|t| t.contains("slow cancelled"))
        } else {
            gw.log_text().lines().any(|l| {
                l.contains("server=s") && l.contains("→") && l.contains("notifications/cancelled")
            })
        };
        if seen {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never had the call cancelled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    echo(a, sdk, "after").await;
}

/// Calls the server's echo tool with `said`.
async fn echo(a: &Asker<'_>, sdk: bool, said: &str) {
    let (args, echoed) = if sdk {
        (json!({ "text": said }), said.to_owned())
    } else {
        (json!({ "message": said }), format!("Echo: {said}"))
    };
    let echo = a
        .ok(
            "tools/call",
            json!({ "name": "s__echo", "arguments": args }),
        )
        .await;
    assert_eq!(text(&echo), echoed);
}

macro_rules! pairings {
    ($($test:ident => $client:ident, $kind:ident, $wire:ident;)*) => {$(
        #[tokio::test]
        async fn $test() {
            pairing(Client::$client, Kind::$kind, Wire::$wire).await;
        }
    )*};
}

pairings! {
    handshake_client_handshake_server_stdio => Handshake, Everything, Stdio;
    handshake_client_handshake_server_http => Handshake, Everything, Http;
    handshake_client_modern_server_stdio => Handshake, ModernOnly, Stdio;
    handshake_client_modern_server_http => Handshake, ModernOnly, Http;
    handshake_client_dual_server_stdio => Handshake, Dual, Stdio;
    handshake_client_dual_server_http => Handshake, Dual, Http;
    modern_client_handshake_server_stdio => Stateless, Everything, Stdio;
    modern_client_handshake_server_http => Stateless, Everything, Http;
    modern_client_modern_server_stdio => Stateless, ModernOnly, Stdio;
    modern_client_modern_server_http => Stateless, ModernOnly, Http;
    modern_client_dual_server_stdio => Stateless, Dual, Stdio;
    modern_client_dual_server_http => Stateless, Dual, Http;
}
