//! Public channels, delivery bytes, `toOthers` and unsubscribe.
mod common;

use common::TestServer;

/// Data is forwarded byte for byte: number formatting and big integers survive.
#[tokio::test]
async fn data_is_forwarded_byte_for_byte() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client().await;
    c.subscribe("orders").await;
    s.wait_subscribers("orders", 1).await;
    s.publish(
        "orders",
        "App\\Events\\OrderShipped",
        r#"{"total":1.50,"id":12345678901234567890,"socket":null}"#,
        None,
    );
    assert_eq!(
        c.next_event_raw().await,
        r#"["App\\Events\\OrderShipped","orders",{"total":1.50,"id":12345678901234567890,"socket":null}]"#
    );
}

/// A message naming a socket reaches everyone in the channel but that socket.
#[tokio::test]
async fn to_others_excludes_the_sender() {
    let s = TestServer::start(|_| {}).await;
    let mut a = s.client().await;
    let mut b = s.client_v2().await;
    a.subscribe("chat").await;
    b.subscribe("chat").await;
    s.wait_subscribers("chat", 2).await;
    s.publish("chat", "Msg", "1", Some(&a.sid));
    s.publish("chat", "Msg", "2", Some(&b.sid));
    assert_eq!(b.next_event_raw().await, r#"["Msg","chat",1]"#);
    assert_eq!(a.next_event_raw().await, r#"["Msg","chat",2]"#);
    s.assert_marker_next("chat", &mut [&mut a, &mut b]).await;
}

/// A socket id that is not connected here excludes nobody.
#[tokio::test]
async fn unknown_socket_excludes_nobody() {
    let s = TestServer::start(|_| {}).await;
    let mut a = s.client().await;
    a.subscribe("chat").await;
    s.wait_subscribers("chat", 1).await;
    s.publish("chat", "Msg", "1", Some("not-a-socket"));
    assert_eq!(a.next_event_raw().await, r#"["Msg","chat",1]"#);
}

/// After `unsubscribe` nothing more arrives; other channels keep flowing, in order.
#[tokio::test]
async fn unsubscribe_stops_delivery_and_order_is_kept() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client().await;
    c.subscribe("a").await;
    c.subscribe("b").await;
    s.wait_subscribers("a", 1).await;
    s.wait_subscribers("b", 1).await;
    for i in 0..50 {
        s.publish("a", "E", &i.to_string(), None);
    }
    for i in 0..50 {
        assert_eq!(c.next_event_raw().await, format!(r#"["E","a",{i}]"#));
    }
    c.emit(
        "unsubscribe",
        serde_json::json!({ "channel": "a", "auth": {} }),
    )
    .await;
    s.wait_subscribers("a", 0).await;
    s.publish("a", "E", "0", None);
    s.publish("b", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","b",1]"#);
}

/// A message for several channels reaches a socket once per channel it is in.
#[tokio::test]
async fn multi_channel_message() {
    let s = TestServer::start(|_| {}).await;
    let mut c = s.client().await;
    c.subscribe("x").await;
    c.subscribe("y").await;
    s.wait_subscribers("x", 1).await;
    s.wait_subscribers("y", 1).await;
    let msg = rust_echo_server::Message::new(
        vec!["x".into(), "y".into(), "z".into()],
        "E".into(),
        "{}",
        None,
    )
    .unwrap();
    s.handle.publisher().publish(msg).unwrap();
    assert_eq!(c.next_event_raw().await, r#"["E","x",{}]"#);
    assert_eq!(c.next_event_raw().await, r#"["E","y",{}]"#);
    s.assert_marker_next("x", &mut [&mut c]).await;
}
