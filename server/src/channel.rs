//! Channel-name rules, exactly as laravel-echo-server applies them.
//!
//! Its tests are unanchored regexes: a channel is *guarded* (needs authorization) when its name
//! contains `private-` or `presence-` anywhere, so Redis-prefixed names such as
//! `laravel_database_private-orders.1` are still authorized; it is a *presence* channel only when
//! the name starts with `presence-`. A whisper is any event name containing `client-`. Apps rely on
//! these quirks, so they are kept.

/// How a channel is joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Joined at once, no authorization.
    Public,
    /// Joined after the app's auth endpoint answers 200.
    Private,
    /// Private, plus member tracking and `presence:*` events.
    Presence,
}

impl ChannelKind {
    /// Classify a channel name.
    pub fn of(name: &str) -> Self {
        if name.starts_with("presence-") {
            ChannelKind::Presence
        } else if name.contains("private-") || name.contains("presence-") {
            ChannelKind::Private
        } else {
            ChannelKind::Public
        }
    }

    /// Whether joining needs the app's authorization.
    pub fn is_guarded(self) -> bool {
        self != ChannelKind::Public
    }

    /// Label used in logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Presence => "presence",
        }
    }
}

/// Whether `event` may be relayed between clients (a whisper).
pub fn is_client_event(event: &str) -> bool {
    event.contains("client-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_unanchored_rules() {
        assert_eq!(ChannelKind::of("news"), ChannelKind::Public);
        assert_eq!(ChannelKind::of("private-orders.1"), ChannelKind::Private);
        assert_eq!(
            ChannelKind::of("laravel_database_private-x"),
            ChannelKind::Private
        );
        assert_eq!(ChannelKind::of("foo-presence-bar"), ChannelKind::Private);
        assert_eq!(ChannelKind::of("presence-chat.1"), ChannelKind::Presence);
        assert_eq!(ChannelKind::of("private-encrypted-x"), ChannelKind::Private);
    }

    #[test]
    fn whispers_contain_client_dash() {
        assert!(is_client_event("client-typing"));
        assert!(is_client_event(".client-typing"));
        assert!(!is_client_event("typing"));
    }
}
