//! SparkBot Webhook Trigger: SparkBot calls n8n the moment a session changes, and every delivery
//! is checked here before anything runs.
//!
//! - **Signature**: `X-SparkBot-Signature: sha256=<hex>` is the HMAC-SHA256, with the secret made
//!   for this activation, of `"<X-SparkBot-Timestamp>.<raw body>"`; it is compared in constant
//!   time. A timestamp more than [`REPLAY_WINDOW_SECS`] from now is refused (a recorded delivery
//!   cannot be played again later). Every refusal is answered alike (`401`), so a forger learns
//!   nothing from it.
//! - **Once**: SparkBot retries a delivery it got no `2xx` for (after 1 s, 5 s, 30 s, 2 min and
//!   10 min) and may send one twice. The [`Memory`] keeps the delivery IDs seen in the last
//!   [`MEMORY_SECS`] (at most [`MAX_DELIVERIES`]) and, per number, the newest session change
//!   seen (at most [`MAX_NUMBERS`] numbers): a delivery seen before, or a change older than one
//!   already seen for that number (deliveries arrive out of order), is answered `200` and runs
//!   nothing. A change older than the memory reaches is too old to be news.
//! - **Registration**: [`Registration`] is what the node keeps in its static data — the
//!   webhook's ID, the URL it was registered for and its secret; [`find_or_replace`] and
//!   [`unregister`] speak `/webhooks`.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::batch::{send_with_retries, BatchState};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::io::Io;
use crate::json::{JsonReader, JsonType};
use crate::order::sort_by;
use crate::plan::{is_device_id, Expect, Method, RequestContext, RequestPlan};
use crate::status::interpret_action;
use crate::text::sanitize;
use crate::trigger::Watch;

/// The only event the trigger registers for.
pub const SESSION_EVENT: &str = "session:status";
/// How far a delivery's timestamp may be from now, either way, in seconds.
pub const REPLAY_WINDOW_SECS: i64 = 5 * 60;
/// How long deliveries and changes are remembered, in seconds: longer than SparkBot's retries
/// last (1 s + 5 s + 30 s + 2 min + 10 min, each after up to 10 s without an answer).
pub const MEMORY_SECS: i64 = 30 * 60;
/// Most delivery IDs remembered (about 40 bytes each in the static data).
pub const MAX_DELIVERIES: usize = 1_000;
/// Most numbers whose newest change is remembered (about 60 bytes each).
pub const MAX_NUMBERS: usize = 1_000;
/// Bytes of a webhook secret (sent as 64 hex characters; the contract asks for 16 at least).
pub const SECRET_BYTES: usize = 32;
/// Time budget of each `/webhooks` request and of the device read of a delivery, in ms.
const REQUEST_BUDGET_MS: u32 = 10_000;
/// Largest delivery body read, in bytes (the contract's are a few hundred).
pub const MAX_DELIVERY_BYTES: usize = 64 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// A delivery's headers, as received (any may be missing).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryHeaders<'a> {
    /// `X-SparkBot-Timestamp`: unix seconds.
    pub timestamp: Option<&'a str>,
    /// `X-SparkBot-Signature`: `sha256=<hex>`.
    pub signature: Option<&'a str>,
}

/// Why a delivery was refused. All are answered the same way (`401`, no detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No usable signature or timestamp header.
    Unsigned,
    /// The signature does not match.
    BadSignature,
    /// The timestamp is more than [`REPLAY_WINDOW_SECS`] away from now.
    Stale,
    /// The node holds no secret for this URL (the webhook is not this activation's).
    NoSecret,
}

/// Checks a delivery's signature and timestamp: the HMAC-SHA256 of `"<timestamp>.<body>"` with
/// `secret`, compared in constant time, then the timestamp against `now_secs`.
pub fn verify(
    secret: &str,
    headers: DeliveryHeaders,
    body: &[u8],
    now_secs: i64,
) -> Result<(), Refusal> {
    if secret.is_empty() {
        return Err(Refusal::NoSecret);
    }
    let timestamp = headers.timestamp.map(str::trim).ok_or(Refusal::Unsigned)?;
    let signature = headers
        .signature
        .map(str::trim)
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(decode_hex)
        .filter(|bytes| bytes.len() == 32)
        .ok_or(Refusal::Unsigned)?;
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Refusal::Unsigned);
    }
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::NoSecret)?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| Refusal::BadSignature)?;
    // Checked after the signature: an unsigned request learns nothing about the clock.
    let sent: i64 = timestamp.parse().map_err(|_| Refusal::Unsigned)?;
    if (now_secs - sent).abs() > REPLAY_WINDOW_SECS {
        return Err(Refusal::Stale);
    }
    Ok(())
}

/// The signature SparkBot sends for `body` at `timestamp` (tests and the simulator's peers).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("sha256={}", hex(&mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let digit = |nibble: u8| char::from_digit(u32::from(nibble), 16).unwrap_or('0');
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(digit(byte >> 4));
        text.push(digit(byte & 0x0f));
    }
    text
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 128 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((nibble(*high)? << 4) | nibble(*low)?),
            _ => None,
        })
        .collect()
}

/// One delivery, as SparkBot signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery ID (the same on every retry).
    pub id: String,
    /// The event, `session:status`.
    pub event: String,
    /// The number: `{ id, alias, phone }` as sent.
    pub device: Map<String, Value>,
    /// The number's ID.
    pub device_id: String,
    /// The session's new status.
    pub status: String,
    /// The status before, if sent.
    pub previous_status: Option<String>,
    /// When the session changed, as sent (RFC 3339).
    pub updated_at: String,
    /// `updated_at` in unix seconds.
    pub updated_secs: i64,
}

/// Reads a delivery body; `Err` says what is wrong with it.
pub fn parse_delivery(body: &Value) -> Result<Delivery, String> {
    let object = body
        .as_object()
        .ok_or("the delivery is not a JSON object")?;
    let text = |value: Option<&Value>, name: &str| {
        value
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(format!("the delivery has no {name}"))
    };
    let id = text(object.get("id"), "id")?;
    if !is_device_id(&id) {
        return Err("the delivery id is not 24 lowercase hex characters".into());
    }
    let event = text(object.get("event"), "event")?;
    let device = object
        .get("device")
        .and_then(Value::as_object)
        .cloned()
        .ok_or("the delivery has no device")?;
    let device_id = text(device.get("id"), "device id")?;
    if !is_device_id(&device_id) {
        return Err("the device id is not 24 lowercase hex characters".into());
    }
    let data = object
        .get("data")
        .and_then(Value::as_object)
        .ok_or("the delivery has no data")?;
    let status = text(data.get("status"), "status")?;
    if status.is_empty() || status.len() > 40 {
        return Err("the delivery's status is empty or too long".into());
    }
    let updated_at = text(data.get("updatedAt"), "updatedAt")?;
    let updated_secs =
        rfc3339_secs(&updated_at).ok_or("the delivery's updatedAt is not an RFC 3339 time")?;
    Ok(Delivery {
        id,
        event,
        device,
        device_id,
        status,
        previous_status: data
            .get("previousStatus")
            .and_then(Value::as_str)
            .map(str::to_string),
        updated_at,
        updated_secs,
    })
}

/// Unix seconds of an RFC 3339 time (`2026-11-21T10:15:00Z`, fractions and offsets allowed).
pub fn rfc3339_secs(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = bytes.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| bytes.get(at) != Some(&c))
        || !matches!(bytes.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = bytes.get(19..)?;
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = tail.get(digits..)?;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = |a: u8, b: u8| i64::from(a - b'0') * 10 + i64::from(b - b'0');
            let minutes = value(*h1, *h2) * 60 + value(*m1, *m2);
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// What the trigger remembers of deliveries, in the node's static data (and in the process, so
/// that two deliveries at the same moment see each other).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// Delivery IDs and when they were seen (unix seconds), oldest first.
    deliveries: Vec<(String, i64)>,
    /// Per number: the newest change seen (its time and status) and when it was seen.
    numbers: Vec<Mark>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    device: String,
    updated_secs: i64,
    status: String,
    seen_secs: i64,
}

/// What to do with a verified delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Start the workflow with this change.
    Run,
    /// Seen before (a retry or a duplicate): nothing runs.
    Duplicate,
    /// Older than a change already seen for that number: nothing runs.
    OutOfOrder,
    /// Older than the memory reaches: nothing runs.
    TooOld,
    /// A change the filters do not watch: nothing runs.
    NotWatched,
    /// Another event than `session:status`: nothing runs.
    OtherEvent,
}

impl Memory {
    /// The memory kept in static data, or an empty one.
    pub fn from_static(value: Option<&Value>) -> Memory {
        let Some(object) = value.and_then(Value::as_object) else {
            return Memory::default();
        };
        let deliveries = object
            .get("deliveries")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|entry| match entry.as_array().map(Vec::as_slice) {
                        Some([Value::String(id), seen]) => Some((id.clone(), seen.as_i64()?)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let numbers = object
            .get("numbers")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|entry| match entry.as_array().map(Vec::as_slice) {
                        Some([Value::String(device), updated, Value::String(status), seen]) => {
                            Some(Mark {
                                device: device.clone(),
                                updated_secs: updated.as_i64()?,
                                status: status.clone(),
                                seen_secs: seen.as_i64()?,
                            })
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut memory = Memory {
            deliveries,
            numbers,
        };
        memory.bound();
        memory
    }

    /// The memory as static data keeps it.
    pub fn to_static(&self) -> Value {
        let deliveries = self
            .deliveries
            .iter()
            .map(|(id, seen)| Value::Array(vec![Value::String(id.clone()), Value::from(*seen)]))
            .collect();
        let numbers = self
            .numbers
            .iter()
            .map(|m| {
                Value::Array(vec![
                    Value::String(m.device.clone()),
                    Value::from(m.updated_secs),
                    Value::String(m.status.clone()),
                    Value::from(m.seen_secs),
                ])
            })
            .collect();
        let mut object = Map::new();
        object.insert("deliveries".into(), Value::Array(deliveries));
        object.insert("numbers".into(), Value::Array(numbers));
        Value::Object(object)
    }

    /// Adds what `other` remembers (the process's memory and the static data's, for one node).
    pub fn merge(&mut self, other: &Memory) {
        for (id, seen) in &other.deliveries {
            if !self.deliveries.iter().any(|(known, _)| known == id) {
                self.deliveries.push((id.clone(), *seen));
            }
        }
        sort_by(&mut self.deliveries, |a, b| a.1.cmp(&b.1));
        for mark in &other.numbers {
            self.mark(mark.clone());
        }
        self.bound();
    }

    /// Decides what a verified delivery does, and remembers it.
    pub fn decide(&mut self, delivery: &Delivery, watch: &Watch, now_secs: i64) -> Verdict {
        self.forget_before(now_secs - MEMORY_SECS);
        if self.deliveries.iter().any(|(id, _)| *id == delivery.id) {
            return Verdict::Duplicate;
        }
        self.deliveries.push((delivery.id.clone(), now_secs));
        let verdict = if delivery.event != SESSION_EVENT {
            Verdict::OtherEvent
        } else if delivery.updated_secs < now_secs - MEMORY_SECS {
            Verdict::TooOld
        } else {
            let newer = self
                .numbers
                .iter()
                .find(|m| m.device == delivery.device_id)
                .is_none_or(|m| {
                    delivery.updated_secs > m.updated_secs
                        || (delivery.updated_secs == m.updated_secs && delivery.status != m.status)
                });
            if !newer {
                Verdict::OutOfOrder
            } else {
                self.mark(Mark {
                    device: delivery.device_id.clone(),
                    updated_secs: delivery.updated_secs,
                    status: delivery.status.clone(),
                    seen_secs: now_secs,
                });
                if watch.watches(&delivery.device_id, &delivery.status) {
                    Verdict::Run
                } else {
                    Verdict::NotWatched
                }
            }
        };
        self.bound();
        verdict
    }

    /// Keeps the newer of a number's marks.
    fn mark(&mut self, mark: Mark) {
        match self.numbers.iter_mut().find(|m| m.device == mark.device) {
            Some(known)
                if (mark.updated_secs, mark.seen_secs) > (known.updated_secs, known.seen_secs) =>
            {
                *known = mark;
            }
            Some(_) => {}
            None => self.numbers.push(mark),
        }
    }

    fn forget_before(&mut self, cutoff: i64) {
        self.deliveries.retain(|(_, seen)| *seen >= cutoff);
        self.numbers.retain(|m| m.seen_secs >= cutoff);
    }

    /// At most [`MAX_DELIVERIES`] and [`MAX_NUMBERS`]: the oldest go first.
    fn bound(&mut self) {
        if self.deliveries.len() > MAX_DELIVERIES {
            let excess = self.deliveries.len() - MAX_DELIVERIES;
            self.deliveries.drain(..excess);
        }
        if self.numbers.len() > MAX_NUMBERS {
            sort_by(&mut self.numbers, |a, b| a.seen_secs.cmp(&b.seen_secs));
            let excess = self.numbers.len() - MAX_NUMBERS;
            self.numbers.drain(..excess);
        }
    }
}

/// The webhook SparkBot calls, as the node keeps it in static data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// SparkBot's ID of the webhook.
    pub id: String,
    /// The n8n URL it was registered for.
    pub url: String,
    /// The secret its deliveries are signed with.
    pub secret: String,
}

impl Registration {
    /// The registration in static data, if there is a readable one.
    pub fn from_static(value: Option<&Value>) -> Option<Registration> {
        let object = value?.as_object()?;
        let text = |name: &str| object.get(name)?.as_str().map(str::to_string);
        Some(Registration {
            id: text("webhookId").filter(|id| is_device_id(id))?,
            url: text("url")?,
            secret: text("secret").filter(|s| s.len() >= 16)?,
        })
    }

    /// The registration as static data keeps it.
    pub fn to_static(&self) -> Value {
        let mut object = Map::new();
        object.insert("webhookId".into(), Value::String(self.id.clone()));
        object.insert("url".into(), Value::String(self.url.clone()));
        object.insert("secret".into(), Value::String(self.secret.clone()));
        Value::Object(object)
    }
}

/// A new secret from `random` bytes (at least [`SECRET_BYTES`] of them).
pub fn new_secret(random: &[u8]) -> Result<String, Error> {
    match random.get(..SECRET_BYTES) {
        Some(bytes) => Ok(hex(bytes)),
        None => Err(Error::InvalidResponse {
            problem: "the host gave too few random bytes for a webhook secret".into(),
        }),
    }
}

fn plan(
    method: Method,
    path: &str,
    body: Option<String>,
    credentials: &Credentials,
) -> RequestPlan {
    RequestPlan {
        method,
        url: credentials.base_url.join(path),
        body,
        timeout_ms: REQUEST_BUDGET_MS,
        retry: true,
        report_attempts: false,
        expect: Expect::Object,
        context: RequestContext {
            host: credentials.base_url.host().to_string(),
            timeout_ms: REQUEST_BUDGET_MS,
            ..RequestContext::default()
        },
    }
}

/// A `/webhooks` answer: its body on `2xx`, `None` on SparkBot's `404 webhook_not_found`.
async fn call<E: Io + JsonReader>(io: &E, plan: &RequestPlan) -> Result<Option<String>, Error> {
    let sent = send_with_retries(io, plan, &BatchState::default()).await;
    if let Ok(reply) = &sent.outcome {
        if reply.status == 404
            && io
                .parse(&reply.body)
                .ok()
                .and_then(|body| {
                    body.get("error")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .as_deref()
                == Some("webhook_not_found")
        {
            return Ok(None);
        }
    }
    interpret_action(&plan.context, sent.outcome, &|text| io.parse(text)).map(Some)
}

/// Whether `stored` is a webhook SparkBot still has, registered for `url` (n8n's
/// `checkExists`). One registered for another URL (n8n's public URL changed) is not.
pub async fn exists<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    stored: Option<&Registration>,
    url: &str,
) -> Result<bool, Error> {
    let Some(stored) = stored.filter(|s| s.url == url) else {
        return Ok(false);
    };
    let answer = call(
        io,
        &plan(
            Method::Get,
            &format!("/webhooks/{}", stored.id),
            None,
            credentials,
        ),
    )
    .await?;
    Ok(answer
        .and_then(|body| io.parse(&body).ok())
        .is_some_and(|webhook| webhook.get("url").and_then(Value::as_str) == Some(url)))
}

/// Registers a webhook for `url` with `secret` (n8n's `create`): the one `stored` (for an old
/// URL, or lost) is deleted first, and so is any other webhook SparkBot has for `url` (its
/// secret is unknown, so it cannot be reused) — there is never more than one.
pub async fn find_or_replace<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    stored: Option<&Registration>,
    url: &str,
    secret: String,
) -> Result<Registration, Error> {
    if let Some(stored) = stored {
        unregister(io, credentials, stored).await?;
    }
    let listed = call(io, &plan(Method::Get, "/webhooks", None, credentials))
        .await?
        .unwrap_or_default();
    let listed = io
        .parse(&listed)
        .map_err(|problem| Error::InvalidResponse {
            problem: format!(
                "the webhook list is not valid JSON ({})",
                sanitize(&problem, 200)
            ),
        })?;
    let Value::Array(webhooks) = listed else {
        return Err(Error::InvalidResponse {
            problem: "expected a list of webhooks".into(),
        });
    };
    for webhook in &webhooks {
        let same_url = webhook.get("url").and_then(Value::as_str) == Some(url);
        if let (true, Some(id)) = (same_url, webhook.get("id").and_then(Value::as_str)) {
            if is_device_id(id) {
                call(
                    io,
                    &plan(
                        Method::Delete,
                        &format!("/webhooks/{id}"),
                        None,
                        credentials,
                    ),
                )
                .await?;
            }
        }
    }
    let body = format!(
        "{{\"url\":{},\"events\":[\"{SESSION_EVENT}\"],\"secret\":{}}}",
        json_string(url),
        json_string(&secret)
    );
    let created = call(
        io,
        &plan(Method::Post, "/webhooks", Some(body), credentials),
    )
    .await?
    .unwrap_or_default();
    let id = io
        .parse(&created)
        .ok()
        .and_then(|webhook| {
            webhook
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|id| is_device_id(id))
        .ok_or_else(|| Error::InvalidResponse {
            problem: "the new webhook has no id".into(),
        })?;
    Ok(Registration {
        id,
        url: url.to_string(),
        secret,
    })
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Deletes the webhook (n8n's `delete`); one SparkBot no longer has is gone already.
pub async fn unregister<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    stored: &Registration,
) -> Result<(), Error> {
    call(
        io,
        &plan(
            Method::Delete,
            &format!("/webhooks/{}", stored.id),
            None,
            credentials,
        ),
    )
    .await?;
    Ok(())
}

/// Registers a webhook for `url` (n8n's `create`) with a new secret made from `random` (at
/// least [`SECRET_BYTES`] bytes of the runtime's cryptographic generator): see
/// [`find_or_replace`].
pub async fn register<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    stored: Option<&Registration>,
    url: &str,
    random: &[u8],
) -> Result<Registration, Error> {
    let secret = new_secret(random)?;
    find_or_replace(io, credentials, stored, url, secret).await
}

/// What the process remembers of the deliveries of each trigger node (by a key the shim makes
/// of workflow, node and mode), at most [`MAX_RECENT_NODES`] nodes, the least recent dropped
/// first.
#[derive(Debug, Default)]
pub struct Recent {
    nodes: Vec<(String, Memory)>,
}

impl Recent {
    /// Remembers nothing yet (a `const fn`: a thread-local holding it needs no lazy set-up).
    pub const fn new() -> Recent {
        Recent { nodes: Vec::new() }
    }
}

/// Most trigger nodes whose deliveries a process remembers.
pub const MAX_RECENT_NODES: usize = 64;

/// What became of a delivery.
#[derive(Debug)]
pub enum Received {
    /// Not signed with the secret, or its timestamp too far from now: `401`, nothing runs,
    /// nothing is remembered.
    Refused,
    /// Signed, but not a delivery: `400`.
    Unreadable,
    /// Checked: `200`, with the memory to keep and, when the workflow is to run, the delivery.
    Checked {
        /// What the node remembers now (boxed: the other answers carry nothing).
        memory: Box<Memory>,
        /// The change to report, if any.
        run: Option<Delivery>,
    },
}

impl Received {
    /// The HTTP status SparkBot is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Received::Refused => 401,
            Received::Unreadable => 400,
            Received::Checked { .. } => 200,
        }
    }
}

/// One delivery to the node `key`: verified with the secret of `registration` against the raw
/// `body` (`parsed`: the same body read as JSON, if it is JSON), then decided with what the
/// static data (`remembered`) and the process (`recent`) remember.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    recent: &mut Recent,
    key: &str,
    registration: Option<&Registration>,
    remembered: Memory,
    headers: DeliveryHeaders,
    body: &[u8],
    parsed: Option<&Value>,
    watch: &Watch,
    now_secs: i64,
) -> Received {
    let secret = registration.map(|r| r.secret.as_str()).unwrap_or_default();
    if body.len() > MAX_DELIVERY_BYTES || verify(secret, headers, body, now_secs).is_err() {
        return Received::Refused;
    }
    let Some(delivery) = parsed.and_then(|value| parse_delivery(value).ok()) else {
        return Received::Unreadable;
    };
    let mut memory = remembered;
    if let Some(at) = recent.nodes.iter().position(|(known, _)| known == key) {
        memory.merge(&recent.nodes.remove(at).1);
    }
    let verdict = memory.decide(&delivery, watch, now_secs);
    recent.nodes.push((key.to_string(), memory.clone()));
    if recent.nodes.len() > MAX_RECENT_NODES {
        recent.nodes.remove(0);
    }
    Received::Checked {
        memory: Box::new(memory),
        run: (verdict == Verdict::Run).then_some(delivery),
    }
}

/// The number a delivery reports, as `GET /devices/{id}` shows it now (one budget of 3 s,
/// retried like every read); `None` when that read fails or answers another device.
pub async fn read_device<E: Io + JsonReader>(
    io: &E,
    credentials: &Credentials,
    delivery: &Delivery,
) -> Option<E::Object> {
    let plan = device_read(&delivery.device_id, credentials);
    let sent = send_with_retries(io, &plan, &BatchState::default()).await;
    let body = interpret_action(&plan.context, sent.outcome, &|text| io.parse(text)).ok()?;
    let same = io.parse(&body).ok()?.get("id").and_then(Value::as_str) == Some(&delivery.device_id);
    match io.parse_body(&body) {
        Ok((JsonType::Object, device)) if same => Some(device),
        _ => None,
    }
}

/// The device read that fills in a delivery's number (`GET /devices/{id}`), one budget of 3 s
/// (the delivery waits for it).
pub fn device_read(device_id: &str, credentials: &Credentials) -> RequestPlan {
    let mut read = plan(
        Method::Get,
        &format!("/devices/{device_id}"),
        None,
        credentials,
    );
    read.timeout_ms = 3_000;
    read.context.timeout_ms = 3_000;
    read.context.device = Some(device_id.to_string());
    read
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_795_000_000;

    fn headers<'a>(timestamp: &'a str, signature: &'a str) -> DeliveryHeaders<'a> {
        DeliveryHeaders {
            timestamp: Some(timestamp),
            signature: Some(signature),
        }
    }

    #[test]
    fn a_signed_delivery_passes_and_any_change_to_it_does_not() {
        let body = br#"{"id":"x"}"#;
        let ts = NOW.to_string();
        let signature = sign(SECRET, &ts, body);
        assert_eq!(verify(SECRET, headers(&ts, &signature), body, NOW), Ok(()));
        assert_eq!(
            verify(SECRET, headers(&ts, &signature), br#"{"id":"y"}"#, NOW),
            Err(Refusal::BadSignature)
        );
        let later = (NOW + 1).to_string();
        assert_eq!(
            verify(SECRET, headers(&later, &signature), body, NOW),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(
                "another-secret-of-length",
                headers(&ts, &signature),
                body,
                NOW
            ),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(
                SECRET,
                headers(&ts, &signature.to_uppercase().replace("SHA256", "sha256")),
                body,
                NOW
            ),
            Ok(()),
            "hex case does not matter"
        );
        for bad in ["", "sha256=", "sha256=zz", "md5=00", &signature[7..]] {
            assert_eq!(
                verify(SECRET, headers(&ts, bad), body, NOW),
                Err(Refusal::Unsigned),
                "{bad}"
            );
        }
        assert_eq!(
            verify(SECRET, DeliveryHeaders::default(), body, NOW),
            Err(Refusal::Unsigned)
        );
        assert_eq!(
            verify("", headers(&ts, &signature), body, NOW),
            Err(Refusal::NoSecret)
        );
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_away_is_a_replay() {
        let body = b"{}";
        for (offset, ok) in [
            (0, true),
            (300, true),
            (-300, true),
            (301, false),
            (-301, false),
        ] {
            let ts = (NOW + offset).to_string();
            let result = verify(SECRET, headers(&ts, &sign(SECRET, &ts, body)), body, NOW);
            assert_eq!(result.is_ok(), ok, "{offset}");
            if !ok {
                assert_eq!(result, Err(Refusal::Stale));
            }
        }
        let ts = "-5";
        assert_eq!(
            verify(SECRET, headers(ts, &sign(SECRET, ts, body)), body, NOW),
            Err(Refusal::Unsigned)
        );
    }

    #[test]
    fn rfc3339_times_read_as_unix_seconds() {
        assert_eq!(rfc3339_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_secs("2026-11-21T10:15:00Z"), Some(1_795_256_100));
        assert_eq!(
            rfc3339_secs("2026-11-21T10:15:00.250Z"),
            Some(1_795_256_100)
        );
        assert_eq!(
            rfc3339_secs("2026-11-21T11:15:00+01:00"),
            Some(1_795_256_100)
        );
        assert_eq!(rfc3339_secs("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "2026-11-21",
            "2026-11-21T10:15:00",
            "2026-13-01T00:00:00Z",
            "2026-11-21T10:15:00ZZ",
            "2026-11-21T10:15:00.Z",
        ] {
            assert_eq!(rfc3339_secs(bad), None, "{bad}");
        }
    }

    fn delivery(id: u32, device: u32, status: &str, updated: i64) -> Delivery {
        Delivery {
            id: format!("{id:024x}"),
            event: SESSION_EVENT.into(),
            device: Map::new(),
            device_id: format!("{device:024x}"),
            status: status.into(),
            previous_status: None,
            updated_at: String::new(),
            updated_secs: updated,
        }
    }

    #[test]
    fn each_change_runs_once_and_never_an_older_one() {
        let watch = Watch::default();
        let mut memory = Memory::default();
        let offline = delivery(1, 7, "offline", NOW - 10);
        assert_eq!(memory.decide(&offline, &watch, NOW), Verdict::Run);
        assert_eq!(memory.decide(&offline, &watch, NOW + 1), Verdict::Duplicate);
        let online = delivery(2, 7, "online", NOW - 5);
        assert_eq!(memory.decide(&online, &watch, NOW + 2), Verdict::Run);
        let late = delivery(3, 7, "timeout", NOW - 8);
        assert_eq!(memory.decide(&late, &watch, NOW + 3), Verdict::OutOfOrder);
        let same_second = delivery(4, 7, "authorize", NOW - 5);
        assert_eq!(memory.decide(&same_second, &watch, NOW + 4), Verdict::Run);
        let other_number = delivery(5, 8, "offline", NOW - 100);
        assert_eq!(memory.decide(&other_number, &watch, NOW + 5), Verdict::Run);
        let ancient = delivery(6, 9, "offline", NOW - MEMORY_SECS - 1);
        assert_eq!(memory.decide(&ancient, &watch, NOW), Verdict::TooOld);
        let mut other = delivery(7, 9, "offline", NOW);
        other.event = "device:removed".into();
        assert_eq!(memory.decide(&other, &watch, NOW), Verdict::OtherEvent);
    }

    #[test]
    fn an_unwatched_change_is_remembered_so_an_older_watched_one_does_not_run() {
        let watch = Watch {
            statuses: vec!["offline".into()],
            devices: vec![],
        };
        let mut memory = Memory::default();
        assert_eq!(
            memory.decide(&delivery(1, 7, "online", NOW - 1), &watch, NOW),
            Verdict::NotWatched
        );
        assert_eq!(
            memory.decide(&delivery(2, 7, "offline", NOW - 9), &watch, NOW),
            Verdict::OutOfOrder
        );
        assert_eq!(
            memory.decide(&delivery(3, 7, "offline", NOW), &watch, NOW),
            Verdict::Run
        );
    }

    #[test]
    fn the_memory_survives_static_data_merges_and_stays_bounded() {
        let watch = Watch::default();
        let mut first = Memory::default();
        first.decide(&delivery(1, 7, "offline", NOW), &watch, NOW);
        let saved = first.to_static();
        let mut restored =
            Memory::from_static(Some(&serde_json::from_str(&saved.to_string()).unwrap()));
        assert_eq!(restored, first);
        assert_eq!(
            restored.decide(&delivery(1, 7, "offline", NOW), &watch, NOW + 60),
            Verdict::Duplicate
        );
        // Another process saw delivery 2 meanwhile.
        let mut elsewhere = Memory::default();
        elsewhere.decide(&delivery(2, 8, "timeout", NOW), &watch, NOW);
        restored.merge(&elsewhere);
        assert_eq!(
            restored.decide(&delivery(2, 8, "timeout", NOW), &watch, NOW + 61),
            Verdict::Duplicate
        );
        // After the memory's window the ID is forgotten, and the change is too old to be news.
        assert_eq!(
            restored.decide(
                &delivery(1, 7, "offline", NOW),
                &watch,
                NOW + MEMORY_SECS + 1
            ),
            Verdict::TooOld
        );
        assert!(!restored
            .deliveries
            .iter()
            .any(|(id, _)| id == &format!("{:024x}", 2)));
        let mut full = Memory::default();
        for n in 0..(MAX_DELIVERIES as u32 + 10) {
            full.decide(&delivery(n, n, "offline", NOW), &watch, NOW);
        }
        assert_eq!(full.deliveries.len(), MAX_DELIVERIES);
        assert_eq!(full.numbers.len(), MAX_NUMBERS);
        let size = full.to_static().to_string().len();
        assert!(size < 110_000, "{size} bytes");
        assert_eq!(
            Memory::from_static(Some(&json!("garbage"))),
            Memory::default()
        );
        assert_eq!(
            Memory::from_static(Some(
                &json!({"deliveries": [[1, 2], ["a"]], "numbers": [[]]})
            )),
            Memory::default()
        );
    }

    #[test]
    fn a_delivery_is_read_as_the_contract_writes_it() {
        let body = json!({
            "id": "aaaaaaaaaaaaaaaaaaaaaaaa", "event": "session:status", "created": "2026-11-21T10:15:00Z",
            "device": { "id": "6523a1f0c2d4e5f60718293a", "alias": "Sales", "phone": "+14155550100" },
            "data": { "status": "offline", "previousStatus": "online", "updatedAt": "2026-11-21T10:15:00Z" }
        });
        let delivery = parse_delivery(&body).unwrap();
        assert_eq!(delivery.device_id, "6523a1f0c2d4e5f60718293a");
        assert_eq!(delivery.status, "offline");
        assert_eq!(delivery.previous_status.as_deref(), Some("online"));
        assert_eq!(delivery.updated_secs, 1_795_256_100);
        for (path, value) in [
            ("/id", json!("nope")),
            ("/device/id", json!(5)),
            ("/data/updatedAt", json!("yesterday")),
            ("/data", json!(null)),
        ] {
            let mut bad = body.clone();
            *bad.pointer_mut(path).unwrap() = value;
            assert!(parse_delivery(&bad).is_err(), "{path}");
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        let text = "a\"b\\c\u{1}d é";
        assert_eq!(
            serde_json::from_str::<String>(&json_string(text)).unwrap(),
            text
        );
    }

    #[test]
    fn registrations_round_trip_and_a_broken_one_is_none() {
        let registration = Registration {
            id: "bbbbbbbbbbbbbbbbbbbbbbbb".into(),
            url: "https://n8n.example.com/webhook/abc/sparkbot".into(),
            secret: SECRET.into(),
        };
        assert_eq!(
            Registration::from_static(Some(&registration.to_static())),
            Some(registration)
        );
        assert_eq!(
            Registration::from_static(Some(
                &json!({"webhookId": "x", "url": "u", "secret": SECRET})
            )),
            None
        );
        assert_eq!(
            Registration::from_static(Some(
                &json!({"webhookId": "bbbbbbbbbbbbbbbbbbbbbbbb", "url": "u", "secret": "short"})
            )),
            None
        );
        assert_eq!(new_secret(&[0xab; 32]).unwrap(), "ab".repeat(32));
        assert!(new_secret(&[1; 8]).is_err());
    }
}
