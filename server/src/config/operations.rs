//! The keys an operator tunes beyond laravel-echo-server's: limits, allowed origins, the metrics
//! listener, the shared-memory ring, and the TLS files laravel-echo-server reads (`sslCertPath`
//! and friends), checked for completeness.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::reader::{Reader, non_null};
use super::{Config, Protocol, TlsFiles};
use crate::error::ConfigError;

impl Reader<'_> {
    pub(super) fn operations(
        &self,
        root: &Map<String, Value>,
        c: &mut Config,
    ) -> Result<(), ConfigError> {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let l = &mut c.limits;
        if let Some(n) = self.uint(root, "maxChannelsPerSocket", "maxChannelsPerSocket")? {
            l.max_channels_per_socket = count(n);
        }
        if let Some(n) = self.uint(root, "maxChannelNameLength", "maxChannelNameLength")? {
            l.max_channel_name_length = count(n);
        }
        if let Some(n) = self.uint(root, "maxBufferedPackets", "maxBufferedPackets")? {
            if n == 0 {
                return Err(self.invalid("maxBufferedPackets", "expected at least 1"));
            }
            l.max_buffered_packets = count(n);
        }
        if let Some(n) = self.uint(root, "maxConnections", "maxConnections")? {
            l.max_connections = count(n);
        }
        if let Some(n) = self.uint(root, "maxConcurrentAuth", "maxConcurrentAuth")? {
            if n == 0 {
                return Err(self.invalid("maxConcurrentAuth", "expected at least 1"));
            }
            l.max_concurrent_auth = count(n);
        }
        if let Some(n) = self.uint(root, "clientEventsPerSecond", "clientEventsPerSecond")? {
            l.client_events_per_second = u32::try_from(n).map_err(|_| {
                self.invalid("clientEventsPerSecond", "expected at most 4294967295")
            })?;
        }
        if let Some(n) = self.uint(root, "clientEventBurst", "clientEventBurst")? {
            l.client_event_burst = u32::try_from(n)
                .map_err(|_| self.invalid("clientEventBurst", "expected at most 4294967295"))?;
        }
        if let Some(m) = self.object(root, "metrics", "metrics")? {
            if let Some(v) = self.boolish(m, "enabled", "metrics.enabled")? {
                c.metrics.enabled = v;
            }
            if let Some(h) = self.string(m, "host", "metrics.host")? {
                if h.is_empty() {
                    return Err(
                        self.invalid("metrics.host", "expected an address such as 127.0.0.1")
                    );
                }
                c.metrics.host = h;
            }
            if let Some(v) = non_null(m.get("port")) {
                c.metrics.port = self.port(v, "metrics.port")?;
            }
        }
        self.origins(root, c)?;
        self.proxies(root, c)?;
        self.tls(root, c)
    }

    fn origins(&self, root: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        if let Some(origins) = non_null(root.get("allowedOrigins")) {
            let list: Vec<String> = match origins {
                Value::String(s) => s
                    .split(',')
                    .map(str::to_owned)
                    .filter(|s| !s.trim().is_empty())
                    .collect(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        self.invalid("allowedOrigins", "expected an array of origins")
                    })?,
                _ => return Err(self.invalid("allowedOrigins", "expected an array of origins")),
            };
            c.allowed_origins = crate::origin::AllowedOrigins::parse(&list)
                .map_err(|reason| self.invalid("allowedOrigins", &reason))?;
        }
        Ok(())
    }

    fn proxies(&self, root: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        let Some(list) = non_null(root.get("trustedProxies")) else {
            return Ok(());
        };
        let invalid = || {
            self.invalid(
                "trustedProxies",
                "expected an array of IP addresses or CIDR ranges",
            )
        };
        let entries: Vec<String> = match list {
            Value::String(s) => s
                .split(',')
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty())
                .collect(),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        c.trusted_proxies = crate::forwarded::TrustedProxies::parse(&entries)
            .map_err(|reason| self.invalid("trustedProxies", &reason))?;
        Ok(())
    }

    pub(super) fn shm(&self, shm: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        if let Some(v) = self.boolish(shm, "enabled", "shm.enabled")? {
            c.shm.enabled = v;
        }
        if let Some(name) = self
            .string(shm, "name", "shm.name")?
            .filter(|n| !n.is_empty())
        {
            crate::shm::Producer::new(&name)
                .map_err(|_| self.invalid("shm.name", "use letters, digits, '.', '_' and '-'"))?;
            c.shm.name = Some(name);
        }
        if let Some(size) = self.uint(shm, "size", "shm.size")? {
            if !(crate::shm::MIN_CAPACITY..=1 << 32).contains(&size) {
                return Err(self.invalid("shm.size", "expected 65536 to 4294967296 bytes"));
            }
            c.shm.size = size;
        }
        match non_null(shm.get("mode")) {
            None => {}
            Some(Value::String(s)) => {
                c.shm.mode = u32::from_str_radix(s.trim_start_matches("0o"), 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| {
                        self.invalid("shm.mode", "expected an octal file mode such as \"0660\"")
                    })?;
            }
            Some(_) => {
                return Err(
                    self.invalid("shm.mode", "expected an octal file mode such as \"0660\"")
                );
            }
        }
        Ok(())
    }

    fn tls(&self, root: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        let path = |name: &str| -> Result<Option<PathBuf>, ConfigError> {
            Ok(self
                .string(root, name, name)?
                .filter(|p| !p.is_empty())
                .map(PathBuf::from))
        };
        let cert = path("sslCertPath")?;
        let key = path("sslKeyPath")?;
        let chain = path("sslCertChainPath")?;
        let passphrase = self
            .string(root, "sslPassphrase", "sslPassphrase")?
            .filter(|p| !p.is_empty());
        if c.protocol != Protocol::Https {
            return Ok(());
        }
        let required = "required when protocol is \"https\"";
        c.tls = Some(TlsFiles {
            cert: cert.ok_or_else(|| self.invalid("sslCertPath", required))?,
            key: key.ok_or_else(|| self.invalid("sslKeyPath", required))?,
            chain,
            passphrase,
        });
        Ok(())
    }
}
