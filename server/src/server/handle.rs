//! What `start` hands back: a [`ServerHandle`] to publish through, read and stop a running
//! server, and a [`Monitor`], a read-only view other threads can hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use socketioxide::SocketIo;
use tokio::sync::watch;

use crate::ingress::bus::Publisher;
use crate::ingress::redis::RedisStatus;
use crate::ingress::shm::RingThread;
use crate::listener::tls::{Certificates, TlsError};
use crate::shm::RingInfo;
use crate::stats::Stats;

/// A running server. Dropping the handle does not stop it; call [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    pub(super) local_addr: SocketAddr,
    pub(super) pusher_addr: Option<SocketAddr>,
    pub(super) publisher: Publisher,
    pub(super) stats: Arc<Stats>,
    pub(super) redis: Arc<RedisStatus>,
    pub(super) io: SocketIo,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) served: tokio::task::JoinHandle<()>,
    pub(super) grace: std::time::Duration,
    pub(super) bus_stop: Option<crossbeam_channel::Sender<()>>,
    pub(super) bus: Option<JoinHandle<()>>,
    pub(super) ring: Option<RingThread>,
    pub(super) forwarding: tokio::task::JoinHandle<()>,
    pub(super) certificates: Option<Arc<Certificates>>,
    pub(super) metrics_addr: Option<SocketAddr>,
    pub(super) cluster: Option<crate::cluster::Tasks>,
    pub(super) node_id: Option<String>,
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The Pusher protocol's own port (`pusherPort`), when one is configured.
    pub fn pusher_addr(&self) -> Option<SocketAddr> {
        self.pusher_addr
    }

    /// Where `/metrics` is served, when the metrics listener is up.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Read the TLS certificate and key files again; new connections get the new certificate,
    /// open ones keep theirs. `Ok(false)` when the server does not speak TLS.
    ///
    /// # Errors
    /// The files cannot be used; the current certificate stays.
    pub fn reload_tls(&self) -> Result<bool, TlsError> {
        reload(self.certificates.as_ref())
    }

    /// This node's id in a cluster (`cluster.enabled`), random per start.
    pub fn node_id(&self) -> Option<&str> {
        self.node_id.as_deref()
    }

    /// The in-process publish API.
    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    /// Live counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Whether the Redis subscriber is connected.
    pub fn redis_connected(&self) -> bool {
        self.redis.connected()
    }

    /// The shared-memory ring's figures, when the ring is on.
    pub fn ring_info(&self) -> Option<RingInfo> {
        self.ring.as_ref().map(RingThread::info)
    }

    /// A read-only view for other threads (stats, ring, connections).
    pub fn monitor(&self) -> Monitor {
        Monitor {
            local_addr: self.local_addr,
            stats: self.stats.clone(),
            redis: self.redis.clone(),
            ring: self.ring.as_ref().map(RingThread::info_handle),
            io: self.io.clone(),
            certificates: self.certificates.clone(),
        }
    }

    /// The Socket.IO server, for embedding code that needs it.
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// Stop accepting, deliver what the in-process queue and the ring hold, close every socket,
    /// and wait until the listener is closed. The ring file is removed.
    pub async fn shutdown(mut self) {
        if let Some(mut ring) = self.ring.take() {
            let _ = tokio::task::spawn_blocking(move || ring.stop()).await;
        }
        if let Some(stop) = self.bus_stop.take() {
            drop(stop);
        }
        if let Some(bus) = self.bus.take() {
            // The bus thread only drains a bounded queue; joining it off the runtime threads
            // keeps a slow drain from stalling other tasks.
            let _ = tokio::task::spawn_blocking(move || bus.join()).await;
        }
        // Both threads are gone, so the hand-off queue is closed: wait until it is delivered.
        if tokio::time::timeout(self.grace, &mut self.forwarding)
            .await
            .is_err()
        {
            self.forwarding.abort();
        }
        // Everything delivered here is queued for the other nodes: publish it before leaving.
        if let Some(cluster) = self.cluster.take() {
            cluster.stop(self.grace).await;
        }
        let _ = self.shutdown.send(true);
        // Sockets get a disconnect packet, then the listener closes; a client that does not let
        // go within the grace period is dropped.
        if tokio::time::timeout(self.grace, &mut self.served)
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.grace, "graceful shutdown took too long; dropping the remaining connections");
            self.served.abort();
        }
    }
}

/// Read-only view of a running server; cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub struct Monitor {
    local_addr: SocketAddr,
    stats: Arc<Stats>,
    redis: Arc<RedisStatus>,
    ring: Option<Arc<std::sync::Mutex<RingInfo>>>,
    io: SocketIo,
    certificates: Option<Arc<Certificates>>,
}

impl Monitor {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Live counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the Redis subscriber is connected.
    pub fn redis_connected(&self) -> bool {
        self.redis.connected()
    }

    /// The ring's figures, when the ring is on.
    pub fn ring_info(&self) -> Option<RingInfo> {
        self.ring.as_ref().map(|r| {
            r.lock()
                .map_or_else(|e| e.into_inner().clone(), |i| i.clone())
        })
    }

    /// As [`ServerHandle::reload_tls`].
    ///
    /// # Errors
    /// The files cannot be used; the current certificate stays.
    pub fn reload_tls(&self) -> Result<bool, TlsError> {
        reload(self.certificates.as_ref())
    }

    /// Channels with at least one subscriber.
    pub fn channel_count(&self) -> usize {
        use futures_util::FutureExt;
        self.io
            .rooms()
            .now_or_never()
            .and_then(Result::ok)
            .map_or(0, |rooms| rooms.len())
    }
}

fn reload(certificates: Option<&Arc<Certificates>>) -> Result<bool, TlsError> {
    match certificates {
        Some(c) => c.reload().map(|()| true),
        None => Ok(false),
    }
}
