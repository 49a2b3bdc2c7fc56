//! The configuration the server runs with, in the units and shapes the code uses (durations,
//! parsed origins, TLS files only for `https`). Built from the [schema](super::schema) by
//! [`super::build`]; its defaults are the schema's.

use std::path::PathBuf;
use std::time::Duration;

/// Where the server listens and how it talks to clients, Laravel and Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URLs of the Laravel app for channel authorization (`authHost`, string or array).
    pub auth_host: Vec<String>,
    /// Path appended to the chosen auth host (`authEndpoint`).
    pub auth_endpoint: String,
    /// How long an auth request may take before the subscription fails with status 0
    /// (`authTimeout`, milliseconds; laravel-echo-server waits forever).
    pub auth_timeout: Duration,
    /// API credentials for the HTTP API (`clients`).
    pub clients: Vec<ApiClient>,
    /// Pusher-protocol apps (`apps`, or Reverb's `REVERB_APP_*`); the first is the default app,
    /// whose channels are the Socket.IO channels.
    pub apps: Vec<super::apps::PusherApp>,
    /// The Redis subscriber's connection (`databaseConfig.redis`).
    pub redis: RedisConfig,
    /// Verbose logging of joins, leaves, auth results and messages (`devMode`).
    pub dev_mode: bool,
    /// Listen address; `None` listens on all interfaces (`host`).
    pub host: Option<String>,
    /// Listen port; 0 picks a free one (`port`).
    pub port: u16,
    /// A second port on the same host serving only the Pusher protocol and its HTTP API
    /// (`pusherPort`); the main port serves them too.
    pub pusher_port: Option<u16>,
    /// `http` or `https` (`protocol`).
    pub protocol: Protocol,
    /// Certificate and key for `https` (`sslCertPath`, `sslKeyPath`, `sslCertChainPath`,
    /// `sslPassphrase`); `Some` exactly when the protocol is `https`.
    pub tls: Option<TlsFiles>,
    /// The Prometheus listener (`metrics`).
    pub metrics: MetricsConfig,
    /// Socket.IO transport options (`socketio`).
    pub socketio: SocketIoOptions,
    /// Which ingresses are on (`subscribers`).
    pub subscribers: Subscribers,
    /// CORS headers for the HTTP API (`apiOriginAllow`).
    pub api_origin_allow: ApiOriginAllow,
    /// Browser origins allowed to open a socket (`allowedOrigins`); empty allows any.
    pub allowed_origins: crate::origin::AllowedOrigins,
    /// Peers whose `X-Forwarded-For` is kept as they sent it (`trustedProxies`: addresses or
    /// CIDR ranges); from any other peer it is a claim and the peer address is appended.
    pub trusted_proxies: crate::forwarded::TrustedProxies,
    /// Extra response headers for the HTTP API (`headers`).
    pub headers: Vec<(String, String)>,
    /// Bounds on what one client may make the server hold.
    pub limits: Limits,
    /// The shared-memory ring PHP processes on this host publish through (`shm`).
    pub shm: ShmConfig,
    /// How long a graceful shutdown may take before connections are dropped
    /// (`shutdownGracePeriod`, milliseconds).
    pub shutdown_grace: Duration,
    /// Several servers on one Redis (`cluster`).
    pub cluster: ClusterConfig,
}

/// Several servers sharing events and presence through one Redis (`cluster` object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Relay events and share presence (`cluster.enabled`).
    pub enabled: bool,
    /// Prefix of the relay channel and the shared keys (`cluster.namespace`).
    pub namespace: String,
    /// The backplane's connection: `cluster.redis`, unset keys from `databaseConfig.redis`.
    pub redis: RedisConfig,
}

/// The TLS files of an `https` server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate, leaf first (`sslCertPath`).
    pub cert: PathBuf,
    /// PEM private key: PKCS#8, PKCS#1 or SEC1, or encrypted PKCS#8 (`sslKeyPath`).
    pub key: PathBuf,
    /// PEM intermediate certificates appended to the chain (`sslCertChainPath`).
    pub chain: Option<PathBuf>,
    /// Decrypts an encrypted key (`sslPassphrase`).
    pub passphrase: Option<String>,
}

/// Where Prometheus scrapes `/metrics` (`metrics` object). A listener of its own, so the
/// numbers are not exposed on the public port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Serve `/metrics` (`metrics.enabled`).
    pub enabled: bool,
    /// Listen address (`metrics.host`).
    pub host: String,
    /// Listen port; 0 picks a free one (`metrics.port`).
    pub port: u16,
}

/// The shared-memory ring (`shm` object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShmConfig {
    /// Create the ring (`shm.enabled`).
    pub enabled: bool,
    /// Ring name in `/dev/shm`; `None` derives it from the port (`rust-echo-<port>`).
    pub name: Option<String>,
    /// Data bytes, rounded up to a power of two (`shm.size`).
    pub size: u64,
    /// File mode, e.g. `0o660` so web workers of the same group can publish (`shm.mode`).
    pub mode: u32,
}

impl ShmConfig {
    /// The ring name for a server listening on `port`.
    pub fn name_for(&self, port: u16) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| crate::shm::default_name(port))
    }
}

/// One HTTP API client (`clients[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// The app id in `/apps/:appId/...`.
    pub app_id: String,
    /// The secret key, sent as `Authorization: Bearer <key>` or `?auth_key=<key>`.
    pub key: String,
}

/// Connection to the Redis server whose Pub/Sub the server subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Unix socket path; used instead of host and port when set.
    pub path: Option<String>,
    /// ACL user name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database number (Pub/Sub ignores it; kept for the connection handshake).
    pub db: i64,
    /// Prefix Laravel puts in front of every channel (`keyPrefix`, e.g. `laravel_database_`).
    pub key_prefix: String,
    /// Find the master through Redis Sentinel instead of `host` and `port`.
    pub sentinel: Option<SentinelConfig>,
    /// Redis Cluster nodes (host, port) tried in turn; empty: not a cluster.
    pub cluster_nodes: Vec<(String, u16)>,
}

/// Redis Sentinel (`sentinels`, `name`, `sentinelPassword`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelConfig {
    /// The Sentinel nodes, host and port.
    pub nodes: Vec<(String, u16)>,
    /// The master's name.
    pub master: String,
    /// The Sentinel nodes' password.
    pub password: Option<String>,
}

/// Which protocol the listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP and WebSocket.
    Http,
    /// TLS.
    Https,
}

/// The subset of socket.io server options that apply to this server.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketIoOptions {
    /// Request path of the Socket.IO endpoint.
    pub path: String,
    /// Interval between heartbeats.
    pub ping_interval: Duration,
    /// How long a heartbeat may go unanswered.
    pub ping_timeout: Duration,
    /// How long a transport upgrade may take.
    pub upgrade_timeout: Duration,
    /// Largest packet a client may send, in bytes.
    pub max_http_buffer_size: u64,
    /// Allow the HTTP long-polling transport.
    pub polling: bool,
    /// Allow the WebSocket transport.
    pub websocket: bool,
}

/// Ingress switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribers {
    /// `POST /apps/:appId/events`.
    pub http: bool,
    /// Redis `PSUBSCRIBE`.
    pub redis: bool,
}

/// CORS headers added to every HTTP API response when `allow_cors` is on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiOriginAllow {
    /// Whether to add the headers.
    pub allow_cors: bool,
    /// `Access-Control-Allow-Origin`.
    pub allow_origin: String,
    /// `Access-Control-Allow-Methods`.
    pub allow_methods: String,
    /// `Access-Control-Allow-Headers`.
    pub allow_headers: String,
}

/// Bounds that keep one client from making the server hold unbounded state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Channels one socket may be subscribed to at once (`maxChannelsPerSocket`).
    pub max_channels_per_socket: usize,
    /// Longest accepted channel name in bytes (`maxChannelNameLength`).
    pub max_channel_name_length: usize,
    /// Packets queued per connection (`maxBufferedPackets`). Queued broadcasts share one
    /// encoded buffer, so this costs little. A connection that has this many queued and has not
    /// accepted a byte for two seconds is disconnected.
    pub max_buffered_packets: usize,
    /// Open Socket.IO connections; further handshakes get HTTP 503 (`maxConnections`, 0: no
    /// limit besides the process's file descriptors).
    pub max_connections: usize,
    /// Authorization requests in flight to the app at once; further subscribes wait for a slot
    /// within `authTimeout` (`maxConcurrentAuth`).
    pub max_concurrent_auth: usize,
    /// Client events (whispers) one socket may send per second, on average
    /// (`clientEventsPerSecond`, 0: no limit).
    pub client_events_per_second: u32,
    /// Client events one socket may send in a burst (`clientEventBurst`).
    pub client_event_burst: u32,
}
