//! Starting and stopping a server: binds the listener, wires the Socket.IO layer, the HTTP API
//! and the ingresses to one [`Engine`], and hands back a [`ServerHandle`]. Both the `rust-echo`
//! binary and the PHP extension start servers through here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use socketioxide::{SocketIo, TransportType};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, ApiState};
use crate::auth::Authorizer;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::StartError;
use crate::gate::Gate;
use crate::ingress::bus::{self, Publisher};
use crate::ingress::forward::Forwarder;
use crate::ingress::redis::{self as redis_ingress, RedisStatus};
use crate::ingress::shm::RingThread;
use crate::listener::Listener;
use crate::listener::tls::{Certificates, TlsError};
use crate::listener::watchdog::Watchdog;
use crate::presence::Presence;
use crate::protocol;
use crate::shm::{Consumer, RingInfo};
use crate::stats::Stats;

/// A running server. Dropping the handle does not stop it; call [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    publisher: Publisher,
    stats: Arc<Stats>,
    redis: Arc<RedisStatus>,
    io: SocketIo,
    shutdown: watch::Sender<bool>,
    served: tokio::task::JoinHandle<()>,
    grace: std::time::Duration,
    bus_stop: Option<crossbeam_channel::Sender<()>>,
    bus: Option<JoinHandle<()>>,
    ring: Option<RingThread>,
    forwarding: tokio::task::JoinHandle<()>,
    certificates: Option<Arc<Certificates>>,
    metrics_addr: Option<SocketAddr>,
}

/// Start a server on the current tokio runtime.
///
/// # Errors
/// The TLS files cannot be used, the address cannot be bound, or the ring cannot be created.
pub async fn start(config: Config) -> Result<ServerHandle, StartError> {
    let certificates = match &config.tls {
        Some(files) => Some(Certificates::load(files)?),
        None => None,
    };
    let acceptor = match &certificates {
        Some(c) => Some(TlsAcceptor::from(Arc::new(c.server_config()?))),
        None => None,
    };
    let config = Arc::new(config);
    let auth = Authorizer::new(&config)?;
    let (layer, io) = socketio_builder(&config).build_layer();
    let stats = Arc::new(Stats::default());
    let watchdog = Watchdog::new(stats.clone());
    let gate = Gate::new(&config, stats.clone(), watchdog.clone());
    let engine = Arc::new(Engine {
        io: io.clone(),
        config: config.clone(),
        presence: Presence::default(),
        auth,
        stats: stats.clone(),
        watchdog: watchdog.clone(),
    });
    protocol::register(&engine, gate.clone());

    let redis = Arc::new(RedisStatus::default());
    let app = api::router(ApiState {
        engine: engine.clone(),
        redis: redis.clone(),
    })
    .layer(layer)
    .layer(axum::middleware::from_fn(move |req, next| {
        crate::gate::admit(gate.clone(), req, next)
    }));

    let tcp = bind(&config).await?;
    let local_addr = tcp.local_addr().map_err(|source| StartError::Bind {
        addr: listen_addr(&config),
        source,
    })?;
    let listener = Listener::new(tcp, watchdog, acceptor);

    let (forward, forwarding) =
        Forwarder::spawn(engine.clone(), &tokio::runtime::Handle::current());
    let ring = if config.shm.enabled {
        let (name, size, mode) = (
            config.shm.name_for(local_addr.port()),
            config.shm.size,
            config.shm.mode,
        );
        let consumer = Consumer::create(&name, size, mode)?;
        let recreate = Box::new(move || Consumer::create(&name, size, mode));
        Some(
            RingThread::spawn(engine.clone(), consumer, forward.clone(), recreate)
                .map_err(StartError::Runtime)?,
        )
    } else {
        None
    };

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut stop = shutdown_rx.clone();
    let closing_io = io.clone();
    let served = tokio::spawn(async move {
        let graceful = async move {
            let _ = stop.wait_for(|s| *s).await;
            // Close every socket so the open WebSockets and polls let the server finish.
            closing_io.close().await;
        };
        crate::listener::http::serve(listener, app, graceful).await;
    });

    let metrics_addr =
        crate::metrics::serve(&config.metrics, stats.clone(), shutdown_rx.clone()).await;

    if config.subscribers.redis {
        tokio::spawn(redis_ingress::run(
            engine.clone(),
            config.redis.clone(),
            redis.clone(),
            shutdown_rx.clone(),
        ));
    }

    let (bus_stop, bus_stop_rx) = crossbeam_channel::bounded(0);
    let (publisher, bus) = bus::spawn(engine, forward, bus_stop_rx).map_err(StartError::Runtime)?;

    Ok(ServerHandle {
        local_addr,
        publisher,
        stats,
        redis,
        io,
        shutdown,
        served,
        bus_stop: Some(bus_stop),
        bus: Some(bus),
        ring,
        forwarding,
        grace: config.shutdown_grace,
        certificates,
        metrics_addr,
    })
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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

fn socketio_builder(config: &Config) -> socketioxide::SocketIoBuilder {
    let sio = &config.socketio;
    let builder = SocketIo::builder()
        .req_path(sio.path.clone())
        .ping_interval(sio.ping_interval)
        .ping_timeout(sio.ping_timeout)
        .upgrade_timeout(sio.upgrade_timeout)
        // A session must CONNECT soon after its handshake (see `gate::sessions`).
        .connect_timeout(crate::gate::sessions::CONNECT_TIMEOUT)
        .max_payload(sio.max_http_buffer_size)
        .max_buffer_size(config.limits.max_buffered_packets)
        // Clients send small packets (subscribe, whispers); a larger one grows the buffer as
        // needed. The 4 KiB default was the largest fixed cost of an idle connection.
        .ws_read_buffer_size(1024)
        .ws_max_message_size(usize::try_from(sio.max_http_buffer_size).unwrap_or(usize::MAX));
    match (sio.polling, sio.websocket) {
        (true, false) => builder.transports([TransportType::Polling]),
        (false, true) => builder.transports([TransportType::Websocket]),
        _ => builder,
    }
}

fn listen_addr(config: &Config) -> String {
    crate::config::socket_address(config.host.as_deref().unwrap_or("0.0.0.0"), config.port)
}

async fn bind(config: &Config) -> Result<TcpListener, StartError> {
    let addr = listen_addr(config);
    TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}
