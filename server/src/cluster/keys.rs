//! The names of the keys the nodes share and of the relay channel, all under the cluster's
//! namespace in braces (`{rust-echo}:presence:…`): Redis Cluster hashes only the part in braces,
//! so every name lands in one hash slot, which the scripts' multi-key updates need (see
//! `shard`). The sweep script builds the per-channel names itself from [`Keys::prefix`], so the
//! two must agree: both are defined here.

/// Key names for one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    ns: String,
}

impl Keys {
    pub(crate) fn new(namespace: &str) -> Self {
        Keys {
            ns: format!("{{{namespace}}}"),
        }
    }

    /// What every name starts with: the namespace as a hash tag.
    pub(crate) fn prefix(&self) -> &str {
        &self.ns
    }

    /// The Pub/Sub channel the nodes relay through (sharded Pub/Sub on a Redis Cluster).
    pub(crate) fn relay(&self) -> String {
        format!("{}:relay", self.ns)
    }

    /// Hash: user key → member JSON (`{"user_id":..,"user_info":..}`), one per user present on
    /// any node.
    pub(crate) fn members(&self, channel: &str) -> String {
        format!("{}:presence:{channel}", self.ns)
    }

    /// Hash: user key → how many nodes have the user in the channel.
    pub(crate) fn nodes_of_user(&self, channel: &str) -> String {
        format!("{}:presence-nodes:{channel}", self.ns)
    }

    /// Hash: `[channel, user key]` as JSON → 1, what one node added to the members, so that
    /// what a dead node added can be taken away.
    pub(crate) fn node(&self, id: &str) -> String {
        format!("{}:node:{id}", self.ns)
    }

    /// String with a TTL, refreshed while the node lives.
    pub(crate) fn alive(&self, id: &str) -> String {
        format!("{}:alive:{id}", self.ns)
    }

    /// Set of the nodes that have registered.
    pub(crate) fn nodes(&self) -> String {
        format!("{}:nodes", self.ns)
    }

    /// String, set for an hour when node `id` was swept.
    pub(crate) fn swept(&self, id: &str) -> String {
        format!("{}:swept:{id}", self.ns)
    }

    /// Hash: channel → subscriptions on node `id`, for the HTTP API.
    pub(crate) fn subscriptions(&self, id: &str) -> String {
        format!("{}:subscriptions:{id}", self.ns)
    }

    /// Hash: app id → connections on node `id` subscribed to at least one channel, for the
    /// HTTP API.
    pub(crate) fn connections(&self, id: &str) -> String {
        format!("{}:connections:{id}", self.ns)
    }
}

/// The field of a node's hash for one user in one channel.
pub(crate) fn node_field(channel: &str, user: &str) -> String {
    serde_json::to_string(&(channel, user)).unwrap_or_default()
}
