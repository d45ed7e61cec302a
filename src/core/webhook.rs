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

    // ─── lifecycle against a fake SparkBot ─────────────────────────────────────────────────

    use crate::exchange::HttpReply;
    use crate::fake::{self, Answer, Fake};
    use std::cell::RefCell;
    use std::rc::Rc;

    const URL: &str = "https://n8n.example.com/webhook/abc/sparkbot";
    const OTHER_URL: &str = "https://old.example.com/webhook/abc/sparkbot";

    fn reply(status: u16, body: Value) -> Answer {
        Answer::Reply(HttpReply {
            status,
            content_type: Some("application/json".into()),
            body: if body.is_null() {
                String::new()
            } else {
                body.to_string()
            },
            elapsed_ms: 5,
            ..Default::default()
        })
    }

    fn hook_id(n: u32) -> String {
        format!("{n:024x}")
    }

    /// A SparkBot with the webhooks `hooks` (ID, URL): GET, list, DELETE and POST (which adds
    /// one for URL) as the contract answers them.
    /// SparkBot's webhooks, as (ID, URL).
    type Hooks = Rc<RefCell<Vec<(String, String)>>>;

    fn sparkbot(hooks: Vec<(String, String)>) -> (Fake, Hooks) {
        let state = Rc::new(RefCell::new(hooks));
        let shared = Rc::clone(&state);
        let fake = Fake::new(move |request, _| {
            let path = request
                .url
                .split("/v1")
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let mut hooks = shared.borrow_mut();
            let not_found = || {
                reply(
                    404,
                    json!({"status": 404, "error": "webhook_not_found", "message": "no"}),
                )
            };
            match (request.method, path.strip_prefix("/webhooks/")) {
                (Method::Get, None) => reply(
                    200,
                    Value::Array(
                        hooks
                            .iter()
                            .map(|(id, url)| json!({"id": id, "url": url}))
                            .collect(),
                    ),
                ),
                (Method::Post, None) => {
                    let id = hook_id(900 + hooks.len() as u32);
                    hooks.push((id.clone(), URL.into()));
                    reply(201, json!({"id": id, "url": URL}))
                }
                (Method::Get, Some(id)) => match hooks.iter().find(|(known, _)| known == id) {
                    Some((id, url)) => reply(200, json!({"id": id, "url": url})),
                    None => not_found(),
                },
                (Method::Delete, Some(id)) => {
                    let before = hooks.len();
                    hooks.retain(|(known, _)| known != id);
                    if hooks.len() < before {
                        reply(204, Value::Null)
                    } else {
                        not_found()
                    }
                }
                _ => reply(400, json!({"status": 400, "error": "invalid_request"})),
            }
        });
        (fake, state)
    }

    fn sent(fake: &Fake) -> Vec<String> {
        fake.received
            .borrow()
            .iter()
            .map(|r| {
                let path = r.url.split("/v1").nth(1).unwrap_or_default();
                format!("{:?} {path}", r.method)
            })
            .collect()
    }

    fn registration(id: &str, url: &str) -> Registration {
        Registration {
            id: id.into(),
            url: url.into(),
            secret: SECRET.into(),
        }
    }

    fn base() -> Credentials {
        fake::credentials("http://127.0.0.1:1/v1")
    }

    #[test]
    fn exists_only_for_the_stored_webhook_at_sparkbot_for_this_url() {
        let (fake, _) = sparkbot(vec![
            (hook_id(1), URL.into()),
            (hook_id(2), OTHER_URL.into()),
        ]);
        let check =
            |stored: Option<Registration>| fake.run(exists(&fake, &base(), stored.as_ref(), URL));
        assert!(!check(None).unwrap());
        assert!(!check(Some(registration(&hook_id(2), OTHER_URL))).unwrap());
        assert!(
            sent(&fake).is_empty(),
            "no request without a webhook for this URL"
        );
        assert!(check(Some(registration(&hook_id(1), URL))).unwrap());
        // SparkBot has it, but for another URL; or no longer has it.
        assert!(!check(Some(registration(&hook_id(2), URL))).unwrap());
        assert!(!check(Some(registration(&hook_id(3), URL))).unwrap());
        assert_eq!(
            sent(&fake),
            [
                format!("Get /webhooks/{}", hook_id(1)),
                format!("Get /webhooks/{}", hook_id(2)),
                format!("Get /webhooks/{}", hook_id(3)),
            ]
        );
    }

    #[test]
    fn only_sparkbots_own_webhook_not_found_means_gone() {
        let stored = registration(&hook_id(1), URL);
        for (status, body, gone) in [
            (404, json!({"error": "webhook_not_found"}), true),
            (404, json!({"error": "device_not_found"}), false),
            (404, Value::Null, false),
            (500, json!({"error": "webhook_not_found"}), false),
        ] {
            let fake = Fake::new(move |_, _| reply(status, body.clone()));
            let answer = fake.run(exists(&fake, &base(), Some(&stored), URL));
            if gone {
                assert!(!answer.unwrap(), "{status}");
            } else {
                assert!(answer.is_err(), "{status}: {answer:?}");
            }
            let deleted = fake.run(unregister(&fake, &base(), &stored));
            assert_eq!(deleted.is_ok(), gone, "{status}: {deleted:?}");
        }
        let refused = Fake::new(|_, _| Answer::Status(401));
        assert_eq!(
            refused
                .run(unregister(&refused, &base(), &stored))
                .unwrap_err()
                .code(),
            "SPARKBOT_UNAUTHORIZED"
        );
        // A failure names the host the request went to.
        let unreachable = Fake::new(|_, _| Answer::Network("ECONNREFUSED"));
        let error = unreachable
            .run(exists(&unreachable, &base(), Some(&stored), URL))
            .unwrap_err();
        assert!(
            error.message().contains("127.0.0.1:1"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn the_number_is_read_as_sparkbot_shows_it_and_only_that_number() {
        let change = delivery(1, 7, "offline", NOW);
        let id = change.device_id.clone();
        let read = |answer: Answer| {
            let fake = Fake::new(move |_, _| answer.clone());
            let device = fake.run(read_device(&fake, &base(), &change));
            (device, sent(&fake))
        };
        let shown = json!({ "id": id, "alias": "Sales", "session": { "status": "offline" } });
        let (device, requests) = read(reply(200, shown.clone()));
        assert_eq!(device, Some(shown));
        assert_eq!(requests, [format!("Get /devices/{id}")]);
        // Another number's answer, an answer that is not one device, or a failure: no device
        // (the item is then made from the delivery).
        for answer in [
            reply(
                200,
                json!({ "id": format!("{:024x}", 8), "alias": "Other" }),
            ),
            reply(200, json!([{ "id": id }])),
            reply(200, json!({ "alias": "no id" })),
            reply(
                404,
                json!({ "status": 404, "error": "not_found", "message": "No such device" }),
            ),
            Answer::Network("ECONNREFUSED"),
        ] {
            assert_eq!(read(answer.clone()).0, None, "{answer:?}");
        }
    }

    #[test]
    fn registering_replaces_the_old_webhook_and_any_other_for_this_url_never_doubles() {
        let (fake, state) = sparkbot(vec![
            (hook_id(1), OTHER_URL.into()),
            (hook_id(2), URL.into()),
            (
                hook_id(3),
                "https://staging.example.com/webhook/abc/sparkbot".into(),
            ),
            ("not-an-id".into(), URL.into()),
        ]);
        let stored = registration(&hook_id(1), OTHER_URL);
        let made = fake
            .run(find_or_replace(
                &fake,
                &base(),
                Some(&stored),
                URL,
                SECRET.into(),
            ))
            .unwrap();
        assert_eq!(made.url, URL);
        assert_eq!(made.secret, SECRET);
        assert_eq!(
            sent(&fake),
            [
                format!("Delete /webhooks/{}", hook_id(1)),
                "Get /webhooks".to_string(),
                format!("Delete /webhooks/{}", hook_id(2)),
                "Post /webhooks".to_string(),
            ]
        );
        let left: Vec<String> = state.borrow().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(left, [hook_id(3), "not-an-id".into(), made.id.clone()]);
        // Registering again for the same URL leaves exactly one.
        let again = fake
            .run(register(&fake, &base(), Some(&made), URL, &[7; 32]))
            .unwrap();
        let for_url = state
            .borrow()
            .iter()
            .filter(|(id, url)| url == URL && *id != "not-an-id")
            .count();
        assert_eq!(for_url, 1);
        assert_eq!(again.secret, "07".repeat(32));
    }

    /// A delivery as the contract writes it: one number's session went offline.
    fn offline_delivery() -> Value {
        json!({
            "id": "aaaaaaaaaaaaaaaaaaaaaaaa", "event": "session:status",
            "device": { "id": "6523a1f0c2d4e5f60718293a" },
            "data": { "status": "offline", "updatedAt": "2026-11-21T10:15:00Z" }
        })
    }

    #[test]
    fn received_answers_401_400_or_200() {
        let registration = registration(&hook_id(1), URL);
        let body = br#"{"hello":"world"}"#;
        let ts = NOW.to_string();
        let good = sign(SECRET, &ts, body);
        let mut recent = Recent::new();
        let mut status = |signature: &str, parsed: Option<Value>| {
            receive(
                &mut recent,
                "node",
                Some(&registration),
                Memory::default(),
                headers(&ts, signature),
                body,
                parsed.as_ref(),
                &Watch::default(),
                NOW,
            )
            .status()
        };
        assert_eq!(status("sha256=00", None), 401);
        assert_eq!(status(&good, Some(json!({"hello": "world"}))), 400);
        let delivery = offline_delivery();
        let bytes = delivery.to_string();
        let signed = sign(SECRET, &ts, bytes.as_bytes());
        let received = receive(
            &mut recent,
            "node",
            Some(&registration),
            Memory::default(),
            headers(&ts, &signed),
            bytes.as_bytes(),
            Some(&delivery),
            &Watch::default(),
            NOW,
        );
        assert_eq!(received.status(), 200);
    }

    #[test]
    fn a_delivery_of_up_to_64_kb_is_read_a_longer_one_refused() {
        let registration = registration(&hook_id(1), URL);
        let delivery = offline_delivery();
        let text = delivery.to_string();
        let ts = NOW.to_string();
        for (size, status) in [(65_536, 200), (65_537, 401)] {
            let padded = format!("{text}{}", " ".repeat(size - text.len()));
            assert_eq!(padded.len(), size);
            let signed = sign(SECRET, &ts, padded.as_bytes());
            let received = receive(
                &mut Recent::new(),
                "node",
                Some(&registration),
                Memory::default(),
                headers(&ts, &signed),
                padded.as_bytes(),
                Some(&delivery),
                &Watch::default(),
                NOW,
            );
            assert_eq!(received.status(), status, "{size} bytes");
        }
    }

    #[test]
    fn the_process_remembers_each_node_apart_and_at_most_64_nodes() {
        let registration = registration(&hook_id(1), URL);
        let delivery = offline_delivery();
        let bytes = delivery.to_string();
        let ts = NOW.to_string();
        let signed = sign(SECRET, &ts, bytes.as_bytes());
        let mut recent = Recent::new();
        // Static data lost each time: only the process remembers.
        let mut run = |key: &str| match receive(
            &mut recent,
            key,
            Some(&registration),
            Memory::default(),
            headers(&ts, &signed),
            bytes.as_bytes(),
            Some(&delivery),
            &Watch::default(),
            NOW,
        ) {
            Received::Checked { run, .. } => run.is_some(),
            other => panic!("{other:?}"),
        };
        assert!(run("node-0"));
        assert!(!run("node-0"), "the same node: a duplicate");
        assert!(run("node-1"), "another node has its own memory");
        for n in 2..=64 {
            assert!(run(&format!("node-{n}")));
        }
        // 65 nodes: only the least recent (node-0) is forgotten.
        assert!(!run("node-1"));
        assert!(!run("node-64"));
        assert!(run("node-0"));
    }

    // ─── the reading of timestamps, signatures and deliveries at their limits ──────────────

    #[test]
    fn a_timestamp_of_up_to_12_digits_is_read_a_longer_one_is_unsigned() {
        let body = b"{}";
        for (timestamp, expected) in [
            ("999999999999", Err(Refusal::Stale)),
            ("0999999999999", Err(Refusal::Unsigned)),
            ("", Err(Refusal::Unsigned)),
        ] {
            let signature = sign(SECRET, timestamp, body);
            assert_eq!(
                verify(SECRET, headers(timestamp, &signature), body, NOW),
                expected,
                "{timestamp:?}"
            );
        }
    }

    #[test]
    fn hex_of_up_to_128_digits_is_read() {
        assert_eq!(decode_hex(&"ab".repeat(64)), Some(vec![0xab; 64]));
        assert_eq!(decode_hex(&"ab".repeat(65)), None);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("0fF0"), Some(vec![0x0f, 0xf0]));
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn a_status_of_1_to_40_characters_is_read() {
        let body = |status: &str| {
            json!({
                "id": "aaaaaaaaaaaaaaaaaaaaaaaa", "event": "session:status",
                "device": { "id": "6523a1f0c2d4e5f60718293a" },
                "data": { "status": status, "updatedAt": "2026-11-21T10:15:00Z" }
            })
        };
        assert!(parse_delivery(&body(&"x".repeat(40))).is_ok());
        assert!(parse_delivery(&body(&"x".repeat(41))).is_err());
        assert!(parse_delivery(&body("")).is_err());
    }

    #[test]
    fn json_strings_escape_quotes_backslashes_and_control_characters_only() {
        assert_eq!(
            json_string("a\"b\\c\u{1}\u{1f} é/"),
            "\"a\\\"b\\\\c\\u0001\\u001f é/\""
        );
    }

    /// Unix seconds of a civil UTC time, counted day by day (the model rfc3339_secs must match).
    fn model_secs(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> i64 {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let year_days = |y: i64| if leap(y) { 366 } else { 365 };
        let mut days: i64 = if year >= 1970 {
            (1970..year).map(year_days).sum()
        } else {
            -(year..1970).map(year_days).sum::<i64>()
        };
        let months = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        days += months.iter().take((month - 1) as usize).sum::<i64>() + day - 1;
        days * 86_400 + hour * 3_600 + minute * 60 + second
    }

    #[test]
    fn rfc3339_times_match_a_day_by_day_count_with_any_offset() {
        let mut seed: u64 = 20_261_203;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) % below) as i64
        };
        for _ in 0..2_000 {
            let year = 1900 + next(250);
            let month = 1 + next(12);
            let day = 1 + next(28);
            let (hour, minute, second) = (next(24), next(60), next(60));
            let offset_minutes = next(24 * 60) - 12 * 60;
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let fraction = if next(2) == 0 { "" } else { ".123" };
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{sign}{:02}:{:02}",
                offset_minutes.abs() / 60,
                offset_minutes.abs() % 60
            );
            let expected = model_secs(year, month, day, hour, minute, second) - offset_minutes * 60;
            assert_eq!(rfc3339_secs(&text), Some(expected), "{text}");
        }
        assert_eq!(
            rfc3339_secs("2024-02-29T23:59:60Z"),
            Some(model_secs(2024, 2, 29, 23, 59, 60))
        );
    }

    #[test]
    fn rfc3339_fields_out_of_range_are_refused_one_at_a_time() {
        assert!(rfc3339_secs("2026-12-31t23:59:59z").is_some());
        assert!(rfc3339_secs("2026-12-31 23:59:59Z").is_some());
        for bad in [
            "2026-00-10T10:00:00Z",
            "2026-13-10T10:00:00Z",
            "2026-01-00T10:00:00Z",
            "2026-01-32T10:00:00Z",
            "2026-01-10T24:00:00Z",
            "2026-01-10T10:60:00Z",
            "2026-01-10T10:00:61Z",
            "2026-01-10X10:00:00Z",
            "2026/01/10T10:00:00Z",
            "2026-01-10T10-00:00Z",
            "2026-01-10T10:00:00+0100",
            "2026-01-10T10:00:00+01:xx",
        ] {
            assert_eq!(rfc3339_secs(bad), None, "{bad}");
        }
    }

    // ─── the memory at its limits ───────────────────────────────────────────────────────────

    #[test]
    fn a_change_exactly_30_minutes_old_still_runs_and_the_same_second_and_status_is_old() {
        let watch = Watch::default();
        let mut memory = Memory::default();
        let edge = delivery(1, 7, "offline", NOW - MEMORY_SECS);
        assert_eq!(memory.decide(&edge, &watch, NOW), Verdict::Run);
        let again = delivery(2, 7, "offline", NOW - MEMORY_SECS);
        assert_eq!(memory.decide(&again, &watch, NOW), Verdict::OutOfOrder);
        let older = delivery(3, 8, "offline", NOW - MEMORY_SECS - 1);
        assert_eq!(memory.decide(&older, &watch, NOW), Verdict::TooOld);
    }

    #[test]
    fn a_merged_older_memory_does_not_replace_a_numbers_newer_change() {
        let watch = Watch::default();
        let mut newer = Memory::default();
        assert_eq!(
            newer.decide(&delivery(1, 7, "online", NOW - 10), &watch, NOW),
            Verdict::Run
        );
        let mut older = Memory::default();
        assert_eq!(
            older.decide(&delivery(2, 7, "offline", NOW - 100), &watch, NOW - 90),
            Verdict::Run
        );
        newer.merge(&older);
        // A change between the two is older than the newest one seen.
        assert_eq!(
            newer.decide(&delivery(3, 7, "timeout", NOW - 50), &watch, NOW),
            Verdict::OutOfOrder
        );
    }

    #[test]
    fn merging_two_full_memories_keeps_the_newest_1000_of_each() {
        let watch = Watch::default();
        let full = |from: u32, at: i64| {
            let mut memory = Memory::default();
            for i in 0..1_000u32 {
                let change = delivery(from + i, from + i, "offline", at);
                assert_eq!(memory.decide(&change, &watch, at), Verdict::Run);
            }
            memory
        };
        let mut memory = full(0, NOW - 20);
        memory.merge(&full(5_000, NOW - 10));
        let kept = memory.to_static();
        assert_eq!(kept["deliveries"].as_array().unwrap().len(), MAX_DELIVERIES);
        assert_eq!(kept["numbers"].as_array().unwrap().len(), MAX_NUMBERS);
        // The newer memory's are kept, the older memory's dropped (asked in that order: a
        // delivery that runs is remembered, and pushes the oldest out).
        assert_eq!(
            memory.decide(&delivery(5_000, 5_000, "offline", NOW - 10), &watch, NOW),
            Verdict::Duplicate
        );
        assert_eq!(
            memory.decide(&delivery(0, 0, "offline", NOW - 20), &watch, NOW),
            Verdict::Run
        );
    }
}
