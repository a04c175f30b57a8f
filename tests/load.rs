//! Load: 10,000 interleaved calls over 3 upstreams at concurrency 64, results from 10 bytes to
//! 1 MB, with cancellations mixed in. Every call gets exactly one answer, with its own id and
//! its own result; a cancelled call gets at most one; nothing is lost or answered twice.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use mcpgw::protocol::RequestId;
use serde_json::{Value, json};

const CALLS: usize = 10_000;
const CONCURRENCY: usize = 64;

fn size(i: usize) -> usize {
    match i {
        i if i % 100 == 0 => 1_000_000,
        i if i % 10 == 0 => 10_000,
        i => 10 + i % 90,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_interleaved_calls_lose_and_duplicate_nothing() {
    let mut gw = Setup::new()
        .gateway(r#"max_message_size = "4MiB""#)
        .server(Server::fixture("a", &[]))
        .server(Server::fixture("b", &[]))
        .server(Server::fixture("c", &[]))
        .start()
        .await;
    gw.client.timeout = Duration::from_secs(120);
    assert_eq!(gw.tools().await.len(), 33);
    let started = Instant::now();
    let client = &gw.client;
    let outcomes: Vec<(usize, Result<(), String>)> = futures_util::stream::iter(0..CALLS)
        .map(|i| async move {
            let server = ["a", "b", "c"][i % 3];
            let id = format!("load-{i}");
            let params =
                json!({ "name": format!("{server}__big"), "arguments": { "bytes": size(i) } });
            if i % 50 == 7 {
                // Sent, then cancelled at once: it may or may not have been answered already.
                client.send_line(
                    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params })
                        .to_string(),
                );
                client.notify(
                    "notifications/cancelled",
                    json!({ "requestId": id, "reason": "load test" }),
                );
                return (i, Err("cancelled".to_owned()));
            }
            let outcome = match client
                .request_raw(RequestId::String(id.into()), "tools/call", Some(params))
                .await
            {
                Ok(Ok(result)) => {
                    let v: Value = serde_json::from_str(result.get()).unwrap();
                    let got = v["content"][0]["text"].as_str().map_or(0, str::len);
                    if got == size(i) {
                        Ok(())
                    } else {
                        Err(format!("call {i}: {got} bytes, not {}", size(i)))
                    }
                }
                Ok(Err(e)) => Err(format!("call {i}: {e}")),
                Err(e) => Err(format!("call {i}: {e}")),
            };
            (i, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let cancelled: Vec<usize> = outcomes
        .iter()
        .filter(|(_, o)| o.as_ref().err().is_some_and(|e| e == "cancelled"))
        .map(|(i, _)| *i)
        .collect();
    let failures: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, o)| o.as_ref().err())
        .filter(|e| *e != "cancelled")
        .collect();
    // Whatever matched no pending request: only answers to cancelled calls, each at most once.
    let mut stray: HashMap<String, usize> = HashMap::new();
    while let Some(line) = gw.client.unmatched(Duration::from_secs(2)).await {
        let v: Value = serde_json::from_str(&line).unwrap();
        *stray
            .entry(v["id"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let answered_after_cancel = stray.len();
    println!(
        "load: {CALLS} calls at concurrency {CONCURRENCY} over 3 upstreams in {elapsed:.1?}: {} answered correctly, {} failed, {} cancelled ({answered_after_cancel} of those answered before the cancel landed), {} stray answers",
        outcomes.len() - cancelled.len() - failures.len(),
        failures.len(),
        cancelled.len(),
        stray.values().sum::<usize>() - answered_after_cancel,
    );
    assert_eq!(outcomes.len(), CALLS);
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    for (id, count) in &stray {
        let i: usize = id
            .strip_prefix("load-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("an answer to an id never sent: {id}"));
        assert!(
            cancelled.contains(&i),
            "an uncancelled call was answered twice: {id}"
        );
        assert_eq!(*count, 1, "{id} was answered {count} times");
    }
    // The session is still healthy.
    assert_eq!(
        text(
            &gw.call("a__echo", json!({ "message": "after the storm" }))
                .await
        ),
        "a: after the storm"
    );
}
