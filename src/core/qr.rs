//! Get QR Code: a session in `authorize` needs a person to scan a QR code with the number's
//! phone. SparkBot's `GET /devices/{id}/scan` answers the code (`qr`), a PNG of it as a data URL
//! (`image`), when it stops working (`expiresAt`) and the session; the node hands on the JSON
//! without the image, and the PNG as n8n binary data a mail or chat node can attach as it is.
//!
//! The image is checked before anything is handed on: a data URL of `image/png`, valid base64,
//! and bytes that are a PNG — a malformed answer is an error that says what is wrong, never a
//! broken file.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::operation::BINARY_PROPERTY;
use crate::text::{fold, sanitize};

/// The PNG file signature.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// Longest QR text kept (WhatsApp's are about 240 characters).
const MAX_QR_CHARS: usize = 4_096;

/// A QR code as the node hands it on.
#[derive(Debug, Clone, PartialEq)]
pub struct QrCode {
    /// The JSON output: `id`, `alias` and `phone` when known, `qr`, `expiresAt`, `session`.
    pub json: Map<String, Value>,
    /// The PNG, base64 (checked: it decodes to a PNG).
    pub png_base64: String,
    /// The PNG's size in bytes.
    pub png_bytes: usize,
    /// A file name a person recognises, e.g. `sales-+14155550100-qr.png`.
    pub file_name: String,
    /// The binary field it goes into (Put Output File in Field).
    pub field: String,
}

impl QrCode {
    /// What the node hands on, as one object: `{ json, file: { data, fileName, mimeType,
    /// fileSize }, field }` (the shim makes n8n binary data of `file`, in `field`).
    pub fn to_value(&self) -> Value {
        let mut file = Map::new();
        file.insert("data".into(), Value::String(self.png_base64.clone()));
        file.insert("fileName".into(), Value::String(self.file_name.clone()));
        file.insert("mimeType".into(), Value::String("image/png".into()));
        file.insert("fileSize".into(), Value::from(self.png_bytes));
        let mut value = Map::new();
        value.insert("json".into(), Value::Object(self.json.clone()));
        value.insert("file".into(), Value::Object(file));
        value.insert("field".into(), Value::String(self.field.clone()));
        Value::Object(value)
    }
}

/// What is known of the number besides its ID: its alias and phone, if the execution read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberNames {
    /// The alias.
    pub alias: Option<String>,
    /// The phone, E.164.
    pub phone: Option<String>,
}

impl NumberNames {
    /// The names of a device object as SparkBot lists it.
    pub fn of(device: &Value) -> NumberNames {
        let text = |key: &str| {
            device
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        NumberNames {
            alias: text("alias"),
            phone: text("phone"),
        }
    }
}

/// Reads a `2xx` answer of `GET /devices/{id}/scan` for device `id`.
pub fn read_scan(
    id: &str,
    answer: &Value,
    names: &NumberNames,
    field: &str,
) -> Result<QrCode, Error> {
    let bad = |problem: String| Error::InvalidResponse {
        problem: format!("the QR code answer {problem}"),
    };
    let object = answer
        .as_object()
        .ok_or_else(|| bad("is not a JSON object".into()))?;
    let qr = match object.get("qr") {
        Some(Value::String(qr)) if !qr.trim().is_empty() && qr.chars().count() <= MAX_QR_CHARS => {
            qr
        }
        Some(Value::String(_)) => return Err(bad("has an empty or overlong qr text".into())),
        _ => return Err(bad("has no qr text".into())),
    };
    let image = match object.get("image") {
        Some(Value::String(image)) => image.trim(),
        _ => return Err(bad("has no image".into())),
    };
    let png_base64 =
        png_data_url(image).map_err(|problem| bad(format!("has an image that {problem}")))?;
    let png = decode_base64(png_base64)
        .ok_or_else(|| bad("has an image that is not valid base64".into()))?;
    if !png.starts_with(&PNG_SIGNATURE) {
        return Err(bad("has an image that is not a PNG".into()));
    }
    let mut json = Map::new();
    json.insert("id".into(), Value::String(id.to_string()));
    if let Some(alias) = &names.alias {
        json.insert("alias".into(), Value::String(alias.clone()));
    }
    if let Some(phone) = &names.phone {
        json.insert("phone".into(), Value::String(phone.clone()));
    }
    json.insert("qr".into(), Value::String(qr.clone()));
    json.insert(
        "expiresAt".into(),
        object.get("expiresAt").cloned().unwrap_or(Value::Null),
    );
    json.insert(
        "session".into(),
        object.get("session").cloned().unwrap_or(Value::Null),
    );
    Ok(QrCode {
        json,
        png_base64: png_base64.to_string(),
        png_bytes: png.len(),
        file_name: file_name(id, names),
        field: field.to_string(),
    })
}

/// The base64 part of `data:image/png;base64,…`, or what is wrong with the data URL.
fn png_data_url(image: &str) -> Result<&str, String> {
    let Some((head, data)) = image.split_once(',') else {
        return Err("is not a data URL".into());
    };
    let head = head.to_ascii_lowercase();
    let Some(media) = head.strip_prefix("data:") else {
        return Err("is not a data URL".into());
    };
    let mut parts = media.split(';');
    let mime = parts.next().unwrap_or_default().trim();
    if mime != "image/png" {
        return Err(format!("is {}, not a PNG", sanitize(mime, 40)));
    }
    if !parts.any(|part| part.trim() == "base64") {
        return Err("is a data URL that is not base64".into());
    }
    Ok(data.trim())
}

/// Standard base64 (with or without padding, white space ignored); `None` if it is not.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |byte: u8| match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data = match symbols.iter().position(|&b| b == b'=') {
        Some(at) => {
            let (data, padding) = symbols.split_at(at);
            if padding.len() > 2 || padding.iter().any(|&b| b != b'=') || symbols.len() % 4 != 0 {
                return None;
            }
            data
        }
        None => &symbols[..],
    };
    if data.is_empty() || data.len() % 4 == 1 {
        return None;
    }
    let mut bytes = Vec::with_capacity(data.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &symbol in data {
        buffer = (buffer << 6) | u32::from(value(symbol)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero (a canonical encoding).
    (buffer == 0).then_some(bytes)
}

/// `sales-+14155550100-qr.png`: the alias (lower case, letters and digits, hyphens between
/// words) and the phone, as known; the ID when neither is.
pub fn file_name(id: &str, names: &NumberNames) -> String {
    let alias = names.alias.as_deref().map(slug).filter(|s| !s.is_empty());
    let phone = names
        .phone
        .as_deref()
        .filter(|p| p.bytes().all(|b| b == b'+' || b.is_ascii_digit()));
    let parts: Vec<&str> = [alias.as_deref(), phone].into_iter().flatten().collect();
    if parts.is_empty() {
        format!("{id}-qr.png")
    } else {
        format!("{}-qr.png", parts.join("-"))
    }
}

/// Lower-case ASCII letters and digits of `text` (accents dropped), words joined by hyphens, at
/// most 40 characters.
fn slug(text: &str) -> String {
    let folded: String = text.chars().map(fold).collect();
    let mut slug = String::new();
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug.chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Checks the Put Output File in Field parameter: a field name, `data` when empty.
pub fn parse_binary_field(value: Option<&Value>) -> Result<String, Error> {
    let bad = |problem: &str| Error::invalid_parameter(BINARY_PROPERTY.display_name, problem);
    match value {
        None | Some(Value::Null) => Ok("data".into()),
        Some(Value::String(text)) => {
            let name = text.trim();
            if name.is_empty() {
                Ok("data".into())
            } else if name.chars().count() > 100 || name.chars().any(|c| c.is_control()) {
                Err(bad("must be a field name of at most 100 characters"))
            } else {
                Ok(name.to_string())
            }
        }
        Some(_) => Err(bad("must be a field name (text)")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    /// A 1 × 1 PNG.
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const ID: &str = "6523a1f0c2d4e5f60718293a";

    fn answer(image: &str) -> Value {
        json!({"id": ID, "qr": "2@abc,def", "image": image, "expiresAt": "2026-11-21T10:15:40Z",
               "session": {"status": "authorize"}, "extra": 1})
    }

    #[test]
    fn a_scan_answer_becomes_json_without_the_image_and_a_png_file() {
        let names = NumberNames {
            alias: Some("Sales".into()),
            phone: Some("+14155550100".into()),
        };
        let qr = read_scan(
            ID,
            &answer(&format!("data:image/png;base64,{PNG}")),
            &names,
            "qr",
        )
        .unwrap();
        assert_eq!(
            Value::Object(qr.json.clone()),
            json!({"id": ID, "alias": "Sales", "phone": "+14155550100", "qr": "2@abc,def",
                   "expiresAt": "2026-11-21T10:15:40Z", "session": {"status": "authorize"}})
        );
        assert_eq!(qr.file_name, "sales-+14155550100-qr.png");
        assert_eq!(qr.field, "qr");
        assert_eq!(qr.png_base64, PNG);
        assert!(qr.png_bytes > 60);
    }

    #[test]
    fn a_malformed_image_is_an_error_that_says_what_is_wrong() {
        let names = NumberNames::default();
        for (image, problem) in [
            (json!(null), "has no image"),
            (json!("iVBORw0KGgo"), "is not a data URL"),
            (
                json!("data:image/jpeg;base64,/9j/4AAQ"),
                "is image/jpeg, not a PNG",
            ),
            (
                json!(format!("data:image/png,{PNG}")),
                "is a data URL that is not base64",
            ),
            (
                json!("data:image/png;base64,iVBOR!!!"),
                "is not valid base64",
            ),
            (
                json!("data:image/png;base64,R0lGODlhAQABAAAAACw="),
                "is not a PNG",
            ),
        ] {
            let mut body = answer("");
            body["image"] = image;
            let error = read_scan(ID, &body, &names, "data").unwrap_err();
            assert_eq!(error.code(), "SPARKBOT_INVALID_RESPONSE");
            assert!(error.message().contains(problem), "{}", error.message());
        }
        let error = read_scan(
            ID,
            &json!({"image": format!("data:image/png;base64,{PNG}")}),
            &names,
            "data",
        )
        .unwrap_err();
        assert!(
            error.message().contains("has no qr text"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn an_empty_or_overlong_qr_text_is_an_error_a_long_one_is_not() {
        let image = format!("data:image/png;base64,{PNG}");
        let read = |qr: Value| {
            let mut body = answer(&image);
            body["qr"] = qr;
            read_scan(ID, &body, &NumberNames::default(), "data")
                .map(|code| code.json["qr"].clone())
        };
        for qr in [json!("  "), json!("x".repeat(MAX_QR_CHARS + 1))] {
            let error = read(qr).unwrap_err();
            assert!(
                error.message().contains("has an empty or overlong qr text"),
                "{}",
                error.message()
            );
        }
        let longest = "é".repeat(MAX_QR_CHARS);
        assert_eq!(read(json!(longest)).unwrap(), json!(longest));
        assert!(read(json!(7))
            .unwrap_err()
            .message()
            .contains("has no qr text"));
    }

    #[test]
    fn names_are_read_from_a_device_trimmed_and_only_when_there() {
        assert_eq!(
            NumberNames::of(&json!({"alias": " Sales ", "phone": "+14155550100"})),
            NumberNames {
                alias: Some("Sales".into()),
                phone: Some("+14155550100".into()),
            }
        );
        assert_eq!(
            NumberNames::of(&json!({"alias": "  ", "phone": 7})),
            NumberNames::default()
        );
    }

    #[test]
    fn a_qr_code_is_the_json_and_the_file_n8n_keeps() {
        let names = NumberNames {
            alias: Some("Sales".into()),
            phone: None,
        };
        let code = read_scan(
            ID,
            &answer(&format!("data:image/png;base64,{PNG}")),
            &names,
            "qr",
        )
        .unwrap();
        let value = code.to_value();
        assert_eq!(value["field"], json!("qr"));
        assert_eq!(value["json"]["alias"], json!("Sales"));
        assert_eq!(value["file"]["data"], json!(PNG));
        assert_eq!(value["file"]["fileName"], json!("sales-qr.png"));
        assert_eq!(value["file"]["mimeType"], json!("image/png"));
    }

    #[test]
    fn base64_decodes_as_the_standard_says() {
        // Every symbol of the alphabet, '+' and '/' included.
        assert_eq!(
            decode_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==")
                .unwrap(),
            (0..=255u8).collect::<Vec<_>>()
        );
        assert_eq!(decode_base64("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=").unwrap(), b"hello");
        for bad in [
            "",
            "a",
            "aGVsbG8==",
            "aGVsbG9=",
            "aGV=sbG8",
            "a===",
            "****",
            "aGk==",
            "aGk=a",
            // More than two '=' (with a length that is a multiple of four), one symbol left over.
            "aA======",
            "A",
            "AAAAA",
        ] {
            assert_eq!(decode_base64(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_names_a_person_recognises() {
        let names = |alias: Option<&str>, phone: Option<&str>| NumberNames {
            alias: alias.map(str::to_string),
            phone: phone.map(str::to_string),
        };
        assert_eq!(
            file_name(ID, &names(Some("Équipe Ventas / EU"), None)),
            "equipe-ventas-eu-qr.png"
        );
        assert_eq!(
            file_name(ID, &names(None, Some("+4915112345678"))),
            "+4915112345678-qr.png"
        );
        assert_eq!(
            file_name(ID, &names(Some("../.."), Some("../x"))),
            format!("{ID}-qr.png")
        );
        assert_eq!(file_name(ID, &names(None, None)), format!("{ID}-qr.png"));
    }

    #[test]
    fn the_binary_field_defaults_to_data() {
        assert_eq!(parse_binary_field(None).unwrap(), "data");
        assert_eq!(parse_binary_field(Some(&json!(" "))).unwrap(), "data");
        assert_eq!(parse_binary_field(Some(&json!(" qr "))).unwrap(), "qr");
        assert!(parse_binary_field(Some(&json!(7))).is_err());
        assert!(parse_binary_field(Some(&json!("a\nb"))).is_err());
        let longest = "é".repeat(100);
        assert_eq!(parse_binary_field(Some(&json!(longest))).unwrap(), longest);
        assert!(parse_binary_field(Some(&json!("é".repeat(101)))).is_err());
    }
}
