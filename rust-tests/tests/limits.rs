//! Every limit hit as a client would hit it: the answer the client gets, and the count the
//! operator sees.
mod common;

use std::time::Duration;

use common::{AuthStub, TestServer, until, until_eq};
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
    s.wait_connections(1).await;
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
    s.wait_subscribers("private-chat", 2).await;
    for i in 0..10 {
        sender.emit("client event", whisper(i)).await;
    }
    for i in 0..3 {
        assert_eq!(
            receiver.next_event_raw().await,
            format!(r#"["client-typing","private-chat",{i}]"#)
        );
    }
    assert_eq!(
        sender.next_event_raw().await,
        r#"["client_event_error","private-chat",429]"#
    );
    until_eq("7 whispers dropped", 7, || {
        std::future::ready(s.handle.stats().drops(DropReason::ClientEventRate))
    })
    .await;
    // All ten are handled: the receiver got no more than three, the sender one error.
    s.assert_marker_next("private-chat", &mut [&mut receiver, &mut sender])
        .await;
    // The bucket refills (one token per second; the unit tests drive its clock): a whisper
    // goes through again. Each attempt ends when the receiver gets it or the server counts it
    // dropped.
    for attempt in 10.. {
        let dropped = s.handle.stats().drops(DropReason::ClientEventRate);
        sender.emit("client event", whisper(attempt)).await;
        tokio::select! {
            got = receiver.next_event_raw() => {
                assert_eq!(got, format!(r#"["client-typing","private-chat",{attempt}]"#));
                break;
            }
            () = until("the whisper to be dropped", || {
                s.handle.stats().drops(DropReason::ClientEventRate) > dropped
            }) => {}
        }
        assert!(attempt < 1_000, "the bucket never refilled");
        // Polling interval between attempts, not a wait for the refill.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn whisper(data: u32) -> serde_json::Value {
    json!({ "channel": "private-chat", "event": "client-typing", "data": data })
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
    assert_eq!(s.handle.stats().drops(DropReason::AuthQueue), 1);
    // The two others were joined.
    let joined: Vec<_> = ["private-a", "private-b", "private-c"]
        .into_iter()
        .filter(|ch| *ch != refused)
        .collect();
    for ch in &joined {
        s.wait_subscribers(ch, 1).await;
    }
    // A later subscribe queues behind anything still waiting for the slot: once it has been
    // answered, the refused one has certainly not been sent.
    c.subscribe("private-d").await;
    s.wait_subscribers("private-d", 1).await;
    let mut sent = joined.clone();
    sent.push("private-d");
    assert_eq!(
        auth.channels(),
        sent,
        "the refused one never reached the app"
    );
    for ch in ["private-a", "private-b", "private-c"] {
        s.publish(ch, "Ev", "1", None);
    }
    s.publish("private-d", "Marker", "1", None);
    for ch in joined {
        assert_eq!(c.next_event_raw().await, format!(r#"["Ev","{ch}",1]"#));
    }
    assert_eq!(c.next_event_raw().await, r#"["Marker","private-d",1]"#);
}

#[tokio::test]
async fn a_packet_over_max_http_buffer_size_closes_the_connection() {
    let s = TestServer::start(|c| c.socketio.max_http_buffer_size = 1_000).await;
    let mut big = s.client().await;
    let mut fine = s.client().await;
    big.emit("subscribe", json!({ "channel": "x".repeat(2_000) }))
        .await;
    assert!(big.closed().await, "oversized packet closes the connection");
    // Counted with the transport errors (tungstenite reports the size, not the socket).
    until("the disconnect counted as a transport error", || {
        s.handle
            .stats()
            .prometheus()
            .contains(r#"rust_echo_disconnects_total{reason="transport_error"} 1"#)
    })
    .await;
    fine.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
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
    s.wait_subscribers("news", 2).await;
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
    s.wait_connections(1).await;
    assert_eq!(s.handle.stats().drops(DropReason::SlowReader), 1);
    s.publish("news", "After", "1", None);
    assert_eq!(reader.next_event_raw().await, r#"["After","news",1]"#);
}
