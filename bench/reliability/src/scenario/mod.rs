//! The scenarios, run one after another, each against a server of its own.

pub mod auth;
pub mod churn;
pub mod garbage;
pub mod ingress;
pub mod redis_outage;
pub mod server_kill;
pub mod slow_reader;
