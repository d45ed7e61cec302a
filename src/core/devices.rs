//! The WhatsApp Number dropdown: device list pages → n8n options.

use serde_json::Value;

use crate::order::{sort_by_cached_key, FirstByKey};
use crate::plan::is_device_id;
use crate::text::{find_text, fold, sanitize};

/// One entry of an n8n options list (`INodePropertyOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOption {
    /// Label: "alias (phone)", with fallbacks.
    pub name: String,
    /// The device ID.
    pub value: String,
    /// Session and device status, shown under the label.
    pub description: String,
}

/// Collects devices across pages, keeping the first copy of each ID (a device added while the
/// pages are read can shift another onto the next page).
#[derive(Debug, Default)]
pub struct DeviceCollector {
    by_id: FirstByKey<DeviceOption>,
}

impl DeviceCollector {
    /// Adds one page of device objects. Entries without a valid device ID are skipped: they could
    /// not be acted on anyway.
    pub fn add_page<'a>(&mut self, devices: impl IntoIterator<Item = &'a Value>) {
        for device in devices {
            if let Some(option) = device_option(device) {
                let id = option.value.clone();
                self.by_id.insert(&id, option);
            }
        }
    }

    /// The options in a stable order: by label, naturally ("Number 9" before "Number 10",
    /// case and accents ignored), then by ID. Labels that two numbers share get the ID added, so
    /// that no two entries read the same.
    pub fn into_options(self) -> Vec<DeviceOption> {
        let mut options: Vec<DeviceOption> = self.by_id.into_values().collect();
        sort_by_cached_key(&mut options, |o| (natural_key(&o.name), o.value.clone()));
        let shared: Vec<bool> = options
            .iter()
            .enumerate()
            .map(|(i, option)| {
                let same =
                    |other: Option<&DeviceOption>| other.is_some_and(|o| o.name == option.name);
                same(i.checked_sub(1).and_then(|j| options.get(j))) || same(options.get(i + 1))
            })
            .collect();
        for (option, shared) in options.iter_mut().zip(shared) {
            if shared {
                option.name = format!("{} · {}", option.name, option.value);
            }
        }
        options
    }
}

/// The sort key of a label, as text whose plain order is the natural order: letters lower case
/// and without accents, and each run of digits as a mark, its length and the digits, so that
/// "Número 9" < "numero 10" ("numero \u{1}19" < "numero \u{1}210"). (One string key keeps the
/// module to one instance of the sort.)
fn natural_key(label: &str) -> String {
    let mut key = String::with_capacity(label.len() + 8);
    let mut digits = String::new();
    let flush = |key: &mut String, digits: &mut String| {
        let significant = digits.trim_start_matches('0');
        if !digits.is_empty() {
            // The length as one character ('0' + length, up to 99 digits), so that shorter
            // numbers sort first; then the digits.
            let len = significant.len().min(99) as u8;
            key.push('\u{1}');
            key.push(char::from(b'0' + len));
            key.push_str(significant);
            digits.clear();
        }
    };
    for ch in label.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            flush(&mut key, &mut digits);
            key.push(fold(ch));
        }
    }
    flush(&mut key, &mut digits);
    key
}

/// Whether `device` matches the text a user typed in the search of the WhatsApp Number list:
/// its alias (case and accents ignored), its ID, or its phone — also by digits only, so
/// `5550998` finds `+14155550998` and `(415) 555-0998` does too. A search that starts with `+`
/// is the start of a phone: `+34` finds the numbers of Spain, not every phone with 34 in it.
pub fn matches_search(device: &Value, filter: &str) -> bool {
    let wanted: String = filter.trim().chars().map(fold).collect();
    if wanted.is_empty() {
        return true;
    }
    let folded = |text: &str| text.chars().map(fold).collect::<String>();
    let contains = |haystack: &str, needle: &str| find_text(haystack, needle).is_some();
    let alias = text_field(device, "alias").map(folded).unwrap_or_default();
    let id = text_field(device, "id").unwrap_or_default();
    let phone = text_field(device, "phone").unwrap_or_default();
    let digits = |text: &str| {
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    };
    let phone_like = wanted
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let wanted_digits = digits(&wanted);
    if phone_like && wanted.starts_with('+') {
        return !wanted_digits.is_empty()
            && phone.starts_with('+')
            && digits(phone).starts_with(&wanted_digits);
    }
    contains(&alias, &wanted)
        || contains(id, &wanted)
        || contains(phone, &wanted)
        || (phone_like && !wanted_digits.is_empty() && contains(&digits(phone), &wanted_digits))
}

fn text_field<'a>(device: &'a Value, key: &str) -> Option<&'a str> {
    device
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Builds the dropdown entry of one device object.
pub fn device_option(device: &Value) -> Option<DeviceOption> {
    let id = device
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| is_device_id(id))?;
    let alias = text_field(device, "alias").map(|s| sanitize(s, 80));
    let phone = text_field(device, "phone").map(|s| sanitize(s, 40));
    let name = match (alias, phone) {
        (Some(alias), Some(phone)) => format!("{alias} ({phone})"),
        (Some(alias), None) => format!("{alias} (no phone yet)"),
        (None, Some(phone)) => phone,
        (None, None) => format!("Unnamed number ({id})"),
    };
    let session = device
        .get("session")
        .and_then(|s| text_field(s, "status"))
        .map(|s| sanitize(s, 30))
        .unwrap_or_else(|| "unknown".to_string());
    let mut description = format!("Session: {session}");
    if let Some(status) = text_field(device, "status").map(|s| sanitize(s, 30)) {
        if status != "operative" {
            description.push_str(&format!(" · Device: {status}"));
        }
    }
    description.push_str(&format!(" · ID: {id}"));
    Some(DeviceOption {
        name,
        value: id.to_string(),
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(id: &str, alias: Value, phone: Value) -> Value {
        json!({"id": id, "alias": alias, "phone": phone, "status": "operative",
               "session": {"status": "online"}, "extra": {"x": 1}})
    }

    #[test]
    fn labels_fall_back_sensibly() {
        let id = "6523a1f0c2d4e5f60718293a";
        let label = |alias, phone| device_option(&device(id, alias, phone)).unwrap().name;
        assert_eq!(
            label(json!("Sales"), json!("+14155550100")),
            "Sales (+14155550100)"
        );
        assert_eq!(label(json!("Sales"), json!(null)), "Sales (no phone yet)");
        assert_eq!(label(json!(""), json!("+14155550100")), "+14155550100");
        assert_eq!(
            label(json!(null), json!(null)),
            format!("Unnamed number ({id})")
        );
        let option = device_option(&device(id, json!("A"), json!("+1"))).unwrap();
        assert_eq!(option.value, id);
        assert_eq!(option.description, format!("Session: online · ID: {id}"));
    }

    #[test]
    fn status_other_than_operative_is_shown() {
        let mut d = device("6523a1f0c2d4e5f60718293a", json!("A"), json!("+1"));
        d["status"] = json!("disabled");
        d["session"] = json!({"status": "offline"});
        assert!(device_option(&d)
            .unwrap()
            .description
            .starts_with("Session: offline · Device: disabled"));
    }

    #[test]
    fn invalid_entries_are_skipped_and_duplicates_dropped() {
        let mut collector = DeviceCollector::default();
        collector.add_page(&[
            json!({"id": "../x"}),
            json!(42),
            json!({"alias": "no id"}),
            device("bbbbbbbbbbbbbbbbbbbbbbbb", json!("beta"), json!(null)),
            device("aaaaaaaaaaaaaaaaaaaaaaaa", json!("Alpha"), json!(null)),
        ]);
        collector.add_page(&[device(
            "bbbbbbbbbbbbbbbbbbbbbbbb",
            json!("beta"),
            json!(null),
        )]);
        let names: Vec<_> = collector
            .into_options()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["Alpha (no phone yet)", "beta (no phone yet)"]);
    }

    fn labels(devices: &[Value]) -> Vec<String> {
        let mut collector = DeviceCollector::default();
        collector.add_page(devices);
        collector
            .into_options()
            .into_iter()
            .map(|o| o.name)
            .collect()
    }

    fn id(n: u32) -> String {
        format!("{n:024x}")
    }

    #[test]
    fn numbers_of_any_length_sort_by_value() {
        // Runs of 1 to 60 digits, leading zeros included. The model orders the values by their
        // length without leading zeros, then digit by digit; past 99 significant digits the
        // key's length saturates (no such label is realistic).
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut runs: Vec<String> = (0..400)
            .map(|_| {
                let len = 1 + next() % 60;
                (0..len)
                    .map(|_| char::from(b'0' + (next() % 10) as u8))
                    .collect()
            })
            .collect();
        let value = |run: &String| {
            let significant = run.trim_start_matches('0');
            (significant.len(), significant.to_string())
        };
        let mut by_key = runs.clone();
        by_key.sort_by_cached_key(|run| natural_key(&format!("Number {run}")));
        runs.sort_by_cached_key(value);
        let values = |runs: &[String]| runs.iter().map(value).collect::<Vec<_>>();
        assert_eq!(values(&by_key), values(&runs));
    }

    #[test]
    fn labels_sort_naturally_with_accents_among_their_letters() {
        let devices: Vec<Value> = [
            "Number 10",
            "number 9",
            "Zoe",
            "Émile",
            "Eva",
            "Number 100",
            "Ådne",
            "Bob",
            "Number 009",
        ]
        .iter()
        .enumerate()
        .map(|(i, alias)| device(&id(i as u32 + 1), json!(alias), json!(null)))
        .collect();
        let names: Vec<String> = labels(&devices)
            .into_iter()
            .map(|n| n.replace(" (no phone yet)", ""))
            .collect();
        assert_eq!(
            names,
            [
                "Ådne",
                "Bob",
                "Émile",
                "Eva",
                "number 9",
                "Number 009",
                "Number 10",
                "Number 100",
                "Zoe"
            ]
        );
    }

    #[test]
    fn a_search_matches_alias_phone_digits_and_id() {
        let d = json!({"id": "6523a1f0c2d4e5f60718293a", "alias": "Équipe Ventas", "phone": "+14155550998"});
        for hit in [
            "equipe",
            "VENTAS",
            "équipe v",
            "5550998",
            "+1415",
            "(415) 555-0998",
            "6523a1f0",
            "293A",
            "  ventas ",
        ] {
            assert!(matches_search(&d, hit), "{hit}");
        }
        for miss in ["support", "5551234", "zz", "7777", "+34", "+4155"] {
            assert!(!matches_search(&d, miss), "{miss}");
        }
        // A + starts the phone: +34 finds Spanish numbers, not a phone that has 34 inside.
        let spain =
            json!({"id": "6523a1f0c2d4e5f60718293b", "alias": "Madrid", "phone": "+34911234567"});
        let has_34 =
            json!({"id": "6523a1f0c2d4e5f60718293c", "alias": "Other", "phone": "+14155553434"});
        assert!(matches_search(&spain, "+34"));
        assert!(matches_search(&spain, "+34 91"));
        assert!(!matches_search(&has_34, "+34"));
        assert!(
            matches_search(&has_34, "3434"),
            "without + the digits may be anywhere"
        );
        let no_phone = json!({"id": "6523a1f0c2d4e5f60718293a", "alias": null, "phone": null});
        assert!(!matches_search(&no_phone, "555"));
        assert!(matches_search(&no_phone, ""));
    }

    #[test]
    fn every_latin_letter_with_an_accent_folds_to_its_base() {
        for (accented, base) in [
            ('Ç', 'c'),
            ('ñ', 'n'),
            ('Ø', 'o'),
            ('ß', 's'),
            ('ÿ', 'y'),
            ('Ā', 'a'),
            ('č', 'c'),
            ('Ł', 'l'),
            ('ő', 'o'),
            ('Š', 's'),
            ('ž', 'z'),
            ('ſ', 's'),
            ('Ŵ', 'w'),
            ('×', '×'),
            ('Ж', 'Ж'),
        ] {
            assert_eq!(fold(accented), base, "{accented}");
        }
        let total: u32 = crate::text::LATIN_EXTENDED_A
            .iter()
            .map(|&(_, n)| u32::from(n))
            .sum();
        assert_eq!(total, 0x80);
    }

    #[test]
    fn two_numbers_with_the_same_label_can_be_told_apart() {
        let names = labels(&[
            device(&id(2), json!("Sales"), json!(null)),
            device(&id(1), json!("Sales"), json!(null)),
            device(&id(3), json!("Support"), json!(null)),
        ]);
        assert_eq!(
            names,
            [
                format!("Sales (no phone yet) · {}", id(1)),
                format!("Sales (no phone yet) · {}", id(2)),
                "Support (no phone yet)".to_string(),
            ]
        );
    }
}
