//! Runs of broadcasts: consecutive messages to the same Socket.IO room, queued on each of its
//! sockets as one entry.
//!
//! A burst of events to one channel (a queue worker catching up, a busy feed) arrives here as
//! many messages in a row. Broadcast one at a time, each message costs every socket of the room
//! a lock on its packet queue, a wake-up of its writer and a reference count, and the loop over
//! thousands of sockets waits on a cache miss for each. Grouped, the run costs each socket that
//! once, however many messages it holds (docs/adr/0013).
//!
//! Only consecutive messages with the same room and the same excluded sender form a run, so
//! every socket still receives every message once and in the order it arrived.

use serde_json::value::RawValue;
use socketioxide::extract::SocketRef;

use crate::engine::Engine;
use crate::stats::DropReason;

/// The most messages one run holds: a socket that stopped reading is cut off at
/// `maxBufferedPackets` messages, and a run counts as the messages it holds.
const MAX_RUN: usize = 64;

/// One message's Socket.IO event: its name, then its arguments (the channel and the data).
type Event<'a> = (&'a str, (&'a str, &'a RawValue));

/// The run being collected, emitted once a message for another target comes or the batch ends.
pub(crate) struct Runs<'a> {
    engine: &'a Engine,
    /// The room of the run.
    channel: &'a str,
    /// The socket the run's messages exclude (Laravel's `toOthers`), if it is connected here.
    sender: Option<SocketRef>,
    events: Vec<Event<'a>>,
    max: usize,
}

impl<'a> Runs<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Self {
        Runs {
            engine,
            channel: "",
            sender: None,
            events: Vec::new(),
            max: MAX_RUN
                .min(engine.config.limits.max_buffered_packets)
                .max(1),
        }
    }

    /// Adds one message's event for `channel`, excluding `sender`; emits the run so far first
    /// when it had another target or is full.
    pub(crate) fn push(
        &mut self,
        channel: &'a str,
        sender: Option<&SocketRef>,
        event: &'a str,
        data: &'a RawValue,
    ) {
        let same_target =
            channel == self.channel && sender.map(|s| s.id) == self.sender.as_ref().map(|s| s.id);
        if !same_target || self.events.len() >= self.max {
            self.flush();
            self.channel = channel;
            self.sender = sender.cloned();
        }
        self.events.push((event, (channel, data)));
    }

    /// Queues the run on every socket of its room, except its sender.
    pub(crate) fn flush(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let to = match &self.sender {
            Some(s) => s.to(self.channel.to_owned()),
            None => self.engine.io.to(self.channel.to_owned()),
        };
        let sent = to.emit_run(self.events.iter().map(|(event, args)| (*event, args)));
        if let Err(e) = sent {
            for _ in &self.events {
                self.engine.stats.dropped(DropReason::ClientBufferFull);
            }
            tracing::debug!(channel = %self.channel, error = %e, "broadcast not queued for every socket");
            // A socket's buffer is full: disconnect the clients that stopped reading.
            self.engine.watchdog.reap();
        }
        self.events.clear();
    }
}

impl Drop for Runs<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}
