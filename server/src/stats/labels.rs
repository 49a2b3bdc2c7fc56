//! The label values of the server's metrics: where a message came in, why something was dropped,
//! and the label sets that carry them.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

use crate::channel::ChannelKind;

/// Where a message entered the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ingress {
    /// The in-process publish API (the PHP extension in the same process).
    Memory,
    /// The shared-memory ring (PHP processes on this host).
    Shm,
    /// Redis Pub/Sub.
    Redis,
    /// `POST /apps/:appId/events`.
    Http,
    /// Another node of the cluster, through the Redis relay.
    Cluster,
}

/// Why something was dropped or refused; the `reason` label of `rust_echo_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A published message that is not valid (bad JSON, no event, bad channel).
    InvalidMessage,
    /// A broadcast could not be queued for a socket whose buffer is full.
    ClientBufferFull,
    /// A connection that stopped reading was disconnected.
    SlowReader,
    /// A client event over the per-socket rate limit.
    ClientEventRate,
    /// A subscription that waited too long for an authorization slot.
    AuthQueue,
    /// A connection refused at `maxConnections`.
    ConnectionLimit,
    /// A subscribe refused at `maxChannelsPerSocket`.
    ChannelLimit,
    /// A handshake refused because the process is close to its file descriptor limit.
    DescriptorReserve,
    /// A client packet whose payload could not be decoded.
    UndecodablePacket,
}

impl Ingress {
    /// Every ingress, in the order of its discriminant.
    pub(super) const ALL: [Ingress; 5] = [
        Ingress::Memory,
        Ingress::Shm,
        Ingress::Redis,
        Ingress::Http,
        Ingress::Cluster,
    ];

    /// Whether a message that came in this way is relayed to the other nodes of a cluster: not
    /// Laravel's Redis PUBLISHes (every node reads those) nor what another node relayed.
    pub fn relayed(self) -> bool {
        matches!(self, Ingress::Memory | Ingress::Shm | Ingress::Http)
    }

    /// The `ingress` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Ingress::Memory => "memory",
            Ingress::Shm => "shm",
            Ingress::Redis => "redis",
            Ingress::Http => "http",
            Ingress::Cluster => "cluster",
        }
    }
}

impl DropReason {
    /// The `reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::InvalidMessage => "invalid_message",
            DropReason::ClientBufferFull => "client_buffer_full",
            DropReason::SlowReader => "slow_reader",
            DropReason::ClientEventRate => "client_event_rate",
            DropReason::AuthQueue => "auth_queue",
            DropReason::ConnectionLimit => "connection_limit",
            DropReason::ChannelLimit => "channel_limit",
            DropReason::DescriptorReserve => "descriptor_reserve",
            DropReason::UndecodablePacket => "undecodable_packet",
        }
    }

    pub(super) const ALL: [DropReason; 9] = [
        DropReason::InvalidMessage,
        DropReason::ClientBufferFull,
        DropReason::SlowReader,
        DropReason::ClientEventRate,
        DropReason::AuthQueue,
        DropReason::ConnectionLimit,
        DropReason::ChannelLimit,
        DropReason::DescriptorReserve,
        DropReason::UndecodablePacket,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct IngressLabel {
    pub ingress: Ingress,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct ReasonLabel {
    pub reason: DropReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct KindLabel {
    pub kind: ChannelKind,
}

/// Label values are lower snake case, as Prometheus users expect.
macro_rules! label_value {
    ($($ty:ty => $name:ident),*) => {$(
        impl EncodeLabelValue for $ty {
            fn encode(&self, e: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
                std::fmt::Write::write_str(e, self.$name())
            }
        }
    )*};
}
label_value!(Ingress => as_str, DropReason => as_str, ChannelKind => label);

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct StatusLabel {
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct DisconnectLabel {
    pub reason: &'static str,
}
