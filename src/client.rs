//! A small MCP client over any byte stream.
//!
//! The `tools`, `call` and `list` commands drive the gateway through it in-process (so they see
//! exactly what an AI client sees), and the integration tests and benchmark drive real
//! processes with it. Server→client requests go to a handler; notifications and lines that
//! match no request are queued for whoever wants to inspect them.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::FramedRead;

use crate::protocol::{
    self, ErrorObject, Frame, LineCodec, Message, Notification, Outcome, Parsed, Request,
    RequestId, Response, code,
};

/// Answers a server→client request.
pub type Handler = Arc<dyn Fn(Request) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// A handler that knows no methods.
pub fn no_handler() -> Handler {
    Arc::new(|r: Request| {
        Box::pin(async move {
            Err(ErrorObject::new(
                code::METHOD_NOT_FOUND,
                format!("Method not found: {}", r.method),
            ))
        })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Rpc(ErrorObject),
    #[error("the server closed the connection")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

type Pending = Arc<Mutex<HashMap<RequestId, oneshot::Sender<Outcome>>>>;

pub struct Client {
    /// `None` once [`Client::close`] has ended the connection.
    out: Mutex<Option<mpsc::UnboundedSender<String>>>,
    pending: Pending,
    next_id: AtomicI64,
    notifications: tokio::sync::Mutex<mpsc::UnboundedReceiver<Notification>>,
    unmatched: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    /// How long [`Client::request`] waits.
    pub timeout: Duration,
}

impl Client {
    pub fn new<R, W>(reader: R, writer: W, handler: Handler) -> Client
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (out, out_rx) = mpsc::unbounded_channel::<String>();
        protocol::spawn_line_writer(writer, out_rx);
        let pending: Pending = Arc::default();
        let (note_tx, note_rx) = mpsc::unbounded_channel();
        let (unmatched_tx, unmatched_rx) = mpsc::unbounded_channel();
        let reader_pending = pending.clone();
        // Weak, so that dropping the client closes the connection even while requests from
        // the server are being answered.
        let reply_out = out.downgrade();
        tokio::spawn(async move {
            let mut lines = FramedRead::new(reader, LineCodec::new(usize::MAX));
            while let Some(Ok(Frame::Line(line))) = lines.next().await {
                let text = String::from_utf8_lossy(&line).into_owned();
                match Message::parse(&line) {
                    Parsed::Message(Message::Response(r)) => {
                        let waiter = reader_pending.lock().expect("pending lock").remove(&r.id);
                        match waiter {
                            Some(w) => {
                                let _ = w.send(r.outcome);
                            }
                            None => {
                                let _ = unmatched_tx.send(text);
                            }
                        }
                    }
                    Parsed::Message(Message::Notification(n)) => {
                        let _ = note_tx.send(n);
                    }
                    Parsed::Message(Message::Request(r)) => {
                        let handler = handler.clone();
                        let out = reply_out.clone();
                        tokio::spawn(async move {
                            let id = r.id.clone();
                            let outcome = handler(r).await;
                            if let Some(out) = out.upgrade() {
                                let _ =
                                    out.send(Message::Response(Response { id, outcome }).to_line());
                            }
                        });
                    }
                    _ => {
                        let _ = unmatched_tx.send(text);
                    }
                }
            }
            // The connection is gone: fail whatever is still waiting.
            reader_pending.lock().expect("pending lock").clear();
        });
        Client {
            out: Mutex::new(Some(out)),
            pending,
            next_id: AtomicI64::new(1),
            notifications: tokio::sync::Mutex::new(note_rx),
            unmatched: tokio::sync::Mutex::new(unmatched_rx),
            timeout: Duration::from_secs(60),
        }
    }

    /// Starts `command` with piped stdio and connects to it.
    pub fn spawn(
        command: &mut tokio::process::Command,
        handler: Handler,
    ) -> std::io::Result<(Client, tokio::process::Child)> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        Ok((Client::new(stdout, stdin, handler), child))
    }

    /// Sends a request and waits for its raw outcome.
    pub async fn request_raw(
        &self,
        id: RequestId,
        method: &str,
        params: Option<Value>,
    ) -> Result<Outcome, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .expect("pending lock")
            .insert(id.clone(), tx);
        let params = params.map(|p| protocol::raw(&p));
        let line = Message::Request(Request {
            id: id.clone(),
            method: method.into(),
            params,
        })
        .to_line();
        let _ = self.write(line);
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => {
                self.pending.lock().expect("pending lock").remove(&id);
                Err(ClientError::Timeout(self.timeout))
            }
        }
    }

    /// The next request id this client would use.
    pub fn next_id(&self) -> RequestId {
        RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed).into())
    }

    /// Sends a request and parses its result.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let params = (!params.is_null()).then_some(params);
        match self.request_raw(self.next_id(), method, params).await? {
            Ok(result) => Ok(serde_json::from_str(result.get()).expect("a result is JSON")),
            Err(e) => Err(ClientError::Rpc(e)),
        }
    }

    pub fn notify(&self, method: &str, params: Value) {
        let params = (!params.is_null()).then(|| protocol::raw(&params));
        let _ = self.write(
            Message::Notification(Notification {
                method: method.into(),
                params,
            })
            .to_line(),
        );
    }

    fn write(&self, line: String) -> Result<(), mpsc::error::SendError<String>> {
        match &*self.out.lock().expect("client lock") {
            Some(out) => out.send(line),
            None => Err(mpsc::error::SendError(line)),
        }
    }

    /// Ends the connection: the server sees end of input. Requests after this fail.
    pub fn close(&self) {
        self.out.lock().expect("client lock").take();
    }

    /// Writes one raw line (for testing how a server takes bad input).
    pub fn send_line(&self, line: impl Into<String>) {
        let _ = self.write(line.into());
    }

    /// The `initialize` handshake followed by `notifications/initialized`.
    pub async fn initialize(&self, capabilities: Value) -> Result<Value, ClientError> {
        self.initialize_as(protocol::LATEST_PROTOCOL_VERSION, capabilities)
            .await
    }

    pub async fn initialize_as(
        &self,
        version: &str,
        capabilities: Value,
    ) -> Result<Value, ClientError> {
        let result = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": version,
                    "capabilities": capabilities,
                    "clientInfo": { "name": "mcpgw-client", "version": env!("CARGO_PKG_VERSION") },
                }),
            )
            .await?;
        self.notify("notifications/initialized", Value::Null);
        Ok(result)
    }

    /// The next notification, waiting at most `wait`.
    pub async fn notification(&self, wait: Duration) -> Option<Notification> {
        tokio::time::timeout(wait, self.notifications.lock().await.recv())
            .await
            .ok()
            .flatten()
    }

    /// Waits for a notification with `method`, dropping others; `None` after `wait`.
    pub async fn wait_for(&self, method: &str, wait: Duration) -> Option<Notification> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut rx = self.notifications.lock().await;
        loop {
            let n = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .ok()
                .flatten()?;
            if n.method == method {
                return Some(n);
            }
        }
    }

    /// The next line that answered no request of ours.
    pub async fn unmatched(&self, wait: Duration) -> Option<String> {
        tokio::time::timeout(wait, self.unmatched.lock().await.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every item of a paginated list (`tools/list` and friends).
    pub async fn list_all(&self, method: &str, field: &str) -> Result<Vec<Value>, ClientError> {
        let mut items = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => Value::Null,
            };
            let mut page = self.request(method, params).await?;
            if let Some(Value::Array(list)) = page.get_mut(field).map(Value::take) {
                items.extend(list);
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn dropping_the_client_closes_the_connection() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let (read, write) = tokio::io::split(ours);
        let client = Client::new(read, write, no_handler());
        client.notify("x", Value::Null);
        drop(client);
        let mut theirs = theirs;
        let mut got = String::new();
        tokio::time::timeout(Duration::from_secs(5), theirs.read_to_string(&mut got))
            .await
            .expect("EOF")
            .unwrap();
        assert_eq!(got, "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n");
    }
}
