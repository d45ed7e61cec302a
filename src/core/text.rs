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

/// Digits after the decimal point a number in a message keeps (trailing zeros dropped).
const DECIMALS: u32 = 6;

/// A number as messages show it: whole numbers exactly, others to six decimals, so a value
/// just past a bound (`300.0004`) never reads as the bound. (The shortest round-trip formatting
/// of `f64` costs the module more than all of its messages.)
pub fn number_text(number: &serde_json::Number) -> String {
    if let Some(whole) = number.as_i64() {
        return format!("{whole}");
    }
    if let Some(whole) = number.as_u64() {
        return format!("{whole}");
    }
    float_text(number.as_f64().unwrap_or_default())
}

/// [`number_text`] of an `f64`.
pub fn float_text(value: f64) -> String {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.is_nan() {
        return "not a number".to_string();
    }
    if value.fract() == 0.0 && value.abs() <= MAX_SAFE {
        return format!("{}", value as i64);
    }
    if !value.is_finite() || value.abs() >= 1e12 {
        return if value < 0.0 {
            "a huge negative number"
        } else {
            "a huge number"
        }
        .to_string();
    }
    let scale = 10u64.pow(DECIMALS);
    let scaled = (value.abs() * scale as f64).round() as u64;
    let sign = if value < 0.0 && scaled > 0 { "-" } else { "" };
    let fraction = format!("{}", scale + scaled % scale); // "1" and the decimals, zero-padded
    let mut text = format!(
        "{sign}{}.{}",
        scaled / scale,
        fraction.get(1..).unwrap_or_default()
    );
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// A duration as messages show it: `0.5 s`, `2.5 s`, `30 s`, `105 s` — tenths below 10 s,
/// whole seconds above.
pub fn seconds_text(ms: u64) -> String {
    if ms < 9_950 {
        let tenths = (ms + 50) / 100;
        if tenths % 10 == 0 {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} s", (ms + 500) / 1000)
    }
}

/// Untrusted text quoted exactly as given, for a message: in double quotes, with white space
/// kept (a trailing space shows), quotes, backslashes and control characters escaped as in
/// JSON, and cut after `max_chars` characters.
pub fn quote(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 2);
    out.push('"');
    for (count, ch) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_control() => out.push_str(&format!("\\u{:04x}", ch as u32)),
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// `text` ending with a full stop (or its own `.`, `!`, `?`), so another sentence can follow.
pub fn sentence(text: &str) -> String {
    let trimmed = text.trim_end();
    if trimmed.ends_with(['.', '!', '?']) {
        trimmed.to_string()
    } else {
        format!("{trimmed}.")
    }
}

/// Describes a value for an error message: its type, and the value itself when it is text (quoted
/// exactly, see [`quote`]) or a scalar.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {}", number_text(n)),
        Value::String(s) if s.is_empty() => "an empty text".to_string(),
        Value::String(s) => quote(s, 60),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// Base letters of Latin-1 (U+00C0–U+00FF); `*` keeps the character (× and ÷).
const LATIN1: &[u8; 64] = b"aaaaaaaceeeeiiiidnooooo*ouuuuytsaaaaaaaceeeeiiiidnooooo*ouuuuyty";
/// Base letters of Latin Extended-A (U+0100–U+017F), in runs of (letter, count).
pub(crate) const LATIN_EXTENDED_A: [(u8, u8); 22] = [
    (b'a', 6),
    (b'c', 8),
    (b'd', 4),
    (b'e', 10),
    (b'g', 8),
    (b'h', 4),
    (b'i', 10),
    (b'i', 2),
    (b'j', 2),
    (b'k', 3),
    (b'l', 10),
    (b'n', 9),
    (b'o', 6),
    (b'o', 2),
    (b'r', 6),
    (b's', 8),
    (b't', 6),
    (b'u', 12),
    (b'w', 2),
    (b'y', 3),
    (b'z', 6),
    (b's', 1),
];

/// A character for sorting: lower case, and a Latin letter with an accent as its base letter.
pub fn fold(ch: char) -> char {
    let code = ch as u32;
    let base = match code {
        0xC0..=0xFF => LATIN1
            .get((code - 0xC0) as usize)
            .filter(|&&b| b != b'*')
            .map(|&b| b as char),
        0x100..=0x17F => {
            let mut offset = code - 0x100;
            LATIN_EXTENDED_A.iter().find_map(|&(letter, count)| {
                if offset < u32::from(count) {
                    Some(letter as char)
                } else {
                    offset -= u32::from(count);
                    None
                }
            })
        }
        _ => None,
    };
    base.unwrap_or_else(|| ch.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redact_removes_every_occurrence() {
        assert_eq!(redact("key abc and abc", "abc"), "key *** and ***");
        assert_eq!(redact("abcabc", "abc"), "******");
        assert_eq!(redact("nothing", ""), "nothing");
        assert_eq!(redact("é key é", "key"), "é *** é");
        assert_eq!(find_text("ab", "abc"), None);
    }

    #[test]
    fn values_are_described_by_type_and_content() {
        assert_eq!(describe_value(&json!("")), "an empty text");
        assert_eq!(describe_value(&json!(null)), "nothing (null)");
        assert_eq!(describe_value(&json!(true)), "the boolean true");
        assert_eq!(describe_value(&json!([1])), "a list");
    }

    #[test]
    fn sanitize_strips_controls_and_cuts() {
        assert_eq!(sanitize("a\n\u{7}b   c", 100), "a b c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("  ", 10), "");
    }

    #[test]
    fn numbers_show_the_value_given() {
        let text = |v: serde_json::Value| match v {
            Value::Number(n) => number_text(&n),
            _ => unreachable!(),
        };
        assert_eq!(text(serde_json::json!(300.0004)), "300.0004");
        assert_eq!(text(serde_json::json!(50.0001)), "50.0001");
        assert_eq!(text(serde_json::json!(2.5)), "2.5");
        assert_eq!(text(serde_json::json!(-0.25)), "-0.25");
        assert_eq!(text(serde_json::json!(42)), "42");
        assert_eq!(text(serde_json::json!(-7)), "-7");
        assert_eq!(text(serde_json::json!(0.1 + 0.2)), "0.3");
        assert_eq!(text(serde_json::json!(1e13)), "10000000000000");
        assert_eq!(float_text(1.5e13 + 0.5), "a huge number");
        assert_eq!(float_text(1.5e13), "15000000000000");
        assert_eq!(float_text(-1.5e13 - 0.5), "a huge negative number");
        assert_eq!(float_text(f64::NAN), "not a number");
        assert_eq!(float_text(-0.0000001), "0");
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds_text(505), "0.5 s");
        assert_eq!(seconds_text(1_000), "1 s");
        assert_eq!(seconds_text(2_540), "2.5 s");
        assert_eq!(seconds_text(9_940), "9.9 s");
        assert_eq!(seconds_text(9_960), "10 s");
        assert_eq!(seconds_text(105_010), "105 s");
        assert_eq!(seconds_text(0), "0 s");
    }

    #[test]
    fn quotes_keep_the_value_exactly() {
        assert_eq!(quote("abc ", 60), "\"abc \"");
        assert_eq!(quote(" a\tb\n", 60), "\" a\\tb\\n\"");
        assert_eq!(quote("say \"hi\" \\", 60), "\"say \\\"hi\\\" \\\\\"");
        assert_eq!(quote("a\u{7}", 60), "\"a\\u0007\"");
        assert_eq!(quote("abcdef", 3), "\"abc…\"");
    }

    #[test]
    fn sentences_end_once() {
        assert_eq!(sentence("Done"), "Done.");
        assert_eq!(sentence("Done. "), "Done.");
        assert_eq!(sentence("Really?"), "Really?");
    }
}
