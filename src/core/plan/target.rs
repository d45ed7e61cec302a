//! WhatsApp Number: the number an item acts on — a device ID (from the list, by ID, or
//! version 1's dropdown and expressions) or a phone to find in the account.

use super::*;

/// Length of a device ID.
pub const DEVICE_ID_LEN: usize = 24;

/// Checks that `value` is a device ID: exactly 24 lowercase hexadecimal characters. This also
/// keeps anything that could change the URL (`/`, `..`, `?`, `#`, `%`, white space, control
/// characters) out of the request path.
pub fn is_device_id(value: &str) -> bool {
    value.len() == DEVICE_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `value` looks like a phone number someone typed: an optional `+`, then 7 to 15
/// digits, with the spaces, dots, dashes and parentheses people write between them.
pub(super) fn looks_like_phone(value: &str) -> bool {
    let rest = value.strip_prefix('+').unwrap_or(value);
    let digits = rest.bytes().filter(u8::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
}

/// Reads the WhatsApp Number: version 1's text (a device ID), or version 2's resource locator
/// (`{ __rl, mode, value }`: From List and By ID give a device ID, By Phone a phone).
pub(super) fn parse_target(device: Option<&Value>) -> Result<Target, Error> {
    match device {
        Some(Value::Object(locator)) => {
            let value = locator.get("value");
            match locator.get("mode").and_then(Value::as_str) {
                Some("phone") => parse_phone(value).map(Target::Phone),
                Some("list") | Some("id") | None => parse_device(value, true).map(Target::Id),
                Some(other) => Err(invalid(
                    DEVICE,
                    format!(
                        "{} is not a way to pick a number; use From List, By ID or Phone",
                        describe_value(&Value::String(other.to_string()))
                    ),
                )),
            }
        }
        other => parse_device(other, false).map(Target::Id),
    }
}

/// The separators people write inside phone numbers: spaces, hyphens, dots, parentheses, slashes.
pub(super) const PHONE_SEPARATORS: [char; 6] = [' ', '-', '.', '(', ')', '/'];

/// Reads a phone number for By Phone: E.164, a `+` and 8 to 15 digits, written with or
/// without the usual separators (`+1 (415) 555-0100` is `+14155550100`).
pub(super) fn parse_phone(value: Option<&Value>) -> Result<String, Error> {
    let bad = |problem: String| Err(invalid(DEVICE, problem));
    let given = match value {
        None | Some(Value::Null) => {
            return bad("is empty; give a phone number such as +14155550100".into())
        }
        Some(Value::String(text)) => text,
        Some(other) => {
            return bad(format!(
                "must be a phone number (text), got {}",
                describe_value(other)
            ))
        }
    };
    let written = given.trim();
    if written.is_empty() {
        return bad("is empty; give a phone number such as +14155550100".into());
    }
    let phone: String = written
        .chars()
        .filter(|c| !c.is_whitespace() && !PHONE_SEPARATORS.contains(c))
        .collect();
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(phone);
    }
    let quoted = describe_value(&Value::String(given.clone()));
    if is_device_id(written) {
        return bad(format!(
            "{quoted} is a device ID, not a phone number; switch the WhatsApp Number to By ID"
        ));
    }
    let hint = if !phone.starts_with('+') && phone.bytes().all(|b| b.is_ascii_digit()) {
        " — add + and the country code"
    } else {
        ""
    };
    bad(format!(
        "{quoted} is not a phone number in international format: a + and 8 to 15 digits, e.g. +14155550100 or +1 415 555 0100{hint}"
    ))
}

/// Reads a device ID, with white space around it ignored (as an expression easily adds). The
/// message quotes the value exactly as given; `by_locator`: it came from version 2's picker,
/// whose By Phone mode a phone number belongs in.
pub(super) fn parse_device(device: Option<&Value>, by_locator: bool) -> Result<String, Error> {
    const EMPTY: &str = "is empty; choose a number from the list, or give its device ID";
    const ID_SHAPE: &str =
        "a device ID is 24 lowercase hexadecimal characters, e.g. 6523a1f0c2d4e5f60718293a";
    let bad = |problem: String| Err(invalid(DEVICE, problem));
    let given = match device {
        None | Some(Value::Null) => return bad(EMPTY.into()),
        Some(Value::String(text)) => text,
        Some(other) => {
            return bad(format!(
                "must be a device ID (text), got {}",
                describe_value(other)
            ))
        }
    };
    let id = given.trim();
    if is_device_id(id) {
        return Ok(id.to_string());
    }
    let shown = describe_value(&Value::String(given.clone()));
    if id.is_empty() {
        bad(EMPTY.into())
    } else if looks_like_phone(id) && by_locator {
        bad(format!(
            "{shown} looks like a phone number, not a device ID; pick the number in the Phone mode instead, or give its device ID ({ID_SHAPE})"
        ))
    } else if looks_like_phone(id) {
        bad(format!(
            "{shown} looks like a phone number, not a device ID; {ID_SHAPE}. Pick the number from the list, or map the id field of a device object (e.g. {{{{ $json.id }}}})"
        ))
    } else if is_device_id(&id.to_ascii_lowercase()) {
        bad(format!(
            "{shown} is not a device ID: device IDs are lower case; {ID_SHAPE}"
        ))
    } else {
        bad(format!("{shown} is not a device ID; {ID_SHAPE}"))
    }
}
