//! `POST /apps/{id}/events` and `/batch_events`: publish through [`Engine::deliver`] (the
//! default app's events reach Socket.IO clients too). `data` is a string, as Pusher's API has it;
//! when it holds JSON, Socket.IO clients get that JSON and Pusher clients the string as sent.
//! `socket_id` leaves out that socket, whichever protocol it speaks; `info` answers with the
//! channels' counts.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::PusherApiError;
use super::channels::{Others, info};
use super::signed::Signed;
use crate::engine::Engine;
use crate::message::Message;
use crate::stats::Ingress;

/// One event, as `events` takes it and each `batch` item is.
#[derive(Debug, Deserialize)]
struct Event {
    name: String,
    data: String,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    socket_id: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Batch {
    batch: Vec<Event>,
}

type Answer = Result<Json<Value>, PusherApiError>;

pub(super) async fn events(State(engine): State<Arc<Engine>>, signed: Signed) -> Answer {
    let event: Event =
        serde_json::from_slice(&signed.body).map_err(|e| PusherApiError::Invalid(e.to_string()))?;
    let channels = publish(&engine, signed.app, event.channels.clone(), &event)?;
    let Some(wanted) = event.info.as_deref() else {
        return Ok(Json(json!({})));
    };
    let space = &engine.pusher.apps[signed.app];
    let others = Others::of(&engine, space).await;
    let mut out = Map::new();
    for channel in channels {
        let i = info(&engine, space, &channel, wanted, &others).await;
        out.insert(channel, i);
    }
    Ok(Json(json!({ "channels": out })))
}

pub(super) async fn batch(State(engine): State<Arc<Engine>>, signed: Signed) -> Answer {
    let batch: Batch =
        serde_json::from_slice(&signed.body).map_err(|e| PusherApiError::Invalid(e.to_string()))?;
    let space = &engine.pusher.apps[signed.app];
    let others = Others::of(&engine, space).await;
    let mut answers = Vec::with_capacity(batch.batch.len());
    for event in &batch.batch {
        let channel = event
            .channel
            .clone()
            .ok_or_else(|| PusherApiError::Invalid("batch item without channel".to_owned()))?;
        publish(&engine, signed.app, Some(vec![channel.clone()]), event)?;
        answers.push(match &event.info {
            Some(wanted) => info(&engine, space, &channel, wanted, &others).await,
            None => json!({}),
        });
    }
    if batch.batch.iter().any(|e| e.info.is_some()) {
        Ok(Json(json!({ "batch": answers })))
    } else {
        Ok(Json(json!({ "batch": {} })))
    }
}

/// Deliver one event; the channels it went to.
fn publish(
    engine: &Engine,
    app: usize,
    channels: Option<Vec<String>>,
    event: &Event,
) -> Result<Vec<String>, PusherApiError> {
    let channels = match (channels, &event.channel) {
        (Some(list), _) if !list.is_empty() => list,
        (_, Some(one)) => vec![one.clone()],
        _ => {
            return Err(PusherApiError::Invalid(
                "channels or channel required".to_owned(),
            ));
        }
    };
    // JSON inside the string goes to Socket.IO clients as JSON; any other string as a string.
    let data = if serde_json::from_str::<&serde_json::value::RawValue>(&event.data).is_ok() {
        event.data.clone()
    } else {
        super::super::frames::json_string(&event.data)
    };
    let msg = Message::new(
        channels.clone(),
        event.name.clone(),
        &data,
        event.socket_id.clone(),
    )
    .map_err(|e| PusherApiError::Invalid(e.to_string()))?;
    engine.deliver_to(app, &msg, Ingress::Http);
    Ok(channels)
}
