//! Any bytes on a Redis channel: decoding returns a message or an error, never panics, and a
//! decoded message's data is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_echo_server::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::from_redis("news", data) {
        assert!(!m.event.is_empty());
        assert!(serde_json::from_str::<serde_json::Value>(m.data.get()).is_ok());
    }
});
