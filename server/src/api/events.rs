//! `POST /apps/:appId/events`: publish an event over HTTP, Pusher style. The body is read as
//! JSON whatever the Content-Type; `data` may be an object or a JSON string of one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{ApiError, ApiState, Authorized};
use crate::message::Message;
use crate::stats::Ingress;

#[derive(Deserialize)]
struct EventBody<'a> {
    #[serde(borrow, default)]
    channel: Option<&'a RawValue>,
    #[serde(borrow, default)]
    channels: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    socket_id: Option<&'a RawValue>,
}

pub(super) async fn post(
    State(state): State<ApiState>,
    _: Authorized,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !crate::message::looks_like_object(&body) {
        return Err(ApiError::InvalidJson("expected a JSON object".to_owned()));
    }
    let body: EventBody<'_> =
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let message = decode(&body)?;
    state.engine.deliver(&message, Ingress::Http);
    Ok(Json(json!({ "message": "ok" })))
}

fn decode(body: &EventBody<'_>) -> Result<Message, ApiError> {
    let string = |raw: Option<&RawValue>| {
        raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok())
            .filter(|s| !s.is_empty())
    };
    let channels = match (body.channels, body.channel) {
        (Some(list), _) if list.get() != "null" => serde_json::from_str::<Vec<String>>(list.get())
            .map_err(|_| ApiError::IncompleteEvent)?,
        (_, Some(_)) => vec![string(body.channel).ok_or(ApiError::IncompleteEvent)?],
        _ => return Err(ApiError::IncompleteEvent),
    };
    let name = string(body.name).ok_or(ApiError::IncompleteEvent)?;
    let data = body
        .data
        .filter(|d| is_truthy(d))
        .ok_or(ApiError::IncompleteEvent)?;
    // Pusher SDKs send data as a JSON string; forward the JSON inside it when it parses.
    let inner = serde_json::from_str::<String>(data.get())
        .ok()
        .filter(|s| serde_json::from_str::<&RawValue>(s).is_ok());
    let data_text = inner.as_deref().unwrap_or(data.get());
    Message::new(channels, name, data_text, string(body.socket_id))
        .map_err(|_| ApiError::IncompleteEvent)
}

/// laravel-echo-server refuses `data` that is falsy in JavaScript.
fn is_truthy(raw: &RawValue) -> bool {
    !matches!(raw.get(), "null" | "false" | "0" | "\"\"" | "0.0" | "-0")
}
