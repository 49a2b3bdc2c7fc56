//! The shared-memory ring through a running server: other processes publish, a Socket.IO client
//! receives every event exactly once, in each producer's order; whatever another process
//! writes into the mapping, the server keeps delivering.
mod common;

use std::os::unix::fs::FileExt;
use std::process::Command;

use common::{TestServer, WAIT, eventually};
use rust_echo_server::shm::{Producer, Record, RingError};

const PRODUCERS: usize = 4;
const EVENTS: usize = 10_000;

/// Offsets in the ring file (server/src/shm/layout.rs).
const TAIL: u64 = 64;
const HEAD: u64 = 128;
const RECORDS: u64 = 512;
const COMMITTED: u64 = 1 << 63;
const RESERVED: u64 = 1 << 62;

fn record(data: &str) -> Record<'_> {
    Record {
        channels: &["c"],
        event: "E",
        data,
        socket: None,
    }
}

/// Wait until the server has joined `channel` for one socket.
async fn joined(s: &TestServer, channel: &str) {
    let io = s.handle.io().clone();
    let channel = channel.to_owned();
    assert!(
        eventually(WAIT, || io.to(channel.clone()).sockets().len() == 1).await,
        "the subscription to {channel} never took effect"
    );
}

/// 4 producer processes × 10,000 events: no loss, no duplicate, per-producer order kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_exactly_once_in_order() {
    let s = TestServer::start(|c| c.limits.max_buffered_packets = 1 << 20).await;
    let ring = s.handle.ring_info().expect("ring on").name;
    assert_eq!(ring, format!("rust-echo-{}", s.addr.port()));
    let mut c = s.client().await;
    c.subscribe("stress").await;
    joined(&s, "stress").await;

    let children: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            Command::new(env!("CARGO_BIN_EXE_ring_producer"))
                .args([ring.as_str(), &id.to_string(), &EVENTS.to_string()])
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
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    // Every record the producers wrote has been drained and delivered; a duplicate would be
    // queued on the socket before the marker.
    let stats = s.handle.stats().snapshot();
    assert_eq!(stats.messages_in.shm, (PRODUCERS * EVENTS) as u64);
    s.assert_marker_next("stress", &mut [&mut c]).await;
    assert_eq!(s.handle.ring_info().unwrap().dropped, 0);
}

/// Another process writes garbage into a live ring: a tail 2^40 bytes ahead, a committed
/// record header announcing 0x0FFFFFFF bytes, a misaligned head word, a misaligned tail. Each
/// is reset and counted; the server never crashes and delivers what is published afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_ring_is_reset_and_delivery_goes_on() {
    let s = TestServer::start(|_| {}).await;
    let info = s.handle.ring_info().expect("ring on");
    let capacity = info.capacity;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/dev/shm/{}", info.name))
        .expect("ring file");
    let word = |off: u64| {
        let mut b = [0u8; 8];
        file.read_exact_at(&mut b, off).expect("read");
        u64::from_le_bytes(b)
    };
    let put = |off: u64, v: u64| file.write_all_at(&v.to_le_bytes(), off).expect("write");
    let mut c = s.client().await;
    c.subscribe("c").await;
    joined(&s, "c").await;
    let mut p = Producer::new(&info.name).unwrap();
    let mut expect = |n: u32| {
        // A producer refuses a ring it sees corrupt until the server has reset it.
        while let Err(e) = p.publish(&record(&n.to_string())) {
            assert!(matches!(e, RingError::Corrupt(_)), "{e}");
            std::thread::yield_now();
        }
    };

    expect(1);
    assert_eq!(c.next_event_raw().await, r#"["E","c",1]"#);

    let tail = word(TAIL);
    put(TAIL, tail + (1 << 40));
    expect(2);
    assert_eq!(c.next_event_raw().await, r#"["E","c",2]"#);

    // A "record" another process committed at the tail: length 0x0FFFFFFF.
    let pos = word(TAIL);
    let lap = (pos / capacity) & ((1 << 30) - 1);
    put(
        RECORDS + pos % capacity,
        COMMITTED | RESERVED | lap << 32 | 0x0FFF_FFFF,
    );
    put(TAIL, pos + 64);
    // Whatever is queued behind a corrupt record is dropped with it: publish after the reset.
    let stats = s.handle.stats().clone();
    assert!(eventually(WAIT, || stats.ring.snapshot().resets >= 2).await);
    expect(3);
    assert_eq!(c.next_event_raw().await, r#"["E","c",3]"#);

    put(HEAD, word(HEAD) + 3);
    expect(4);
    assert_eq!(c.next_event_raw().await, r#"["E","c",4]"#);

    put(TAIL, word(TAIL) + 13);
    expect(5);
    assert_eq!(c.next_event_raw().await, r#"["E","c",5]"#);

    let (status, body) = s.get("/health").await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(health["ring"]["up"], true, "{health}");
    assert_eq!(health["ring"]["restarts"], 0, "{health}");
    // At least one per corruption (a write the consumer sees half-done can count twice).
    let resets = health["ring"]["resets"].as_u64().unwrap_or(0);
    assert!(resets >= 4, "{health}");
    let metrics = s.handle.stats().prometheus();
    assert!(
        metrics.contains(&format!("rust_echo_ring_resets_total {resets}")),
        "{metrics}"
    );
}

/// A process allowed to write the ring truncates the file under the server and its producers:
/// neither crashes (no SIGBUS); a publish that was under way fails as `Truncated`, the server
/// replaces the ring, and producers re-attach to the new one by name and are delivered again.
#[tokio::test]
async fn a_truncated_ring_is_replaced_and_nobody_crashes() {
    let s = TestServer::start(|_| {}).await;
    let info = s.handle.ring_info().expect("ring on");
    let path = format!("/dev/shm/{}", info.name);
    let inode = |p: &str| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).expect("ring"));
    let before = inode(&path);
    let mut c = s.client().await;
    c.subscribe("c").await;
    joined(&s, "c").await;
    let mut p = Producer::new(&info.name).unwrap();
    p.publish(&record("1")).expect("publishes");
    assert_eq!(c.next_event_raw().await, r#"["E","c",1]"#);

    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("ring file");
    file.set_len(0).expect("truncate");
    // This producer's next publish touches pages past the end of the file.
    let failed = p
        .publish(&record("lost"))
        .expect_err("the write is not delivered");
    assert!(matches!(failed, RingError::Truncated(_)), "{failed}");

    let stats = s.handle.stats().clone();
    assert!(
        eventually(WAIT, || stats.ring.snapshot().restarts >= 1).await,
        "the server replaces the ring"
    );
    assert!(eventually(WAIT, || std::fs::metadata(&path).is_ok_and(|m| m.len() > 0)).await);
    assert_ne!(inode(&path), before, "a fresh ring file");
    // The same producer re-attaches by name on its next publish.
    let mut sent = p.publish(&record("2"));
    let deadline = std::time::Instant::now() + WAIT;
    while sent.is_err() && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        sent = p.publish(&record("2"));
    }
    sent.expect("publishes to the fresh ring");
    assert_eq!(c.next_event_raw().await, r#"["E","c",2]"#);
    let (status, body) = s.get("/health").await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["ring"]["up"], true, "{health}");
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
    assert!(matches!(
        p.publish(&record("1")),
        Err(RingError::NotFound(_))
    ));

    let s = TestServer::start(move |c| c.port = port).await;
    let mut c = s.client().await;
    c.subscribe("c").await;
    joined(&s, "c").await;
    p.publish(&record("1")).unwrap();
    assert_eq!(c.next_event_raw().await, r#"["E","c",1]"#);
}

/// Records that do not decode (bad JSON data) are dropped and counted; the next one arrives.
#[tokio::test]
async fn undecodable_records_are_dropped() {
    let s = TestServer::start(|_| {}).await;
    let ring = s.handle.ring_info().unwrap().name;
    let mut c = s.client().await;
    c.subscribe("c").await;
    joined(&s, "c").await;
    let mut p = Producer::new(&ring).unwrap();
    p.publish(&record("{not json")).unwrap();
    p.publish(&Record {
        event: "",
        ..record("1")
    })
    .unwrap();
    p.publish(&record("2")).unwrap();
    assert_eq!(c.next_event_raw().await, r#"["E","c",2]"#);
    let stats = s.handle.stats().clone();
    assert!(eventually(WAIT, || stats.snapshot().messages_dropped == 2).await);
}

/// `shm.enabled = false` creates no ring.
#[tokio::test]
async fn ring_can_be_disabled() {
    let s = TestServer::start(|c| c.shm.enabled = false).await;
    assert!(s.handle.ring_info().is_none());
    let mut p = Producer::new(&format!("rust-echo-{}", s.addr.port())).unwrap();
    assert!(!p.reachable());
    let (_, body) = s.get("/health").await;
    assert!(body.contains(r#""ring":null"#), "{body}");
}
