//! Node.js network error codes: one table says, for each code, what a user reads and whether
//! the request can have left this machine. Retries ([`crate::retry`]) and messages
//! ([`crate::status`]) both read it, so they cannot disagree.

use crate::error::TlsProblem;
use crate::text::find_text;

/// Whether a request that failed with a code may have reached SparkBot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// No connection was made: the request never left, so sending it again is safe.
    NotSent,
    /// The connection was made (or may have been): SparkBot may have received the request.
    MaybeSent,
    /// n8n refused to send it (its outbound policy): nothing left, and sending it again would be
    /// refused the same way.
    Blocked,
}

/// One known code: `(code, what happened, reach)`.
type Entry = (&'static str, &'static str, Reach);

/// Every code the node names. A code not in the table is read as [`Reach::MaybeSent`].
pub const NODE_CODES: [Entry; 14] = [
    ("ECONNREFUSED", "connection refused", Reach::NotSent),
    (
        "ENOTFOUND",
        "host name not found (DNS lookup failed)",
        Reach::NotSent,
    ),
    ("EAI_AGAIN", "DNS lookup failed temporarily", Reach::NotSent),
    ("EHOSTUNREACH", "host unreachable", Reach::NotSent),
    ("ENETUNREACH", "network unreachable", Reach::NotSent),
    (
        "EADDRNOTAVAIL",
        "no local address to connect from",
        Reach::NotSent,
    ),
    (
        "UND_ERR_CONNECT_TIMEOUT",
        "could not connect in time",
        Reach::NotSent,
    ),
    // A socket that timed out may have carried the request already.
    ("ETIMEDOUT", "the connection timed out", Reach::MaybeSent),
    (
        "ECONNRESET",
        "connection reset by the server",
        Reach::MaybeSent,
    ),
    (
        "EPIPE",
        "the connection closed without an answer",
        Reach::MaybeSent,
    ),
    (
        "UND_ERR_SOCKET",
        "the connection closed without an answer",
        Reach::MaybeSent,
    ),
    (
        "UND_ERR_CLOSED",
        "the connection closed without an answer",
        Reach::MaybeSent,
    ),
    // n8n's SSRF protection (n8n 2.x, N8N_SSRF_PROTECTION_ENABLED): its error class names.
    (
        "SsrfBlockedIpError",
        "n8n's SSRF protection blocked the request (a restricted address)",
        Reach::Blocked,
    ),
    (
        "SsrfBlockedHostnameError",
        "n8n's SSRF protection blocked the request (a restricted host name)",
        Reach::Blocked,
    ),
];

fn entry(code: &str) -> Option<&'static Entry> {
    NODE_CODES.iter().find(|(known, _, _)| *known == code)
}

/// Whether a failure with `code` (none: unknown) may have reached SparkBot.
pub fn reach(code: Option<&str>) -> Reach {
    code.and_then(entry)
        .map_or(Reach::MaybeSent, |(_, _, reach)| *reach)
}

/// A readable cause for a network failure; `during_body`: it came while the answer was read.
pub fn network_cause(code: Option<&str>, during_body: bool) -> String {
    let code = code.unwrap_or_default();
    let cause = match entry(code) {
        Some((_, _, Reach::MaybeSent)) if during_body => {
            "the connection closed before the whole response arrived"
        }
        Some((_, text, _)) => text,
        None if is_tls_code(code) => "TLS failure (certificate or handshake)",
        None if during_body => "the connection failed while the response was being read",
        None => "network error",
    };
    cause.to_string()
}

fn is_tls_code(code: &str) -> bool {
    tls_problem(Some(code)).is_some()
}

/// The certificate codes of Node's TLS (OpenSSL's verify errors) that mean the chain ends at a
/// CA this n8n does not trust.
const UNTRUSTED: [&str; 8] = [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_UNTRUSTED",
    "CERT_REJECTED",
    "CERT_SIGNATURE_FAILURE",
];

/// What a failure code says about TLS, if it is a TLS failure: an untrusted, expired or
/// misnamed certificate, or a handshake that failed (`EPROTO`, `ERR_SSL_…`, other `ERR_TLS_…`
/// and certificate codes).
pub fn tls_problem(code: Option<&str>) -> Option<TlsProblem> {
    let code = code?;
    if UNTRUSTED.contains(&code) {
        Some(TlsProblem::Untrusted)
    } else if code == "CERT_HAS_EXPIRED" || code == "CERT_NOT_YET_VALID" {
        Some(TlsProblem::Expired)
    } else if code == "ERR_TLS_CERT_ALTNAME_INVALID" {
        Some(TlsProblem::WrongHost)
    } else if code == "EPROTO"
        || code.starts_with("ERR_TLS")
        || code.starts_with("ERR_SSL")
        || code.starts_with("UNABLE_TO_")
        || find_text(code, "CERT").is_some()
        || find_text(code, "SELF_SIGNED").is_some()
    {
        Some(TlsProblem::Handshake)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes where no connection was made: retried, and read as this text.
    const NOT_SENT: [(&str, &str); 7] = [
        ("ECONNREFUSED", "connection refused"),
        ("ENOTFOUND", "host name not found (DNS lookup failed)"),
        ("EAI_AGAIN", "DNS lookup failed temporarily"),
        ("EHOSTUNREACH", "host unreachable"),
        ("ENETUNREACH", "network unreachable"),
        ("EADDRNOTAVAIL", "no local address to connect from"),
        ("UND_ERR_CONNECT_TIMEOUT", "could not connect in time"),
    ];
    /// Codes where n8n refused to send: never retried.
    const BLOCKED: [(&str, &str); 2] = [
        (
            "SsrfBlockedIpError",
            "n8n's SSRF protection blocked the request (a restricted address)",
        ),
        (
            "SsrfBlockedHostnameError",
            "n8n's SSRF protection blocked the request (a restricted host name)",
        ),
    ];
    /// Codes where SparkBot may have the request: never retried.
    const MAYBE_SENT: [(&str, &str); 5] = [
        ("ETIMEDOUT", "the connection timed out"),
        ("ECONNRESET", "connection reset by the server"),
        ("EPIPE", "the connection closed without an answer"),
        ("UND_ERR_SOCKET", "the connection closed without an answer"),
        ("UND_ERR_CLOSED", "the connection closed without an answer"),
    ];

    #[test]
    fn every_code_has_its_text_and_reach() {
        let groups = [
            (NOT_SENT.as_slice(), Reach::NotSent),
            (&MAYBE_SENT, Reach::MaybeSent),
            (&BLOCKED, Reach::Blocked),
        ];
        for (codes, expected_reach) in groups {
            for &(code, text) in codes {
                assert_eq!(network_cause(Some(code), false), text, "{code}");
                assert_eq!(reach(Some(code)), expected_reach, "{code}");
            }
        }
        assert_eq!(
            NODE_CODES.len(),
            NOT_SENT.len() + MAYBE_SENT.len() + BLOCKED.len()
        );
    }

    #[test]
    fn unknown_codes_may_have_been_sent() {
        assert_eq!(reach(None), Reach::MaybeSent);
        assert_eq!(reach(Some("EWHATEVER")), Reach::MaybeSent);
        assert_eq!(network_cause(None, false), "network error");
        assert_eq!(
            network_cause(None, true),
            "the connection failed while the response was being read"
        );
    }

    #[test]
    fn a_closed_connection_while_reading_says_so() {
        for code in ["ECONNRESET", "UND_ERR_SOCKET", "EPIPE"] {
            assert_eq!(
                network_cause(Some(code), true),
                "the connection closed before the whole response arrived"
            );
        }
        // A code that means nothing was sent keeps its own text.
        assert_eq!(
            network_cause(Some("ECONNREFUSED"), true),
            "connection refused"
        );
    }

    #[test]
    fn tls_codes_say_what_went_wrong() {
        for (code, problem) in [
            ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", TlsProblem::Untrusted),
            ("SELF_SIGNED_CERT_IN_CHAIN", TlsProblem::Untrusted),
            ("DEPTH_ZERO_SELF_SIGNED_CERT", TlsProblem::Untrusted),
            ("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", TlsProblem::Untrusted),
            ("CERT_HAS_EXPIRED", TlsProblem::Expired),
            ("CERT_NOT_YET_VALID", TlsProblem::Expired),
            ("ERR_TLS_CERT_ALTNAME_INVALID", TlsProblem::WrongHost),
            ("EPROTO", TlsProblem::Handshake),
            ("ERR_SSL_WRONG_VERSION_NUMBER", TlsProblem::Handshake),
            ("ERR_TLS_HANDSHAKE_TIMEOUT", TlsProblem::Handshake),
            // Other OpenSSL codes: an `UNABLE_TO_…` one without CERT, a CERT one.
            ("UNABLE_TO_DECRYPT_CRL_SIGNATURE", TlsProblem::Handshake),
            ("CERT_CHAIN_TOO_LONG", TlsProblem::Handshake),
        ] {
            assert_eq!(tls_problem(Some(code)), Some(problem), "{code}");
        }
        for code in ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "UND_ERR_SOCKET"] {
            assert_eq!(tls_problem(Some(code)), None, "{code}");
        }
        assert_eq!(tls_problem(None), None);
    }

    #[test]
    fn tls_codes() {
        for code in [
            "ERR_TLS_CERT_ALTNAME_INVALID",
            "ERR_SSL_WRONG_VERSION_NUMBER",
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            "DEPTH_ZERO_SELF_SIGNED_CERT",
            "SELF_SIGNED_CERT_IN_CHAIN",
            "CERT_HAS_EXPIRED",
        ] {
            assert_eq!(
                network_cause(Some(code), false),
                "TLS failure (certificate or handshake)",
                "{code}"
            );
            assert_eq!(reach(Some(code)), Reach::MaybeSent);
        }
    }
}
