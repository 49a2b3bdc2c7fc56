//! Pusher clients in a cluster: one member list per presence channel whichever protocol and node
//! its members use, presence news and client events said the way each protocol says them, and
//! the channels of every Pusher app (not only the default one) shared by all nodes.
mod common;

use std::net::SocketAddr;

use common::nodes::Node;
use common::pusher::{ID, KEY, PusherClient, SECRET, hmac, now, signed_query};
use common::{AuthStub, Client, RedisServer, http, sorted_ids, until_eq};
use serde_json::{Value, json};

const CHAN: &str = "presence-room";
const OTHER: (&str, &str, &str) = ("other-id", "other-key", "other-secret");

async fn nodes(redis: &RedisServer, auth: &AuthStub) -> [Node; 2] {
    let extra = json!({
        "authHost": auth.url,
        "apps": [
            {"id": ID, "key": KEY, "secret": SECRET},
            {"id": OTHER.0, "key": OTHER.1, "secret": OTHER.2, "acceptClientEventsFrom": "all"},
        ],
    });
    [
        Node::start(redis, &extra).await,
        Node::start(redis, &extra).await,
    ]
}

fn frame(text: &str) -> Value {
    serde_json::from_str(text).expect("json frame")
}

/// `[event, channel, data]` of a frame whose data is a JSON string, the data decoded.
fn parts(text: &str) -> (Value, Value, Value) {
    let f = frame(text);
    let data = frame(f["data"].as_str().expect("data is a string"));
    (f["event"].clone(), f["channel"].clone(), data)
}

/// The user ids of a `subscription_succeeded` frame, sorted.
fn ids(succeeded: &str) -> Vec<u64> {
    let f = frame(succeeded);
    assert_eq!(f["event"], "pusher_internal:subscription_succeeded", "{f}");
    let data = frame(f["data"].as_str().expect("data is a string"));
    let ids: Vec<Value> = data["presence"]["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| json!({ "id": id }))
        .collect();
    sorted_ids(&Value::Array(ids), "id")
}

/// A Pusher client on `addr` joining `CHAN` as `user`, and the first frame it got back.
async fn pusher_member(addr: SocketAddr, user: u64) -> (PusherClient, String) {
    let mut c = PusherClient::connect(addr, KEY).await;
    let answer = c
        .subscribe_presence(CHAN, json!({"user_id": user, "user_info": {"id": user}}))
        .await;
    (c, answer)
}

/// A Socket.IO client on `addr` that asked to join `CHAN` as `user`.
async fn socketio_member(addr: SocketAddr, user: u64) -> Client {
    let mut c = Client::connect(addr, 4).await;
    c.emit(
        "subscribe",
        json!({"channel": CHAN, "auth": {"headers": {"X-User": user.to_string()}}}),
    )
    .await;
    c
}

/// A request to Reverb's signed API on `node`, signed for the app the path names; the JSON it
/// answers with 200.
async fn signed(
    node: &Node,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: &str,
) -> Value {
    let (key, secret) = if path.starts_with(&format!("/apps/{}/", OTHER.0)) {
        (OTHER.1, OTHER.2)
    } else {
        (KEY, SECRET)
    };
    let query = signed_query(method, path, body, params, key, secret, now());
    let url = format!("{}{path}?{query}", node.url());
    let request = match method {
        "GET" => http().get(url),
        _ => http().post(url).header("content-type", "application/json"),
    };
    let res = request.body(body.to_owned()).send().await.expect("request");
    assert_eq!(res.status(), 200, "{method} {path}");
    serde_json::from_str(&res.text().await.expect("body")).expect("json")
}

/// A GET of Reverb's signed API on `node`, with `info` when not empty.
async fn signed_get(node: &Node, path: &str, info: &str) -> Value {
    let params: Vec<(&str, &str)> = if info.is_empty() {
        Vec::new()
    } else {
        vec![("info", info)]
    };
    signed(node, "GET", path, &params, "").await
}

/// A Pusher member joins on node A, a Socket.IO member on node B, another Pusher member on
/// node B: each gets the whole cluster's members, and each earlier member hears of each later
/// one in its own protocol (never a Pusher frame named `presence:joining`). The last one gone
/// leaves everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_across_nodes_and_protocols() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let [a, b] = nodes(&redis, &auth).await;

    let (mut p1, first) = pusher_member(a.bin.addr, 1).await;
    assert_eq!(ids(&first), [1]);
    // Node A relays the news of user 1 in order with its other events: once a later event has
    // reached node B, so has the news, and a newcomer there cannot hear it after its list.
    let mut watcher = Client::connect(b.bin.addr, 4).await;
    watcher.emit("subscribe", json!({"channel": "sync"})).await;
    until_eq("the watcher subscribed", Some(1), || async {
        b.api("/apps/app/channels/sync").await["subscription_count"].as_u64()
    })
    .await;
    a.post_event("sync", "Sync", &json!(1), None).await;
    assert_eq!(watcher.next_event_raw().await, r#"["Sync","sync",1]"#);

    let mut s2 = socketio_member(b.bin.addr, 2).await;
    let (name, args) = s2.next_event().await;
    assert_eq!(name, "presence:subscribed");
    assert_eq!(
        sorted_ids(&args[1], "user_id"),
        [1, 2],
        "the Pusher member on the other node is listed"
    );
    assert_eq!(
        parts(&p1.next().await),
        (
            json!("pusher_internal:member_added"),
            json!(CHAN),
            json!({"user_id": 2, "user_info": {"id": 2}})
        ),
        "a Socket.IO member on another node, as a Pusher frame"
    );

    let (mut p3, third) = pusher_member(b.bin.addr, 3).await;
    assert_eq!(ids(&third), [1, 2, 3]);
    assert_eq!(
        parts(&p1.next().await).2,
        json!({"user_id": 3, "user_info": {"id": 3}})
    );
    assert_eq!(
        s2.next_event_raw().await,
        format!(r#"["presence:joining","{CHAN}",{{"user_id":3,"user_info":{{"id":3}}}}]"#)
    );

    // Reverb's API on either node answers for the whole cluster.
    for node in [&a, &b] {
        let info = signed_get(node, &format!("/apps/{ID}/channels/{CHAN}"), "user_count").await;
        assert_eq!(info, json!({"occupied": true, "user_count": 3}));
        // Other nodes' subscriptions are what their last beat wrote.
        until_eq(
            "both nodes' channels listed",
            json!({"channels": {"sync": {}, CHAN: {}}}),
            || async move { signed_get(node, &format!("/apps/{ID}/channels"), "").await },
        )
        .await;
    }

    // User 1 leaves node A: node B's members hear it in their protocols.
    drop(p1);
    assert_eq!(
        s2.next_event_raw().await,
        format!(r#"["presence:leaving","{CHAN}",{{"user_id":1,"user_info":{{"id":1}}}}]"#)
    );
    assert_eq!(
        parts(&p3.next().await),
        (
            json!("pusher_internal:member_removed"),
            json!(CHAN),
            json!({"user_id": 1})
        )
    );
    let users = signed_get(&a, &format!("/apps/{ID}/channels/{CHAN}/users"), "").await;
    assert_eq!(
        sorted_ids(&users["users"], "id"),
        [2, 3],
        "Reverb's API on the node that lost its own member"
    );
    let users = a.api(&format!("/apps/app/channels/{CHAN}/users")).await;
    assert_eq!(
        sorted_ids(&users["users"], "id"),
        [2, 3],
        "the cluster's members, from the node that lost its own"
    );
}

/// The next frame that is not presence news (which may come at any time while members join).
async fn next_not_member(c: &mut PusherClient) -> Value {
    loop {
        let f = frame(&c.next().await);
        if !f["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("pusher_internal:member_"))
        {
            return f;
        }
    }
}

/// The next Socket.IO event that is not presence news.
async fn next_not_presence(c: &mut Client) -> String {
    loop {
        let raw = c.next_event_raw().await;
        if !raw.starts_with(r#"["presence:"#) {
            return raw;
        }
    }
}

/// A client event reaches the other node's sockets in the frames of the sender's node: for
/// Pusher, `data` as JSON and, from a Pusher member, its `user_id`; for Socket.IO, a whisper.
/// Nobody gets their own back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_events_cross_nodes_in_each_protocols_frames() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let [a, b] = nodes(&redis, &auth).await;
    let (mut p1, first) = pusher_member(a.bin.addr, 1).await;
    assert_eq!(ids(&first), [1]);
    let mut s2 = socketio_member(b.bin.addr, 2).await;
    // Presence news may come before the answer: that is for the other test.
    while s2.next_event().await.0 != "presence:subscribed" {}
    let (mut p3, mut answer) = pusher_member(b.bin.addr, 3).await;
    while frame(&answer)["event"] != "pusher_internal:subscription_succeeded" {
        answer = p3.next().await;
    }

    p1.send(json!({"event": "client-typing", "channel": CHAN, "data": {"who": 1}}))
        .await;
    assert_eq!(
        next_not_member(&mut p3).await,
        json!({"event": "client-typing", "channel": CHAN, "data": {"who": 1}, "user_id": 1}),
        "a Pusher member's client event on the other node"
    );
    assert_eq!(
        next_not_presence(&mut s2).await,
        format!(r#"["client-typing","{CHAN}",{{"who":1}}]"#)
    );

    s2.emit(
        "client event",
        json!({"channel": CHAN, "event": "client-typing", "data": {"who": 2}}),
    )
    .await;
    let from_socketio = json!({"event": "client-typing", "channel": CHAN, "data": {"who": 2}});
    assert_eq!(
        next_not_member(&mut p1).await,
        from_socketio,
        "a Socket.IO whisper on the other node; p1 did not get its own"
    );
    assert_eq!(next_not_member(&mut p3).await, from_socketio);

    a.post_event(CHAN, "Marker", &json!(1), None).await;
    assert_eq!(
        next_not_presence(&mut s2).await,
        format!(r#"["Marker","{CHAN}",1]"#),
        "s2 did not get its own"
    );
}

/// An app other than the default: either node's API counts its sockets on both nodes; its events
/// through the signed HTTP API of one node and its clients' events reach its sockets on the other
/// node, once; the default app's sockets in a channel of the same name get nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_apps_channels_span_the_nodes() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let [a, b] = nodes(&redis, &auth).await;
    let mut on_a = PusherClient::connect(a.bin.addr, OTHER.1).await;
    let mut on_b = PusherClient::connect(b.bin.addr, OTHER.1).await;
    let mut default_b = PusherClient::connect(b.bin.addr, KEY).await;
    for c in [&mut on_a, &mut on_b, &mut default_b] {
        let ok = frame(&c.subscribe("news").await);
        assert_eq!(ok["event"], "pusher_internal:subscription_succeeded");
    }
    // Either node's API counts every node's sockets of each app's `news`.
    let other_news = format!("/apps/{}/channels/news", OTHER.0);
    for node in [&a, &b] {
        until_eq(
            "app OTHER's sockets on both nodes",
            json!({"occupied": true, "subscription_count": 2}),
            || signed_get(node, &other_news, "subscription_count"),
        )
        .await;
        until_eq(
            "the default app's Pusher socket on node B",
            Some(1),
            || async move { node.api("/apps/app/channels/news").await["subscription_count"].as_u64() },
        )
        .await;
    }

    let path = format!("/apps/{}/events", OTHER.0);
    let body = r#"{"name":"Posted","channel":"news","data":"{\"n\":1}"}"#;
    assert_eq!(signed(&a, "POST", &path, &[], body).await, json!({}));
    let posted = json!({"event": "Posted", "channel": "news", "data": "{\"n\":1}"});
    assert_eq!(frame(&on_a.next().await), posted);
    assert_eq!(
        frame(&on_b.next().await),
        posted,
        "relayed to the other node"
    );

    on_a.send(json!({"event": "client-typing", "channel": "news", "data": {"who": "a"}}))
        .await;
    assert_eq!(
        frame(&on_b.next().await),
        json!({"event": "client-typing", "channel": "news", "data": {"who": "a"}}),
        "as Reverb relays it: data as JSON, no user_id on a public channel"
    );

    // The default app's socket in its own `news` saw neither; a marker through the default
    // app's ingress is the next thing it reads.
    a.post_event("news", "Marker", &json!(1), None).await;
    assert_eq!(
        frame(&default_b.next().await),
        json!({"event": "Marker", "channel": "news", "data": "1"})
    );
}

/// `terminate_connections` through one node closes the user's sockets of the app on every node,
/// of both protocols; the app's other users and another app's user of the same id stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_connections_reaches_every_node() {
    let redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let [a, b] = nodes(&redis, &auth).await;
    let (mut pusher5, _) = pusher_member(b.bin.addr, 5).await;
    let mut socketio5 = socketio_member(b.bin.addr, 5).await;
    while socketio5.next_event().await.0 != "presence:subscribed" {}
    let (mut pusher6, _) = pusher_member(a.bin.addr, 6).await;
    let mut other5 = PusherClient::connect(b.bin.addr, OTHER.1).await;
    join_other(&mut other5, 5).await;

    let path = format!("/apps/{ID}/users/5/terminate_connections");
    assert_eq!(signed(&a, "POST", &path, &[], "").await, json!({}));
    assert!(pusher5.closed().await, "user 5's Pusher socket on node B");
    socketio5.disconnected_by_server().await;
    loop {
        let f = frame(&pusher6.next().await);
        if f["event"] == "pusher_internal:member_removed" {
            assert_eq!(
                f["data"],
                json!(r#"{"user_id":5}"#),
                "user 6 stays and hears 5 leave"
            );
            break;
        }
    }
    let body = format!(r#"{{"name":"Still","channel":"{CHAN}","data":"1"}}"#);
    let events = format!("/apps/{}/events", OTHER.0);
    assert_eq!(signed(&a, "POST", &events, &[], &body).await, json!({}));
    assert_eq!(
        frame(&other5.next().await),
        json!({"event": "Still", "channel": CHAN, "data": "1"}),
        "app OTHER's user 5 stays"
    );
}

/// Join `CHAN` of app OTHER as `user`; the `subscription_succeeded` frame. In a cluster that
/// frame waits for Redis, and news of other members may come first (pusher-js then takes the
/// frame's list as the whole truth).
async fn join_other(c: &mut PusherClient, user: u64) -> String {
    let data = json!({"user_id": user, "user_info": {"id": user}}).to_string();
    let signature = hmac(OTHER.2, &format!("{}:{CHAN}:{data}", c.socket_id));
    let auth = format!("{}:{signature}", OTHER.1);
    c.send(json!({"event": "pusher:subscribe",
                  "data": {"channel": CHAN, "auth": auth, "channel_data": data}}))
        .await;
    loop {
        let next = c.next().await;
        let event = frame(&next)["event"].clone();
        if event != "pusher_internal:member_added" && event != "pusher_internal:member_removed" {
            return next;
        }
    }
}

/// Another app's presence channel has one member list across the nodes, apart from the default
/// app's channel of the same name, and Redis losing its data loses none of it: each node
/// registers its members of every app again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_apps_members_span_the_nodes_and_a_redis_restart() {
    let mut redis = RedisServer::start().await;
    let auth = AuthStub::laravel().await;
    let [a, b] = nodes(&redis, &auth).await;
    let mut default_a = PusherClient::connect(a.bin.addr, KEY).await;
    let first = default_a
        .subscribe_presence(CHAN, json!({"user_id": 9, "user_info": {"id": 9}}))
        .await;
    assert_eq!(ids(&first), [9]);

    let mut one = PusherClient::connect(a.bin.addr, OTHER.1).await;
    assert_eq!(
        ids(&join_other(&mut one, 1).await),
        [1],
        "not the default app's 9"
    );
    let mut two = PusherClient::connect(b.bin.addr, OTHER.1).await;
    assert_eq!(ids(&join_other(&mut two, 2).await), [1, 2]);
    let channel = format!("/apps/{}/channels/{CHAN}", OTHER.0);
    for node in [&a, &b] {
        let users = signed_get(node, &format!("{channel}/users"), "").await;
        assert_eq!(
            sorted_ids(&users["users"], "id"),
            [1, 2],
            "from either node"
        );
        let info = signed_get(node, &channel, "user_count").await;
        assert_eq!(info, json!({"occupied": true, "user_count": 2}));
    }
    assert_eq!(
        parts(&one.next().await),
        (
            json!("pusher_internal:member_added"),
            json!(CHAN),
            json!({"user_id": 2, "user_info": {"id": 2}})
        )
    );

    redis.restart().await;
    for n in [&a, &b] {
        until_eq("the relay subscribed again", Some(true), || async {
            n.bin
                .health()
                .await
                .and_then(|h| h["cluster"]["relay_subscribed"].as_bool())
        })
        .await;
    }
    // Both nodes registered their members again: a newcomer gets all of them. (Until they
    // have, it may get fewer; each try is a new connection.)
    let addr = b.bin.addr;
    until_eq(
        "app OTHER's members registered again",
        vec![1, 2, 3],
        || async move {
            let mut three = PusherClient::connect(addr, OTHER.1).await;
            ids(&join_other(&mut three, 3).await)
        },
    )
    .await;
}
