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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mcpgw_platform::process::{self, ChildWrapper, Program};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

use super::life::{self, Cause, Connection, DownReason, End, Life, Probed};
use super::peer::Peer;
use super::{ClientHello, Command, Reply, ServerInfo};
use crate::config::{StdioConfig, TransportKind};
use crate::protocol::{self, Frame, LineCodec, Message};

const STDERR_TAIL_LINES: usize = 8;
const STDERR_MAX_LINE: usize = 2000;
/// How long a child may take to exit after its stdin closes, and again after SIGTERM.
const EXIT_GRACE: Duration = Duration::from_secs(2);

pub(super) struct StdioActor {
    pub config: StdioConfig,
    pub secrets: super::Secrets,
    /// Stop the child after this long without a request (nothing pending, no subscription).
    pub idle_stop: Option<Duration>,
    /// The resources subscribed to: a server with subscriptions is never stopped as idle.
    pub subscriptions: std::collections::HashSet<String>,
    /// The child of the current run.
    pub running: Option<Running>,
}

pub(super) struct Running {
    child: Box<dyn ChildWrapper>,
    stdin: mpsc::UnboundedSender<String>,
    stdout: FramedRead<tokio::process::ChildStdout, LineCodec>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_task: tokio::task::JoinHandle<()>,
}

impl Connection for StdioActor {
    const AGAIN: &'static str = "restarting";

    async fn run_once(&mut self, life: &mut Life, generation: u64) -> End {
        let (mut config, name, max) = (
            self.config.clone(),
            life.peer.name.clone(),
            life.peer.max_message_bytes,
        );
        let secrets = self.secrets.clone();
        let spawned = tokio::task::spawn_blocking(move || {
            let values = config
                .args
                .iter_mut()
                .chain(config.env.iter_mut().map(|(_, v)| v));
            let secret = super::fill_secret(&name, &secrets, values)
                .map_err(|m| DownReason::new(Cause::KeyMissing, m))?;
            Self::spawn_child(&config, name, max)
                .map(|run| (run, secret))
                .map_err(|m| DownReason::new(Cause::SpawnFailed, m))
        })
        .await;
        let run = match spawned {
            Ok(Ok((run, secret))) => {
                life.peer.secret = secret;
                run
            }
            Ok(Err(reason)) => return End::Failed(reason),
            Err(e) => return End::failed(Cause::SpawnFailed, format!("starting it failed: {e}")),
        };
        let run = self.running.insert(run);
        let idle_stop = self.idle_stop;
        serve(life, run, &mut self.subscriptions, idle_stop, generation).await
    }

    /// Adds the exit status and the last stderr line, waiting briefly for either.
    async fn explain(&mut self, mut reason: DownReason) -> DownReason {
        let Some(run) = self.running.as_mut() else {
            return reason;
        };
        const BRIEFLY: Duration = Duration::from_millis(300);
        if let Ok(Ok(Some(status))) = tokio::time::timeout(BRIEFLY, wait_leader(run)).await {
            reason.message = format!("{} ({})", reason.message, process::describe_exit(status));
            let _ = tokio::time::timeout(BRIEFLY, &mut run.stderr_task).await;
        }
        if let Some(last) = run.stderr_tail.lock().expect("stderr tail lock").back() {
            reason
                .message
                .push_str(&format!("; last stderr line: {last}"));
        }
        reason
    }

    async fn close(&mut self) {
        self.subscriptions.clear();
        if let Some(mut run) = self.running.take() {
            stop(&mut run).await;
        }
    }
}

impl StdioActor {
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
}

/// Serves the child until it ends: the client's hello, the handshake, then every message both
/// ways (and the idle clock, with `idle_stop`).
async fn serve(
    life: &mut Life,
    run: &mut Running,
    subscriptions: &mut std::collections::HashSet<String>,
    idle: Option<Duration>,
    generation: u64,
) -> End {
    let hello = match wait_for_hello(life, run).await {
        Ok(h) => h,
        Err(end) => return end,
    };
    let info = match handshake(life, run, &hello).await {
        Ok(info) => info,
        Err(end) => return end,
    };
    let listen = life.listen(&info);
    for command in life.ready(generation, info) {
        command_to(life, run, subscriptions, command);
    }
    for message in listen {
        send(&life.peer, run, &message);
    }
    // The idle clock, only with `idle_stop`. Messages just note the time (no timer is
    // touched on the relay path); the one timer wakes once per period and looks.
    let mut used = Instant::now();
    let check = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
    tokio::pin!(check);
    // A `subscriptions/listen` the server ended is sent again after a wait.
    let relisten = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(relisten);
    let mut relisten_armed = false;
    loop {
        tokio::select! {
            command = life.commands.recv() => match command {
                None => return End::Shutdown,
                Some(command) => {
                    if idle.is_some() {
                        used = Instant::now();
                    }
                    command_to(life, run, subscriptions, command);
                    if life.regreet(&hello) {
                        return End::Regreet;
                    }
                }
            },
            changed = life.hello.changed(), if life.modern.is_none() => {
                if changed.is_err() {
                    return End::Shutdown;
                }
                if life.regreet(&hello) {
                    return End::Regreet;
                }
            }
            frame = run.stdout.next() => match frame {
                Some(Ok(frame)) => {
                    if idle.is_some() {
                        used = Instant::now();
                    }
                    answer_frame(life, run, frame);
                    if life.regreet(&hello) {
                        return End::Regreet;
                    }
                    if let Some(wait) = life.listen_answered() {
                        relisten.as_mut().reset((Instant::now() + wait).into());
                        relisten_armed = true;
                    }
                }
                Some(Err(e)) => return End::failed(Cause::Exited, format!("reading its stdout failed: {e}")),
                None => return End::failed(Cause::Exited, "it closed its stdout"),
            },
            _ = &mut relisten, if relisten_armed => {
                relisten_armed = false;
                if life.modern.as_ref().is_some_and(|m| m.listening.is_none()) {
                    for message in life.relisten() {
                        send(&life.peer, run, &message);
                    }
                }
            }
            _ = &mut check, if idle.is_some() => {
                let period = idle.unwrap_or_default();
                let quiet = life.peer.pending.is_empty() && subscriptions.is_empty();
                if quiet && used.elapsed() >= period {
                    tracing::info!(server = %life.peer.name, "stopped after {period:?} unused; its next request starts it");
                    return End::Idle;
                }
                let from = if quiet { used } else { Instant::now() };
                check.as_mut().reset((from + period).into());
            }
        }
    }
}

/// Waits for the client's hello, reading what the child says meanwhile.
async fn wait_for_hello(life: &mut Life, run: &mut Running) -> Result<Arc<ClientHello>, End> {
    loop {
        if let Some(h) = life.hello.borrow().clone() {
            return Ok(h);
        }
        tokio::select! {
            changed = life.hello.changed() => if changed.is_err() { return Err(End::Shutdown) },
            command = life.commands.recv() => life.refuse(command, "it is still starting")?,
            frame = run.stdout.next() => match frame {
                Some(Ok(frame)) => answer_frame(life, run, frame),
                _ => return Err(End::failed(Cause::Exited, "it exited before the handshake")),
            },
        }
    }
}

/// Finds the server's era (as `protocol` says: probed, or fixed) and shakes hands if it is
/// of the handshake era.
async fn handshake(
    life: &mut Life,
    run: &mut Running,
    hello: &ClientHello,
) -> Result<ServerInfo, End> {
    life.modern = None;
    if life.probes() {
        let wait = life.probe_wait();
        let mut tries = 0;
        loop {
            tries += 1;
            let probe = life.discover(hello);
            send(&life.peer, run, &probe.message);
            let reply = match answer_within(life, run, probe.answer, wait).await {
                Err(End::Failed(reason)) if reason.cause == Cause::Exited => {
                    // A strict server of the handshake era may end when its first message
                    // is not `initialize`: its next start shakes hands without the probe.
                    life.legacy_found = true;
                    return Err(End::failed(
                        Cause::Exited,
                        format!(
                            "{} (at the `server/discover` probe; it is started again without one)",
                            reason.message
                        ),
                    ));
                }
                other => other?,
            };
            if reply.is_none() {
                life.peer.pending.remove(&probe.id);
            }
            match life.probed(reply, TransportKind::Stdio, hello, tries) {
                Probed::Modern(info) => return Ok(info),
                Probed::Again => {}
                Probed::Handshake => break,
                Probed::Failed(reason) => return Err(End::Failed(reason)),
            }
        }
    }
    let init = life.initialize(hello);
    send(&life.peer, run, &init.message);
    let Some(reply) = answer_within(life, run, init.answer, life.handshake_timeout).await? else {
        return Err(End::failed(
            Cause::HandshakeFailed,
            format!(
                "it did not answer `initialize` within {:?}",
                life.handshake_timeout
            ),
        ));
    };
    let info = life::server_info(reply, TransportKind::Stdio)?;
    send(&life.peer, run, &life::initialized());
    Ok(info)
}

/// The answer to a request of the handshake, or `None` if none came within `wait`;
/// meanwhile sessions' requests are refused (or held) and the child's other messages read.
async fn answer_within(
    life: &mut Life,
    run: &mut Running,
    mut answer: tokio::sync::oneshot::Receiver<Reply>,
    wait: Duration,
) -> Result<Option<Reply>, End> {
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            reply = &mut answer => {
                return reply
                    .map(Some)
                    .map_err(|_| End::failed(Cause::HandshakeFailed, "the handshake got no answer"));
            }
            _ = &mut deadline => return Ok(None),
            command = life.commands.recv() => life.refuse(command, "it is still starting")?,
            frame = run.stdout.next() => match frame {
                Some(Ok(frame)) => answer_frame(life, run, frame),
                _ => return Err(End::failed(Cause::Exited, "it exited during the handshake")),
            },
        }
    }
}

/// Sends a session's command to the child, noting subscriptions (a subscribed server is never
/// idle).
fn command_to(
    life: &mut Life,
    run: &Running,
    subscriptions: &mut std::collections::HashSet<String>,
    command: Command,
) {
    if let Command::Request { method, params, .. } = &command
        && matches!(
            method.as_str(),
            "resources/subscribe" | "resources/unsubscribe"
        )
        && let Some(uri) = params
            .as_deref()
            .and_then(|p| protocol::param_str(p, "uri"))
    {
        if method == "resources/subscribe" {
            subscriptions.insert(uri);
        } else {
            subscriptions.remove(&uri);
        }
    }
    if let Some(message) = life.message_for(command) {
        send(&life.peer, run, &message);
    }
    for message in std::mem::take(&mut life.outbox) {
        send(&life.peer, run, &message);
    }
}

fn answer_frame(life: &mut Life, run: &Running, frame: Frame) {
    for answer in life.peer.frame(frame) {
        send(&life.peer, run, &answer);
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
