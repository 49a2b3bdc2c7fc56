//! PATCH (rust-echo, docs/adr/0012): what a socket's packet queue holds, and a message encoded
//! once for many sockets.
//!
//! A broadcast queued the same message on every socket of a room as `Packet::Message(msg)`, and
//! each socket's writer then built a fresh `"4" + msg` string from it before framing it: one
//! allocation and one copy per socket per message. A [`SharedMessage`] is that string, built
//! once per broadcast; every socket queues a reference to the same bytes, which the websocket
//! writer frames as they are and the polling encoder reads as a plain message packet.

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

/// One entry of a socket's packet queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Packets to send together (a message and its binary attachments, a control packet).
    Packets(PacketBuf),
    /// A message packet encoded for many sockets.
    Shared(SharedMessage),
}

impl Outgoing {
    /// The packets of this entry, for transports that encode packets themselves (polling).
    pub(crate) fn into_packets(self) -> PacketBuf {
        match self {
            Outgoing::Packets(packets) => packets,
            Outgoing::Shared(msg) => smallvec![Packet::Message(msg.message())],
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
}
