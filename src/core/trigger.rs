//! SparkBot Trigger: which session changes a poll reports, exactly once.
//!
//! The trigger remembers the last seen session status of every number of the account (not only
//! the watched ones) in the node's static data; each poll compares the account with it and
//! reports the numbers whose status changed and that the filters watch.
//!
//! n8n saves static data when a workflow is activated — its first poll runs then — and after a
//! poll that reported something, not after a poll that reported nothing. So after a restart (or
//! a re-publish) the trigger may find an older state than the one it last held. The state is
//! designed so that this neither repeats nor loses a report:
//! - a reported change is always saved with its report, so an older state is never older than
//!   the last report: nothing is reported twice;
//! - a change a poll saw but did not report was one the filters do not watch; seen again from an
//!   older state, it is still not watched — unless the filters changed meanwhile. So the state
//!   also remembers the filters it was made with, and a change is reported only if it passes
//!   both those and the current ones (a change the old filters watched would have been reported
//!   and saved; one they did not watch is an old change the new filters must not replay);
//! - the baseline (the first poll) runs at activation, which n8n saves; a state that is missing
//!   or unreadable is a new baseline, never a burst of changes;
//! - a user's (re)publish starts from a new baseline: what changed while the workflow was off is
//!   not news to act on. n8n's own start-up (and a multi-main leadership change) continues from
//!   the remembered state, so a restart loses nothing and repeats nothing.
//!
//! A test run (the editor's *Fetch Test Event*) remembers nothing and never makes up an event a
//! watched number is not in: it shows the pending changes, or else numbers that are in a watched
//! status right now — never a healthy number a downstream Reboot would act on.

use serde_json::{Map, Value};

use crate::credentials::Credentials;
use crate::error::Error;
use crate::io::Io;
use crate::json::JsonReader;
use crate::listing::{list_devices, Listed};
use crate::operation::{Field, SESSION_STATUSES, SESSION_STATUS_FILTER};
use crate::order::sort_by;
use crate::plan::{is_device_id, parse_choices};
use crate::text::{describe_value, sanitize};

/// The only event: a session's status changed.
pub const SESSION_STATUS_CHANGED: &str = "sessionStatusChanged";
/// The trigger's Event parameter.
pub const EVENT: Field = Field::new("event", "Event");
/// The trigger's Numbers filter.
pub const DEVICES_FILTER: Field = Field::new("devices", "Numbers");
/// The field each reported device gains.
pub const PREVIOUS_STATUS: &str = "previousSessionStatus";
/// Most samples a manual test run returns when nothing changed.
pub const MAX_SAMPLES: usize = 20;
/// n8n's activation modes of a user's publish (`getActivationMode()`); `init` (n8n starting) and
/// `leadershipChange` (multi-main) continue from the remembered state.
pub const USER_ACTIVATIONS: [&str; 3] = ["activate", "create", "update"];

/// Whether the first poll of an activation in n8n mode `mode` starts from a new baseline.
pub fn starts_afresh(mode: Option<&str>) -> bool {
    mode.is_some_and(|mode| USER_ACTIVATIONS.contains(&mode))
}
/// The state's format version.
const STATE_VERSION: u64 = 1;
/// Longest status kept for a number whose status is not one of the contract's.
const MAX_OTHER_STATUS: usize = 30;

/// What the trigger watches: changes *to* these statuses (empty: any), of these numbers (empty:
/// every number of the account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    /// Session statuses a change must end in.
    pub statuses: Vec<String>,
    /// Device IDs.
    pub devices: Vec<String>,
}

impl Watch {
    /// Reads the Event and the Filters collection (`{ sessionStatus, devices }`).
    pub fn parse(event: Option<&Value>, filters: Option<&Value>) -> Result<Watch, Error> {
        match event {
            None | Some(Value::Null) => {}
            Some(Value::String(value)) if value == SESSION_STATUS_CHANGED => {}
            Some(other) => {
                return Err(Error::invalid_parameter(
                    EVENT.display_name,
                    format!(
                        "{} is not a known event; use {SESSION_STATUS_CHANGED}",
                        describe_value(other)
                    ),
                ))
            }
        }
        let empty = Map::new();
        let filters = match filters {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(Error::invalid_parameter(
                    "Filters",
                    format!(
                        "must be a collection of filters, got {}",
                        describe_value(other)
                    ),
                ))
            }
        };
        let statuses = parse_choices(
            filters.get(SESSION_STATUS_FILTER.name),
            SESSION_STATUS_FILTER,
            &SESSION_STATUSES,
        )?;
        let devices = match filters.get(DEVICES_FILTER.name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => ids.iter().map(device_id).collect::<Result<_, _>>()?,
            Some(one) => vec![device_id(one)?],
        };
        Ok(Watch { statuses, devices })
    }

    /// Whether a change of number `id` to `status` is one the filters watch.
    pub fn watches(&self, id: &str, status: &str) -> bool {
        (self.devices.is_empty() || self.devices.iter().any(|d| d == id))
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == status))
    }

    /// The filters as the state remembers them: `statuses|devices`, sorted.
    fn key(&self) -> String {
        let mut statuses = self.statuses.clone();
        sort_by(&mut statuses, String::cmp);
        let mut devices = self.devices.clone();
        sort_by(&mut devices, String::cmp);
        format!("{}|{}", statuses.join(","), devices.join(","))
    }

    fn from_key(key: &str) -> Option<Watch> {
        let (statuses, devices) = key.split_once('|')?;
        let list = |text: &str| {
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        Some(Watch {
            statuses: list(statuses),
            devices: list(devices),
        })
    }
}

fn device_id(value: &Value) -> Result<String, Error> {
    match value.as_str().map(str::trim) {
        Some(id) if is_device_id(id) => Ok(id.to_string()),
        _ => Err(Error::invalid_parameter(
            DEVICES_FILTER.display_name,
            format!(
                "{} is not a device ID; choose the numbers from the list",
                describe_value(value)
            ),
        )),
    }
}

/// The remembered statuses: device ID → status, compactly (one letter for each of the
/// contract's statuses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    statuses: Vec<(String, String)>,
    watch: Option<Watch>,
}

const CODES: [(&str, &str); 7] = [
    ("online", "o"),
    ("offline", "f"),
    ("timeout", "t"),
    ("authorize", "a"),
    ("connecting", "c"),
    ("rebooting", "b"),
    ("resetting", "r"),
];

/// A status as the state writes it: a letter for each of the contract's statuses; any other
/// one spelled out after `~`, with only letters, digits, `_` and `-` kept.
fn encode(status: &str) -> String {
    match CODES.iter().find(|(name, _)| *name == status) {
        Some((_, code)) => code.to_string(),
        None => {
            let kept: String = status
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                .take(MAX_OTHER_STATUS)
                .collect();
            format!("~{kept}")
        }
    }
}

fn decode(code: &str) -> Option<String> {
    match code.strip_prefix('~') {
        Some(other) => Some(other.to_string()),
        None => CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(name, _)| name.to_string()),
    }
}

impl State {
    /// Reads the state from the node's static data; `None` when there is none yet or it is not
    /// one this version wrote (then the next poll sets a new baseline).
    pub fn from_static(data: Option<&Value>) -> Option<State> {
        let map = data?.as_object()?;
        if map.get("v").and_then(Value::as_u64) != Some(STATE_VERSION) {
            return None;
        }
        let mut statuses: Vec<(String, String)> = Vec::new();
        for entry in map.get("s")?.as_str()?.split(',').filter(|e| !e.is_empty()) {
            let (id, code) = entry.split_once(':')?;
            statuses.push((id.to_string(), decode(code)?));
        }
        sort_by(&mut statuses, |a, b| a.0.cmp(&b.0));
        Some(State {
            statuses,
            watch: map
                .get("w")
                .and_then(Value::as_str)
                .and_then(Watch::from_key),
        })
    }

    /// The state as static data, as JSON text: `{"v":1,"w":"<filters>","s":"<id>:<code>,…"}` —
    /// 27 bytes a number of the account. Every part is plain ASCII without quotes or
    /// backslashes (IDs are hex, statuses letters, filters IDs and known statuses).
    pub fn to_static_text(&self) -> String {
        let mut text = format!("{{\"v\":{STATE_VERSION},");
        if let Some(watch) = &self.watch {
            text.push_str(&format!("\"w\":\"{}\",", watch.key()));
        }
        text.push_str("\"s\":\"");
        for (index, (id, status)) in self.statuses.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(id);
            text.push(':');
            text.push_str(&encode(status));
        }
        text.push_str("\"}");
        text
    }

    fn status_of(&self, id: &str) -> Option<&str> {
        self.statuses
            .binary_search_by(|(known, _)| known.as_str().cmp(id))
            .ok()
            .and_then(|at| self.statuses.get(at))
            .map(|(_, status)| status.as_str())
    }
}

/// One number a poll reports: the device's index in the listing and its previous status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Index into the devices the poll was given.
    pub index: usize,
    /// The status remembered before (for a sample: the current one).
    pub previous: String,
}

/// What a poll decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    /// The numbers to report, in the service's order.
    pub reports: Vec<Report>,
    /// The state to remember (`None`: leave it as it is — a manual test run).
    pub state: Option<State>,
}

/// Compares the account (`devices`, as listed) with the remembered state. `manual`: the
/// editor's test run — it returns the pending changes, or samples: numbers the filters watch that
/// are in a watched status right now (none: no report), and remembers nothing.
pub fn poll(state: Option<State>, watch: &Watch, devices: &[Value], manual: bool) -> Polled {
    let mut seen: Vec<(usize, &str, String)> = devices
        .iter()
        .enumerate()
        .filter_map(|(index, device)| {
            let id = device
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| is_device_id(id))?;
            let status = device
                .get("session")
                .and_then(|session| session.get("status"))
                .and_then(Value::as_str)
                .map(|status| sanitize(status, MAX_OTHER_STATUS))
                .unwrap_or_default();
            Some((index, id, status))
        })
        .collect();
    let mut reports = Vec::new();
    if let Some(previous) = &state {
        let old_watch = previous.watch.as_ref().unwrap_or(watch);
        for (index, id, status) in &seen {
            // Unchanged, or new to the account (it joins the baseline): nothing to report.
            let Some(before) = previous.status_of(id).filter(|before| before != status) else {
                continue;
            };
            if watch.watches(id, status) && old_watch.watches(id, status) {
                reports.push(Report {
                    index: *index,
                    previous: before.to_string(),
                });
            }
        }
    }
    if manual {
        if reports.is_empty() {
            // Samples: watched numbers in a watched status now, in the account's order.
            reports = seen
                .iter()
                .filter(|(_, id, status)| watch.watches(id, status))
                .take(MAX_SAMPLES)
                .map(|(index, _, status)| Report {
                    index: *index,
                    previous: status.clone(),
                })
                .collect();
        }
        return Polled {
            reports,
            state: None,
        };
    }
    // Every number of the account, each once (the first copy), sorted for lookups.
    sort_by(&mut seen, |a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    seen.dedup_by(|b, a| a.1 == b.1);
    Polled {
        reports,
        state: Some(State {
            statuses: seen
                .into_iter()
                .map(|(_, id, status)| (id.to_string(), status))
                .collect(),
            watch: Some(watch.clone()),
        }),
    }
}

/// What a poll fires: each reported device in the caller's form with its previous status, and
/// the state to remember (as static-data JSON text; `None` for a test run).
#[derive(Debug)]
pub struct Fired<T> {
    /// The reported devices, in the service's order.
    pub items: Vec<(T, String)>,
    /// The new state.
    pub state: Option<String>,
}

/// One poll of the trigger: the whole account read (page 0, then the other pages concurrently),
/// compared with `state`. A failed read fails the poll and leaves the state as it was. A test run
/// with nothing to show fails with [`Error::NoTestEvent`].
pub async fn poll_account<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    state: Option<&Value>,
    watch: &Watch,
    manual: bool,
) -> Listed<Fired<E::Object>> {
    let listed = list_devices(io, credentials, None).await;
    let result = listed.result.and_then(|devices| {
        let (values, objects): (Vec<Value>, Vec<E::Object>) = devices.into_iter().unzip();
        let polled = poll(State::from_static(state), watch, &values, manual);
        if manual && polled.reports.is_empty() {
            return Err(Error::NoTestEvent {
                statuses: watch.statuses.clone(),
                numbers: watch.devices.len(),
            });
        }
        let mut objects: Vec<Option<E::Object>> = objects.into_iter().map(Some).collect();
        Ok(Fired {
            items: polled
                .reports
                .into_iter()
                .filter_map(|report| {
                    let object = objects.get_mut(report.index)?.take()?;
                    Some((object, report.previous))
                })
                .collect(),
            state: polled.state.map(|state| state.to_static_text()),
        })
    });
    Listed {
        result,
        attempts: listed.attempts,
        requests: listed.requests,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::fake::device_id as id;
    use serde_json::json;

    fn account(statuses: &[&str]) -> Vec<Value> {
        statuses
            .iter()
            .enumerate()
            .map(|(n, status)| json!({ "id": id(n), "session": { "status": status }, "extra": n }))
            .collect()
    }

    fn watch(statuses: &[&str], devices: &[usize]) -> Watch {
        Watch {
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            devices: devices.iter().map(|&n| id(n)).collect(),
        }
    }

    /// A poll whose state goes through static data and back, as it does in n8n.
    fn step(
        state: &Option<Value>,
        watch: &Watch,
        statuses: &[&str],
    ) -> (Vec<(usize, String)>, Option<Value>) {
        let polled = poll(
            State::from_static(state.as_ref()),
            watch,
            &account(statuses),
            false,
        );
        let reports = polled
            .reports
            .into_iter()
            .map(|r| (r.index, r.previous))
            .collect();
        let saved = polled
            .state
            .map(|s| serde_json::from_str(&s.to_static_text()).unwrap());
        (reports, saved)
    }

    #[test]
    fn the_first_poll_sets_the_baseline_and_reports_nothing() {
        let (reports, state) = step(&None, &Watch::default(), &["online", "offline"]);
        assert!(reports.is_empty());
        assert_eq!(
            state.unwrap(),
            json!({ "v": 1, "w": "|", "s": format!("{}:o,{}:f", id(0), id(1)) })
        );
    }

    #[test]
    fn each_change_is_reported_once_with_its_previous_status() {
        let all = Watch::default();
        let (_, state) = step(&None, &all, &["online", "offline", "online"]);
        let (reports, state) = step(&state, &all, &["offline", "offline", "authorize"]);
        assert_eq!(
            reports,
            [(0, "online".to_string()), (2, "online".to_string())]
        );
        let (reports, _) = step(&state, &all, &["offline", "offline", "authorize"]);
        assert!(reports.is_empty(), "no change, no report");
    }

    #[test]
    fn filters_decide_only_what_is_reported_and_every_number_is_remembered() {
        let offline = watch(&["offline"], &[]);
        let (_, state) = step(&None, &offline, &["online", "online", "online"]);
        let (reports, state) = step(&state, &offline, &["connecting", "offline", "online"]);
        assert_eq!(
            reports,
            [(1, "online".to_string())],
            "only a change to offline"
        );
        // The unwatched change was remembered: number 0 going offline now reports connecting.
        let (reports, _) = step(&state, &offline, &["offline", "offline", "online"]);
        assert_eq!(reports, [(0, "connecting".to_string())]);
        let only_two = watch(&[], &[2]);
        let (_, state) = step(&None, &only_two, &["online", "online", "online"]);
        let (reports, _) = step(&state, &only_two, &["offline", "offline", "timeout"]);
        assert_eq!(reports, [(2, "online".to_string())]);
    }

    #[test]
    fn numbers_join_and_leave_silently() {
        let all = Watch::default();
        let (_, state) = step(&None, &all, &["online", "online"]);
        let (reports, state) = step(&state, &all, &["online", "online", "offline"]);
        assert!(reports.is_empty(), "a new number joins the baseline");
        let (reports, state) = step(&state, &all, &["online"]);
        assert!(reports.is_empty());
        assert_eq!(
            state.unwrap()["s"],
            json!(format!("{}:o", id(0))),
            "the others are forgotten"
        );
    }

    #[test]
    fn an_older_state_after_a_restart_repeats_nothing_and_loses_nothing() {
        let offline = watch(&["offline"], &[]);
        let (_, saved) = step(&None, &offline, &["online", "online"]); // activation: saved
                                                                       // A poll that reports nothing is not saved: n8n keeps `saved`.
        let (reports, _unsaved) = step(&saved, &offline, &["connecting", "online"]);
        assert!(reports.is_empty());
        // A poll that reports is saved.
        let (reports, saved) = step(&saved, &offline, &["connecting", "offline"]);
        assert_eq!(reports, [(1, "online".to_string())]);
        // n8n restarts; while it is down number 0 goes offline. The first poll after the
        // restart starts from `saved`: number 0 is reported once, number 1 not again.
        let (reports, saved) = step(&saved, &offline, &["offline", "offline"]);
        assert_eq!(reports, [(0, "connecting".to_string())]);
        let (reports, _) = step(&saved, &offline, &["offline", "offline"]);
        assert!(reports.is_empty());
    }

    #[test]
    fn changing_the_filters_does_not_replay_old_changes() {
        let authorize = watch(&["authorize"], &[]);
        let (_, saved) = step(&None, &authorize, &["online", "online"]);
        // Number 0 went offline while only authorize was watched (not reported, not saved).
        let (reports, _) = step(&saved, &authorize, &["offline", "online"]);
        assert!(reports.is_empty());
        // The filters now watch offline too; the state n8n kept is the older one.
        let both = watch(&["authorize", "offline"], &[]);
        let (reports, state) = step(&saved, &both, &["offline", "online"]);
        assert!(reports.is_empty(), "an old change is not replayed");
        // From now on offline is watched.
        let (reports, _) = step(&state, &both, &["offline", "offline"]);
        assert_eq!(reports, [(1, "online".to_string())]);
    }

    #[test]
    fn a_test_run_returns_pending_changes_or_samples_and_remembers_nothing() {
        let all = Watch::default();
        let (_, saved) = step(&None, &all, &["online", "offline"]);
        let state = State::from_static(saved.as_ref());
        let polled = poll(state.clone(), &all, &account(&["offline", "offline"]), true);
        assert_eq!(polled.state, None);
        assert_eq!(
            polled.reports,
            [Report {
                index: 0,
                previous: "online".into()
            }]
        );
        let polled = poll(
            state,
            &watch(&[], &[1]),
            &account(&["online", "offline"]),
            true,
        );
        assert_eq!(
            polled.reports,
            [Report {
                index: 1,
                previous: "offline".into()
            }],
            "a sample"
        );
        let many: Vec<&str> = vec!["online"; 30];
        let polled = poll(None, &all, &account(&many), true);
        assert_eq!(polled.reports.len(), MAX_SAMPLES);
    }

    #[test]
    fn a_test_run_never_shows_a_number_outside_the_watched_statuses() {
        // The self-healing example watches offline, timeout and authorize: an online number is
        // never a sample (a Reboot after the trigger would act on it), wherever it is.
        let healing = watch(&["offline", "timeout", "authorize"], &[]);
        let mut many = vec!["online"; 30];
        many[3] = "offline";
        many[25] = "authorize";
        many[27] = "timeout";
        let polled = poll(None, &healing, &account(&many), true);
        let samples: Vec<(usize, &str)> = polled
            .reports
            .iter()
            .map(|r| (r.index, r.previous.as_str()))
            .collect();
        assert_eq!(
            samples,
            [(3, "offline"), (25, "authorize"), (27, "timeout")]
        );
        // Every one in a watched status: no sample at all.
        let polled = poll(None, &healing, &account(&["online", "online"]), true);
        assert!(polled.reports.is_empty());
        // A Numbers filter: only those numbers, and only in a watched status.
        let polled = poll(
            None,
            &watch(&["offline"], &[0, 2]),
            &account(&["offline", "offline", "online"]),
            true,
        );
        assert_eq!(polled.reports.len(), 1);
        assert_eq!(polled.reports[0].index, 0);
        // More than twenty in watched statuses: the first twenty, in the account's order.
        let polled = poll(None, &healing, &account(&vec!["offline"; 30]), true);
        let indexes: Vec<usize> = polled.reports.iter().map(|r| r.index).collect();
        assert_eq!(indexes, (0..MAX_SAMPLES).collect::<Vec<_>>());
    }

    #[test]
    fn a_users_publish_starts_afresh_n8ns_start_up_continues() {
        for mode in ["activate", "create", "update"] {
            assert!(starts_afresh(Some(mode)), "{mode}");
        }
        for mode in [
            None,
            Some("init"),
            Some("leadershipChange"),
            Some("manual"),
            Some("x"),
        ] {
            assert!(!starts_afresh(mode), "{mode:?}");
        }
    }

    #[test]
    fn the_state_is_compact_and_survives_json() {
        let statuses: Vec<&str> = SESSION_STATUSES
            .iter()
            .copied()
            .chain(["sleeping"])
            .collect();
        let (_, state) = step(&None, &watch(&["offline"], &[3]), &statuses);
        let state = state.unwrap();
        let text = state.to_string();
        assert!(
            text.len() <= 64 * statuses.len(),
            "{} bytes for {} numbers",
            text.len(),
            statuses.len()
        );
        let back = State::from_static(Some(&state)).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&back.to_static_text()).unwrap(),
            state
        );
        assert_eq!(back.status_of(&id(7)), Some("sleeping"));
        let thousand: Vec<&str> = vec!["online"; 1_000];
        let (_, big) = step(&None, &Watch::default(), &thousand);
        let bytes = big.unwrap().to_string().len();
        assert!(bytes <= 27 * 1_000 + 40, "{bytes} bytes for 1,000 numbers");
        assert_eq!(State::from_static(Some(&json!({ "v": 9 }))), None);
        assert_eq!(State::from_static(Some(&json!("garbage"))), None);
    }

    #[test]
    fn the_parameters_are_checked() {
        assert!(Watch::parse(Some(&json!("sessionStatusChanged")), None).is_ok());
        assert!(Watch::parse(Some(&json!("newMessage")), None)
            .unwrap_err()
            .message()
            .starts_with("Event: "));
        let error = Watch::parse(None, Some(&json!({ "devices": ["nope"] }))).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("Numbers: \"nope\" is not a device ID"),
            "{}",
            error.message()
        );
        let watch = Watch::parse(
            None,
            Some(&json!({ "devices": [id(1)], "sessionStatus": ["offline", "timeout"] })),
        )
        .unwrap();
        assert_eq!(watch.devices, [id(1)]);
        assert_eq!(watch.statuses, ["offline", "timeout"]);
    }

    #[test]
    fn a_poll_with_no_change_reports_nothing_and_only_a_test_run_says_so() {
        use crate::exchange::HttpReply;
        use crate::fake::{self, Answer, Fake};
        let fake = Fake::new(|_, _| {
            Answer::Reply(HttpReply {
                status: 200,
                content_type: Some("application/json".into()),
                total_count: Some("1".into()),
                body: json!([{ "id": id(1), "session": { "status": "online" } }]).to_string(),
                elapsed_ms: 5,
                ..Default::default()
            })
        });
        let credentials = fake::credentials("http://127.0.0.1:1/v1");
        let watch = Watch::default();
        let first = fake.run(poll_account(&fake, &credentials, None, &watch, false));
        let state: Value = serde_json::from_str(&first.result.unwrap().state.unwrap()).unwrap();
        let again = fake
            .run(poll_account(
                &fake,
                &credentials,
                Some(&state),
                &watch,
                false,
            ))
            .result
            .unwrap();
        assert!(again.items.is_empty(), "no change, nothing reported");
        let watch_offline =
            Watch::parse(None, Some(&json!({ "sessionStatus": ["offline"] }))).unwrap();
        let test_run = fake.run(poll_account(
            &fake,
            &credentials,
            Some(&state),
            &watch_offline,
            true,
        ));
        assert_eq!(
            test_run.result.err().map(|e| e.code().to_string()),
            Some("SPARKBOT_NO_TEST_EVENT".into())
        );
    }
}
