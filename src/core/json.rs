//! Reading JSON: one nesting limit for every JSON text the node reads, the kinds of values
//! messages name, and the reader the core is given.

use serde_json::Value;

/// Deepest nesting of arrays and objects the node reads, in a response body or a parameter;
/// deeper ones are refused before they are parsed or walked.
pub const MAX_NESTING: usize = 64;

/// Reads the JSON texts the node meets: error bodies and device pages into a [`Value`], a
/// success body into the caller's form (a JS object in the wasm build, handed on unchanged).
///
/// The wasm build reads with the runtime's `JSON.parse` (serde_json's own parser would add a
/// sixth to the module); native code and tests use [`SerdeJson`].
pub trait JsonReader {
    /// A parsed JSON object in the form the caller hands on.
    type Object;
    /// Parses JSON text into a [`Value`]; the error is the parser's complaint.
    fn parse(&self, text: &str) -> Result<Value, String>;
    /// Parses a success body once, into the caller's form, and says what kind of value it is.
    fn parse_body(&self, text: &str) -> Result<(JsonType, Self::Object), String>;
    /// Parses a JSON array once: each element as a [`Value`] for the core's decisions, and in the
    /// caller's form, to hand on unchanged. `Err(Ok(kind))`: the text is JSON but not an array;
    /// `Err(Err(complaint))`: it is not JSON.
    #[allow(clippy::type_complexity)]
    fn parse_list(
        &self,
        text: &str,
    ) -> Result<Vec<(Value, Self::Object)>, Result<JsonType, String>>;
    /// An object the core made (not one SparkBot sent), in the caller's form.
    fn to_object(&self, value: &Value) -> Self::Object;
}

/// serde_json as the [`JsonReader`]: for native code and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct SerdeJson;

impl JsonReader for SerdeJson {
    type Object = Value;

    fn parse(&self, text: &str) -> Result<Value, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    fn parse_body(&self, text: &str) -> Result<(JsonType, Value), String> {
        self.parse(text).map(|value| (JsonType::of(&value), value))
    }

    fn parse_list(&self, text: &str) -> Result<Vec<(Value, Value)>, Result<JsonType, String>> {
        match self.parse(text).map_err(Err)? {
            Value::Array(items) => Ok(items.into_iter().map(|item| (item.clone(), item)).collect()),
            other => Err(Ok(JsonType::of(&other))),
        }
    }

    fn to_object(&self, value: &Value) -> Value {
        value.clone()
    }
}

/// The kind of a JSON value, as named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `{…}`.
    Object,
    /// `[…]`.
    Array,
    /// `null`.
    Null,
    /// A string.
    Text,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl JsonType {
    /// The kind of `value`.
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::Text,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// How messages name the kind: "an object", "a list", ….
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Object => "an object",
            JsonType::Array => "a list",
            JsonType::Null => "null",
            JsonType::Text => "a text",
            JsonType::Number => "a number",
            JsonType::Boolean => "a boolean",
        }
    }
}

/// How deeply arrays and objects nest in JSON text, counted without parsing it (brackets inside
/// strings do not count). Cheap enough to run on every body before it is parsed and handed on.
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_only() {
        assert_eq!(nesting_depth("{}"), 1);
        assert_eq!(nesting_depth(r#"{"a":[1,{"b":"[[["}]}"#), 3);
        assert_eq!(nesting_depth(r#""\"[""#), 0);
        assert_eq!(nesting_depth(r#""\\"[""#), 1);
        assert_eq!(nesting_depth("]]]{"), 1);
    }
}
