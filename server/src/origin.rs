//! Which browser origins may open a socket (`allowedOrigins`). laravel-echo-server accepted every
//! origin; with a list set, a Socket.IO handshake whose `Origin` matches no entry gets HTTP 403.
//! Requests without an `Origin` header (same-origin polling, non-browser clients) are let through:
//! the header is what browsers send and what this check is about.

/// A parsed `allowedOrigins` list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedOrigins {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `*`
    Any,
    /// `*.example.com`: any subdomain (not the bare domain), any scheme and port.
    Subdomains(String),
    /// `https://app.test:8443`: exactly this scheme, host and port.
    Exact(String),
    /// `app.test`: this host, any scheme and port.
    Host(String),
}

impl AllowedOrigins {
    /// Parse the entries; `None` when one is not an origin pattern.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let entries = entries
            .iter()
            .map(|e| {
                let e = e.trim().trim_end_matches('/').to_ascii_lowercase();
                if e == "*" {
                    Ok(Entry::Any)
                } else if let Some(domain) = e.strip_prefix("*.") {
                    Ok(Entry::Subdomains(format!(".{domain}")))
                } else if e.contains("://") {
                    Ok(Entry::Exact(e))
                } else if !e.is_empty() && !e.contains(['/', '*', ' ']) {
                    Ok(Entry::Host(e))
                } else {
                    Err(format!(
                        "{e:?} is not an origin (use https://host, host or *.domain)"
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(AllowedOrigins { entries })
    }

    /// Whether the list restricts anything.
    pub fn is_restricted(&self) -> bool {
        !self.entries.is_empty() && !self.entries.contains(&Entry::Any)
    }

    /// Whether a request with this `Origin` header value may connect.
    pub fn allows(&self, origin: &str) -> bool {
        if !self.is_restricted() {
            return true;
        }
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let host = origin
            .split_once("://")
            .map_or(origin.as_str(), |(_, rest)| rest)
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        self.entries.iter().any(|e| match e {
            Entry::Any => true,
            Entry::Subdomains(suffix) => host.ends_with(suffix.as_str()),
            Entry::Exact(o) => *o == origin,
            Entry::Host(h) => *h == host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(e: &[&str]) -> AllowedOrigins {
        AllowedOrigins::parse(&e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn patterns() {
        let l = list(&["https://app.test", "*.example.com", "admin.io"]);
        assert!(l.allows("https://app.test"));
        assert!(!l.allows("http://app.test"));
        assert!(!l.allows("https://app.test:8443"));
        assert!(l.allows("https://shop.example.com"));
        assert!(l.allows("http://a.b.example.com:8080"));
        assert!(!l.allows("https://example.com"));
        assert!(!l.allows("https://evilexample.com"));
        assert!(l.allows("http://admin.io:3000"));
        assert!(!l.allows("null"));
        assert!(list(&[]).allows("https://any.where"));
        assert!(list(&["*"]).allows("https://any.where"));
        assert!(AllowedOrigins::parse(&["https://x/path*".to_owned()]).is_ok());
        assert!(AllowedOrigins::parse(&["bad host".to_owned()]).is_err());
    }
}
