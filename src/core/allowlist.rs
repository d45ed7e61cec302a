//! The credential's Allowed HTTP Request Domains: n8n's setting on every credential that
//! authenticates requests, read with n8n's rules and enforced before anything is sent.
//!
//! - **All** (or no setting, as in n8n versions without it): no restriction.
//! - **Specific Domains**: the Base URL's host must be one of the comma-separated entries,
//!   compared as n8n does (`isDomainAllowed` in n8n-workflow): case ignored, a trailing dot
//!   ignored, `*.example.com` matches every subdomain of `example.com` but not `example.com`
//!   itself, anything else only the exact host name (the port is not part of it). An empty list
//!   is refused, as n8n refuses it.
//! - **None**: the credential may not be used to send requests from this node.
//!
//! The refusals use n8n's own wording. A host that n8n's URL parser would rewrite before
//! matching (non-ASCII, percent-encoded, a shortened IPv4 address) is refused under a list, so
//! the node never allows what n8n would refuse.

use crate::error::{Error, NotAllowed};
use crate::operation::{ALLOWED_DOMAINS, ALLOWED_HTTP_REQUEST_DOMAINS};
use crate::text::quote;

/// n8n's value for "All".
pub const MODE_ALL: &str = "all";
/// n8n's value for "Specific Domains".
pub const MODE_DOMAINS: &str = "domains";
/// n8n's value for "None".
pub const MODE_NONE: &str = "none";

/// Which hosts the credential may send requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainPolicy {
    /// Any host.
    All,
    /// The hosts the list allows; the list as the user wrote it (trimmed).
    Domains(String),
    /// No host: the credential may not be used for requests from this node.
    None,
}

impl DomainPolicy {
    /// Reads the two credential fields (`allowedHttpRequestDomains`, `allowedDomains`). A missing
    /// mode is All, as in n8n; a mode n8n does not know is refused rather than ignored.
    pub fn parse(
        mode: Option<&serde_json::Value>,
        domains: Option<&serde_json::Value>,
    ) -> Result<DomainPolicy, Error> {
        let mode = match mode {
            None | Some(serde_json::Value::Null) => return Ok(DomainPolicy::All),
            Some(serde_json::Value::String(mode)) => mode.as_str(),
            Some(_) => return Err(bad_mode("must be text")),
        };
        match mode {
            MODE_ALL | "" => Ok(DomainPolicy::All),
            MODE_NONE => Ok(DomainPolicy::None),
            MODE_DOMAINS => match domains {
                None | Some(serde_json::Value::Null) => Ok(DomainPolicy::Domains(String::new())),
                Some(serde_json::Value::String(list)) => {
                    Ok(DomainPolicy::Domains(list.trim().to_string()))
                }
                Some(_) => Err(Error::InvalidCredential {
                    field: ALLOWED_DOMAINS.display_name,
                    problem: "must be text: domains separated by commas".into(),
                }),
            },
            other => Err(bad_mode(&format!(
                "{} is not one of all, domains or none",
                quote(other, 40)
            ))),
        }
    }

    /// Whether a request to `authority` (`host[:port]` of the Base URL) may be sent; the refusal
    /// in n8n's words otherwise.
    pub fn check(&self, authority: &str) -> Result<(), Error> {
        let list = match self {
            DomainPolicy::All => return Ok(()),
            DomainPolicy::None => return Err(Error::NotAllowed(NotAllowed::Blocked)),
            DomainPolicy::Domains(list) => list,
        };
        if list.split(',').all(|entry| normalize(entry).is_empty()) {
            return Err(Error::NotAllowed(NotAllowed::NoDomains));
        }
        let allowed = hostname(authority).is_some_and(|host| host_allowed(&host, list));
        if allowed {
            Ok(())
        } else {
            Err(Error::NotAllowed(NotAllowed::Domain {
                host: authority.to_ascii_lowercase(),
                allowed: list.clone(),
            }))
        }
    }
}

fn bad_mode(problem: &str) -> Error {
    Error::InvalidCredential {
        field: ALLOWED_HTTP_REQUEST_DOMAINS.display_name,
        problem: problem.to_string(),
    }
}

/// An entry or host as n8n compares it: trimmed, lower case, without a trailing dot.
fn normalize(text: &str) -> String {
    let text = text.trim().to_ascii_lowercase();
    text.strip_suffix('.').map(str::to_string).unwrap_or(text)
}

/// Whether `host` (normalized) is allowed by the comma-separated `list`, by n8n's rules.
pub fn host_allowed(host: &str, list: &str) -> bool {
    list.split(',')
        .map(normalize)
        .filter(|entry| !entry.is_empty())
        .any(|entry| match entry.strip_prefix("*.") {
            Some(suffix) => {
                !suffix.is_empty()
                    && host.len() > suffix.len() + 1
                    && host.ends_with(suffix)
                    && host
                        .get(..host.len() - suffix.len())
                        .is_some_and(|head| head.ends_with('.'))
            }
            None => host == entry,
        })
}

/// The host name of `authority` as a URL parser gives it (lower case, no port, no trailing dot,
/// IPv6 in brackets) — or `None` when a URL parser would rewrite it (non-ASCII, percent-encoded,
/// an IPv4 address not written as four decimal numbers), which no list entry is compared with.
pub fn hostname(authority: &str) -> Option<String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let inner = rest.split(']').next()?.to_ascii_lowercase();
        let address = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        return address.then(|| format!("[{inner}]"));
    }
    let host = normalize(authority.split(':').next()?);
    if host.is_empty() {
        return None;
    }
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let last = host.rsplit('.').next().unwrap_or_default();
    // A last label of digits (or 0x…) makes the whole host an IPv4 address to a URL parser, which
    // rewrites every short or octal form: only the canonical four-number form is kept.
    let numeric =
        !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x"));
    if !plain || (numeric && !is_canonical_ipv4(&host)) {
        return None;
    }
    Some(host)
}

fn is_canonical_ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|part| part.parse::<u8>().is_ok() && (part == &"0" || !part.starts_with('0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(mode: &str, list: &str) -> DomainPolicy {
        DomainPolicy::parse(Some(&json!(mode)), Some(&json!(list))).unwrap()
    }

    #[test]
    fn n8n_wildcard_rules() {
        let list = "api.sparkbot.io, *.example.com,Upper.Case.,";
        for host in [
            "api.sparkbot.io",
            "a.example.com",
            "a.b.example.com",
            "upper.case",
        ] {
            assert!(host_allowed(host, list), "{host}");
        }
        for host in [
            "sparkbot.io",
            "example.com",
            "xexample.com",
            "api.sparkbot.io.evil.net",
            "evil-api.sparkbot.io",
        ] {
            assert!(!host_allowed(host, list), "{host}");
        }
        assert!(!host_allowed("a.b", "*."));
        // A wildcard needs a label before the domain: ".example.com" is not one of its hosts.
        assert!(!host_allowed(".example.com", "*.example.com"));
        assert!(host_allowed("x.example.com", "*.example.com"));
    }

    #[test]
    fn ipv6_hosts_are_kept_in_brackets_and_anything_else_in_brackets_is_refused() {
        assert_eq!(hostname("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(
            hostname("[::FFFF:1.2.3.4]").as_deref(),
            Some("[::ffff:1.2.3.4]")
        );
        for authority in ["[]", "[]:80", "[evil.example]", "[::1%eth0]"] {
            assert_eq!(hostname(authority), None, "{authority}");
        }
    }

    #[test]
    fn the_port_is_not_part_of_the_host() {
        let p = policy(MODE_DOMAINS, "127.0.0.1, [::1]");
        assert!(p.check("127.0.0.1:8080").is_ok());
        assert!(p.check("[::1]:8080").is_ok());
        assert!(p.check("API.SPARKBOT.IO.:443").is_err());
        assert!(policy(MODE_DOMAINS, "api.sparkbot.io")
            .check("API.SPARKBOT.IO.:443")
            .is_ok());
    }

    #[test]
    fn refusals_use_n8ns_words() {
        let err = policy(MODE_DOMAINS, "api.sparkbot.io")
            .check("evil.example:8443")
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Domain not allowed: This credential is restricted from accessing evil.example:8443. Only the following domains are allowed: api.sparkbot.io"
        );
        assert_eq!(err.code(), "SPARKBOT_DOMAIN_NOT_ALLOWED");
        let err = policy(MODE_DOMAINS, " , ")
            .check("api.sparkbot.io")
            .unwrap_err();
        assert_eq!(
            err.message(),
            "No allowed domains specified. Configure allowed domains or change restriction setting."
        );
        let err = policy(MODE_NONE, "").check("api.sparkbot.io").unwrap_err();
        assert_eq!(
            err.message(),
            "This credential is configured to prevent use within a SparkBot node"
        );
    }

    #[test]
    fn all_and_missing_settings_allow_everything() {
        for p in [
            DomainPolicy::parse(None, None).unwrap(),
            DomainPolicy::parse(Some(&json!(null)), None).unwrap(),
            policy(MODE_ALL, "only.example"),
        ] {
            assert_eq!(p, DomainPolicy::All);
            assert!(p.check("anything.example").is_ok());
        }
        assert!(DomainPolicy::parse(Some(&json!("some")), None).is_err());
        assert!(DomainPolicy::parse(Some(&json!(1)), None).is_err());
        assert!(DomainPolicy::parse(Some(&json!(MODE_DOMAINS)), Some(&json!([1]))).is_err());
    }

    #[test]
    fn hosts_a_url_parser_would_rewrite_match_nothing() {
        for authority in [
            "127.1",
            "0x7f.0.0.1",
            "127.000.0.1",
            "mü.example",
            "a%2eb",
            "1.2.3.4.5",
        ] {
            assert_eq!(hostname(authority), None, "{authority}");
            assert!(
                policy(MODE_DOMAINS, authority).check(authority).is_err(),
                "{authority}"
            );
        }
        assert_eq!(
            hostname("Host.Example.:80").as_deref(),
            Some("host.example")
        );
        assert_eq!(hostname("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(hostname("10.0.0.5").as_deref(), Some("10.0.0.5"));
        assert_eq!(hostname("v1.example").as_deref(), Some("v1.example"));
    }
}
