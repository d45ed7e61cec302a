//! The SparkBot API credential: validated before any request is sent.

use std::fmt;

use crate::allowlist::DomainPolicy;
use crate::error::Error;
use crate::operation::{ALLOW_INSECURE_HTTP, API_KEY, BASE_URL, DEFAULT_BASE_URL};
use crate::text::{find_text, quote};

/// The credential as n8n hands it over (`apiKey`, `baseUrl`, `allowInsecureHttp`,
/// `allowedHttpRequestDomains`, `allowedDomains`), before validation.
#[derive(Debug, Default)]
pub struct RawCredentials {
    /// The API key, possibly with stray white space from copy and paste.
    pub api_key: Option<serde_json::Value>,
    /// The base URL, possibly with trailing slashes.
    pub base_url: Option<serde_json::Value>,
    /// The Allow Insecure HTTP switch: plain `http://` to a host other than this machine.
    pub allow_insecure_http: Option<serde_json::Value>,
    /// n8n's Allowed HTTP Request Domains: `all`, `domains` or `none`.
    pub allowed_http_request_domains: Option<serde_json::Value>,
    /// The comma-separated domains of `domains`.
    pub allowed_domains: Option<serde_json::Value>,
}

/// An API key. Its `Debug` output never shows the key. The default, empty one sends nothing
/// (the boundary's exchange when the credential could not be read).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key, for the `Token` header and for redaction only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// A validated `http(s)` base URL without trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: String,
    host: String,
}

/// Whether `authority` (`host[:port]`) names this machine: `localhost`, `127.x.x.x` or `[::1]`.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let octets: Vec<&str> = host.split('.').collect();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || (octets.len() == 4
            && octets.first() == Some(&"127")
            && octets.iter().all(|o| o.parse::<u8>().is_ok()))
}

/// The port of `authority` (`host:port` or `[v6]:port`), if one is written.
fn port_of(authority: &str) -> Option<&str> {
    let after_host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
        None => authority
            .find(':')
            .map_or("", |at| authority.get(at..).unwrap_or_default()),
    };
    after_host.strip_prefix(':')
}

impl BaseUrl {
    /// Validates a base URL: `http` or `https`, a host, no query or fragment, no white space.
    /// Trailing slashes are dropped so that paths never contain `//`.
    pub fn parse(input: &str) -> Result<BaseUrl, Error> {
        let bad = |problem: String| Error::InvalidCredential {
            field: BASE_URL.display_name,
            problem,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Ok(BaseUrl::default_url());
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces or control characters".into()));
        }
        let (scheme, rest) = find_text(trimmed, "://")
            .and_then(|at| Some((trimmed.get(..at)?, trimmed.get(at + 3..)?)))
            .ok_or_else(|| {
                bad(format!(
                    "\"{trimmed}\" is not a URL; expected e.g. {DEFAULT_BASE_URL}"
                ))
            })?;
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(bad(format!(
                "must start with https:// (or http:// for a local simulator), not {scheme}://"
            )));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("must not contain a query (?) or fragment (#)".into()));
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at_checked(slash).unwrap_or((rest, "")),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad(
                "must not contain a user name or password; the API key goes in the API Key field"
                    .into(),
            ));
        }
        if authority.is_empty() || authority.starts_with(':') {
            return Err(bad(format!("\"{trimmed}\" has no host name")));
        }
        if let Some(port) = port_of(authority) {
            // Digits only: Rust's parse would take "+80".
            if !port.bytes().all(|b| b.is_ascii_digit())
                || port.parse::<u16>().map_or(true, |port| port == 0)
            {
                return Err(bad(format!(
                    "{} is not a port; use a number from 1 to 65535, or leave the port out",
                    quote(port, 20)
                )));
            }
        }
        let path = path.trim_end_matches('/');
        if path
            .split('/')
            .skip(1)
            .any(|segment| segment.is_empty() || segment == "..")
        {
            return Err(bad(format!(
                "\"{trimmed}\" has an empty or \"..\" path segment"
            )));
        }
        Ok(BaseUrl {
            url: format!("{}://{}{}", scheme.to_ascii_lowercase(), authority, path),
            host: authority.to_string(),
        })
    }

    fn default_url() -> BaseUrl {
        BaseUrl {
            url: DEFAULT_BASE_URL.to_string(),
            host: "api.sparkbot.io".to_string(),
        }
    }

    /// The URL without trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `host[:port]`, for error messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether requests would carry the API key unencrypted to another machine: `http://` to a
    /// host that is not a loopback address.
    pub fn is_insecure_remote(&self) -> bool {
        self.url.starts_with("http:") && !is_loopback(&self.host)
    }

    /// Joins a path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }
}

/// A validated credential: every request it sends goes to its Base URL, which its Allowed HTTP
/// Request Domains allow.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The API key for the `Token` header.
    pub api_key: ApiKey,
    /// Where the API lives.
    pub base_url: BaseUrl,
}

impl Credentials {
    /// Validates the credential n8n hands over.
    pub fn validate(raw: &RawCredentials) -> Result<Credentials, Error> {
        let api_key = match &raw.api_key {
            Some(serde_json::Value::String(key)) => key.trim(),
            None | Some(serde_json::Value::Null) => "",
            Some(_) => {
                return Err(Error::InvalidCredential {
                    field: API_KEY.display_name,
                    problem: "must be text".into(),
                })
            }
        };
        if api_key.is_empty() {
            return Err(Error::InvalidCredential {
                field: API_KEY.display_name,
                problem: "is empty; paste the API key of your SparkBot account".into(),
            });
        }
        // A header value may only hold visible ASCII; anything else would make `fetch` throw an
        // error that quotes the value, i.e. the key.
        if !api_key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(Error::InvalidCredential {
                field: API_KEY.display_name,
                problem: "contains characters that cannot be sent in a header (only visible ASCII characters are allowed); copy the key again".into(),
            });
        }
        let base_url = match &raw.base_url {
            Some(serde_json::Value::String(url)) => BaseUrl::parse(url)?,
            None | Some(serde_json::Value::Null) => BaseUrl::default_url(),
            Some(_) => {
                return Err(Error::InvalidCredential {
                    field: BASE_URL.display_name,
                    problem: "must be text".into(),
                })
            }
        };
        let allow_insecure_http = match &raw.allow_insecure_http {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(Error::InvalidCredential {
                    field: ALLOW_INSECURE_HTTP.display_name,
                    problem: "must be true or false".into(),
                })
            }
        };
        if base_url.is_insecure_remote() && !allow_insecure_http {
            return Err(Error::InvalidCredential {
                field: BASE_URL.display_name,
                problem: format!(
                    "http://{} would send the API key unencrypted; use https://, or turn on Allow Insecure HTTP if this host is on a network you trust (plain http:// is allowed without it only to this machine: localhost, 127.0.0.1, [::1])",
                    base_url.host()
                ),
            });
        }
        DomainPolicy::parse(
            raw.allowed_http_request_domains.as_ref(),
            raw.allowed_domains.as_ref(),
        )?
        .check(base_url.host())?;
        Ok(Credentials {
            api_key: ApiKey(api_key.to_string()),
            base_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(key: serde_json::Value, url: serde_json::Value) -> RawCredentials {
        RawCredentials {
            api_key: Some(key),
            base_url: Some(url),
            ..RawCredentials::default()
        }
    }

    #[test]
    fn the_allowed_domains_are_checked_before_anything_is_sent() {
        let restricted = |url: &str, mode: &str, list: &str| {
            let mut raw = raw(json!("k"), json!(url));
            raw.allowed_http_request_domains = Some(json!(mode));
            raw.allowed_domains = Some(json!(list));
            Credentials::validate(&raw)
        };
        assert!(restricted("https://api.sparkbot.io/v1", "domains", "api.sparkbot.io").is_ok());
        assert!(restricted("https://eu.api.sparkbot.io/v1", "domains", "*.sparkbot.io").is_ok());
        assert!(restricted("https://other.example/v1", "all", "api.sparkbot.io").is_ok());
        let err = restricted("https://other.example/v1", "domains", "api.sparkbot.io").unwrap_err();
        assert_eq!(err.code(), "SPARKBOT_DOMAIN_NOT_ALLOWED");
        assert!(err.message().contains("other.example"), "{err}");
        assert!(restricted("https://api.sparkbot.io/v1", "none", "").is_err());
        // The default Base URL is checked like any other.
        assert!(restricted("", "domains", "api.sparkbot.io").is_ok());
        assert!(restricted("", "domains", "other.example").is_err());
    }

    #[test]
    fn plain_http_is_refused_to_other_machines_unless_allowed() {
        for url in [
            "http://127.0.0.1:8787/v1",
            "http://127.1.2.3/v1",
            "http://localhost:8787/v1",
            "HTTP://LOCALHOST/v1",
            "http://[::1]:8787/v1",
            "https://api.example.com/v1",
        ] {
            assert!(
                Credentials::validate(&raw(json!("k"), json!(url))).is_ok(),
                "{url}"
            );
        }
        for url in [
            "http://api.sparkbot.io/v1",
            "http://10.0.0.5:8080/v1",
            "http://127.0.0.1.evil.example/v1",
            "http://localhost.evil.example/v1",
            "http://[::2]/v1",
            "http://1270.0.0.1/v1",
        ] {
            let err = Credentials::validate(&raw(json!("k"), json!(url))).unwrap_err();
            let message = err.message();
            assert!(
                message.contains("Base URL") && message.contains("Allow Insecure HTTP"),
                "{url}: {message}"
            );
            let mut allowed = raw(json!("k"), json!(url));
            allowed.allow_insecure_http = Some(json!(true));
            assert!(Credentials::validate(&allowed).is_ok(), "{url}");
        }
    }

    #[test]
    fn trailing_slashes_never_produce_double_slashes() {
        for input in [
            "http://127.0.0.1:8080/v1",
            "http://127.0.0.1:8080/v1/",
            "http://127.0.0.1:8080/v1//",
        ] {
            let url = BaseUrl::parse(input).unwrap();
            assert_eq!(url.join("/devices"), "http://127.0.0.1:8080/v1/devices");
            assert_eq!(url.host(), "127.0.0.1:8080");
        }
        assert_eq!(
            BaseUrl::parse("HTTPS://api.example.com/")
                .unwrap()
                .join("/devices"),
            "https://api.example.com/devices"
        );
    }

    #[test]
    fn ports_are_checked_before_anything_is_sent() {
        let err = BaseUrl::parse("http://127.0.0.1:99999/v1").unwrap_err();
        assert_eq!(
            err.message(),
            "SparkBot credential, Base URL: \"99999\" is not a port; use a number from 1 to 65535, or leave the port out"
        );
        for good in [
            "http://127.0.0.1:8080/v1",
            "http://[::1]:65535/v1",
            "https://api.sparkbot.io/v1",
            "http://[::1]/v1",
        ] {
            assert!(BaseUrl::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn empty_base_url_means_the_default() {
        assert_eq!(BaseUrl::parse("  ").unwrap().as_str(), DEFAULT_BASE_URL);
    }

    #[test]
    fn bad_base_urls_are_refused_with_the_field_name() {
        for input in [
            "api.sparkbot.io/v1",
            "ftp://api.sparkbot.io",
            "https://",
            "https://:80/v1",
            "https://user:pw@api.sparkbot.io",
            "https://api.sparkbot.io/v1?x=1",
            "https://api.sparkbot.io/v1#x",
            "https://api.sparkbot.io/a//b",
            "https://api.sparkbot.io/../v1",
            "https://api.spark bot.io",
            "http://127.0.0.1:99999/v1",
            "http://127.0.0.1:abc/v1",
            "http://127.0.0.1:+80/v1",
            "http://127.0.0.1:/v1",
            "http://127.0.0.1:0/v1",
            "http://[::1]:70000/v1",
            "http://127.0.0.1:80:80/v1",
        ] {
            let err = BaseUrl::parse(input).unwrap_err();
            assert!(err.message().contains("Base URL"), "{input}: {err}");
        }
    }

    #[test]
    fn api_key_is_trimmed_and_checked() {
        let creds = Credentials::validate(&raw(json!("  k-123 \n"), json!(""))).unwrap();
        assert_eq!(creds.api_key.expose(), "k-123");
        assert_eq!(format!("{:?}", creds.api_key), "ApiKey(***)");
        for key in [
            json!(""),
            json!("   "),
            json!(null),
            json!(7),
            json!("a\u{0}b"),
            json!("ключ"),
        ] {
            let err = Credentials::validate(&raw(key, json!(""))).unwrap_err();
            assert!(err.message().contains("API Key"), "{err}");
        }
    }
}
