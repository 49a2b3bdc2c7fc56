//! Presence across the nodes of a cluster: one member list per channel for the whole cluster,
//! de-duplicated by user across nodes and tabs; a node killed with SIGKILL has its members
//! leave everywhere within 10 s, a node stopped with SIGTERM at once.
mod common;

use std::time::{Duration, Instant};

use common::nodes::Node;
use common::{AuthStub, Client, RedisServer, sorted_ids, until_eq};
use serde_json::{Value, json};

const CHAN: &str = "presence-room";

async fn join(c: &mut Client, user: u32) {
    c.emit(
        "subscribe",
        json!({"channel": CHAN, "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
}

fn member(user: u32) -> Value {
    json!({"user_id": user, "user_info": {"id": user}})
}

fn joining(user: u32) -> String {
    format!(r#"["presence:joining","{CHAN}",{}]"#, member(user))
}

fn leaving(user: u32) -> String {
    format!(r#"["presence:leaving","{CHAN}",{}]"#, member(user))
}

/// The users of the next `presence:subscribed`, sorted.
async fn here(c: &mut Client) -> Vec<u64> {
    let (name, args) = c.next_event().await;
    assert_eq!(name, "presence:subscribed", "{args:?}");
    assert_eq!(args[0], json!(CHAN));
    let mut ids: Vec<u64> = args[1]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            assert_eq!(m["user_info"]["id"], m["user_id"], "member shape {m}");
            m["user_id"].as_u64().expect("id")
        })
        .collect();
    ids.sort_unstable();
    ids
}

async fn nodes(redis: &RedisServer, auth: &AuthStub, n: usize) -> Vec<Node> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Node::start(redis, &json!({ "authHost": auth.url })).await);
    }
    out
}

async fn marker(node: &Node, clients: &mut [&mut Client]) {
    node.post_event(CHAN, "Marker", &json!("end"), None).await;
    for c in clients {
        assert_eq!(
            c.next_event_raw().await,
            format!(r#"["Marker","{CHAN}","end"]"#),
            "nothing before the marker at {}",
            c.sid
        );
    }
}

/// Watchers of a public channel, one per node, to tell when relayed events have arrived.
async fn watchers(nodes: &[Node]) -> Vec<Client> {
    let mut out = Vec::new();
    for node in nodes {
        let mut w = node.client(4).await;
        w.emit("subscribe", json!({ "channel": "sync" })).await;
        out.push(w);
    }
    // The API counts the whole cluster: all watchers are in once one node says so.
    let all = nodes.len() as u64;
    until_eq("every watcher subscribed", Some(all), || async {
        nodes[0].api("/apps/app/channels/sync").await["subscription_count"].as_u64()
    })
    .await;
    out
}

/// Wait until what `from` relayed so far has reached every node: the relay keeps one node's
/// events in order, so a sync event relayed after them arriving everywhere means they have.
/// (A client subscribing meanwhile could otherwise see an earlier join announced late.)
async fn settle(from: &Node, watchers: &mut [Client], n: &mut u32) {
    *n += 1;
    from.post_event("sync", "Sync", &json!(*n), None).await;
    for w in watchers {
        assert_eq!(w.next_event_raw().await, format!(r#"["Sync","sync",{n}]"#));
    }
}

/// Users 1, 2, … join the channel, user k on `nodes[on[k - 1]]` (socket.io-client 4, 3 for user
/// 3): each gets the members so far and the earlier ones hear of it. What a join relayed settles
/// before the next one, so no newcomer hears an earlier join late.
async fn members_join(nodes: &[Node], on: &[usize]) -> Vec<Client> {
    let mut sync = watchers(nodes).await;
    let mut n = 0;
    let mut joined: Vec<Client> = Vec::new();
    for (user, &at) in (1u32..).zip(on) {
        let mut c = nodes[at].client(if user == 3 { 3 } else { 4 }).await;
        join(&mut c, user).await;
        assert_eq!(
            here(&mut c).await,
            (1..=u64::from(user)).collect::<Vec<_>>()
        );
        for earlier in &mut joined {
            assert_eq!(earlier.next_event_raw().await, joining(user));
        }
        settle(&nodes[at], &mut sync, &mut n).await;
        joined.push(c);
    }
    joined
}

/// The same user on two nodes joins once and leaves once, as seen from a third node; every
/// newcomer gets the whole cluster's members.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_list_for_the_cluster() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let nodes = nodes(&redis, &auth, 3).await;
    let mut sync = watchers(&nodes).await;
    let mut n = 0;
    let mut a1 = nodes[0].client(4).await;
    join(&mut a1, 1).await;
    assert_eq!(here(&mut a1).await, [1]);
    settle(&nodes[0], &mut sync, &mut n).await;

    let mut b = nodes[1].client(3).await;
    join(&mut b, 2).await;
    assert_eq!(here(&mut b).await, [1, 2]);
    assert_eq!(a1.next_event_raw().await, joining(2));
    settle(&nodes[1], &mut sync, &mut n).await;

    // User 1's second tab, on a third node: the list, and no second joining.
    let mut a2 = nodes[2].client(4).await;
    join(&mut a2, 1).await;
    assert_eq!(here(&mut a2).await, [1, 2]);
    marker(&nodes[1], &mut [&mut a1, &mut b, &mut a2]).await;

    // User 1's first tab goes: user 1 is still on node 2, nobody is told it left.
    a1.close().await;
    // Its leave is applied before a later join on the same node (one ordered queue per node).
    let mut c = nodes[0].client(4).await;
    join(&mut c, 3).await;
    assert_eq!(here(&mut c).await, [1, 2, 3]);
    assert_eq!(b.next_event_raw().await, joining(3));
    assert_eq!(a2.next_event_raw().await, joining(3));
    marker(&nodes[2], &mut [&mut b, &mut a2, &mut c]).await;

    // The last tab of user 1 leaves: everyone else hears it once.
    a2.emit("unsubscribe", json!({ "channel": CHAN })).await;
    assert_eq!(b.next_event_raw().await, leaving(1));
    assert_eq!(c.next_event_raw().await, leaving(1));
    marker(&nodes[0], &mut [&mut b, &mut c]).await;
    let users = nodes[2]
        .api(&format!("/apps/app/channels/{CHAN}/users"))
        .await;
    assert_eq!(
        sorted_ids(&users["users"], "id"),
        [2, 3],
        "the API lists the cluster's users"
    );
}

/// A node killed with SIGKILL: its members leave on every other node within 10 s, and nothing
/// else is lost; a node started again in its place rejoins. A node stopped with SIGTERM takes
/// its members away itself, before its liveness key has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_nodes_members_leave_and_stopped_nodes_leave_at_once() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let mut nodes = nodes(&redis, &auth, 3).await;
    let Ok([a, mut b, mut c]) = <[Client; 3]>::try_from(members_join(&nodes, &[0, 1, 2]).await)
    else {
        unreachable!("three joined")
    };

    let killed = Instant::now();
    nodes[0].bin.kill();
    drop(a);
    let left = b.next_event_within(Duration::from_secs(10)).await;
    let gap = killed.elapsed();
    assert_eq!(left, leaving(1));
    assert_eq!(
        c.next_event_within(Duration::from_secs(10)).await,
        leaving(1)
    );
    println!("members of a SIGKILLed node left after {gap:?}");
    marker(&nodes[1], &mut [&mut b, &mut c]).await;

    // A node started in its place: user 1 comes back through it.
    nodes[0] = Node::start(&redis, &json!({ "authHost": auth.url })).await;
    let mut a = nodes[0].client(4).await;
    join(&mut a, 1).await;
    assert_eq!(here(&mut a).await, [1, 2, 3]);
    assert_eq!(b.next_event_raw().await, joining(1));
    assert_eq!(c.next_event_raw().await, joining(1));

    // SIGTERM: user 3 leaves while node 2's liveness key is still there (no sweep needed; its
    // key lives 5 s after the last beat).
    let id = nodes[2].id().await;
    nodes[2].bin.terminate();
    assert_eq!(a.next_event_raw().await, leaving(3));
    assert_eq!(b.next_event_raw().await, leaving(3));
    let ns = format!("test-{}", redis.port);
    let alive = redis
        .exists(common::nodes::DB, &format!("{{{ns}}}:alive:{id}"))
        .await;
    assert!(alive, "left by itself, not swept after its key expired");
    marker(&nodes[1], &mut [&mut a, &mut b]).await;
    // c, on the stopping node, is told to disconnect; the process then exits cleanly.
    assert!(c.closed().await, "the stopping node closed c's socket");
    let status = nodes[2].bin.wait();
    assert!(status.success(), "clean exit: {status:?}");
}

/// Redis restarts and loses everything: the relay resumes by itself, every node registers its
/// members again (the API lists them), and `/metrics` counts the reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived() {
    let mut redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let nodes = nodes(&redis, &auth, 2).await;
    let Ok([mut a, mut b]) = <[Client; 2]>::try_from(members_join(&nodes, &[0, 1]).await) else {
        unreachable!("two joined")
    };

    redis.restart().await;
    let users = |n: &Node| {
        let n = n.url();
        async move {
            let body = common::http()
                .get(format!(
                    "{n}/apps/app/channels/{CHAN}/users?auth_key=secret"
                ))
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body");
            serde_json::from_str::<Value>(&body).expect("json")["users"].clone()
        }
    };
    let both = json!([{"id": 1, "user_info": {"id": 1}}, {"id": 2, "user_info": {"id": 2}}]);
    for n in &nodes {
        common::until_eq("the members registered again", both.clone(), || users(n)).await;
        // The relay subscriber connected again.
        common::until_eq("a counted reconnect", true, || async {
            n.bin
                .metric("rust_echo_cluster_redis_reconnects_total")
                .await
                >= 2.0
        })
        .await;
        common::until_eq("the relay subscribed", Some(true), || async {
            n.bin
                .health()
                .await
                .and_then(|h| h["cluster"]["relay_subscribed"].as_bool())
        })
        .await;
    }
    // Events cross nodes again, nobody was told anyone left or joined.
    marker(&nodes[0], &mut [&mut a, &mut b]).await;
    marker(&nodes[1], &mut [&mut a, &mut b]).await;
}

/// Redis restarts keeping its data (SHUTDOWN SAVE, start again): what changed on the nodes while
/// it was away — a user left on one node, another joined on the other — reaches Redis and every
/// node once it is back, and nothing else is announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_while_redis_is_away_are_reconciled() {
    let mut redis = RedisServer::start_persistent().await;
    let auth = AuthStub::laravel().await;
    let nodes = nodes(&redis, &auth, 2).await;
    let Ok([mut a, mut b, mut c]) = <[Client; 3]>::try_from(members_join(&nodes, &[0, 1, 1]).await)
    else {
        unreachable!("three joined")
    };

    redis.stop_saving().await;
    // User 3 leaves on node 1; user 4 arrives on node 0, which answers with its own members.
    c.emit("unsubscribe", json!({ "channel": CHAN })).await;
    let mut d = nodes[0].client(4).await;
    join(&mut d, 4).await;
    assert_eq!(
        here(&mut d).await,
        [1, 4],
        "node 0's members while Redis is away"
    );
    redis.start_again().await;

    let within = Duration::from_secs(10);
    let mut seen_a = vec![
        a.next_event_within(within).await,
        a.next_event_within(within).await,
    ];
    seen_a.sort();
    let mut expected = vec![leaving(3), joining(4)];
    expected.sort();
    assert_eq!(seen_a, expected, "node 0 hears both changes");
    let mut seen_b = vec![
        b.next_event_within(within).await,
        b.next_event_within(within).await,
    ];
    seen_b.sort();
    assert_eq!(seen_b, expected, "node 1 hears both changes");
    let users = json!([
        {"id": 1, "user_info": {"id": 1}},
        {"id": 2, "user_info": {"id": 2}},
        {"id": 4, "user_info": {"id": 4}},
    ]);
    for n in &nodes {
        let url = format!("/apps/app/channels/{CHAN}/users");
        common::until_eq("the reconciled members", users.clone(), || async {
            n.api(&url).await["users"].clone()
        })
        .await;
    }
    // d hears user 3 leave too (a user its degraded list did not name), and nothing else.
    assert_eq!(d.next_event_within(within).await, leaving(3));
    marker(&nodes[0], &mut [&mut a, &mut b, &mut d]).await;
}

/// A relayed `presence:joining` that reaches a node after one of its sockets got a member list
/// already naming that member is not sent to that socket (it would join twice there). The late
/// arrival is made exact: the announcement node A relayed for user 1 is captured off the relay
/// channel and published again, unchanged, once user 2's socket on node B has its list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_relayed_join_is_not_a_second_join() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let nodes = nodes(&redis, &auth, 2).await;
    let relay = format!("{{test-{}}}:relay", redis.port);
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port)).expect("url");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe(&relay).await.expect("subscribe");
    let mut sync = watchers(&nodes).await;
    let mut n = 0;

    let mut p1 = nodes[0].client(4).await;
    join(&mut p1, 1).await;
    assert_eq!(here(&mut p1).await, [1]);
    let announced = {
        use futures_util::StreamExt;
        let mut messages = pubsub.on_message();
        loop {
            let payload: Vec<u8> = messages
                .next()
                .await
                .expect("relay")
                .get_payload_bytes()
                .to_vec();
            if String::from_utf8_lossy(&payload).contains("presence:joining") {
                break payload;
            }
        }
    };
    settle(&nodes[0], &mut sync, &mut n).await;

    let mut p2 = nodes[1].client(3).await;
    join(&mut p2, 2).await;
    assert_eq!(here(&mut p2).await, [1, 2]);
    assert_eq!(p1.next_event_raw().await, joining(2));
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let heard: i64 = redis::cmd("PUBLISH")
        .arg(&relay)
        .arg(announced)
        .query_async(&mut con)
        .await
        .expect("publish");
    assert!(heard >= 2, "both nodes and this test listen: {heard}");
    marker(&nodes[0], &mut [&mut p1, &mut p2]).await;
}
