//! From the schema's [`Document`] to the [`Config`] the server runs with: units (milliseconds to
//! durations), empty strings as "not set", and the checks that involve more than one key or
//! another module (TLS files for `https`, origin patterns, transports, the ring's name).

use std::path::PathBuf;
use std::time::Duration;

use super::schema::Document;
use super::values::{Scheme, Text};
use super::{
    ApiClient, ApiOriginAllow, ClusterConfig, Config, Limits, MetricsConfig, Protocol, RedisConfig,
    SentinelConfig, ShmConfig, SocketIoOptions, Subscribers, TlsFiles,
};

/// A value that passed the schema but cannot be used: the key and what is expected.
pub(super) struct Invalid {
    pub key: &'static str,
    pub reason: String,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> Invalid {
    Invalid {
        key,
        reason: reason.into(),
    }
}

/// A string that counts as unset when empty.
fn set(value: Option<Text>) -> Option<String> {
    value.map(|Text(s)| s).filter(|s| !s.is_empty())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The configuration a document describes.
pub(super) fn config(d: Document) -> Result<Config, Invalid> {
    let protocol = match d.protocol {
        Scheme::Http => Protocol::Http,
        Scheme::Https => Protocol::Https,
    };
    let tls = tls(&d, protocol)?;
    let limits = limits(&d);
    let allowed_origins = crate::origin::AllowedOrigins::parse(&d.allowed_origins.0)
        .map_err(|reason| invalid("allowedOrigins", reason))?;
    let trusted_proxies = crate::forwarded::TrustedProxies::parse(&d.trusted_proxies.0)
        .map_err(|reason| invalid("trustedProxies", reason))?;
    let redis = redis(d.database_config.redis)?;
    let cluster = cluster(d.cluster, &redis);
    Ok(Config {
        auth_host: d.auth_host.0,
        auth_endpoint: d.auth_endpoint.0,
        auth_timeout: ms(d.auth_timeout.0),
        clients: d
            .clients
            .into_iter()
            .map(|c| ApiClient {
                app_id: c.app_id.0,
                key: c.key.0,
            })
            .collect(),
        apps: super::apps::build(d.apps).map_err(|reason| invalid("apps", reason))?,
        redis,
        dev_mode: d.dev_mode.0,
        host: set(d.host),
        port: d.port.0,
        pusher_port: d.pusher_port.map(|p| p.0),
        protocol,
        tls,
        metrics: metrics(d.metrics)?,
        socketio: socketio(d.socketio)?,
        subscribers: Subscribers {
            http: d.subscribers.http.0,
            redis: d.subscribers.redis.0,
        },
        api_origin_allow: ApiOriginAllow {
            allow_cors: d.api_origin_allow.allow_cors.0,
            allow_origin: d.api_origin_allow.allow_origin.0,
            allow_methods: d.api_origin_allow.allow_methods.0,
            allow_headers: d.api_origin_allow.allow_headers.0,
        },
        allowed_origins,
        trusted_proxies,
        limits,
        headers: d.headers.into_iter().map(|(k, Text(v))| (k, v)).collect(),
        shm: shm(d.shm)?,
        shutdown_grace: ms(d.shutdown_grace_period.0),
        cluster,
    })
}

/// The cluster's connection takes each key it does not set from the subscriber's.
fn cluster(c: super::schema::Cluster, base: &RedisConfig) -> ClusterConfig {
    let r = c.redis;
    // A host or port of its own means another server: a socket path is not inherited then.
    let own_address = r.host.is_some() || r.port.is_some();
    let own_path = r.path.is_some();
    let own_nodes = r
        .cluster_nodes
        .map(|n| with_port(n.0, 6379))
        .filter(|n| !n.is_empty());
    let own_server = own_address || own_path || own_nodes.is_some();
    ClusterConfig {
        enabled: c.enabled.0,
        namespace: c.namespace.0,
        redis: RedisConfig {
            host: r.host.map_or_else(|| base.host.clone(), |Text(h)| h),
            port: r.port.map_or(base.port, |p| p.0),
            path: set(r.path).or_else(|| (!own_address).then(|| base.path.clone()).flatten()),
            username: set(r.username).or_else(|| base.username.clone()),
            password: set(r.password).or_else(|| base.password.clone()),
            db: r
                .db
                .map_or(base.db, |n| i64::try_from(n.0).unwrap_or(i64::MAX)),
            key_prefix: String::new(),
            sentinel: (!own_server).then(|| base.sentinel.clone()).flatten(),
            // On a Redis Cluster the backplane's names share one hash slot (`cluster::shard`).
            cluster_nodes: own_nodes.unwrap_or_else(|| {
                if own_server {
                    Vec::new()
                } else {
                    base.cluster_nodes.clone()
                }
            }),
        },
    }
}

fn limits(d: &Document) -> Limits {
    Limits {
        max_channels_per_socket: d.max_channels_per_socket.to_usize(),
        max_channel_name_length: d.max_channel_name_length.to_usize(),
        max_buffered_packets: d.max_buffered_packets.to_usize(),
        max_connections: d.max_connections.to_usize(),
        max_concurrent_auth: d.max_concurrent_auth.to_usize(),
        // The schema bounds both to u32.
        client_events_per_second: u32::try_from(d.client_events_per_second.0).unwrap_or(u32::MAX),
        client_event_burst: u32::try_from(d.client_event_burst.0).unwrap_or(u32::MAX),
    }
}

fn redis(r: super::schema::Redis) -> Result<RedisConfig, Invalid> {
    let sentinel = if r.sentinels.0.is_empty() {
        None
    } else {
        let master = set(r.name).ok_or_else(|| {
            invalid(
                "databaseConfig.redis.name",
                "the master's name is required with sentinels",
            )
        })?;
        Some(SentinelConfig {
            nodes: with_port(r.sentinels.0, 26379),
            master,
            password: set(r.sentinel_password),
        })
    };
    Ok(RedisConfig {
        host: r.host.0,
        port: r.port.0,
        path: r.path.map(|Text(p)| p),
        username: r.username.map(|Text(u)| u),
        password: set(r.password),
        db: i64::try_from(r.db.0).unwrap_or(i64::MAX),
        key_prefix: r.key_prefix.0,
        sentinel,
        cluster_nodes: with_port(r.cluster_nodes.0, 6379),
    })
}

/// Nodes given without a port get their service's default one.
fn with_port(nodes: Vec<(String, u16)>, default: u16) -> Vec<(String, u16)> {
    nodes
        .into_iter()
        .map(|(host, port)| (host, if port == 0 { default } else { port }))
        .collect()
}

fn metrics(m: super::schema::Metrics) -> Result<MetricsConfig, Invalid> {
    if m.host.0.is_empty() {
        return Err(invalid(
            "metrics.host",
            "expected an address such as 127.0.0.1",
        ));
    }
    Ok(MetricsConfig {
        enabled: m.enabled.0,
        host: m.host.0,
        port: m.port.0,
    })
}

fn socketio(s: super::schema::SocketIo) -> Result<SocketIoOptions, Invalid> {
    let names = &s.transports.0;
    let polling = names.iter().any(|n| n == "polling");
    let websocket = names.iter().any(|n| n == "websocket");
    if !polling && !websocket || names.iter().any(|n| n != "polling" && n != "websocket") {
        return Err(invalid(
            "socketio.transports",
            "expected \"polling\" and/or \"websocket\"",
        ));
    }
    Ok(SocketIoOptions {
        path: s.path.0,
        ping_interval: ms(s.ping_interval.0),
        ping_timeout: ms(s.ping_timeout.0),
        upgrade_timeout: ms(s.upgrade_timeout.0),
        max_http_buffer_size: s.max_http_buffer_size.0,
        polling,
        websocket,
    })
}

fn shm(s: super::schema::Shm) -> Result<ShmConfig, Invalid> {
    let name = set(s.name);
    if let Some(name) = &name {
        crate::shm::Producer::new(name)
            .map_err(|_| invalid("shm.name", "use letters, digits, '.', '_' and '-'"))?;
    }
    Ok(ShmConfig {
        enabled: s.enabled.0,
        name,
        size: s.size.0,
        mode: s.mode.0,
    })
}

/// laravel-echo-server ignores the TLS keys of an `http` server; `https` needs a cert and a key.
fn tls(d: &Document, protocol: Protocol) -> Result<Option<TlsFiles>, Invalid> {
    if protocol != Protocol::Https {
        return Ok(None);
    }
    let path = |t: &Text| set(Some(t.clone())).map(PathBuf::from);
    let required = "required when protocol is \"https\"";
    Ok(Some(TlsFiles {
        cert: path(&d.ssl_cert_path).ok_or_else(|| invalid("sslCertPath", required))?,
        key: path(&d.ssl_key_path).ok_or_else(|| invalid("sslKeyPath", required))?,
        chain: path(&d.ssl_cert_chain_path),
        passphrase: set(Some(d.ssl_passphrase.clone())),
    }))
}
