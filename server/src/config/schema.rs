//! The configuration's one schema: every key of `laravel-echo-server.json` rust-echo reads and
//! the keys it adds, with its type and default. The file, the environment (see [`super::env`],
//! which finds its variable names here) and the PHP package all go through it.
//!
//! Keys the schema does not name are ignored and reported (see [`super::load`]); `null` counts as
//! not set. The defaults are the engine's: the PHP package passes only what its user set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::values::{
    AuthHosts, Count, FileMode, Flag, List, Nodes, Port, RequestPath, Scheme, Text,
};

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, expecting = "an object")]
pub struct Document {
    /// Base URL(s) of the Laravel app for channel authorization.
    pub auth_host: AuthHosts,
    /// Path appended to the auth host.
    pub auth_endpoint: Text,
    /// Milliseconds an auth request may take.
    pub auth_timeout: Count,
    /// HTTP API credentials.
    pub clients: Vec<Client>,
    /// Pusher-protocol apps (the first is the default app).
    pub apps: Vec<super::apps::AppEntry>,
    /// laravel-echo-server's presence store; only checked, presence lives in memory here.
    pub database: Database,
    /// `databaseConfig`: the Redis connection.
    pub database_config: DatabaseConfig,
    /// Verbose logging.
    pub dev_mode: Flag,
    /// Listen address; empty or unset listens on all interfaces.
    pub host: Option<Text>,
    /// Listen port.
    pub port: Port,
    /// A port of its own for the Pusher protocol (unset: the Socket.IO port serves it).
    pub pusher_port: Option<Port>,
    /// `http` or `https`.
    pub protocol: Scheme,
    /// Socket.IO options that apply to this server.
    pub socketio: SocketIo,
    /// TLS certificate (`https`).
    pub ssl_cert_path: Text,
    /// TLS key (`https`).
    pub ssl_key_path: Text,
    /// Intermediate certificates (`https`).
    pub ssl_cert_chain_path: Text,
    /// Passphrase of an encrypted key.
    pub ssl_passphrase: Text,
    /// Which ingresses are on.
    pub subscribers: Subscribers,
    /// CORS headers of the HTTP API.
    pub api_origin_allow: ApiOriginAllow,
    /// Extra response headers of the HTTP API.
    pub headers: BTreeMap<String, Text>,
    /// Channels one socket may hold.
    pub max_channels_per_socket: Count,
    /// Longest channel name, bytes.
    pub max_channel_name_length: Count,
    /// Packets queued per connection.
    pub max_buffered_packets: Count<1>,
    /// Open Socket.IO connections (0: no limit).
    pub max_connections: Count,
    /// Auth requests in flight at once.
    pub max_concurrent_auth: Count<1>,
    /// Whispers per socket per second (0: no limit).
    pub client_events_per_second: Count<0, { u32::MAX as u64 }>,
    /// Whisper burst per socket.
    pub client_event_burst: Count<0, { u32::MAX as u64 }>,
    /// The Prometheus listener.
    pub metrics: Metrics,
    /// Browser origins allowed to open a socket (empty: any).
    pub allowed_origins: List,
    /// Proxies whose `X-Forwarded-For` is kept as sent (addresses or CIDR ranges).
    pub trusted_proxies: List,
    /// Milliseconds a graceful shutdown may take.
    pub shutdown_grace_period: Count,
    /// The shared-memory ring.
    pub shm: Shm,
    /// Several servers on one Redis.
    pub cluster: Cluster,
}

impl Default for Document {
    fn default() -> Self {
        Document {
            auth_host: AuthHosts(vec!["http://localhost".to_owned()]),
            auth_endpoint: "/broadcasting/auth".into(),
            auth_timeout: Count(10_000),
            clients: Vec::new(),
            apps: Vec::new(),
            database: Database::Redis,
            database_config: DatabaseConfig::default(),
            dev_mode: Flag(false),
            host: None,
            port: Port(6001),
            pusher_port: None,
            protocol: Scheme::Http,
            socketio: SocketIo::default(),
            ssl_cert_path: Text::default(),
            ssl_key_path: Text::default(),
            ssl_cert_chain_path: Text::default(),
            ssl_passphrase: Text::default(),
            subscribers: Subscribers::default(),
            api_origin_allow: ApiOriginAllow::default(),
            headers: BTreeMap::new(),
            max_channels_per_socket: Count(1_000),
            max_channel_name_length: Count(1_000),
            max_buffered_packets: Count(4_096),
            max_connections: Count(100_000),
            max_concurrent_auth: Count(100),
            client_events_per_second: Count(10),
            client_event_burst: Count(20),
            metrics: Metrics::default(),
            allowed_origins: List::default(),
            trusted_proxies: List::default(),
            shutdown_grace_period: Count(10_000),
            shm: Shm::default(),
            cluster: Cluster::default(),
        }
    }
}

/// One `clients[]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub struct Client {
    /// The app id in `/apps/:appId/...`.
    pub app_id: NonEmpty,
    /// The secret key.
    pub key: NonEmpty,
}

/// A string that must not be empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Text")]
pub struct NonEmpty(pub String);

impl TryFrom<Text> for NonEmpty {
    type Error = &'static str;
    fn try_from(Text(s): Text) -> Result<Self, Self::Error> {
        if s.is_empty() {
            Err("expected a non-empty string")
        } else {
            Ok(NonEmpty(s))
        }
    }
}

/// `database`: laravel-echo-server's presence store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", expecting = "\"redis\" or \"sqlite\"")]
pub enum Database {
    /// Redis (presence is in memory here either way).
    Redis,
    /// SQLite (not served; presence is in memory).
    Sqlite,
}

/// `databaseConfig`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct DatabaseConfig {
    /// The Redis subscriber's connection.
    pub redis: Redis,
}

/// `databaseConfig.redis` (ioredis options; the ones used here).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, expecting = "an object")]
pub struct Redis {
    /// Host name or address.
    pub host: Text,
    /// TCP port.
    pub port: Port,
    /// Unix socket path, used instead of host and port.
    pub path: Option<Text>,
    /// ACL user.
    pub username: Option<Text>,
    /// Password; empty is none.
    pub password: Option<Text>,
    /// Database number.
    pub db: Count<0, { i64::MAX as u64 }>,
    /// Prefix Laravel puts before every channel.
    pub key_prefix: Text,
    /// Redis Sentinels to ask for the master; empty: connect to `host`/`port` directly.
    pub sentinels: Nodes,
    /// The master's name at the Sentinels (ioredis `name`); required with `sentinels`.
    pub name: Option<Text>,
    /// Password of the Sentinels themselves.
    pub sentinel_password: Option<Text>,
    /// Redis Cluster nodes, any of which serves the subscriber (Pub/Sub spans the cluster).
    pub cluster_nodes: Nodes,
}

impl Default for Redis {
    fn default() -> Self {
        Redis {
            host: "127.0.0.1".into(),
            port: Port(6379),
            path: None,
            username: None,
            password: None,
            db: Count(0),
            key_prefix: Text::default(),
            sentinels: Nodes::default(),
            name: None,
            sentinel_password: None,
            cluster_nodes: Nodes::default(),
        }
    }
}

/// `socketio`: the socket.io server options that have a meaning here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, expecting = "an object")]
pub struct SocketIo {
    /// Request path of the endpoint.
    pub path: RequestPath,
    /// Milliseconds between heartbeats.
    pub ping_interval: Count,
    /// Milliseconds a heartbeat may go unanswered.
    pub ping_timeout: Count,
    /// Milliseconds a transport upgrade may take.
    pub upgrade_timeout: Count,
    /// Largest packet a client may send, bytes.
    pub max_http_buffer_size: Count,
    /// `polling` and/or `websocket`.
    pub transports: List,
}

impl Default for SocketIo {
    fn default() -> Self {
        SocketIo {
            path: RequestPath("/socket.io".to_owned()),
            ping_interval: Count(25_000),
            ping_timeout: Count(5_000),
            upgrade_timeout: Count(10_000),
            max_http_buffer_size: Count(100_000),
            transports: List(vec!["polling".to_owned(), "websocket".to_owned()]),
        }
    }
}

/// `subscribers`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct Subscribers {
    /// `POST /apps/:appId/events`.
    pub http: Flag,
    /// Redis `PSUBSCRIBE`.
    pub redis: Flag,
}

impl Default for Subscribers {
    fn default() -> Self {
        Subscribers {
            http: Flag(true),
            redis: Flag(true),
        }
    }
}

/// `apiOriginAllow`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, expecting = "an object")]
pub struct ApiOriginAllow {
    /// Add the CORS headers.
    pub allow_cors: Flag,
    /// `Access-Control-Allow-Origin`.
    pub allow_origin: Text,
    /// `Access-Control-Allow-Methods`.
    pub allow_methods: Text,
    /// `Access-Control-Allow-Headers`.
    pub allow_headers: Text,
}

/// `metrics`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct Metrics {
    /// Serve `/metrics`.
    pub enabled: Flag,
    /// Listen address.
    pub host: Text,
    /// Listen port.
    pub port: Port,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: Flag(true),
            host: "127.0.0.1".into(),
            port: Port(9601),
        }
    }
}

/// `shm`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct Shm {
    /// Create the ring.
    pub enabled: Flag,
    /// Ring name; unset derives it from the port.
    pub name: Option<Text>,
    /// Data bytes, rounded up to a power of two.
    pub size: Count<{ crate::shm::MIN_CAPACITY }, { 1 << 32 }>,
    /// File mode.
    pub mode: FileMode,
}

impl Default for Shm {
    fn default() -> Self {
        Shm {
            enabled: Flag(true),
            name: None,
            size: Count(16 * 1024 * 1024),
            mode: FileMode(0o600),
        }
    }
}

/// `cluster`: several servers sharing channels and presence through one Redis.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct Cluster {
    /// Relay events and share presence with the other nodes.
    pub enabled: Flag,
    /// Prefix of the Pub/Sub channel and the keys the nodes share; nodes with the same Redis and
    /// namespace form one cluster.
    pub namespace: NonEmpty,
    /// The backplane's Redis; each key left unset is taken from `databaseConfig.redis`.
    pub redis: ClusterRedis,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            enabled: Flag(false),
            namespace: NonEmpty("rust-echo".to_owned()),
            redis: ClusterRedis::default(),
        }
    }
}

/// `cluster.redis`: a connection whose unset keys inherit `databaseConfig.redis`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, expecting = "an object")]
pub struct ClusterRedis {
    /// Host name or address.
    pub host: Option<Text>,
    /// TCP port.
    pub port: Option<Port>,
    /// Unix socket path, used instead of host and port.
    pub path: Option<Text>,
    /// ACL user.
    pub username: Option<Text>,
    /// Password.
    pub password: Option<Text>,
    /// Database number (the presence keys live there).
    pub db: Option<Count<0, { i64::MAX as u64 }>>,
    /// Redis Cluster nodes: the backplane uses the master of its namespace's hash slot.
    #[serde(rename = "clusterNodes")]
    pub cluster_nodes: Option<Nodes>,
}
