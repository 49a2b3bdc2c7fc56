//! PATCH (rust-echo, docs/adr/0013): `BroadcastOperators::emit_run` queues a run of events on
//! each selected socket, in order, as one entry.

use std::time::Duration;

use bytes::Bytes;
use engineioxide::Packet;
use socketioxide::{
    BroadcastError, SocketError, SocketIo,
    extract::{Data as Auth, SocketRef},
};

const TIMEOUT: Duration = Duration::from_millis(200);

async fn next(rx: &mut tokio::sync::mpsc::Receiver<Packet>) -> Packet {
    tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .expect("a packet should arrive")
        .expect("the socket should be open")
}

async fn next_message(rx: &mut tokio::sync::mpsc::Receiver<Packet>) -> String {
    match next(rx).await {
        Packet::Message(m) => m.to_string(),
        other => panic!("expected a message packet, got {other:?}"),
    }
}

#[tokio::test]
async fn a_run_reaches_the_room_in_order_and_no_one_else() {
    let (_svc, io) = SocketIo::new_svc();
    io.ns("/", async |s: SocketRef, Auth(room): Auth<String>| {
        s.join(room)
    });
    let (_a_tx, mut a) = io.new_dummy_sock("/", "room").await;
    let (_b_tx, mut b) = io.new_dummy_sock("/", "elsewhere").await;
    for rx in [&mut a, &mut b] {
        next_message(rx).await; // connect packet
    }

    let events = [("one", 1), ("two", 2), ("three", 3)];
    io.to("room")
        .emit_run(events.iter().map(|(e, d)| (*e, d)))
        .unwrap();

    assert_eq!(next_message(&mut a).await, r#"2["one",1]"#);
    assert_eq!(next_message(&mut a).await, r#"2["two",2]"#);
    assert_eq!(next_message(&mut a).await, r#"2["three",3]"#);
    tokio::time::timeout(TIMEOUT, b.recv())
        .await
        .expect_err("a socket outside the room should receive nothing");
}

/// Text or binary data, so that one run can carry both.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Data {
    Text(&'static str),
    Binary(Bytes),
}

#[tokio::test]
async fn a_binary_event_keeps_its_place_in_the_run() {
    let (_svc, io) = SocketIo::new_svc();
    io.ns("/", async |s: SocketRef| s.join("room"));
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;
    next_message(&mut rx).await; // connect packet

    let text = Data::Text("text");
    let binary = Data::Binary(Bytes::from_static(&[1, 2, 3]));
    io.to("room")
        .emit_run([("a", &text), ("b", &binary), ("c", &text)])
        .unwrap();

    assert_eq!(next_message(&mut rx).await, r#"2["a","text"]"#);
    let header = next_message(&mut rx).await;
    assert!(header.starts_with(r#"51-["b""#), "{header}");
    assert!(matches!(next(&mut rx).await, Packet::Binary(b) if b[..] == [1, 2, 3]));
    assert_eq!(next_message(&mut rx).await, r#"2["c","text"]"#);
}

#[tokio::test]
async fn only_the_part_of_a_run_that_fits_the_buffer_is_queued() {
    let (_svc, io) = SocketIo::builder().max_buffer_size(2).build_svc();
    io.ns("/", async |s: SocketRef| s.join("room"));
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;
    next_message(&mut rx).await; // connect packet

    let err = io
        .to("room")
        .emit_run([("a", &1), ("b", &2), ("c", &3)])
        .unwrap_err();
    assert!(
        matches!(&err, BroadcastError::Socket(errs)
            if matches!(errs[..], [SocketError::InternalChannelFull])),
        "{err:?}"
    );
    // As one message at a time would have been: the first two queued, the third dropped.
    assert_eq!(next_message(&mut rx).await, r#"2["a",1]"#);
    assert_eq!(next_message(&mut rx).await, r#"2["b",2]"#);

    io.to("room").emit_run([("d", &4)]).unwrap();
    assert_eq!(next_message(&mut rx).await, r#"2["d",4]"#);
}
