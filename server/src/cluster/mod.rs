//! Several servers on one Redis (`cluster.enabled`). Laravel's own Redis PUBLISHes already reach
//! every node; what enters one node any other way (the ring, the in-process bus, the HTTP API,
//! whispers) is delivered there as before and also relayed through a Redis Pub/Sub channel to
//! the others, which deliver it to their sockets and never relay it again.
//!
//! - [`Node`] (`node`): this node's id and names, and the hooks the engine calls;
//! - `tasks`: starting and stopping the cluster's tasks;
//! - `envelope`: the relayed message's wire form;
//! - `relay`: the bounded queue and the task that PUBLISHes it in pipelines;
//! - `subscriber`: the task that receives the other nodes' events;
//! - `presence`: presence for the whole cluster in Redis, applied by one task in order;
//! - `announce`: presence news as each protocol says it, and channel names per Pusher app;
//! - `scripts`: the Lua scripts that change it atomically; `keys`: the names they use;
//! - `resync`: making Redis hold exactly this node's members again after lost writes;
//! - `liveness`: each node's beat, and the sweep of nodes that stopped beating;
//! - `api`: the HTTP API's figures for the whole cluster;
//! - `backplane`: connections to the backplane's Redis and the retry pace;
//! - `shard`: on a Redis Cluster, the master of the slot that holds the backplane.

mod announce;
pub(crate) mod api;
mod backplane;
mod envelope;
mod keys;
mod liveness;
mod node;
mod presence;
mod relay;
mod resync;
mod scripts;
mod shard;
mod subscriber;
mod tasks;

pub(crate) use announce::{Joiner, scoped};
pub use node::Node;
pub(crate) use tasks::{Tasks, start};
