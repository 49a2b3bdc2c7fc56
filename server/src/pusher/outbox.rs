//! A Pusher socket's queue of outgoing frames. Frames are shared [`Utf8Bytes`], so queueing a
//! broadcast on many sockets copies no payload. A socket whose queue is full has stopped reading:
//! it is closed rather than allowed to grow without bound.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// The sending side, held by the channels the socket is in.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Utf8Bytes>,
    hangup: Arc<Notify>,
}

/// The socket task's side.
#[derive(Debug)]
pub(crate) struct Inbox {
    pub rx: mpsc::Receiver<Utf8Bytes>,
    pub hangup: Arc<Notify>,
}

/// A queue of `capacity` frames.
pub(crate) fn outbox(capacity: usize) -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let hangup = Arc::new(Notify::new());
    (
        Outbox {
            tx,
            hangup: hangup.clone(),
        },
        Inbox { rx, hangup },
    )
}

impl Outbox {
    /// Queue `frame`; `false` when it was not queued (the socket is gone or stopped reading;
    /// the latter is then closed).
    pub(crate) fn send(&self, frame: &Utf8Bytes) -> bool {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.hangup();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Close the socket (its task ends after the frames already queued are written).
    pub(crate) fn hangup(&self) {
        self.hangup.notify_one();
    }
}
