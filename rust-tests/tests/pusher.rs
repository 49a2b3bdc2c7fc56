//! The Pusher protocol on `/app/{key}`, with a raw WebSocket client asserting exact frames:
//! connection, public channels, ping/pong, errors, and delivery from every ingress into the one
//! channel space shared with Socket.IO clients.
mod common;

use std::time::Duration;

use common::pusher::{ID, KEY, PusherClient, SECRET};
use common::{RedisServer, TestServer, eventually};
use rust_echo_server::config::PusherApp;
use rust_echo_server::shm::{Producer, Record};
use serde_json::{Value, json};

/// A server with one Pusher app (the default app) changed by `f`.
async fn server(f: impl FnOnce(&mut PusherApp)) -> TestServer {
    let mut app = PusherApp::new(ID, KEY, SECRET);
    f(&mut app);
    TestServer::start(move |c| c.apps = vec![app]).await
}

const SUCCEEDED_NEWS: &str =
    r#"{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}"#;

/// `pusher:connection_established` carries a `N.N` socket id and the activity timeout; a public
/// subscribe succeeds at once; `pusher:ping` is answered with `pusher:pong`.
#[tokio::test]
async fn connection_public_channel_and_ping() {
    let s = server(|_| {}).await;
    let mut c = PusherClient::open(s.addr, KEY, None).await;
    let established = c.next().await;
    let (head, tail) = (
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\""#,
        r#"\",\"activity_timeout\":30}"}"#,
    );
    assert!(
        established.starts_with(head) && established.ends_with(tail),
        "{established}"
    );
    let id = &established[head.len()..established.len() - tail.len()];
    let (a, b) = id.split_once('.').expect("N.N");
    assert!(a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok(), "{id}");

    c.send(json!({"event": "pusher:subscribe", "data": {"channel": "news"}}))
        .await;
    assert_eq!(c.next().await, SUCCEEDED_NEWS);
    c.send_raw(r#"{"event":"pusher:ping","data":{}}"#).await;
    assert_eq!(c.next().await, r#"{"event":"pusher:pong"}"#);
    s.wait_connections(1).await;
}

/// An unknown key gets error 4001 and the connection is closed.
#[tokio::test]
async fn unknown_app_is_refused_with_4001() {
    let s = server(|_| {}).await;
    let mut c = PusherClient::open(s.addr, "nope", None).await;
    assert_eq!(
        c.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4001,\"message\":\"Application does not exist\"}"}"#
    );
    assert!(c.closed().await);
}

/// Frames that cannot be read, and unknown `pusher:` events, get 4200; the connection stays.
#[tokio::test]
async fn invalid_messages_get_4200() {
    let s = server(|_| {}).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    let invalid = r#"{"event":"pusher:error","data":"{\"code\":4200,\"message\":\"Invalid message format\"}"}"#;
    for bad in [
        "not json",
        r#"{"data":{}}"#,
        r#"{"event":"pusher:nonsense"}"#,
        r#"{"event":"pusher:subscribe","data":{}}"#,
        r#"{"event":"pusher:subscribe","data":"{not json"}"#,
    ] {
        c.send_raw(bad).await;
        assert_eq!(c.next().await, invalid, "{bad}");
    }
    assert_eq!(c.subscribe("news").await, SUCCEEDED_NEWS);
}

/// An app at its capacity refuses the next connection with 4004; an origin outside
/// `allowed_origins` is refused with 4009.
#[tokio::test]
async fn capacity_and_origins() {
    let s = server(|a| {
        a.capacity = Some(1);
        a.allowed_origins = vec!["*.example.com".to_owned()];
    })
    .await;
    let _first = PusherClient::open(s.addr, KEY, Some("https://app.example.com")).await;
    s.wait_connections(1).await;
    let mut second = PusherClient::open(s.addr, KEY, Some("https://app.example.com")).await;
    assert_eq!(
        second.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4004,\"message\":\"Application is over connection quota\"}"}"#
    );
    assert!(second.closed().await);
    let mut evil = PusherClient::open(s.addr, KEY, Some("https://evil.com")).await;
    assert_eq!(
        evil.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4009,\"message\":\"Origin not allowed\"}"}"#
    );
    assert!(evil.closed().await);
}

/// A client that stays silent for `ping_interval` is pinged; silent for as long again, it gets
/// 4201 and is closed. A client that answers stays.
#[tokio::test]
async fn silent_clients_are_pinged_then_closed() {
    let s = server(|a| a.ping_interval = Duration::from_millis(400)).await;
    let mut silent = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(silent.next().await, r#"{"event":"pusher:ping"}"#);
    assert_eq!(
        silent.next().await,
        r#"{"event":"pusher:error","data":"{\"code\":4201,\"message\":\"Pong reply not received in time\"}"}"#
    );
    assert!(silent.closed().await);
    let mut answering = PusherClient::connect(s.addr, KEY).await;
    for _ in 0..3 {
        assert_eq!(answering.next().await, r#"{"event":"pusher:ping"}"#);
        answering
            .send_raw(r#"{"event":"pusher:pong","data":{}}"#)
            .await;
    }
    assert_eq!(answering.subscribe("news").await, SUCCEEDED_NEWS);
}

/// A message over `max_message_size` closes the connection.
#[tokio::test]
async fn oversized_messages_close_the_connection() {
    let s = server(|a| a.max_message_size = 100).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    let big = json!({"event": "client-x", "channel": "private-a", "data": "x".repeat(200)});
    c.send(big).await;
    assert!(c.closed().await);
}

/// An event published through each ingress reaches the Socket.IO and the Pusher clients of its
/// channel once each: in-process bus, shared-memory ring, laravel-echo-server's HTTP API, Redis.
#[tokio::test]
async fn every_ingress_reaches_both_protocols() {
    let redis = RedisServer::start().await;
    let port = redis.port;
    let s = TestServer::start(move |c| {
        c.apps = vec![PusherApp::new(ID, KEY, SECRET)];
        c.subscribers.redis = true;
        c.redis.port = port;
    })
    .await;
    assert!(eventually(Duration::from_secs(5), || s.handle.redis_connected()).await);
    let mut sio = s.client().await;
    sio.subscribe("news").await;
    let mut p = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(p.subscribe("news").await, SUCCEEDED_NEWS);
    // laravel-echo-server's API counts both protocols' sockets: one channel space.
    s.wait_subscribers("news", 2).await;
    let mut ring = Producer::new(&s.handle.ring_info().expect("ring").name).expect("producer");

    // One at a time: ingresses are not ordered against each other.
    for (event, data) in [
        ("Bus", r#"{"n":1,"s":"a/b"}"#),
        ("Ring", r#"{"n":4}"#),
        ("Http", r#"{"n":2}"#),
        ("Redis", r#"{"n":3}"#),
    ] {
        match event {
            "Bus" => s.publish("news", event, data, None),
            "Ring" => ring
                .publish(&Record {
                    channels: &["news"],
                    event,
                    data,
                    socket: None,
                })
                .expect("ring publish"),
            "Http" => {
                let body = format!(r#"{{"channel":"news","name":"Http","data":{data}}}"#);
                let (status, _) = s.post("/apps/app/events?auth_key=secret", &body).await;
                assert_eq!(status, 200);
            }
            _ => {
                let payload = format!(r#"{{"event":"Redis","data":{data},"socket":null}}"#);
                assert_eq!(redis.publish("news", &payload).await, 1);
            }
        }
        assert_eq!(
            sio.next_event_raw().await,
            format!(r#"["{event}","news",{data}]"#)
        );
        let frame: Value = serde_json::from_str(&p.next().await).expect("json");
        assert_eq!(
            frame,
            json!({"event": event, "data": data, "channel": "news"}),
            "data is the publisher's JSON text as a string"
        );
    }
    // Once each: the marker is next for both.
    s.publish("news", "Marker", "1", None);
    assert_eq!(sio.next_event_raw().await, r#"["Marker","news",1]"#);
    assert_eq!(
        p.next().await,
        r#"{"event":"Marker","data":"1","channel":"news"}"#
    );
}

/// `toOthers` across protocols: a Pusher socket id leaves out that Pusher socket, a Socket.IO
/// id that Socket.IO socket; everyone else gets the event.
#[tokio::test]
async fn to_others_excludes_the_named_socket_of_either_protocol() {
    let s = server(|_| {}).await;
    let (mut sio, mut p1, mut p2) = common::pusher::mixed_room(&s, "news").await;
    let p1_id = p1.socket_id.clone();
    s.publish("news", "NotP1", "1", Some(&p1_id));
    let sio_id = sio.sid.clone();
    s.publish("news", "NotSio", "2", Some(&sio_id));
    s.publish("news", "All", "3", None);
    assert_eq!(sio.next_event_raw().await, r#"["NotP1","news",1]"#);
    assert_eq!(sio.next_event_raw().await, r#"["All","news",3]"#);
    assert_eq!(
        p1.next().await,
        r#"{"event":"NotSio","data":"2","channel":"news"}"#
    );
    assert_eq!(
        p1.next().await,
        r#"{"event":"All","data":"3","channel":"news"}"#
    );
    for expected in [
        r#"{"event":"NotP1","data":"1","channel":"news"}"#,
        r#"{"event":"NotSio","data":"2","channel":"news"}"#,
        r#"{"event":"All","data":"3","channel":"news"}"#,
    ] {
        assert_eq!(p2.next().await, expected);
    }
}

/// Unsubscribed sockets get nothing more; a closed one leaves its channels.
#[tokio::test]
async fn unsubscribe_and_close_leave_channels() {
    let s = server(|_| {}).await;
    let mut a = PusherClient::connect(s.addr, KEY).await;
    let mut b = PusherClient::connect(s.addr, KEY).await;
    a.subscribe("news").await;
    b.subscribe("news").await;
    a.send(json!({"event": "pusher:unsubscribe", "data": {"channel": "news"}}))
        .await;
    a.send_raw(r#"{"event":"pusher:ping"}"#).await;
    assert_eq!(a.next().await, r#"{"event":"pusher:pong"}"#);
    s.publish("news", "After", "1", None);
    assert_eq!(
        b.next().await,
        r#"{"event":"After","data":"1","channel":"news"}"#
    );
    a.send_raw(r#"{"event":"pusher:ping"}"#).await;
    assert_eq!(
        a.next().await,
        r#"{"event":"pusher:pong"}"#,
        "nothing before the pong"
    );
    drop(b);
    s.wait_connections(1).await;
}

/// At shutdown, Pusher connections get what was queued for them, then are closed, and the
/// shutdown waits for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_what_is_queued_then_closes() {
    let s = TestServer::start(|c| {
        c.apps = vec![PusherApp::new(ID, KEY, SECRET)];
        c.shutdown_grace = Duration::from_secs(600);
    })
    .await;
    let mut p = PusherClient::connect(s.addr, KEY).await;
    assert_eq!(p.subscribe("news").await, SUCCEEDED_NEWS);
    for i in 0..100 {
        s.publish("news", "E", &i.to_string(), None);
    }
    tokio::time::timeout(common::WAIT, s.handle.shutdown())
        .await
        .expect("shutdown completes once every connection is closed");
    for i in 0..100 {
        assert_eq!(
            p.next().await,
            format!(r#"{{"event":"E","data":"{i}","channel":"news"}}"#)
        );
    }
    assert!(p.closed().await);
}

/// `pusherPort`: a port of its own serving the Pusher protocol and its HTTP API, in the same
/// channel space.
#[tokio::test]
async fn a_port_of_its_own() {
    let s = TestServer::start(|c| {
        c.apps = vec![PusherApp::new(ID, KEY, SECRET)];
        c.pusher_port = Some(0);
    })
    .await;
    let addr = s.handle.pusher_addr().expect("the Pusher port");
    assert_ne!(addr, s.addr);
    let mut on_own = PusherClient::connect(addr, KEY).await;
    let mut on_main = PusherClient::connect(s.addr, KEY).await;
    on_own.subscribe("news").await;
    on_main.subscribe("news").await;
    let body = r#"{"name":"E","channel":"news","data":"1"}"#;
    let path = "/apps/app-id/events";
    let query =
        common::pusher::signed_query("POST", path, body, &[], KEY, SECRET, common::pusher::now());
    let res = common::http()
        .post(format!("http://{addr}{path}?{query}"))
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    for c in [&mut on_own, &mut on_main] {
        assert_eq!(
            c.next().await,
            r#"{"event":"E","data":"1","channel":"news"}"#
        );
    }
    let unsigned = common::http()
        .post(format!("http://{addr}{path}"))
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status().as_u16(), 401);
    let socketio = common::http()
        .get(format!("http://{addr}/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        socketio.status().as_u16(),
        404,
        "only the Pusher protocol there"
    );
}

/// `maxConnections` counts both protocols: past it a Pusher connection is refused with 503 at
/// the handshake, as a Socket.IO one is.
#[tokio::test]
async fn max_connections_counts_both_protocols() {
    let s = TestServer::start(|c| {
        c.apps = vec![PusherApp::new(ID, KEY, SECRET)];
        c.limits.max_connections = 1;
    })
    .await;
    let _sio = s.client().await;
    s.wait_connections(1).await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/app/{KEY}", s.addr)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 503);
        }
        other => panic!("expected a 503, got {other:?}"),
    }
}

/// Reverb's `rate_limiting`: past `max_attempts` messages in the window each message gets 4301;
/// with `terminate_on_limit` the connection is closed.
#[tokio::test]
async fn message_rate_limit() {
    let limit = |terminate| rust_echo_server::config::RateLimit {
        max_attempts: 2,
        decay: Duration::from_secs(600),
        terminate,
    };
    let limited =
        r#"{"event":"pusher:error","data":"{\"code\":4301,\"message\":\"Rate limit exceeded\"}"}"#;
    let s = server(|a| a.rate_limit = Some(limit(false))).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    for expected in [
        r#"{"event":"pusher:pong"}"#,
        r#"{"event":"pusher:pong"}"#,
        limited,
        limited,
    ] {
        c.send_raw(r#"{"event":"pusher:ping"}"#).await;
        assert_eq!(c.next().await, expected);
    }
    let s = server(|a| a.rate_limit = Some(limit(true))).await;
    let mut c = PusherClient::connect(s.addr, KEY).await;
    for _ in 0..3 {
        c.send_raw(r#"{"event":"pusher:ping"}"#).await;
    }
    assert_eq!(c.next().await, r#"{"event":"pusher:pong"}"#);
    assert_eq!(c.next().await, r#"{"event":"pusher:pong"}"#);
    assert_eq!(c.next().await, limited);
    assert!(c.closed().await);
}
