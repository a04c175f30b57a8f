//! The gateway: one MCP server towards the client, one MCP client towards every upstream.
//!
//! [`run`] serves a client on any byte stream (stdin/stdout for `mcpgw serve`, an in-memory
//! pipe for `mcpgw tools` and `mcpgw call`). The protocol details live in [`session`],
//! naming in [`names`], the upstream lists and resource routing in [`catalog`].

mod cache;
mod catalog;
mod names;
mod session;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

pub use cache::CatalogCache;
pub use names::{NameTable, Target};
pub use session::Control;

use crate::config::Config;
use crate::protocol::{Frame, LineCodec};

/// What a gateway uses besides its config.
#[derive(Default, Clone)]
pub struct Services {
    /// Where catalogs are remembered between runs.
    pub cache: Option<CatalogCache>,
    /// Where `{secret}` and OAuth tokens come from.
    pub secrets: crate::upstream::Secrets,
    /// How a server that wants a login may ask for it; `None`: it answers "run `mcpgw login`".
    pub prompt: Option<crate::auth::Prompt>,
}

/// Where an upstream is in its life.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ServerState {
    Disabled,
    Starting,
    Ready,
    /// Not running, its lists known: started by its next request (`start = "lazy"`, or
    /// stopped after `idle_stop` unused).
    Idle,
    Failed {
        reason: String,
        #[serde(serialize_with = "as_secs")]
        retry_in: Duration,
    },
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One upstream as `mcpgw list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServerStatus {
    pub name: String,
    pub transport: &'static str,
    pub target: String,
    #[serde(flatten)]
    pub state: ServerState,
    pub server_info: Option<serde_json::Value>,
    pub protocol_version: Option<String>,
    pub tools: Option<usize>,
    pub prompts: Option<usize>,
    pub resources: Option<usize>,
    /// For servers that use `{secret}`: whether their key is in the store (never the key).
    pub key: Option<String>,
    /// For servers that log in with OAuth: "logged in, expires in 52m", "needs login: …".
    pub oauth: Option<String>,
}

/// Serves one client on `input`/`output` until `input` ends or `shutdown` completes, then
/// stops every upstream and waits for them.
pub async fn run<R, W>(
    config: Arc<Config>,
    input: R,
    output: W,
    control: mpsc::UnboundedReceiver<Control>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    services: Services,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::unbounded_channel::<String>();
    let writer = crate::protocol::spawn_tapped_line_writer(output, out_rx, |line| {
        crate::logging::client_wire("←", line.as_bytes())
    });
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let input = FramedRead::new(input, LineCodec::new(config.gateway.max_message_bytes))
        .inspect(|frame| match frame {
            Ok(Frame::Line(line)) => crate::logging::client_wire("→", line),
            Ok(Frame::TooLong { head, len }) => {
                crate::logging::client_wire("→", &head[..head.len().min(200)]);
                tracing::trace!(target: "mcpgw::wire", "client → … ({len} bytes in all)");
            }
            Err(_) => {}
        })
        .fuse();
    let session = session::Session::new(config, out_tx, events_tx, services);
    // A task of its own rather than the caller's future: on a current-thread runtime, waking
    // the `block_on` future costs an extra poll of the I/O driver on every message.
    let _ = tokio::spawn(session.run(input, events_rx, control, shutdown)).await;
    let _ = writer.await;
}
