//! The listening socket: accepts TCP connections, wraps each in the [`watchdog`]'s tracking and,
//! for `protocol: "https"`, completes the TLS handshake off the accept loop (a client that stalls
//! its handshake delays nobody else) before handing the stream to the [`http`] server.
//!
//! When `accept` fails for want of descriptors or memory, the loop backs off (10 ms doubling to
//! 1 s) and logs one line per ten seconds with the count of failures.

mod backoff;
pub(crate) mod http;
pub mod tls;
pub(crate) mod watchdog;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use backoff::AcceptBackoff;
use watchdog::{Hangup, Tracked, Watchdog};

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The client's address, as handlers see it (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub SocketAddr);

/// An accepted connection ready for HTTP: the stream, the client's address, and the handle that
/// aborts it.
pub(crate) type Accepted = (Stream, Peer, Hangup);

/// The server's listener, for [`http::serve`].
pub(crate) struct Listener {
    tcp: TcpListener,
    watchdog: Arc<Watchdog>,
    tls: Option<TlsAcceptor>,
    handshaken: mpsc::Sender<Accepted>,
    ready: mpsc::Receiver<Accepted>,
    backoff: AcceptBackoff,
}

impl Listener {
    pub(crate) fn new(tcp: TcpListener, watchdog: Arc<Watchdog>, tls: Option<TlsAcceptor>) -> Self {
        let (handshaken, ready) = mpsc::channel(256);
        Listener {
            tcp,
            watchdog,
            tls,
            handshaken,
            ready,
            backoff: AcceptBackoff::default(),
        }
    }

    /// The next connection, TLS handshake done.
    pub(crate) async fn accept(&mut self) -> Accepted {
        loop {
            let accepted = tokio::select! {
                Some(ready) = self.ready.recv() => return ready,
                accepted = self.tcp.accept() => accepted,
            };
            let (tcp, addr) = match accepted {
                Ok(a) => a,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors or memory: wait for connections to close.
                    let pause = self.backoff.failed(&e, &self.watchdog.stats);
                    tokio::time::sleep(pause).await;
                    continue;
                }
            };
            self.backoff.succeeded();
            let _ = tcp.set_nodelay(true);
            let tracked = self.watchdog.track(tcp, addr);
            let hangup = tracked.hangup();
            let Some(acceptor) = self.tls.clone() else {
                return (Stream::Plain(tracked), Peer(addr), hangup);
            };
            let done = self.handshaken.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tracked)).await {
                    Ok(Ok(tls)) => {
                        let _ = done
                            .send((Stream::Tls(Box::new(tls)), Peer(addr), hangup))
                            .await;
                    }
                    Ok(Err(e)) => tracing::debug!(peer = %addr, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(peer = %addr, "TLS handshake timed out"),
                }
            });
        }
    }
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// An accepted connection, plain or TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(Tracked),
    Tls(Box<TlsStream<Tracked>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
