//! The backplane on a Redis Cluster: every key it uses and its relay channel carry the namespace
//! as a hash tag (`{ns}:…`, see [`super::keys`]), so they all live in one hash slot, and the
//! backplane talks to that slot's master only, over the same plain connections it uses with a
//! standalone Redis. Its Lua scripts need that: each updates several keys at once, which Redis
//! Cluster allows only within one slot.
//!
//! The master is looked up on every (re)connect, asking the configured nodes in turn (`CLUSTER
//! KEYSLOT`, then `CLUSTER SLOTS`), as a Sentinel is asked for its master. A dead master breaks the
//! connections; a node that no longer serves the slot answers `MOVED` (commands) or drops the
//! sharded subscription (`sunsubscribe`); either way the task makes a new connection, which goes
//! to whatever node serves the slot by then.

use std::time::Duration;

use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisError,
    RedisResult, Value,
};

use crate::config::RedisConfig;

/// One node's answer may take this long; the next node is asked after it.
const NODE_TIMEOUT: Duration = Duration::from_secs(2);

/// A client for the master that serves `key`'s hash slot now.
pub(crate) async fn master(config: &RedisConfig, key: &str) -> RedisResult<Client> {
    let mut last = None;
    for (host, port) in &config.cluster_nodes {
        match owner(config, host, *port, key).await {
            Ok((host, port)) => return client(config, host, port),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| RedisError::from((ErrorKind::Io, "no Redis Cluster node given"))))
}

fn client(config: &RedisConfig, host: String, port: u16) -> RedisResult<Client> {
    Client::open(
        ConnectionAddr::Tcp(host, port)
            .into_connection_info()?
            .set_redis_settings(crate::redis_target::settings(config)),
    )
}

/// The address of the master serving `key`'s slot, as the node at `host:port` knows it.
async fn owner(
    config: &RedisConfig,
    host: &str,
    port: u16,
    key: &str,
) -> RedisResult<(String, u16)> {
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(NODE_TIMEOUT))
        .set_response_timeout(Some(NODE_TIMEOUT));
    let mut con = client(config, host.to_owned(), port)?
        .get_multiplexed_async_connection_with_config(&settings)
        .await?;
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(&mut con)
        .await?;
    let ranges: Vec<Value> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut con)
        .await?;
    let (found, found_port) = serving(&ranges, slot).ok_or_else(|| {
        RedisError::from((
            ErrorKind::Io,
            "no master serves the backplane's hash slot",
            format!("slot {slot}, asked {host}:{port}"),
        ))
    })?;
    // An empty endpoint means "the address you reached me at" (`cluster-preferred-endpoint-type`).
    let found = if found.is_empty() || found == "?" {
        host.to_owned()
    } else {
        found
    };
    Ok((found, found_port))
}

/// The master's endpoint in the `CLUSTER SLOTS` reply for `slot`:
/// `[[start, end, [host, port, id, …], replicas…], …]`. The reply is untrusted: anything of
/// another shape is passed over.
fn serving(ranges: &[Value], slot: i64) -> Option<(String, u16)> {
    ranges.iter().find_map(|range| {
        let Value::Array(range) = range else {
            return None;
        };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
            (range.first(), range.get(1), range.get(2))
        else {
            return None;
        };
        if !(*start..=*end).contains(&slot) {
            return None;
        }
        let host = match master.first()? {
            Value::BulkString(b) => String::from_utf8(b.clone()).ok()?,
            Value::SimpleString(s) => s.clone(),
            _ => return None,
        };
        let Some(Value::Int(port)) = master.get(1) else {
            return None;
        };
        Some((host, u16::try_from(*port).ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn the_range_holding_the_slot_names_the_master() {
        let reply = vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                Value::Array(vec![bulk("10.0.0.1"), Value::Int(7000), bulk("id1")]),
            ]),
            Value::Int(3),
            Value::Array(vec![Value::Int(5461), Value::Int(16383)]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                Value::Array(vec![bulk(""), Value::Int(7001)]),
                Value::Array(vec![bulk("10.0.0.9"), Value::Int(7009)]),
            ]),
        ];
        assert_eq!(serving(&reply, 0), Some(("10.0.0.1".to_owned(), 7000)));
        assert_eq!(serving(&reply, 9000), Some((String::new(), 7001)));
        assert_eq!(serving(&reply, 20000), None);
        let bad_port = [Value::Array(vec![
            Value::Int(0),
            Value::Int(16383),
            Value::Array(vec![bulk("h"), Value::Int(70000)]),
        ])];
        assert_eq!(serving(&bad_port, 1), None);
    }
}
