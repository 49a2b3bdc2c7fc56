//! Pusher private, presence, encrypted and cache channels, and client events, with raw
//! WebSocket clients asserting exact frames; presence and whispers across both protocols.
mod common;

use common::pusher::{ID, KEY, PusherClient, SECRET, channel_auth};
use common::{AuthStub, Client, TestServer};
use rust_echo_server::config::{ClientEvents, PusherApp};
use serde_json::{Value, json};

async fn server(auth: &AuthStub, f: impl FnOnce(&mut PusherApp)) -> TestServer {
    let mut app = PusherApp::new(ID, KEY, SECRET);
    f(&mut app);
    let url = auth.url.clone();
    TestServer::start(move |c| {
        c.apps = vec![app];
        c.auth_host = vec![url];
    })
    .await
}

fn succeeded(channel: &str) -> String {
    format!(
        r#"{{"event":"pusher_internal:subscription_succeeded","data":"{{}}","channel":"{channel}"}}"#
    )
}

const UNAUTHORIZED: &str = r#"{"event":"pusher:error","data":"{\"code\":4009,\"message\":\"Connection is unauthorized\"}"}"#;

/// A private channel takes a subscription signed for this socket with the app's secret; a
/// signature for another socket, another channel, another key or none is refused with 4009.
#[tokio::test]
async fn private_channels_check_the_signature() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    let wrong_socket = channel_auth("1.1", "private-orders", None);
    let wrong_channel = channel_auth(&c.socket_id, "private-other", None);
    let wrong_key = channel_auth(&c.socket_id, "private-orders", None).replacen(KEY, "other", 1);
    for auth in [
        Some(wrong_socket),
        Some(wrong_channel),
        Some(wrong_key),
        None,
    ] {
        c.send(json!({"event": "pusher:subscribe", "data": {"channel": "private-orders", "auth": auth}}))
            .await;
        assert_eq!(c.next().await, UNAUTHORIZED, "{auth:?}");
    }
    // Refused means not joined: a witness gets an event the refused socket does not.
    let mut witness = PusherClient::connect(s.addr, KEY).await;
    witness.subscribe_private("private-orders").await;
    s.publish("private-orders", "Missed", "0", None);
    assert!(witness.next().await.contains("Missed"));
    assert_eq!(
        c.subscribe_private("private-orders").await,
        succeeded("private-orders")
    );
    s.publish("private-orders", "Shipped", r#"{"id":7}"#, None);
    assert_eq!(
        c.next().await,
        r#"{"event":"Shipped","data":"{\"id\":7}","channel":"private-orders"}"#
    );
}

/// `private-encrypted-` channels are signed like private ones and their events relayed as the
/// publisher encrypted them.
#[tokio::test]
async fn encrypted_channels_are_relayed_as_they_are() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    let channel = "private-encrypted-secrets";
    c.send(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
        .await;
    assert_eq!(c.next().await, UNAUTHORIZED);
    assert_eq!(c.subscribe_private(channel).await, succeeded(channel));
    let sealed = r#"{"nonce":"bm9uY2U=","ciphertext":"Y2lwaGVy"}"#;
    s.publish(channel, "Secret", sealed, None);
    let frame: Value = serde_json::from_str(&c.next().await).expect("json");
    assert_eq!(
        frame,
        json!({"event": "Secret", "data": sealed, "channel": channel})
    );
}

/// One member list for both protocols: Pusher members get `member_added`/`member_removed`
/// for Socket.IO members and the other way round, once per user.
#[tokio::test]
async fn presence_is_one_member_list_across_protocols() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let room = "presence-room";
    let mut p1 = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(
        p1.subscribe_presence(room, json!({"user_id": 1, "user_info": {"name": "A"}}))
            .await,
        r#"{"event":"pusher_internal:subscription_succeeded","data":"{\"presence\":{\"count\":1,\"ids\":[1],\"hash\":{\"1\":{\"name\":\"A\"}}}}","channel":"presence-room"}"#
    );

    // A Socket.IO member (user 2): it sees user 1; the Pusher member hears of user 2.
    let mut sio = Client::connect(s.addr, 4).await;
    sio.emit(
        "subscribe",
        json!({"channel": room, "auth": {"headers": {"X-User": "2"}}}),
    )
    .await;
    let (event, args) = sio.next_event().await;
    assert_eq!(event, "presence:subscribed");
    let mut ids: Vec<Value> = args[1]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user_id"].clone())
        .collect();
    ids.sort_by_key(|v| v.as_u64());
    assert_eq!(ids, [json!(1), json!(2)]);
    assert_eq!(
        p1.next().await,
        r#"{"event":"pusher_internal:member_added","data":"{\"user_id\":2,\"user_info\":{\"id\":2}}","channel":"presence-room"}"#
    );

    // A second Pusher member (user 3), then a second socket of user 3: announced once.
    let mut p3 = PusherClient::connect(s.addr, KEY).await;
    let joined: Value = serde_json::from_str(
        &p3.subscribe_presence(room, json!({"user_id": 3, "user_info": {"name": "C"}}))
            .await,
    )
    .expect("json");
    let data: Value = serde_json::from_str(joined["data"].as_str().expect("data")).expect("data");
    assert_eq!(data["presence"]["count"], 3);
    assert_eq!(data["presence"]["hash"]["2"], json!({"id": 2}));
    let added = r#"{"event":"pusher_internal:member_added","data":"{\"user_id\":3,\"user_info\":{\"name\":\"C\"}}","channel":"presence-room"}"#;
    assert_eq!(p1.next().await, added);
    assert_eq!(
        sio.next_event_raw().await,
        r#"["presence:joining","presence-room",{"user_id":3,"user_info":{"name":"C"}}]"#
    );
    let mut p3b = PusherClient::connect(s.addr, KEY).await;
    p3b.subscribe_presence(room, json!({"user_id": 3, "user_info": {"name": "C"}}))
        .await;

    // User 3 leaves when its last socket does.
    drop(p3);
    p3b.send(json!({"event": "pusher:unsubscribe", "data": {"channel": room}}))
        .await;
    assert_eq!(
        p1.next().await,
        r#"{"event":"pusher_internal:member_removed","data":"{\"user_id\":3}","channel":"presence-room"}"#
    );
    assert_eq!(
        sio.next_event_raw().await,
        r#"["presence:leaving","presence-room",{"user_id":3,"user_info":{"name":"C"}}]"#
    );
    // The Socket.IO member leaves: the Pusher member hears it.
    sio.emit("unsubscribe", json!({"channel": room})).await;
    assert_eq!(
        p1.next().await,
        r#"{"event":"pusher_internal:member_removed","data":"{\"user_id\":2}","channel":"presence-room"}"#
    );
}

/// Client events (`members`, Reverb's default): relayed to the channel's other sockets of both
/// protocols, not to the sender; the sender's `user_id` is added on presence channels; a socket
/// not in the channel gets 4009. Socket.IO whispers reach Pusher sockets, with the `user_id` of
/// a presence member.
#[tokio::test]
async fn client_events_from_members() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let chat = "private-chat";
    let (mut a, mut b) = (
        PusherClient::connect(s.addr, KEY).await,
        PusherClient::connect(s.addr, KEY).await,
    );
    a.subscribe_private(chat).await;
    b.subscribe_private(chat).await;
    let mut sio = Client::connect(s.addr, 4).await;
    sio.subscribe(chat).await;
    s.wait_subscribers(chat, 3).await;

    a.send(json!({"event": "client-typing", "channel": chat, "data": {"typing": true}}))
        .await;
    assert_eq!(
        b.next().await,
        r#"{"event":"client-typing","channel":"private-chat","data":{"typing":true}}"#
    );
    assert_eq!(
        sio.next_event_raw().await,
        r#"["client-typing","private-chat",{"typing":true}]"#
    );
    sio.emit(
        "client event",
        json!({"channel": chat, "event": "client-seen", "data": 5}),
    )
    .await;
    for p in [&mut a, &mut b] {
        assert_eq!(
            p.next().await,
            r#"{"event":"client-seen","channel":"private-chat","data":5}"#
        );
    }

    let mut outsider = PusherClient::connect(s.addr, KEY).await;
    outsider
        .send(json!({"event": "client-typing", "channel": chat, "data": {}}))
        .await;
    assert_eq!(
        outsider.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4009,\"message\":\"The client is not a member of the specified channel.\"}"}"#
    );

    let room = "presence-room";
    a.subscribe_presence(room, json!({"user_id": "u1", "user_info": {}}))
        .await;
    b.subscribe_presence(room, json!({"user_id": "u2", "user_info": {}}))
        .await;
    assert!(a.next().await.contains("member_added"));
    b.send(json!({"event": "client-wave", "channel": room, "data": {"x": 1}}))
        .await;
    assert_eq!(
        a.next().await,
        r#"{"event":"client-wave","channel":"presence-room","data":{"x":1},"user_id":"u2"}"#
    );
    // A Socket.IO member's whisper carries its `user_id` to Pusher sockets too.
    let mut member = Client::connect(s.addr, 4).await;
    member
        .emit(
            "subscribe",
            json!({"channel": room, "auth": {"headers": {"X-User": "7"}}}),
        )
        .await;
    assert_eq!(member.next_event().await.0, "presence:subscribed");
    for p in [&mut a, &mut b] {
        assert!(p.next().await.contains("member_added"));
    }
    member
        .emit(
            "client event",
            json!({"channel": room, "event": "client-wave", "data": {"x": 7}}),
        )
        .await;
    for p in [&mut a, &mut b] {
        assert_eq!(
            p.next().await,
            r#"{"event":"client-wave","channel":"presence-room","data":{"x":7},"user_id":7}"#
        );
    }
    // The sender heard nothing of its own events: its next frame is the marker.
    s.publish(chat, "Marker", "1", None);
    assert_eq!(
        a.next().await,
        r#"{"event":"Marker","data":"1","channel":"private-chat"}"#
    );
    assert_eq!(
        b.next().await,
        r#"{"event":"Marker","data":"1","channel":"private-chat"}"#
    );
}

/// `accept_client_events_from`: `none` answers 4301; `all` relays from any socket of the app.
#[tokio::test]
async fn client_events_none_and_all() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |a| a.client_events = ClientEvents::None).await;
    let mut a = PusherClient::connect(s.addr, KEY).await;
    a.subscribe_private("private-chat").await;
    a.send(json!({"event": "client-x", "channel": "private-chat", "data": {}}))
        .await;
    assert_eq!(
        a.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4301,\"message\":\"The app does not have client messaging enabled.\"}"}"#
    );

    let s = server(&auth, |a| a.client_events = ClientEvents::All).await;
    let mut member = PusherClient::connect(s.addr, KEY).await;
    member.subscribe_private("private-chat").await;
    let mut outsider = PusherClient::connect(s.addr, KEY).await;
    outsider
        .send(json!({"event": "client-x", "channel": "private-chat", "data": {"y": 2}}))
        .await;
    assert_eq!(
        member.next().await,
        r#"{"event":"client-x","channel":"private-chat","data":{"y":2}}"#
    );
}

/// A cache channel answers a subscribe with `pusher:cache_miss` until it has an event, then
/// with its last event.
#[tokio::test]
async fn cache_channels_replay_the_last_event() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let mut a = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(a.subscribe("cache-prices").await, succeeded("cache-prices"));
    assert_eq!(
        a.next().await,
        r#"{"event":"pusher:cache_miss","channel":"cache-prices"}"#
    );
    s.publish("cache-prices", "Price", "1", None);
    s.publish("cache-prices", "Price", "2", None);
    let last = r#"{"event":"Price","data":"2","channel":"cache-prices"}"#;
    a.next().await;
    assert_eq!(a.next().await, last);
    let mut b = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(b.subscribe("cache-prices").await, succeeded("cache-prices"));
    assert_eq!(b.next().await, last);
}

/// Client events past `clientEventsPerSecond` are dropped; the sender is told 4301 once per
/// burst of refusals.
#[tokio::test]
async fn client_events_are_rate_limited() {
    let mut app = PusherApp::new(ID, KEY, SECRET);
    app.client_events = ClientEvents::All;
    let s = TestServer::start(move |c| {
        c.apps = vec![app];
        c.limits.client_events_per_second = 1;
        c.limits.client_event_burst = 2;
    })
    .await;
    let (mut a, mut b) = (
        PusherClient::connect(s.addr, KEY).await,
        PusherClient::connect(s.addr, KEY).await,
    );
    b.subscribe_private("private-chat").await;
    for i in 0..4 {
        a.send(json!({"event": "client-n", "channel": "private-chat", "data": i}))
            .await;
    }
    a.send_raw(r#"{"event":"pusher:ping"}"#).await;
    assert_eq!(
        a.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4301,\"message\":\"Rate limit exceeded\"}"}"#
    );
    assert_eq!(a.next().await, r#"{"event":"pusher:pong"}"#, "told once");
    for i in 0..2 {
        assert_eq!(
            b.next().await,
            format!(r#"{{"event":"client-n","channel":"private-chat","data":{i}}}"#)
        );
    }
    s.publish("private-chat", "Marker", "1", None);
    assert_eq!(
        b.next().await,
        r#"{"event":"Marker","data":"1","channel":"private-chat"}"#
    );
}

/// A user present through both protocols is one member: its second socket, of the other
/// protocol, announces nothing, and the user leaves only with its last socket.
#[tokio::test]
async fn one_user_on_both_protocols_is_one_member() {
    let auth = AuthStub::laravel().await;
    let s = server(&auth, |_| {}).await;
    let room = "presence-room";
    let mut watcher = PusherClient::connect(s.addr, KEY).await;
    watcher
        .subscribe_presence(room, json!({"user_id": 9, "user_info": {"id": 9}}))
        .await;
    let mut p = PusherClient::connect(s.addr, KEY).await;
    p.subscribe_presence(room, json!({"user_id": 5, "user_info": {"id": 5}}))
        .await;
    assert!(watcher.next().await.contains("member_added"));
    let mut sio = Client::connect(s.addr, 4).await;
    sio.emit(
        "subscribe",
        json!({"channel": room, "auth": {"headers": {"X-User": "5"}}}),
    )
    .await;
    let (event, args) = sio.next_event().await;
    assert_eq!(event, "presence:subscribed");
    assert_eq!(args[1].as_array().expect("members").len(), 2, "{args:?}");
    drop(p);
    s.wait_connections(2).await;
    // User 5 is still there through Socket.IO: the next thing the watcher hears is the marker.
    s.publish(room, "Marker", "1", None);
    assert_eq!(
        watcher.next().await,
        r#"{"event":"Marker","data":"1","channel":"presence-room"}"#
    );
    sio.emit("unsubscribe", json!({"channel": room})).await;
    assert_eq!(
        watcher.next().await,
        r#"{"event":"pusher_internal:member_removed","data":"{\"user_id\":5}","channel":"presence-room"}"#
    );
}
