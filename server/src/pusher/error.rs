//! `pusher:error` codes and messages, as Reverb sends them.

use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Why a Pusher client is told `pusher:error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PusherError {
    /// 4001: no app has the key in `/app/{key}`; the connection is closed.
    #[error("Application does not exist")]
    UnknownApp,
    /// 4004: the app holds `capacity` connections; the connection is closed.
    #[error("Application is over connection quota")]
    OverQuota,
    /// 4009: the browser origin is not in the app's `allowed_origins`; the connection is closed.
    #[error("Origin not allowed")]
    Origin,
    /// 4009: a private or presence subscription's signature does not match.
    #[error("Connection is unauthorized")]
    Unauthorized,
    /// 4009: a client event for a channel the sender has not joined (`members`).
    #[error("The client is not a member of the specified channel.")]
    NotMember,
    /// 4200: the message is not JSON, lacks a field, or names an unknown `pusher:` event.
    #[error("Invalid message format")]
    InvalidFormat,
    /// 4201: a ping went unanswered for a whole `ping_interval`; the connection is closed.
    #[error("Pong reply not received in time")]
    PongTimeout,
    /// 4301: client events are off for the app (`accept_client_events_from: none`).
    #[error("The app does not have client messaging enabled.")]
    ClientEventsDisabled,
    /// 4301: the client sends client events faster than the rate limit.
    #[error("Rate limit exceeded")]
    RateLimited,
}

impl PusherError {
    /// The Pusher error code.
    pub(crate) fn code(self) -> u16 {
        match self {
            PusherError::UnknownApp => 4001,
            PusherError::OverQuota => 4004,
            PusherError::Origin | PusherError::Unauthorized | PusherError::NotMember => 4009,
            PusherError::InvalidFormat => 4200,
            PusherError::PongTimeout => 4201,
            PusherError::ClientEventsDisabled | PusherError::RateLimited => 4301,
        }
    }

    /// The `pusher:error` frame: `{"event":"pusher:error","data":"{\"code\":..,\"message\":..}"}`.
    pub(crate) fn frame(self) -> Utf8Bytes {
        let data = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        super::frames::with_data("pusher:error", &data.to_string(), None)
    }
}
