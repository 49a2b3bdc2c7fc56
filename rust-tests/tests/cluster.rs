//! Several servers on one Redis (`cluster.enabled`): three `rust-echo` binaries and one server
//! in this process, one real `redis-server`, raw Socket.IO clients (Engine.IO 3 and 4) on every
//! node. Every event reaches every client exactly once, in order per publisher, whichever node
//! and ingress it entered by.
mod common;

use std::collections::BTreeMap;

use common::nodes::Node;
use common::{AuthStub, Client, RedisServer, TestServer, until_eq};
use serde_json::{Value, json};

const EACH: usize = 20;

/// The in-process node: the same cluster, the publish API of the PHP extension.
async fn in_process_node(redis: &RedisServer) -> TestServer {
    let namespace = format!("test-{}", redis.port);
    let s = TestServer::start(|c| {
        c.redis.port = redis.port;
        c.redis.password.clone_from(&redis.password);
        c.subscribers.redis = true;
        c.shm.enabled = false;
        c.metrics.port = 0;
        c.cluster.enabled = true;
        c.cluster.namespace = namespace;
        c.cluster.redis.port = redis.port;
        c.cluster.redis.password.clone_from(&redis.password);
        c.cluster.redis.db = common::nodes::DB;
    })
    .await;
    until_eq("the relay subscribed", Some(true), || async {
        let (_, body) = s.get("/health").await;
        serde_json::from_str::<Value>(&body).ok()?["cluster"]["relay_subscribed"].as_bool()
    })
    .await;
    s
}

/// Public subscriptions this one server holds (its own gauge, not the cluster's).
async fn local_public(metrics: std::net::SocketAddr) -> f64 {
    let text = common::http()
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|l| l.strip_prefix(r#"rust_echo_subscriptions{kind="public"} "#))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The next `n` events of `c` on channel `news`, as (event, data).
async fn events(c: &mut Client, n: usize) -> Vec<(String, Value)> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (name, mut args) = c.next_event().await;
        assert_eq!(args.first(), Some(&json!("news")), "{name} {args:?}");
        out.push((name, args.remove(1)));
    }
    out
}

/// Each publisher's sequence numbers as received, by publisher.
fn by_source(events: &[(String, Value)]) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (name, data) in events {
        let src = format!("{name}/{}", data["src"].as_str().unwrap_or("?"));
        out.entry(src)
            .or_default()
            .push(data["n"].as_u64().expect("n"));
    }
    out
}

/// Events from the ring and the HTTP API of each binary, the bus of the in-process node and
/// Laravel's Redis PUBLISH reach the 8 clients of the 4 nodes once each, in order per publisher;
/// the relay's envelopes are not read as Laravel's events by the nodes' Redis subscribers. Redis
/// has a password, and the shared keys live in database 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ingress_reaches_every_node_exactly_once() {
    let redis = RedisServer::start_with_password(Some("s3cret pass")).await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&redis, &json!({})).await);
    }
    let inproc = in_process_node(&redis).await;
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client(4).await);
        clients.push(n.client(3).await);
    }
    clients.push(inproc.client().await);
    clients.push(inproc.client_v2().await);
    for c in &mut clients {
        c.subscribe("news").await;
    }
    for n in &nodes {
        until_eq("2 local subscribers", 2.0, || local_public(n.bin.metrics)).await;
    }
    let inproc_metrics = inproc.handle.metrics_addr().expect("metrics");
    until_eq("2 local subscribers", 2.0, || local_public(inproc_metrics)).await;

    let names = ["A", "B", "C"];
    for i in 0..EACH {
        for (n, name) in nodes.iter().zip(names) {
            n.ring_publish("news", "Ring", &json!({"src": name, "n": i}).to_string());
            n.post_event("news", "Http", &json!({"src": name, "n": i}), None)
                .await;
        }
        inproc.publish(
            "news",
            "Bus",
            &json!({"src": "D", "n": i}).to_string(),
            None,
        );
        let laravel = json!({"event": "Laravel", "data": {"src": "redis", "n": i}, "socket": null});
        assert_eq!(
            redis.publish("news", &laravel.to_string()).await,
            4,
            "4 node subscribers"
        );
    }
    let expected_sources = 3 + 3 + 1 + 1;
    for c in &mut clients {
        let got = events(c, expected_sources * EACH).await;
        let sources = by_source(&got);
        assert_eq!(sources.len(), expected_sources, "{sources:?}");
        for (src, seq) in &sources {
            assert_eq!(
                *seq,
                (0..EACH as u64).collect::<Vec<_>>(),
                "{src} at {}",
                c.sid
            );
        }
    }
    // Nothing more: the marker published last is each client's next event.
    nodes[0]
        .post_event("news", "Marker", &json!({"src": "end", "n": 0}), None)
        .await;
    for c in &mut clients {
        assert_eq!(
            c.next_event().await.0,
            "Marker",
            "no duplicate at {}",
            c.sid
        );
    }
    for n in &nodes {
        // Laravel's events are read once per node by its own subscriber, never relayed, and the
        // relay channel is not mistaken for a Laravel channel.
        let redis_in = n
            .bin
            .metric(r#"rust_echo_messages_in_total{ingress="redis"}"#)
            .await;
        assert_eq!(redis_in, EACH as f64);
        let invalid = n
            .bin
            .metric(r#"rust_echo_dropped_total{reason="invalid_message"}"#)
            .await;
        assert_eq!(invalid, 0.0);
        // From the two other binaries (ring + HTTP) and the bus of the in-process node.
        let received = n.bin.metric("rust_echo_cluster_relay_received_total").await;
        assert!(
            received >= (2 * 2 + 1) as f64 * EACH as f64,
            "received {received}"
        );
    }
    let a_published = nodes[0]
        .bin
        .metric("rust_echo_cluster_relay_published_total")
        .await;
    assert_eq!(
        a_published,
        (2 * EACH + 1) as f64,
        "ring, HTTP and the marker of node A"
    );
    inproc.handle.shutdown().await;
}

/// Whispers reach the other nodes' members of the channel, never the sender; `toOthers`
/// leaves out the excluded socket wherever it is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whispers_and_to_others_cross_nodes() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let extra = json!({ "authHost": auth.url });
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&redis, &extra).await);
    }
    let mut a = nodes[0].client(4).await;
    let mut b = nodes[1].client(3).await;
    let mut c = nodes[2].client(4).await;
    for cl in [&mut a, &mut b, &mut c] {
        cl.subscribe("private-chat").await;
    }
    for n in &nodes {
        until_eq("1 local private subscriber", 1.0, || {
            n.bin.metric(r#"rust_echo_subscriptions{kind="private"}"#)
        })
        .await;
    }
    a.whisper_to("a", &mut [&mut b, &mut c]).await;

    // toOthers from node B's API, excluding a (on node A): b and c get it, a does not.
    nodes[1]
        .post_event("private-chat", "Shipped", &json!({"id": 1}), Some(&a.sid))
        .await;
    let shipped = r#"["Shipped","private-chat",{"id":1}]"#;
    assert_eq!(b.next_event_raw().await, shipped);
    assert_eq!(c.next_event_raw().await, shipped);
    // ... and excluding c (on node C) from the HTTP API of node A.
    nodes[0]
        .post_event("private-chat", "Packed", &json!({"id": 2}), Some(&c.sid))
        .await;
    let packed = r#"["Packed","private-chat",{"id":2}]"#;
    assert_eq!(a.next_event_raw().await, packed);
    assert_eq!(b.next_event_raw().await, packed);

    nodes[2]
        .post_event("private-chat", "Marker", &json!("end"), None)
        .await;
    let marker = r#"["Marker","private-chat","end"]"#;
    assert_eq!(
        a.next_event_raw().await,
        marker,
        "a heard neither its whisper nor Shipped"
    );
    assert_eq!(b.next_event_raw().await, marker);
    assert_eq!(c.next_event_raw().await, marker, "c did not get Packed");
}

/// The channel list, a channel's counts and a presence channel's users, as node `n` answers.
async fn api_view(n: &Node) -> Value {
    let presence = n.api("/apps/app/channels/presence-room").await;
    let users = n.api("/apps/app/channels/presence-room/users").await;
    json!({
        "channels": n.api("/apps/app/channels").await["channels"],
        "news": n.api("/apps/app/channels/news").await,
        "presence": presence,
        "users": users["users"],
    })
}

/// Every node's HTTP API answers for the whole cluster, and they agree; a killed node's
/// sockets and users drop out of every answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_for_the_cluster_from_any_node() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let extra = json!({ "authHost": auth.url });
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&redis, &extra).await);
    }
    let mut clients = Vec::new();
    for (node, news, users) in [(0, 2, vec![]), (1, 1, vec![5]), (2, 0, vec![5, 6])] {
        for _ in 0..news {
            let mut c = nodes[node].client(4).await;
            c.subscribe("news").await;
            clients.push(c);
        }
        for user in users {
            let mut c = nodes[node].client(3).await;
            let headers = json!({"X-User": user.to_string()});
            c.emit(
                "subscribe",
                json!({"channel": "presence-room", "auth": {"headers": headers}}),
            )
            .await;
            clients.push(c);
        }
    }
    let user = |id: u32| json!({"id": id, "user_info": {"id": id}});
    let expected = json!({
        "channels": {
            "news": {"subscription_count": 3, "occupied": true},
            "presence-room": {"subscription_count": 3, "occupied": true},
        },
        "news": {"subscription_count": 3, "occupied": true},
        "presence": {"subscription_count": 3, "occupied": true, "user_count": 2},
        "users": [user(5), user(6)],
    });
    for n in &nodes {
        until_eq("the cluster's figures", expected.clone(), || api_view(n)).await;
    }

    // Node 2 dies: its two presence sockets and user 6 are gone from every answer once its
    // liveness key expires; user 5 stays (node 1 has it).
    nodes[2].bin.kill();
    let expected = json!({
        "channels": {
            "news": {"subscription_count": 3, "occupied": true},
            "presence-room": {"subscription_count": 1, "occupied": true},
        },
        "news": {"subscription_count": 3, "occupied": true},
        "presence": {"subscription_count": 1, "occupied": true, "user_count": 1},
        "users": [user(5)],
    });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    for n in &nodes[..2] {
        loop {
            let seen = api_view(n).await;
            if seen == expected {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "within 10 s: {seen}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Another node's figures are whatever is in Redis: a count that is not a number, or a key of
/// another type, is skipped, and the readable figures of every node still add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_another_nodes_counts_hides_nothing_else() {
    let redis = RedisServer::start().await;
    let node = Node::start(&redis, &json!({})).await;
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut c = node.client(4).await;
        c.subscribe("news").await;
        clients.push(c);
    }
    let ns = format!("{{test-{}}}", redis.port);
    let (nodes, subscriptions) = (format!("{ns}:nodes"), format!("{ns}:subscriptions"));
    redis
        .run(
            common::nodes::DB,
            &[
                &["SADD", &nodes, "garbled", "wrong-type"],
                &["SET", &format!("{ns}:alive:garbled"), "1"],
                &["SET", &format!("{ns}:alive:wrong-type"), "1"],
                &[
                    "HSET",
                    &format!("{subscriptions}:garbled"),
                    "news",
                    "many",
                    "weather",
                    "2",
                ],
                &["SET", &format!("{subscriptions}:wrong-type"), "7"],
            ],
        )
        .await;
    let expected = json!({
        "news": {"subscription_count": 2, "occupied": true},
        "weather": {"subscription_count": 2, "occupied": true},
    });
    until_eq("the readable figures", expected, || async {
        node.api("/apps/app/channels").await["channels"].clone()
    })
    .await;
}
