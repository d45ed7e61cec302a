//! Reading JS values as JSON: the runtime's `JSON.parse`, and a walker that turns a JS value into
//! a [`serde_json::Value`] for the core.
//!
//! Both are written out rather than taken from serde: serde_json's text parser (with the float
//! formatting its errors use) cost 25 KB of the module, serde-wasm-bindgen's generic
//! `Deserializer` 8 KB.

use js_sys::{Array, JsString, Reflect, JSON};
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use sparkbot_core::json::{JsonType, MAX_NESTING};

#[wasm_bindgen]
extern "C" {
    /// `Object.entries`, whose getters and proxy traps may throw: caught, never unwound through
    /// the module.
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    fn entries(object: &JsValue) -> Result<Array, JsValue>;
}

/// Longest text read from a parameter, in UTF-16 units; longer ones are refused unread.
const MAX_TEXT_LEN: u32 = 1 << 20;
/// Most elements (or properties) of one list (or object) read from a parameter.
const MAX_ELEMENTS: u32 = 10_000;

/// A JS value as JSON: what `JSON.stringify` would keep. Refuses functions, symbols, `BigInt`s,
/// non-finite numbers, values nested more than 64 levels, texts longer than 2^20 characters and
/// lists or objects of more than 10,000 entries, with the problem as text. Getters and proxies
/// that throw are reported, never propagated.
pub fn to_json(value: &JsValue) -> Result<Value, String> {
    walk(value, 0)
}

/// A JSON value as a plain JS value, for the objects the core makes itself. Objects are made
/// by `Object.fromEntries`, which defines every key as an own data property (a key such as
/// `__proto__` stays a key, never a prototype).
pub fn from_json(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(flag) => JsValue::from_bool(*flag),
        Value::Number(number) => JsValue::from_f64(number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => JsValue::from_str(text),
        Value::Array(items) => items.iter().map(from_json).collect::<Array>().into(),
        Value::Object(map) => {
            let entries: Array = map
                .iter()
                .map(|(key, item)| Array::of2(&JsValue::from_str(key), &from_json(item)))
                .collect();
            // An array of [key, value] pairs is always a valid argument.
            js_sys::Object::from_entries(&entries).map_or(JsValue::NULL, JsValue::from)
        }
    }
}

/// Parses JSON text with the runtime's `JSON.parse`; the error is the runtime's message.
pub fn parse(text: &str) -> Result<JsValue, String> {
    JSON::parse(text)
        .map_err(|error| String::from(error.unchecked_into::<js_sys::Error>().message()))
}

/// What kind of JSON value a JS value is; `undefined` (a property that is not there) is null,
/// never an object.
pub fn json_type(value: &JsValue) -> JsonType {
    if value.is_null() || value.is_undefined() {
        JsonType::Null
    } else if Array::is_array(value) {
        JsonType::Array
    } else if value.is_string() {
        JsonType::Text
    } else if value.as_bool().is_some() {
        JsonType::Boolean
    } else if value.as_f64().is_some() {
        JsonType::Number
    } else {
        JsonType::Object
    }
}

/// The walk behind [`to_json`]: `undefined` object properties are dropped (as `JSON.stringify`
/// does), `undefined` in arrays becomes `null`.
fn walk(value: &JsValue, depth: usize) -> Result<Value, String> {
    if depth > MAX_NESTING {
        return Err(format!("is nested more than {MAX_NESTING} levels deep"));
    }
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(text) = value.dyn_ref::<JsString>() {
        if text.length() > MAX_TEXT_LEN {
            return Err(format!("is longer than {MAX_TEXT_LEN} characters"));
        }
        return Ok(Value::String(text.into()));
    }
    if let Some(number) = value.as_f64() {
        return json_number(number).ok_or_else(|| "is not a finite number".to_string());
    }
    let too_many = || format!("has more than {MAX_ELEMENTS} entries");
    let unreadable = |_| "could not be read".to_string();
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        if array.length() > MAX_ELEMENTS {
            return Err(too_many());
        }
        return (0..array.length())
            .map(|index| {
                walk(
                    &Reflect::get_u32(array, index).map_err(unreadable)?,
                    depth + 1,
                )
            })
            .collect();
    }
    if value.is_object() && !value.is_function() {
        let list = entries(value).map_err(unreadable)?;
        if list.length() > MAX_ELEMENTS {
            return Err(too_many());
        }
        let mut map = serde_json::Map::new();
        for entry in list.iter() {
            let entry: Array = entry.unchecked_into();
            let item = entry.get(1);
            if let (Some(key), false) = (entry.get(0).as_string(), item.is_undefined()) {
                map.insert(key, walk(&item, depth + 1)?);
            }
        }
        return Ok(Value::Object(map));
    }
    Err("is not a JSON value (a function, symbol or BigInt)".to_string())
}

/// A JS number as a JSON number; whole numbers stay integers, so `10` reads as `10`, not `10.0`.
fn json_number(number: f64) -> Option<Value> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if number.fract() == 0.0 && number.abs() <= MAX_SAFE {
        return Some(Value::from(number as i64));
    }
    serde_json::Number::from_f64(number).map(Value::Number)
}
