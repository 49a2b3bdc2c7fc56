//! A producer process for `tests/shm.rs`: publishes `EVENTS` records `[id, seq]` on channel
//! `stress` to the ring named by its first argument, retrying while the ring is full.
//!
//! Usage: `ring_producer RING ID EVENTS`

use rust_echo_server::shm::{Producer, Record, RingError};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ring, id, events] = args.as_slice() else {
        return Err("usage: ring_producer RING ID EVENTS".to_owned());
    };
    let events: usize = events.parse().map_err(|e| format!("EVENTS: {e}"))?;
    let mut p = Producer::new(ring).map_err(|e| e.to_string())?;
    for seq in 0..events {
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
                Err(e) => return Err(format!("producer {id}: {e}")),
            }
        }
    }
    Ok(())
}
