//! Reverb's HTTP API in a cluster: every app's channel figures from any node, every app's events
//! to every node, and `terminate_connections` on every node.
mod common;

use common::pusher::{ID, KEY, PusherClient};
use common::pusher_cluster::{
    CHAN, OTHER, frame, join_other, nodes, pusher_member, signed, signed_get, socketio_member,
};
use common::{AuthStub, RedisServer, until_eq};
use serde_json::json;

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
    let other_connections = format!("/apps/{}/connections", OTHER.0);
    for node in [&a, &b] {
        until_eq(
            "app OTHER's sockets on both nodes",
            json!({"occupied": true, "subscription_count": 2}),
            || signed_get(node, &other_news, "subscription_count"),
        )
        .await;
        until_eq(
            "app OTHER's connections on both nodes",
            json!({"connections": 2}),
            || signed_get(node, &other_connections, ""),
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
