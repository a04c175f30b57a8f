//! The HTTP face's connections: plain TCP, or TLS (`[listen.tls]`) with rustls, where a client
//! certificate signed by `client_ca` says who its holder is ([`Subject`]); and [`serve`], which
//! runs HTTP/1.1 on them.
//!
//! A slow or silent client holds nothing up for long: TLS handshakes run in tasks of their own
//! (at most [`HANDSHAKE`] each), a request's headers must arrive within [`HEADERS`], and a
//! connection with no request open is closed after [`IDLE`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::either::Either;

use crate::config::FaceTls;

/// The longest a TLS handshake may take.
pub const HANDSHAKE: Duration = Duration::from_secs(10);
/// The longest a request's headers may take to arrive.
pub const HEADERS: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request.
pub const IDLE: Duration = Duration::from_secs(120);

/// Who is at the other end of a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The subject of the client certificate it presented (verified against `client_ca`).
    pub subject: Option<Arc<Subject>>,
}

/// A client certificate's subject, as far as it names someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its common name.
    pub name: String,
    /// Its email address (the subject's `emailAddress`, else the first email of its
    /// alternative names).
    pub email: Option<String>,
}

type Io = Either<TcpStream, tokio_rustls::server::TlsStream<TcpStream>>;

/// The face's listener, for `axum::serve`.
pub enum Incoming {
    Plain(TcpListener),
    Tls {
        local: SocketAddr,
        ready: mpsc::Receiver<(Io, Peer)>,
        _accepting: tokio_util::task::AbortOnDropHandle<()>,
    },
}

impl Incoming {
    /// Plain TCP, or TLS by `tls`.
    pub fn new(listener: TcpListener, tls: Option<&FaceTls>) -> Result<Incoming, String> {
        let Some(tls) = tls else {
            return Ok(Incoming::Plain(listener));
        };
        let acceptor = acceptor(tls)?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let (tx, ready) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((tcp, addr)) = TcpListener::accept(&listener).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let subject = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .and_then(|c| subject(c))
                                .map(Arc::new);
                            let _ = tx
                                .send((Either::Right(stream), Peer { addr, subject }))
                                .await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {addr} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {addr} timed out"),
                    }
                });
            }
        });
        Ok(Incoming::Tls {
            local,
            ready,
            _accepting: tokio_util::task::AbortOnDropHandle::new(accepting),
        })
    }
}

impl axum::serve::Listener for Incoming {
    type Io = Io;
    type Addr = Peer;

    async fn accept(&mut self) -> (Io, Peer) {
        match self {
            Incoming::Plain(listener) => loop {
                match TcpListener::accept(listener).await {
                    Ok((tcp, addr)) => {
                        let _ = tcp.set_nodelay(true);
                        return (
                            Either::Left(tcp),
                            Peer {
                                addr,
                                subject: None,
                            },
                        );
                    }
                    // Out of file descriptors, say: wait rather than spin.
                    Err(e) => {
                        tracing::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            },
            Incoming::Tls { ready, .. } => match ready.recv().await {
                Some(next) => next,
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        let addr = match self {
            Incoming::Plain(listener) => listener.local_addr()?,
            Incoming::Tls { local, .. } => *local,
        };
        Ok(Peer {
            addr,
            subject: None,
        })
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Incoming>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Incoming>) -> Peer {
        stream.remote_addr().clone()
    }
}

/// Serves `app` on the connections of `incoming` until `shutdown` completes; then every
/// connection is asked to close once its requests are answered, and waited for. Each request
/// knows its [`Peer`] (`ConnectInfo<Peer>`).
pub async fn serve(mut incoming: Incoming, app: axum::Router, shutdown: impl Future<Output = ()>) {
    use axum::Extension;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower_service::Service;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADERS)
        .keep_alive(true);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            next = axum::serve::Listener::accept(&mut incoming) => next,
            () = &mut shutdown => break,
        };
        let app = app
            .clone()
            .layer(Extension(axum::extract::ConnectInfo(peer)));
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let mut app = app.clone();
                async move { app.call(request.map(axum::body::Body::new)).await }
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(Idle::new(io)), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!("a connection ended: {e}");
            }
        });
    }
    drop(incoming);
    graceful.shutdown().await;
}

/// A connection that ends itself after [`IDLE`] with nothing read or written. (Quiet SSE
/// streams get comments to stay in use; see `http::KEEP_ALIVE`.)
struct Idle<T> {
    io: T,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<T> Idle<T> {
    fn new(io: T) -> Idle<T> {
        Idle {
            io,
            timer: Box::pin(tokio::time::sleep(IDLE)),
        }
    }

    /// Some bytes moved: the connection is in use.
    fn used(&mut self) {
        self.timer
            .as_mut()
            .reset(tokio::time::Instant::now() + IDLE);
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the connection was idle too long",
    )
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Idle<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.used();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.timer.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Err(timed_out()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Idle<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.io).poll_write(cx, data);
        if matches!(written, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.used();
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The server side of `tls`: its certificate, and the client certificates it takes.
fn acceptor(tls: &FaceTls) -> Result<TlsAcceptor, String> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let certs = |path: &std::path::Path| -> Result<Vec<CertificateDer<'static>>, String> {
        let found = CertificateDer::pem_slice_iter(&read(path)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if found.is_empty() {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        Ok(found)
    };
    let chain = certs(&tls.cert)?;
    let key = PrivateKeyDer::from_pem_slice(&read(&tls.key)?)
        .map_err(|e| format!("{}: no PEM private key in it: {e}", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs(ca)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            let verifier = if tls.require_client_cert {
                verifier.build()
            } else {
                verifier.allow_unauthenticated().build()
            };
            builder.with_client_cert_verifier(verifier.map_err(|e| e.to_string())?)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", tls.cert.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Who a (verified) client certificate names.
fn subject(cert: &CertificateDer<'_>) -> Option<Subject> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let text = |attr: Option<&AttributeTypeAndValue>| {
        attr.and_then(|a| a.as_str().ok()).map(str::to_owned)
    };
    let subject = cert.subject();
    let name = text(subject.iter_common_name().next())?;
    let email = text(subject.iter_email().next()).or_else(|| {
        cert.subject_alternative_name()
            .ok()
            .flatten()
            .and_then(|san| {
                san.value.general_names.iter().find_map(|n| match n {
                    GeneralName::RFC822Name(e) => Some((*e).to_owned()),
                    _ => None,
                })
            })
    });
    Some(Subject { name, email })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_names_its_holder() {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ana");
        params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
            "ana@example.com".try_into().unwrap(),
        )];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            subject(cert.der()),
            Some(Subject {
                name: "ana".into(),
                email: Some("ana@example.com".into())
            })
        );
        let mut nameless = rcgen::CertificateParams::new(vec!["x.test".into()]).unwrap();
        nameless.distinguished_name = rcgen::DistinguishedName::new();
        let nameless = nameless.self_signed(&key).unwrap();
        assert_eq!(subject(nameless.der()), None, "no common name: no one");
    }
}
