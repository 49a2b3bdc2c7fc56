//! Graceful shutdown: what is queued is delivered, every socket is told, the listener closes,
//! because the work is done rather than because the grace period ran out.
mod common;

use std::time::Duration;

use common::{TestServer, WAIT};

/// Events queued in-process before the shutdown still reach the client, then it is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_events_are_delivered_then_sockets_close() {
    // A grace period far longer than the test's wait: shutting down within the wait means
    // nothing was cut off by the grace timer.
    let s = TestServer::start(|c| c.shutdown_grace = Duration::from_secs(600)).await;
    let addr = s.addr;
    let (mut v4, mut v2) = (s.client().await, s.client_v2().await);
    v4.subscribe("last").await;
    v2.subscribe("last").await;
    s.wait_subscribers("last", 2).await;
    for i in 0..200 {
        s.publish("last", "E", &i.to_string(), None);
    }
    tokio::time::timeout(WAIT, s.handle.shutdown())
        .await
        .expect("shutdown completes once everything is delivered and closed");
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
