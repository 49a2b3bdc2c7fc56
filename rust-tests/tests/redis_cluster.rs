//! Redis Cluster, as laravel-echo-server's ioredis config names it (`clusterNodes`): the Laravel
//! subscriber listens on one node and hears what is published on any, moving on when its node
//! dies; the cluster backplane keeps its keys and its sharded relay channel in the hash slot of
//! its namespace. Real redis-server processes, a real cluster made with `redis-cli --cluster
//! create`. (Failovers of the backplane's slot: `redis_cluster_failover.rs`; Sentinel:
//! `sentinel.rs`.)
mod common;

use std::collections::BTreeMap;

use common::nodes::Node;
use common::redis_cluster::RedisCluster;
use common::{AuthStub, Client, TestServer, until, until_eq};
use serde_json::{Value, json};

const EACH: u64 = 20;

/// The data of the next event the client receives on `news`.
async fn next_number(c: &mut Client) -> u64 {
    let raw = c.next_event_raw().await;
    let v: serde_json::Value = serde_json::from_str(&raw).expect("json");
    v[2].as_u64()
        .unwrap_or_else(|| panic!("unexpected event {raw}"))
}

/// Three masters in a Redis Cluster; the server is given all three. A publish on any node reaches
/// the subscriber; the node it listens on dies, it moves to the next, and publishes on the
/// survivors keep arriving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_publishes_from_any_node_and_a_dead_node() {
    let mut cluster = RedisCluster::start(3, 0).await;
    let seeds: Vec<(String, u16)> = cluster
        .nodes
        .iter()
        .map(|n| ("127.0.0.1".to_owned(), n.port))
        .collect();
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.cluster_nodes = seeds;
        c.redis.key_prefix = "p_".to_owned();
    })
    .await;
    until("the subscriber to connect to the cluster", || {
        s.handle.redis_connected()
    })
    .await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    // PUBLISH counts only the receiving node's own subscribers; the event reaches every node's.
    for (i, node) in cluster.nodes.iter().enumerate() {
        node.publish("p_news", i as u64).await.expect("publish");
        assert_eq!(next_number(&mut c).await, i as u64);
    }
    // The subscriber listens on the first node; kill it.
    cluster.nodes[0].kill();
    until("the subscriber to notice", || !s.handle.redis_connected()).await;
    until("the subscriber to move to another node", || {
        s.handle.redis_connected()
    })
    .await;
    for (n, node) in [(10, &cluster.nodes[1]), (11, &cluster.nodes[2])] {
        node.publish("p_news", n).await.expect("publish");
        assert_eq!(next_number(&mut c).await, n);
    }
}

/// The next `n` events of `c`, as `src` → the `n`s in the order received.
async fn by_source(c: &mut Client, n: u64) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for _ in 0..n {
        let (_, args) = c.next_event().await;
        let src = args[1]["src"].as_str().expect("src").to_owned();
        out.entry(src)
            .or_default()
            .push(args[1]["n"].as_u64().expect("n"));
    }
    out
}

async fn join(c: &mut Client, user: u32) {
    c.emit(
        "subscribe",
        json!({"channel": "presence-room", "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
}

/// The `presence:*` event `c` receives next, with its users sorted.
async fn presence(c: &mut Client) -> (String, Value) {
    let (name, args) = c.next_event().await;
    assert_eq!(args[0], json!("presence-room"), "{name} {args:?}");
    let ids = match &args[1] {
        Value::Array(members) => {
            let mut ids: Vec<u64> = members
                .iter()
                .filter_map(|m| m["user_id"].as_u64())
                .collect();
            ids.sort_unstable();
            json!(ids)
        }
        member => member["user_id"].clone(),
    };
    (name, ids)
}

/// `Marker` on `channel` from `node` is the next event of every client: nothing came twice.
async fn marker(node: &Node, channel: &str, clients: &mut [&mut Client]) {
    node.post_event(channel, "Marker", &json!("end"), None)
        .await;
    for c in clients {
        let (name, args) = c.next_event().await;
        assert_eq!(
            (name.as_str(), &args[0]),
            ("Marker", &json!(channel)),
            "at {}",
            c.sid
        );
    }
}

/// Three rust-echo nodes whose backplane is a 3-master Redis Cluster: events from the ring and
/// the HTTP API, and whispers, reach the clients of every node exactly once, in order; presence
/// is one list for the cluster; every backplane key lives on the master of the namespace's slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backplane_on_a_redis_cluster() {
    let cluster = RedisCluster::start(3, 0).await;
    let auth = AuthStub::laravel().await;
    let ns = cluster.namespace_off_the_first_seed().await;
    let nodes = cluster
        .rust_echo_nodes(&ns, &json!({ "authHost": auth.url }), 3)
        .await;
    let mut a = nodes[0].client(4).await;
    let mut b = nodes[1].client(3).await;
    let mut c = nodes[2].client(4).await;
    for cl in [&mut a, &mut b, &mut c] {
        cl.subscribe("news").await;
        cl.subscribe("private-chat").await;
    }
    until_eq("3 subscribers in the cluster", Some(3), || async {
        nodes[0].api("/apps/app/channels/private-chat").await["subscription_count"].as_u64()
    })
    .await;
    for i in 0..EACH {
        nodes[0].ring_publish("news", "Ring", &json!({"src": "ring", "n": i}).to_string());
        nodes[1]
            .post_event("news", "Http", &json!({"src": "http", "n": i}), None)
            .await;
    }
    let in_order: Vec<u64> = (0..EACH).collect();
    for cl in [&mut a, &mut b, &mut c] {
        let got = by_source(cl, 2 * EACH).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.values().all(|seq| *seq == in_order), "{got:?}");
    }
    marker(&nodes[2], "news", &mut [&mut a, &mut b, &mut c]).await;

    c.whisper_to("c", &mut [&mut a, &mut b]).await;
    marker(&nodes[0], "private-chat", &mut [&mut a, &mut b, &mut c]).await;

    presence_across(&nodes, [&mut a, &mut b, &mut c]).await;
    every_key_on_the_slots_master(&cluster, &ns).await;
}

/// User 1 on node 0, user 2 on node 1 and in a second tab on node 2: one member list, one
/// joining and one leaving for the cluster. `watchers` (one per node, on `news`) show that
/// relayed announcements have arrived everywhere before the next join.
async fn presence_across(nodes: &[Node], watchers: [&mut Client; 3]) {
    let [a, b, c] = watchers;
    let mut p1 = nodes[0].client(4).await;
    join(&mut p1, 1).await;
    assert_eq!(
        presence(&mut p1).await,
        ("presence:subscribed".into(), json!([1]))
    );
    // User 1's joining has reached every node before user 2 subscribes.
    marker(&nodes[0], "news", &mut [&mut *a, &mut *b, &mut *c]).await;
    let mut p2 = nodes[1].client(3).await;
    join(&mut p2, 2).await;
    assert_eq!(
        presence(&mut p2).await,
        ("presence:subscribed".into(), json!([1, 2]))
    );
    assert_eq!(
        presence(&mut p1).await,
        ("presence:joining".into(), json!(2))
    );
    marker(&nodes[1], "news", &mut [&mut *a, &mut *b, &mut *c]).await;
    let mut p3 = nodes[2].client(4).await;
    join(&mut p3, 2).await;
    assert_eq!(
        presence(&mut p3).await,
        ("presence:subscribed".into(), json!([1, 2]))
    );
    p2.close().await;
    p3.emit("unsubscribe", json!({ "channel": "presence-room" }))
        .await;
    assert_eq!(
        presence(&mut p1).await,
        ("presence:leaving".into(), json!(2))
    );
    marker(&nodes[2], "presence-room", &mut [&mut p1]).await;
}

/// Every key of the backplane is on the master of the namespace's slot, none on the others.
async fn every_key_on_the_slots_master(cluster: &RedisCluster, ns: &str) {
    let owner = cluster
        .master_of(&format!("{{{ns}}}:nodes"))
        .await
        .expect("owner");
    for (i, node) in cluster.nodes.iter().enumerate() {
        let keys: Vec<String> = node.cmd(&["KEYS", "*"]).await.expect("keys");
        if i == owner {
            assert!(
                keys.iter().all(|k| k.starts_with(&format!("{{{ns}}}:"))),
                "{keys:?}"
            );
            assert!(keys.len() >= 3, "{keys:?}");
        } else {
            assert!(keys.is_empty(), "master {i}: {keys:?}");
        }
    }
}
