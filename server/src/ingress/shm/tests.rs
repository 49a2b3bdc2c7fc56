//! The ring thread's supervision, through a running server: a panic while draining is counted,
//! shown by `/health`, and the ring keeps delivering.

use std::sync::Mutex;
use std::time::Duration;

use crate::Config;
use crate::shm::{Producer, Record};

/// The ring whose drain loop panics once (tests run in parallel; each names its own ring).
static PANIC_IN: Mutex<Option<String>> = Mutex::new(None);

pub(super) fn maybe_panic(ring: &str) {
    let mut armed = PANIC_IN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if armed.as_deref() == Some(ring) {
        *armed = None;
        drop(armed);
        panic!("injected by the test");
    }
}

/// Wait until `f` holds; a generous guard turns a hang into a failure.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let wait = async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("never happened: {what}"));
}

async fn health(addr: std::net::SocketAddr) -> serde_json::Value {
    let body = reqwest::get(format!("http://{addr}/health"))
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    serde_json::from_str(&body).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_drain_is_restarted_counted_and_reported() {
    let mut config = Config {
        host: Some("127.0.0.1".to_owned()),
        port: 0,
        ..Config::default()
    };
    config.subscribers.redis = false;
    config.metrics.enabled = false;
    let ring = format!("rust-echo-test-supervised-{}", std::process::id());
    config.shm.name = Some(ring.clone());
    let server = crate::start(config).await.expect("server starts");
    let addr = server.local_addr();
    let before = health(addr).await;
    assert_eq!(before["ring"]["up"], true, "{before}");
    assert_eq!(before["ring"]["restarts"], 0, "{before}");

    let stats = server.stats().clone();
    let mut producer = Producer::new(&ring).expect("name");
    let record = Record {
        channels: &["c"],
        event: "E",
        data: "1",
        socket: None,
    };
    producer.publish(&record).expect("ring reachable");
    until("the first record was drained", || {
        stats.snapshot().messages_in.shm == 1
    })
    .await;

    *PANIC_IN.lock().expect("lock") = Some(ring.clone());
    until("the drain restarted", || {
        let ring = stats.ring.snapshot();
        ring.restarts == 1 && ring.up
    })
    .await;
    let after = health(addr).await;
    assert_eq!(
        (
            &after["status"],
            &after["ring"]["up"],
            &after["ring"]["restarts"]
        ),
        (&"ok".into(), &true.into(), &1.into()),
        "{after}"
    );

    // The same producer re-attaches to the fresh ring and its records are drained.
    until("the producer reached the fresh ring", || {
        producer.publish(&record).is_ok()
    })
    .await;
    until("the record was drained", || {
        stats.snapshot().messages_in.shm == 2
    })
    .await;
    server.shutdown().await;
}
