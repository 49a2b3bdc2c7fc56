//! The relay's receiving side: `SUBSCRIBE` to the cluster channel and deliver what the other
//! nodes relayed to this node's sockets, with the `cluster` ingress label, so it is never relayed
//! again. A lost connection is made again; events published meanwhile are lost (Pub/Sub keeps
//! nothing), which `/metrics` shows as reconnects. On a Redis Cluster the channel is sharded
//! (`SSUBSCRIBE` on its slot's master, see `shard`).

use std::sync::Arc;

use futures_util::StreamExt;
use redis::PushKind;
use tokio::sync::watch;

use super::announce::{self, News};
use super::backplane::{self, Retry};
use super::envelope::{Kind, Relayed};
use super::{Node, envelope};
use crate::engine::Engine;
use crate::stats::Ingress;
use crate::whisper::{ClientEvent, Sender};

/// Receive until `stop` turns true.
pub(crate) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(node) = engine.cluster.clone() else {
        return;
    };
    let mut retry = Retry::default();
    loop {
        let session = async {
            if node.redis().sharded() {
                sharded(&engine, &node, &mut retry).await
            } else {
                plain(&engine, &node, &mut retry).await
            }
        };
        let why = tokio::select! {
            why = session => why,
            _ = stop.wait_for(|s| *s) => break,
        };
        node.set_subscribed(false);
        let (wait, log) = retry.failed();
        if log {
            tracing::warn!(error = %why, addr = %node.redis().describe(), "cluster relay subscriber disconnected; reconnecting");
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    node.set_subscribed(false);
}

/// A subscription made: counted when it is a reconnect, and shown in `/health`.
fn subscribed(engine: &Engine, node: &Node, retry: &mut Retry) {
    if retry.connected() {
        engine.stats.cluster.reconnected();
    }
    node.set_subscribed(true);
}

/// `SUBSCRIBE` on a standalone Redis (or the Sentinels' master) until the connection ends; why.
async fn plain(engine: &Engine, node: &Node, retry: &mut Retry) -> String {
    let mut pubsub = match backplane::subscribed(node.redis(), node.channel()).await {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    subscribed(engine, node, retry);
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        receive(engine, node.id(), msg.get_payload_bytes());
    }
    "connection closed".to_owned()
}

/// `SSUBSCRIBE` on the Redis Cluster master of the channel's slot until the connection ends or
/// the node stops serving the slot (a failover, a resharding); why.
async fn sharded(engine: &Engine, node: &Node, retry: &mut Retry) -> String {
    let (_con, mut pushes) = match backplane::sharded_subscribed(node.redis(), node.channel()).await
    {
        Ok(p) => p,
        Err(e) => return e.to_string(),
    };
    subscribed(engine, node, retry);
    while let Some(push) = pushes.recv().await {
        match push.kind {
            PushKind::SMessage => match push.data.get(1) {
                Some(redis::Value::BulkString(payload)) => receive(engine, node.id(), payload),
                _ => engine.stats.cluster.dropped(1),
            },
            PushKind::SUnsubscribe => {
                return "the node stopped serving the relay's slot".to_owned();
            }
            PushKind::Disconnection => break,
            _ => {}
        }
    }
    "connection closed".to_owned()
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
                Kind::ClientEvent => return client_event(engine, app, &relayed),
                Kind::Terminate => {
                    if let Some(user) = envelope::user_of(&msg.data) {
                        crate::pusher::terminate_user(engine, app, &user);
                    }
                    return;
                }
                Kind::Joining => News::Joining,
                Kind::Leaving => News::Leaving,
            };
            for channel in &msg.channels {
                announce::render(engine, (app, channel), news, &msg.data, None, relayed.at);
            }
        }
        Ok(None) => {}
        Err(e) => {
            engine.stats.cluster.dropped(1);
            tracing::debug!(error = %e, "cluster envelope skipped");
        }
    }
}

/// A client event another node relayed, for this node's sockets of its channel.
fn client_event(engine: &Engine, app: usize, relayed: &Relayed) {
    let msg = &relayed.msg;
    for channel in &msg.channels {
        let event = ClientEvent {
            app,
            channel,
            event: &msg.event,
            data: &msg.data,
            user_id: relayed.user_id.as_deref(),
        };
        event.deliver(engine, Sender::Node);
    }
}
