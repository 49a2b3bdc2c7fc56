//! The in-process publish path: a PHP extension (or any Rust caller) in the server's own process
//! hands messages over through a bounded crossbeam channel. A send never blocks and never
//! allocates beyond the message itself; a full queue is reported to the caller.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::engine::Engine;
use crate::error::PublishError;
use crate::message::Message;
use crate::stats::Ingress;

/// Messages the in-process queue holds before `publish` reports it full.
pub const CAPACITY: usize = 65_536;

/// Publishes into a running server from any thread of its process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: Sender<Message>,
}

impl Publisher {
    /// Queue `message` for delivery.
    ///
    /// # Errors
    /// [`PublishError::QueueFull`] when the server is not keeping up, [`PublishError::Stopped`]
    /// when it has stopped. The message is not delivered in either case.
    pub fn publish(&self, message: Message) -> Result<(), PublishError> {
        self.tx.try_send(message).map_err(|e| match e {
            TrySendError::Full(_) => PublishError::QueueFull,
            TrySendError::Disconnected(_) => PublishError::Stopped,
        })
    }

    /// Messages waiting for delivery.
    pub fn queued(&self) -> usize {
        self.tx.len()
    }
}

/// Start the thread that drains the queue; it delivers what is queued and exits once `stop`
/// fires (or is dropped).
pub(crate) fn spawn(
    engine: Arc<Engine>,
    runtime: tokio::runtime::Handle,
    stop: Receiver<()>,
) -> std::io::Result<(Publisher, JoinHandle<()>)> {
    let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
    let handle = std::thread::Builder::new()
        .name("rust-echo-bus".to_owned())
        .spawn(move || {
            // Emits may touch tokio primitives of the socket writers.
            let _rt = runtime.enter();
            loop {
                crossbeam_channel::select! {
                    recv(rx) -> msg => match msg {
                        Ok(m) => engine.deliver(&m, Ingress::Memory),
                        Err(_) => break,
                    },
                    recv(stop) -> _ => {
                        for m in rx.try_iter() {
                            engine.deliver(&m, Ingress::Memory);
                        }
                        break;
                    }
                }
            }
        })?;
    Ok((Publisher { tx }, handle))
}
