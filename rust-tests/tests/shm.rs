//! The shared-memory ring through a running server: other processes publish, a Socket.IO client
//! receives every event exactly once, in each producer's order.
mod common;

use std::process::Command;
use std::time::Duration;

use common::TestServer;
use rust_echo_server::shm::{Producer, Record, RingError};

const PRODUCERS: usize = 4;
const EVENTS: usize = 10_000;

/// Run as a producer process when re-executed by `four_processes_exactly_once_in_order`;
/// a no-op as an ordinary test.
#[test]
fn ring_producer_process() {
    let (Ok(ring), Ok(id)) = (
        std::env::var("RING_PRODUCER_NAME"),
        std::env::var("RING_PRODUCER_ID"),
    ) else {
        return;
    };
    let mut p = Producer::new(&ring).expect("ring name");
    for seq in 0..EVENTS {
        let data = format!("[{id},{seq}]");
        let record = Record {
            channels: &["stress"],
            event: "S",
            data: &data,
            socket: None,
        };
        loop {
            match p.publish(&record) {
                Ok(()) => break,
                Err(RingError::Full) => std::thread::yield_now(),
                Err(e) => panic!("producer {id}: {e}"),
            }
        }
    }
}

/// 4 producer processes × 10,000 events: no loss, no duplicate, per-producer order kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_exactly_once_in_order() {
    let s = TestServer::start(|c| c.limits.max_buffered_packets = 1 << 20).await;
    let ring = s.handle.ring_info().expect("ring on").name;
    assert_eq!(ring, format!("rust-echo-{}", s.addr.port()));
    let mut c = s.client().await;
    c.subscribe("stress").await;
    common::settle().await;

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "ring_producer_process", "--test-threads=1"])
                .env("RING_PRODUCER_NAME", &ring)
                .env("RING_PRODUCER_ID", id.to_string())
                .spawn()
                .unwrap()
        })
        .collect();

    let mut next = [0usize; PRODUCERS];
    for _ in 0..PRODUCERS * EVENTS {
        let (name, args) = c.next_event().await;
        assert_eq!((name.as_str(), args[0].as_str()), ("S", Some("stress")));
        let id = args[1][0].as_u64().unwrap() as usize;
        let seq = args[1][1].as_u64().unwrap() as usize;
        assert_eq!(seq, next[id], "producer {id} out of order or duplicated");
        next[id] += 1;
    }
    assert_eq!(next, [EVENTS; PRODUCERS]);
    c.expect_no_event(200).await;
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let stats = s.handle.stats().snapshot();
    assert_eq!(stats.messages_in.shm, (PRODUCERS * EVENTS) as u64);
    assert_eq!(s.handle.ring_info().unwrap().dropped, 0);
}

/// A stopped server removes its ring; producers see that at once. A server on the same port
/// creates it again and the same producer reaches it.
#[tokio::test]
async fn ring_follows_server_restarts() {
    let s = TestServer::start(|_| {}).await;
    let port = s.addr.port();
    let ring = s.handle.ring_info().unwrap().name;
    let mut p = Producer::new(&ring).unwrap();
    assert!(p.reachable());
    s.handle.shutdown().await;
    let record = Record {
        channels: &["c"],
        event: "E",
        data: "1",
        socket: None,
    };
    assert!(matches!(p.publish(&record), Err(RingError::NotFound(_))));

    let s = TestServer::start(move |c| c.port = port).await;
    let mut c = s.client().await;
    c.subscribe("c").await;
    common::settle().await;
    p.publish(&record).unwrap();
    assert_eq!(c.next_event_raw().await, r#"["E","c",1]"#);
}

/// Records that do not decode (bad JSON data) are dropped and counted; the next one arrives.
#[tokio::test]
async fn undecodable_records_are_dropped() {
    let s = TestServer::start(|_| {}).await;
    let ring = s.handle.ring_info().unwrap().name;
    let mut c = s.client().await;
    c.subscribe("c").await;
    common::settle().await;
    let mut p = Producer::new(&ring).unwrap();
    p.publish(&Record {
        channels: &["c"],
        event: "E",
        data: "{not json",
        socket: None,
    })
    .unwrap();
    p.publish(&Record {
        channels: &["c"],
        event: "",
        data: "1",
        socket: None,
    })
    .unwrap();
    p.publish(&Record {
        channels: &["c"],
        event: "E",
        data: "2",
        socket: None,
    })
    .unwrap();
    assert_eq!(c.next_event_raw().await, r#"["E","c",2]"#);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.handle.stats().snapshot().messages_dropped, 2);
}

/// `shm.enabled = false` creates no ring.
#[tokio::test]
async fn ring_can_be_disabled() {
    let s = TestServer::start(|c| c.shm.enabled = false).await;
    assert!(s.handle.ring_info().is_none());
    let mut p = Producer::new(&format!("rust-echo-{}", s.addr.port())).unwrap();
    assert!(!p.reachable());
}
