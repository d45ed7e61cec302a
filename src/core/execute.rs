//! One node execution: every item's plan in, every item's result out, in input order.
//!
//! - Numbers given by phone (By Phone) are found in the account's list first — one
//!   listing for the whole execution, before anything is sent — and an unknown phone fails its
//!   item without a request.
//! - Requests about one number (reboot, reset, get) run as a batch ([`run_batch`]).
//! - Get Many reads the list ([`list_devices`]) and keeps what its filters and limit ask for.
//!
//! Without continue-on-fail nothing is sent when an item is invalid (its phone unknown
//! included), and nothing starts after an item failed; [`first_failure`] names the item the run
//! fails with.

use serde_json::Value;

use crate::batch::{first_failure, run_batch, BatchSettings, ItemResult};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::io::Io;
use crate::json::JsonReader;
use crate::listing::list_devices;
use crate::order::FirstByKey;
use crate::plan::{
    is_device_id, parse_concurrency, plan_item, DeviceCall, DeviceRequest, ItemPlan, ListPlan,
    RawItem, RequestPlan, Target,
};
use crate::qr::NumberNames;
use crate::status::interpret_action;

/// What an item produced: one object (reboot, reset, get), or a list (Get Many).
#[derive(Debug)]
pub enum Output<T> {
    /// The answer about one number.
    One(T),
    /// One object per number, in the service's order.
    Many(Vec<T>),
}

/// Every item's result, in input order (`None`: not run, because the run stopped).
pub type Results<T> = Vec<Option<ItemResult<Output<T>>>>;

/// What a node execution comes to, as the shim hands it on to n8n.
#[derive(Debug)]
pub enum Execution<T> {
    /// Every item's outcome, in input order: with continue-on-fail, or when nothing failed.
    Items(Vec<ItemOutcome<T>>),
    /// Without continue-on-fail: the run fails with this item — the first that failed in input
    /// order (nothing is sent when any item is invalid, and nothing starts after a failure).
    Failed {
        /// The item's index.
        index: usize,
        /// Its error.
        error: Error,
        /// Requests made for it.
        attempts: u32,
    },
}

/// One item's outcome.
#[derive(Debug)]
pub enum ItemOutcome<T> {
    /// The answer about one number; `attempts` is set when the item's Include Attempt Count is
    /// on (the output then says how many requests it took).
    One {
        /// The object.
        object: T,
        /// The requests it took, to add to the output.
        attempts: Option<u32>,
    },
    /// Get Many: one object per number.
    Many(Vec<T>),
    /// The item failed.
    Failed {
        /// Its error.
        error: Error,
        /// Requests made for it.
        attempts: u32,
    },
    /// Not run: the run stopped before it (not with continue-on-fail).
    NotRun,
}

/// Runs one node execution: `credentials` as the boundary read them, every item's parameters
/// (or n8n's error for an item whose parameters it could not resolve), and whether the run stops
/// at the first failure (n8n without continue-on-fail). Every item is planned — validated —
/// before anything is sent; the first item's Concurrency is the run's.
pub async fn execute<E: Io + JsonReader>(
    io: &E,
    credentials: Result<Credentials, Error>,
    items: Vec<Result<RawItem, Error>>,
    stop_on_error: bool,
) -> Execution<E::Object> {
    let count = items.len();
    // A problem that concerns every item: each fails with it (the run with the first one).
    let all_failed = |error: Error| {
        if stop_on_error {
            Execution::Failed {
                index: 0,
                error,
                attempts: 0,
            }
        } else {
            Execution::Items(
                (0..count)
                    .map(|_| ItemOutcome::Failed {
                        error: error.clone(),
                        attempts: 0,
                    })
                    .collect(),
            )
        }
    };
    let credentials = match credentials {
        Ok(credentials) => credentials,
        Err(error) => return all_failed(error),
    };
    let first_options = items
        .first()
        .and_then(|item| item.as_ref().ok()?.options.as_ref());
    let concurrency = match parse_concurrency(first_options) {
        Ok(concurrency) => concurrency,
        Err(error) => return all_failed(error),
    };
    let plans: Vec<Result<ItemPlan, Error>> =
        items.into_iter().map(|item| plan_item(&item?)).collect();
    let reports: Vec<bool> = plans
        .iter()
        .map(|plan| matches!(plan, Ok(ItemPlan::Device { request, .. }) if request.report_attempts))
        .collect();
    let settings = BatchSettings {
        concurrency,
        stop_on_error,
    };
    let mut results = run_items(io, &credentials, plans, settings).await;
    if stop_on_error {
        if let Some(index) = first_failure(&results) {
            if let Some(Some(ItemResult {
                result: Err(error),
                attempts,
            })) = results.get_mut(index).map(Option::take)
            {
                return Execution::Failed {
                    index,
                    error,
                    attempts,
                };
            }
        }
    }
    Execution::Items(
        results
            .into_iter()
            .zip(reports)
            .map(|(item, report)| match item {
                None => ItemOutcome::NotRun,
                Some(ItemResult {
                    result: Ok(Output::One(object)),
                    attempts,
                }) => ItemOutcome::One {
                    object,
                    attempts: report.then_some(attempts),
                },
                Some(ItemResult {
                    result: Ok(Output::Many(objects)),
                    ..
                }) => ItemOutcome::Many(objects),
                Some(ItemResult {
                    result: Err(error),
                    attempts,
                }) => ItemOutcome::Failed { error, attempts },
            })
            .collect(),
    )
}

/// Runs the items of one execution.
pub async fn run_items<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    plans: Vec<Result<ItemPlan, Error>>,
    settings: BatchSettings,
) -> Results<E::Object> {
    let phones = find_phones(io, credentials, &plans).await;
    let mut results: Results<E::Object> = plans.iter().map(|_| None).collect();
    let mut device_items = Vec::new();
    let mut list_items = Vec::new();
    for (index, plan) in plans.into_iter().enumerate() {
        match plan {
            Err(error) => set(&mut results, index, Err(error), 0),
            Ok(ItemPlan::List(list)) => list_items.push((index, list)),
            Ok(ItemPlan::Device { target, request }) => match resolve(&target, &phones) {
                Ok((id, names)) => device_items.push((index, id, names, request)),
                Err((error, attempts)) => set(&mut results, index, Err(error), attempts),
            },
        }
    }
    // Get QR Code names its file after the number: what a number picked by ID is called is
    // read first (a read; if it fails the file is named after the ID).
    for (_, id, names, request) in device_items.iter_mut() {
        if matches!(request.call, DeviceCall::Scan { .. }) && *names == NumberNames::default() {
            *names = names_of(io, credentials, id).await;
        }
    }
    let device_items: Vec<(usize, RequestPlan)> = device_items
        .into_iter()
        .map(|(index, id, names, request)| (index, request.plan(&id, names, credentials)))
        .collect();
    if settings.stop_on_error && first_failure(&results).is_some() {
        return results; // an invalid item (or an unknown phone): nothing is sent
    }

    let (indexes, requests): (Vec<usize>, Vec<Result<RequestPlan, Error>>) = device_items
        .into_iter()
        .map(|(index, plan)| (index, Ok(plan)))
        .unzip();
    if !requests.is_empty() {
        let done = run_batch(io, requests, settings).await;
        for (index, result) in indexes.into_iter().zip(done) {
            if let (Some(slot), Some(item)) = (results.get_mut(index), result) {
                *slot = Some(ItemResult {
                    result: item.result.map(Output::One),
                    attempts: item.attempts,
                });
            }
        }
    }
    for (index, list) in list_items {
        if settings.stop_on_error && first_failure(&results).is_some() {
            break;
        }
        let (result, attempts) = get_many(io, credentials, &list).await;
        set(&mut results, index, result.map(Output::Many), attempts);
    }
    results
}

fn set<T>(results: &mut Results<T>, index: usize, result: Result<Output<T>, Error>, attempts: u32) {
    if let Some(slot) = results.get_mut(index) {
        *slot = Some(ItemResult { result, attempts });
    }
}

/// What the account's list says about the phones the items ask for: phone → device ID and its
/// names, or the listing's error (and its attempts) for all of them. Empty when no item goes by
/// phone.
type Phones = Result<FirstByKey<(String, NumberNames)>, (Error, u32)>;

async fn find_phones<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    plans: &[Result<ItemPlan, Error>],
) -> Phones {
    let by_phone = plans.iter().any(|plan| {
        matches!(
            plan,
            Ok(ItemPlan::Device {
                target: Target::Phone(_),
                ..
            })
        )
    });
    let mut phones = FirstByKey::default();
    if !by_phone {
        return Ok(phones);
    }
    let listed = list_devices(io, credentials, None).await;
    for (device, _) in listed.result.map_err(|error| (error, listed.attempts))? {
        let id = device
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_device_id(id));
        let phone = device.get("phone").and_then(Value::as_str).map(str::trim);
        if let (Some(id), Some(phone)) = (id, phone) {
            phones.insert(phone, (id.to_string(), NumberNames::of(&device)));
        }
    }
    Ok(phones)
}

/// The device ID of `target`, and its names when the listing told them.
fn resolve(target: &Target, phones: &Phones) -> Result<(String, NumberNames), (Error, u32)> {
    match target {
        Target::Id(id) => Ok((id.clone(), NumberNames::default())),
        Target::Phone(phone) => match phones {
            Ok(phones) => phones.get(phone).cloned().ok_or_else(|| {
                (
                    Error::PhoneNotFound {
                        phone: phone.clone(),
                    },
                    0,
                )
            }),
            Err((error, attempts)) => Err((error.clone(), *attempts)),
        },
    }
}

/// The alias and phone of device `id` (`GET /devices/{id}`, one attempt); none if that fails.
async fn names_of<E: Io + JsonReader>(io: &E, credentials: &Credentials, id: &str) -> NumberNames {
    let plan = DeviceRequest::read(DeviceCall::Get).plan(id, NumberNames::default(), credentials);
    let outcome = io.send(&plan, plan.timeout_ms).await;
    interpret_action(&plan.context, outcome, &|text| io.parse(text))
        .ok()
        .and_then(|body| io.parse(&body).ok())
        .map(|device| NumberNames::of(&device))
        .unwrap_or_default()
}

/// Get Many: the first `limit` numbers (or all) that pass the filters, in the service's order.
async fn get_many<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    list: &ListPlan,
) -> (Result<Vec<E::Object>, Error>, u32) {
    let want = if list.reads_everything() {
        None
    } else {
        list.limit
    };
    let listed = list_devices(io, credentials, want).await;
    let devices = match listed.result {
        Ok(devices) => devices,
        Err(error) => return (Err(error), listed.attempts),
    };
    let kept = devices
        .into_iter()
        .filter(|(value, _)| list.keeps(value))
        .map(|(_, object)| object)
        .take(list.limit.unwrap_or(usize::MAX))
        .collect();
    (Ok(kept), listed.requests)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::exchange::HttpReply;
    use crate::fake::{self, device_id as id, Answer, Fake};
    use crate::plan::{plan_item, RawItem};
    use serde_json::json;

    fn credentials() -> Credentials {
        fake::credentials("http://127.0.0.1:1/v1")
    }

    fn device(n: usize) -> Value {
        json!({
            "id": id(n),
            "alias": format!("N{n}"),
            "phone": format!("+1202555{n:04}"),
            "status": if n % 3 == 0 { "disabled" } else { "operative" },
            "session": { "status": if n % 2 == 0 { "online" } else { "offline" } },
            "extra": { "n": n },
        })
    }

    /// An account of `total` devices: the list pages, one device, and reboots.
    fn account(total: usize) -> Fake {
        Fake::new(move |request, _| {
            let url = request.url.as_str();
            let reply = |status: u16, body: String, total_count: Option<String>| {
                Answer::Reply(HttpReply {
                    status,
                    content_type: Some("application/json".into()),
                    retry_after: None,
                    total_count,
                    body,
                    elapsed_ms: 10,
                    ..Default::default()
                })
            };
            if let Some(query) = url.split("/devices?").nth(1) {
                let param = |name: &str| -> usize {
                    query
                        .split('&')
                        .find_map(|p| p.strip_prefix(&format!("{name}=")))
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                let (page, size) = (param("page"), param("size"));
                let devices: Vec<Value> = (page * size..((page + 1) * size).min(total))
                    .map(device)
                    .collect();
                return reply(
                    200,
                    Value::Array(devices).to_string(),
                    Some(total.to_string()),
                );
            }
            let path = url.split("/devices/").nth(1).unwrap();
            let n = (0..total).find(|&n| path.starts_with(&id(n)));
            match (n, path.ends_with("/reboot")) {
                (None, _) => reply(
                    404,
                    r#"{"status":404,"error":"device_not_found","message":"no"}"#.into(),
                    None,
                ),
                (Some(n), true) => reply(
                    200,
                    json!({ "id": id(n), "operation": "reboot" }).to_string(),
                    None,
                ),
                (Some(n), false) => reply(200, device(n).to_string(), None),
            }
        })
    }

    fn item(value: Value) -> Result<ItemPlan, Error> {
        plan_item(&raw(value)?)
    }

    fn by(mode: &str, value: &str) -> Value {
        json!({ "__rl": true, "mode": mode, "value": value })
    }

    fn settings(stop_on_error: bool) -> BatchSettings {
        BatchSettings {
            concurrency: 1,
            stop_on_error,
        }
    }

    fn outcome(result: &Option<ItemResult<Output<Value>>>) -> Result<Value, String> {
        match result.as_ref().map(|r| &r.result) {
            None => Err("not run".into()),
            Some(Ok(Output::One(value))) => Ok(value.clone()),
            Some(Ok(Output::Many(values))) => Ok(Value::Array(values.clone())),
            Some(Err(error)) => Err(error.code().to_string()),
        }
    }

    #[test]
    fn by_phone_the_number_is_found_in_one_listing_for_every_item() {
        let fake = account(250);
        let plans = vec![
            item(json!({ "operation": "reboot", "device": by("phone", "+12025550007") })),
            item(json!({ "operation": "reboot", "device": by("id", &id(8)) })),
            item(json!({ "operation": "reboot", "device": by("phone", " +12025550120 ") })),
            item(json!({ "operation": "reboot", "device": by("list", &id(9)) })),
        ];
        let results = fake.run(run_items(&fake, &credentials(), plans, settings(false)));
        let ids: Vec<Value> = results
            .iter()
            .map(|r| outcome(r).unwrap()["id"].clone())
            .collect();
        assert_eq!(
            ids,
            [json!(id(7)), json!(id(8)), json!(id(120)), json!(id(9))]
        );
        let lists = fake
            .urls()
            .iter()
            .filter(|u| u.contains("/devices?"))
            .count();
        assert_eq!(
            lists, 3,
            "one listing of 250 numbers (3 pages) for both phone items"
        );
    }

    #[test]
    fn an_unknown_phone_fails_its_item_and_sends_nothing_for_it() {
        let fake = account(20);
        let plans = vec![
            item(json!({ "operation": "reboot", "device": by("phone", "+19995550000") })),
            item(json!({ "operation": "reboot", "device": by("id", &id(1)) })),
        ];
        let results = fake.run(run_items(&fake, &credentials(), plans, settings(false)));
        assert_eq!(outcome(&results[0]), Err("SPARKBOT_PHONE_NOT_FOUND".into()));
        assert_eq!(outcome(&results[1]).unwrap()["id"], json!(id(1)));
        assert!(!fake
            .urls()
            .iter()
            .any(|u| u.contains("/reboot") && !u.contains(&id(1))));

        // Without continue-on-fail nothing at all is sent: the phone is checked first.
        let fake = account(20);
        let plans = vec![
            item(json!({ "operation": "reboot", "device": by("id", &id(1)) })),
            item(json!({ "operation": "reboot", "device": by("phone", "+19995550000") })),
        ];
        let results = fake.run(run_items(&fake, &credentials(), plans, settings(true)));
        assert_eq!(first_failure(&results), Some(1));
        assert!(
            fake.urls().iter().all(|u| u.contains("/devices?")),
            "{:?}",
            fake.urls()
        );
        let error = results[1].as_ref().unwrap().result.as_ref().unwrap_err();
        assert!(
            error.message().contains("+19995550000"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn a_phone_that_is_not_one_is_refused_before_any_request() {
        for bad in [
            "14155550100",
            "+1415",
            "+1 415 55",
            "",
            "+1234567890123456",
            "+1 415 555 0100 ext 2",
            "+1_415_555_0100",
        ] {
            let plan = item(json!({ "operation": "reboot", "device": by("phone", bad) }));
            let error = plan.unwrap_err();
            assert!(
                error.message().starts_with("WhatsApp Number: "),
                "{bad}: {}",
                error.message()
            );
        }
        let hint = |bad: &str| {
            item(json!({ "operation": "reboot", "device": by("phone", bad) }))
                .unwrap_err()
                .message()
        };
        assert!(hint("14155550100").ends_with("add + and the country code"));
        // Only digits without a + get that hint: too few digits after a + do not.
        assert!(
            hint("+1415").ends_with("+1 415 555 0100"),
            "{}",
            hint("+1415")
        );
        assert!(
            hint("1415x").ends_with("+1 415 555 0100"),
            "{}",
            hint("1415x")
        );
        assert_eq!(
            hint(" 6523a1f0c2d4e5f60718293a "),
            "WhatsApp Number: \" 6523a1f0c2d4e5f60718293a \" is a device ID, not a phone number; switch the WhatsApp Number to By ID"
        );
    }

    #[test]
    fn phones_with_the_usual_separators_are_read_as_e164() {
        for written in [
            "+1 415 555 0100",
            "+1-415-555-0100",
            "+1 (415) 555-0100",
            "+1.415.555.0100",
            " +14155550100 ",
        ] {
            let plan = item(json!({ "operation": "reboot", "device": by("phone", written) }));
            match plan {
                Ok(ItemPlan::Device { target, .. }) => {
                    assert_eq!(
                        format!("{target:?}"),
                        "Phone(\"+14155550100\")",
                        "{written}"
                    )
                }
                other => panic!("{written}: {other:?}"),
            }
        }
    }

    #[test]
    fn get_returns_the_device_as_sparkbot_sends_it() {
        let fake = account(5);
        let plans = vec![
            item(
                json!({ "resource": "whatsappNumber", "operation": "get", "device": by("id", &id(3)) }),
            ),
            item(
                json!({ "resource": "whatsappNumber", "operation": "get", "device": by("phone", "+12025550004") }),
            ),
            item(
                json!({ "resource": "whatsappNumber", "operation": "get", "device": by("id", &id(9)) }),
            ),
        ];
        let results = fake.run(run_items(&fake, &credentials(), plans, settings(false)));
        assert_eq!(outcome(&results[0]).unwrap(), device(3));
        assert_eq!(outcome(&results[1]).unwrap(), device(4));
        assert_eq!(
            outcome(&results[2]),
            Err("SPARKBOT_DEVICE_NOT_FOUND".into())
        );
        assert!(fake
            .urls()
            .contains(&format!("http://127.0.0.1:1/v1/devices/{}", id(3))));
    }

    #[test]
    fn get_qr_code_by_id_reads_the_numbers_alias_and_phone_first() {
        // A number picked by ID: its names are read before the scan (the file is named after
        // them); SparkBot's scan answer is turned into the QR code's JSON.
        let fake = Fake::new(|request, _| {
            let path = request.url.split("/devices/").nth(1).unwrap_or_default();
            let body = if path.ends_with("/scan") {
                json!({
                    "qr": "2@abc",
                    "image": "data:image/png;base64,iVBORw0KGgo=",
                    "expiresAt": "2026-12-03T10:00:00Z",
                    "session": { "status": "authorize" },
                })
            } else {
                device(2)
            };
            Answer::Reply(HttpReply {
                status: 200,
                content_type: Some("application/json".into()),
                body: body.to_string(),
                elapsed_ms: 10,
                ..Default::default()
            })
        });
        let plans = vec![item(json!({
            "resource": "whatsappSession",
            "operation": "getQrCode",
            "device": by("id", &id(2)),
            "binaryPropertyName": "data",
        }))];
        let results = fake.run(run_items(&fake, &credentials(), plans, settings(false)));
        let code = outcome(&results[0]).unwrap();
        assert_eq!(code["json"]["id"], json!(id(2)));
        assert_eq!(code["json"]["alias"], device(2)["alias"]);
        assert_eq!(code["json"]["phone"], device(2)["phone"]);
        assert_eq!(code["json"]["qr"], json!("2@abc"));
        assert_eq!(code["file"]["fileName"], json!("n2-+12025550002-qr.png"));
        assert_eq!(code["file"]["mimeType"], json!("image/png"));
        assert_eq!(
            fake.urls(),
            vec![
                format!("http://127.0.0.1:1/v1/devices/{}", id(2)),
                format!("http://127.0.0.1:1/v1/devices/{}/scan", id(2)),
            ]
        );
    }

    #[test]
    fn get_many_keeps_the_services_order_filters_and_limit() {
        let many = |extra: Value| {
            let mut value = json!({ "resource": "whatsappNumber", "operation": "getAll" });
            value
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            item(value)
        };
        let run = |plan: Result<ItemPlan, Error>, total: usize| {
            let fake = account(total);
            let results = fake.run(run_items(&fake, &credentials(), vec![plan], settings(true)));
            let ids: Vec<usize> = outcome(&results[0])
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|d| usize::from_str_radix(d["id"].as_str().unwrap(), 16).unwrap())
                .collect();
            (ids, fake.urls())
        };
        let (ids, urls) = run(many(json!({})), 230);
        assert_eq!(ids, (0..50).collect::<Vec<_>>(), "Limit 50 by default");
        assert_eq!(urls, ["http://127.0.0.1:1/v1/devices?page=0&size=50"]);
        let (ids, urls) = run(many(json!({ "returnAll": true })), 230);
        assert_eq!(ids, (0..230).collect::<Vec<_>>());
        assert_eq!(urls.len(), 3);
        let (ids, _) = run(
            many(
                json!({ "returnAll": true, "filters": { "sessionStatus": ["offline"], "status": ["operative"] } }),
            ),
            30,
        );
        assert_eq!(ids, [1, 5, 7, 11, 13, 17, 19, 23, 25, 29]);
        let (ids, _) = run(
            many(json!({ "limit": 3, "filters": { "sessionStatus": "online" } })),
            230,
        );
        assert_eq!(ids, [0, 2, 4]);
        // A Number Status filter alone also makes the first matches lie anywhere.
        let status = json!(["disabled"]);
        let (all, _) = run(
            many(json!({ "returnAll": true, "filters": { "status": status } })),
            230,
        );
        let (ids, _) = run(
            many(json!({ "limit": 3, "filters": { "status": status } })),
            230,
        );
        assert!(all.len() > 3 && all[2] > 2, "{all:?}");
        assert_eq!(ids, all[..3]);
        let error = many(json!({ "filters": { "sessionStatus": ["asleep"] } })).unwrap_err();
        assert_eq!(
            error.message(),
            "Session Status: \"asleep\" is not one of online, offline, timeout, authorize, connecting, rebooting or resetting"
        );
        assert!(many(json!({ "limit": 0 }))
            .unwrap_err()
            .message()
            .starts_with("Limit: 0 is not a whole number of at least 1"));
    }

    fn raw(value: Value) -> Result<RawItem, Error> {
        let field = |name: &str| value.get(name).cloned();
        Ok(RawItem {
            resource: field("resource"),
            operation: field("operation"),
            device: field("device"),
            options: field("options"),
            return_all: field("returnAll"),
            limit: field("limit"),
            filters: field("filters"),
            binary_property: field("binaryPropertyName"),
        })
    }

    fn reboot(n: usize, options: Value) -> Result<RawItem, Error> {
        raw(json!({ "operation": "reboot", "device": by("id", &id(n)), "options": options }))
    }

    fn unresolved() -> Result<RawItem, Error> {
        Err(Error::Unresolved {
            message: "Referenced node doesn't exist".into(),
            description: Some("The expression uses data from a node that is not there".into()),
        })
    }

    /// Each outcome as text: the id, `[n]` for Get Many, `CODE/attempts`, or `not run`.
    fn outcomes(execution: &Execution<Value>) -> Vec<String> {
        let Execution::Items(items) = execution else {
            panic!("expected items, got {execution:?}");
        };
        items
            .iter()
            .map(|outcome| match outcome {
                ItemOutcome::One { object, attempts } => match attempts {
                    Some(attempts) => format!("{}+{attempts}", object["id"].as_str().unwrap()),
                    None => object["id"].as_str().unwrap().to_string(),
                },
                ItemOutcome::Many(objects) => format!("[{}]", objects.len()),
                ItemOutcome::Failed { error, attempts } => format!("{}/{attempts}", error.code()),
                ItemOutcome::NotRun => "not run".into(),
            })
            .collect()
    }

    #[test]
    fn a_credential_that_cannot_be_read_fails_every_item_and_sends_nothing() {
        let error = || Error::invalid_parameter("API Key", "is empty");
        let items = || {
            vec![
                reboot(1, json!({})),
                reboot(2, json!({})),
                reboot(3, json!({})),
            ]
        };
        let fake = account(5);
        let run = fake.run(execute(&fake, Err(error()), items(), false));
        assert_eq!(outcomes(&run), ["SPARKBOT_INVALID_PARAMETER/0"; 3]);
        match fake.run(execute(&fake, Err(error()), items(), true)) {
            Execution::Failed {
                index,
                error,
                attempts,
            } => {
                assert_eq!((index, attempts), (0, 0));
                assert!(error.message().contains("API Key"), "{}", error.message());
            }
            other => panic!("expected the run to fail, got {other:?}"),
        }
        assert!(fake.urls().is_empty());
    }

    #[test]
    fn the_first_items_concurrency_is_the_runs_and_a_bad_one_fails_every_item() {
        for (first, most) in [(1, 1), (3, 3), (8, 5)] {
            let fake = account(10);
            let items = (0..5)
                .map(|n| reboot(n, json!({ "concurrency": if n == 0 { first } else { 1 } })))
                .collect();
            let run = fake.run(execute(&fake, Ok(credentials()), items, false));
            assert_eq!(outcomes(&run), (0..5).map(id).collect::<Vec<_>>());
            assert_eq!(fake.most_in_flight.get(), most, "Concurrency {first}");
        }
        let fake = account(10);
        let items = vec![reboot(0, json!({ "concurrency": 0 })), reboot(1, json!({}))];
        let run = fake.run(execute(&fake, Ok(credentials()), items, false));
        assert_eq!(outcomes(&run), ["SPARKBOT_INVALID_PARAMETER/0"; 2]);
        assert!(fake.urls().is_empty());
    }

    #[test]
    fn an_item_n8n_could_not_resolve_fails_alone_with_n8ns_own_words() {
        for at in 0..3 {
            let items = || {
                (0..3)
                    .map(|n| {
                        if n == at {
                            unresolved()
                        } else {
                            reboot(n, json!({}))
                        }
                    })
                    .collect::<Vec<_>>()
            };
            let fake = account(5);
            let run = fake.run(execute(&fake, Ok(credentials()), items(), false));
            let expected: Vec<String> = (0..3)
                .map(|n| {
                    if n == at {
                        "SPARKBOT_INVALID_PARAMETER/0".into()
                    } else {
                        id(n)
                    }
                })
                .collect();
            assert_eq!(outcomes(&run), expected, "unresolved item {at}");
            let Execution::Items(items_out) = &run else {
                unreachable!()
            };
            let ItemOutcome::Failed { error, .. } = &items_out[at] else {
                unreachable!()
            };
            assert_eq!(error.message(), "Referenced node doesn't exist");
            assert_eq!(fake.urls().len(), 2);

            // Without continue-on-fail the run fails with it, before anything is sent.
            let fake = account(5);
            match fake.run(execute(&fake, Ok(credentials()), items(), true)) {
                Execution::Failed {
                    index,
                    attempts,
                    error,
                } => {
                    assert_eq!((index, attempts), (at, 0));
                    assert_eq!(error.message(), "Referenced node doesn't exist");
                }
                other => panic!("expected the run to fail, got {other:?}"),
            }
            assert!(fake.urls().is_empty(), "unresolved item {at}: nothing sent");
        }
    }

    #[test]
    fn without_continue_on_fail_the_run_fails_with_the_first_failure_in_input_order() {
        // Item 1's number does not exist (404); items after it do not start.
        let fake = account(3);
        let items = vec![
            reboot(0, json!({})),
            reboot(7, json!({})),
            reboot(1, json!({})),
        ];
        match fake.run(execute(&fake, Ok(credentials()), items, true)) {
            Execution::Failed {
                index,
                attempts,
                error,
            } => {
                assert_eq!(
                    (index, attempts, error.code()),
                    (1, 1, "SPARKBOT_DEVICE_NOT_FOUND")
                );
            }
            other => panic!("expected the run to fail, got {other:?}"),
        }
        assert_eq!(fake.urls().len(), 2, "{:?}", fake.urls());
        // With continue-on-fail every item has its outcome.
        let fake = account(3);
        let items = vec![
            reboot(0, json!({})),
            reboot(7, json!({})),
            reboot(1, json!({})),
        ];
        let run = fake.run(execute(&fake, Ok(credentials()), items, false));
        assert_eq!(
            outcomes(&run),
            [id(0), "SPARKBOT_DEVICE_NOT_FOUND/1".into(), id(1)]
        );
    }

    #[test]
    fn the_attempt_count_is_added_only_where_the_item_asks_and_get_many_gives_a_list() {
        let fake = account(4);
        let items = vec![
            reboot(0, json!({ "includeAttempts": true })),
            reboot(1, json!({})),
            raw(json!({ "resource": "whatsappNumber", "operation": "getAll", "returnAll": true })),
        ];
        let run = fake.run(execute(&fake, Ok(credentials()), items, false));
        assert_eq!(
            outcomes(&run),
            [format!("{}+1", id(0)), id(1), "[4]".into()]
        );
    }

    #[test]
    fn an_empty_run_sends_nothing() {
        let fake = account(1);
        let run = fake.run(execute(&fake, Ok(credentials()), Vec::new(), true));
        assert!(outcomes(&run).is_empty());
        assert!(fake.urls().is_empty());
    }
}
