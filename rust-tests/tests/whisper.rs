//! Whispers (`client event`): relayed to the others on private and presence channels only.
mod common;

use common::{AuthStub, TestServer};
use serde_json::json;

/// A `client-*` event on a joined private channel reaches the others, not the sender.
#[tokio::test]
async fn whisper_reaches_others_only() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let (mut a, mut b) = (s.client().await, s.client_v2().await);
    a.subscribe("private-chat").await;
    b.subscribe("private-chat").await;
    s.wait_subscribers("private-chat", 2).await;
    a.emit(
        "client event",
        json!({"channel": "private-chat", "event": "client-typing", "data": {"typing": true}}),
    )
    .await;
    assert_eq!(
        b.next_event_raw().await,
        r#"["client-typing","private-chat",{"typing":true}]"#
    );
    // The payload may also come as a JSON string.
    let as_string =
        json!({"channel": "private-chat", "event": "client-typing", "data": 1}).to_string();
    b.emit("client event", json!(as_string)).await;
    assert_eq!(
        a.next_event_raw().await,
        r#"["client-typing","private-chat",1]"#
    );
    // The sender never hears its own whisper: its next event is the marker.
    s.assert_marker_next("private-chat", &mut [&mut a, &mut b])
        .await;
}

/// Whispers on public channels, on channels the sender has not joined, and events without
/// `client-` are dropped.
#[tokio::test]
async fn whispers_that_are_dropped() {
    let auth = AuthStub::laravel().await;
    let s = TestServer::start(|c| c.auth_host = vec![auth.url.clone()]).await;
    let (mut a, mut b) = (s.client().await, s.client().await);
    a.subscribe("news").await;
    b.subscribe("news").await;
    b.subscribe("private-x").await;
    s.wait_subscribers("news", 2).await;
    s.wait_subscribers("private-x", 1).await;
    a.emit(
        "client event",
        json!({"channel": "news", "event": "client-hi", "data": 1}),
    )
    .await;
    a.emit(
        "client event",
        json!({"channel": "private-x", "event": "client-hi", "data": 2}),
    )
    .await;
    b.emit(
        "client event",
        json!({"channel": "private-x", "event": "hi", "data": 3}),
    )
    .await;
    b.emit("client event", json!({"channel": "private-x"}))
        .await;
    // Whispers are relayed as the sender's packets are handled, in order: a valid whisper sent
    // after the dropped ones is the first thing the other side hears. `a` joins private-x to
    // send it and to hear b's.
    a.subscribe("private-x").await;
    s.wait_subscribers("private-x", 2).await;
    let valid = |data| json!({"channel": "private-x", "event": "client-ok", "data": data});
    a.emit("client event", valid("from a")).await;
    b.emit("client event", valid("from b")).await;
    assert_eq!(
        b.next_event_raw().await,
        r#"["client-ok","private-x","from a"]"#
    );
    assert_eq!(
        a.next_event_raw().await,
        r#"["client-ok","private-x","from b"]"#
    );
    assert_eq!(
        s.handle.stats().snapshot().whispers,
        2,
        "only the valid ones"
    );
}
