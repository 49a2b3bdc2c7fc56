//! Ring protocol tests that need to reach inside the layout: full ring, a producer that dies
//! mid-write, torn records, version mismatch, a dead and a restarted server.

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::Ordering::{Release, SeqCst};
use std::time::Duration;

use super::layout::{COMMITTED, RESERVED, record_size};
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

/// A record committed after the consumer found the ring empty, but before its sleep began,
/// is not left waiting for the sleep to time out: the producer clears the futex word, so the
/// sleep does not start.
#[test]
fn a_commit_just_before_the_consumer_sleeps_is_not_missed() {
    let name = unique("wake");
    let c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    // What `Consumer::wait` does before sleeping: announce it, then find nothing ready.
    let waiting = c.map.waiting();
    waiting.store(1, SeqCst);
    p.publish(&record("1")).unwrap();
    assert_eq!(waiting.load(SeqCst), 0, "the producer cleared the word");
    // So the sleep on `1` returns at once instead of waiting out its timeout.
    futex::wait(waiting, 1, Duration::from_secs(3600));
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
    let clock = Clock::stopped();
    c.set_clock(clock.clone());
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("1")).unwrap();
    // A producer reserves a record, announces its length, and is killed before committing.
    let map = &c.map;
    let pos = map.tail().fetch_add(record_size(40) as u64, SeqCst);
    map.record_header(pos)
        .store(map.header_word(pos, RESERVED, 40), Release);
    p.publish(&record("2")).unwrap();
    assert_eq!(drain(&mut c), ["1"], "waits for the stalled record first");
    clock.advance(Duration::from_millis(999));
    assert!(drain(&mut c).is_empty(), "still within the stall allowance");
    clock.advance(Duration::from_millis(1));
    assert_eq!(drain(&mut c), ["2"]);
    assert_eq!((c.info().dropped, c.info().resets), (1, 0));
}

#[test]
fn producer_dying_before_its_header_resets_the_ring() {
    let name = unique("dead-early");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let clock = Clock::stopped();
    c.set_clock(clock.clone());
    let mut p = Producer::new(&name).unwrap();
    // Reserved with the CAS, killed before the first store.
    c.map.tail().fetch_add(48, SeqCst);
    assert!(drain(&mut c).is_empty());
    clock.advance(Duration::from_secs(1));
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.info().used, 0, "the reservation was dropped");
    p.publish(&record("\"after\"")).unwrap();
    assert_eq!(drain(&mut c), ["\"after\""]);
}

/// The reproduction from the issue: a tail 2^40 bytes ahead of the head. The consumer resets
/// the tail, counts it, and the ring keeps working.
#[test]
fn a_tail_far_ahead_is_reset_and_counted() {
    let name = unique("tail-ahead");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("1")).unwrap();
    assert_eq!(drain(&mut c), ["1"]);
    let tail = c.map.tail().load(SeqCst);
    for bogus in [tail + (1 << 40), tail + 13, tail.wrapping_sub(64), u64::MAX] {
        c.map.tail().store(bogus, SeqCst);
        assert!(
            matches!(p.publish(&record("x")), Err(RingError::Corrupt(_))),
            "a producer refuses a ring whose tail is {bogus:#x}"
        );
        assert!(drain(&mut c).is_empty());
        p.publish(&record("2")).unwrap();
        assert_eq!(drain(&mut c), ["2"], "after a tail of {bogus:#x}");
    }
    assert_eq!(c.info().resets, 4);
}

/// A committed header announcing 0x0FFFFFFF bytes, and one announcing more than was reserved:
/// dropped up to the tail, counted, never read past the mapping.
#[test]
fn an_impossible_record_length_is_reset_and_counted() {
    let name = unique("huge-length");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    for len in [0x0FFF_FFFF, 0xFFFF_FFFF, 200, (MIN_CAPACITY / 4) as u32] {
        let pos = c.map.tail().load(SeqCst);
        p.publish(&record("1")).unwrap();
        let word = c.map.header_word(pos, COMMITTED | RESERVED, len);
        c.map.record_header(pos).store(word, SeqCst);
        assert!(drain(&mut c).is_empty(), "length {len:#x}");
        p.publish(&record("2")).unwrap();
        assert_eq!(drain(&mut c), ["2"], "after length {len:#x}");
    }
    assert_eq!(c.info().resets, 4);
}

/// The shared `head` word is written for producers but never trusted by the consumer, so a
/// misaligned or bogus value there cannot misplace it; it is put back and counted.
#[test]
fn a_scribbled_head_word_does_not_move_the_consumer() {
    let name = unique("head-word");
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    let mut p = Producer::new(&name).unwrap();
    p.publish(&record("1")).unwrap();
    c.map.head().store(5, SeqCst);
    p.publish(&record("2")).unwrap();
    assert_eq!(drain(&mut c), ["1", "2"]);
    assert_eq!(c.map.head().load(SeqCst), c.map.tail().load(SeqCst));
    assert_eq!(c.info().resets, 1);
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
    let clock = Clock::stopped();
    let mut p = Producer::new(&name).unwrap();
    p.set_clock(clock.clone());
    p.publish(&record("1")).unwrap();
    // A crash: the file stays, the state says open, the heartbeat stops.
    std::mem::forget(c);
    clock.advance(Duration::from_millis(HEARTBEAT_TIMEOUT_MS - 500));
    p.publish(&record("x")).unwrap();
    clock.advance(Duration::from_millis(1_000));
    assert!(matches!(
        p.publish(&record("x")),
        Err(RingError::ServerGone(_))
    ));
    let mut c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    c.set_clock(clock.clone());
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
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
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
    let clock = Clock::stopped();
    c.set_clock(clock.clone());
    let mut p = Producer::new(&name).unwrap();
    for i in 0..12 {
        p.publish(&record(&i.to_string())).unwrap();
    }
    let mut watcher = Producer::new(&name).unwrap();
    watcher.set_clock(clock.clone());
    let mut unreachable = 0;
    // Each delivery takes 250 ms of the stopped clock: 3 s in all, past the 2 s timeout.
    let delivered = c.poll(|_| {
        clock.advance(Duration::from_millis(250));
        if !watcher.reachable() {
            unreachable += 1;
        }
    });
    assert_eq!(
        unreachable, 0,
        "a producer saw the server as gone mid-drain"
    );
    assert_eq!(delivered, 12);
}

/// The server refuses a mode that lets every user read or inject events.
#[test]
fn a_world_accessible_mode_is_refused() {
    for mode in [0o666, 0o604, 0o602, 0o4600] {
        let err = Consumer::create(&unique("world"), MIN_CAPACITY, mode).unwrap_err();
        assert!(
            matches!(err, RingError::InsecureMode(m) if m == mode),
            "{err}"
        );
    }
}

/// A symbolic link at the ring's path is never followed, and a world-writable ring is refused.
#[test]
fn links_and_world_writable_rings_are_refused() {
    let name = unique("planted");
    let target = std::env::temp_dir().join(format!("{name}.target"));
    std::fs::write(&target, b"").unwrap();
    let path = path_of(&name).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let mut p = Producer::new(&name).unwrap();
    let err = p.publish(&record("1")).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"",
        "nothing written through the link"
    );
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(&target).unwrap();

    let c = Consumer::create(&name, MIN_CAPACITY, 0o600).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = p.publish(&record("1")).unwrap_err();
    assert!(err.to_string().contains("every local user"), "{err}");
    drop(c);
}
