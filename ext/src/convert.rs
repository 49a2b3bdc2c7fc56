//! Conversions between PHP values and JSON values at the boundary: configuration arrays come in,
//! statistics go out. PHP values never travel to the server's threads.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ArrayKey, ZendHashTable, Zval};
use serde_json::{Map, Value};

/// A PHP array as JSON: lists (keys 0..n) become arrays, other arrays objects.
pub fn array_to_json(ht: &ZendHashTable) -> Value {
    if ht.has_sequential_keys() {
        return Value::Array(ht.values().map(zval_to_json).collect());
    }
    let mut map = Map::new();
    for (key, value) in ht.iter() {
        let key = match key {
            ArrayKey::Long(n) => n.to_string(),
            ArrayKey::String(s) => s,
            ArrayKey::Str(s) => s.to_owned(),
            ArrayKey::ZendString(s) => s.as_str().map(str::to_owned).unwrap_or_default(),
        };
        map.insert(key, zval_to_json(value));
    }
    Value::Object(map)
}

fn zval_to_json(z: &Zval) -> Value {
    if let Some(b) = z.bool() {
        Value::Bool(b)
    } else if let Some(n) = z.long() {
        Value::from(n)
    } else if let Some(f) = z.double() {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if let Some(s) = z.str() {
        Value::String(s.to_owned())
    } else if let Some(ht) = z.array() {
        array_to_json(ht)
    } else {
        Value::Null
    }
}

/// JSON as a PHP value (objects become associative arrays).
pub fn json_to_zval(v: &Value) -> Zval {
    let mut z = Zval::new();
    match v {
        Value::Null => z.set_null(),
        Value::Bool(b) => z.set_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => z.set_long(i),
            None => z.set_double(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => {
            if z.set_string(s, false).is_err() {
                z.set_null();
            }
        }
        Value::Array(items) => {
            let mut ht = ZendHashTable::new();
            for item in items {
                let _ = ht.push(json_to_zval(item));
            }
            z.set_hashtable(ht);
        }
        Value::Object(map) => z.set_hashtable(object_to_array(map)),
    }
    z
}

fn object_to_array(map: &Map<String, Value>) -> ZBox<ZendHashTable> {
    let mut ht = ZendHashTable::new();
    for (k, v) in map {
        let _ = ht.insert(k.as_str(), json_to_zval(v));
    }
    ht
}
