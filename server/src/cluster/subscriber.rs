//! The relay's receiving side: `SUBSCRIBE` to the cluster channel and deliver what the other
//! nodes relayed to this node's sockets, with the `cluster` ingress label, so it is never relayed
//! again. A lost connection is made again; events published meanwhile are lost (Pub/Sub keeps
//! nothing), which `/metrics` shows as reconnects.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::announce::{self, News};
use super::backplane::{self, Retry};
use super::envelope;
use super::envelope::Kind;
use crate::engine::Engine;
use crate::stats::Ingress;

/// Receive until `stop` turns true.
pub(crate) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(node) = engine.cluster.clone() else {
        return;
    };
    let mut retry = Retry::default();
    loop {
        let session = async {
            let mut pubsub = match backplane::subscribed(node.redis(), node.channel()).await {
                Ok(p) => p,
                Err(e) => return e.to_string(),
            };
            if retry.connected() {
                engine.stats.cluster.reconnected();
            }
            node.set_subscribed(true);
            let mut messages = pubsub.on_message();
            while let Some(msg) = messages.next().await {
                receive(&engine, node.id(), msg.get_payload_bytes());
            }
            "connection closed".to_owned()
        };
        let why = tokio::select! {
            why = session => why,
            _ = stop.wait_for(|s| *s) => break,
        };
        node.set_subscribed(false);
        let (wait, log) = retry.failed();
        if log {
            tracing::warn!(error = %why, "cluster relay subscriber disconnected; reconnecting");
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    node.set_subscribed(false);
}

fn receive(engine: &Engine, own: &str, payload: &[u8]) {
    match envelope::decode(own, payload) {
        Ok(Some(relayed)) => {
            engine.stats.cluster.received();
            let Some(app) = engine.pusher.index_of(relayed.app.as_deref()) else {
                engine.stats.cluster.dropped(1);
                tracing::debug!(app = ?relayed.app, "cluster envelope for an app this node does not have");
                return;
            };
            let msg = &relayed.msg;
            let news = match relayed.kind {
                Kind::Event => return engine.deliver_to(app, msg, Ingress::Cluster),
                Kind::Joining => News::Joining,
                Kind::Leaving => News::Leaving,
            };
            for channel in &msg.channels {
                announce::render(engine, app, channel, news, &msg.data, None);
            }
        }
        Ok(None) => {}
        Err(e) => {
            engine.stats.cluster.dropped(1);
            tracing::debug!(error = %e, "cluster envelope skipped");
        }
    }
}
