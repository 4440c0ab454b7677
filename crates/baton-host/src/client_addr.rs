//! The client's address behind reverse proxies. Behind nginx or a load balancer every
//! connection comes from the proxy, so the per-address limits would count all visitors as
//! one. A peer listed in `[limits] trusted_proxies` is believed about `X-Forwarded-For`:
//! the client is the right-most address in it that is not itself a trusted proxy (each
//! proxy appends the address it saw, so only the entries our own proxies added can be
//! believed; anything left of them a client may have written). Without the setting, or
//! from any other peer, the header is ignored: a client cannot pick its own address.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`, `::1`) and ranges (`10.0.0.0/8`); the index and the
    /// reason of the first entry that is neither.
    pub fn parse(entries: &[String]) -> Result<Self, (usize, String)> {
        let mut nets = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let entry = entry.trim();
            let net = IpNet::from_str(entry)
                .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                .map_err(|_| {
                    (
                        i,
                        format!("\"{entry}\" is not an address or a range like 10.0.0.0/8"),
                    )
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The address the request is from: `peer`, or, when `peer` is a trusted proxy, the
    /// right-most untrusted address of `X-Forwarded-For` (every header line, in order).
    /// An entry that is not an address ends the walk at the proxy that wrote it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() || !self.trusts(peer) {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        // Every hop is one of ours: the left-most is as far as anyone can tell.
        client
    }
}

/// `203.0.113.7`, `2001:db8::1`, and the forms some proxies write with a port:
/// `203.0.113.7:4711`, `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = IpAddr::from_str(entry) {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest
            .split(']')
            .next()
            .and_then(|v6| IpAddr::from_str(v6).ok());
    }
    entry
        .rsplit_once(':')
        .and_then(|(v4, _port)| IpAddr::from_str(v4).ok())
        .filter(IpAddr::is_ipv4)
}

/// An IPv4 client on a dual-stack socket arrives as `::ffff:a.b.c.d`; ranges are written
/// in IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::parse(&entries).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn client(trusted: &TrustedProxies, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append(
                "x-forwarded-for",
                value.parse().unwrap_or_else(|_| panic!()),
            );
        }
        trusted
            .client(peer.parse().unwrap_or_else(|_| panic!()), &headers)
            .to_string()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let none = TrustedProxies::default();
        assert_eq!(client(&none, "10.0.0.2", &["203.0.113.7"]), "10.0.0.2");
        let ours = proxies(&["10.0.0.0/8", "::1"]);
        assert_eq!(
            client(&ours, "198.51.100.9", &["203.0.113.7"]),
            "198.51.100.9"
        );
        assert_eq!(client(&ours, "10.0.0.2", &["203.0.113.7"]), "203.0.113.7");
        assert_eq!(client(&ours, "::1", &["203.0.113.7"]), "203.0.113.7");
        assert_eq!(
            client(&ours, "::ffff:10.0.0.2", &["203.0.113.7"]),
            "203.0.113.7"
        );
        // No header: the proxy itself.
        assert_eq!(client(&ours, "10.0.0.2", &[]), "10.0.0.2");
    }

    #[test]
    fn the_client_is_the_right_most_address_no_proxy_of_ours_wrote() {
        let ours = proxies(&["10.0.0.0/8"]);
        // A forged left part is never believed: our proxy appended the real address.
        assert_eq!(
            client(&ours, "10.0.0.2", &["1.2.3.4, 203.0.113.7"]),
            "203.0.113.7"
        );
        // Two of our proxies in a row, over two header lines.
        assert_eq!(
            client(&ours, "10.0.0.2", &["1.2.3.4, 203.0.113.7", "10.0.0.9"]),
            "203.0.113.7"
        );
        // Every hop ours: the left-most.
        assert_eq!(
            client(&ours, "10.0.0.2", &["10.1.1.1, 10.0.0.9"]),
            "10.1.1.1"
        );
        // Garbage where a proxy of ours would have written: the last address we trust.
        assert_eq!(
            client(&ours, "10.0.0.2", &["203.0.113.7, 10.0.0.9, nonsense"]),
            "10.0.0.2"
        );
        assert_eq!(
            client(&ours, "10.0.0.2", &["nonsense, 10.0.0.9"]),
            "10.0.0.9"
        );
        // Ports, as some proxies write them.
        assert_eq!(
            client(&ours, "10.0.0.2", &["203.0.113.7:4711"]),
            "203.0.113.7"
        );
        assert_eq!(
            client(&ours, "10.0.0.2", &["[2001:db8::1]:4711"]),
            "2001:db8::1"
        );
    }

    #[test]
    fn entries_must_be_addresses_or_ranges() {
        assert_eq!(proxies(&["127.0.0.1", " fd00::/8 "]).0.len(), 2);
        let bad: Vec<String> = vec!["10.0.0.1".into(), "proxy.internal".into()];
        let (index, reason) = TrustedProxies::parse(&bad).err().unwrap_or_default();
        assert_eq!(index, 1);
        assert!(reason.contains("proxy.internal"), "{reason}");
    }
}
