//! The HTTP face under load: 200 clients at once for 30 s (`MCPGW_LOAD_SECS` to change it),
//! each with one kind of key — valid, scoped, rate-limited, expired, revoked, wrong, none —
//! calling tools while the config is reloaded twice (a server added, then removed again).
//! Every request is answered; nothing gets through without a valid key or outside its scope;
//! no call to an untouched server fails; the gateway's memory stays bounded; and the audit
//! log has exactly one line per decision, and no key.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::face::{Face, modern, standard_headers};
use common::*;
use serde_json::{Value, json};

const CLIENTS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Good,
    Scoped,
    Limited,
    Expired,
    Revoked,
    Wrong,
    Nobody,
}

const KINDS: [Who; 7] = [
    Who::Good,
    Who::Scoped,
    Who::Limited,
    Who::Expired,
    Who::Revoked,
    Who::Wrong,
    Who::Nobody,
];

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    ok: AtomicU64,
    refused: AtomicU64,
    limited: AtomicU64,
    scope_errors: AtomicU64,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_with_every_kind_of_key_while_the_config_reloads() {
    let secs: u64 = std::env::var("MCPGW_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let (keys, audit) = (dir.path().join("keys.json"), dir.path().join("audit.jsonl"));
    let base = Setup::new()
        .server(Server::everything("every"))
        .server(Server::everything("other"))
        .config_text();
    let audit_section = format!(
        "\n[audit]\nfile = {}\nmax_size = \"1GiB\"\n",
        toml_str(audit.to_str().unwrap())
    );
    let config_text = format!("{base}{audit_section}");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &config_text).unwrap();
    let make = |args: &[&str]| {
        let mut all = vec!["keys", "create"];
        all.extend(args);
        let out = Cli::new(&all)
            .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
            .env("MCPGW_CONFIG", config.to_str().unwrap())
            .run();
        assert!(out.status.success(), "{}", all_output(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let good = make(&["good"]);
    let scoped = make(&["scoped", "--servers", "every", "--tools", "every__echo"]);
    let limited = make(&["limited", "--rate", "20/s"]);
    let expired = make(&["expired", "--expires", "0s"]);
    let revoked = make(&["revoked"]);
    let revoke = Cli::new(&["keys", "revoke", "revoked"])
        .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
        .run();
    assert!(revoke.status.success());
    let face = Face::launch(&config_text, Some(&keys), &[]).await;
    // The file the gateway reads (and reloads).
    let config = face.dir.path().join("config.toml");
    let pid = face.child.id();
    let url = face.url();
    let key_of = |who: Who| -> Option<String> {
        match who {
            Who::Good => Some(good.clone()),
            Who::Scoped => Some(scoped.clone()),
            Who::Limited => Some(limited.clone()),
            Who::Expired => Some(expired.clone()),
            Who::Revoked => Some(revoked.clone()),
            Who::Wrong => Some("mcpgw_this-key-was-never-made".into()),
            Who::Nobody => None,
        }
    };
    // Everyone's calls, until the deadline.
    let tally = Arc::new(Tally::default());
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut clients = vec![];
    for n in 0..CLIENTS {
        let who = KINDS[n % KINDS.len()];
        let key = key_of(who);
        let (url, tally, failures) = (url.clone(), tally.clone(), failures.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                // Each server every other call: for the scoped key, one outside its scope.
                let tool = if i.is_multiple_of(2) {
                    "other__echo"
                } else {
                    "every__echo"
                };
                let body = json!({ "jsonrpc": "2.0", "id": i, "method": "tools/call",
                    "params": modern(json!({ "name": tool, "arguments": { "message": "load" } })) })
                .to_string();
                let mut request = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream");
                for (k, v) in standard_headers(&body) {
                    request = request.header(k, v);
                }
                if let Some(key) = &key {
                    request = request.header("x-api-key", key);
                }
                tally.requests.fetch_add(1, Ordering::Relaxed);
                let got = match request
                    .body(body)
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await
                {
                    Ok(got) => got,
                    Err(e) => {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{who:?}: no answer: {e}"));
                        continue;
                    }
                };
                let status = got.status().as_u16();
                let text = got.text().await.unwrap_or_default();
                let answer = common::face::events(&text)
                    .into_iter()
                    .find(|m| m["id"] == i);
                let fail = |why: String| {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{who:?} {tool}: {why}"))
                };
                match (who, status) {
                    (Who::Nobody, 401) | (Who::Expired | Who::Revoked | Who::Wrong, 403) => {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    (Who::Limited, 429) => {
                        tally.limited.fetch_add(1, Ordering::Relaxed);
                    }
                    (Who::Scoped, _) if tool == "other__echo" => {
                        let message = answer
                            .as_ref()
                            .and_then(|a| a["error"]["message"].as_str())
                            .unwrap_or_default();
                        if message.contains("may use only") {
                            tally.scope_errors.fetch_add(1, Ordering::Relaxed);
                        } else {
                            fail(format!("outside its scope, {status}: {text}"));
                        }
                    }
                    (Who::Good | Who::Scoped | Who::Limited, 200) => {
                        match answer
                            .as_ref()
                            .map(|a| a["result"]["content"][0]["text"].clone())
                        {
                            Some(Value::String(s)) if s == "Echo: load" => {
                                tally.ok.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => fail(format!("200 without the echo: {text}")),
                        }
                    }
                    _ => fail(format!("unexpected {status}: {text}")),
                }
            }
        }));
    }
    // Meanwhile: a server added, then removed, and the memory watched.
    let third = Setup::new()
        .server(Server::everything("every"))
        .server(Server::everything("other"))
        .server(Server::everything("third"))
        .config_text();
    // Keep `every` and `other` as they are (their markers would differ): add `third` only.
    let third_section = &third[third.find("[servers.third]").unwrap()..];
    tokio::time::sleep(Duration::from_secs(secs / 3)).await;
    let early_kib = rss_kib(pid);
    std::fs::write(&config, format!("{config_text}\n{third_section}")).unwrap();
    tokio::time::sleep(Duration::from_secs(secs / 3)).await;
    std::fs::write(&config, &config_text).unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let late_kib = rss_kib(pid);
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {} requests went wrong, the first: {:#?}\n--- log tail ---\n{}",
        failures.len(),
        tally.requests.load(Ordering::Relaxed),
        &failures[..failures.len().min(10)],
        face.log()
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let requests = tally.requests.load(Ordering::Relaxed);
    let (ok, refused, limited_n, scope) = (
        tally.ok.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.limited.load(Ordering::Relaxed),
        tally.scope_errors.load(Ordering::Relaxed),
    );
    eprintln!(
        "{requests} requests in {secs} s: {ok} answered, {refused} refused for their key, {limited_n} over their rate, {scope} outside their scope; RSS {early_kib} KiB → {late_kib} KiB"
    );
    assert!(ok > 0 && refused > 0 && limited_n > 0 && scope > 0);
    assert!(
        late_kib < early_kib * 2 + 64 * 1024,
        "memory grew from {early_kib} KiB to {late_kib} KiB"
    );
    // Both reloads were taken, and nothing was lost on the servers left alone (above).
    let log = face.log();
    assert!(log.matches("config reloaded").count() >= 2, "{log}");
    // One audit line per decision, no key in any.
    let text = std::fs::read_to_string(&audit).unwrap();
    let decisions = text
        .lines()
        .filter(|l| l.contains(r#""event":"auth""#))
        .count() as u64;
    assert_eq!(decisions, requests, "one audit line per request decided");
    for key in [&good, &scoped, &limited, &expired, &revoked] {
        assert!(!text.contains(key.as_str()), "a key in the audit log");
    }
    let calls = text
        .lines()
        .filter(|l| l.contains(r#""event":"tool_call""#))
        .count() as u64;
    assert!(
        calls >= ok,
        "every call that ran is audited: {calls} < {ok}"
    );
}
