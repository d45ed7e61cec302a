//! The transport's contract: what one HTTP exchange produces, whatever the runtime.
//!
//! The wasm transport (`transport.rs` of `sparkbot-wasm`) fills these; the core reads them. Nothing here
//! knows about JS.

/// Largest response body that is read, in bytes; a longer one is abandoned unread.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// An HTTP answer with its body read completely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// `Retry-After` header (read on errors only).
    pub retry_after: Option<String>,
    /// `X-Total-Count` header (read on device list pages only).
    pub total_count: Option<String>,
    /// `Location` header (read on errors only): where a redirect points.
    pub location: Option<String>,
    /// `Proxy-Authenticate` header (read on `407` only): the proxy's challenge.
    pub proxy_authenticate: Option<String>,
    /// `Via` header (read on errors only): the proxies the answer passed through.
    pub via: Option<String>,
    /// Body, decoded as UTF-8 (invalid sequences replaced).
    pub body: String,
    /// Milliseconds from sending the request to the end of the body.
    pub elapsed_ms: u64,
}

/// A request that got no (complete) HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    /// The node's time budget ran out and the request was aborted.
    TimedOut {
        /// Milliseconds from sending the request to giving up.
        elapsed_ms: u64,
    },
    /// DNS, TCP, TLS or a dropped connection.
    Network {
        /// The runtime's error code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), if any.
        code: Option<String>,
        /// The runtime's error text, for the description.
        detail: String,
        /// Whether the failure came after the headers, while reading the body.
        during_body: bool,
    },
    /// The execution was cancelled (stopped in n8n) and the request was aborted.
    Cancelled,
    /// The body is larger than [`MAX_BODY_BYTES`]; it was not read.
    TooLarge,
    /// Not sent: SparkBot asked every request to pause past this one's time budget.
    Paused {
        /// Milliseconds of the pause that were left.
        left_ms: u64,
    },
}
