//! rust-echo's engine: Laravel's real-time broadcasting server (laravel-echo-server's protocol)
//! on tokio and socketioxide, serving socket.io-client 2.x and 3.x/4.x on one port.
//!
//! # Layout
//! - [`config`]: `laravel-echo-server.json` keys and defaults, validation;
//! - [`server`]: start a server, get a [`ServerHandle`] (`publisher`, `stats`, `shutdown`);
//! - `pusher`: the Pusher Channels protocol (laravel-echo's `reverb`/`pusher` broadcasters) on
//!   `/app/{key}` and its signed HTTP API, in the same channel space;
//! - `protocol`: the Socket.IO events `subscribe`, `unsubscribe`, `client event`, disconnect;
//! - `whisper`: a client event's way to its channel's sockets, from either protocol;
//! - [`auth`]: channel authorization against the app's `/broadcasting/auth`;
//! - [`origin`]: which browser origins may open a socket;
//! - [`forwarded`]: the `X-Forwarded-For` sent to the auth endpoint, trusted proxies;
//! - `gate`: admission of handshakes (origins, `maxConnections` counted from the handshake, the
//!   descriptor reserve);
//! - [`listener`]: the accept loop, the HTTP server and its timeouts, TLS with certificate
//!   reload, slow-reader disconnects;
//! - `metrics`: the Prometheus listener;
//! - [`presence`]: presence members, de-duplicated by `user_id`;
//! - [`channel`]: which names are public, private and presence, and which events are whispers;
//! - [`message`]: the one message type every ingress produces;
//! - [`payload`]: decoding of what clients send (`subscribe`, `client event`);
//! - `engine`: state shared by all parts and the one delivery function;
//! - `runs`: consecutive broadcasts to one room, queued on its sockets as one entry;
//! - [`ingress`]: the in-process bus and the Redis subscriber;
//! - `redis_target`: where a Redis connection goes (an address, Sentinels' master, a cluster node);
//! - [`shm`]: the shared-memory ring PHP processes on this host publish through;
//! - [`api`]: the HTTP API (status, channels, users, events);
//! - [`stats`](mod@stats): counters;
//! - [`logging`]: log output to stderr, and the throttle for lines clients can repeat;
//! - `undecodable`: client packets that cannot be decoded (counted, throttled, disconnect);
//! - [`cli`]: the `rust-echo` command line;
//! - [`cluster`]: several servers on one Redis (relay, shared presence).

pub mod api;
pub mod auth;
pub mod channel;
pub mod cli;
pub mod cluster;
pub mod config;
mod engine;
pub mod error;
pub mod forwarded;
mod gate;
pub mod ingress;
pub mod listener;
pub mod logging;
pub mod message;
mod metrics;
pub mod origin;
pub mod payload;
pub mod presence;
mod protocol;
mod pusher;
mod redis_target;
mod runs;
pub mod server;
pub mod shm;
pub mod stats;
mod undecodable;
mod whisper;

pub use config::Config;
pub use error::{ConfigError, PublishError, StartError};
pub use ingress::bus::Publisher;
pub use message::Message;
pub use server::{Monitor, ServerHandle, start};

/// This build's version, as `rust-echo --version` prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
