//! HTTP connections that hold a descriptor without completing a request are closed by the
//! server: silent, half a header, a header trickled byte by byte (slowloris), half a body, idle
//! after a response. Upgraded WebSockets and pending long-polls are not requests in progress
//! and are not cut. The test observes the server's close (EOF or reset) on the client's socket.
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{TestServer, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's header and body timeouts are 10 s; this leaves room for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(30);

/// Read (and discard) until the server closes the connection; whether it did within `within`.
async fn closed_by_server(read: &mut (impl AsyncReadExt + Unpin), within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, read.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Connect and send `prefix`, then nothing more.
async fn stalled_after(addr: SocketAddr, prefix: &str) -> bool {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(prefix.as_bytes()).await.expect("write");
    closed_by_server(&mut tcp, CLOSED_WITHIN).await
}

/// A header that never ends, one byte every 200 ms.
async fn slowloris(addr: SocketAddr) -> bool {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = tcp.into_split();
    let trickle = tokio::spawn(async move {
        write
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .ok()?;
        loop {
            for byte in b"X-Slow: y\r\n" {
                tokio::time::sleep(Duration::from_millis(200)).await;
                write.write_all(&[*byte]).await.ok()?;
            }
        }
        #[allow(unreachable_code)]
        Some(())
    });
    let closed = closed_by_server(&mut read, CLOSED_WITHIN).await;
    trickle.abort();
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_complete_a_request_are_closed() {
    let s = TestServer::start(|_| {}).await;
    let addr = s.addr;
    let (silent, half_header, trickled, half_body, idle) = tokio::join!(
        stalled_after(addr, ""),
        stalled_after(addr, "GET /health HTTP/1.1\r\nHost: x\r\nX-Half"),
        slowloris(addr),
        stalled_after(
            addr,
            "POST /apps/app/events?auth_key=secret HTTP/1.1\r\nHost: x\r\n\
             Content-Length: 1000\r\n\r\n{\"channel\":"
        ),
        stalled_after(addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert!(silent, "a silent connection is closed");
    assert!(
        half_header,
        "a connection that sent half a header is closed"
    );
    assert!(trickled, "a slowloris connection is closed");
    assert!(half_body, "a connection that sent half a body is closed");
    assert!(idle, "an idle keep-alive connection is closed");
    assert_eq!(s.get("/health").await.0, 200);
}

/// While a silent connection waits out the header timeout, a WebSocket client and a long-poll
/// stay open; both get the event published after it was closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_and_pending_long_polls_are_not_cut() {
    // No heartbeat deadline during the test: a ping would end the long-poll early, and the
    // WebSocket client does not read (so does not answer) while it waits.
    let s = TestServer::start(|c| {
        c.socketio.ping_interval = Duration::from_secs(120);
        c.socketio.ping_timeout = Duration::from_secs(120);
    })
    .await;
    let mut ws = s.client().await;
    ws.subscribe("news").await;

    let http = reqwest::Client::new();
    let base = format!("{}/socket.io/?EIO=4&transport=polling", s.url());
    let open = http.get(&base).send().await.expect("handshake");
    let open = open.text().await.expect("body");
    let open: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("OPEN packet")).expect("json");
    let session = format!("{base}&sid={}", open["sid"].as_str().expect("sid"));
    let post = |body: &'static str| http.post(&session).body(body).send();
    assert_eq!(post("40").await.expect("connect").status(), 200);
    // The CONNECT reply and the session's first ping (queued as it opens) come in one poll or
    // two, in either order; the ping is answered now, else it ends the long-poll below.
    let mut polled = Vec::new();
    while !(polled.iter().any(|p: &String| p.starts_with("40{")) && polled.iter().any(|p| p == "2"))
    {
        let body = http.get(&session).send().await.expect("poll");
        let body = body.text().await.expect("body");
        polled.extend(body.split('\x1e').map(str::to_owned));
        assert!(
            polled.len() <= 2,
            "only the CONNECT reply and a ping: {polled:?}"
        );
    }
    assert_eq!(post("3").await.expect("pong").status(), 200);
    let subscribe = post(r#"42["subscribe",{"channel":"news"}]"#).await;
    assert_eq!(subscribe.expect("subscribe").status(), 200);
    let channel = format!("{}/apps/app/channels/news?auth_key=secret", s.url());
    let deadline = tokio::time::Instant::now() + WAIT;
    while !http
        .get(&channel)
        .send()
        .await
        .expect("api")
        .text()
        .await
        .is_ok_and(|b| b.contains(r#""subscription_count":2"#))
    {
        assert!(tokio::time::Instant::now() < deadline, "both subscribed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let long_poll = tokio::spawn(http.get(&session).send());
    assert!(
        stalled_after(s.addr, "").await,
        "the header timeout closes a silent connection meanwhile"
    );
    if long_poll.is_finished() {
        let r = long_poll.await.expect("task");
        let text = match r {
            Ok(r) => format!("{} {:?}", r.status(), r.text().await),
            Err(e) => format!("{e:?}"),
        };
        panic!(
            "the long-poll ended: {text}\n{}",
            s.handle.stats().prometheus()
        );
    }
    s.publish("news", "Ev", "1", None);
    assert_eq!(ws.next_event_raw().await, r#"["Ev","news",1]"#);
    let polled = tokio::time::timeout(WAIT, long_poll)
        .await
        .expect("the long-poll answers")
        .expect("task")
        .expect("response");
    assert_eq!(polled.status(), 200);
    assert!(
        polled
            .text()
            .await
            .expect("body")
            .contains(r#"42["Ev","news",1]"#)
    );
}
