//! Which browser origins may connect to an app: Reverb's `allowed_origins`, host patterns with
//! `*` wildcards matched against the host of the `Origin` header; `*` alone allows any.

/// Whether a connection with `origin` may open.
pub(crate) fn allowed(patterns: &[String], origin: Option<&str>) -> bool {
    if patterns.iter().any(|p| p == "*") {
        return true;
    }
    let host = origin.map(host_of).unwrap_or_default();
    patterns.iter().any(|p| matches(p, host))
}

/// The host of `scheme://host[:port][/...]`.
fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

/// `*` matches any run of characters (Laravel's `Str::is`).
fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(allowed(&p(&["*"]), None));
        assert!(allowed(
            &p(&["example.com"]),
            Some("https://example.com:8443")
        ));
        assert!(allowed(
            &p(&["*.example.com"]),
            Some("http://a.example.com")
        ));
        assert!(!allowed(&p(&["*.example.com"]), Some("http://example.com")));
        assert!(!allowed(
            &p(&["example.com"]),
            Some("http://evil.com/example.com")
        ));
        assert!(!allowed(&p(&["example.com"]), None));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
    }
}
