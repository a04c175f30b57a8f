//! What a session reports of its client's requests to servers: each one, when it ends, to the
//! hub's stats (per server, and per key for a client of the HTTP face), and tool calls to the
//! audit log (who, server, tool, how long, how it ended; arguments when `[audit] arguments`).

use std::collections::HashMap;

use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::audit;
use crate::hub::{Stats, View};
use crate::protocol::{Outcome, RequestId};

struct Call {
    started: Instant,
    server: usize,
    /// A tool call: the tool as the client named it, and its arguments (for the audit log).
    tool: Option<(String, Option<serde_json::Value>)>,
}

/// The client's requests that went to a server and have not been answered yet.
#[derive(Default)]
pub struct Calls {
    open: HashMap<RequestId, Call>,
}

/// How a request ended.
pub enum Ending<'a> {
    Answered(&'a Outcome),
    Cancelled,
}

impl Calls {
    /// Request `id` goes to `server` (the first time it does: a request made again after the
    /// client's input is still the one call).
    pub fn start(
        &mut self,
        id: &RequestId,
        server: usize,
        tool: Option<(&str, Option<&RawValue>)>,
    ) {
        self.open.entry(id.clone()).or_insert_with(|| Call {
            started: Instant::now(),
            server,
            tool: tool.map(|(name, params)| {
                let arguments = params
                    .filter(|_| audit::wants_arguments())
                    .and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok())
                    .and_then(|mut p| p.get_mut("arguments").map(serde_json::Value::take))
                    .map(audit::redact);
                (name.to_owned(), arguments)
            }),
        });
    }

    /// Request `id` ended: counted, and a tool call audited.
    pub fn end(
        &mut self,
        id: &RequestId,
        ending: Ending,
        view: &View,
        stats: &Stats,
        key: Option<&str>,
    ) {
        let Some(call) = self.open.remove(id) else {
            return;
        };
        let took = call.started.elapsed();
        let outcome = match ending {
            Ending::Cancelled => "cancelled",
            Ending::Answered(Err(_)) => "error",
            Ending::Answered(Ok(result)) if call.tool.is_some() && tool_failed(result) => {
                "tool_error"
            }
            Ending::Answered(Ok(_)) => "ok",
        };
        let Some(server) = view.servers.get(call.server) else {
            return;
        };
        let server = server.config.name.as_str();
        stats.record(server, key, took, outcome == "ok");
        if let Some((tool, arguments)) = call.tool {
            audit::record(audit::Event::ToolCall {
                key,
                server,
                tool: &tool,
                duration_ms: took.as_millis() as u64,
                outcome,
                arguments,
            });
        }
    }
}

/// A tool result that says the tool failed (`isError: true`), told without parsing it.
fn tool_failed(result: &RawValue) -> bool {
    let text = result.get();
    text.contains("\"isError\":true") || text.contains("\"isError\": true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        let config = crate::config::Config::parse(
            std::path::Path::new("t.toml"),
            "[servers.a]\ncommand = 'a'\n",
        )
        .unwrap();
        View {
            servers: vec![crate::hub::ServerView {
                config: std::sync::Arc::new(config.servers[0].clone()),
                handle: None,
                state: crate::hub::ServerState::Ready,
                info: None,
                catalog: Default::default(),
                cached: false,
                fetching: false,
                hidden: false,
            }],
            ..View::default()
        }
    }

    #[test]
    fn each_call_is_counted_once_when_it_ends() {
        let (view, stats) = (view(), Stats::default());
        let mut calls = Calls::default();
        let ok: Outcome = Ok(crate::protocol::raw(&serde_json::json!({ "content": [] })));
        let failed: Outcome = Ok(crate::protocol::raw(
            &serde_json::json!({ "content": [], "isError": true }),
        ));
        let id = |n: u64| RequestId::from(n);
        calls.start(&id(1), 0, Some(("a__echo", None)));
        calls.start(&id(1), 0, None);
        calls.end(&id(1), Ending::Answered(&ok), &view, &stats, Some("ana"));
        calls.end(&id(1), Ending::Answered(&ok), &view, &stats, Some("ana"));
        calls.start(&id(2), 0, Some(("a__echo", None)));
        calls.end(&id(2), Ending::Answered(&failed), &view, &stats, None);
        calls.start(&id(3), 0, None);
        calls.end(&id(3), Ending::Cancelled, &view, &stats, None);
        let report = stats.report(|_| true, |_| true);
        assert_eq!(
            (report.servers["a"].calls, report.servers["a"].errors),
            (3, 2)
        );
        assert_eq!(report.keys["ana"].calls, 1);
        assert!(calls.open.is_empty());
    }
}
