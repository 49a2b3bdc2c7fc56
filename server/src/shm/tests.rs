//! Ring protocol tests that need to reach inside the layout: full ring, a producer that dies
//! mid-write, torn records, version mismatch, a dead and a restarted server.

use std::sync::atomic::Ordering::{Release, SeqCst};
use std::time::{Duration, Instant};

use super::layout::{RESERVED, record_size};
use super::*;

fn unique(name: &str) -> String {
    format!(
        "rust-echo-test-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "")
}

fn record<'a>(data: &'a str) -> Record<'a> {
    Record {
        channels: &["c"],
        event: "E",
        data,
        socket: None,
    }
}

fn drain(c: &mut Consumer) -> Vec<String> {
    let mut out = Vec::new();
    c.poll(|r| {
        out.push(
            r.map(|m| m.data.get().to_owned())
                .unwrap_or_else(|e| format!("ERR {e}")),
        )
    });
    out
}

#[test]
fn records_arrive_in_order_and_wrap_around() {
    let name = unique("order");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    let mut expected = Vec::new();
    // Several laps of a 64 KiB ring with odd sizes, so records straddle the end.
    for round in 0..40 {
        for i in 0..50 {
            let data = format!("[{round},{i},\"{}\"]", "x".repeat((round * 7 + i) % 97));
            p.publish(&record(&data)).unwrap();
            expected.push(data);
        }
        let got = drain(&mut c);
        assert_eq!(got, std::mem::take(&mut expected));
    }
    assert_eq!(c.info().written, 2000);
}

#[test]
fn full_ring_refuses_then_recovers() {
    let name = unique("full");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    let data = "1".repeat(1000);
    let mut accepted = 0;
    loop {
        match p.publish(&record(&data)) {
            Ok(()) => accepted += 1,
            Err(RingError::Full) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(accepted, MIN_CAPACITY as usize / record_size(1000 + 20));
    assert_eq!(c.info().full, 1);
    assert_eq!(drain(&mut c).len(), accepted);
    p.publish(&record("2")).unwrap();
    assert_eq!(drain(&mut c), ["2"]);
    let too_big = "3".repeat(MIN_CAPACITY as usize / 2);
    assert!(matches!(
        p.publish(&record(&too_big)),
        Err(RingError::TooLarge { .. })
    ));
}

#[test]
fn producer_dying_after_reserving_is_skipped() {
    let name = unique("dead-producer");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("1")).unwrap();
    // A producer reserves a record, announces its length, and is killed before committing.
    let map = &c.map;
    let pos = map.tail().fetch_add(record_size(40) as u64, SeqCst);
    map.record_header(pos)
        .store(map.header_word(pos, RESERVED, 40), Release);
    p.publish(&record("2")).unwrap();
    assert_eq!(drain(&mut c), ["1"], "waits for the stalled record first");
    let started = Instant::now();
    let mut got = Vec::new();
    while got.is_empty() {
        std::thread::sleep(Duration::from_millis(50));
        got = drain(&mut c);
        assert!(started.elapsed() < Duration::from_secs(3));
    }
    assert_eq!(got, ["2"]);
    assert_eq!(c.info().dropped, 1);
}

#[test]
fn producer_dying_before_its_header_resets_the_ring() {
    let name = unique("dead-early");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    // Reserved with the CAS, killed before the first store.
    c.map.tail().fetch_add(48, SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(drain(&mut c).is_empty());
    std::thread::sleep(Duration::from_millis(1100));
    drain(&mut c);
    p.publish(&record("\"after\"")).unwrap();
    assert_eq!(drain(&mut c), ["\"after\""]);
}

#[test]
fn torn_records_fail_their_checksum() {
    let name = unique("torn");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("12345")).unwrap();
    c.map.write_at(20, b"X");
    p.publish(&record("6")).unwrap();
    let got = drain(&mut c);
    assert!(
        got[0].starts_with("ERR ") && got[0].contains("checksum"),
        "{got:?}"
    );
    assert_eq!(got[1], "6");
}

#[test]
fn dead_server_is_detected_and_a_restart_is_found() {
    let name = unique("restart");
    let c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("1")).unwrap();
    // A crash: the file stays, the state says open, the heartbeat stops.
    std::mem::forget(c);
    let started = Instant::now();
    while p.publish(&record("x")).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(3), "not detected");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(matches!(
        p.publish(&record("x")),
        Err(RingError::ServerGone(_))
    ));
    assert!(started.elapsed() <= Duration::from_millis(2600));
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    p.publish(&record("2")).unwrap();
    assert_eq!(drain(&mut c), ["2"]);
    drop(c);
    assert!(matches!(
        p.publish(&record("3")),
        Err(RingError::NotFound(_))
    ));
}

#[test]
fn stopped_server_is_seen_at_once() {
    let name = unique("stopped");
    let c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    assert!(p.reachable());
    drop(c);
    assert!(!p.reachable());
    assert!(matches!(
        p.publish(&record("1")),
        Err(RingError::NotFound(_))
    ));
}

#[test]
fn foreign_files_are_refused() {
    let name = unique("foreign");
    let path = path_of(&name).unwrap();
    let mut bytes = vec![0u8; 512 + 65536];
    bytes[..8].copy_from_slice(b"RECHORNG");
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let mut p = Producer::new(&name).unwrap();
    let err = p.publish(&record("1")).unwrap_err();
    assert!(
        matches!(
            err,
            RingError::Version {
                found: 99,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(&path, b"not a ring").unwrap();
    assert!(matches!(
        p.publish(&record("1")),
        Err(RingError::Corrupt(_))
    ));
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        Producer::new("../etc/passwd"),
        Err(RingError::InvalidName(_))
    ));
}

/// A drain that takes longer than the heartbeat timeout (slow deliveries under load) keeps the
/// heartbeat fresh: producers never see the server as gone.
#[test]
fn a_long_drain_keeps_the_heartbeat_fresh() {
    let name = unique("long-drain");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    for i in 0..12 {
        p.publish(&record(&i.to_string())).unwrap();
    }
    let watcher = {
        let name = name.clone();
        std::thread::spawn(move || {
            let mut p = Producer::new(&name).unwrap();
            let started = Instant::now();
            let mut refused = Vec::new();
            while started.elapsed() < Duration::from_millis(3000) {
                if let Err(e) = p.publish(&record("w")) {
                    refused.push(e.to_string());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            refused
        })
    };
    let mut delivered = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3200) {
        delivered += c.poll(|_| std::thread::sleep(Duration::from_millis(250)));
    }
    assert_eq!(watcher.join().unwrap(), Vec::<String>::new());
    assert!(delivered >= 12);
}
