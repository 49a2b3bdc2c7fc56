//! Redis Sentinel, as laravel-echo-server's ioredis config names it (`sentinels`, `name`): the
//! Laravel subscriber and the cluster backplane find the master through the sentinels, and
//! follow a failover under a steady publish by themselves.
mod common;

use std::time::{Duration, Instant};

use common::Client;
use common::binary::Binary;
use common::sentinel::Sentinels;
use common::until_eq;
use serde_json::{Value, json};

/// The `n` of each `Tick` event `c` receives within `within`, until one is at least `last`.
async fn ticks_until(c: &mut Client, last: u64, within: Duration) -> Vec<(String, u64, Instant)> {
    let mut out = Vec::new();
    loop {
        let raw = c.next_event_within(within).await;
        let v: Vec<Value> = serde_json::from_str(&raw).expect("event");
        let src = v[2]["src"].as_str().unwrap_or("?").to_owned();
        let n = v[2]["n"].as_u64().expect("n");
        out.push((src.clone(), n, Instant::now()));
        if src == "http" && n >= last {
            return out;
        }
    }
}

/// Master killed under a steady publish (HTTP API of node A every 20 ms, relayed to node B,
/// and Laravel's PUBLISH on the current master): the sentinels promote the replica, both nodes
/// reconnect to it by themselves and events keep arriving; the gap is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_is_followed() {
    let mut sentinels = Sentinels::start().await;
    let config = json!({
        "databaseConfig": { "redis": sentinels.config() },
        "clients": [{ "appId": "app", "key": "secret" }],
        "shm": { "enabled": false },
        "cluster": { "enabled": true },
    });
    let (a_node, b_node) = (
        Binary::start(config.clone(), None),
        Binary::start(config, None),
    );
    for n in [&a_node, &b_node] {
        until_eq("relay subscribed", Some(true), || async {
            n.health()
                .await
                .and_then(|h| h["cluster"]["relay_subscribed"].as_bool())
        })
        .await;
        until_eq("redis subscribed", Some(true), || async {
            n.health()
                .await
                .and_then(|h| h["redis_connected"].as_bool())
        })
        .await;
    }
    let mut b = Client::connect(b_node.addr, 4).await;
    b.subscribe("news").await;
    until_eq("b subscribed", 1.0, || {
        b_node.metric(r#"rust_echo_subscriptions{kind="public"}"#)
    })
    .await;

    let url = format!("http://{}/apps/app/events?auth_key=secret", a_node.addr);
    let publisher = {
        let url = url.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let body =
                    json!({"channel": "news", "name": "Tick", "data": {"src": "http", "n": n}});
                let _ = common::http()
                    .post(&url)
                    .body(body.to_string())
                    .send()
                    .await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let before = ticks_until(&mut b, 10, Duration::from_secs(5)).await;
    let old = sentinels.master_port;
    let killed = Instant::now();
    sentinels.kill_master();
    let mut promoted = None;
    for _ in 0..1000 {
        if sentinels.master().await.is_some_and(|p| p != old) {
            promoted = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let promoted = promoted.expect("the sentinels promoted the replica");
    assert_eq!(sentinels.master().await, Some(sentinels.replica_port));
    // Relayed events arrive again: the last one before the kill, then the first after.
    let last_before = before.last().map(|t| t.1).expect("events before");
    let after = ticks_until(&mut b, last_before + 100, Duration::from_secs(20)).await;
    let first_after = after.iter().find(|t| t.2 > killed).map(|t| t.2);
    let gap = first_after.map(|t| t.duration_since(killed));
    println!("sentinel failover: promoted after {promoted:?}, relayed events again after {gap:?}");
    publisher.abort();
    // Laravel's PUBLISH on the new master reaches both nodes' subscribers.
    until_eq("both subscribers on the new master", Some(2), || async {
        let p = json!({"event": "Tick", "data": {"src": "redis", "n": 0}, "socket": null});
        sentinels.publish("news", &p.to_string()).await
    })
    .await;
    let mut seqs: Vec<u64> = before
        .iter()
        .chain(&after)
        .filter(|t| t.0 == "http")
        .map(|t| t.1)
        .collect();
    let all = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), all, "no event twice");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(
        b_node
            .metric("rust_echo_cluster_redis_reconnects_total")
            .await
            >= 1.0
    );
    assert!(b_node.metric("rust_echo_redis_reconnects_total").await >= 1.0);
}
