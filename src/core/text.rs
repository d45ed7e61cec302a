//! Text for messages: untrusted text made safe to show, values described, numbers written,
//! the API key removed. Used by the planner, the status mapping, the device labels and the error
//! enum.

use serde_json::Value;

/// Removes every occurrence of `secret` from `text`.
///
/// Used on every string that crosses to JS, so that a service or runtime that echoes the API key
/// cannot leak it into n8n's output, errors or logs.
pub fn redact(text: &str, secret: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_text(rest, secret) {
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str("***");
        rest = rest.get(at + secret.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Where `needle` (not empty) first occurs in `haystack`, as a byte offset. A plain byte search:
/// the module has no use for the two-way searcher behind `str::find(&str)`, which is bigger
/// than everything that calls it.
pub fn find_text(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window == needle.as_bytes())
}

/// Makes untrusted text (a service message, a runtime error) safe to show: control characters
/// become spaces, runs of white space collapse, and it is cut to `max_chars` characters.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    let mut count = 0;
    let mut last_space = true;
    for ch in text.chars() {
        let ch = if ch.is_control() || ch.is_whitespace() {
            ' '
        } else {
            ch
        };
        if ch == ' ' && last_space {
            continue;
        }
        if count == max_chars {
            out.push('…');
            return out.trim_end().to_string();
        }
        last_space = ch == ' ';
        out.push(ch);
        count += 1;
    }
    out.trim_end().to_string()
}

/// A number as messages show it: whole numbers exactly, others to three decimals. (The
/// shortest round-trip formatting of `f64` that serde_json's `Display` uses costs the module
/// more than all of its messages.)
pub fn number_text(number: &serde_json::Number) -> String {
    if let Some(whole) = number.as_i64() {
        return format!("{whole}");
    }
    if let Some(whole) = number.as_u64() {
        return format!("{whole}");
    }
    let value = number.as_f64().unwrap_or_default();
    if value.abs() >= 1e15 {
        return if value < 0.0 {
            "a huge negative number"
        } else {
            "a huge number"
        }
        .to_string();
    }
    let thousandths = (value.abs() * 1000.0).round() as u64;
    let sign = if value < 0.0 && thousandths > 0 {
        "-"
    } else {
        ""
    };
    let mut text = format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000);
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// Describes a value for an error message: its type, and the value itself when it is short text
/// or a scalar. Untrusted text is sanitized and cut.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {}", number_text(n)),
        Value::String(s) if s.is_empty() => "an empty text".to_string(),
        Value::String(s) => {
            let shown = sanitize(s, 60);
            format!("\"{shown}\"")
        }
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_every_occurrence() {
        assert_eq!(redact("key abc and abc", "abc"), "key *** and ***");
        assert_eq!(redact("abcabc", "abc"), "******");
        assert_eq!(redact("nothing", ""), "nothing");
        assert_eq!(redact("é key é", "key"), "é *** é");
        assert_eq!(find_text("ab", "abc"), None);
    }

    #[test]
    fn sanitize_strips_controls_and_cuts() {
        assert_eq!(sanitize("a\n\u{7}b   c", 100), "a b c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("  ", 10), "");
    }
}
