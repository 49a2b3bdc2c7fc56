//! HTTP API errors, with the status codes and JSON bodies laravel-echo-server answers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why an API request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 403: unknown app id or wrong key.
    #[error("Unauthorized")]
    Unauthorized,
    /// 400: the event lacks a channel, a name or data.
    #[error("Event must include channel, event name and data")]
    IncompleteEvent,
    /// 400: the body is not a JSON object.
    #[error("Request body must be a JSON object: {0}")]
    InvalidJson(String),
    /// 400: `/users` of a channel that is not a presence channel.
    #[error("User list is only possible for Presence Channels")]
    NotPresence,
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::FORBIDDEN,
            ApiError::IncompleteEvent | ApiError::InvalidJson(_) | ApiError::NotPresence => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status_code(), Json(body)).into_response()
    }
}
