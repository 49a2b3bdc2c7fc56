//! Transport: Engine.IO 3 and 4 on one port, WebSocket and polling, the configurable path.
mod common;

use common::{Client, TestServer};

/// `GET /` answers `OK`, as laravel-echo-server's health check expects.
#[tokio::test]
async fn root_answers_ok() {
    let s = TestServer::start(|_| {}).await;
    assert_eq!(s.get("/").await, (200, "OK".to_owned()));
}

/// A socket.io-client 2.x (EIO3) and a 4.x (EIO4) client on the same port receive the same bytes.
#[tokio::test]
async fn eio3_and_eio4_clients_get_identical_packets() {
    let s = TestServer::start(|_| {}).await;
    let mut v2 = s.client_v2().await;
    let mut v4 = s.client().await;
    v2.subscribe("news").await;
    v4.subscribe("news").await;
    s.wait_subscribers("news", 2).await;
    s.publish("news", "App\\Events\\Ping", r#"{"x":1}"#, None);
    let expected = r#"["App\\Events\\Ping","news",{"x":1}]"#;
    assert_eq!(v2.next_event_raw().await, expected);
    assert_eq!(v4.next_event_raw().await, expected);
}

/// The polling transport opens sessions for both protocol versions.
#[tokio::test]
async fn polling_handshake_for_both_versions() {
    let s = TestServer::start(|_| {}).await;
    let (status, body) = s.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("0{\"sid\":"), "{body}");
    let (status, body) = s.get("/socket.io/?EIO=3&transport=polling").await;
    assert_eq!(status, 200);
    // EIO3 frames packets as <length>:<packet>; the server sends CONNECT (40) on its own.
    assert!(body.contains(":0{\"sid\":"), "{body}");
    let open: serde_json::Value = serde_json::from_str(&body[body.find('{').unwrap()..]).unwrap();
    let sid = open["sid"].as_str().unwrap();
    let (status, body) = s
        .get(&format!("/socket.io/?EIO=3&transport=polling&sid={sid}"))
        .await;
    assert_eq!((status, body.as_str()), (200, "2:40"));
}

/// `socketio.path` moves the endpoint.
#[tokio::test]
async fn custom_socketio_path() {
    let s = TestServer::start(|c| c.socketio.path = "/ws".to_owned()).await;
    let mut c = Client::connect_with(s.addr, "/ws", 4, &[], None).await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    s.publish("news", "E", "1", None);
    assert_eq!(c.next_event_raw().await, r#"["E","news",1]"#);
    let (status, _) = s.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 404);
}
