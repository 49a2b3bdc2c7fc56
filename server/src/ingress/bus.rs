//! The in-process publish path: a PHP extension (or any Rust caller) in the server's own process
//! hands messages over through a bounded crossbeam channel. A send never blocks and never
//! allocates beyond the message itself; a full queue is reported to the caller.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};

use super::forward::{Forwarder, Outbox};
use crate::engine::Engine;
use crate::error::PublishError;
use crate::message::Message;
use crate::shm::{Record, decode, encode};
use crate::stats::Ingress;

/// How long the drain threads stay awake after the last message before sleeping, so a steady
/// stream needs no wake-up system calls. Only when the process may use more than one CPU: pinned
/// to one, a spinning thread would take the core from the runtime that delivers.
pub(crate) fn spin() -> Duration {
    static SPIN: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *SPIN.get_or_init(|| {
        if std::thread::available_parallelism().map_or(1, usize::from) > 1 {
            Duration::from_micros(50)
        } else {
            Duration::ZERO
        }
    })
}

/// What the queue carries.
#[derive(Debug)]
enum Item {
    /// A message built by a Rust caller.
    Message(Message),
    /// A small encoded record, stored in the slot itself.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A larger encoded record (one allocation).
    Record(Box<[u8]>),
}

/// Messages the in-process queue holds before `publish` reports it full. Slots are allocated
/// up front (about 4 MiB), so publishing never allocates for a small record.
pub const CAPACITY: usize = 16_384;

/// Records up to this many bytes travel inside the queue's slot, with no heap allocation: a
/// buffer malloc'ed by the publishing thread and freed by the drain thread would make both
/// contend on the allocator's arena lock.
const INLINE: usize = 240;

/// Publishes into a running server from any thread of its process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: Sender<Item>,
}

impl Publisher {
    /// Queue `message` for delivery.
    ///
    /// # Errors
    /// [`PublishError::QueueFull`] when the server is not keeping up, [`PublishError::Stopped`]
    /// when it has stopped. The message is not delivered in either case.
    pub fn publish(&self, message: Message) -> Result<(), PublishError> {
        self.send(Item::Message(message))
    }

    /// Queue a record without building a [`Message`]: the caller pays for one allocation and a
    /// copy; parsing and validation happen on the drain thread (an invalid record is dropped
    /// and counted there, as on the shared-memory ring).
    ///
    /// # Errors
    /// As [`Publisher::publish`]; [`PublishError::TooLarge`] when a piece exceeds 4 GiB.
    pub fn publish_record(&self, record: &Record<'_>) -> Result<(), PublishError> {
        let len = record.encoded_len().ok_or(PublishError::TooLarge)?;
        if let Ok(small) = u8::try_from(len)
            && len <= INLINE
        {
            let mut bytes = [0u8; INLINE];
            let mut at = 0;
            record.write(|piece| {
                bytes[at..at + piece.len()].copy_from_slice(piece);
                at += piece.len();
            });
            return self.send(Item::Inline { len: small, bytes });
        }
        let bytes = encode(record).ok_or(PublishError::TooLarge)?;
        self.send(Item::Record(bytes))
    }

    fn send(&self, item: Item) -> Result<(), PublishError> {
        self.tx.try_send(item).map_err(|e| match e {
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
    forward: Forwarder,
    stop: Receiver<()>,
) -> std::io::Result<(Publisher, JoinHandle<()>)> {
    let (tx, rx) = crossbeam_channel::bounded(CAPACITY);
    let handle = std::thread::Builder::new()
        .name("rust-echo-bus".to_owned())
        .spawn(move || {
            let mut outbox = forward.outbox();
            let handle = |outbox: &mut Outbox, item: Item| {
                let decoded = match item {
                    Item::Message(m) => return outbox.push(m, Ingress::Memory),
                    Item::Inline { len, bytes } => decode(&bytes[..usize::from(len)]),
                    Item::Record(bytes) => decode(&bytes),
                };
                match decoded {
                    Ok(m) => outbox.push(m, Ingress::Memory),
                    Err(e) => {
                        engine
                            .stats
                            .dropped(crate::stats::DropReason::InvalidMessage);
                        tracing::warn!(error = %e, "in-process message dropped");
                    }
                }
            };
            'run: loop {
                let spin_until = Instant::now() + spin();
                loop {
                    match rx.try_recv() {
                        Ok(item) => {
                            handle(&mut outbox, item);
                            continue 'run;
                        }
                        Err(TryRecvError::Disconnected) => break 'run,
                        Err(TryRecvError::Empty) => {
                            // Nothing more right now: hand over what has come in.
                            outbox.flush();
                            if Instant::now() >= spin_until {
                                break;
                            }
                            std::thread::yield_now();
                        }
                    }
                }
                crossbeam_channel::select! {
                    recv(rx) -> item => match item {
                        Ok(item) => handle(&mut outbox, item),
                        Err(_) => break,
                    },
                    recv(stop) -> _ => {
                        for item in rx.try_iter() {
                            handle(&mut outbox, item);
                        }
                        break;
                    }
                }
            }
            outbox.flush();
        })?;
    Ok((Publisher { tx }, handle))
}
