//! Any ring image (header and records, as another process could leave them in the mapping):
//! the consumer drains it without panicking or reading outside the mapping, and everything it
//! delivers is a valid message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_echo_server::shm::{Consumer, MIN_CAPACITY};

fuzz_target!(|image: &[u8]| {
    let Some(mut consumer) = Consumer::over_image(image, MIN_CAPACITY) else {
        return;
    };
    // Several rounds: stalls are immediate, so the second look at a reservation drops it.
    for _ in 0..4 {
        consumer.poll(|record| {
            if let Ok(m) = record {
                assert!(!m.event.is_empty());
                assert!(serde_json::from_str::<serde_json::Value>(m.data.get()).is_ok());
            }
        });
    }
    let info = consumer.info();
    assert!(info.used <= info.capacity);
});
