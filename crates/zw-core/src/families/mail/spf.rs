//! SPF (RFC 7208): the record's syntax (section 12's ABNF, section 7's
//! macros) and the evaluator that counts what receivers count: DNS-querying
//! terms against the limit of 10 and void lookups against the limit of 2
//! (section 4.6.4), following every `include:` and `redirect=` target.
//!
//! The evaluator never evaluates a sender: it walks the tree a receiver
//! would walk in the worst case (no mechanism matching), which is what the
//! limits are about.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

/// A directive's result when its mechanism matches (RFC 7208 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Qualifier {
    /// `+`, and the default when no qualifier is written.
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

impl Qualifier {
    fn from_char(c: char) -> Option<Self> {
        match c {
            '+' => Some(Self::Pass),
            '-' => Some(Self::Fail),
            '~' => Some(Self::SoftFail),
            '?' => Some(Self::Neutral),
            _ => None,
        }
    }

    /// The prefix written for this qualifier; Pass is written bare, as it
    /// is the default.
    fn prefix(self) -> &'static str {
        match self {
            Self::Pass => "",
            Self::Fail => "-",
            Self::SoftFail => "~",
            Self::Neutral => "?",
        }
    }
}

/// A mechanism (RFC 7208 section 5). Domain specs are kept as written: they
/// may contain macros (section 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mechanism {
    /// Matches every sender (5.1).
    All,
    /// Matches when the target's record passes (5.2).
    Include { domain: String },
    /// The domain's addresses, within the prefix lengths (5.3).
    A {
        domain: Option<String>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    /// The domain's mail exchanges' addresses (5.4).
    Mx {
        domain: Option<String>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    /// The sender's validated reverse name (5.5; do not use).
    Ptr { domain: Option<String> },
    /// An IPv4 network (5.6); a bare address is a /32.
    Ip4 {
        // ipnet is built without its serde feature: the network travels as
        // its text, `192.0.2.0/24`.
        #[serde(with = "as_text")]
        network: ipnet::Ipv4Net,
    },
    /// An IPv6 network (5.6); a bare address is a /128.
    Ip6 {
        #[serde(with = "as_text")]
        network: ipnet::Ipv6Net,
    },
    /// Matches when the name has an A record (5.7).
    Exists { domain: String },
}

impl Mechanism {
    /// Whether evaluating it queries DNS, so counts against the limit of
    /// 10 (RFC 7208 4.6.4).
    fn queries_dns(&self) -> bool {
        matches!(
            self,
            Self::Include { .. }
                | Self::A { .. }
                | Self::Mx { .. }
                | Self::Ptr { .. }
                | Self::Exists { .. }
        )
    }
}

/// One term of a record: a directive or a modifier (RFC 7208 4.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "term", rename_all = "kebab-case")]
pub enum Term {
    /// A mechanism and the result it gives when it matches.
    Directive {
        qualifier: Qualifier,
        mechanism: Mechanism,
    },
    /// `redirect=`: the record to use when no mechanism matches (6.1).
    Redirect { domain: String },
    /// `exp=`: where the explanation of a Fail is published (6.2).
    Explanation { domain: String },
    /// A modifier RFC 7208 section 6 says to ignore (name=value).
    Unknown { name: String, value: String },
}

/// A parsed SPF record: its terms in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfRecord {
    pub terms: Vec<Term>,
}

/// Why a record is not valid SPF: the offending term and what is wrong, one sentence a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("`{term}`: {reason}")]
pub struct SpfError {
    pub term: String,
    pub reason: String,
}

impl SpfError {
    fn new(term: &str, reason: impl Into<String>) -> Self {
        Self {
            term: term.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Whether a TXT string is an SPF record: `v=spf1` (case-insensitive) followed by a space or the end (RFC 7208 4.5). `v=spf10` is not.
pub fn is_spf(txt: &str) -> bool {
    txt.get(..6)
        .is_some_and(|v| v.eq_ignore_ascii_case("v=spf1"))
        && matches!(txt.as_bytes().get(6), None | Some(b' '))
}

/// Parses a record for which `is_spf` holds. Never panics on any input.
pub fn parse(txt: &str) -> Result<SpfRecord, SpfError> {
    if !is_spf(txt) {
        let first = txt.split(' ').next().unwrap_or_default();
        return Err(SpfError::new(
            first,
            "an SPF record starts with `v=spf1` followed by a space",
        ));
    }
    let mut terms = Vec::new();
    let mut redirect_seen = false;
    let mut exp_seen = false;
    // Terms are separated by one or more spaces (RFC 7208 12: 1*SP); a
    // trailing space is allowed.
    for raw in txt.split(' ').skip(1).filter(|t| !t.is_empty()) {
        let term = parse_term(raw)?;
        match &term {
            Term::Redirect { .. } if redirect_seen => {
                return Err(SpfError::new(
                    raw,
                    "`redirect=` may appear only once in a record (RFC 7208 6): keep one",
                ));
            }
            Term::Explanation { .. } if exp_seen => {
                return Err(SpfError::new(
                    raw,
                    "`exp=` may appear only once in a record (RFC 7208 6): keep one",
                ));
            }
            Term::Redirect { .. } => redirect_seen = true,
            Term::Explanation { .. } => exp_seen = true,
            _ => {}
        }
        terms.push(term);
    }
    Ok(SpfRecord { terms })
}

/// Whether a domain-spec contains macros (anything starting with `%`): its
/// name then depends on the message being checked, so it cannot be looked
/// up ahead of time.
pub fn has_macro(domain_spec: &str) -> bool {
    domain_spec.contains('%')
}

/// RFC 7208 12: `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
fn is_modifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_term(raw: &str) -> Result<Term, SpfError> {
    if let Some((name, value)) = raw.split_once('=')
        && is_modifier_name(name)
    {
        return parse_modifier(raw, name, value);
    }
    let (qualifier, rest) = match raw.chars().next().and_then(Qualifier::from_char) {
        Some(q) => (q, raw.get(1..).unwrap_or_default()),
        None => (Qualifier::Pass, raw),
    };
    let (name, args) = match rest.find([':', '/']) {
        Some(at) => rest.split_at_checked(at).unwrap_or((rest, "")),
        None => (rest, ""),
    };
    let mechanism = parse_mechanism(raw, name, args)?;
    Ok(Term::Directive {
        qualifier,
        mechanism,
    })
}

fn parse_modifier(raw: &str, name: &str, value: &str) -> Result<Term, SpfError> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "redirect" | "exp" => {
            check_domain_spec(value).map_err(|why| SpfError::new(raw, why))?;
            let domain = value.to_owned();
            Ok(if lower == "redirect" {
                Term::Redirect { domain }
            } else {
                Term::Explanation { domain }
            })
        }
        _ => {
            // Unknown modifiers are ignored, but their value is still a
            // macro-string and a syntax error anywhere is a permerror (4.6).
            scan_macros(value, true).map_err(|why| SpfError::new(raw, why))?;
            Ok(Term::Unknown {
                name: name.to_owned(),
                value: value.to_owned(),
            })
        }
    }
}

fn parse_mechanism(raw: &str, name: &str, args: &str) -> Result<Mechanism, SpfError> {
    let err = |why: String| SpfError::new(raw, why);
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "all" => {
            if args.is_empty() {
                Ok(Mechanism::All)
            } else {
                Err(err("`all` takes no domain or prefix length".into()))
            }
        }
        "include" | "exists" => {
            let Some(spec) = args.strip_prefix(':').filter(|s| !s.is_empty()) else {
                return Err(err(format!(
                    "`{lower}` needs a domain, as in `{lower}:_spf.example.com`"
                )));
            };
            check_domain_spec(spec).map_err(err)?;
            let domain = spec.to_owned();
            Ok(if lower == "include" {
                Mechanism::Include { domain }
            } else {
                Mechanism::Exists { domain }
            })
        }
        "a" | "mx" => {
            let (spec, cidr4, cidr6) = split_dual_cidr(args).map_err(err)?;
            let domain = optional_domain(&lower, spec).map_err(err)?;
            Ok(if lower == "a" {
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            })
        }
        "ptr" => {
            let domain = optional_domain("ptr", args).map_err(err)?;
            Ok(Mechanism::Ptr { domain })
        }
        "ip4" => parse_ip4(args).map(|network| Mechanism::Ip4 { network }).map_err(err),
        "ip6" => parse_ip6(args).map(|network| Mechanism::Ip6 { network }).map_err(err),
        "ipv4" | "ip" => Err(err(format!(
            "`{name}` is not an SPF mechanism: write `ip4:` (or `ip6:` for IPv6)"
        ))),
        "ipv6" => Err(err(format!("`{name}` is not an SPF mechanism: write `ip6:`"))),
        "" => Err(err("a qualifier must be followed by a mechanism".into())),
        _ if args.contains('=') || name.contains('=') => Err(err(
            "modifiers (`name=value`) take no qualifier and need a name of letters, digits, `-`, `_` or `.`"
                .into(),
        )),
        _ => Err(err(format!(
            "`{name}` is not an SPF mechanism: use all, include, a, mx, ptr, ip4, ip6 or exists"
        ))),
    }
}

/// The optional `:domain-spec` of `a`, `mx` and `ptr`.
fn optional_domain(mechanism: &str, spec: &str) -> Result<Option<String>, String> {
    if spec.is_empty() {
        return Ok(None);
    }
    let Some(domain) = spec.strip_prefix(':') else {
        return Err(format!(
            "`{mechanism}` may be followed only by `:domain` and a prefix length such as `/24`"
        ));
    };
    if domain.is_empty() {
        return Err(format!(
            "`{mechanism}:` needs a domain after the colon, or no colon at all"
        ));
    }
    check_domain_spec(domain)?;
    Ok(Some(domain.to_owned()))
}

/// Splits `a`'s or `mx`'s arguments into what precedes the dual-cidr-length
/// and its two lengths: `/24`, `//64`, `/24//64` (RFC 7208 5.6). A domain
/// spec may itself contain `/`, so the lengths are taken from the end.
fn split_dual_cidr(args: &str) -> Result<(&str, Option<u8>, Option<u8>), String> {
    let mut rest = args;
    let mut cidr6 = None;
    if let Some((before, digits)) = rest.rsplit_once("//")
        && is_digits(digits)
    {
        cidr6 = Some(prefix_length(digits, 128, "IPv6")?);
        rest = before;
    }
    let mut cidr4 = None;
    if let Some((before, digits)) = rest.rsplit_once('/')
        && is_digits(digits)
    {
        cidr4 = Some(prefix_length(digits, 32, "IPv4")?);
        rest = before;
    }
    if rest.ends_with('/') {
        return Err("`/` must be followed by a prefix length, as in `/24` or `//64`".into());
    }
    Ok((rest, cidr4, cidr6))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn prefix_length(digits: &str, max: u8, family: &str) -> Result<u8, String> {
    digits
        .parse::<u8>()
        .ok()
        .filter(|len| *len <= max)
        .ok_or_else(|| format!("`/{digits}` is not an {family} prefix length: use 0 to {max}"))
}

fn parse_ip4(args: &str) -> Result<ipnet::Ipv4Net, String> {
    let Some(text) = args.strip_prefix(':').filter(|s| !s.is_empty()) else {
        return Err("`ip4` needs an address, as in `ip4:192.0.2.0/24`".into());
    };
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let Ok(address) = addr.parse::<Ipv4Addr>() else {
        let hint = if addr.parse::<Ipv6Addr>().is_ok() {
            ": IPv6 addresses go in `ip6:`"
        } else {
            ""
        };
        return Err(format!("`{addr}` is not an IPv4 address{hint}"));
    };
    let len = match len {
        Some(digits) if is_digits(digits) => prefix_length(digits, 32, "IPv4")?,
        Some(other) => {
            return Err(format!(
                "`/{other}` is not an IPv4 prefix length: use 0 to 32"
            ));
        }
        None => 32,
    };
    ipnet::Ipv4Net::new(address, len).map_err(|_| format!("`/{len}` is not an IPv4 prefix length"))
}

fn parse_ip6(args: &str) -> Result<ipnet::Ipv6Net, String> {
    let Some(text) = args.strip_prefix(':').filter(|s| !s.is_empty()) else {
        return Err("`ip6` needs an address, as in `ip6:2001:db8::/32`".into());
    };
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let Ok(address) = addr.parse::<Ipv6Addr>() else {
        let hint = if addr.parse::<Ipv4Addr>().is_ok() {
            ": IPv4 addresses go in `ip4:`"
        } else {
            ""
        };
        return Err(format!("`{addr}` is not an IPv6 address{hint}"));
    };
    let len = match len {
        Some(digits) if is_digits(digits) => prefix_length(digits, 128, "IPv6")?,
        Some(other) => {
            return Err(format!(
                "`/{other}` is not an IPv6 prefix length: use 0 to 128"
            ));
        }
        None => 128,
    };
    ipnet::Ipv6Net::new(address, len).map_err(|_| format!("`/{len}` is not an IPv6 prefix length"))
}

/// What scanning a macro-string found.
struct MacroScan {
    /// Whether the string ends with a macro-expand, which may stand for the
    /// domain's last labels (RFC 7208 12: `domain-end`).
    ends_with_expand: bool,
}

/// Checks a macro-string (RFC 7208 7.1). `explanation` allows the letters
/// only explanation text may use (`c`, `r`, `t`).
fn scan_macros(spec: &str, explanation: bool) -> Result<MacroScan, String> {
    let mut chars = spec.chars().peekable();
    let mut ends_with_expand = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            // macro-literal: visible ASCII other than `%`.
            if !('\x21'..='\x7e').contains(&c) {
                return Err(format!(
                    "`{}` is not allowed in SPF: use visible ASCII characters only",
                    c.escape_default()
                ));
            }
            ends_with_expand = false;
            continue;
        }
        match chars.next() {
            Some('%' | '_' | '-') => {}
            Some('{') => {
                let letter = chars.next().unwrap_or('}');
                match letter.to_ascii_lowercase() {
                    's' | 'l' | 'o' | 'd' | 'i' | 'p' | 'v' | 'h' => {}
                    'c' | 'r' | 't' if explanation => {}
                    'c' | 'r' | 't' => {
                        return Err(format!(
                            "the macro `%{{{letter}}}` is allowed only in explanation text"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "`%{{{letter}` is not a macro: use a letter among s, l, o, d, i, p, v, h"
                        ));
                    }
                }
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                // RFC 7208 7.3: the number of labels to keep must be nonzero.
                if !digits.is_empty() && digits.bytes().all(|b| b == b'0') {
                    return Err(format!(
                        "`%{{{letter}{digits}` keeps no label: the number must be at least 1"
                    ));
                }
                let _reversed = chars.next_if(|r| r.eq_ignore_ascii_case(&'r'));
                while chars
                    .next_if(|d| matches!(d, '.' | '-' | '+' | ',' | '/' | '_' | '='))
                    .is_some()
                {}
                if chars.next() != Some('}') {
                    return Err(format!(
                        "the macro starting `%{{{letter}` is not closed correctly: write it as `%{{{letter}}}`, optionally with digits, `r` and delimiters"
                    ));
                }
            }
            _ => {
                return Err(
                    "`%` starts a macro: write `%{letter}`, or `%%` for a literal percent sign"
                        .into(),
                );
            }
        }
        ends_with_expand = true;
    }
    Ok(MacroScan { ends_with_expand })
}

/// Checks a domain-spec (RFC 7208 12): a macro-string ending in a
/// top-level label or a macro; without macros, a plausible domain name.
fn check_domain_spec(spec: &str) -> Result<(), String> {
    let scan = scan_macros(spec, false)?;
    if scan.ends_with_expand {
        return Ok(());
    }
    if has_macro(spec) {
        // Only the end must be a top-level label; labels made of macros
        // have unknown length.
        let bare = spec.strip_suffix('.').unwrap_or(spec);
        return match bare.rsplit_once('.') {
            Some((_, top)) if is_toplabel(top) => Ok(()),
            _ => Err(format!(
                "`{spec}` must end with a top-level domain label or a macro"
            )),
        };
    }
    check_domain_name(spec)
}

/// A domain name without macros: non-empty labels of at most 63 octets,
/// at most 253 in all, at least two labels, the last a top-level label.
fn check_domain_name(name: &str) -> Result<(), String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.len() > 253 {
        return Err(format!(
            "`{name}` is longer than a domain name may be (253 characters)"
        ));
    }
    let labels: Vec<&str> = bare.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(format!(
            "`{name}` has an empty label (two dots in a row, or a leading dot)"
        ));
    }
    // The RFC's ABNF allows any visible character in the other labels, but
    // no host name has them; a comma or colon here is a mistake (terms
    // separated by commas, say) that receivers turn into a failed lookup.
    if let Some(odd) = bare
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        let hint = if matches!(odd, ',' | ';') {
            ": separate terms with spaces"
        } else {
            ""
        };
        return Err(format!(
            "`{name}` contains `{odd}`, which does not belong in a domain name{hint}"
        ));
    }
    if let Some(long) = labels.iter().find(|l| l.len() > 63) {
        return Err(format!(
            "`{name}` has a label longer than 63 characters (`{long}`)"
        ));
    }
    match labels.as_slice() {
        [_] => Err(format!(
            "`{name}` is not a fully qualified domain name: write the whole name, as in `_spf.example.com`"
        )),
        [.., top] if !is_toplabel(top) => Err(format!(
            "`{name}` does not end with a valid top-level domain label (`{top}`)"
        )),
        _ => Ok(()),
    }
}

/// RFC 7208 12's toplabel: letters, digits and inner hyphens, not all
/// digits.
fn is_toplabel(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.bytes().all(|b| b.is_ascii_digit())
}

impl SpfRecord {
    /// The `all` directive's qualifier, if any. Receivers stop at the first
    /// `all`, so that is the one returned.
    pub fn all(&self) -> Option<Qualifier> {
        self.directives()
            .find(|(_, m)| matches!(m, Mechanism::All))
            .map(|(q, _)| q)
    }

    /// Whether the record authorizes some sender: a Pass directive other
    /// than `all` (`+all` authorizes everyone, which is a different
    /// finding), or a `redirect=` in effect, which hands the verdict to
    /// another record.
    pub fn authorizes_senders(&self) -> bool {
        self.directives()
            .any(|(q, m)| q == Qualifier::Pass && !matches!(m, Mechanism::All))
            || self.redirect().is_some()
    }

    /// Exactly `v=spf1 -all` in effect: `-all` present and every directive
    /// a receiver reaches before it fails too (none can give another
    /// result). A `redirect=` is ignored beside `all`, so it cannot change
    /// this.
    pub fn denies_all(&self) -> bool {
        for (qualifier, mechanism) in self.directives() {
            if qualifier != Qualifier::Fail {
                return false;
            }
            if matches!(mechanism, Mechanism::All) {
                return true;
            }
        }
        false
    }

    /// The `redirect=` target in effect: none when the record has an `all`
    /// mechanism (RFC 7208 6.1).
    pub fn redirect(&self) -> Option<&str> {
        if self.all().is_some() {
            return None;
        }
        self.terms.iter().find_map(|t| match t {
            Term::Redirect { domain } => Some(domain.as_str()),
            _ => None,
        })
    }

    /// The number of terms that query DNS, in this record alone.
    pub fn lookup_terms(&self) -> u32 {
        let mechanisms = self.directives().filter(|(_, m)| m.queries_dns()).count();
        let redirect = usize::from(self.redirect().is_some());
        u32::try_from(mechanisms + redirect).unwrap_or(u32::MAX)
    }

    fn directives(&self) -> impl Iterator<Item = (Qualifier, &Mechanism)> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive {
                qualifier,
                mechanism,
            } => Some((*qualifier, mechanism)),
            _ => None,
        })
    }
}

/// The record written back in canonical form: lowercase names, `+` left
/// out, `ip4`/`ip6` host networks without their prefix length. Parsing it
/// gives the same record.
impl fmt::Display for SpfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for term in &self.terms {
            write!(f, " {term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Directive {
                qualifier,
                mechanism,
            } => write!(f, "{}{mechanism}", qualifier.prefix()),
            Self::Redirect { domain } => write!(f, "redirect={domain}"),
            Self::Explanation { domain } => write!(f, "exp={domain}"),
            Self::Unknown { name, value } => write!(f, "{name}={value}"),
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn dual(
            f: &mut fmt::Formatter<'_>,
            name: &str,
            domain: &Option<String>,
            cidr4: &Option<u8>,
            cidr6: &Option<u8>,
        ) -> fmt::Result {
            f.write_str(name)?;
            if let Some(d) = domain {
                write!(f, ":{d}")?;
            }
            if let Some(c) = cidr4 {
                write!(f, "/{c}")?;
            }
            if let Some(c) = cidr6 {
                write!(f, "//{c}")?;
            }
            Ok(())
        }
        match self {
            Self::All => f.write_str("all"),
            Self::Include { domain } => write!(f, "include:{domain}"),
            Self::A {
                domain,
                cidr4,
                cidr6,
            } => dual(f, "a", domain, cidr4, cidr6),
            Self::Mx {
                domain,
                cidr4,
                cidr6,
            } => dual(f, "mx", domain, cidr4, cidr6),
            Self::Ptr { domain: None } => f.write_str("ptr"),
            Self::Ptr { domain: Some(d) } => write!(f, "ptr:{d}"),
            Self::Ip4 { network } if network.prefix_len() == 32 => {
                write!(f, "ip4:{}", network.addr())
            }
            Self::Ip4 { network } => write!(f, "ip4:{network}"),
            Self::Ip6 { network } if network.prefix_len() == 128 => {
                write!(f, "ip6:{}", network.addr())
            }
            Self::Ip6 { network } => write!(f, "ip6:{network}"),
            Self::Exists { domain } => write!(f, "exists:{domain}"),
        }
    }
}

/// Serde through `Display`/`FromStr`, for types without serde support.
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer, de};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Evaluation: the lookup and void-lookup counts.

/// Receivers' limit on DNS-querying terms (RFC 7208 4.6.4).
pub const LOOKUP_LIMIT: u32 = 10;
/// Receivers' suggested limit on void lookups (RFC 7208 4.6.4).
pub const VOID_LOOKUP_LIMIT: u32 = 2;
/// More MX records than this make `mx` a permerror (RFC 7208 4.6.4).
const MX_LIMIT: usize = 10;
/// Past this many lookups the verdict (over the limit) cannot change, so
/// targets are no longer followed: a hostile or broken tree cannot make a
/// scan ask thousands of names.
const STOP_AFTER_LOOKUPS: u32 = 30;
/// How deep includes are followed at most, for the same reason.
const MAX_DEPTH: usize = 15;

/// What one DNS lookup made while evaluating SPF returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpfAnswer {
    /// Records of the asked type: for TXT each record's character-strings joined; other types presentation data.
    Records(Vec<String>),
    /// NXDOMAIN, or the name exists without records of that type (RFC 7208 "void lookup").
    Void,
    /// No usable answer (timeout, SERVFAIL): not evidence either way.
    Failed(String),
}

/// The DNS the evaluator asks. Names are given lowercase, without a
/// trailing dot; `rtype` is `TXT`, `A`, `AAAA` or `MX`.
pub trait SpfResolver: Send + Sync {
    fn lookup(&self, name: &str, rtype: &str) -> impl Future<Output = SpfAnswer> + Send;
}

/// One record in the evaluated tree, as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfNode {
    /// The domain whose record this is.
    pub domain: String,
    /// Its SPF text when found.
    pub record: Option<String>,
    /// DNS-querying terms in this record itself (include, a, mx, ptr, exists, redirect).
    pub lookups: u32,
    /// This node's lookups plus all its descendants'.
    pub total: u32,
    /// One per include / redirect target, followed or not (a target not
    /// followed says why in its note).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub children: Vec<SpfNode>,
    /// Why the node was not (fully) followed, e.g. "not followed: contains
    /// macros", "loop", "lookup failed: ...", "no SPF record", "2 SPF records".
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

impl SpfNode {
    fn new(domain: &str, record: Option<String>) -> Self {
        Self {
            domain: domain.to_owned(),
            record,
            lookups: 0,
            total: 0,
            children: Vec::new(),
            note: None,
        }
    }

    fn noted(domain: &str, note: impl Into<String>) -> Self {
        Self {
            note: Some(note.into()),
            ..Self::new(domain, None)
        }
    }
}

/// The counts of a whole SPF tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfEvaluation {
    pub tree: SpfNode,
    /// Equal to `tree.total`.
    pub lookups: u32,
    pub void_lookups: u32,
    /// Names whose lookups answered void (for evidence).
    pub void_names: Vec<String>,
    /// Definite errors that make receivers return permerror: include/redirect target without an SPF record or with several, an invalid record in the chain, an include loop, an `mx` with more than 10 exchanges. Each a sentence naming the domain.
    pub permanent_errors: Vec<String>,
    /// Set when a lookup failed (SpfAnswer::Failed) or evaluation stopped early: counts are then lower bounds.
    pub incomplete: Option<String>,
}

/// Walks `record` (the record published at `domain`) and every include/redirect target, asking `resolver` for TXT at each target.
///
/// Following stops past 30 counted lookups or 15 levels (the node says
/// so); that leaves `incomplete` unset, as the count is already far over
/// the limit and no verdict depends on the rest.
pub async fn evaluate<R: SpfResolver>(
    domain: &str,
    record: &SpfRecord,
    resolver: &R,
) -> SpfEvaluation {
    let root = normalize(domain);
    let mut walk = Walk {
        resolver,
        answers: BTreeMap::new(),
        lookups: 0,
        void_lookups: 0,
        void_names: Vec::new(),
        permanent_errors: Vec::new(),
        incomplete: None,
    };
    let mut path = vec![root.clone()];
    let tree = walk
        .visit(&root, Some(record.to_string()), record, &mut path)
        .await;
    SpfEvaluation {
        lookups: tree.total,
        tree,
        void_lookups: walk.void_lookups,
        void_names: walk.void_names,
        permanent_errors: walk.permanent_errors,
        incomplete: walk.incomplete,
    }
}

/// A name as compared and shown: lowercase, no trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The evaluation's running state.
struct Walk<'r, R> {
    resolver: &'r R,
    /// Answers already asked in this evaluation: a name asked twice (an
    /// `a` in two records, say) is counted twice but queried once.
    answers: BTreeMap<(String, &'static str), SpfAnswer>,
    lookups: u32,
    void_lookups: u32,
    void_names: Vec<String>,
    permanent_errors: Vec<String>,
    incomplete: Option<String>,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<R: SpfResolver> Walk<'_, R> {
    async fn ask(&mut self, name: &str, rtype: &'static str) -> SpfAnswer {
        let key = (name.to_owned(), rtype);
        if let Some(answer) = self.answers.get(&key) {
            return answer.clone();
        }
        let answer = self.resolver.lookup(name, rtype).await;
        self.answers.insert(key, answer.clone());
        answer
    }

    fn void(&mut self, name: &str) {
        self.void_lookups += 1;
        self.void_names.push(name.to_owned());
    }

    fn failed(&mut self, name: &str, rtype: &str, why: &str) {
        if self.incomplete.is_none() {
            self.incomplete = Some(format!("the {rtype} lookup at {name} failed: {why}"));
        }
    }

    /// Whether the tree is already so far over the limit that further
    /// lookups cannot change any verdict.
    fn exhausted(&self) -> bool {
        self.lookups >= STOP_AFTER_LOOKUPS
    }

    /// The node of the record at `domain` (normalized, last on `path`),
    /// with its targets followed.
    async fn visit(
        &mut self,
        domain: &str,
        text: Option<String>,
        record: &SpfRecord,
        path: &mut Vec<String>,
    ) -> SpfNode {
        let mut node = SpfNode::new(domain, text);
        let mut notes: Vec<String> = Vec::new();
        for term in &record.terms {
            let Term::Directive { mechanism, .. } = term else {
                continue;
            };
            if !mechanism.queries_dns() {
                continue;
            }
            node.lookups += 1;
            self.lookups += 1;
            match mechanism {
                Mechanism::Include { domain: target } => {
                    let child = self.follow(target, domain, path).await;
                    node.children.push(child);
                }
                Mechanism::A { domain: spec, .. } => {
                    let spec = spec.as_deref().unwrap_or(domain);
                    if has_macro(spec) {
                        notes.push(format!("{term} not looked up: contains macros"));
                    } else if !self.exhausted() {
                        self.check_a(&normalize(spec)).await;
                    }
                }
                Mechanism::Mx { domain: spec, .. } => {
                    let spec = spec.as_deref().unwrap_or(domain);
                    if has_macro(spec) {
                        notes.push(format!("{term} not looked up: contains macros"));
                    } else if !self.exhausted() {
                        self.check_mx(&normalize(spec)).await;
                    }
                }
                Mechanism::Exists { domain: spec } => {
                    if has_macro(spec) {
                        notes.push(format!("{term} not looked up: contains macros"));
                    } else if !self.exhausted() {
                        let name = normalize(spec);
                        match self.ask(&name, "A").await {
                            SpfAnswer::Records(_) => {}
                            SpfAnswer::Void => self.void(&name),
                            SpfAnswer::Failed(why) => self.failed(&name, "A", &why),
                        }
                    }
                }
                // `ptr` depends on the sender's address: counted, not asked.
                _ => {}
            }
        }
        // The redirect is evaluated after every mechanism (RFC 7208 6.1).
        if let Some(target) = record.redirect() {
            node.lookups += 1;
            self.lookups += 1;
            let child = self.follow(target, domain, path).await;
            node.children.push(child);
        }
        node.total = node.lookups + node.children.iter().map(|c| c.total).sum::<u32>();
        if !notes.is_empty() {
            node.note = Some(notes.join("; "));
        }
        node
    }

    /// `a`: void only when neither A nor AAAA exists, as the sender's
    /// address family decides which one a receiver asks.
    async fn check_a(&mut self, name: &str) {
        let a = self.ask(name, "A").await;
        let aaaa = self.ask(name, "AAAA").await;
        match (&a, &aaaa) {
            (SpfAnswer::Records(_), _) | (_, SpfAnswer::Records(_)) => {}
            (SpfAnswer::Void, SpfAnswer::Void) => self.void(name),
            (SpfAnswer::Failed(why), _) => self.failed(name, "A", why),
            (_, SpfAnswer::Failed(why)) => self.failed(name, "AAAA", why),
        }
    }

    async fn check_mx(&mut self, name: &str) {
        match self.ask(name, "MX").await {
            SpfAnswer::Records(exchanges) if exchanges.len() > MX_LIMIT => {
                self.permanent_errors.push(format!(
                    "{name} has {} MX records, more than the 10 an `mx` mechanism may look up",
                    exchanges.len()
                ));
            }
            SpfAnswer::Records(_) => {}
            SpfAnswer::Void => self.void(name),
            SpfAnswer::Failed(why) => self.failed(name, "MX", &why),
        }
    }

    /// The node of an include or redirect target of the record at `from`.
    fn follow<'a>(
        &'a mut self,
        spec: &'a str,
        from: &'a str,
        path: &'a mut Vec<String>,
    ) -> Boxed<'a, SpfNode> {
        Box::pin(async move {
            if has_macro(spec) {
                return SpfNode::noted(spec, "not followed: contains macros");
            }
            let target = normalize(spec);
            if path.contains(&target) {
                self.permanent_errors.push(format!(
                    "{from} includes {target}, which is already being evaluated (include loop)"
                ));
                return SpfNode::noted(&target, "loop");
            }
            if self.exhausted() || path.len() >= MAX_DEPTH {
                return SpfNode::noted(&target, "stopped: limit far exceeded");
            }
            let records = match self.ask(&target, "TXT").await {
                SpfAnswer::Failed(why) => {
                    self.failed(&target, "TXT", &why);
                    return SpfNode::noted(&target, format!("lookup failed: {why}"));
                }
                SpfAnswer::Void => {
                    self.void(&target);
                    Vec::new()
                }
                SpfAnswer::Records(records) => records,
            };
            let spf: Vec<String> = records.into_iter().filter(|r| is_spf(r)).collect();
            match spf.as_slice() {
                [] => {
                    self.permanent_errors
                        .push(format!("{target} has no SPF record"));
                    SpfNode::noted(&target, "no SPF record")
                }
                [text] => match parse(text) {
                    Err(e) => {
                        self.permanent_errors
                            .push(format!("the SPF record of {target} is not valid: {e}"));
                        SpfNode {
                            note: Some(format!("invalid: {e}")),
                            ..SpfNode::new(&target, Some(text.clone()))
                        }
                    }
                    Ok(record) => {
                        path.push(target.clone());
                        let node = self.visit(&target, Some(text.clone()), &record, path).await;
                        path.pop();
                        node
                    }
                },
                many => {
                    self.permanent_errors.push(format!(
                        "{target} has {} SPF records; receivers accept exactly one",
                        many.len()
                    ));
                    SpfNode::noted(&target, format!("{} SPF records", many.len()))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A corpus entry's expected verdict.
    #[derive(Debug, Clone, Copy)]
    enum Expected {
        Valid {
            terms: usize,
            all: Option<Qualifier>,
            authorizes: bool,
            denies: bool,
        },
        /// Invalid, blaming this term.
        Invalid(&'static str),
    }

    const fn ok(terms: usize, all: Option<Qualifier>, authorizes: bool, denies: bool) -> Expected {
        Expected::Valid {
            terms,
            all,
            authorizes,
            denies,
        }
    }

    use Qualifier::{Fail, Neutral, Pass, SoftFail};

    /// RFC 7208 appendix A's examples, providers' published records and
    /// the mistakes seen in the wild.
    const CORPUS: &[(&str, Expected)] = &[
        // Providers.
        (
            "v=spf1 include:_spf.google.com ~all",
            ok(2, Some(SoftFail), true, false),
        ),
        (
            "v=spf1 include:spf.protection.outlook.com -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 include:amazonses.com ~all",
            ok(2, Some(SoftFail), true, false),
        ),
        (
            "v=spf1 include:mailgun.org ~all",
            ok(2, Some(SoftFail), true, false),
        ),
        (
            "v=spf1 include:sendgrid.net -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 include:servers.mcsv.net ?all",
            ok(2, Some(Neutral), true, false),
        ),
        (
            "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 include:_spf.salesforce.com include:mail.zendesk.com -all",
            ok(5, Some(Fail), true, false),
        ),
        (
            "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.123 ip6:2001:db8::/32 a -all",
            ok(5, Some(Fail), true, false),
        ),
        ("v=spf1 redirect=_spf.example.com", ok(1, None, true, false)),
        (
            "v=spf1 exists:%{i}._spf.%{d} -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
            ok(2, Some(Fail), true, false),
        ),
        ("v=spf1 -all", ok(1, Some(Fail), false, true)),
        ("v=spf1", ok(0, None, false, false)),
        ("V=SPF1 MX -ALL", ok(2, Some(Fail), true, false)),
        (
            "v=spf1  include:_spf.google.com   ~all  ",
            ok(2, Some(SoftFail), true, false),
        ),
        // RFC 7208 appendix A.
        ("v=spf1 +all", ok(1, Some(Pass), false, false)),
        ("v=spf1 a -all", ok(2, Some(Fail), true, false)),
        ("v=spf1 a:example.org -all", ok(2, Some(Fail), true, false)),
        ("v=spf1 mx -all", ok(2, Some(Fail), true, false)),
        ("v=spf1 mx:example.org -all", ok(2, Some(Fail), true, false)),
        (
            "v=spf1 mx mx:example.org -all",
            ok(3, Some(Fail), true, false),
        ),
        (
            "v=spf1 mx/30 mx:example.org/30 -all",
            ok(3, Some(Fail), true, false),
        ),
        ("v=spf1 ptr -all", ok(2, Some(Fail), true, false)),
        (
            "v=spf1 ip4:192.0.2.128/28 -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 a/24 a:offsite.example/24 a//64 a/24//64 -all",
            ok(5, Some(Fail), true, false),
        ),
        (
            "v=spf1 include:example.com include:example.net -all",
            ok(3, Some(Fail), true, false),
        ),
        ("v=spf1 redirect=example.org", ok(1, None, true, false)),
        (
            "v=spf1 mx:example.com -all exp=explain._spf.%{d}",
            ok(3, Some(Fail), true, false),
        ),
        (
            "v=spf1 ip4:1.2.3.4 -a ~all foo=bar",
            ok(4, Some(SoftFail), true, false),
        ),
        (
            "v=spf1 a:mail.example.com. -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 -include:_spf.bad.example ?a -all",
            ok(3, Some(Fail), false, false),
        ),
        ("v=spf1 -a -all", ok(2, Some(Fail), false, true)),
        // `redirect` is ignored beside `all`: still `-all` in effect.
        (
            "v=spf1 -all redirect=_spf.example.com",
            ok(2, Some(Fail), false, true),
        ),
        ("v=spf1 ~all", ok(1, Some(SoftFail), false, false)),
        (
            "v=spf1 ip6:::1 ip6:2001:db8::1 -all",
            ok(3, Some(Fail), true, false),
        ),
        (
            "v=spf1 include:%{d}.spf.example.net -all",
            ok(2, Some(Fail), true, false),
        ),
        (
            "v=spf1 ptr:%%.example.com -all",
            ok(2, Some(Fail), true, false),
        ),
        // Invalid.
        (
            "v=spf1 ip4:256.1.1.1 -all",
            Expected::Invalid("ip4:256.1.1.1"),
        ),
        ("v=spf1 include -all", Expected::Invalid("include")),
        ("v=spf1 a:-all", Expected::Invalid("a:-all")),
        (
            "v=spf1 redirect=a.example.com redirect=b.example.com",
            Expected::Invalid("redirect=b.example.com"),
        ),
        (
            "v=spf1 exp=a.example.com exp=b.example.com -all",
            Expected::Invalid("exp=b.example.com"),
        ),
        ("v=spf1 ipv4:1.2.3.4", Expected::Invalid("ipv4:1.2.3.4")),
        ("v=spf1 ip:1.2.3.4 -all", Expected::Invalid("ip:1.2.3.4")),
        (
            "v=spf1 ip4:192.0.2.0/33 -all",
            Expected::Invalid("ip4:192.0.2.0/33"),
        ),
        (
            "v=spf1 ip6:2001:db8::/129 -all",
            Expected::Invalid("ip6:2001:db8::/129"),
        ),
        (
            "v=spf1 ip4:2001:db8::1 -all",
            Expected::Invalid("ip4:2001:db8::1"),
        ),
        (
            "v=spf1 ip4:192.0.2.1//64 -all",
            Expected::Invalid("ip4:192.0.2.1//64"),
        ),
        ("v=spf1 a/33 -all", Expected::Invalid("a/33")),
        ("v=spf1 mx//129 -all", Expected::Invalid("mx//129")),
        ("v=spf1 a: -all", Expected::Invalid("a:")),
        ("v=spf1 a/ -all", Expected::Invalid("a/")),
        (
            "v=spf1 all:example.com",
            Expected::Invalid("all:example.com"),
        ),
        (
            "v=spf1 include:%{z}.example.com -all",
            Expected::Invalid("include:%{z}.example.com"),
        ),
        ("v=spf1 exists:%{i -all", Expected::Invalid("exists:%{i")),
        (
            "v=spf1 exists:%{i0}.example.com -all",
            Expected::Invalid("exists:%{i0}.example.com"),
        ),
        (
            "v=spf1 exists:%{c}.example.com -all",
            Expected::Invalid("exists:%{c}.example.com"),
        ),
        (
            "v=spf1 include:50%.example.com -all",
            Expected::Invalid("include:50%.example.com"),
        ),
        (
            "v=spf1 include:example -all",
            Expected::Invalid("include:example"),
        ),
        (
            "v=spf1 include:example.123 -all",
            Expected::Invalid("include:example.123"),
        ),
        (
            "v=spf1 include:a..example.com -all",
            Expected::Invalid("include:a..example.com"),
        ),
        ("v=spf1 spf2.0/pra -all", Expected::Invalid("spf2.0/pra")),
        (
            "spf2.0/pra ip4:192.0.2.1 -all",
            Expected::Invalid("spf2.0/pra"),
        ),
        (
            "v=spf1 +redirect=_spf.example.com",
            Expected::Invalid("+redirect=_spf.example.com"),
        ),
        ("v=spf1 - all", Expected::Invalid("-")),
        (
            "v=spf1 include:_spf.google.com,include:mailgun.org ~all",
            Expected::Invalid("include:_spf.google.com,include:mailgun.org"),
        ),
        ("v=spf1 redirect= -all", Expected::Invalid("redirect=")),
    ];

    #[test]
    fn the_corpus_parses_as_expected() {
        for (text, expected) in CORPUS {
            match (parse(text), expected) {
                (
                    Ok(record),
                    Expected::Valid {
                        terms,
                        all,
                        authorizes,
                        denies,
                    },
                ) => {
                    assert_eq!(record.terms.len(), *terms, "terms of {text:?}: {record:?}");
                    assert_eq!(record.all(), *all, "all of {text:?}");
                    assert_eq!(
                        record.authorizes_senders(),
                        *authorizes,
                        "authorizes_senders of {text:?}"
                    );
                    assert_eq!(record.denies_all(), *denies, "denies_all of {text:?}");
                    assert_eq!(
                        parse(&record.to_string()).as_ref(),
                        Ok(&record),
                        "round trip of {text:?}"
                    );
                }
                (Err(e), Expected::Invalid(term)) => {
                    assert_eq!(e.term, *term, "blamed term of {text:?}: {e}");
                    assert!(
                        !e.reason.is_empty() && !e.reason.ends_with('.'),
                        "reason of {text:?}: {e}"
                    );
                }
                (got, expected) => panic!("{text:?}: expected {expected:?}, got {got:?}"),
            }
        }
        assert!(CORPUS.len() >= 25);
    }

    #[test]
    fn terms_are_parsed_into_their_parts() {
        let record = parse("v=spf1 ~a:mail.example.com/24//64 mx//48 ip4:192.0.2.0/24 ip6:2001:db8::1 ptr exists:%{i}.x.example.com redirect=_spf.example.com exp=why.example.com Foo=bar").unwrap();
        assert_eq!(
            record.terms,
            [
                Term::Directive {
                    qualifier: SoftFail,
                    mechanism: Mechanism::A {
                        domain: Some("mail.example.com".into()),
                        cidr4: Some(24),
                        cidr6: Some(64)
                    }
                },
                Term::Directive {
                    qualifier: Pass,
                    mechanism: Mechanism::Mx {
                        domain: None,
                        cidr4: None,
                        cidr6: Some(48)
                    }
                },
                Term::Directive {
                    qualifier: Pass,
                    mechanism: Mechanism::Ip4 {
                        network: "192.0.2.0/24".parse().unwrap()
                    }
                },
                Term::Directive {
                    qualifier: Pass,
                    mechanism: Mechanism::Ip6 {
                        network: "2001:db8::1/128".parse().unwrap()
                    }
                },
                Term::Directive {
                    qualifier: Pass,
                    mechanism: Mechanism::Ptr { domain: None }
                },
                Term::Directive {
                    qualifier: Pass,
                    mechanism: Mechanism::Exists {
                        domain: "%{i}.x.example.com".into()
                    }
                },
                Term::Redirect {
                    domain: "_spf.example.com".into()
                },
                Term::Explanation {
                    domain: "why.example.com".into()
                },
                Term::Unknown {
                    name: "Foo".into(),
                    value: "bar".into()
                },
            ]
        );
        // No `all`: the redirect is in effect.
        assert_eq!(record.redirect(), Some("_spf.example.com"));
        assert_eq!(record.lookup_terms(), 5);
    }

    #[test]
    fn is_spf_wants_the_exact_version() {
        assert!(is_spf("v=spf1"));
        assert!(is_spf("V=SPF1 -all"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("v=spf1-all"));
        assert!(!is_spf(" v=spf1 -all"));
        assert!(!is_spf("spf2.0/pra -all"));
        assert!(!is_spf("v=spé"));
        assert!(has_macro("%{d}.example.com"));
        assert!(!has_macro("_spf.example.com"));
    }

    #[test]
    fn errors_say_what_to_write() {
        let e = parse("v=spf1 ipv4:192.0.2.1 -all").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`ipv4:192.0.2.1`: `ipv4` is not an SPF mechanism: write `ip4:` (or `ip6:` for IPv6)"
        );
        let e = parse("v=spf1 include:x.example.com include:x.example.com/24 -all").unwrap_err();
        assert_eq!(e.term, "include:x.example.com/24");
        assert_eq!(
            e.reason,
            "`x.example.com/24` contains `/`, which does not belong in a domain name"
        );
        let e = parse("v=spf1 include:_spf.google.com,include:mailgun.org ~all").unwrap_err();
        assert!(e.reason.ends_with("separate terms with spaces"), "{e}");
        let e = parse("v=spf1 a:mail.example.123 -all").unwrap_err();
        assert!(e.reason.contains("top-level"), "{e}");
    }

    #[test]
    fn records_serialize_with_networks_as_text() {
        let record = parse("v=spf1 ip4:192.0.2.0/24 -all").unwrap();
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"terms": [
                {"term": "directive", "qualifier": "pass", "mechanism": {"kind": "ip4", "network": "192.0.2.0/24"}},
                {"term": "directive", "qualifier": "fail", "mechanism": {"kind": "all"}},
            ]})
        );
        let back: SpfRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }

    // -- Property tests -----------------------------------------------------

    fn domain() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9_]{1,10}(\\.[a-z0-9-]{1,10}){0,3}\\.[a-z]{2,6}\\.?",
            "%\\{[ilsodpvhILSODPVH][1-9]?r?[.+,/_=-]?\\}\\._spf\\.%\\{d\\}",
        ]
    }

    fn cidr() -> impl Strategy<Value = String> {
        (
            proptest::option::of(0u8..=32),
            proptest::option::of(0u8..=128),
        )
            .prop_map(|(c4, c6)| {
                format!(
                    "{}{}",
                    c4.map(|c| format!("/{c}")).unwrap_or_default(),
                    c6.map(|c| format!("//{c}")).unwrap_or_default()
                )
            })
    }

    fn mechanism() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("all".to_owned()),
            domain().prop_map(|d| format!("include:{d}")),
            (proptest::option::of(domain()), cidr()).prop_map(|(d, c)| format!(
                "a{}{c}",
                d.map(|d| format!(":{d}")).unwrap_or_default()
            )),
            (proptest::option::of(domain()), cidr()).prop_map(|(d, c)| format!(
                "MX{}{c}",
                d.map(|d| format!(":{d}")).unwrap_or_default()
            )),
            proptest::option::of(domain())
                .prop_map(|d| format!("ptr{}", d.map(|d| format!(":{d}")).unwrap_or_default())),
            (any::<u32>(), proptest::option::of(0u8..=32)).prop_map(|(a, l)| format!(
                "ip4:{}{}",
                Ipv4Addr::from(a),
                l.map(|l| format!("/{l}")).unwrap_or_default()
            )),
            (any::<u128>(), proptest::option::of(0u8..=128)).prop_map(|(a, l)| format!(
                "ip6:{}{}",
                Ipv6Addr::from(a),
                l.map(|l| format!("/{l}")).unwrap_or_default()
            )),
            domain().prop_map(|d| format!("exists:{d}")),
        ]
    }

    fn directive() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("+"), Just("-"), Just("~"), Just("?")],
            mechanism(),
        )
            .prop_map(|(q, m)| format!("{q}{m}"))
    }

    fn unknown_modifier() -> impl Strategy<Value = String> {
        ("[a-z][a-z0-9_.-]{0,8}", "[a-z0-9.]{0,10}")
            .prop_filter("redirect and exp are not unknown", |(n, _)| {
                n != "redirect" && n != "exp"
            })
            .prop_map(|(n, v)| format!("{n}={v}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn parse_never_panics(text in ".{0,80}") {
            let _ = parse(&text);
            let _ = parse(&format!("v=spf1 {text}"));
        }

        #[test]
        fn parse_never_panics_on_spf_like_text(text in "v=spf1( [-+~?]?[a-z0-9:./%{}=_-]{0,20}){0,6}") {
            if let Ok(record) = parse(&text) {
                prop_assert_eq!(parse(&record.to_string()), Ok(record));
            }
        }

        #[test]
        fn generated_records_parse(
            directives in proptest::collection::vec(directive(), 0..8),
            modifiers in proptest::collection::vec(unknown_modifier(), 0..3),
            redirect in proptest::option::of(domain()),
            exp in proptest::option::of(domain()),
            spaces in 1usize..3,
        ) {
            let mut terms = directives;
            terms.extend(modifiers);
            terms.extend(redirect.map(|d| format!("redirect={d}")));
            terms.extend(exp.map(|d| format!("exp={d}")));
            let sep = " ".repeat(spaces);
            let text = format!("v=spf1{sep}{}", terms.join(&sep));
            let record = parse(&text);
            prop_assert!(record.is_ok(), "{} -> {:?}", text, record);
            let record = record.unwrap_or(SpfRecord { terms: Vec::new() });
            prop_assert_eq!(record.terms.len(), terms.len());
            prop_assert_eq!(parse(&record.to_string()), Ok(record));
        }
    }

    // -- Evaluation -----------------------------------------------------------

    /// DNS as a table; unlisted names are void.
    #[derive(Default)]
    struct Fake(BTreeMap<(String, String), SpfAnswer>);

    impl Fake {
        fn txt(mut self, name: &str, record: &str) -> Self {
            self.0.insert(
                (name.into(), "TXT".into()),
                SpfAnswer::Records(vec![record.into()]),
            );
            self
        }

        fn answer(mut self, name: &str, rtype: &str, answer: SpfAnswer) -> Self {
            self.0.insert((name.into(), rtype.into()), answer);
            self
        }
    }

    impl SpfResolver for Fake {
        async fn lookup(&self, name: &str, rtype: &str) -> SpfAnswer {
            self.0
                .get(&(name.to_owned(), rtype.to_owned()))
                .cloned()
                .unwrap_or(SpfAnswer::Void)
        }
    }

    async fn run(domain: &str, record: &str, dns: &Fake) -> SpfEvaluation {
        evaluate(domain, &parse(record).unwrap(), dns).await
    }

    /// `levels` records, each including the next; the last has `ip4:` only.
    fn chain(levels: usize) -> Fake {
        let mut dns = Fake::default();
        for level in 1..=levels {
            let record = if level < levels {
                format!(
                    "v=spf1 ip4:192.0.2.{level} include:l{}.example.net -all",
                    level + 1
                )
            } else {
                "v=spf1 ip4:198.51.100.0/24 -all".to_owned()
            };
            dns = dns.txt(&format!("l{level}.example.net"), &record);
        }
        dns
    }

    fn depth(node: &SpfNode) -> usize {
        1 + node.children.iter().map(depth).max().unwrap_or(0)
    }

    #[tokio::test]
    async fn a_ten_level_chain_counts_exactly_ten() {
        let eval = run(
            "example.com",
            "v=spf1 include:l1.example.net -all",
            &chain(10),
        )
        .await;
        assert_eq!(eval.lookups, 10);
        assert_eq!(eval.tree.total, 10);
        assert_eq!(eval.tree.lookups, 1);
        assert_eq!(depth(&eval.tree), 11);
        assert_eq!(eval.void_lookups, 0);
        assert!(
            eval.permanent_errors.is_empty(),
            "{:?}",
            eval.permanent_errors
        );
        assert_eq!(eval.incomplete, None);
    }

    #[tokio::test]
    async fn an_eleven_level_chain_counts_eleven() {
        let eval = run(
            "example.com",
            "v=spf1 include:l1.example.net -all",
            &chain(11),
        )
        .await;
        assert_eq!(eval.lookups, 11);
        assert!(eval.lookups > LOOKUP_LIMIT);
        assert_eq!(depth(&eval.tree), 12);
        assert_eq!(eval.incomplete, None);
    }

    #[tokio::test]
    async fn a_long_chain_stops_being_followed() {
        let eval = run(
            "example.com",
            "v=spf1 include:l1.example.net -all",
            &chain(40),
        )
        .await;
        assert_eq!(eval.lookups, u32::try_from(MAX_DEPTH).unwrap());
        assert!(eval.lookups > LOOKUP_LIMIT);
        assert!(eval.permanent_errors.is_empty());
        let mut node = &eval.tree;
        while let Some(child) = node.children.first() {
            node = child;
        }
        assert_eq!(node.note.as_deref(), Some("stopped: limit far exceeded"));
        assert_eq!(node.record, None);
    }

    #[tokio::test]
    async fn redirect_is_ignored_beside_all() {
        let dns = Fake::default().txt("_spf.example.net", "v=spf1 a mx -all");
        let eval = run(
            "example.com",
            "v=spf1 ip4:192.0.2.1 redirect=_spf.example.net ~all",
            &dns,
        )
        .await;
        assert_eq!(eval.lookups, 0);
        assert!(eval.tree.children.is_empty());
        let eval = run(
            "example.com",
            "v=spf1 ip4:192.0.2.1 redirect=_spf.example.net",
            &dns,
        )
        .await;
        assert_eq!(eval.lookups, 3);
        assert_eq!(eval.tree.lookups, 1);
        assert_eq!(eval.tree.children.len(), 1);
        assert_eq!(eval.tree.children[0].domain, "_spf.example.net");
        assert_eq!(eval.tree.children[0].lookups, 2);
    }

    #[tokio::test]
    async fn an_include_loop_is_a_permanent_error_and_ends() {
        let dns = Fake::default()
            .txt("a.example.net", "v=spf1 include:B.example.net. -all")
            .txt("b.example.net", "v=spf1 include:a.example.net -all");
        let eval = run("example.com", "v=spf1 include:a.example.net -all", &dns).await;
        assert_eq!(eval.lookups, 3);
        assert_eq!(
            eval.permanent_errors,
            [
                "b.example.net includes a.example.net, which is already being evaluated (include loop)"
            ]
        );
        let b = &eval.tree.children[0].children[0];
        assert_eq!(b.domain, "b.example.net");
        assert_eq!(b.children[0].note.as_deref(), Some("loop"));
        // Including yourself is a loop too.
        let dns = Fake::default().txt("example.com", "v=spf1 include:example.com -all");
        let eval = run("Example.COM.", "v=spf1 include:example.com -all", &dns).await;
        assert_eq!(eval.tree.domain, "example.com");
        assert_eq!(eval.permanent_errors.len(), 1);
    }

    #[tokio::test]
    async fn a_target_without_spf_is_a_permanent_error() {
        let dns = Fake::default()
            .answer(
                "txt.example.net",
                "TXT",
                SpfAnswer::Records(vec!["google-site-verification=x".into()]),
            )
            .txt("two.example.net", "v=spf1 -all")
            .answer(
                "two.example.net",
                "TXT",
                SpfAnswer::Records(vec!["v=spf1 -all".into(), "v=spf1 a -all".into()]),
            )
            .txt("bad.example.net", "v=spf1 ip4:1.2.3 -all");
        let eval = run(
            "example.com",
            "v=spf1 include:gone.example.net include:txt.example.net include:two.example.net include:bad.example.net -all",
            &dns,
        )
        .await;
        assert_eq!(
            eval.permanent_errors,
            [
                "gone.example.net has no SPF record",
                "txt.example.net has no SPF record",
                "two.example.net has 2 SPF records; receivers accept exactly one",
                "the SPF record of bad.example.net is not valid: `ip4:1.2.3`: `1.2.3` is not an IPv4 address",
            ]
        );
        // Only the NXDOMAIN one is a void lookup.
        assert_eq!(eval.void_lookups, 1);
        assert_eq!(eval.void_names, ["gone.example.net"]);
        let notes: Vec<Option<&str>> = eval
            .tree
            .children
            .iter()
            .map(|c| c.note.as_deref())
            .collect();
        assert_eq!(
            notes[..3],
            [
                Some("no SPF record"),
                Some("no SPF record"),
                Some("2 SPF records")
            ]
        );
        assert_eq!(
            eval.tree.children[3].record.as_deref(),
            Some("v=spf1 ip4:1.2.3 -all")
        );
        assert_eq!(eval.incomplete, None);
    }

    #[tokio::test]
    async fn a_failed_lookup_makes_the_evaluation_incomplete() {
        let dns = Fake::default()
            .answer(
                "slow.example.net",
                "TXT",
                SpfAnswer::Failed("timeout".into()),
            )
            .txt("ok.example.net", "v=spf1 a -all")
            .answer(
                "ok.example.net",
                "A",
                SpfAnswer::Records(vec!["192.0.2.1".into()]),
            );
        let eval = run(
            "example.com",
            "v=spf1 include:slow.example.net include:ok.example.net -all",
            &dns,
        )
        .await;
        assert!(
            eval.permanent_errors.is_empty(),
            "{:?}",
            eval.permanent_errors
        );
        assert_eq!(
            eval.incomplete.as_deref(),
            Some("the TXT lookup at slow.example.net failed: timeout")
        );
        assert_eq!(
            eval.tree.children[0].note.as_deref(),
            Some("lookup failed: timeout")
        );
        assert_eq!(eval.lookups, 3);
        assert_eq!(eval.void_lookups, 0);
    }

    #[tokio::test]
    async fn void_lookups_are_counted() {
        let dns = Fake::default()
            .answer(
                "v6only.example.com",
                "AAAA",
                SpfAnswer::Records(vec!["2001:db8::1".into()]),
            )
            .answer(
                "mail.example.com",
                "MX",
                SpfAnswer::Records(vec!["10 mx.example.com.".into()]),
            )
            .answer(
                "flaky.example.com",
                "A",
                SpfAnswer::Failed("SERVFAIL".into()),
            );
        let eval = run(
            "example.com",
            "v=spf1 a:gone.example.com a:v6only.example.com mx:nomx.example.com mx:mail.example.com exists:nothing.example.com include:nospf.example.com ptr -all",
            &dns,
        )
        .await;
        assert_eq!(eval.void_lookups, 4);
        assert_eq!(
            eval.void_names,
            [
                "gone.example.com",
                "nomx.example.com",
                "nothing.example.com",
                "nospf.example.com"
            ]
        );
        assert_eq!(eval.lookups, 7);

        let eval = run(
            "example.com",
            "v=spf1 a mx exists:x.example.org -all",
            &Fake::default(),
        )
        .await;
        assert_eq!(eval.void_lookups, 3);
        assert_eq!(
            eval.void_names,
            ["example.com", "example.com", "x.example.org"]
        );
        assert_eq!(eval.incomplete, None);

        // An A that failed with no AAAA leaves the void count unknown.
        let eval = run("example.com", "v=spf1 a:flaky.example.com -all", &dns).await;
        assert_eq!(eval.void_lookups, 0);
        assert_eq!(
            eval.incomplete.as_deref(),
            Some("the A lookup at flaky.example.com failed: SERVFAIL")
        );
    }

    #[tokio::test]
    async fn too_many_mx_is_a_permanent_error() {
        let many: Vec<String> = (0..11).map(|i| format!("10 mx{i}.example.com.")).collect();
        let dns = Fake::default()
            .answer("example.com", "MX", SpfAnswer::Records(many.clone()))
            .answer(
                "ten.example.com",
                "MX",
                SpfAnswer::Records(many[..10].to_vec()),
            );
        let eval = run("example.com", "v=spf1 mx mx:ten.example.com -all", &dns).await;
        assert_eq!(
            eval.permanent_errors,
            ["example.com has 11 MX records, more than the 10 an `mx` mechanism may look up"]
        );
    }

    #[tokio::test]
    async fn macros_are_counted_not_followed() {
        let dns = Fake::default().txt("example.com.spf.example.net", "v=spf1 a a a -all");
        let eval = run(
            "example.com",
            "v=spf1 include:%{d}.spf.example.net exists:%{i}._spf.%{d} a:%{d} -all",
            &dns,
        )
        .await;
        assert_eq!(eval.lookups, 3);
        assert_eq!(eval.void_lookups, 0);
        assert!(eval.permanent_errors.is_empty());
        assert_eq!(eval.tree.children.len(), 1);
        assert_eq!(eval.tree.children[0].domain, "%{d}.spf.example.net");
        assert_eq!(
            eval.tree.children[0].note.as_deref(),
            Some("not followed: contains macros")
        );
        assert_eq!(eval.tree.children[0].total, 0);
        assert_eq!(
            eval.tree.note.as_deref(),
            Some(
                "exists:%{i}._spf.%{d} not looked up: contains macros; a:%{d} not looked up: contains macros"
            )
        );
    }

    #[tokio::test]
    async fn a_wide_tree_totals_every_node() {
        let dns = Fake::default()
            .txt("_spf.example.com", "v=spf1 include:one.example.net include:two.example.net include:three.example.net a -all")
            .txt("one.example.net", "v=spf1 a mx ip4:192.0.2.0/24 -all")
            .txt("two.example.net", "v=spf1 include:two-a.example.net include:two-b.example.net ~all")
            .txt("two-a.example.net", "v=spf1 ptr -all")
            .txt("two-b.example.net", "v=spf1 ip6:2001:db8::/32 -all")
            .txt("three.example.net", "v=spf1 redirect=two-b.example.net");
        let eval = run(
            "example.com",
            "v=spf1 mx include:_spf.example.com -all",
            &dns,
        )
        .await;
        let tree = &eval.tree;
        assert_eq!((tree.lookups, tree.total), (2, 12));
        let spf = &tree.children[0];
        assert_eq!(
            (spf.domain.as_str(), spf.lookups, spf.total),
            ("_spf.example.com", 4, 10)
        );
        let totals: Vec<(&str, u32, u32)> = spf
            .children
            .iter()
            .map(|c| (c.domain.as_str(), c.lookups, c.total))
            .collect();
        assert_eq!(
            totals,
            [
                ("one.example.net", 2, 2),
                ("two.example.net", 2, 3),
                ("three.example.net", 1, 1)
            ]
        );
        let two: Vec<(&str, u32)> = spf.children[1]
            .children
            .iter()
            .map(|c| (c.domain.as_str(), c.total))
            .collect();
        assert_eq!(two, [("two-a.example.net", 1), ("two-b.example.net", 0)]);
        assert_eq!(eval.lookups, 12);
        // A target reached twice on different branches is not a loop.
        assert!(
            eval.permanent_errors.is_empty(),
            "{:?}",
            eval.permanent_errors
        );
        // The root's record is given back as text.
        assert_eq!(
            tree.record.as_deref(),
            Some("v=spf1 mx include:_spf.example.com -all")
        );
        let json = serde_json::to_value(tree).unwrap();
        assert_eq!(
            json["children"][0]["children"][1]["children"][0]["domain"],
            "two-a.example.net"
        );
        assert!(json.get("note").is_none());
        // Schedulers need the evaluation to be sendable between threads.
        fn assert_send<T: Send>(_: &T) {}
        let record = parse("v=spf1 -all").unwrap();
        assert_send(&evaluate("example.com", &record, &dns));
    }
}
