//! rust-echo's reliability suite: exact delivery through every ingress, and what happens when
//! Redis, the server, the auth endpoint, the clients or the network misbehave. Every scenario
//! prints `figure NAME VALUE` lines; a check that fails is listed at the end and makes the run
//! exit non-zero. Clients, the auth stub and process handling come from `echo-bench`.

pub mod figures;
pub mod harness;
pub mod php;
pub mod publishers;
pub mod scenario;
