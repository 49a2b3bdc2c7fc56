//! The value types of the configuration schema. Each one says what it accepts: its JSON form and,
//! because laravel-echo-server writes `"port": "6001"` and every environment variable is a string,
//! the string form of that type, parsed by the type's own rule (a string key takes the string as
//! it is, a number key parses a number, a flag takes `true`/`false`). Range checks live here too,
//! so an invalid value is reported with its key path by `serde_path_to_error`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A string. A JSON integer is taken as written in the file (`"password": 12345`); other numbers
/// must be quoted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.to_owned())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (quote numbers that are not whole)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            // A number with a fraction or exponent, or an integer too long for 64 bits, reaches
            // us as a float whose text is no longer what was written: refuse it, never alter it.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// `true` or `false`, also as the strings `"true"` and `"false"` (any case). Other strings,
/// `"1"` and `"0"` included, are refused rather than guessed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim() {
                    t if t.eq_ignore_ascii_case("true") => Ok(Flag(true)),
                    t if t.eq_ignore_ascii_case("false") => Ok(Flag(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A whole number from `MIN` to `MAX`, as a JSON integer or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Count<const MIN: u64 = 0, const MAX: u64 = { u64::MAX }>(pub u64);

impl<const MIN: u64, const MAX: u64> Count<MIN, MAX> {
    /// The value as a `usize`, saturating on 32-bit targets.
    pub fn to_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

struct CountVisitor<const MIN: u64, const MAX: u64>;

impl<const MIN: u64, const MAX: u64> CountVisitor<MIN, MAX> {
    fn check<E: de::Error>(&self, n: u64) -> Result<Count<MIN, MAX>, E> {
        if (MIN..=MAX).contains(&n) {
            Ok(Count(n))
        } else {
            Err(E::invalid_value(de::Unexpected::Unsigned(n), self))
        }
    }
}

impl<const MIN: u64, const MAX: u64> Visitor<'_> for CountVisitor<MIN, MAX> {
    type Value = Count<MIN, MAX>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (MIN, MAX) {
            (0, u64::MAX) => f.write_str("a non-negative integer"),
            (min, u64::MAX) => write!(f, "at least {min}"),
            (0, max) => write!(f, "at most {max}"),
            (min, max) => write!(f, "{min} to {max}"),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.check(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim().parse::<u64>() {
            Ok(n) => self.check(n),
            Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor::<MIN, MAX>)
    }
}

/// A TCP port. A string is read as laravel-echo-server reads it (the digits at its end, before an
/// optional `/`, so `"http://host:6001/"` is 6001), except that a run of more than five digits is
/// refused instead of losing its leading digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number (0-65535)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                u16::try_from(v)
                    .map(Port)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                let s = v.trim();
                let s = s.strip_suffix('/').unwrap_or(s);
                let digits = &s[s.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
                (1..=5)
                    .contains(&digits.len())
                    .then(|| digits.parse().ok())
                    .flatten()
                    .map(Port)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of strings: a JSON array, or one string of comma-separated entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct List(pub Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = List;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<List, E> {
                Ok(List(
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                ))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut items = Vec::new();
                while let Some(Text(s)) = seq.next_element()? {
                    items.push(s);
                }
                Ok(List(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// Redis nodes (ioredis `sentinels`): an array of `{"host": …, "port": …}` objects or of
/// `"host:port"` strings, or one string of comma-separated `host:port` entries (the environment's
/// form). A node without a port gets 0, which the caller replaces with its service's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Nodes(pub Vec<(String, u16)>);

#[derive(Deserialize)]
#[serde(untagged, expecting = "\"host:port\" or {\"host\": …, \"port\": …}")]
enum NodeSpec {
    Addr(String),
    Object { host: Text, port: Option<Port> },
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "an array of nodes, or \"host:port,host:port\"")]
enum NodesSpec {
    Joined(String),
    Each(Vec<NodeSpec>),
}

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let addr = |a: &str| -> Result<(String, u16), D::Error> {
            match a.trim().rsplit_once(':') {
                None => Ok((a.trim().to_owned(), 0)),
                Some((host, port)) => port
                    .parse()
                    .map(|p| (host.to_owned(), p))
                    .map_err(|_| de::Error::custom(format!("invalid port in {a:?}"))),
            }
        };
        let nodes: Vec<(String, u16)> = match NodesSpec::deserialize(d)? {
            NodesSpec::Joined(s) => s
                .split(',')
                .filter(|a| !a.trim().is_empty())
                .map(addr)
                .collect::<Result<_, _>>()?,
            NodesSpec::Each(each) => each
                .into_iter()
                .map(|n| match n {
                    NodeSpec::Addr(a) => addr(&a),
                    NodeSpec::Object { host, port } => Ok((host.0, port.map_or(0, |p| p.0))),
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some((host, _)) = nodes.iter().find(|(h, _)| h.is_empty()) {
            return Err(de::Error::custom(format!(
                "a node without a host: {host:?}"
            )));
        }
        Ok(Nodes(nodes))
    }
}

/// `authHost`: one URL or an array of URLs, at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AuthHosts(pub Vec<String>);

impl<'de> Deserialize<'de> for AuthHosts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuthHosts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL or an array of URLs")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AuthHosts, E> {
                Ok(AuthHosts(vec![v.to_owned()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<AuthHosts, A::Error> {
                let mut hosts = Vec::new();
                while let Some(host) = seq.next_element::<String>()? {
                    hosts.push(host);
                }
                if hosts.is_empty() {
                    return Err(de::Error::invalid_length(0, &"at least one URL"));
                }
                Ok(AuthHosts(hosts))
            }
        }
        d.deserialize_any(V)
    }
}

/// `protocol`: `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "lowercase",
    expecting = "\"http\" or \"https\"",
    try_from = "String"
)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// TLS.
    Https,
}

impl TryFrom<String> for Scheme {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "http" => Ok(Scheme::Http),
            "https" => Ok(Scheme::Https),
            _ => Err("expected \"http\" or \"https\""),
        }
    }
}

/// A file mode in octal, written as a string (`"0660"`) so that it is not read as decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:04o}", self.0))
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FileMode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an octal file mode such as \"0660\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileMode, E> {
                u32::from_str_radix(v.trim().trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .map(FileMode)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A path for the Socket.IO endpoint: starts with `/`, is not `/` alone; a trailing `/` is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RequestPath(pub String);

impl<'de> Deserialize<'de> for RequestPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(path) = Text::deserialize(d)?;
        if !path.starts_with('/') {
            return Err(de::Error::custom("expected a path starting with /"));
        }
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(de::Error::custom("expected a path other than /"));
        }
        Ok(RequestPath(trimmed.to_owned()))
    }
}
