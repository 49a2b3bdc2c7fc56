//! `client:add` and `client:remove`: manage the HTTP API credentials in the config file. Keys the
//! command does not know are kept when the file is rewritten.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// `client:add [id]`: a new client with a random app id (16 hex digits) and key (32), or a new key
/// for an existing id.
pub(super) fn add(config: &Path, id: Option<&str>) -> ExitCode {
    edit(config, |clients| {
        let key = random_hex(16)?;
        if let Some(existing) = id.and_then(|id| {
            clients
                .iter_mut()
                .find(|c| c.get("appId").and_then(Value::as_str) == Some(id))
        }) {
            existing["key"] = json!(key);
            println!("API Client updated!");
        } else {
            let app_id = match id {
                Some(id) => id.to_owned(),
                None => random_hex(8)?,
            };
            clients.push(json!({ "appId": app_id, "key": key }));
            println!("API Client added!");
        }
        let client = clients.last().filter(|_| id.is_none()).or_else(|| {
            clients
                .iter()
                .find(|c| c.get("appId").and_then(Value::as_str) == id)
        });
        if let Some(c) = client {
            println!("appId: {}", c["appId"].as_str().unwrap_or_default());
            println!("key: {}", c["key"].as_str().unwrap_or_default());
        }
        Ok(())
    })
}

/// `client:remove <id>`: removes exactly that client; an unknown id is an error.
pub(super) fn remove(config: &Path, id: &str) -> ExitCode {
    edit(config, |clients| {
        let before = clients.len();
        clients.retain(|c| c.get("appId").and_then(Value::as_str) != Some(id));
        if clients.len() == before {
            return Err(format!("no API client with appId {id}"));
        }
        println!("API Client removed!");
        Ok(())
    })
}

fn edit(config: &Path, change: impl FnOnce(&mut Vec<Value>) -> Result<(), String>) -> ExitCode {
    let result = (|| {
        let text = std::fs::read_to_string(config).map_err(|e| {
            format!(
                "the config file {} could not be read: {e}",
                config.display()
            )
        })?;
        let mut root: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
            format!(
                "the config file {} is not a JSON object: {e}",
                config.display()
            )
        })?;
        let mut clients = match root.remove("clients") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err("`clients` in the config file is not an array".to_owned()),
        };
        change(&mut clients)?;
        root.insert("clients".to_owned(), Value::Array(clients));
        super::write_config(config, &Value::Object(root))
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `n` random bytes from the kernel, as hex.
pub(super) fn random_hex(n: usize) -> Result<String, String> {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("could not read random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
