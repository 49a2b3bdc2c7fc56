//! Pusher clients in a cluster: one member list per presence channel whichever protocol and node
//! its members use, presence news and client events said the way each protocol says them, and
//! another app's members shared by all nodes.
mod common;

use common::pusher::{ID, KEY, PusherClient};
use common::pusher_cluster::{
    CHAN, OTHER, frame, ids, join_other, next_not_member, next_not_presence, nodes, parts,
    pusher_member, signed_get, socketio_member,
};
use common::{AuthStub, Client, RedisServer, sorted_ids, until_eq};
use serde_json::json;

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

/// A client event reaches the other node's sockets in the frames of the sender's node: for
/// Pusher, `data` as JSON and the sender's `user_id` (a member of either protocol); for
/// Socket.IO, a whisper.
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
    let from_socketio =
        json!({"event": "client-typing", "channel": CHAN, "data": {"who": 2}, "user_id": 2});
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
