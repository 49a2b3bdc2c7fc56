//! Starting a server: binds the listener, wires the Socket.IO layer, the HTTP API
//! and the ingresses to one [`Engine`], and hands back a [`ServerHandle`]. Both the `rust-echo`
//! binary and the PHP extension start servers through here.

mod handle;

use std::sync::Arc;

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
use crate::ingress::bus;
use crate::ingress::forward::Forwarder;
use crate::ingress::redis::{self as redis_ingress, RedisStatus};
use crate::ingress::shm::RingThread;
use crate::listener::Listener;
use crate::listener::tls::Certificates;
use crate::listener::watchdog::Watchdog;
use crate::presence::Presence;
use crate::protocol;
use crate::shm::Consumer;
use crate::stats::Stats;
pub use handle::{Monitor, ServerHandle};

/// Start a server on the current tokio runtime.
///
/// # Errors
/// The TLS files cannot be used, the address cannot be bound, or the ring cannot be created.
pub async fn start(config: Config) -> Result<ServerHandle, StartError> {
    let (certificates, acceptor) = tls(&config)?;
    let config = Arc::new(config);
    let parts = engine(&config)?;
    let redis = Arc::new(RedisStatus::default());
    let app = router(&parts, redis.clone());

    let (tcp, local_addr) = bind(&config, config.port).await?;
    let (pusher_listener, pusher_addr) = match config.pusher_port {
        Some(port) => {
            let (tcp, addr) = bind(&config, port).await?;
            let listener = Listener::new(tcp, parts.watchdog.clone(), acceptor.clone());
            let gate = parts.gate.clone();
            let app = crate::pusher::own_port_router(parts.engine.clone()).layer(
                axum::middleware::from_fn(move |req, next| {
                    crate::gate::admit(gate.clone(), req, next)
                }),
            );
            (Some((listener, app)), Some(addr))
        }
        None => (None, None),
    };
    let listener = Listener::new(tcp, parts.watchdog.clone(), acceptor);

    let engine = parts.engine;
    let (forward, forwarding) =
        Forwarder::spawn(engine.clone(), &tokio::runtime::Handle::current());
    let ring = ring(&config, &engine, &forward, local_addr.port())?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut listeners = vec![(listener, app)];
    listeners.extend(pusher_listener);
    let served = serve_http(listeners, engine.clone(), shutdown_rx.clone());
    let metrics_addr =
        crate::metrics::serve(&config.metrics, parts.stats.clone(), shutdown_rx.clone()).await;
    if config.subscribers.redis {
        tokio::spawn(redis_ingress::run(
            engine.clone(),
            config.redis.clone(),
            redis.clone(),
            shutdown_rx,
        ));
    }
    let (bus_stop, bus_stop_rx) = crossbeam_channel::bounded(0);
    let cluster = crate::cluster::start(&engine);
    let node_id = engine.cluster.as_ref().map(|n| n.id().to_owned());
    let (publisher, bus) = bus::spawn(engine, forward, bus_stop_rx).map_err(StartError::Runtime)?;

    Ok(ServerHandle {
        local_addr,
        pusher_addr,
        publisher,
        stats: parts.stats,
        redis,
        io: parts.io,
        shutdown,
        served,
        bus_stop: Some(bus_stop),
        bus: Some(bus),
        ring,
        forwarding,
        grace: config.shutdown_grace,
        certificates,
        metrics_addr,
        cluster,
        node_id,
    })
}

/// The certificates of an `https` server and the acceptor serving them.
fn tls(config: &Config) -> Result<(Option<Arc<Certificates>>, Option<TlsAcceptor>), StartError> {
    let Some(files) = &config.tls else {
        return Ok((None, None));
    };
    let certificates = Certificates::load(files)?;
    let acceptor = TlsAcceptor::from(Arc::new(certificates.server_config()?));
    Ok((Some(certificates), Some(acceptor)))
}

/// What the Socket.IO layer, the HTTP API and the ingresses share.
struct Parts {
    engine: Arc<Engine>,
    layer: socketioxide::layer::SocketIoLayer,
    io: SocketIo,
    stats: Arc<Stats>,
    gate: Gate,
    watchdog: Arc<Watchdog>,
}

/// The engine, with the Socket.IO handlers registered on it.
fn engine(config: &Arc<Config>) -> Result<Parts, StartError> {
    let auth = Authorizer::new(config)?;
    let (layer, io) = socketio_builder(config).build_layer();
    let stats = Arc::new(Stats::default());
    let watchdog = Watchdog::new(stats.clone());
    let gate = Gate::new(config, stats.clone(), watchdog.clone());
    let engine = Arc::new(Engine {
        io: io.clone(),
        config: config.clone(),
        presence: Presence::default(),
        auth,
        stats: stats.clone(),
        watchdog: watchdog.clone(),
        pusher: crate::pusher::Pusher::new(&config.apps),
        cluster: config
            .cluster
            .enabled
            .then(|| Arc::new(crate::cluster::Node::new(&config.cluster, stats.clone()))),
    });
    protocol::register(&engine, gate.clone());
    Ok(Parts {
        engine,
        layer,
        io,
        stats,
        gate,
        watchdog,
    })
}

/// The HTTP API with the Socket.IO layer in front and the admission gate in front of both.
fn router(parts: &Parts, redis: Arc<RedisStatus>) -> axum::Router {
    let gate = parts.gate.clone();
    api::router(ApiState {
        engine: parts.engine.clone(),
        redis,
    })
    .layer(parts.layer.clone())
    .layer(axum::middleware::from_fn(move |req, next| {
        crate::gate::admit(gate.clone(), req, next)
    }))
}

/// The shared-memory ring and its consumer thread, when `shm.enabled`.
fn ring(
    config: &Config,
    engine: &Arc<Engine>,
    forward: &Forwarder,
    port: u16,
) -> Result<Option<RingThread>, StartError> {
    if !config.shm.enabled {
        return Ok(None);
    }
    let (name, size, mode) = (config.shm.name_for(port), config.shm.size, config.shm.mode);
    let consumer = Consumer::create(&name, size, mode)?;
    // The supervisor makes a fresh ring when the drain thread has to be restarted.
    let recreate = Box::new(move || Consumer::create(&name, size, mode));
    RingThread::spawn(engine.clone(), consumer, forward.clone(), recreate)
        .map(Some)
        .map_err(StartError::Runtime)
}

/// Serve HTTP on each listener until `stop` turns true, then close every socket so open
/// WebSockets and polls let the server finish (Pusher connections, no longer HTTP once
/// upgraded, are waited for too).
fn serve_http(
    listeners: Vec<(Listener, axum::Router)>,
    engine: Arc<Engine>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let served = listeners.into_iter().map(move |(listener, app)| {
        let (engine, mut stop) = (engine.clone(), stop.clone());
        let graceful = async move {
            let _ = stop.wait_for(|s| *s).await;
            engine.io.close().await;
            engine.pusher.close().await;
        };
        crate::listener::http::serve(listener, app, graceful)
    });
    tokio::spawn(async move {
        futures_util::future::join_all(served).await;
    })
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
        // needed. The 4 KiB default was the largest fixed cost of an idle connection; 512 bytes
        // still take a laravel-echo subscribe with its auth headers in one read.
        .ws_read_buffer_size(512)
        .ws_max_message_size(usize::try_from(sio.max_http_buffer_size).unwrap_or(usize::MAX));
    match (sio.polling, sio.websocket) {
        (true, false) => builder.transports([TransportType::Polling]),
        (false, true) => builder.transports([TransportType::Websocket]),
        _ => builder,
    }
}

async fn bind(
    config: &Config,
    port: u16,
) -> Result<(TcpListener, std::net::SocketAddr), StartError> {
    let addr = crate::config::socket_address(config.host.as_deref().unwrap_or("0.0.0.0"), port);
    let tcp = TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = tcp
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((tcp, local))
}
