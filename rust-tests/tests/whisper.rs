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
    while auth.recorded().len() < 2 {
        common::settle().await;
    }
    common::settle().await;
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
    a.expect_no_event(100).await;
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
    while auth.recorded().is_empty() {
        common::settle().await;
    }
    common::settle().await;
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
    a.expect_no_event(200).await;
    b.expect_no_event(0).await;
}
