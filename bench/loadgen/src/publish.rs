//! The publishing side, in the load generator's process so that the timestamp in each message
//! and the clients' receive time come from one clock. Three ingresses: Redis `PUBLISH` (the
//! path laravel-echo-server reads, pipelined), rust-echo's shared-memory ring, and rust-echo's
//! in-process queue (the server embedded in this process).

use std::fmt::Write as _;

use rust_echo_server::shm::{Producer, Record, RingError};
use rust_echo_server::{PublishError, Publisher};

use crate::client::now_ns;

/// The event name every benchmark message carries.
pub const EVENT: &str = "App\\Events\\Bench";

/// Where messages enter the server under test.
pub enum Ingress {
    /// Redis `PUBLISH` of Laravel's `RedisBroadcaster` payload.
    Redis(redis::aio::MultiplexedConnection),
    /// The shared-memory ring of a rust-echo server on this host.
    Shm(Producer),
    /// The in-process queue of a rust-echo server embedded here.
    Memory(Publisher),
}

impl Ingress {
    /// Connect to Redis on `port`.
    pub async fn redis(port: u16) -> Result<Ingress, String> {
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(|e| e.to_string())?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("cannot connect to redis on {port}: {e}"))?;
        Ok(Ingress::Redis(conn))
    }

    /// The label in tables.
    pub fn label(&self) -> &'static str {
        match self {
            Ingress::Redis(_) => "redis",
            Ingress::Shm(_) => "shm",
            Ingress::Memory(_) => "in-process",
        }
    }
}

/// Channels being published on, with the next sequence number of each.
pub struct Outbox {
    ingress: Ingress,
    channels: Vec<String>,
    seq: Vec<u64>,
    /// Measured (non-warm-up) messages published.
    pub published: u64,
}

impl Outbox {
    pub fn new(ingress: Ingress, channels: Vec<String>) -> Outbox {
        let seq = vec![0; channels.len()];
        Outbox {
            ingress,
            channels,
            seq,
            published: 0,
        }
    }

    pub fn label(&self) -> &'static str {
        self.ingress.label()
    }

    /// Publish through another ingress of the same server from now on; the channels' sequence
    /// numbers carry on, so clients keep checking one sequence.
    pub fn set_ingress(&mut self, ingress: Ingress) {
        self.ingress = ingress;
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Publish one message on each channel index in `which`, in order. Warm-up messages only
    /// tell clients where a channel's sequence stands.
    pub async fn publish(&mut self, which: &[usize], warmup: bool) -> Result<(), String> {
        let mut items = Vec::with_capacity(which.len());
        for &c in which {
            let s = self.seq[c];
            self.seq[c] += 1;
            let mut data = String::with_capacity(64);
            let _ = write!(
                data,
                r#"{{"c":{c},"s":{s},"t":{},"w":{}}}"#,
                now_ns(),
                u8::from(warmup)
            );
            items.push((c, data));
        }
        if !warmup {
            self.published += which.len() as u64;
        }
        match &mut self.ingress {
            Ingress::Redis(conn) => {
                let mut pipe = redis::pipe();
                for (c, data) in &items {
                    let payload =
                        format!(r#"{{"event":"App\\Events\\Bench","data":{data},"socket":null}}"#);
                    pipe.cmd("PUBLISH")
                        .arg(&self.channels[*c])
                        .arg(payload)
                        .ignore();
                }
                pipe.query_async::<()>(conn)
                    .await
                    .map_err(|e| format!("redis PUBLISH failed: {e}"))
            }
            Ingress::Shm(producer) => {
                for (c, data) in &items {
                    let channels = [self.channels[*c].as_str()];
                    let record = record(&channels, data);
                    loop {
                        match producer.publish(&record) {
                            Ok(()) => break,
                            // The server drains the ring on its own thread: let it.
                            Err(RingError::Full) => tokio::task::yield_now().await,
                            Err(e) => return Err(format!("ring publish failed: {e}")),
                        }
                    }
                }
                Ok(())
            }
            Ingress::Memory(publisher) => {
                for (c, data) in &items {
                    let channels = [self.channels[*c].as_str()];
                    let record = record(&channels, data);
                    loop {
                        match publisher.publish_record(&record) {
                            Ok(()) => break,
                            Err(PublishError::QueueFull) => tokio::task::yield_now().await,
                            Err(e) => return Err(format!("in-process publish failed: {e}")),
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

fn record<'a>(channels: &'a [&'a str], data: &'a str) -> Record<'a> {
    Record {
        channels,
        event: EVENT,
        data,
        socket: None,
    }
}
