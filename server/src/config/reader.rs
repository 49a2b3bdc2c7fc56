//! Turns a JSON object with laravel-echo-server's keys into a [`Config`], naming the key and the
//! source of every invalid value and collecting warnings for keys it does not use.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{ApiClient, Config, Protocol};
use crate::error::ConfigError;

/// Top-level keys this server reads.
const KNOWN_KEYS: &[&str] = &[
    "authHost",
    "authEndpoint",
    "authTimeout",
    "clients",
    "database",
    "databaseConfig",
    "devMode",
    "host",
    "port",
    "protocol",
    "socketio",
    "secureOptions",
    "sslCertPath",
    "sslKeyPath",
    "sslCertChainPath",
    "sslPassphrase",
    "subscribers",
    "apiOriginAllow",
    "headers",
    "maxChannelsPerSocket",
    "maxChannelNameLength",
    "maxBufferedPackets",
    "maxConnections",
    "maxConcurrentAuth",
    "clientEventsPerSecond",
    "clientEventBurst",
    "metrics",
    "allowedOrigins",
    "trustedProxies",
    "shutdownGracePeriod",
    "shm",
];

/// Keys of laravel-echo-server ≤ 1.1 that it ignored too.
const LEGACY_KEYS: &[&str] = &["appKey", "referrers", "verifyAuthPath", "verifyAuthServer"];

/// `socketio` options that have a meaning here.
const SOCKETIO_KEYS: &[&str] = &[
    "path",
    "pingInterval",
    "pingTimeout",
    "upgradeTimeout",
    "maxHttpBufferSize",
    "transports",
];

pub(super) struct Reader<'a> {
    pub(super) root: &'a Map<String, Value>,
    source: String,
    warnings: Vec<String>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(value: &'a Value, source: &str) -> Result<Self, ConfigError> {
        let root = value.as_object().ok_or_else(|| ConfigError::NotAnObject {
            source_name: source.to_owned(),
        })?;
        Ok(Reader {
            root,
            source: source.to_owned(),
            warnings: Vec::new(),
        })
    }

    pub(super) fn into_warnings(self) -> Vec<String> {
        self.warnings
    }

    pub(super) fn config(&mut self) -> Result<Config, ConfigError> {
        for key in self.root.keys() {
            if LEGACY_KEYS.contains(&key.as_str()) {
                self.warnings
                    .push(format!("`{key}` is a legacy key and is ignored"));
            } else if !KNOWN_KEYS.contains(&key.as_str()) {
                self.warnings
                    .push(format!("unknown key `{key}` is ignored"));
            }
        }
        let mut c = Config::default();
        let root = self.root;

        if let Some(v) = non_null(root.get("authHost")) {
            c.auth_host = self.auth_hosts(v)?;
        }
        if let Some(v) = self.string(root, "authEndpoint", "authEndpoint")? {
            c.auth_endpoint = v;
        }
        if let Some(ms) = self.uint(root, "authTimeout", "authTimeout")? {
            c.auth_timeout = Duration::from_millis(ms);
        }
        if let Some(v) = non_null(root.get("clients")) {
            c.clients = self.clients(v)?;
        }
        if let Some(v) = self.string(root, "database", "database")?
            && v != "redis"
            && v != "sqlite"
        {
            return Err(self.invalid("database", "expected \"redis\" or \"sqlite\""));
        }
        if let Some(db) = self.object(root, "databaseConfig", "databaseConfig")?
            && let Some(redis) = self.object(db, "redis", "databaseConfig.redis")?
        {
            self.redis(redis, &mut c)?;
        }
        if let Some(v) = self.boolish(root, "devMode", "devMode")? {
            c.dev_mode = v;
        }
        c.host = self.string(root, "host", "host")?.filter(|h| !h.is_empty());
        if let Some(v) = non_null(root.get("port")) {
            c.port = self.port(v, "port")?;
        }
        if let Some(v) = self.string(root, "protocol", "protocol")? {
            c.protocol = match v.as_str() {
                "http" => Protocol::Http,
                "https" => Protocol::Https,
                _ => return Err(self.invalid("protocol", "expected \"http\" or \"https\"")),
            };
        }
        if let Some(sio) = self.object(root, "socketio", "socketio")? {
            self.socketio(sio, &mut c)?;
        }
        if let Some(subs) = self.object(root, "subscribers", "subscribers")? {
            if let Some(v) = self.boolish(subs, "http", "subscribers.http")? {
                c.subscribers.http = v;
            }
            if let Some(v) = self.boolish(subs, "redis", "subscribers.redis")? {
                c.subscribers.redis = v;
            }
        }
        if let Some(cors) = self.object(root, "apiOriginAllow", "apiOriginAllow")? {
            let a = &mut c.api_origin_allow;
            a.allow_cors = self
                .boolish(cors, "allowCors", "apiOriginAllow.allowCors")?
                .unwrap_or(false);
            a.allow_origin = self
                .string(cors, "allowOrigin", "apiOriginAllow.allowOrigin")?
                .unwrap_or_default();
            a.allow_methods = self
                .string(cors, "allowMethods", "apiOriginAllow.allowMethods")?
                .unwrap_or_default();
            a.allow_headers = self
                .string(cors, "allowHeaders", "apiOriginAllow.allowHeaders")?
                .unwrap_or_default();
        }
        if let Some(headers) = self.object(root, "headers", "headers")? {
            for name in headers.keys() {
                let key = format!("headers.{name}");
                let v = self
                    .string(headers, name, &key)?
                    .ok_or_else(|| self.invalid(&key, "expected a string"))?;
                c.headers.push((name.clone(), v));
            }
        }
        self.operations(root, &mut c)?;
        if let Some(ms) = self.uint(root, "shutdownGracePeriod", "shutdownGracePeriod")? {
            c.shutdown_grace = Duration::from_millis(ms);
        }
        if let Some(shm) = self.object(root, "shm", "shm")? {
            self.shm(shm, &mut c)?;
        }
        Ok(c)
    }

    fn auth_hosts(&self, v: &Value) -> Result<Vec<String>, ConfigError> {
        let hosts = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.invalid("authHost", "expected strings in the array"))?,
            _ => return Err(self.invalid("authHost", "expected a URL or an array of URLs")),
        };
        if hosts.is_empty() {
            return Err(self.invalid("authHost", "expected at least one URL"));
        }
        Ok(hosts)
    }

    fn clients(&self, v: &Value) -> Result<Vec<ApiClient>, ConfigError> {
        let items = v
            .as_array()
            .ok_or_else(|| self.invalid("clients", "expected an array"))?;
        let mut clients = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let obj = item
                .as_object()
                .ok_or_else(|| self.invalid(&format!("clients[{i}]"), "expected an object"))?;
            let field = |name: &str| {
                let key = format!("clients[{i}].{name}");
                self.string(obj, name, &key)?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| self.invalid(&key, "expected a non-empty string"))
            };
            clients.push(ApiClient {
                app_id: field("appId")?,
                key: field("key")?,
            });
        }
        Ok(clients)
    }

    fn redis(&mut self, redis: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        let r = &mut c.redis;
        if let Some(v) = self.string(redis, "host", "databaseConfig.redis.host")? {
            r.host = v;
        }
        if let Some(v) = non_null(redis.get("port")) {
            r.port = self.port(v, "databaseConfig.redis.port")?;
        }
        r.path = self.string(redis, "path", "databaseConfig.redis.path")?;
        r.username = self.string(redis, "username", "databaseConfig.redis.username")?;
        r.password = self
            .string(redis, "password", "databaseConfig.redis.password")?
            .filter(|p| !p.is_empty());
        if let Some(v) = self.uint(redis, "db", "databaseConfig.redis.db")? {
            r.db = i64::try_from(v)
                .map_err(|_| self.invalid("databaseConfig.redis.db", "too large"))?;
        }
        if let Some(v) = self.string(redis, "keyPrefix", "databaseConfig.redis.keyPrefix")? {
            r.key_prefix = v;
        }
        for key in ["sentinels", "cluster", "tls"] {
            if redis.contains_key(key) {
                self.warnings.push(format!(
                    "`databaseConfig.redis.{key}` is not supported; connecting to {}:{}",
                    r.host, r.port
                ));
            }
        }
        Ok(())
    }

    fn socketio(&mut self, sio: &Map<String, Value>, c: &mut Config) -> Result<(), ConfigError> {
        for key in sio.keys() {
            if !SOCKETIO_KEYS.contains(&key.as_str()) {
                self.warnings
                    .push(format!("`socketio.{key}` has no effect on this server"));
            }
        }
        let s = &mut c.socketio;
        if let Some(path) = self.string(sio, "path", "socketio.path")? {
            if !path.starts_with('/') {
                return Err(self.invalid("socketio.path", "expected a path starting with /"));
            }
            s.path = path.trim_end_matches('/').to_owned();
            if s.path.is_empty() {
                return Err(self.invalid("socketio.path", "expected a path other than /"));
            }
        }
        let ms = |r: &Self, key: &str| -> Result<Option<Duration>, ConfigError> {
            Ok(r.uint(sio, key, &format!("socketio.{key}"))?
                .map(Duration::from_millis))
        };
        if let Some(d) = ms(self, "pingInterval")? {
            s.ping_interval = d;
        }
        if let Some(d) = ms(self, "pingTimeout")? {
            s.ping_timeout = d;
        }
        if let Some(d) = ms(self, "upgradeTimeout")? {
            s.upgrade_timeout = d;
        }
        if let Some(n) = self.uint(sio, "maxHttpBufferSize", "socketio.maxHttpBufferSize")? {
            s.max_http_buffer_size = n;
        }
        if let Some(v) = non_null(sio.get("transports")) {
            let names: Vec<&str> = v
                .as_array()
                .and_then(|a| a.iter().map(Value::as_str).collect())
                .ok_or_else(|| {
                    self.invalid("socketio.transports", "expected an array of strings")
                })?;
            s.polling = names.contains(&"polling");
            s.websocket = names.contains(&"websocket");
            if !s.polling && !s.websocket
                || names.iter().any(|n| *n != "polling" && *n != "websocket")
            {
                return Err(self.invalid(
                    "socketio.transports",
                    "expected \"polling\" and/or \"websocket\"",
                ));
            }
        }
        Ok(())
    }

    /// laravel-echo-server sanitizes the port with `([0-9]{2,5})/?$`; numbers are taken as they are.
    pub(super) fn port(&self, v: &Value, key: &str) -> Result<u16, ConfigError> {
        let parsed = match v {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => {
                let s = s.strip_suffix('/').unwrap_or(s);
                let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
                let tail = &s[s.len() - digits.min(5)..];
                (tail.len() >= 2).then(|| tail.parse().ok()).flatten()
            }
            _ => None,
        };
        parsed.ok_or_else(|| self.invalid(key, "expected a port number (0-65535)"))
    }

    pub(super) fn string(
        &self,
        obj: &Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        match non_null(obj.get(name)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.invalid(key, "expected a string")),
        }
    }

    /// Accepts `true`/`false` and the strings environment variables produce.
    pub(super) fn boolish(
        &self,
        obj: &Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<Option<bool>, ConfigError> {
        match non_null(obj.get(name)) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" | "" => Ok(Some(false)),
                _ => Err(self.invalid(key, "expected true or false")),
            },
            Some(_) => Err(self.invalid(key, "expected true or false")),
        }
    }

    pub(super) fn uint(
        &self,
        obj: &Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<Option<u64>, ConfigError> {
        match non_null(obj.get(name)) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.invalid(key, "expected a non-negative integer")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.invalid(key, "expected a non-negative integer")),
            Some(_) => Err(self.invalid(key, "expected a non-negative integer")),
        }
    }

    pub(super) fn object(
        &self,
        obj: &'a Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<Option<&'a Map<String, Value>>, ConfigError> {
        match non_null(obj.get(name)) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.invalid(key, "expected an object")),
        }
    }

    pub(super) fn invalid(&self, key: &str, reason: &str) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_owned(),
            source_name: self.source.clone(),
            reason: reason.to_owned(),
        }
    }
}

pub(super) fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}
