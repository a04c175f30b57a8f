//! One hub, several sessions: three clients in this process share two real server-everything
//! children, as the clients of the HTTP face (and of a per-user gateway) will.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures_util::FutureExt;
use mcpgw::client::{Client, Handler};
use mcpgw::config::Config;
use mcpgw::hub::{self, Control, HubHandle, ServerStatus, Services};
use mcpgw::protocol::{ErrorObject, Request};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

const WAIT: Duration = Duration::from_secs(20);

/// A client of the hub: its own pipe, its own session, and the requests servers sent it.
struct Member {
    client: Client,
    asked: Arc<Mutex<Vec<String>>>,
    /// Dropped with the member: its face ends the session, as when a connection drops.
    _connected: oneshot::Sender<()>,
}

/// Answers elicitations and sampling with the member's name, and remembers what it was asked.
fn answering(name: &'static str, asked: Arc<Mutex<Vec<String>>>) -> Handler {
    Arc::new(move |r: Request| {
        asked.lock().unwrap().push(r.method.clone());
        async move {
            let result = match r.method.as_str() {
                "elicitation/create" => json!({
                    "action": "accept",
                    "content": { "name": name, "check": true, "email": "x@example.org" },
                }),
                "sampling/createMessage" => json!({
                    "role": "assistant",
                    "content": { "type": "text", "text": format!("sampled by {name}") },
                    "model": "m",
                }),
                other => {
                    return Err(ErrorObject::new(
                        -32601,
                        format!("Method not found: {other}"),
                    ));
                }
            };
            Ok(mcpgw::protocol::raw(&result))
        }
        .boxed()
    })
}

async fn join(
    hub: &HubHandle,
    config: &Arc<Config>,
    name: &'static str,
    capabilities: Value,
) -> Member {
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(theirs);
    let (connected, dropped) = oneshot::channel::<()>();
    tokio::spawn(mcpgw::face::serve_stream(
        config.clone(),
        hub.clone(),
        read,
        write,
        async {
            let _ = dropped.await;
        },
    ));
    let (read, write) = tokio::io::split(ours);
    let asked = Arc::new(Mutex::new(vec![]));
    let mut client = Client::new(read, write, answering(name, asked.clone()));
    client.timeout = WAIT;
    client.initialize(capabilities).await.expect("initialize");
    Member {
        client,
        asked,
        _connected: connected,
    }
}

impl Member {
    async fn call(&self, tool: &str, arguments: Value) -> Value {
        self.client
            .request(
                "tools/call",
                json!({ "name": tool, "arguments": arguments }),
            )
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    async fn tool_names(&self) -> Vec<String> {
        let tools = self.client.list_all("tools/list", "tools").await.unwrap();
        tools
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// Twenty echoes, alternating between the servers, each checked.
async fn echoes(who: &str, client: &Client) {
    for i in 0..20 {
        let server = if i % 2 == 0 { "a" } else { "b" };
        let said = format!("{who}-{i}");
        let r = client
            .request(
                "tools/call",
                json!({ "name": format!("{server}__echo"), "arguments": { "message": said } }),
            )
            .await
            .unwrap();
        assert_eq!(text(&r), format!("Echo: {said}"), "{who}");
    }
}

async fn status(control: &mpsc::UnboundedSender<Control>) -> Vec<ServerStatus> {
    let (tx, rx) = oneshot::channel();
    control.send(Control::Status(tx)).unwrap();
    rx.await.unwrap()
}

#[tokio::test]
async fn three_sessions_share_one_hub() {
    let (a, b) = (Server::everything("a"), Server::everything("b"));
    let marker_a = a.marker().unwrap().to_owned();
    let toml = Setup::new().server(a).server(b).config_text();
    let config = Arc::new(Config::parse(std::path::Path::new("hub.toml"), &toml).unwrap());
    let (control, control_rx) = mpsc::unbounded_channel();
    let (hub, hub_task) = hub::spawn(config.clone(), Services::default(), control_rx);

    // B arrives first: the servers start with its capabilities (a later session's extra
    // ones reach a server from its next start).
    let bea = join(
        &hub,
        &config,
        "bea",
        json!({ "elicitation": {}, "sampling": {} }),
    )
    .await;
    let ann = join(
        &hub,
        &config,
        "ann",
        json!({ "elicitation": {}, "sampling": {} }),
    )
    .await;
    let cyd = join(&hub, &config, "cyd", json!({})).await;
    for member in [&ann, &bea, &cyd] {
        let names = member.tool_names().await;
        assert!(names.contains(&"a__echo".to_owned()), "{names:?}");
        assert!(names.contains(&"b__trigger-elicitation-request".to_owned()));
    }

    // Interleaved calls with the same ids (each client counts from 1): each gets its own.
    tokio::join!(
        echoes("ann", &ann.client),
        echoes("bea", &bea.client),
        echoes("cyd", &cyd.client)
    );

    // An elicitation caused by B's call reaches B only, though A is busy at the same time
    // (and is the most recent session to speak).
    let (elicited, _) = tokio::join!(
        bea.call("b__trigger-elicitation-request", json!({})),
        ann.call("a__echo", json!({ "message": "busy" })),
    );
    assert!(elicited.to_string().contains("bea"), "{elicited}");
    assert_eq!(bea.asked(), ["elicitation/create"]);
    assert!(ann.asked().is_empty() && cyd.asked().is_empty());

    // Two clients pick the same progress token for calls to the same server: each hears only
    // of its own call, under its own token.
    let long = json!({ "name": "b__trigger-long-running-operation", "arguments": { "duration": 1, "steps": 4 }, "_meta": { "progressToken": "p" } });
    let (x, y) = tokio::join!(
        ann.client.request("tools/call", long.clone()),
        bea.client.request("tools/call", long.clone()),
    );
    x.unwrap();
    y.unwrap();
    for member in [&ann, &bea] {
        let mut seen = vec![];
        while let Some(n) = member.client.notification(Duration::from_millis(500)).await {
            if n.method == "notifications/progress" {
                let params: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
                assert_eq!(params["progressToken"], "p", "{params}");
                seen.push(params["progress"].as_f64().unwrap());
            }
        }
        assert_eq!(seen.len(), 4, "its own four steps: {seen:?}");
    }
    assert!(
        cyd.client
            .notification(Duration::from_millis(100))
            .await
            .is_none()
    );

    // A session that did not declare elicitation gets the refusal, and nobody is asked.
    let refused = cyd
        .client
        .request(
            "tools/call",
            json!({ "name": "b__trigger-elicitation-request", "arguments": {} }),
        )
        .await;
    let refused = match refused {
        Ok(result) => result.to_string(),
        Err(e) => e.to_string(),
    };
    assert!(
        refused.contains("did not declare `elicitation`"),
        "{refused}"
    );
    assert_eq!(bea.asked().len(), 1);
    assert!(ann.asked().is_empty() && cyd.asked().is_empty());

    // A sampling request from a call of A's goes to A, though B could take it too.
    let sampled = ann
        .call("b__trigger-sampling-request", json!({ "prompt": "hi" }))
        .await;
    assert!(text(&sampled).contains("sampled by ann"), "{sampled}");

    // A list change reaches every session that has seen the list.
    let pids = pids_matching(&marker_a);
    assert_eq!(pids.len(), 1, "one server `a`");
    unsafe { libc::kill(pids[0] as i32, libc::SIGKILL) };
    for member in [&ann, &bea, &cyd] {
        member
            .client
            .wait_for("notifications/tools/list_changed", WAIT)
            .await
            .expect("every session hears of it");
    }
    // Each lists again, as clients do, and hears of the server's return unless it is back.
    for member in [&ann, &bea, &cyd] {
        if !member.tool_names().await.contains(&"a__echo".to_owned()) {
            member
                .client
                .wait_for("notifications/tools/list_changed", WAIT)
                .await
                .expect("and of its return");
            assert!(member.tool_names().await.contains(&"a__echo".to_owned()));
        }
    }

    // C goes away in the middle of a long call: nothing of it stays behind.
    let long = cyd.client.request(
        "tools/call",
        json!({ "name": "b__trigger-long-running-operation", "arguments": { "duration": 30, "steps": 3 } }),
    );
    let running = async {
        for _ in 0..100 {
            if status(&control).await[1].in_flight == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the long call never reached server b");
    };
    tokio::select! {
        _ = long => panic!("a 30 s call answered"),
        () = running => {}
    }
    drop(cyd);
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = status(&control).await.iter().map(|s| s.in_flight).sum();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        left, 0,
        "the gone session's call was cancelled at its server"
    );
    // The others carry on.
    let echoed = bea
        .call("b__echo", json!({ "message": "still here" }))
        .await;
    assert_eq!(text(&echoed), "Echo: still here");

    drop((ann, bea, control, hub));
    tokio::time::timeout(WAIT, hub_task)
        .await
        .expect("the hub stops once every session is gone")
        .unwrap();
    assert!(pids_matching(&marker_a).is_empty(), "its servers with it");
}
