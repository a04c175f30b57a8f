//! The actor for a child-process server speaking MCP over its stdin/stdout.
//!
//! One task selects over the gateway's commands and the child's stdout. Writes go through a
//! separate writer task so that a child that stops reading its stdin can never stall the
//! reading of its stdout (the classic pipe deadlock). Stderr is drained by a third task into
//! the debug log and a short tail, which is quoted when the child dies so `mcpgw list` and the
//! log can say why. The child runs in its own process group, and shutdown closes its stdin,
//! waits briefly, then signals the whole group: no grandchild outlives the gateway.

use std::collections::VecDeque;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mcpgw_platform::process::{self, ChildWrapper, Program};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio_util::codec::FramedRead;

use super::peer::{Peer, Waiting};
use super::{CallError, ClientHello, Command, Event, ServerInfo, backoff};
use crate::config::StdioConfig;
use crate::protocol::{self, Frame, LineCodec, Message, Notification, Request, Response};

const STDERR_TAIL_LINES: usize = 8;
const STDERR_MAX_LINE: usize = 2000;
/// How long a child may take to exit after its stdin closes, and again after SIGTERM.
const EXIT_GRACE: Duration = Duration::from_secs(2);

pub(super) struct StdioActor {
    pub peer: Peer,
    pub config: StdioConfig,
    pub secrets: super::Secrets,
    pub handshake_timeout: Duration,
    /// `start = "lazy"`: the child is started by the first request (or [`Command::Start`]).
    pub lazy: bool,
    /// Stop the child after this long without a request (nothing pending, no subscription).
    pub idle_stop: Option<Duration>,
    /// Requests that woke the server or came while it started on their account: sent once
    /// it is ready, failed if it cannot start.
    pub held: Vec<Command>,
    /// The resources subscribed to: a server with subscriptions is never stopped as idle.
    pub subscriptions: std::collections::HashSet<String>,
    pub hello: watch::Receiver<Option<Arc<ClientHello>>>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub next_id: Arc<AtomicU64>,
}

/// How one run of the child ended.
enum End {
    /// The gateway is gone: stop for good.
    Shutdown,
    /// Unused for `idle_stop`: stopped until the next request.
    Idle,
    Failed(String),
}

struct Running {
    child: Box<dyn ChildWrapper>,
    stdin: mpsc::UnboundedSender<String>,
    stdout: FramedRead<tokio::process::ChildStdout, LineCodec>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_task: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeResult {
    protocol_version: String,
    #[serde(default)]
    capabilities: serde_json::Value,
    #[serde(default)]
    server_info: serde_json::Value,
    #[serde(default)]
    instructions: Option<String>,
}

impl StdioActor {
    pub async fn run(mut self) {
        let mut attempt = 0;
        let mut generation = 0;
        let mut last_reason = String::new();
        if self.lazy && !self.wait_for_use().await {
            return;
        }
        loop {
            let started = Instant::now();
            generation += 1;
            let reason = match self.run_once(generation).await {
                End::Shutdown => return,
                End::Idle => {
                    tracing::info!(server = %self.peer.name, "stopped after {:?} unused; its next request starts it", self.idle_stop.unwrap_or_default());
                    let _ = self.peer.events.send(Event::Idle {
                        server: self.peer.index,
                    });
                    if !self.wait_for_use().await {
                        return;
                    }
                    attempt = 0;
                    continue;
                }
                End::Failed(reason) => reason,
            };
            if started.elapsed() > Duration::from_secs(60) {
                attempt = 0;
            }
            let retry_in = backoff(attempt);
            attempt += 1;
            // The same failure again (a missing command, say) is only worth a debug line.
            if reason != last_reason {
                tracing::warn!(server = %self.peer.name, "{reason}; restarting in {retry_in:?}");
            } else {
                tracing::debug!(server = %self.peer.name, "{reason}; restarting in {retry_in:?}");
            }
            last_reason.clone_from(&reason);
            let _ = self.peer.events.send(Event::Down {
                server: self.peer.index,
                reason: reason.clone(),
                retry_in,
            });
            if !self.wait_unavailable(retry_in, &reason).await {
                return;
            }
        }
    }

    fn unavailable(&self, reason: &str) -> CallError {
        self.peer.unavailable(reason)
    }

    /// Waits, with no child, until the server is wanted: a request (held until the child is
    /// ready) or [`Command::Start`]. False when the gateway is gone.
    async fn wait_for_use(&mut self) -> bool {
        loop {
            match self.commands.recv().await {
                None => return false,
                Some(request @ Command::Request { .. }) => {
                    self.held.push(request);
                    return true;
                }
                Some(Command::Start) => return true,
                // Nothing to tell a server that is not running, nor to cancel.
                Some(Command::Notify(_) | Command::Respond { .. } | Command::Cancel { .. }) => {}
            }
        }
    }

    /// Handles a request while no child can take it yet: held when the server is starting on
    /// a request's account (it woke up), else failed at once. `Err` when the gateway is gone.
    fn refuse(&mut self, command: Option<Command>, reason: &str) -> Result<(), End> {
        match command {
            None => Err(End::Shutdown),
            Some(request @ Command::Request { .. }) if !self.held.is_empty() => {
                self.held.push(request);
                Ok(())
            }
            Some(Command::Request { reply, .. }) => {
                let _ = reply.send(Err(self.unavailable(reason)));
                Ok(())
            }
            Some(Command::Cancel { id, .. }) => {
                self.held
                    .retain(|c| !matches!(c, Command::Request { id: held, .. } if *held == id));
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    /// Fails the held requests: the start they waited for did not come off.
    fn fail_held(&mut self, reason: &str) {
        for command in self.held.drain(..) {
            if let Command::Request { reply, .. } = command {
                let _ = reply.send(Err(self.peer.unavailable(reason)));
            }
        }
    }

    /// Sits out `delay`, failing every request at once. False when the gateway is gone.
    async fn wait_unavailable(&mut self, delay: Duration, reason: &str) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return true,
                command = self.commands.recv() => if self.refuse(command, reason).is_err() { return false },
            }
        }
    }

    /// Starts the child. Called on the blocking pool: exec of a large binary takes
    /// milliseconds, which would otherwise hold up every other server and the client.
    fn spawn_child(
        c: &StdioConfig,
        name: Arc<str>,
        max_message_bytes: usize,
    ) -> Result<Running, String> {
        let mut child = process::spawn(Program {
            command: &c.command,
            args: &c.args,
            env: &c.env,
            cwd: c.cwd.as_deref(),
        })?;
        let stdin = child.stdin().take().expect("stdin is piped");
        let stdout = child.stdout().take().expect("stdout is piped");
        let stderr = child.stderr().take().expect("stderr is piped");
        tracing::debug!(server = %name, pid = child.id(), "started `{}`", c.command);

        let (tx, rx) = mpsc::unbounded_channel::<String>();
        protocol::spawn_line_writer(stdin, rx);

        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        let name = name.clone();
        let stderr_task = tokio::spawn(async move {
            let mut lines = FramedRead::new(stderr, LineCodec::new(STDERR_MAX_LINE));
            while let Some(Ok(frame)) = lines.next().await {
                let text = match &frame {
                    Frame::Line(l) => String::from_utf8_lossy(l).into_owned(),
                    Frame::TooLong { head, len } => format!(
                        "{}… ({len} bytes)",
                        String::from_utf8_lossy(&head[..head.len().min(200)])
                    ),
                };
                tracing::debug!(target: "mcpgw::upstream::stderr", server = %name, "{text}");
                let mut tail = tail.lock().expect("stderr tail lock");
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(text);
            }
        });

        Ok(Running {
            child,
            stdin: tx,
            stdout: FramedRead::new(stdout, LineCodec::new(max_message_bytes)),
            stderr_tail,
            stderr_task,
        })
    }

    async fn run_once(&mut self, generation: u64) -> End {
        let (mut config, name, max) = (
            self.config.clone(),
            self.peer.name.clone(),
            self.peer.max_message_bytes,
        );
        let secrets = self.secrets.clone();
        let spawned = tokio::task::spawn_blocking(move || {
            let values = config
                .args
                .iter_mut()
                .chain(config.env.iter_mut().map(|(_, v)| v));
            let secret = super::fill_secret(&name, &secrets, values)?;
            Self::spawn_child(&config, name, max).map(|run| (run, secret))
        })
        .await;
        let mut run = match spawned {
            Ok(Ok((run, secret))) => {
                self.peer.secret = secret;
                run
            }
            Ok(Err(reason)) => {
                self.fail_held(&reason);
                return End::Failed(reason);
            }
            Err(e) => {
                let reason = format!("starting it failed: {e}");
                self.fail_held(&reason);
                return End::Failed(reason);
            }
        };
        let end = match self.serve(&mut run, generation).await {
            End::Shutdown => End::Shutdown,
            End::Idle => End::Idle,
            // A child that is dying has usually exited by now, and its last words are on
            // stderr: both make the reason the client and `mcpgw list` see.
            End::Failed(reason) => End::Failed(self.explain(&mut run, reason).await),
        };
        let reason = match &end {
            End::Shutdown => "the gateway is shutting down".to_owned(),
            End::Idle => "it was stopped for being unused".to_owned(),
            End::Failed(r) => r.clone(),
        };
        self.fail_held(&reason);
        self.peer.fail_all(&reason);
        self.subscriptions.clear();
        stop(&mut run).await;
        end
    }

    /// Adds the exit status and the last stderr line, waiting briefly for either.
    async fn explain(&self, run: &mut Running, mut reason: String) -> String {
        const BRIEFLY: Duration = Duration::from_millis(300);
        if let Ok(Ok(Some(status))) = tokio::time::timeout(BRIEFLY, wait_leader(run)).await {
            reason = format!("{reason} ({})", process::describe_exit(status));
            let _ = tokio::time::timeout(BRIEFLY, &mut run.stderr_task).await;
        }
        if let Some(last) = run.stderr_tail.lock().expect("stderr tail lock").back() {
            reason.push_str(&format!("; last stderr line: {last}"));
        }
        reason
    }

    async fn serve(&mut self, run: &mut Running, generation: u64) -> End {
        let hello = match self.wait_for_hello(run).await {
            Ok(h) => h,
            Err(end) => return end,
        };
        let info = match self.handshake(run, &hello).await {
            Ok(info) => info,
            Err(end) => return end,
        };
        tracing::info!(
            server = %self.peer.name,
            protocol = %info.protocol_version,
            "ready: {}",
            info.server_info.get("name").and_then(|n| n.as_str()).unwrap_or("?")
        );
        let _ = self.peer.events.send(Event::Ready {
            server: self.peer.index,
            generation,
            info: Arc::new(info),
        });
        for command in std::mem::take(&mut self.held) {
            self.command(run, command);
        }
        // The idle clock, only with `idle_stop`. Messages just note the time (no timer is
        // touched on the relay path); the one timer wakes once per period and looks.
        let idle = self.idle_stop;
        let mut used = Instant::now();
        let check = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
        tokio::pin!(check);
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None => return End::Shutdown,
                    Some(command) => {
                        if idle.is_some() {
                            used = Instant::now();
                        }
                        self.command(run, command);
                    }
                },
                frame = run.stdout.next() => match frame {
                    Some(Ok(frame)) => {
                        if idle.is_some() {
                            used = Instant::now();
                        }
                        self.frame(run, frame);
                    }
                    Some(Err(e)) => return End::Failed(format!("reading its stdout failed: {e}")),
                    None => return End::Failed("it closed its stdout".into()),
                },
                _ = &mut check, if idle.is_some() => {
                    let period = idle.unwrap_or_default();
                    let quiet = self.peer.pending.is_empty() && self.subscriptions.is_empty();
                    if quiet && used.elapsed() >= period {
                        return End::Idle;
                    }
                    let from = if quiet { used } else { Instant::now() };
                    check.as_mut().reset((from + period).into());
                }
            }
        }
    }

    /// Waits for the client's `initialize`, failing requests meanwhile.
    async fn wait_for_hello(&mut self, run: &mut Running) -> Result<Arc<ClientHello>, End> {
        loop {
            if let Some(h) = self.hello.borrow().clone() {
                return Ok(h);
            }
            tokio::select! {
                changed = self.hello.changed() => if changed.is_err() { return Err(End::Shutdown) },
                command = self.commands.recv() => self.refuse(command, "it is still starting")?,
                frame = run.stdout.next() => match frame {
                    Some(Ok(frame)) => self.frame(run, frame),
                    _ => return Err(End::Failed("it exited before the handshake".into())),
                },
            }
        }
    }

    async fn handshake(
        &mut self,
        run: &mut Running,
        hello: &ClientHello,
    ) -> Result<ServerInfo, End> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Params<'a> {
            protocol_version: &'a str,
            capabilities: &'a serde_json::value::RawValue,
            client_info: &'a serde_json::value::RawValue,
        }
        let own_info = protocol::raw(&serde_json::json!({
            "name": "mcpgw",
            "version": env!("CARGO_PKG_VERSION"),
        }));
        let params = protocol::raw(&Params {
            protocol_version: protocol::LATEST_PROTOCOL_VERSION,
            capabilities: &hello.capabilities,
            client_info: hello.client_info.as_deref().unwrap_or(&own_info),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.peer.pending.insert(id, reply.into());
        send(
            &self.peer,
            run,
            &Message::Request(Request {
                id: id.into(),
                method: "initialize".into(),
                params: Some(params),
            }),
        );
        let deadline = tokio::time::sleep(self.handshake_timeout);
        tokio::pin!(deadline);
        let outcome = loop {
            tokio::select! {
                reply = &mut answer => break reply,
                _ = &mut deadline => {
                    return Err(End::Failed(format!(
                        "it did not answer `initialize` within {:?}", self.handshake_timeout
                    )));
                }
                command = self.commands.recv() => self.refuse(command, "it is still starting")?,
                frame = run.stdout.next() => match frame {
                    Some(Ok(frame)) => self.frame(run, frame),
                    _ => return Err(End::Failed("it exited during the handshake".into())),
                },
            }
        };
        let result = match outcome {
            Ok(Ok(Ok(result))) => result,
            Ok(Ok(Err(error))) => {
                return Err(End::Failed(format!("it refused `initialize`: {error}")));
            }
            Ok(Err(e)) => return Err(End::Failed(e.to_string())),
            Err(_) => return Err(End::Failed("`initialize` got no answer".into())),
        };
        let info: InitializeResult = serde_json::from_str(result.get())
            .map_err(|e| End::Failed(format!("its `initialize` answer is malformed: {e}")))?;
        if !protocol::PROTOCOL_VERSIONS.contains(&info.protocol_version.as_str()) {
            return Err(End::Failed(format!(
                "it speaks protocol version {}, which mcpgw does not (it speaks {})",
                info.protocol_version,
                protocol::PROTOCOL_VERSIONS.join(", ")
            )));
        }
        send(
            &self.peer,
            run,
            &Message::Notification(Notification {
                method: "notifications/initialized".into(),
                params: None,
            }),
        );
        Ok(ServerInfo {
            transport: "stdio",
            protocol_version: info.protocol_version,
            capabilities: info.capabilities,
            server_info: info.server_info,
            instructions: info.instructions,
        })
    }

    fn command(&mut self, run: &mut Running, command: Command) {
        match command {
            Command::Request {
                id,
                method,
                params,
                reply,
                origin,
            } => {
                let subscription = matches!(
                    method.as_str(),
                    "resources/subscribe" | "resources/unsubscribe"
                );
                if let Some(uri) = params
                    .as_deref()
                    .filter(|_| subscription)
                    .and_then(|p| serde_json::from_str::<serde_json::Value>(p.get()).ok())
                    .and_then(|p| p["uri"].as_str().map(str::to_owned))
                {
                    if method == "resources/subscribe" {
                        self.subscriptions.insert(uri);
                    } else {
                        self.subscriptions.remove(&uri);
                    }
                }
                self.peer.pending.insert(id, Waiting { reply, origin });
                send(
                    &self.peer,
                    run,
                    &Message::Request(Request {
                        id: id.into(),
                        method,
                        params,
                    }),
                );
            }
            Command::Start => {}
            Command::Notify(n) => send(&self.peer, run, &Message::Notification(n)),
            Command::Respond { id, outcome } => send(
                &self.peer,
                run,
                &Message::Response(Response { id, outcome }),
            ),
            Command::Cancel { id, reason } => {
                if self.peer.pending.remove(&id).is_some() {
                    send(
                        &self.peer,
                        run,
                        &Message::Notification(Notification {
                            method: "notifications/cancelled".into(),
                            params: Some(protocol::raw(&serde_json::json!({
                                "requestId": id,
                                "reason": reason,
                            }))),
                        }),
                    );
                }
            }
        }
    }

    fn frame(&mut self, run: &Running, frame: Frame) {
        for answer in self.peer.frame(frame) {
            send(&self.peer, run, &answer);
        }
    }
}

fn send(peer: &Peer, run: &Running, message: &Message) {
    let line = message.to_line();
    tracing::trace!(target: "mcpgw::wire", server = %peer.name, "→ {}", peer.redact(&line));
    let _ = run.stdin.send(line);
}

/// Closes stdin, waits, then terminates and finally kills the process group.
async fn stop(run: &mut Running) -> Option<ExitStatus> {
    // Replacing the sender drops the writer's channel, which closes the child's stdin.
    run.stdin = mpsc::unbounded_channel().0;
    if let Ok(Ok(Some(status))) = tokio::time::timeout(EXIT_GRACE, wait_leader(run)).await {
        let _ = run.child.start_kill();
        return Some(status);
    }
    process::terminate(&mut *run.child);
    if let Ok(Ok(Some(status))) = tokio::time::timeout(EXIT_GRACE, wait_leader(run)).await {
        let _ = run.child.start_kill();
        return Some(status);
    }
    let _ = run.child.start_kill();
    tokio::time::timeout(EXIT_GRACE, run.child.wait())
        .await
        .ok()?
        .ok()
}

/// Waits for the group leader only, polling: waiting on the group would also wait for every
/// grandchild, which is what `stop` is about to terminate.
async fn wait_leader(run: &mut Running) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = run.child.inner_mut().try_wait()? {
            return Ok(Some(status));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
