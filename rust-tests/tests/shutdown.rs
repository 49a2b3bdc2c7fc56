//! Graceful shutdown: what is queued is delivered, every socket is told, the listener closes,
//! within the grace period.
mod common;

use std::time::{Duration, Instant};

use common::TestServer;

/// Events queued in-process before the shutdown still reach the client, then it is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_events_are_delivered_then_sockets_close() {
    let s = TestServer::start(|c| c.shutdown_grace = Duration::from_secs(2)).await;
    let addr = s.addr;
    let (mut v4, mut v2) = (s.client().await, s.client_v2().await);
    v4.subscribe("last").await;
    v2.subscribe("last").await;
    common::settle().await;
    for i in 0..200 {
        s.publish("last", "E", &i.to_string(), None);
    }
    let started = Instant::now();
    s.handle.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for c in [&mut v4, &mut v2] {
        for i in 0..200 {
            assert_eq!(c.next_event_raw().await, format!(r#"["E","last",{i}]"#));
        }
        assert!(c.closed().await, "socket closed by the server");
    }
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}
