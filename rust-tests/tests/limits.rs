//! Every limit hit as a client would hit it: the answer the client gets, and the count the
//! operator sees.
mod common;

use std::time::Duration;

use common::{AuthStub, TestServer, eventually, settle};
use rust_echo_server::stats::DropReason;
use serde_json::json;

#[tokio::test]
async fn connections_past_the_limit_get_503() {
    let s = TestServer::start(|c| c.limits.max_connections = 2).await;
    let a = s.client().await;
    let _b = s.client_v2().await;
    // A new Engine.IO session is refused before anything is allocated for it.
    let (status, body) = s.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 503);
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["message"], "Server is at its connection limit (2)");
    assert_eq!(s.handle.stats().drops(DropReason::ConnectionLimit), 1);
    // Other routes still answer.
    assert_eq!(s.get("/health").await.0, 200);
    // A slot frees up when a client leaves.
    a.close().await;
    eventually(Duration::from_secs(1), || {
        s.handle.stats().connections() < 2
    })
    .await;
    let _c = s.client().await;
    assert_eq!(s.handle.stats().connections(), 2);
}

#[tokio::test]
async fn channels_past_the_limit_get_subscription_error_429() {
    let s = TestServer::start(|c| c.limits.max_channels_per_socket = 2).await;
    let mut c = s.client().await;
    c.subscribe("a").await;
    c.subscribe("b").await;
    c.subscribe("c").await;
    assert_eq!(
        c.next_event_raw().await,
        r#"["subscription_error","c",429]"#
    );
    // Already joined channels stay usable.
    s.publish("b", "Ev", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["Ev","b",1]"#);
    assert_eq!(s.handle.stats().drops(DropReason::ChannelLimit), 1);
}

#[tokio::test]
async fn client_events_past_the_rate_are_dropped_and_the_sender_told_once() {
    let auth = AuthStub::laravel().await;
    let url = auth.url.clone();
    let s = TestServer::start(move |c| {
        c.auth_host = vec![url];
        c.limits.client_events_per_second = 1;
        c.limits.client_event_burst = 3;
    })
    .await;
    let (mut sender, mut receiver) = (s.client().await, s.client().await);
    sender.subscribe("private-chat").await;
    receiver.subscribe("private-chat").await;
    settle().await;
    for i in 0..10 {
        sender
            .emit(
                "client event",
                json!({ "channel": "private-chat", "event": "client-typing", "data": i }),
            )
            .await;
    }
    for i in 0..3 {
        assert_eq!(
            receiver.next_event_raw().await,
            format!(r#"["client-typing","private-chat",{i}]"#)
        );
    }
    receiver.expect_no_event(300).await;
    assert_eq!(
        sender.next_event_raw().await,
        r#"["client_event_error","private-chat",429]"#
    );
    sender.expect_no_event(100).await;
    assert_eq!(s.handle.stats().drops(DropReason::ClientEventRate), 7);
    // The bucket refills: one more per second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sender
        .emit(
            "client event",
            json!({ "channel": "private-chat", "event": "client-typing", "data": "again" }),
        )
        .await;
    assert_eq!(
        receiver.next_event_raw().await,
        r#"["client-typing","private-chat","again"]"#
    );
}

/// One request in flight at a time: the second waits for the first, the third does not get a
/// slot within half of `authTimeout` and is refused with 503 without reaching the app.
#[tokio::test]
async fn auth_requests_are_capped_and_a_long_wait_is_refused_with_503() {
    let auth = AuthStub::start(|_, _| (200, "true".to_owned(), Duration::from_millis(300))).await;
    let url = auth.url.clone();
    let s = TestServer::start(move |c| {
        c.auth_host = vec![url];
        c.auth_timeout = Duration::from_millis(1000);
        c.limits.max_concurrent_auth = 1;
    })
    .await;
    let mut c = s.client().await;
    for ch in ["private-a", "private-b", "private-c"] {
        c.subscribe(ch).await;
    }
    let (name, args) = c.next_event().await;
    assert_eq!(name, "subscription_error");
    assert_eq!(args[1], 503);
    let refused = args[0].as_str().expect("channel").to_owned();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        auth.recorded().len(),
        2,
        "the refused one never reached the app"
    );
    assert_eq!(s.handle.stats().drops(DropReason::AuthQueue), 1);
    // The two others were joined.
    for ch in ["private-a", "private-b", "private-c"] {
        s.publish(ch, "Ev", "1", None);
    }
    let mut got = Vec::new();
    for _ in 0..2 {
        let (_, args) = c.next_event().await;
        got.push(args[0].as_str().expect("channel").to_owned());
    }
    assert!(
        !got.contains(&refused),
        "{got:?} must not contain {refused}"
    );
    c.expect_no_event(200).await;
}

#[tokio::test]
async fn a_packet_over_max_http_buffer_size_closes_the_connection() {
    let s = TestServer::start(|c| c.socketio.max_http_buffer_size = 1_000).await;
    let mut big = s.client().await;
    let mut fine = s.client().await;
    big.emit("subscribe", json!({ "channel": "x".repeat(2_000) }))
        .await;
    assert!(big.closed().await, "oversized packet closes the connection");
    settle().await;
    // Counted with the transport errors (tungstenite reports the size, not the socket).
    let metrics = s.handle.stats().prometheus();
    assert!(
        metrics.contains(r#"rust_echo_disconnects_total{reason="transport_error"} 1"#),
        "{metrics}"
    );
    fine.subscribe("news").await;
    settle().await;
    s.publish("news", "Ev", "1", None);
    assert_eq!(fine.next_event_raw().await, r#"["Ev","news",1]"#);
}

/// A client that stops reading fills its kernel buffers, then its packet queue; the next
/// broadcast that does not fit disconnects it once its writes have been stuck for the stall
/// time. A reading client on the same channel misses nothing.
#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let s = TestServer::start(|c| c.limits.max_buffered_packets = 4).await;
    let mut stalled = s.client().await;
    let mut reader = s.client().await;
    stalled.subscribe("news").await;
    reader.subscribe("news").await;
    settle().await;
    let data = format!("\"{}\"", "x".repeat(64 * 1024));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut sent = 0u64;
    while s.handle.stats().drops(DropReason::SlowReader) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not disconnected after {sent} messages"
        );
        s.publish("news", "Big", &data, None);
        sent += 1;
        let (name, _) = reader.next_event().await;
        assert_eq!(name, "Big");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        stalled.closed().await,
        "the stalled client's connection is closed"
    );
    eventually(Duration::from_secs(2), || {
        s.handle.stats().connections() == 1
    })
    .await;
    assert_eq!(s.handle.stats().connections(), 1);
    assert_eq!(s.handle.stats().drops(DropReason::SlowReader), 1);
    s.publish("news", "After", "1", None);
    assert_eq!(reader.next_event_raw().await, r#"["After","news",1]"#);
}
