//! The gateway's faces towards clients: one client on a byte stream (stdin/stdout for
//! `mcpgw serve` and `mcpgw proxy`, an in-memory pipe for the CLI commands), as one session
//! on a hub; and many clients over HTTP ([`http`]).

mod endpoints;
pub mod gate;
mod headers;
pub mod http;
pub mod keys;
mod limit;
pub mod oauth;
mod pool;
pub mod reload;
pub mod tls;

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

use crate::config::Config;
use crate::hub::{self, Control, HubHandle, Services};
use crate::protocol::{Frame, LineCodec};
use crate::session::Session;

/// Serves one client on `input`/`output` with a hub of its own until `input` ends or
/// `shutdown` completes, then stops every upstream and waits for them.
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
    let (hub, hub_task) = hub::spawn(config.clone(), services, control);
    serve_stream(config, hub.clone(), input, output, shutdown).await;
    drop(hub);
    let _ = hub_task.await;
}

/// Serves one client on `input`/`output` as a session of `hub`, until `input` ends (and what
/// is owed has been answered) or `shutdown` completes.
pub async fn serve_stream<R, W>(
    config: Arc<Config>,
    hub: HubHandle,
    input: R,
    output: W,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::unbounded_channel::<String>();
    let writer = crate::protocol::spawn_tapped_line_writer(output, out_rx, |line| {
        crate::logging::client_wire("←", line.as_bytes())
    });
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
    let session = Session::new(config, hub, out_tx);
    // A task of its own rather than the caller's future: on a current-thread runtime, waking
    // the `block_on` future costs an extra poll of the I/O driver on every message.
    let _ = tokio::spawn(session.run(input, shutdown)).await;
    let _ = writer.await;
}
