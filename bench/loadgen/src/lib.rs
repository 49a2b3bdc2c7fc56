//! rust-echo measured side by side with laravel-echo-server 1.6.3 and a raw WebSocket
//! broadcaster, on one machine, in one run: fan-out throughput and latency, authorized
//! subscriptions, publish throughput across channels, idle memory per connection.
//!
//! The load generator, the publisher and the auth endpoint live in one process pinned to one
//! CPU; the server under test runs pinned to the other. Every message carries a sequence number
//! and a timestamp from this process's clock, so each client checks exactly-once, in-order
//! delivery and measures latency without clock skew.

pub mod auth;
pub mod cli;
pub mod client;
pub mod fleet;
pub mod http;
pub mod laravel;
pub mod load;
pub mod procs;
pub mod publish;
pub mod report;
pub mod scenario;
pub mod servers;
pub mod sys;
pub mod ws;
