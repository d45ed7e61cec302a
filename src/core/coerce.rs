//! Numbers and booleans that arrive as text — from a webhook, a sheet, an expression — read the
//! way n8n reads them for its own nodes' parameters (`tryToParseNumber`, `tryToParseBoolean` in
//! n8n-workflow): a number is what JavaScript's `Number(text)` makes of the text; a boolean is
//! `true` or `false` in any case, or a text or number that is 0 or 1. Anything else stays as it
//! was, for the caller's own error that names the field and quotes the value.

use std::borrow::Cow;

use serde_json::{Number, Value};

/// `value` as a number where n8n would read it as one: a number stays, a text becomes the number
/// `Number(text)` gives (`" 3 "` → 3, `""` → 0, `"1e2"` → 100, `"0x10"` → 16); anything else, a
/// text that is not a number included, is returned as it is.
pub fn number(value: &Value) -> Cow<'_, Value> {
    match value {
        Value::String(text) => match js_number(text).and_then(json_number) {
            Some(number) => Cow::Owned(Value::Number(number)),
            None => Cow::Borrowed(value),
        },
        _ => Cow::Borrowed(value),
    }
}

/// A whole number as JSON's integer (as `3` in a parameter would be), any other as a float;
/// `None` for an infinite one.
fn json_number(n: f64) -> Option<Number> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole number up to it is exact
    if n.fract() == 0.0 && n.abs() <= EXACT {
        return Some(if n >= 0.0 {
            Number::from(n as u64)
        } else {
            Number::from(n as i64)
        });
    }
    Number::from_f64(n)
}

/// `value` as a boolean where n8n would read it as one: a boolean stays, `"true"`/`"false"` (any
/// case) and a text or number that is 0 or 1 become one; anything else is returned as it is.
pub fn boolean(value: &Value) -> Cow<'_, Value> {
    let flag = match value {
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        // n8n parses a non-empty text as a number: " 1 " is true, "0.0" false.
        Value::String(text) if !text.trim().is_empty() => zero_or_one(js_number(text)),
        Value::Number(number) => zero_or_one(number.as_f64()),
        _ => None,
    };
    match flag {
        Some(flag) => Cow::Owned(Value::Bool(flag)),
        None => Cow::Borrowed(value),
    }
}

fn zero_or_one(number: Option<f64>) -> Option<bool> {
    let number = number?;
    if number == 0.0 {
        Some(false)
    } else if number == 1.0 {
        Some(true)
    } else {
        None
    }
}

/// JavaScript's `Number(text)` for a text: `None` where it gives `NaN`. White space around is
/// ignored and an empty text is 0; `0x`, `0o` and `0b` prefixes read hexadecimal, octal and
/// binary; `Infinity` with an optional sign is infinite (callers refuse it as out of range).
pub fn js_number(text: &str) -> Option<f64> {
    let text = text.trim_matches(is_js_space);
    if text.is_empty() {
        return Some(0.0);
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        let lower = text.get(..2).map(str::to_ascii_lowercase);
        if lower.as_deref() == Some(prefix) {
            let digits = text.get(2..)?;
            if digits.is_empty() {
                return None;
            }
            return digits.chars().try_fold(0f64, |acc, digit| {
                Some(acc * f64::from(radix) + f64::from(digit.to_digit(radix)?))
            });
        }
    }
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, text.get(1..)?),
        Some(b'+') => (1.0, text.get(1..)?),
        _ => (1.0, text),
    };
    if body == "Infinity" {
        return Some(sign * f64::INFINITY);
    }
    decimal_literal(body).then(|| sign * decimal_value(body))
}

/// The value of a decimal literal (checked by [`decimal_literal`]), computed the way fast float
/// parsers do for short inputs — a whole mantissa times or divided by a power of ten — which is
/// exact for up to 15 significant digits and exponents within ±22 (every value a parameter of
/// the node accepts) and within a few units in the last place beyond. Rust's own `f64` parser
/// would add 20 KB to the module for no value the node keeps.
fn decimal_value(literal: &str) -> f64 {
    let (mantissa, exponent) = match literal.find(['e', 'E']) {
        Some(at) => (
            literal.get(..at).unwrap_or_default(),
            literal.get(at + 1..).unwrap_or_default(),
        ),
        None => (literal, ""),
    };
    let mut digits: f64 = 0.0;
    let mut scale: i64 = 0;
    let mut seen_point = false;
    for byte in mantissa.bytes() {
        match byte {
            b'.' => seen_point = true,
            digit => {
                digits = digits * 10.0 + f64::from(digit - b'0');
                if seen_point {
                    scale -= 1;
                }
            }
        }
    }
    let exponent: i64 = match exponent.strip_prefix('-') {
        Some(e) => -whole(e),
        None => whole(exponent.strip_prefix('+').unwrap_or(exponent)),
    };
    let power = (scale + exponent).clamp(-400, 400) as i32;
    if power >= 0 {
        digits * 10f64.powi(power)
    } else if power >= -22 {
        digits / 10f64.powi(-power)
    } else {
        digits / 10f64.powi(22) / 10f64.powi(-power - 22)
    }
}

/// A run of ASCII digits as a number, saturating.
fn whole(digits: &str) -> i64 {
    digits.bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    })
}

/// Whether `text` is a JavaScript decimal literal without sign: digits with an optional
/// fraction (`1`, `1.`, `1.5`, `.5`) and an optional exponent (`e3`, `E-3`).
fn decimal_literal(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (text.get(..at).unwrap_or_default(), text.get(at + 1..)),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// The white space JavaScript's `Number()` trims.
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_become_numbers_as_javascript_reads_them() {
        for (text, expected) in [
            ("3", 3.0),
            (" 30 ", 30.0),
            ("+7", 7.0),
            ("-2.5", -2.5),
            ("1e2", 100.0),
            ("1E-1", 0.1),
            (".5", 0.5),
            ("5.", 5.0),
            ("", 0.0),
            ("\n\t", 0.0),
            ("0x10", 16.0),
            ("0B101", 5.0),
            ("0o17", 15.0),
        ] {
            assert_eq!(js_number(text), Some(expected), "{text:?}");
        }
        assert_eq!(js_number("-Infinity"), Some(f64::NEG_INFINITY));
        for text in [
            "three", "3 4", "1e", "e5", ".", "+", "--1", "0x", "0xg", "-0x10", "inf", "NaN",
            "1_000", "1,5", "٣",
        ] {
            assert_eq!(js_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn decimal_values_are_exact_where_the_node_needs_them() {
        for text in [
            "0.1",
            "0.3",
            "2.5",
            "30",
            "300",
            "299.999",
            "1e-7",
            "123456789012345",
            "1.5e3",
            "0.000001",
            "9007199254740991",
        ] {
            assert_eq!(
                js_number(text),
                Some(text.parse::<f64>().unwrap_or(f64::NAN)),
                "{text}"
            );
        }
        assert_eq!(js_number("1e400"), Some(f64::INFINITY));
        assert_eq!(js_number("1e-400"), Some(0.0));
    }

    #[test]
    fn exponents_below_minus_22_are_within_a_few_units_in_the_last_place() {
        for text in ["1e-23", "1.5e-30", "25e-40", "7e-300"] {
            let expected = text.parse::<f64>().unwrap_or(f64::NAN);
            let read = js_number(text).unwrap_or(f64::NAN);
            assert!(
                ((read - expected) / expected).abs() < 1e-14,
                "{text}: {read:e}, not {expected:e}"
            );
        }
    }

    #[test]
    fn whole_numbers_up_to_2_to_the_53_are_integers_and_larger_ones_floats() {
        assert_eq!(
            number(&json!("9007199254740992")).into_owned(),
            json!(9_007_199_254_740_992_u64)
        );
        assert_eq!(
            number(&json!("-9007199254740992")).into_owned(),
            json!(-9_007_199_254_740_992_i64)
        );
        assert_eq!(
            number(&json!("9007199254740994")).into_owned(),
            json!(9_007_199_254_740_994.0_f64)
        );
    }

    #[test]
    fn only_texts_and_numbers_are_read_as_numbers() {
        assert_eq!(number(&json!("3")).into_owned(), json!(3));
        assert_eq!(number(&json!("-3")).into_owned(), json!(-3));
        assert_eq!(number(&json!("2.5")).into_owned(), json!(2.5));
        assert_eq!(number(&json!("1e400")).into_owned(), json!("1e400"));
        assert_eq!(number(&json!(3)).into_owned(), json!(3));
        for other in [json!("x"), json!(true), json!(null), json!([1])] {
            assert_eq!(number(&other).into_owned(), other);
        }
    }

    #[test]
    fn booleans_as_n8n_reads_them() {
        for (value, expected) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("TRUE"), true),
            (json!("False"), false),
            (json!("1"), true),
            (json!(" 0 "), false),
            (json!(1), true),
            (json!(0.0), false),
        ] {
            assert_eq!(boolean(&value).into_owned(), json!(expected), "{value}");
        }
        for other in [
            json!("yes"),
            json!(""),
            json!("  "),
            json!(2),
            json!("2"),
            json!(null),
        ] {
            assert_eq!(boolean(&other).into_owned(), other);
        }
    }
}
