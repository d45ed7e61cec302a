//! The request plan: what the transport sends — method, URL, body, time budget, retry policy —
//! and what the request is about, for its errors; the device list's pages.

use super::*;

/// Page size used to list devices (the contract's maximum).
pub const DEVICE_PAGE_SIZE: usize = 100;

/// HTTP method of a planned request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
    /// `DELETE` (a webhook of the Webhook Trigger's).
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request is about, for shaping its errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestContext {
    /// `host[:port]` of the base URL, for network errors.
    pub host: String,
    /// The device acted on, if any.
    pub device: Option<String>,
    /// The operation carried out, if the request changes something (`None` for reads).
    pub operation: Option<Operation>,
    /// Whether Wait For Session was on.
    pub wait: bool,
    /// Whether the time budget came from the Timeout option.
    pub custom_timeout: bool,
    /// The time budget, in milliseconds, for messages.
    pub timeout_ms: u32,
}

/// A fully validated request, ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPlan {
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// JSON body text, for `POST`.
    pub body: Option<String>,
    /// Time budget for the whole exchange (headers and body), in milliseconds; it covers every
    /// attempt and every pause when the request is retried.
    pub timeout_ms: u32,
    /// Whether answers in which SparkBot says it did not act (429, 503), and connections that
    /// could not be made, may be retried.
    pub retry: bool,
    /// Whether the item's output says how many attempts it took (Include Attempt Count).
    pub report_attempts: bool,
    /// What a successful answer is read as.
    pub expect: Expect,
    /// What the request is about.
    pub context: RequestContext,
}

/// Plans the request for one page of the device list (`size` devices a page, 1 to 100).
pub fn plan_device_page(page: usize, size: usize, credentials: &Credentials) -> RequestPlan {
    let timeout_ms = secs_to_ms(DEFAULT_TIMEOUT_SECS as f64);
    RequestPlan {
        method: Method::Get,
        url: credentials
            .base_url
            .join(&format!("/devices?page={page}&size={size}")),
        body: None,
        timeout_ms,
        retry: true,
        report_attempts: false,
        expect: Expect::Object,
        context: RequestContext {
            host: credentials.base_url.host().to_string(),
            timeout_ms,
            ..RequestContext::default()
        },
    }
}

pub(super) fn secs_to_ms(secs: f64) -> u32 {
    // Bounded by MAX_TIMEOUT_SECS, so this never saturates in practice.
    (secs * 1000.0).ceil().clamp(1.0, u32::MAX as f64) as u32
}
