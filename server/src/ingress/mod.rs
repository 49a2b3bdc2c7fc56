//! Where messages come from. Every ingress turns its input into a [`Message`](crate::Message)
//! and hands it to the one delivery function; none of them touches sockets.
//!
//! - [`bus`]: the in-process publish API (a bounded crossbeam channel drained by one thread);
//! - `forward`: hands what the bus and ring threads receive to a task on the runtime;
//! - [`redis`]: `PSUBSCRIBE <keyPrefix>*` in laravel-echo-server's format, reconnecting by itself;
//! - [`shm`](self::shm): the shared-memory ring of this host's PHP processes;
//! - the HTTP API's `POST /apps/:appId/events` lives with the other routes in [`crate::api`].

pub mod bus;
pub(crate) mod forward;
pub mod redis;
pub(crate) mod shm;
