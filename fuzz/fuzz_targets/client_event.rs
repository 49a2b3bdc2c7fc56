//! Any JSON a client can send as a `subscribe`/`unsubscribe` or `client event` payload, and any
//! auth reply body: decoding never panics, and what it accepts obeys the protocol's rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_echo_server::channel::{ChannelKind, is_client_event};
use rust_echo_server::payload;
use rust_echo_server::presence::Member;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(channel) = payload::subscription_channel(&value, 64) {
        assert!(!channel.is_empty() && channel.len() <= 64);
    }
    let _ = Member::from_auth_body(&value);
    if let Ok(w) = payload::whisper(value) {
        assert!(is_client_event(&w.event));
        assert!(ChannelKind::of(&w.channel).is_guarded());
    }
});
