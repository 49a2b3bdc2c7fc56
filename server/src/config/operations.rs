//! The keys an operator tunes beyond laravel-echo-server's: limits, the metrics listener, and the
//! TLS files laravel-echo-server reads (`sslCertPath` and friends), checked for completeness.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::reader::Reader;
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
            if let Some(v) = super::reader::non_null(m.get("port")) {
                c.metrics.port = self.port(v, "metrics.port")?;
            }
        }
        self.tls(root, c)
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
