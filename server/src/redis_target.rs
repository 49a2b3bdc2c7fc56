//! Where a Redis connection goes, as `databaseConfig.redis` describes it: one address (TCP or a
//! Unix socket), the master a set of Redis Sentinels names right now, or one node of a Redis
//! Cluster. Resolved again on every (re)connect, so a Sentinel failover or a dead cluster node
//! is followed by reconnecting.
//!
//! Redis Cluster needs nothing more for Pub/Sub: a `PUBLISH` on any node reaches subscribers on
//! every node, so a subscriber on one node hears Laravel's events wherever they were published.

use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use redis::{
    Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo, RedisResult,
};

use crate::config::{RedisConfig, SentinelConfig};

/// A client for the configured Redis; `attempt` (consecutive failures so far) picks the cluster
/// node to try, so each retry moves on to the next one.
pub(crate) async fn client(config: &RedisConfig, attempt: u32) -> RedisResult<Client> {
    if let Some(sentinel) = &config.sentinel {
        return master(config, sentinel).await;
    }
    let addr = match (&config.path, config.cluster_nodes.as_slice()) {
        (_, [_, ..]) => {
            let nodes = &config.cluster_nodes;
            let (host, port) = &nodes[attempt as usize % nodes.len()];
            ConnectionAddr::Tcp(host.clone(), *port)
        }
        (Some(path), []) => ConnectionAddr::Unix(path.into()),
        (None, []) => ConnectionAddr::Tcp(config.host.clone(), config.port),
    };
    Client::open(
        addr.into_connection_info()?
            .set_redis_settings(settings(config)),
    )
}

/// The master the Sentinels name (checked to be a master), with the configured credentials.
async fn master(config: &RedisConfig, sentinel: &SentinelConfig) -> RedisResult<Client> {
    let mut sentinel_settings = RedisConnectionInfo::default();
    if let Some(p) = &sentinel.password {
        sentinel_settings = sentinel_settings.set_password(p);
    }
    let sentinels = sentinel
        .nodes
        .iter()
        .map(|(host, port)| {
            ConnectionAddr::Tcp(host.clone(), *port)
                .into_connection_info()
                .map(|i| i.set_redis_settings(sentinel_settings.clone()))
        })
        .collect::<RedisResult<Vec<ConnectionInfo>>>()?;
    let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(settings(config));
    Sentinel::build(sentinels)?
        .async_master_for(&sentinel.master, Some(&node))
        .await
}

/// Database, user and password of the data nodes.
pub(crate) fn settings(config: &RedisConfig) -> RedisConnectionInfo {
    let mut settings = RedisConnectionInfo::default().set_db(config.db);
    if let Some(u) = &config.username {
        settings = settings.set_username(u);
    }
    if let Some(p) = &config.password {
        settings = settings.set_password(p);
    }
    settings
}

/// The configured Redis in words, for log lines.
pub(crate) fn describe(config: &RedisConfig) -> String {
    let list = |nodes: &[(String, u16)]| {
        nodes
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    if let Some(sentinel) = &config.sentinel {
        format!(
            "master {} of sentinels {}",
            sentinel.master,
            list(&sentinel.nodes)
        )
    } else if !config.cluster_nodes.is_empty() {
        format!("cluster nodes {}", list(&config.cluster_nodes))
    } else {
        match &config.path {
            Some(p) => p.clone(),
            None => format!("{}:{}", config.host, config.port),
        }
    }
}
