//! Record data in one canonical form: the one place where Route 53's values
//! and a DNS server's answers become comparable.
//!
//! [`Rdata`] holds what the wire carries, type by type (the DNS probe fills
//! it straight from the decoded message; Route 53's values are parsed into
//! it), and its `Display` is the canonical text both sides are compared on
//! and findings show. Two values are the same record data exactly when their
//! canonical texts are equal, which is the case when they differ only in:
//!
//! - case of domain names, of hexadecimal digits (DS, SSHFP, TLSA), of a CAA
//!   tag and of a CAA `issue`/`issuewild` issuer domain, of NAPTR flags;
//! - trailing dots of domain names (Route 53 treats every name as fully
//!   qualified);
//! - escapes and quoting: `\"`, `\\`, `\DDD` and quoted or unquoted
//!   character-strings;
//! - where a TXT or SPF value is split into character-strings (Route 53 and
//!   zone-file tools split at 255 bytes wherever they like; SPF and DKIM
//!   readers join the strings);
//! - the order of SvcParams and of the `mandatory` key list (the wire
//!   format sorts them), quoting of SvcParam values, `keyNNNNN` spellings of
//!   known keys, base64 padding of `ech`;
//! - whitespace around a CAA issuer and its parameters, and address notation
//!   (`2001:DB8:0:0::1` is `2001:db8::1`).
//!
//! Everything else (TXT case, ALPN order, NAPTR services and regexp, CAA
//! parameter values, numbers) is significant and stays.
//!
//! Presentation text comes in two dialects, told apart by [`Escapes`]: RFC
//! 1035 zone-file text, whose `\DDD` is decimal (zone files, the
//! expectations document, the canonical text itself), and Route 53's values,
//! whose `\DDD` is octal ("ex\344mple.com" in Route 53's documentation).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

/// How `\DDD` escapes in presentation text are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    /// RFC 1035 section 5.1: three decimal digits. Zone files, the
    /// expectations document and the canonical text.
    Decimal,
    /// Route 53's values: three octal digits (Route 53's "Supported DNS
    /// record types" and "DNS domain name format").
    Octal,
}

/// Why a value could not be read as record data of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdataError {
    /// Not one of the types this module reads (see [`Rdata::parse`]).
    #[error("record type `{0}` is not one zonewarden reads")]
    UnknownType(String),
    #[error("{rtype} value `{value}` cannot be read: {why}")]
    Invalid {
        rtype: String,
        value: String,
        why: String,
    },
}

/// A domain name inside record data: its labels as bytes, as written.
/// Displayed lower-case, escaped where needed, with one trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainName {
    /// Labels from the leftmost; empty for the root.
    pub labels: Vec<Vec<u8>>,
}

impl DomainName {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn from_labels<I, L>(labels: I) -> Self
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        Self {
            labels: labels
                .into_iter()
                .map(|l| l.as_ref().to_vec())
                .filter(|l| !l.is_empty())
                .collect(),
        }
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labels.is_empty() {
            return f.write_str(".");
        }
        for label in &self.labels {
            for &b in label {
                let b = b.to_ascii_lowercase();
                match b {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                        f.write_char('\\')?;
                        f.write_char(char::from(b))?;
                    }
                    0x21..=0x7e => f.write_char(char::from(b))?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
            f.write_char('.')?;
        }
        Ok(())
    }
}

/// SVCB and HTTPS record data (RFC 9460). SvcParam values are kept in wire
/// format, keyed by SvcParamKey, so that the order and spelling they were
/// written in do not matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svcb {
    pub priority: u16,
    pub target: DomainName,
    pub params: BTreeMap<u16, Vec<u8>>,
}

/// Record data of the types Route 53 serves, as the wire carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// CNAME, NS and PTR: one domain name.
    Name(DomainName),
    Mx {
        preference: u16,
        exchange: DomainName,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: DomainName,
    },
    Soa {
        mname: DomainName,
        rname: DomainName,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    /// TXT and SPF: the character-strings joined.
    Text(Vec<u8>),
    Caa {
        flags: u8,
        tag: Vec<u8>,
        value: Vec<u8>,
    },
    Ds {
        key_tag: u16,
        algorithm: u8,
        digest_type: u8,
        digest: Vec<u8>,
    },
    Sshfp {
        algorithm: u8,
        fingerprint_type: u8,
        fingerprint: Vec<u8>,
    },
    Tlsa {
        usage: u8,
        selector: u8,
        matching: u8,
        data: Vec<u8>,
    },
    Naptr {
        order: u16,
        preference: u16,
        flags: Vec<u8>,
        services: Vec<u8>,
        regexp: Vec<u8>,
        replacement: DomainName,
    },
    /// SVCB and HTTPS.
    Svcb(Svcb),
}

/// The record types [`Rdata::parse`] reads: every type Route 53 accepts.
pub const ROUTE53_TYPES: [&str; 17] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// The canonical text of a value of type `rtype` written in presentation
/// format: [`Rdata::parse`] then `Display`.
pub fn canonical_text(rtype: &str, text: &str, escapes: Escapes) -> Result<String, RdataError> {
    Rdata::parse(rtype, text, escapes).map(|r| r.to_string())
}

impl Rdata {
    /// Reads one value of type `rtype` (any case; one of [`ROUTE53_TYPES`])
    /// from presentation text. Never panics.
    pub fn parse(rtype: &str, text: &str, escapes: Escapes) -> Result<Self, RdataError> {
        let rtype = rtype.trim().to_ascii_uppercase();
        let toks = split(text);
        let p = Reader {
            rtype: &rtype,
            text,
            escapes,
        };
        match rtype.as_str() {
            "A" => match toks.as_slice() {
                [t] => ipv4(t)
                    .map(Rdata::A)
                    .ok_or_else(|| p.bad("not an IPv4 address")),
                _ => Err(p.bad("one IPv4 address expected")),
            },
            "AAAA" => match toks.as_slice() {
                [t] => t
                    .parse::<Ipv6Addr>()
                    .map(Rdata::Aaaa)
                    .map_err(|_| p.bad("not an IPv6 address")),
                _ => Err(p.bad("one IPv6 address expected")),
            },
            "CNAME" | "NS" | "PTR" => match toks.as_slice() {
                [t] => p.name(t).map(Rdata::Name),
                _ => Err(p.bad("one domain name expected")),
            },
            "MX" => match toks.as_slice() {
                [pref, host] => Ok(Rdata::Mx {
                    preference: p.number(pref)?,
                    exchange: p.name(host)?,
                }),
                _ => Err(p.bad("preference and mail server expected")),
            },
            "SRV" => match toks.as_slice() {
                [prio, weight, port, target] => Ok(Rdata::Srv {
                    priority: p.number(prio)?,
                    weight: p.number(weight)?,
                    port: p.number(port)?,
                    target: p.name(target)?,
                }),
                _ => Err(p.bad("priority, weight, port and target expected")),
            },
            "SOA" => match toks.as_slice() {
                [mname, rname, serial, refresh, retry, expire, minimum] => Ok(Rdata::Soa {
                    mname: p.name(mname)?,
                    rname: p.name(rname)?,
                    serial: p.number(serial)?,
                    refresh: p.number(refresh)?,
                    retry: p.number(retry)?,
                    expire: p.number(expire)?,
                    minimum: p.number(minimum)?,
                }),
                _ => Err(p.bad("seven fields expected")),
            },
            "TXT" | "SPF" => {
                let mut joined = Vec::new();
                for t in &toks {
                    joined.extend(p.string(t)?);
                }
                Ok(Rdata::Text(joined))
            }
            "CAA" => match toks.as_slice() {
                [flags, tag, value @ ..] if !value.is_empty() => {
                    let tag = p.string(tag)?;
                    if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphanumeric) {
                        return Err(p.bad("the tag must be letters and digits"));
                    }
                    // An unquoted value with spaces arrives as several tokens.
                    let parts: Result<Vec<Vec<u8>>, RdataError> =
                        value.iter().map(|t| p.string(t)).collect();
                    Ok(Rdata::Caa {
                        flags: p.number(flags)?,
                        tag,
                        value: parts?.join(&b' '),
                    })
                }
                _ => Err(p.bad("flags, tag and value expected")),
            },
            "DS" => match toks.as_slice() {
                [tag, alg, dtype, digest @ ..] if !digest.is_empty() => Ok(Rdata::Ds {
                    key_tag: p.number(tag)?,
                    algorithm: p.number(alg)?,
                    digest_type: p.number(dtype)?,
                    digest: p.hex(digest)?,
                }),
                _ => Err(p.bad("key tag, algorithm, digest type and digest expected")),
            },
            "SSHFP" => match toks.as_slice() {
                [alg, fptype, fp @ ..] if !fp.is_empty() => Ok(Rdata::Sshfp {
                    algorithm: p.number(alg)?,
                    fingerprint_type: p.number(fptype)?,
                    fingerprint: p.hex(fp)?,
                }),
                _ => Err(p.bad("algorithm, fingerprint type and fingerprint expected")),
            },
            "TLSA" => match toks.as_slice() {
                [usage, selector, matching, data @ ..] if !data.is_empty() => Ok(Rdata::Tlsa {
                    usage: p.mnemonic(usage, TLSA_USAGES)?,
                    selector: p.mnemonic(selector, TLSA_SELECTORS)?,
                    matching: p.mnemonic(matching, TLSA_MATCHING)?,
                    data: p.hex(data)?,
                }),
                _ => Err(p.bad("usage, selector, matching type and data expected")),
            },
            "NAPTR" => match toks.as_slice() {
                [order, pref, flags, services, regexp, replacement] => Ok(Rdata::Naptr {
                    order: p.number(order)?,
                    preference: p.number(pref)?,
                    flags: p.string(flags)?,
                    services: p.string(services)?,
                    regexp: p.string(regexp)?,
                    replacement: p.name(replacement)?,
                }),
                _ => {
                    Err(p
                        .bad("order, preference, flags, services, regexp and replacement expected"))
                }
            },
            "SVCB" | "HTTPS" => match toks.as_slice() {
                [prio, target, params @ ..] => Ok(Rdata::Svcb(Svcb {
                    priority: p.number(prio)?,
                    target: p.name(target)?,
                    params: p.svc_params(params)?,
                })),
                _ => Err(p.bad("priority and target expected")),
            },
            _ => Err(RdataError::UnknownType(rtype)),
        }
    }
}

impl fmt::Display for Rdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::A(a) => write!(f, "{a}"),
            Self::Aaaa(a) => write!(f, "{a}"),
            Self::Name(n) => write!(f, "{n}"),
            Self::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            Self::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {target}"),
            Self::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => write!(
                f,
                "{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"
            ),
            Self::Text(bytes) => write_string(f, bytes),
            Self::Caa { flags, tag, value } => {
                let tag = String::from_utf8_lossy(tag).to_ascii_lowercase();
                write!(f, "{flags} {tag} ")?;
                if tag == "issue" || tag == "issuewild" {
                    write_string(f, &issuer_value(value))
                } else {
                    write_string(f, value)
                }
            }
            Self::Ds {
                key_tag,
                algorithm,
                digest_type,
                digest,
            } => write!(f, "{key_tag} {algorithm} {digest_type} {}", hex(digest)),
            Self::Sshfp {
                algorithm,
                fingerprint_type,
                fingerprint,
            } => write!(f, "{algorithm} {fingerprint_type} {}", hex(fingerprint)),
            Self::Tlsa {
                usage,
                selector,
                matching,
                data,
            } => write!(f, "{usage} {selector} {matching} {}", hex(data)),
            Self::Naptr {
                order,
                preference,
                flags,
                services,
                regexp,
                replacement,
            } => {
                write!(f, "{order} {preference} ")?;
                write_string(f, &flags.to_ascii_lowercase())?;
                f.write_char(' ')?;
                write_string(f, services)?;
                f.write_char(' ')?;
                write_string(f, regexp)?;
                write!(f, " {replacement}")
            }
            Self::Svcb(svcb) => {
                write!(f, "{} {}", svcb.priority, svcb.target)?;
                for (key, value) in &svcb.params {
                    f.write_char(' ')?;
                    write_svc_param(f, *key, value)?;
                }
                Ok(())
            }
        }
    }
}

/// Reads the fields of one value; knows the type and text for errors.
struct Reader<'a> {
    rtype: &'a str,
    text: &'a str,
    escapes: Escapes,
}

impl Reader<'_> {
    fn bad(&self, why: impl Into<String>) -> RdataError {
        RdataError::Invalid {
            rtype: self.rtype.to_owned(),
            value: self.text.trim().to_owned(),
            why: why.into(),
        }
    }

    fn number<T: std::str::FromStr>(&self, token: &str) -> Result<T, RdataError> {
        token
            .parse()
            .map_err(|_| self.bad(format!("`{token}` is not a number in range")))
    }

    /// A number, or one of its RFC 7218 mnemonics (case-insensitive).
    fn mnemonic(&self, token: &str, names: &[(&str, u8)]) -> Result<u8, RdataError> {
        names
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|(_, n)| *n)
            .map_or_else(|| self.number(token), Ok)
    }

    fn string(&self, token: &str) -> Result<Vec<u8>, RdataError> {
        unescape(token, self.escapes).ok_or_else(|| self.bad(format!("bad escape in `{token}`")))
    }

    fn name(&self, token: &str) -> Result<DomainName, RdataError> {
        domain_name(token, self.escapes)
            .ok_or_else(|| self.bad(format!("`{token}` is not a domain name")))
    }

    /// Hexadecimal digits, possibly split by whitespace into several tokens.
    fn hex(&self, tokens: &[&str]) -> Result<Vec<u8>, RdataError> {
        let digits: String = tokens.concat();
        let digits = digits.as_bytes();
        if digits.is_empty() || !digits.len().is_multiple_of(2) {
            return Err(self.bad("an even number of hexadecimal digits expected"));
        }
        digits
            .chunks(2)
            .map(|pair| {
                let hi = hex_digit(pair[0])?;
                let lo = hex_digit(pair[1])?;
                Some(hi << 4 | lo)
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| self.bad("not hexadecimal"))
    }

    /// `key=value` and `key` tokens (RFC 9460 section 2.1) as wire-format
    /// values by key number.
    fn svc_params(&self, tokens: &[&str]) -> Result<BTreeMap<u16, Vec<u8>>, RdataError> {
        let mut params = BTreeMap::new();
        for token in tokens {
            let (key, value) = match split_unquoted(token, b'=') {
                Some((k, v)) => (k, Some(v)),
                None => (*token, None),
            };
            let key_number =
                svc_key(key).ok_or_else(|| self.bad(format!("`{key}` is not a SvcParamKey")))?;
            let value = match value {
                Some(v) => self.string(v)?,
                None => Vec::new(),
            };
            let wire = self.svc_value(key_number, &value)?;
            if params.insert(key_number, wire).is_some() {
                return Err(self.bad(format!("`{key}` appears twice")));
            }
        }
        Ok(params)
    }

    /// A SvcParam's presentation value (already unescaped) in wire format.
    fn svc_value(&self, key: u16, value: &[u8]) -> Result<Vec<u8>, RdataError> {
        let text = || String::from_utf8_lossy(value).into_owned();
        let bad = |what: &str| self.bad(format!("{}: {what}", svc_key_name(key)));
        match key {
            0 => {
                let mut keys = Vec::new();
                for item in value_list(value) {
                    let item = String::from_utf8_lossy(&item).into_owned();
                    keys.push(svc_key(&item).ok_or_else(|| bad("unknown key"))?);
                }
                keys.sort_unstable();
                if keys.is_empty() || keys.windows(2).any(|w| w[0] == w[1]) {
                    return Err(bad("a list of distinct keys expected"));
                }
                Ok(keys.iter().flat_map(|k| k.to_be_bytes()).collect())
            }
            1 => {
                let ids = value_list(value);
                if ids.is_empty() {
                    return Err(bad("at least one protocol expected"));
                }
                let mut wire = Vec::new();
                for id in ids {
                    let len = u8::try_from(id.len())
                        .ok()
                        .filter(|l| *l > 0)
                        .ok_or_else(|| bad("protocol ids are 1 to 255 bytes"))?;
                    wire.push(len);
                    wire.extend(id);
                }
                Ok(wire)
            }
            2 | 8 if value.is_empty() => Ok(Vec::new()),
            2 | 8 => Err(bad("takes no value")),
            3 => text()
                .parse::<u16>()
                .map(|p| p.to_be_bytes().to_vec())
                .map_err(|_| bad("a port number expected")),
            4 => {
                let addrs: Option<Vec<Ipv4Addr>> = value_list(value)
                    .iter()
                    .map(|a| ipv4(&String::from_utf8_lossy(a)))
                    .collect();
                match addrs {
                    Some(a) if !a.is_empty() => Ok(a.iter().flat_map(|a| a.octets()).collect()),
                    _ => Err(bad("IPv4 addresses expected")),
                }
            }
            5 => {
                let b64 = text();
                let b64 = b64.trim();
                data_encoding::BASE64
                    .decode(b64.as_bytes())
                    .or_else(|_| data_encoding::BASE64_NOPAD.decode(b64.as_bytes()))
                    .map_err(|_| bad("base64 expected"))
            }
            6 => {
                let addrs: Option<Vec<Ipv6Addr>> = value_list(value)
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).parse().ok())
                    .collect();
                match addrs {
                    Some(a) if !a.is_empty() => Ok(a.iter().flat_map(|a| a.octets()).collect()),
                    _ => Err(bad("IPv6 addresses expected")),
                }
            }
            _ => Ok(value.to_vec()),
        }
    }
}

const TLSA_USAGES: &[(&str, u8)] = &[
    ("PKIX-TA", 0),
    ("PKIX-EE", 1),
    ("DANE-TA", 2),
    ("DANE-EE", 3),
    ("PrivCert", 255),
];
const TLSA_SELECTORS: &[(&str, u8)] = &[("Cert", 0), ("SPKI", 1), ("PrivSel", 255)];
const TLSA_MATCHING: &[(&str, u8)] = &[
    ("Full", 0),
    ("SHA2-256", 1),
    ("SHA2-512", 2),
    ("PrivMatch", 255),
];

/// SvcParamKey names of RFC 9460 and its registry.
const SVC_KEYS: [&str; 9] = [
    "mandatory",
    "alpn",
    "no-default-alpn",
    "port",
    "ipv4hint",
    "ech",
    "ipv6hint",
    "dohpath",
    "ohttp",
];

fn svc_key(name: &str) -> Option<u16> {
    let name = name.to_ascii_lowercase();
    if let Some(n) = SVC_KEYS.iter().position(|k| *k == name) {
        return u16::try_from(n).ok();
    }
    name.strip_prefix("key")
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
}

fn svc_key_name(key: u16) -> String {
    SVC_KEYS
        .get(usize::from(key))
        .map_or_else(|| format!("key{key}"), |k| (*k).to_owned())
}

/// One SvcParam in canonical presentation form, from its wire value. A value
/// that is not well-formed for its key is shown as `keyN="..."` with its
/// bytes, so that it still compares (unequal to anything well-formed).
fn write_svc_param(f: &mut fmt::Formatter<'_>, key: u16, value: &[u8]) -> fmt::Result {
    let name = svc_key_name(key);
    let generic = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
        write!(f, "key{key}=")?;
        write_string(f, value)
    };
    match key {
        0 if !value.is_empty() && value.len().is_multiple_of(2) => {
            let mut keys: Vec<u16> = value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            keys.sort_unstable();
            let names: Vec<String> = keys.into_iter().map(svc_key_name).collect();
            write!(f, "{name}={}", names.join(","))
        }
        1 => match length_prefixed(value) {
            Some(ids) if !ids.is_empty() => {
                let mut list = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        list.push(b',');
                    }
                    for &b in *id {
                        if b == b',' || b == b'\\' {
                            list.push(b'\\');
                        }
                        list.push(b);
                    }
                }
                write!(f, "{name}=")?;
                write_string(f, &list)
            }
            _ => generic(f),
        },
        2 | 8 if value.is_empty() => f.write_str(&name),
        3 if value.len() == 2 => write!(f, "{name}={}", u16::from_be_bytes([value[0], value[1]])),
        4 if !value.is_empty() && value.len().is_multiple_of(4) => {
            let addrs: Vec<String> = value
                .chunks(4)
                .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]).to_string())
                .collect();
            write!(f, "{name}={}", addrs.join(","))
        }
        5 => write!(f, "{name}={}", data_encoding::BASE64.encode(value)),
        6 if !value.is_empty() && value.len().is_multiple_of(16) => {
            let addrs: Vec<String> = value
                .chunks(16)
                .map(|c| {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(c);
                    Ipv6Addr::from(octets).to_string()
                })
                .collect();
            write!(f, "{name}={}", addrs.join(","))
        }
        7 => {
            write!(f, "{name}=")?;
            write_string(f, value)
        }
        0..=8 => generic(f),
        _ if value.is_empty() => f.write_str(&name),
        _ => {
            write!(f, "{name}=")?;
            write_string(f, value)
        }
    }
}

/// `<len><bytes>...` exactly filling `bytes`, or None.
fn length_prefixed(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 || tail.len() < len {
            return None;
        }
        let (item, tail) = tail.split_at(len);
        out.push(item);
        rest = tail;
    }
    Some(out)
}

/// RFC 9460 appendix A.1: a comma-separated list in which `\,` is a comma
/// inside an item and `\\` a backslash (the value is already unescaped as a
/// character-string).
fn value_list(value: &[u8]) -> Vec<Vec<u8>> {
    if value.is_empty() {
        return Vec::new();
    }
    let mut items = vec![Vec::new()];
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => {
                if let (Some(&next), Some(item)) = (bytes.next(), items.last_mut()) {
                    item.push(next);
                }
            }
            b',' => items.push(Vec::new()),
            _ => {
                if let Some(item) = items.last_mut() {
                    item.push(b);
                }
            }
        }
    }
    items
}

/// An `issue`/`issuewild` value (RFC 8659 section 4.2) with its issuer
/// domain name lower-cased and the whitespace around it and its parameters
/// removed: `Amazon.com ;  account = 1` is `amazon.com; account=1`.
fn issuer_value(value: &[u8]) -> Vec<u8> {
    let (domain, params) = match value.iter().position(|&b| b == b';') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    let mut out = domain.trim_ascii().to_ascii_lowercase();
    let params: Vec<Vec<u8>> = params
        .map(|p| {
            p.split(|&b| b == b';')
                .map(<[u8]>::trim_ascii)
                .filter(|p| !p.is_empty())
                .map(|p| match p.iter().position(|&b| b == b'=') {
                    Some(i) => [p[..i].trim_ascii(), b"=", p[i + 1..].trim_ascii()].concat(),
                    None => p.to_vec(),
                })
                .collect()
        })
        .unwrap_or_default();
    if params.is_empty() {
        if out.is_empty() && value.contains(&b';') {
            out.push(b';');
        }
        return out;
    }
    for p in params {
        out.extend_from_slice(b"; ");
        out.extend(p);
    }
    out
}

/// Splits presentation text into tokens as written (quotes and escapes
/// kept): whitespace separates, except inside double quotes or after a
/// backslash.
fn split(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if start.is_none() {
            if b.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            start = Some(i);
        }
        match b {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            _ if b.is_ascii_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    out.push(text.get(s..i).unwrap_or_default());
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        out.push(text.get(s..).unwrap_or_default());
    }
    out
}

/// `token` split at the first `sep` outside quotes and escapes.
fn split_unquoted(token: &str, sep: u8) -> Option<(&str, &str)> {
    let bytes = token.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            b if b == sep && !quoted => return Some((token.get(..i)?, token.get(i + 1..)?)),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte of a `\DDD` escape at the start of `digits`, if it is one.
fn escaped_byte(digits: &[u8], escapes: Escapes) -> Option<u8> {
    let digits = digits.get(..3)?;
    let (radix, max_digit) = match escapes {
        Escapes::Decimal => (10, b'9'),
        Escapes::Octal => (8, b'7'),
    };
    if !digits.iter().all(|d| (b'0'..=max_digit).contains(d)) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u32, |acc, d| acc * radix + u32::from(d - b'0'));
    u8::try_from(n).ok()
}

/// A character-string's bytes: quotes dropped, `\DDD` and `\X` undone. None
/// for a `\DDD` over 255 or a backslash at the very end.
fn unescape(token: &str, escapes: Escapes) -> Option<Vec<u8>> {
    let bytes = token.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i += 1,
            b'\\' => {
                let rest = bytes.get(i + 1..)?;
                let first = *rest.first()?;
                if first.is_ascii_digit() {
                    if let Some(b) = escaped_byte(rest, escapes) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                    // Three decimal digits that are not a byte (`\999`):
                    // refused. In octal, `\089` is not an escape at all.
                    if escapes == Escapes::Decimal
                        && rest.len() >= 3
                        && rest[..3].iter().all(u8::is_ascii_digit)
                    {
                        return None;
                    }
                }
                out.push(first);
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// A domain name's labels: split at dots that are not escaped. `.` alone is
/// the root; a trailing dot is optional (Route 53 takes every name as fully
/// qualified); empty labels elsewhere are refused.
fn domain_name(token: &str, escapes: Escapes) -> Option<DomainName> {
    if token == "." {
        return Some(DomainName::root());
    }
    let bytes = token.as_bytes();
    let mut labels = Vec::new();
    let mut label = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                if label.is_empty() {
                    return None;
                }
                labels.push(std::mem::take(&mut label));
                i += 1;
            }
            b'\\' => {
                let rest = bytes.get(i + 1..)?;
                if let Some(b) = escaped_byte(rest, escapes) {
                    label.push(b);
                    i += 4;
                } else {
                    label.push(*rest.first()?);
                    i += 2;
                }
            }
            b'"' => return None,
            b => {
                label.push(b);
                i += 1;
            }
        }
    }
    if !label.is_empty() {
        labels.push(label);
    }
    if labels.is_empty() || labels.iter().any(|l| l.len() > 63) {
        return None;
    }
    Some(DomainName { labels })
}

/// Dotted-decimal IPv4, leading zeros allowed (`192.000.002.001`).
fn ipv4(text: &str) -> Option<Ipv4Addr> {
    if let Ok(a) = text.parse() {
        return Some(a);
    }
    let parts: Vec<u8> = text
        .split('.')
        .map(|p| {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    match parts.as_slice() {
        [a, b, c, d] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => None,
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXUPPER.encode(bytes)
}

/// One character-string, double-quoted: `"` and `\` escaped, bytes outside
/// printable ASCII as `\DDD` (decimal).
fn write_string(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_char('"')?;
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                f.write_char('\\')?;
                f.write_char(char::from(b))?;
            }
            0x20..=0x7e => f.write_char(char::from(b))?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests;
