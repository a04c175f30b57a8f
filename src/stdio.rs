//! stdin and stdout as async streams on the reactor.
//!
//! `tokio::io::stdin()`/`stdout()` hand every read and write to the blocking thread pool, which
//! costs a thread hop per message. The stdio that AI clients give a server is a pipe or (from
//! Node and Electron hosts, via libuv) a Unix socketpair; both can be driven by the reactor
//! directly. Anything else (a terminal, a file) falls back to tokio's portable versions.

use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub type Reader = Pin<Box<dyn AsyncRead + Send>>;
pub type Writer = Pin<Box<dyn AsyncWrite + Send>>;

pub fn stdin() -> Reader {
    #[cfg(unix)]
    if let Some(r) = unix::reader() {
        return r;
    }
    Box::pin(tokio::io::stdin())
}

pub fn stdout() -> Writer {
    #[cfg(unix)]
    if let Some(w) = unix::writer() {
        return w;
    }
    Box::pin(tokio::io::stdout())
}

#[cfg(unix)]
mod unix {
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};

    use tokio::net::unix::pipe;

    use super::{Reader, Writer};

    enum Kind {
        Fifo,
        Socket,
        Other,
    }

    fn kind(fd: RawFd) -> Kind {
        let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat only writes into the buffer it is given.
        if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
            return Kind::Other;
        }
        // SAFETY: fstat succeeded, so the buffer is initialised.
        match unsafe { stat.assume_init() }.st_mode & libc::S_IFMT {
            libc::S_IFIFO => Kind::Fifo,
            libc::S_IFSOCK => Kind::Socket,
            _ => Kind::Other,
        }
    }

    /// A duplicate of `fd`, so that the process's own fd 0/1 stay open for anything else.
    fn dup(fd: RawFd) -> Option<OwnedFd> {
        // SAFETY: dup returns a fresh descriptor that we then own, or -1.
        let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        (new >= 0).then(|| unsafe { OwnedFd::from_raw_fd(new) })
    }

    fn socket(fd: RawFd) -> Option<tokio::net::UnixStream> {
        let stream = std::os::unix::net::UnixStream::from(dup(fd)?);
        stream.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(stream).ok()
    }

    pub fn reader() -> Option<Reader> {
        match kind(0) {
            Kind::Fifo => Some(Box::pin(pipe::Receiver::from_owned_fd(dup(0)?).ok()?)),
            Kind::Socket => Some(Box::pin(socket(0)?)),
            Kind::Other => None,
        }
    }

    pub fn writer() -> Option<Writer> {
        match kind(1) {
            Kind::Fifo => Some(Box::pin(pipe::Sender::from_owned_fd(dup(1)?).ok()?)),
            Kind::Socket => Some(Box::pin(socket(1)?)),
            Kind::Other => None,
        }
    }
}
