//! Tasks, in both eras and between them.
//!
//! The handshake era (2025-11-25) asks for a task with `params.task` on `tools/call`; the
//! server answers `{"task": Task}`, `tasks/get` reports the `Task` (with `ttl` and
//! `pollInterval`), `tasks/result` waits for the outcome, and a server that needs input sends
//! requests that name the task in `_meta` ([`RELATED_TASK`]). The tasks extension of
//! 2026-07-28 lets the server answer with the task itself (`resultType: "task"`, `ttlMs`,
//! `pollIntervalMs`); its `tasks/get` carries the outcome, or the server's `inputRequests`,
//! which `tasks/update` answers. mcpgw bridges the two:
//!
//! - **A handshake-era client, a server of 2026-07-28** ([`Via::Modern`]). A task the client
//!   asked for is shown in its era's shape; its `tasks/result` polls the server to the end,
//!   asking the client for input as the server's own requests would have. A call made without
//!   a task that the server serves only as one (it answers −32021 naming the extension) is
//!   made again with the extension and polled to its end here, as the spec suggests for
//!   clients of 2025-11-25: the client just gets its answer.
//! - **A client of 2026-07-28, a handshake-era server** ([`Via::Handshake`]). A tool whose
//!   `execution.taskSupport` is `required` (or `optional`, for a client that declared the
//!   extension) is called as a task. A client that declared the extension gets the task: its
//!   `tasks/get` carries the outcome (from a `tasks/result` that mcpgw keeps open from the
//!   start) and, as `inputRequests`, the server's requests about the task, which
//!   `tasks/update` answers. A client that did not declare it gets the outcome of
//!   `tasks/result` as the call's answer.
//!
//! Same-era tasks are relayed as they are.
//!
//! A 2026-07-28 client's `subscriptions/listen` with `taskIds` hears `notifications/tasks` for
//! its tasks at handshake-era servers (from their `notifications/tasks/status`, the outcome
//! inlined once known) and at 2026-07-28 servers (through a listen of mcpgw's own there, which
//! ends with the client's). A handshake-era client polls a 2026-07-28 server's task; it is not
//! sent status notifications for it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::inflight::Answer;
use super::stateless::{self, MISSING_REQUIRED_CLIENT_CAPABILITY, TASKS};
use super::{Done, Failure, Session, bridge};
use crate::hub::{Kind, related_task};
use crate::protocol::{
    ErrorObject, Outcome, Request, RequestId, code, param_str, parse_params, raw,
};
use crate::upstream::{CallError, UpstreamHandle};

/// The `_meta` key naming the task a message is about (handshake era).
pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// Polling a task: what a server says, within these bounds.
const DEFAULT_POLL: Duration = Duration::from_secs(1);
const MIN_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_secs(10);

/// Whether a handshake-era client's request to a server of 2026-07-28 carries the tasks
/// extension in its capabilities, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Off,
    /// mcpgw declared it because the server serves the call only as a task: the task is
    /// polled to its end here and the client gets the call's answer.
    Driven,
    /// The client asked for a task (`params.task`): it gets one.
    Asked,
}

/// A task this client made, and how it is reached.
pub struct Tracked {
    pub server: usize,
    pub via: Via,
}

pub enum Via {
    /// Client and server are of one era: relayed as they are.
    Same,
    /// A handshake-era client's task at a server of 2026-07-28.
    Modern,
    /// A 2026-07-28 client's task at a handshake-era server.
    Handshake(Mirror),
}

/// What mcpgw knows of a handshake-era server's task that a 2026-07-28 client polls.
#[derive(Default)]
pub struct Mirror {
    /// The server's requests about the task, by the key the client answers with.
    pub inputs: BTreeMap<String, Input>,
    /// The task's outcome, once mcpgw's `tasks/result` has it.
    pub outcome: Option<Outcome>,
    /// A status notification that the task ended, kept until its outcome is known (listens
    /// hear the whole task, as `tasks/get` would show it).
    pub ended: Option<Map<String, Value>>,
}

/// A server's request held for a task's `inputRequests`.
pub struct Input {
    pub theirs: RequestId,
    pub method: String,
    pub params: Option<Box<RawValue>>,
}

/// A handshake-era client's request that mcpgw answers by polling a task of 2026-07-28.
pub struct Polling {
    pub server: usize,
    pub task: String,
    /// `Driven`: the answer is the call's; `Asked`: it answers `tasks/result`.
    pub mode: Mode,
    pub answer: Answer,
    /// Input keys already answered (a server may show them again until it catches up).
    pub seen: Vec<String>,
    pub rounds: u32,
    abort: futures_util::future::AbortHandle,
}

fn renamed(mut task: Map<String, Value>, pairs: &[(&str, &str)]) -> Map<String, Value> {
    for (from, to) in pairs {
        if let Some(v) = task.remove(*from) {
            task.insert((*to).to_owned(), v);
        }
    }
    task
}

/// A handshake-era `Task` as the tasks extension writes it.
pub fn to_modern(task: Map<String, Value>) -> Map<String, Value> {
    renamed(
        task,
        &[("ttl", "ttlMs"), ("pollInterval", "pollIntervalMs")],
    )
}

/// A task of the extension (a `tasks/get` answer, or a `resultType: "task"` result) as the
/// handshake era writes a `Task`.
pub fn to_handshake(mut task: Map<String, Value>) -> Map<String, Value> {
    for key in ["resultType", "result", "error", "inputRequests"] {
        task.remove(key);
    }
    renamed(
        task,
        &[("ttlMs", "ttl"), ("pollIntervalMs", "pollInterval")],
    )
}

pub fn status(task: &Map<String, Value>) -> &str {
    task.get("status").and_then(Value::as_str).unwrap_or("")
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// The outcome a finished task of the extension stands for; `None` while it runs.
pub fn outcome(task: &Map<String, Value>) -> Option<Outcome> {
    let id = task.get("taskId").and_then(Value::as_str).unwrap_or("?");
    let message = task
        .get("statusMessage")
        .and_then(Value::as_str)
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match status(task) {
        "completed" => Some(Ok(raw(task.get("result").unwrap_or(&json!({}))))),
        "failed" => Some(Err(task
            .get("error")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_else(|| {
                ErrorObject::new(code::INTERNAL_ERROR, format!("task `{id}` failed{message}"))
            }))),
        "cancelled" => Some(Err(ErrorObject::new(
            code::INTERNAL_ERROR,
            format!("task `{id}` was cancelled{message}"),
        ))),
        _ => None,
    }
}

/// The task's `result` or `error` member, from a handshake-era server's `tasks/result`.
fn inline(task: &mut Map<String, Value>, outcome: &Outcome) {
    match outcome {
        Ok(result) => {
            let mut result: Value = serde_json::from_str(result.get()).unwrap_or(Value::Null);
            // The handshake era names the task in the result's `_meta`; the task holds it.
            if let Some(meta) = result.get_mut("_meta").and_then(Value::as_object_mut) {
                meta.remove(RELATED_TASK);
                if meta.is_empty() {
                    result.as_object_mut().map(|r| r.remove("_meta"));
                }
            }
            task.insert("result".into(), result);
        }
        Err(e) => {
            task.insert("error".into(), serde_json::to_value(e).unwrap_or_default());
        }
    }
}

/// A tool's `execution.taskSupport` (handshake era).
pub fn task_support(tool: &BTreeMap<String, Box<RawValue>>) -> Option<String> {
    let execution: Value = serde_json::from_str(tool.get("execution")?.get()).ok()?;
    execution.get("taskSupport")?.as_str().map(str::to_owned)
}

/// Whether a server refused a request because it serves it only as a task of the extension.
pub fn needs_tasks(error: &ErrorObject) -> bool {
    error.code == MISSING_REQUIRED_CLIENT_CAPABILITY
        && error
            .data
            .as_ref()
            .and_then(|d| serde_json::from_str::<Value>(d.get()).ok())
            .is_some_and(|d| {
                d.pointer("/requiredCapabilities/extensions")
                    .and_then(|e| e.get(TASKS))
                    .is_some()
            })
}

/// The id of the task a result of the extension is (`resultType: "task"`).
pub fn is_task(result: &RawValue) -> Option<Map<String, Value>> {
    if !result.get().contains("\"task\"") {
        return None;
    }
    let map: Map<String, Value> = serde_json::from_str(result.get()).ok()?;
    (map.get("resultType").and_then(Value::as_str) == Some("task")).then_some(map)
}

/// `params` without the handshake era's `task` member, when it had one.
pub fn without_task(params: &RawValue) -> Option<Box<RawValue>> {
    if !params.get().contains("\"task\"") {
        return None;
    }
    let mut map: BTreeMap<String, &RawValue> = serde_json::from_str(params.get()).ok()?;
    map.remove("task")?;
    Some(raw(&map))
}

/// `params` asking a handshake-era server for a task.
pub fn with_task(params: &RawValue) -> Box<RawValue> {
    let empty = raw(&json!({}));
    let mut map: BTreeMap<String, &RawValue> =
        serde_json::from_str(params.get()).unwrap_or_default();
    map.entry("task".into()).or_insert(&empty);
    raw(&map)
}

/// `capabilities` (a handshake-era client's) with the tasks extension declared.
pub fn with_extension(capabilities: Option<&RawValue>) -> Box<RawValue> {
    let mut caps: Map<String, Value> = capabilities
        .and_then(|c| serde_json::from_str(c.get()).ok())
        .unwrap_or_default();
    let extensions = caps
        .entry("extensions")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(e) = extensions {
        e.insert(TASKS.into(), json!({}));
    }
    raw(&caps)
}

/// `result` with `_meta` naming its task, as a handshake-era `tasks/result` answers.
pub fn with_related(result: &RawValue, task: &str) -> Box<RawValue> {
    let Ok(mut map) = serde_json::from_str::<Map<String, Value>>(result.get()) else {
        return result.to_owned();
    };
    let meta = map.entry("_meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(RELATED_TASK.into(), json!({ "taskId": task }));
    }
    raw(&map)
}

/// A session and whom its client is: what mcpgw's own requests about the client's tasks
/// carry (a server that forwards identity sees the same person polling).
pub(super) type Origin = (u64, Option<std::sync::Arc<crate::principal::Principal>>);

/// One request of mcpgw's own to a server, its failures as JSON-RPC errors.
async fn ask(
    handle: UpstreamHandle,
    origin: Origin,
    method: &'static str,
    params: Box<RawValue>,
) -> Outcome {
    match handle
        .request_as(origin.0, origin.1, method, Some(params))
        .reply
        .await
    {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => Err(ErrorObject::new(code::UPSTREAM_UNAVAILABLE, e.to_string())),
        Err(_) => Err(ErrorObject::new(
            code::UPSTREAM_UNAVAILABLE,
            format!("server `{}` dropped the request", handle.name),
        )),
    }
}

fn object(result: &RawValue) -> Result<Map<String, Value>, ErrorObject> {
    serde_json::from_str(result.get()).map_err(|e| {
        ErrorObject::new(
            code::INTERNAL_ERROR,
            format!("the server's task is malformed: {e}"),
        )
    })
}

/// Polls a task of the extension until it ends or asks for input not yet answered (`seen`),
/// sending `update` (a `tasks/update`'s params) first.
async fn poll(
    handle: UpstreamHandle,
    origin: Origin,
    task: String,
    capabilities: Box<RawValue>,
    update: Option<Box<RawValue>>,
    seen: Vec<String>,
    deadline: Instant,
) -> Result<Result<Map<String, Value>, ErrorObject>, Failure> {
    let stamped =
        |params: Value| stateless::with_capabilities(Some(&raw(&params)), Some(&capabilities));
    let started = Instant::now();
    let call = |method: &'static str, params: Box<RawValue>| {
        let (handle, origin) = (handle.clone(), origin.clone());
        async move {
            match handle
                .request_as(origin.0, origin.1, method, Some(params))
                .reply
                .await
            {
                Ok(Ok(outcome)) => Ok(outcome),
                Ok(Err(e)) => Err(Failure::Call(e)),
                Err(_) => Err(Failure::Call(CallError::Died {
                    server: handle.name.clone(),
                    reason: "the request was dropped".into(),
                })),
            }
        }
    };
    if let Some(update) = update {
        let update: Value = serde_json::from_str(update.get()).unwrap_or_default();
        if let Err(e) = call("tasks/update", stamped(update)).await? {
            return Ok(Err(e));
        }
    }
    let mut wait = Duration::ZERO;
    loop {
        if !wait.is_zero() {
            if Instant::now() + wait > deadline {
                return Err(Failure::Timeout(started.elapsed()));
            }
            tokio::time::sleep(wait).await;
        }
        let got = match call("tasks/get", stamped(json!({ "taskId": task }))).await? {
            Ok(got) => got,
            Err(e) => return Ok(Err(e)),
        };
        let mut map = match object(&got) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        let status = status(&map).to_owned();
        if is_terminal(&status) {
            return Ok(Ok(map));
        }
        if status == "input_required"
            && let Some(Value::Object(asked)) = map.get_mut("inputRequests")
        {
            asked.retain(|key, _| !seen.contains(key));
            if !asked.is_empty() {
                return Ok(Ok(map));
            }
        }
        wait = map
            .get("pollIntervalMs")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_POLL, Duration::from_millis)
            .clamp(MIN_POLL, MAX_POLL);
    }
}

impl Session {
    /// A server's answer that makes or needs a task, when the client and server are of
    /// different eras: handled here (true), or left to the plain path (false).
    pub(super) fn on_task_reply(
        &mut self,
        id: &RequestId,
        server: usize,
        answer: Answer,
        retry: Option<&bridge::Retry>,
        reply: &Result<Outcome, Failure>,
    ) -> bool {
        let Ok(outcome) = reply else {
            return false;
        };
        if let Some(retry) = retry {
            // A handshake-era client, a server of 2026-07-28.
            match outcome {
                Err(e)
                    if needs_tasks(e)
                        && retry.tasks == Mode::Off
                        && retry.method == "tools/call" =>
                {
                    self.forward_round(
                        id.clone(),
                        server,
                        "tools/call",
                        retry.params.clone(),
                        answer,
                        retry.rounds,
                        Mode::Driven,
                    );
                    true
                }
                Ok(result) => {
                    let Some(task) = is_task(result) else {
                        return false;
                    };
                    let Some(task_id) = task.get("taskId").and_then(Value::as_str) else {
                        return false;
                    };
                    let task_id = task_id.to_owned();
                    if retry.tasks == Mode::Asked {
                        self.track(task_id, server, Via::Modern);
                        let task = to_handshake(task);
                        self.respond(id.clone(), Ok(raw(&json!({ "task": task }))));
                    } else {
                        self.start_poll(id.clone(), server, task_id, Mode::Driven, answer, None, 0);
                    }
                    true
                }
                Err(_) => false,
            }
        } else if self.stateless()
            && answer == Answer::Tool
            && !self.modern(server)
            && let Ok(result) = outcome
            && let Some(task_id) = super::created_task(result)
        {
            // A client of 2026-07-28, a handshake-era server.
            if stateless::declares_extension(self.capabilities.as_deref(), TASKS) {
                let Ok(created) = serde_json::from_str::<Value>(result.get()) else {
                    return false;
                };
                let Some(Value::Object(task)) = created.get("task").cloned() else {
                    return false;
                };
                self.track(task_id.clone(), server, Via::Handshake(Mirror::default()));
                self.fetch_outcome(server, task_id);
                let mut task = to_modern(task);
                task.insert("resultType".into(), json!("task"));
                self.respond(id.clone(), Ok(raw(&task)));
            } else {
                // The client cannot poll: its call waits for the task's outcome.
                self.hub.task(self.membership.id, task_id.clone());
                self.forward_round(
                    id.clone(),
                    server,
                    "tasks/result",
                    Some(raw(&json!({ "taskId": task_id }))),
                    answer,
                    0,
                    Mode::Off,
                );
            }
            true
        } else {
            false
        }
    }

    /// Whether a server speaks 2026-07-28.
    pub(super) fn modern(&self, server: usize) -> bool {
        self.view.servers[server]
            .info
            .as_ref()
            .is_some_and(|i| i.protocol_version.is_stateless())
    }

    /// A server's handle, or the error that says it is gone.
    fn reach(&self, server: usize) -> Result<UpstreamHandle, ErrorObject> {
        self.handle(server).cloned().ok_or_else(|| {
            let name = &self.view.servers[server].config.name;
            ErrorObject::new(
                code::UPSTREAM_UNAVAILABLE,
                format!("server `{name}` is not available"),
            )
        })
    }

    pub(super) fn track(&mut self, task: String, server: usize, via: Via) {
        self.hub.task(self.membership.id, task.clone());
        self.tasks.insert(task, Tracked { server, via });
    }

    /// A 2026-07-28 client's call to a handshake-era tool that runs as a task: `params`
    /// asking for one.
    pub(super) fn as_task(&self, server: usize, params: Box<RawValue>) -> Box<RawValue> {
        let view = &self.view.servers[server];
        if self.modern(server)
            || !view.info.as_ref().is_some_and(|i| {
                i.capabilities
                    .pointer("/tasks/requests/tools/call")
                    .is_some()
            })
        {
            return params;
        }
        let Some(name) = param_str(&params, "name") else {
            return params;
        };
        let support = view
            .catalog
            .get(Kind::Tools)
            .iter()
            .find(|t| crate::hub::item_text(t, "name").as_deref() == Some(&name))
            .and_then(|t| task_support(t));
        let declared = stateless::declares_extension(self.capabilities.as_deref(), TASKS);
        match support.as_deref() {
            Some("required") => with_task(&params),
            Some("optional") if declared => with_task(&params),
            _ => params,
        }
    }

    /// Keeps a `tasks/result` open at a handshake-era server for a task a 2026-07-28 client
    /// polls: it brings the server's requests about the task, then its outcome.
    fn fetch_outcome(&mut self, server: usize, task: String) {
        let Some(handle) = self.handle(server).cloned() else {
            return;
        };
        let origin = self.origin();
        let params = raw(&json!({ "taskId": task }));
        self.work.push(
            async move {
                let outcome = ask(handle, origin, "tasks/result", params).await;
                Done::Mirrored { task, outcome }
            }
            .boxed(),
        );
    }

    /// Starts polling `task` for request `id` of a handshake-era client.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_poll(
        &mut self,
        id: RequestId,
        server: usize,
        task: String,
        mode: Mode,
        answer: Answer,
        update: Option<Box<RawValue>>,
        rounds: u32,
    ) {
        let handle = match self.reach(server) {
            Ok(h) => h,
            Err(e) => return self.respond(id, Err(e)),
        };
        let seen = self
            .polls
            .get(&id)
            .map(|p| p.seen.clone())
            .unwrap_or_default();
        let deadline = Instant::now() + self.config.gateway.max_timeout;
        let capabilities = with_extension(self.capabilities.as_deref());
        let work = poll(
            handle,
            self.origin(),
            task.clone(),
            capabilities,
            update,
            seen.clone(),
            deadline,
        );
        let (work, abort) = futures_util::future::abortable(work);
        let poll_id = id.clone();
        self.work.push(
            work.map(move |polled| match polled {
                Ok(polled) => Done::Polled {
                    id: poll_id,
                    polled,
                },
                Err(_) => Done::Aborted,
            })
            .boxed(),
        );
        self.polls.insert(
            id,
            Polling {
                server,
                task,
                mode,
                answer,
                seen,
                rounds,
                abort,
            },
        );
    }

    /// A poll ended: the task's end answers the client; its input is asked of the client.
    pub(super) fn on_polled(
        &mut self,
        id: RequestId,
        polled: Result<Result<Map<String, Value>, ErrorObject>, Failure>,
    ) {
        let Some(p) = self.polls.get(&id) else {
            return; // cancelled meanwhile
        };
        let (server, answer, mode) = (p.server, p.answer, p.mode);
        let task = match polled {
            Err(failure) => {
                self.polls.remove(&id);
                let name = self.view.servers[server].config.name.clone();
                return self.respond(id, failure.outcome(answer, &name));
            }
            Ok(Err(e)) => {
                self.polls.remove(&id);
                return self.respond(id, Err(e));
            }
            Ok(Ok(task)) => task,
        };
        if let Some(outcome) = outcome(&task) {
            let p = self.polls.remove(&id).expect("polling");
            let outcome = match (outcome, mode) {
                (Ok(result), Mode::Asked) => Ok(with_related(&result, &p.task)),
                (outcome, _) => outcome,
            };
            return self.respond(id, outcome);
        }
        // Input: asked of the client as a server of its era would ask it.
        let asked = raw(&json!({
            "resultType": "input_required",
            "inputRequests": task.get("inputRequests").cloned().unwrap_or_default(),
        }));
        let p = self.polls.get_mut(&id).expect("polling");
        let retry = bridge::Retry {
            method: "tasks/update".into(),
            params: Some(raw(&json!({ "taskId": p.task }))),
            rounds: p.rounds,
            tasks: mode,
        };
        self.ask_for_input(id, server, answer, retry, &asked);
    }

    /// Every answer to a task's input is in: the server gets them and polling goes on.
    pub(super) fn update_task(&mut self, id: RequestId, retry: bridge::Retry) {
        let Some(p) = self.polls.get_mut(&id) else {
            return;
        };
        if let Some(responses) = retry
            .params
            .as_deref()
            .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
            .and_then(|r| r.get("inputResponses").and_then(Value::as_object).cloned())
        {
            p.seen.extend(responses.keys().cloned());
        }
        let (server, task, mode, answer) = (p.server, p.task.clone(), p.mode, p.answer);
        self.start_poll(id, server, task, mode, answer, retry.params, retry.rounds);
    }

    /// The client cancelled request `id`: a task polled for it is cancelled at its server.
    pub(super) fn cancel_poll(&mut self, id: &RequestId) -> bool {
        let Some(p) = self.polls.remove(id) else {
            return false;
        };
        p.abort.abort();
        self.cancel_bridge(id);
        // A `tasks/result` given up is only that: the task goes on (its era cancels tasks
        // with `tasks/cancel`). A call polled to its end for the client is the call.
        if p.mode != Mode::Driven {
            return true;
        }
        if let Some(handle) = self.handle(p.server).cloned() {
            let params = stateless::with_capabilities(
                Some(&raw(&json!({ "taskId": p.task }))),
                Some(&with_extension(self.capabilities.as_deref())),
            );
            tokio::spawn(ask(handle, self.origin(), "tasks/cancel", params));
        }
        true
    }

    /// `tasks/*` for a task of this client's.
    pub(super) fn route_task(&mut self, request: Request) -> Result<(), (RequestId, ErrorObject)> {
        let unknown = |id| {
            Err((
                id,
                ErrorObject::new(code::INVALID_PARAMS, "Invalid params: unknown taskId"),
            ))
        };
        let Some(task) = request
            .params
            .as_deref()
            .and_then(|p| param_str(p, "taskId"))
        else {
            return unknown(request.id);
        };
        let Some(tracked) = self.tasks.get(&task) else {
            return unknown(request.id);
        };
        let server = tracked.server;
        match &tracked.via {
            Via::Same => {
                let method = request.method.clone();
                self.forward(request.id, server, &method, request.params, Answer::Relay);
                Ok(())
            }
            Via::Modern => self.modern_task(request, server, task),
            Via::Handshake(_) => self.mirrored_task(request, server, task),
        }
    }

    /// A handshake-era client's `tasks/*` for its task at a server of 2026-07-28.
    fn modern_task(
        &mut self,
        request: Request,
        server: usize,
        task: String,
    ) -> Result<(), (RequestId, ErrorObject)> {
        let handle = self.reach(server).map_err(|e| (request.id.clone(), e))?;
        let origin = self.origin();
        let capabilities = with_extension(self.capabilities.as_deref());
        let params = stateless::with_capabilities(
            Some(&raw(&json!({ "taskId": task }))),
            Some(&capabilities),
        );
        match request.method.as_str() {
            "tasks/result" => {
                self.start_poll(
                    request.id,
                    server,
                    task,
                    Mode::Asked,
                    Answer::Relay,
                    None,
                    0,
                );
            }
            "tasks/get" => self.answer_later(request.id, async move {
                let got = ask(handle, origin, "tasks/get", params).await?;
                Ok(raw(&to_handshake(object(&got)?)))
            }),
            "tasks/cancel" => self.answer_later(request.id, async move {
                ask(
                    handle.clone(),
                    origin.clone(),
                    "tasks/cancel",
                    params.clone(),
                )
                .await?;
                // This era answers with the task.
                let got = ask(handle, origin, "tasks/get", params).await?;
                Ok(raw(&to_handshake(object(&got)?)))
            }),
            other => {
                let error =
                    ErrorObject::new(code::METHOD_NOT_FOUND, format!("Method not found: {other}"));
                return Err((request.id, error));
            }
        }
        Ok(())
    }

    /// A 2026-07-28 client's `tasks/*` for its task at a handshake-era server.
    fn mirrored_task(
        &mut self,
        request: Request,
        server: usize,
        task: String,
    ) -> Result<(), (RequestId, ErrorObject)> {
        let handle = self.reach(server).map_err(|e| (request.id.clone(), e))?;
        let origin = self.origin();
        let params = raw(&json!({ "taskId": task }));
        let Some(Tracked {
            via: Via::Handshake(mirror),
            ..
        }) = self.tasks.get_mut(&task)
        else {
            unreachable!("a mirrored task");
        };
        match request.method.as_str() {
            "tasks/get" => {
                let asked: Map<String, Value> = mirror
                    .inputs
                    .iter()
                    .map(|(key, i)| {
                        (
                            key.clone(),
                            json!({ "method": i.method, "params": i.params }),
                        )
                    })
                    .collect();
                let known = mirror.outcome.clone();
                self.answer_later(request.id, async move {
                    let got =
                        ask(handle.clone(), origin.clone(), "tasks/get", params.clone()).await?;
                    let mut task = to_modern(object(&got)?);
                    match status(&task) {
                        s if is_terminal(s) && s != "cancelled" => {
                            let outcome = match known {
                                Some(o) => o,
                                None => ask(handle, origin, "tasks/result", params).await,
                            };
                            inline(&mut task, &outcome);
                        }
                        // Until the server's request about it arrives, there is nothing to ask.
                        "input_required" if asked.is_empty() => {
                            task.insert("status".into(), json!("working"));
                        }
                        "input_required" => {
                            task.insert("inputRequests".into(), Value::Object(asked));
                        }
                        _ => {}
                    }
                    Ok(raw(&task))
                });
            }
            "tasks/update" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Update {
                    input_responses: Map<String, Value>,
                }
                let update = parse_params::<Update>(request.params.as_deref())
                    .map_err(|e| (request.id.clone(), e))?;
                // Keys not outstanding are ignored, as the spec says.
                for (key, response) in update.input_responses {
                    if let Some(input) = mirror.inputs.remove(&key) {
                        handle.respond(input.theirs, Ok(raw(&response)));
                    }
                }
                self.respond(request.id, Ok(raw(&json!({}))));
            }
            "tasks/cancel" => {
                for (_, input) in std::mem::take(&mut mirror.inputs) {
                    let error = ErrorObject::new(code::INTERNAL_ERROR, "the task was cancelled");
                    handle.respond(input.theirs, Err(error));
                }
                self.answer_later(request.id, async move {
                    ask(handle, origin, "tasks/cancel", params).await?;
                    Ok(raw(&json!({})))
                });
            }
            other => {
                let error =
                    ErrorObject::new(code::METHOD_NOT_FOUND, format!("Method not found: {other}"));
                return Err((request.id, error));
            }
        }
        Ok(())
    }

    /// A handshake-era server asks something about a task a 2026-07-28 client polls: held
    /// for that task's `inputRequests`. False when the task is not such a one.
    pub(super) fn hold_task_input(&mut self, request: &Request) -> bool {
        let Some(task) = related_task(request.params.as_deref()) else {
            return false;
        };
        let Some(Tracked {
            via: Via::Handshake(mirror),
            ..
        }) = self.tasks.get_mut(&task)
        else {
            return false;
        };
        self.next_held += 1;
        mirror.inputs.insert(
            format!("mcpgw-{}", self.next_held),
            Input {
                theirs: request.id.clone(),
                method: request.method.clone(),
                params: request.params.clone(),
            },
        );
        true
    }

    /// mcpgw's `tasks/result` for a mirrored task came back.
    pub(super) fn on_mirrored(&mut self, task: &str, outcome: Outcome) {
        let Some(Tracked {
            via: Via::Handshake(mirror),
            ..
        }) = self.tasks.get_mut(task)
        else {
            return;
        };
        mirror.outcome = Some(outcome);
        if let Some(ended) = mirror.ended.take() {
            self.tell_task_listeners(task, ended);
        }
    }

    /// A handshake-era server's task status, for the 2026-07-28 client's listens that asked.
    pub(super) fn on_task_status(&mut self, params: Option<&RawValue>) {
        let Some(params) = params else { return };
        let Ok(task) = serde_json::from_str::<Map<String, Value>>(params.get()) else {
            return;
        };
        let Some(id) = task
            .get("taskId")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return;
        };
        let Some(Tracked {
            via: Via::Handshake(mirror),
            ..
        }) = self.tasks.get_mut(&id)
        else {
            return;
        };
        let task = to_modern(task);
        if is_terminal(status(&task)) && status(&task) != "cancelled" && mirror.outcome.is_none() {
            // Its outcome is on its way (mcpgw's `tasks/result`): told with it.
            mirror.ended = Some(task);
            return;
        }
        self.tell_task_listeners(&id, task);
    }

    /// Tells the listens that asked for task `id` of it, its outcome inlined once ended.
    fn tell_task_listeners(&self, id: &str, mut task: Map<String, Value>) {
        if let Some(Tracked {
            via: Via::Handshake(mirror),
            ..
        }) = self.tasks.get(id)
            && is_terminal(status(&task))
            && let Some(outcome) = &mirror.outcome
        {
            inline(&mut task, outcome);
        }
        let task = raw(&task);
        for l in self
            .listens
            .iter()
            .filter(|l| l.listen.task_ids.iter().any(|t| t == id))
        {
            self.notify_client("notifications/tasks", Some(l.listen.tag(Some(&task))));
        }
    }

    /// Whether a task's notifications can be relayed to this (2026-07-28) client: a
    /// handshake-era server's (its status notifications) or a 2026-07-28 server's (through a
    /// listen of mcpgw's own there).
    pub(super) fn relays_task(&self, task: &str) -> bool {
        match self.tasks.get(task) {
            Some(Tracked {
                via: Via::Handshake(_),
                ..
            }) => true,
            Some(Tracked {
                via: Via::Same,
                server,
            }) => self.modern(*server),
            _ => false,
        }
    }

    /// Listens at each 2026-07-28 server for the client's tasks there; the listens made.
    pub(super) fn listen_for_tasks(&self, tasks: &[String]) -> Vec<(usize, u64)> {
        let mut by_server: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
        for task in tasks {
            if let Some(Tracked {
                via: Via::Same,
                server,
            }) = self.tasks.get(task)
                && self.modern(*server)
            {
                by_server.entry(*server).or_default().push(task);
            }
        }
        by_server
            .into_iter()
            .filter_map(|(server, ids)| {
                let handle = self.handle(server)?;
                let params = stateless::with_capabilities(
                    Some(&raw(&json!({ "notifications": { "taskIds": ids } }))),
                    self.capabilities.as_deref(),
                );
                // Its answer is the stream its notifications come on; it ends when cancelled.
                let call =
                    handle.request_for(self.membership.id, "subscriptions/listen", Some(params));
                Some((server, call.id))
            })
            .collect()
    }

    pub(super) fn stop_task_listens(&self, listens: &[(usize, u64)]) {
        for (server, id) in listens {
            if let Some(handle) = self.handle(*server) {
                handle.cancel(*id, "the client's subscription ended");
            }
        }
    }

    /// A 2026-07-28 server's task notification, for this (2026-07-28) client's listens.
    pub(super) fn on_modern_task_notification(&self, params: Option<&RawValue>) {
        let Some(task) = params.and_then(|p| param_str(p, "taskId")) else {
            return;
        };
        for l in self
            .listens
            .iter()
            .filter(|l| l.listen.task_ids.contains(&task))
        {
            // Tagged with the client's subscription, not mcpgw's own at the server.
            self.notify_client("notifications/tasks", Some(l.listen.tag(params)));
        }
    }

    /// A handshake-era client's `tasks/list`: a server of 2026-07-28 has none, so its tasks
    /// are each asked for.
    pub(super) fn modern_tasks(
        &self,
    ) -> Vec<futures_util::future::BoxFuture<'static, Option<Value>>> {
        let capabilities = with_extension(self.capabilities.as_deref());
        self.tasks
            .iter()
            .filter(|(_, t)| matches!(t.via, Via::Modern))
            .filter_map(|(task, t)| {
                let handle = self.handle(t.server)?.clone();
                let params = stateless::with_capabilities(
                    Some(&raw(&json!({ "taskId": task }))),
                    Some(&capabilities),
                );
                let origin = self.origin();
                Some(
                    async move {
                        let got = ask(handle, origin, "tasks/get", params).await.ok()?;
                        Some(Value::Object(to_handshake(object(&got).ok()?)))
                    }
                    .boxed(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn tasks_change_shape_between_the_eras() {
        let modern = map(json!({
            "resultType": "complete", "taskId": "t", "status": "completed",
            "createdAt": "c", "lastUpdatedAt": "u", "ttlMs": 60000, "pollIntervalMs": 500,
            "result": { "content": [] },
        }));
        let old = to_handshake(modern);
        assert_eq!(
            Value::Object(old.clone()),
            json!({ "taskId": "t", "status": "completed", "createdAt": "c", "lastUpdatedAt": "u", "ttl": 60000, "pollInterval": 500 })
        );
        let back = to_modern(old);
        assert_eq!(back["ttlMs"], 60000);
        assert_eq!(back["pollIntervalMs"], 500);
        assert!(back.get("ttl").is_none());
    }

    #[test]
    fn a_finished_task_stands_for_its_outcome() {
        let done = map(json!({ "taskId": "t", "status": "completed", "result": { "x": 1 } }));
        assert_eq!(outcome(&done).unwrap().unwrap().get(), r#"{"x":1}"#);
        let failed = map(
            json!({ "taskId": "t", "status": "failed", "error": { "code": -32603, "message": "boom" } }),
        );
        assert_eq!(outcome(&failed).unwrap().unwrap_err().message, "boom");
        let cancelled = map(json!({ "taskId": "t", "status": "cancelled" }));
        assert!(
            outcome(&cancelled)
                .unwrap()
                .unwrap_err()
                .message
                .contains("cancelled")
        );
        let working = map(json!({ "taskId": "t", "status": "working" }));
        assert!(outcome(&working).is_none());
        let asks = map(json!({ "taskId": "t", "status": "input_required" }));
        assert!(outcome(&asks).is_none());
    }

    #[test]
    fn the_results_outcome_is_inlined_without_its_task_meta() {
        let mut task = map(json!({ "taskId": "t", "status": "completed" }));
        let result = raw(&json!({ "content": [], "_meta": { RELATED_TASK: { "taskId": "t" } } }));
        inline(&mut task, &Ok(result));
        assert_eq!(task["result"], json!({ "content": [] }));
        let mut task = map(json!({ "taskId": "t", "status": "failed" }));
        inline(&mut task, &Err(ErrorObject::new(-32000, "no")));
        assert_eq!(task["error"]["message"], "no");
    }

    #[test]
    fn errors_asking_for_the_extension_are_recognised() {
        let needs = ErrorObject {
            code: MISSING_REQUIRED_CLIENT_CAPABILITY,
            message: "Missing required client capability".into(),
            data: Some(raw(
                &json!({ "requiredCapabilities": { "extensions": { TASKS: {} } } }),
            )),
        };
        assert!(needs_tasks(&needs));
        let other = ErrorObject {
            data: Some(raw(&json!({ "requiredCapabilities": { "sampling": {} } }))),
            ..needs
        };
        assert!(!needs_tasks(&other));
    }

    #[test]
    fn task_params_and_capabilities_are_rewritten() {
        let asked = raw(&json!({ "name": "t", "task": { "ttl": 5 } }));
        assert_eq!(without_task(&asked).unwrap().get(), r#"{"name":"t"}"#);
        assert!(without_task(&raw(&json!({ "name": "task" }))).is_none());
        assert_eq!(
            with_task(&raw(&json!({ "name": "t" }))).get(),
            r#"{"name":"t","task":{}}"#
        );
        let caps: Value =
            serde_json::from_str(with_extension(Some(&raw(&json!({ "roots": {} })))).get())
                .unwrap();
        assert_eq!(caps, json!({ "roots": {}, "extensions": { TASKS: {} } }));
        let tagged: Value =
            serde_json::from_str(with_related(&raw(&json!({ "content": [] })), "t").get()).unwrap();
        assert_eq!(tagged["_meta"][RELATED_TASK]["taskId"], "t");
        let task = raw(&json!({ "resultType": "task", "taskId": "t", "status": "working" }));
        assert!(is_task(&task).is_some());
        assert!(is_task(&raw(&json!({ "content": [{ "text": "task" }] }))).is_none());
    }

    #[test]
    fn a_tools_task_support_is_read() {
        let tool: BTreeMap<String, Box<RawValue>> = serde_json::from_value(
            json!({ "name": "t", "execution": { "taskSupport": "required" } }),
        )
        .unwrap();
        assert_eq!(task_support(&tool).as_deref(), Some("required"));
        let plain: BTreeMap<String, Box<RawValue>> =
            serde_json::from_value(json!({ "name": "t" })).unwrap();
        assert_eq!(task_support(&plain), None);
    }
}
