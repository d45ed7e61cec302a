//! The WhatsApp Number dropdown: device list pages → n8n options.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::plan::{is_device_id, DEVICE_PAGE_SIZE};
use crate::core::text::sanitize;

/// Upper bound on pages read (100,000 devices), so a misbehaving service cannot loop us forever.
pub const MAX_DEVICE_PAGES: usize = 1_000;

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

/// Whether a page of `len` devices is the last one.
pub fn is_last_page(len: usize) -> bool {
    len < DEVICE_PAGE_SIZE
}

/// Collects devices across pages, keeping the first copy of each ID (a device added while the
/// pages are read can shift another onto the next page).
#[derive(Debug, Default)]
pub struct DeviceCollector {
    by_id: BTreeMap<String, DeviceOption>,
}

impl DeviceCollector {
    /// Adds one page of device objects. Entries without a valid device ID are skipped: they could
    /// not be acted on anyway.
    pub fn add_page(&mut self, devices: &[Value]) {
        for device in devices {
            if let Some(option) = device_option(device) {
                self.by_id.entry(option.value.clone()).or_insert(option);
            }
        }
    }

    /// The options in a stable order: by label (ASCII case-insensitive), then by ID.
    pub fn into_options(self) -> Vec<DeviceOption> {
        let mut options: Vec<DeviceOption> = self.by_id.into_values().collect();
        options.sort_by_cached_key(|o| (o.name.to_ascii_lowercase(), o.value.clone()));
        options
    }
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

    #[test]
    fn last_page_rule() {
        assert!(is_last_page(0));
        assert!(is_last_page(99));
        assert!(!is_last_page(100));
    }
}
