//! Disconnecting clients that stopped reading.
//!
//! Socket.IO queues at most `maxBufferedPackets` packets per connection; past that, broadcasts to
//! it are dropped and socketioxide reports the overflow without naming the socket. The connection
//! itself knows: its writes stop making progress once the kernel's send buffer is full. Every
//! accepted TCP stream is wrapped in a [`Tracked`] that records since when its writes have been
//! blocked. While any write is blocked, a patrol task looks every [`SWEEP_EVERY`] and aborts the
//! connections blocked for longer than [`STALL`] (reset, so the kernel frees their buffers at
//! once), whether or not more broadcasts come; a broadcast that overflows a queue looks at once.
//! The abort fails the blocked write itself, which also frees the Engine.IO queue lock a writer
//! stuck in `flush` holds (the heartbeat's close waits for that lock). Their sockets then close
//! as any broken connection does: presence members leave, counters drop.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::stats::{DropReason, Stats};

/// How long a connection's writes must have made no progress before an overflowing broadcast
/// disconnects it. A client on a slow but live network drains within this; one that stopped
/// reading does not.
pub const STALL: Duration = Duration::from_secs(2);

/// How often connections are checked while some write is blocked. A sweep walks every
/// connection, so it runs only when one is blocked, and overflow sweeps are spaced as much.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

const NOT_BLOCKED: u64 = u64::MAX;

/// Every open connection's write progress.
#[derive(Debug)]
pub(crate) struct Watchdog {
    epoch: Instant,
    flows: Mutex<HashMap<u64, Arc<Flow>>>,
    next_id: AtomicU64,
    last_sweep: AtomicU64,
    /// Connections tracked right now (each holds a file descriptor).
    open: AtomicUsize,
    /// Connections whose last write is blocked; the patrol sweeps only while this is not 0.
    blocked: AtomicUsize,
    pub(crate) stats: Arc<Stats>,
}

#[derive(Debug)]
struct Flow {
    peer: SocketAddr,
    /// Milliseconds since the epoch when a write first returned `Pending`, or [`NOT_BLOCKED`].
    blocked_since: AtomicU64,
    killed: AtomicBool,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Watchdog {
    /// A watchdog with its patrol task on the current runtime; the task ends once the watchdog is
    /// dropped.
    pub(crate) fn new(stats: Arc<Stats>) -> Arc<Self> {
        let watchdog = Arc::new(Watchdog {
            epoch: Instant::now(),
            flows: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            last_sweep: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            stats,
        });
        tokio::spawn(patrol(Arc::downgrade(&watchdog)));
        watchdog
    }

    /// Connections open right now.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Relaxed)
    }

    /// Watch `stream`.
    pub(crate) fn track(self: &Arc<Self>, stream: TcpStream, peer: SocketAddr) -> Tracked {
        let flow = Arc::new(Flow {
            peer,
            blocked_since: AtomicU64::new(NOT_BLOCKED),
            killed: AtomicBool::new(false),
            reader: AtomicWaker::new(),
            writer: AtomicWaker::new(),
        });
        let id = self.next_id.fetch_add(1, Relaxed);
        self.lock().insert(id, flow.clone());
        self.open.fetch_add(1, Relaxed);
        Tracked {
            stream,
            flow,
            id,
            watchdog: self.clone(),
            reset: false,
        }
    }

    /// Disconnect every connection whose writes have been blocked for [`STALL`] or longer, unless
    /// a sweep ran less than [`SWEEP_EVERY`] ago. Called when a broadcast could not be queued for
    /// some socket, and by the patrol.
    pub(crate) fn reap(&self) {
        let now = self.now();
        let last = self.last_sweep.load(Relaxed);
        if now.saturating_sub(last) < millis(SWEEP_EVERY)
            || self
                .last_sweep
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_err()
        {
            return;
        }
        let stall = millis(STALL);
        for flow in self.lock().values() {
            let since = flow.blocked_since.load(Relaxed);
            if since != NOT_BLOCKED && now.saturating_sub(since) >= stall && flow.abort() {
                self.stats.dropped(DropReason::SlowReader);
                tracing::warn!(peer = %flow.peer, stalled_ms = now - since, "disconnecting a client that stopped reading (its buffer is full)");
            }
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Flow>>> {
        self.flows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Sweep while some write is blocked; stop when the watchdog is gone (the server stopped).
async fn patrol(watchdog: Weak<Watchdog>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(watchdog) = watchdog.upgrade() else {
            return;
        };
        if watchdog.blocked.load(Relaxed) > 0 {
            watchdog.reap();
        }
    }
}

impl Flow {
    /// Mark the connection aborted and wake its reader and writer, whose next poll fails and
    /// resets the connection. `false` when it was aborted already.
    fn abort(&self) -> bool {
        if self.killed.swap(true, Relaxed) {
            return false;
        }
        self.reader.wake();
        self.writer.wake();
        true
    }
}

/// A handle that aborts one connection (reset), for the protocol layer to drop a client that
/// misbehaves. Carried in every request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct Hangup(Arc<Flow>);

impl Hangup {
    /// The handle of the connection a Socket.IO session runs on, when the session was opened as a
    /// WebSocket (then its handshake's connection is its own). A session opened by long-polling
    /// may have made its handshake on a connection a proxy shares between clients: `None`.
    pub(crate) fn of_session(handshake: &axum::http::request::Parts) -> Option<Hangup> {
        let websocket = handshake
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "transport=websocket"));
        if !websocket {
            return None;
        }
        handshake.extensions.get::<Hangup>().cloned()
    }

    /// Reset the connection; its socket closes as any broken connection does.
    pub(crate) fn hang_up(&self) {
        self.0.abort();
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A TCP stream whose write progress the [`Watchdog`] sees, and which it can abort.
#[derive(Debug)]
pub(crate) struct Tracked {
    stream: TcpStream,
    flow: Arc<Flow>,
    id: u64,
    watchdog: Arc<Watchdog>,
    reset: bool,
}

impl Tracked {
    /// A handle that aborts this connection.
    pub(crate) fn hangup(&self) -> Hangup {
        Hangup(self.flow.clone())
    }

    /// `Some(error)` once the watchdog has aborted this connection. The first call arms a reset
    /// (linger 0), so closing discards what the client never read instead of keeping it queued.
    fn aborted(&mut self) -> Option<io::Error> {
        if !self.flow.killed.load(Relaxed) {
            return None;
        }
        if !self.reset {
            self.reset = true;
            // Best effort: without it the close is orderly and the kernel keeps the data a while.
            let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        }
        Some(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "client stopped reading",
        ))
    }

    /// Run one write and record its progress: the time it first returned `Pending`, cleared once
    /// a byte goes out. An aborted connection fails the write, also when the abort lands while
    /// the waker is being registered.
    fn write_with(
        &mut self,
        cx: &mut Context<'_>,
        write: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        let result = write(Pin::new(&mut self.stream), cx);
        let blocked = &self.flow.blocked_since;
        match &result {
            Poll::Pending => {
                self.flow.writer.register(cx.waker());
                if blocked.load(Relaxed) == NOT_BLOCKED {
                    blocked.store(self.watchdog.now(), Relaxed);
                    self.watchdog.blocked.fetch_add(1, Relaxed);
                }
                if let Some(e) = self.aborted() {
                    return Poll::Ready(Err(e));
                }
            }
            Poll::Ready(Ok(n)) if *n > 0 && blocked.load(Relaxed) != NOT_BLOCKED => {
                blocked.store(NOT_BLOCKED, Relaxed);
                self.watchdog.blocked.fetch_sub(1, Relaxed);
            }
            Poll::Ready(_) => {}
        }
        result
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.watchdog.lock().remove(&self.id);
        self.watchdog.open.fetch_sub(1, Relaxed);
        if self.flow.blocked_since.load(Relaxed) != NOT_BLOCKED {
            self.watchdog.blocked.fetch_sub(1, Relaxed);
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.aborted() {
            return Poll::Ready(Err(e));
        }
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if result.is_pending() {
            self.flow.reader.register(cx.waker());
            // An abort between the read and the registration must not be missed.
            if let Some(e) = self.aborted() {
                return Poll::Ready(Err(e));
            }
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_with(cx, |stream, cx| stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.write_with(cx, |stream, cx| stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
