//! Where a request comes from, as far as Palaver can trust it: the client's
//! IP (login throttling, per-IP socket caps) and the origin the request was
//! made to (the CSRF and WebSocket `Origin` checks).
//!
//! By default both come from the connection itself: the TCP peer, whether
//! the listener is TLS, and the `Host` header. `X-Forwarded-For`,
//! `X-Forwarded-Proto`, `X-Forwarded-Host` and `Forwarded` are believed only
//! with `--behind-proxy`: anyone can send them, so without a proxy that sets
//! them a client could pick its own IP and dodge the login throttle.
//!
//! Behind a proxy the *last* address of `X-Forwarded-For` is the client: it
//! is the one the proxy (nginx `$proxy_add_x_forwarded_for`, Caddy, Traefik,
//! HAProxy) appended; anything before it came from the client. `Forwarded`
//! (RFC 7239) is read when `X-Forwarded-*` is absent.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{self, HeaderName};
use actix_web::HttpRequest;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The client's IP address.
pub fn ip(req: &HttpRequest, behind_proxy: bool) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if !behind_proxy {
        return peer;
    }
    last_value(req, &X_FORWARDED_FOR)
        .or_else(|| forwarded_param(req, "for"))
        .and_then(|value| parse_ip(&value))
        .or(peer)
}

/// `scheme://host[:port]` this request was sent to, as a browser would
/// write it in `Origin`.
pub fn origin(req: &HttpRequest, behind_proxy: bool) -> String {
    format!(
        "{}://{}",
        scheme(req, behind_proxy),
        host(req, behind_proxy)
    )
}

/// `https` on a TLS listener (or behind a proxy that says so), else `http`.
pub fn scheme(req: &HttpRequest, behind_proxy: bool) -> &'static str {
    let proxied = behind_proxy
        .then(|| last_value(req, &X_FORWARDED_PROTO).or_else(|| forwarded_param(req, "proto")))
        .flatten();
    match proxied {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        Some(proto) if proto.eq_ignore_ascii_case("http") => "http",
        _ if req.app_config().secure() => "https",
        _ => "http",
    }
}

/// The host (and port) the client asked for: `Host`, or the HTTP/2
/// `:authority`; behind a proxy `X-Forwarded-Host` or `Forwarded: host=`.
pub fn host(req: &HttpRequest, behind_proxy: bool) -> String {
    let proxied = behind_proxy
        .then(|| last_value(req, &X_FORWARDED_HOST).or_else(|| forwarded_param(req, "host")))
        .flatten();
    proxied
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| req.app_config().host().to_string())
}

/// The last comma-separated item over every copy of the header.
fn last_value(req: &HttpRequest, name: &HeaderName) -> Option<String> {
    req.headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .last()
        .map(str::to_string)
}

/// The value of `param` in the last `Forwarded` element that has it.
fn forwarded_param(req: &HttpRequest, param: &str) -> Option<String> {
    req.headers()
        .get_all(header::FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case(param)
                    .then(|| value.trim().trim_matches('"').to_string())
            })
        })
        .last()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`;
/// `unknown` and obfuscated identifiers are not addresses.
fn parse_ip(value: &str) -> Option<IpAddr> {
    value
        .parse::<IpAddr>()
        .ok()
        .or_else(|| value.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .and_then(|v| v.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn peer() -> SocketAddr {
        "192.0.2.1:50000".parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_behind_a_proxy() {
        let req = TestRequest::default()
            .peer_addr(peer())
            .insert_header(("Host", "chat.example"))
            .insert_header(("X-Forwarded-For", "203.0.113.7"))
            .insert_header(("X-Forwarded-Proto", "https"))
            .insert_header(("X-Forwarded-Host", "evil.example"))
            .insert_header(("Forwarded", "for=198.51.100.1;proto=https"))
            .to_http_request();
        assert_eq!(ip(&req, false), Some(peer().ip()));
        assert_eq!(origin(&req, false), "http://chat.example");
        assert_eq!(ip(&req, true), "203.0.113.7".parse().ok());
        assert_eq!(origin(&req, true), "https://evil.example");
    }

    #[test]
    fn behind_a_proxy_the_address_it_appended_is_the_client() {
        let req = TestRequest::default()
            .peer_addr(peer())
            .insert_header(("X-Forwarded-For", "10.9.9.9, 203.0.113.7"))
            .to_http_request();
        assert_eq!(ip(&req, true), "203.0.113.7".parse().ok());
    }

    #[test]
    fn forwarded_is_read_when_x_forwarded_is_absent() {
        let req = TestRequest::default()
            .peer_addr(peer())
            .insert_header(("Host", "chat.example"))
            .insert_header((
                "Forwarded",
                "for=10.0.0.1, for=\"[2001:db8::1]:4711\";proto=https",
            ))
            .to_http_request();
        assert_eq!(ip(&req, true), "2001:db8::1".parse().ok());
        assert_eq!(origin(&req, true), "https://chat.example");
    }

    #[test]
    fn an_unparseable_forwarded_address_falls_back_to_the_peer() {
        let req = TestRequest::default()
            .peer_addr(peer())
            .insert_header(("X-Forwarded-For", "unknown"))
            .to_http_request();
        assert_eq!(ip(&req, true), Some(peer().ip()));
    }

    #[test]
    fn addresses_with_ports_and_brackets_parse() {
        for (text, want) in [
            ("203.0.113.7", "203.0.113.7"),
            ("203.0.113.7:80", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
        ] {
            assert_eq!(parse_ip(text), want.parse().ok(), "{text}");
        }
        assert_eq!(parse_ip("_hidden"), None);
    }
}
