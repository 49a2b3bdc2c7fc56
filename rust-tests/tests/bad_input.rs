//! Hostile and broken client input: the server answers with a silent drop or closes that one
//! connection, never panics, and keeps serving everyone else.
mod common;

use common::{TestServer, until_eq};
use serde_json::json;

async fn still_serves(s: &TestServer) {
    let mut c = s.client().await;
    c.subscribe("alive").await;
    s.wait_subscribers("alive", 1).await;
    s.publish("alive", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","alive",1]"#);
    c.close().await;
}

/// Malformed packets, unknown events and payloads of the wrong shape.
#[tokio::test]
async fn malformed_packets_and_payloads() {
    let s = TestServer::start(|_| {}).await;
    let packets = [
        "42garbage",
        "4",
        "99",
        "42",
        "42[]",
        "42[5]",
        "42{}",
        r#"42["subscribe"]"#,
        r#"42["subscribe","string"]"#,
        r#"42["subscribe",5]"#,
        r#"42["subscribe",null]"#,
        r#"42["subscribe",[1,2]]"#,
        r#"42["subscribe",{"channel":5}]"#,
        r#"42["subscribe",{"channel":""}]"#,
        r#"42["unsubscribe",{"channel":{"a":1}}]"#,
        r#"42["unknown event",{}]"#,
        r#"42["client event","not json"]"#,
        r#"42["client event",7]"#,
        r#"42["client event",{"channel":[],"event":{}}]"#,
        "41",
        "40/other,",
        "43[]",
        r#"421["subscribe",{"channel":"ack"}]"#,
        "\u{0}\u{ffff}",
    ];
    for packet in packets {
        let mut c = s.client().await;
        s.wait_connections(1).await;
        c.send_raw(packet).await;
        c.send_raw(r#"42["subscribe",{"channel":"after"}]"#).await;
        // The bad packet was handled: either it ended this socket, or it was dropped and the
        // subscribe behind it joined.
        until_eq(format!("{packet:?} handled"), true, || async {
            s.handle.stats().connections() == 0 || s.subscribers("after").await == 1
        })
        .await;
        c.close().await;
        s.wait_connections(0).await;
        s.wait_subscribers("after", 0).await;
    }
    still_serves(&s).await;
}

/// Binary attachments (socket.io binary events) are not part of the protocol; they are dropped.
#[tokio::test]
async fn binary_attachments() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client().await;
    c.send_raw(r#"451-["subscribe",{"channel":{"_placeholder":true,"num":0}}]"#)
        .await;
    c.send_binary(vec![1, 2, 3]).await;
    c.send_raw(r#"451-["client event",{"channel":"private-x","event":"client-x","data":{"_placeholder":true,"num":0}}]"#).await;
    c.send_binary(vec![0; 1024]).await;
    // Handled in order on this socket: once this subscribe has joined, the attachments have
    // been dropped.
    c.subscribe("after").await;
    s.wait_subscribers("after", 1).await;
    c.close().await;
    s.wait_connections(0).await;
    still_serves(&s).await;
    assert_eq!(
        s.get("/apps/app/channels?auth_key=secret").await.1,
        r#"{"channels":{}}"#
    );
}

/// A 10 KB channel name is refused; names up to the limit work.
#[tokio::test]
async fn oversized_channel_names() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client().await;
    c.subscribe(&"x".repeat(10 * 1024)).await;
    c.subscribe(&format!("private-{}", "y".repeat(10 * 1024)))
        .await;
    let ok = "z".repeat(1000);
    c.subscribe(&ok).await;
    s.wait_subscribers(&ok, 1).await;
    let body = s.get("/apps/app/channels?auth_key=secret").await.1;
    assert_eq!(
        body,
        format!(r#"{{"channels":{{"{ok}":{{"occupied":true,"subscription_count":1}}}}}}"#)
    );
}

/// A client that subscribes 10,000 times holds at most `maxChannelsPerSocket` channels.
#[tokio::test]
async fn ten_thousand_subscribes() {
    let s = TestServer::start(|c| c.limits.max_channels_per_socket = 100).await;
    let mut c = s.client().await;
    for i in 0..10_000 {
        c.emit("subscribe", json!({"channel": format!("c{i}")}))
            .await;
    }
    // Every subscribe is answered: 100 joins, then a refusal for each of the rest.
    c.subscribe("last").await;
    let mut refused = 0;
    let mut last_refused = false;
    while refused < 9_901 {
        let (name, args) = c.next_event().await;
        assert_eq!(
            (name.as_str(), &args[1]),
            ("subscription_error", &json!(429))
        );
        last_refused |= args[0] == "last";
        refused += 1;
    }
    assert!(last_refused, "the 10,001st subscribe was refused too");
    let body = s.get("/apps/app/channels?auth_key=secret").await.1;
    assert_eq!(body.matches("subscription_count").count(), 100);
    // The same channel again is fine.
    c.subscribe("c0").await;
    still_serves(&s).await;
}

/// Packets over `maxHttpBufferSize` close that connection only.
#[tokio::test]
async fn oversized_packets() {
    let s = TestServer::start(|c| c.socketio.max_http_buffer_size = 10_000).await;
    let mut c = s.client().await;
    c.emit(
        "subscribe",
        json!({"channel": "x", "pad": "p".repeat(20_000)}),
    )
    .await;
    assert!(
        c.closed().await,
        "connection closed after an oversized packet"
    );
    still_serves(&s).await;
}
