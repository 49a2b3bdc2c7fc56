//! PATCH (rust-echo, docs/adr/0012): what a socket's packet queue holds, and a message encoded
//! once for many sockets.
//!
//! A broadcast queued the same message on every socket of a room as `Packet::Message(msg)`, and
//! each socket's writer then built a fresh `"4" + msg` string from it before framing it: one
//! allocation and one copy per socket per message. A [`SharedMessage`] is that string, built
//! once per broadcast; every socket queues a reference to the same bytes, which the websocket
//! writer frames as they are and the polling encoder reads as a plain message packet.
//!
//! PATCH (rust-echo, docs/adr/0013): a [`SharedRun`] is several such messages, in order, queued
//! on each socket as one entry. A burst of broadcasts to one room then costs each socket one
//! queue lock, one wake-up and one reference count, not one of each per message.

use std::sync::Arc;

use engineioxide_core::{Packet, PacketBuf, Str};
use smallvec::smallvec;

/// An Engine.IO message packet (`"4"` followed by the message) encoded once, to be queued on
/// any number of sockets with [`Socket::try_emit_shared`](crate::Socket::try_emit_shared).
/// Cloning it shares the bytes.
#[derive(Debug, Clone)]
pub struct SharedMessage(Str);

impl SharedMessage {
    /// Encodes `msg` as an Engine.IO message packet. The packet is the same for protocol 3 and
    /// 4, so one encoding serves every socket.
    pub fn new(msg: &str) -> Self {
        let mut packet = String::with_capacity(1 + msg.len());
        packet.push('4');
        packet.push_str(msg);
        Self(packet.into())
    }

    /// The encoded packet, `"4"` included.
    pub fn packet(&self) -> &Str {
        &self.0
    }

    /// The message without its packet type.
    fn message(&self) -> Str {
        self.0.slice(1..)
    }
}

/// Message packets encoded once each, to be queued in this order on any number of sockets as one
/// entry with [`Socket::try_emit_run`](crate::Socket::try_emit_run). Cloning it shares the
/// messages.
///
/// PATCH (rust-echo, docs/adr/0013).
#[derive(Debug, Clone)]
pub struct SharedRun(Arc<[SharedMessage]>);

impl SharedRun {
    /// The messages of the run, in the order sockets receive them.
    pub fn messages(&self) -> &[SharedMessage] {
        &self.0
    }

    /// How many messages the run holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the run holds no message.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A run of the first `n` messages of this one.
    pub(crate) fn prefix(&self, n: usize) -> SharedRun {
        SharedRun(self.0[..n.min(self.0.len())].into())
    }
}

impl From<Vec<SharedMessage>> for SharedRun {
    fn from(messages: Vec<SharedMessage>) -> Self {
        Self(messages.into())
    }
}

/// One entry of a socket's packet queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Packets to send together (a message and its binary attachments, a control packet).
    Packets(PacketBuf),
    /// A message packet encoded for many sockets.
    Shared(SharedMessage),
    /// Message packets encoded for many sockets, sent in order (PATCH, docs/adr/0013).
    Run(SharedRun),
}

impl Outgoing {
    /// The packets of this entry, for transports that encode packets themselves (polling).
    pub(crate) fn into_packets(self) -> PacketBuf {
        match self {
            Outgoing::Packets(packets) => packets,
            Outgoing::Shared(msg) => smallvec![Packet::Message(msg.message())],
            Outgoing::Run(run) => run
                .messages()
                .iter()
                .map(|msg| Packet::Message(msg.message()))
                .collect(),
        }
    }
}

/// PATCH (rust-echo, docs/adr/0013): a run counts against the queue's bound as the packets it
/// holds, so a socket that stopped reading is still cut off after `maxBufferedPackets` messages.
impl crate::queue::Weighed for Outgoing {
    fn weight(&self) -> usize {
        match self {
            Outgoing::Run(run) => run.len(),
            Outgoing::Packets(_) | Outgoing::Shared(_) => 1,
        }
    }
}

impl From<PacketBuf> for Outgoing {
    fn from(packets: PacketBuf) -> Self {
        Outgoing::Packets(packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_message_is_a_message_packet_for_every_transport() {
        let msg = SharedMessage::new(r#"2["event","é"]"#);
        assert_eq!(msg.packet().as_str(), r#"42["event","é"]"#);
        let packets = Outgoing::Shared(msg.clone()).into_packets();
        assert_eq!(packets.len(), 1);
        assert_eq!(
            String::from(packets.into_iter().next().unwrap()),
            r#"42["event","é"]"#
        );
        // Clones share the bytes of one encoding.
        assert_eq!(
            msg.packet().as_bytes().as_ptr(),
            msg.clone().packet().as_bytes().as_ptr()
        );
    }

    #[test]
    fn a_run_is_its_message_packets_in_order_and_weighs_as_many() {
        use crate::queue::Weighed;
        let run = SharedRun::from(vec![
            SharedMessage::new(r#"2["a",1]"#),
            SharedMessage::new(r#"2["b",2]"#),
        ]);
        let entry = Outgoing::Run(run.clone());
        assert_eq!(entry.weight(), 2);
        let packets: Vec<String> = entry.into_packets().into_iter().map(String::from).collect();
        assert_eq!(packets, [r#"42["a",1]"#, r#"42["b",2]"#]);
        // Clones share the messages.
        assert_eq!(run.messages().as_ptr(), run.clone().messages().as_ptr());
    }
}
