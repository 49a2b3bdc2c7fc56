//! The `X-Forwarded-For` sent to the app's auth endpoint, written as a proxy writes it.
//!
//! A client may put anything in its own `X-Forwarded-For` (on the handshake, or in Echo's
//! `auth.headers`), so its value is kept only as a claim on the left and the address rust-echo
//! saw the connection come from is appended: the rightmost entry is always one rust-echo
//! vouches for, which is the entry Laravel's `TrustProxies` (trusting rust-echo) reads. When the
//! connection comes from a trusted proxy (`trustedProxies`), the chain that proxy sent is kept
//! as it is: its rightmost entry is the client address the proxy saw.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`trustedProxies`: addresses or CIDR ranges).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parse entries such as `10.0.0.7`, `10.0.0.0/8` or `fd00::/8`.
    ///
    /// # Errors
    /// An entry that is neither an address nor a CIDR range, with the entry in the message.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| {
                let e = e.trim();
                IpNet::from_str(e)
                    .or_else(|_| IpAddr::from_str(e).map(IpNet::from))
                    .map_err(|_| format!("{e:?} is not an IP address or CIDR range"))
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { nets })
    }

    /// Whether a connection from `ip` comes from a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// The forwarded chain of a connection: what its handshake's `X-Forwarded-For` said
/// (`received`, every header joined), kept as it is from a trusted proxy, otherwise followed by
/// the peer address. `None` when there is neither.
pub fn chain(
    received: Option<&str>,
    peer: Option<IpAddr>,
    trusted: &TrustedProxies,
) -> Option<String> {
    let received = received.map(str::trim).filter(|r| !r.is_empty());
    let peer = peer.map(|p| p.to_canonical());
    match (received, peer) {
        (Some(r), Some(p)) if !trusted.contains(p) => Some(format!("{r}, {p}")),
        (Some(r), _) => Some(r.to_owned()),
        (None, Some(p)) => Some(p.to_string()),
        (None, None) => None,
    }
}

/// A client's own `X-Forwarded-For` claim (from `auth.headers`) in front of the connection's
/// chain, which stays rightmost.
pub fn with_claim(claim: Option<&str>, chain: Option<&str>) -> Option<String> {
    let claim = claim.map(str::trim).filter(|c| !c.is_empty());
    match (claim, chain) {
        (Some(c), Some(ch)) => Some(format!("{c}, {ch}")),
        (Some(c), None) => Some(c.to_owned()),
        (None, Some(ch)) => Some(ch.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_peer_is_appended_unless_it_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        assert_eq!(chain(None, ip("192.0.2.1"), &none).unwrap(), "192.0.2.1");
        assert_eq!(
            chain(Some("6.6.6.6"), ip("192.0.2.1"), &none).unwrap(),
            "6.6.6.6, 192.0.2.1"
        );
        let lb = proxies(&["10.0.0.0/8", "192.0.2.9"]);
        assert_eq!(
            chain(Some("6.6.6.6, 203.0.113.5"), ip("10.1.2.3"), &lb).unwrap(),
            "6.6.6.6, 203.0.113.5"
        );
        assert_eq!(chain(None, ip("192.0.2.9"), &lb).unwrap(), "192.0.2.9");
        assert_eq!(
            chain(Some("6.6.6.6"), ip("192.0.2.8"), &lb).unwrap(),
            "6.6.6.6, 192.0.2.8"
        );
        assert_eq!(
            chain(Some("1.1.1.1"), ip("::ffff:10.0.0.1"), &lb).unwrap(),
            "1.1.1.1"
        );
        assert_eq!(chain(Some("  "), None, &none), None);
    }

    #[test]
    fn a_claim_stays_left_of_the_chain() {
        assert_eq!(
            with_claim(Some("6.6.6.6"), Some("192.0.2.1")).unwrap(),
            "6.6.6.6, 192.0.2.1"
        );
        assert_eq!(with_claim(None, Some("192.0.2.1")).unwrap(), "192.0.2.1");
    }

    #[test]
    fn entries_must_be_addresses_or_ranges() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).is_ok());
        assert_eq!(
            TrustedProxies::parse(&["proxy.local".into()]),
            Err(r#""proxy.local" is not an IP address or CIDR range"#.to_owned())
        );
    }
}
