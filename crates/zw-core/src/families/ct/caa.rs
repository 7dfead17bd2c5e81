//! Which CA issued a logged certificate, and whether the domain's CAA
//! records (RFC 8659) allow that CA.
//!
//! The issuer is known only by its distinguished name (crt.sh's
//! `issuer_name`), so the CA is recognised from the DN's organisation (`O=`)
//! and, where a brand shares or lacks one, its common name (`CN=`). A CA not
//! recognised here yields no CAA claim at all: a wrong "forbidden" would be a
//! false alarm about a certificate the domain's owner asked for.

use std::collections::BTreeSet;

/// Let's Encrypt (ISRG).
const LETS_ENCRYPT: &[&str] = &["letsencrypt.org"];
/// Amazon Trust Services.
const AMAZON: &[&str] = &[
    "amazon.com",
    "amazontrust.com",
    "awstrust.com",
    "amazonaws.com",
];
/// DigiCert, with the brands it operates (GeoTrust, Thawte, RapidSSL, the
/// former Symantec CAs) and its Japanese entities.
const DIGICERT: &[&str] = &[
    "digicert.com",
    "symantec.com",
    "geotrust.com",
    "thawte.com",
    "rapidssl.com",
    "digicert.ne.jp",
    "cybertrust.ne.jp",
];
/// Sectigo (formerly Comodo CA), which also issues ZeroSSL's certificates:
/// ZeroSSL documents Sectigo's identifiers for CAA, not a `zerossl.com` one.
const SECTIGO: &[&str] = &[
    "sectigo.com",
    "comodoca.com",
    "comodo.com",
    "usertrust.com",
    "trust-provider.com",
];
/// Google Trust Services.
const GOOGLE: &[&str] = &["pki.goog"];
/// GlobalSign.
const GLOBALSIGN: &[&str] = &["globalsign.com"];
/// GoDaddy and its Starfield brand.
const GODADDY: &[&str] = &["godaddy.com", "starfieldtech.com"];
/// Entrust and its AffirmTrust brand.
const ENTRUST: &[&str] = &["entrust.net", "affirmtrust.com"];
/// Buypass.
const BUYPASS: &[&str] = &["buypass.com", "buypass.no"];
/// SSL.com.
const SSL_COM: &[&str] = &["ssl.com"];
/// Microsoft PKI Services.
const MICROSOFT: &[&str] = &["microsoft.com"];
/// Certainly (Fastly's CA).
const CERTAINLY: &[&str] = &["certainly.com"];
/// Actalis.
const ACTALIS: &[&str] = &["actalis.it"];

/// How a DN attribute value is matched (lower-cased first).
#[derive(Debug, Clone, Copy)]
enum Pattern {
    /// The whole value.
    Is(&'static str),
    /// The value's beginning: for organisations that append a registration
    /// number (`Buypass AS-983163327`, `Actalis S.p.A./03358520967`) and for
    /// brand names at the start of a CN.
    StartsWith(&'static str),
}

impl Pattern {
    fn matches(self, value: &str) -> bool {
        match self {
            Pattern::Is(expected) => value == expected,
            Pattern::StartsWith(prefix) => value.starts_with(prefix),
        }
    }
}

/// Common names that decide before the organisation: a brand whose
/// certificates carry another company's `O=`. Amazon's "Starfield Services"
/// root kept Starfield's organisation name after Amazon bought it.
const CN_FIRST: &[(Pattern, &[&str])] = &[(Pattern::StartsWith("starfield services"), AMAZON)];

/// Organisation (`O=`) values, lower case. Issuer domains are from the
/// CCADB's "CAA Identifiers" report (ccadb.org/resources) and the CAs' own
/// CAA pages; a CA whose identifiers were not certain is left out.
const BY_ORGANISATION: &[(Pattern, &[&str])] = &[
    (Pattern::Is("let's encrypt"), LETS_ENCRYPT),
    (
        Pattern::Is("internet security research group"),
        LETS_ENCRYPT,
    ),
    (Pattern::Is("amazon"), AMAZON),
    (Pattern::Is("digicert inc"), DIGICERT),
    (Pattern::Is("digicert, inc."), DIGICERT),
    (Pattern::Is("geotrust inc."), DIGICERT),
    (Pattern::Is("geotrust, inc."), DIGICERT),
    (Pattern::Is("thawte, inc."), DIGICERT),
    (Pattern::Is("symantec corporation"), DIGICERT),
    (Pattern::Is("sectigo limited"), SECTIGO),
    (Pattern::Is("comodo ca limited"), SECTIGO),
    (Pattern::Is("the usertrust network"), SECTIGO),
    (Pattern::Is("zerossl"), SECTIGO),
    (Pattern::Is("google trust services llc"), GOOGLE),
    // GTS's intermediates since 2023 (WR1, WE1, ...) drop the "LLC".
    (Pattern::Is("google trust services"), GOOGLE),
    (Pattern::Is("globalsign nv-sa"), GLOBALSIGN),
    (Pattern::Is("globalsign"), GLOBALSIGN),
    (Pattern::Is("godaddy.com, inc."), GODADDY),
    (Pattern::Is("starfield technologies, inc."), GODADDY),
    (Pattern::Is("entrust, inc."), ENTRUST),
    (Pattern::Is("affirmtrust"), ENTRUST),
    (Pattern::StartsWith("buypass as"), BUYPASS),
    (Pattern::Is("ssl corporation"), SSL_COM),
    (Pattern::Is("ssl corp"), SSL_COM),
    (Pattern::Is("ssl.com"), SSL_COM),
    (Pattern::Is("microsoft corporation"), MICROSOFT),
    (Pattern::Is("certainly llc"), CERTAINLY),
    (Pattern::Is("certainly"), CERTAINLY),
    (Pattern::StartsWith("actalis s.p.a."), ACTALIS),
];

/// Common-name brands, consulted when no organisation matched (a DN
/// without `O=`, or a reseller's organisation on the CA's intermediate).
const CN_FALLBACK: &[(Pattern, &[&str])] = &[
    (Pattern::StartsWith("digicert "), DIGICERT),
    (Pattern::StartsWith("geotrust "), DIGICERT),
    (Pattern::StartsWith("rapidssl "), DIGICERT),
    (Pattern::StartsWith("thawte "), DIGICERT),
    (Pattern::StartsWith("sectigo "), SECTIGO),
    (Pattern::StartsWith("zerossl "), SECTIGO),
    (Pattern::StartsWith("comodo "), SECTIGO),
    (Pattern::StartsWith("amazon "), AMAZON),
];

/// The CAA issuer domains (RFC 8659 `issue` values) of the CA whose issuer
/// DN this is, from the CAs' documented CAA identifiers (CCADB "CAA
/// Identifiers"): None when the CA is not known here (then no CAA claim is
/// made).
pub fn issuer_domains(issuer_name: &str) -> Option<&'static [&'static str]> {
    let attributes = attributes(issuer_name);
    let values = |key: &str| -> Vec<String> {
        attributes
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.to_lowercase())
            .collect()
    };
    let organisations = values("O");
    let common_names = values("CN");
    let lookup = |table: &[(Pattern, &'static [&'static str])], candidates: &[String]| {
        candidates.iter().find_map(|value| {
            table
                .iter()
                .find(|(pattern, _)| pattern.matches(value))
                .map(|&(_, domains)| domains)
        })
    };
    lookup(CN_FIRST, &common_names)
        .or_else(|| lookup(BY_ORGANISATION, &organisations))
        .or_else(|| lookup(CN_FALLBACK, &common_names))
}

/// Splits a DN as crt.sh writes it (`C=US, O="GoDaddy.com, Inc.", CN=...`)
/// into (upper-case key, value) pairs. Values may be quoted or use `\`
/// escapes; a comma-separated piece without a key is taken as part of the
/// previous value, so an unquoted `O=GoDaddy.com, Inc.` still reads whole.
pub(crate) fn attributes(dn: &str) -> Vec<(String, String)> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => pieces.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    pieces.push(current);

    let mut out: Vec<(String, String)> = Vec::new();
    for piece in pieces {
        let keyed = piece
            .split_once('=')
            .filter(|(key, _)| is_attribute_key(key.trim()));
        match (keyed, out.last_mut()) {
            (Some((key, value)), _) => {
                out.push((key.trim().to_ascii_uppercase(), value.trim().to_owned()));
            }
            (None, Some((_, previous))) => {
                previous.push(',');
                previous.push_str(piece.trim_end());
            }
            (None, None) => {}
        }
    }
    out
}

/// An attribute type as DNs spell it: a short name (`O`, `CN`,
/// `organizationIdentifier`) or a dotted OID.
fn is_attribute_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// What a CAA record set says about an issuer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum CaaVerdict {
    /// The records allow the issuer (or say nothing about issuance).
    Allowed,
    /// The governing records do not name the issuer.
    Forbidden {
        /// The governing tag: `"issue"` or `"issuewild"`.
        tag: &'static str,
        /// The issuer domains those records name (lower case, sorted,
        /// deduplicated; empty when they allow no CA at all).
        allowed: Vec<String>,
    },
}

/// What a CAA record set (presentation strings like `0 issue
/// "letsencrypt.org"`, tag case-insensitive) says about an issuer domain
/// list for a name (RFC 8659 section 4).
///
/// For a wildcard name, `issuewild` records govern if any exist, else
/// `issue`; for a non-wildcard name, `issue`. With no governing record
/// (e.g. only `iodef`) issuance is allowed. A value of `;` or an empty issuer
/// domain allows no CA. Issuer domains compare case-insensitively, without
/// the parameters after `;` and surrounding whitespace. Flags are ignored
/// (the critical flag on an unknown tag is not acted on), and records that
/// do not parse are ignored.
pub fn verdict(records: &[String], wildcard: bool, issuer_domains: &[&str]) -> CaaVerdict {
    let parsed: Vec<(String, String)> = records.iter().filter_map(|r| record(r)).collect();
    let values_of = |tag: &str| -> Vec<&str> {
        parsed
            .iter()
            .filter(|(t, _)| t == tag)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let issuewild = values_of("issuewild");
    let (tag, governing) = if wildcard && !issuewild.is_empty() {
        ("issuewild", issuewild)
    } else {
        ("issue", values_of("issue"))
    };
    if governing.is_empty() {
        return CaaVerdict::Allowed;
    }
    let allowed: BTreeSet<String> = governing.into_iter().filter_map(issuer_domain).collect();
    let ours: BTreeSet<String> = issuer_domains
        .iter()
        .filter_map(|domain| issuer_domain(domain))
        .collect();
    if allowed.iter().any(|domain| ours.contains(domain)) {
        CaaVerdict::Allowed
    } else {
        CaaVerdict::Forbidden {
            tag,
            allowed: allowed.into_iter().collect(),
        }
    }
}

/// Reads `<flags> <tag> <value>` into (lower-case tag, unquoted value);
/// None when it does not parse.
fn record(text: &str) -> Option<(String, String)> {
    let (flags, rest) = text.trim().split_once(char::is_whitespace)?;
    flags.parse::<u8>().ok()?;
    let (tag, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some((tag.to_ascii_lowercase(), unquote(value.trim())?))
}

/// A presentation-format value: a quoted string with `\X` and `\DDD`
/// escapes, or the bare text. None for an unterminated quote or text after
/// the closing quote, which a zone file would reject.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => {
                let rest = inner.get(index + 1..).unwrap_or_default();
                return rest
                    .trim()
                    .is_empty()
                    .then(|| String::from_utf8_lossy(&bytes).into_owned());
            }
            '\\' => {
                let (_, escaped) = chars.next()?;
                if let Some(first) = escaped.to_digit(10) {
                    // \DDD: a byte in decimal.
                    let mut code = first;
                    for _ in 0..2 {
                        let digit = chars.next().and_then(|(_, d)| d.to_digit(10))?;
                        code = code * 10 + digit;
                    }
                    bytes.push(u8::try_from(code).ok()?);
                } else {
                    let mut buffer = [0u8; 4];
                    bytes.extend_from_slice(escaped.encode_utf8(&mut buffer).as_bytes());
                }
            }
            _ => {
                let mut buffer = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    None
}

/// The issuer domain of an `issue`/`issuewild` value (or of one of our own
/// identifiers): the text before any `;`, trimmed, lower case, without a
/// trailing dot; None when empty (the value allows no CA).
fn issuer_domain(value: &str) -> Option<String> {
    let domain = value.split(';').next().unwrap_or_default().trim();
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    fn forbidden(tag: &'static str, allowed: &[&str]) -> CaaVerdict {
        CaaVerdict::Forbidden {
            tag,
            allowed: allowed.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn issuers() {
        let table: &[(&str, Option<&[&str]>)] = &[
            ("C=US, O=Let's Encrypt, CN=R11", Some(LETS_ENCRYPT)),
            ("C=US, O=Let's Encrypt, CN=E6", Some(LETS_ENCRYPT)),
            (
                "C=US, O=Internet Security Research Group, CN=ISRG Root X1",
                Some(LETS_ENCRYPT),
            ),
            ("C=US, O=Amazon, CN=Amazon RSA 2048 M02", Some(AMAZON)),
            (
                "CN=Amazon RSA 2048 M01, OU=Server CA 1B, O=Amazon, C=US",
                Some(AMAZON),
            ),
            (
                "C=US, ST=Arizona, L=Scottsdale, O=\"Starfield Technologies, Inc.\", CN=Starfield Services Root Certificate Authority - G2",
                Some(AMAZON),
            ),
            (
                "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
                Some(DIGICERT),
            ),
            (
                "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=GeoTrust TLS RSA CA G1",
                Some(DIGICERT),
            ),
            (
                "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=RapidSSL TLS RSA CA G1",
                Some(DIGICERT),
            ),
            (
                "C=US, O=\"DigiCert, Inc.\", CN=DigiCert G5 TLS RSA4096 SHA384 2021 CA1",
                Some(DIGICERT),
            ),
            (
                "C=US, O=GeoTrust Inc., CN=RapidSSL SHA256 CA",
                Some(DIGICERT),
            ),
            (
                "C=US, O=\"thawte, Inc.\", CN=thawte SSL CA - G2",
                Some(DIGICERT),
            ),
            (
                "C=US, O=Symantec Corporation, OU=Symantec Trust Network, CN=Symantec Class 3 Secure Server CA - G4",
                Some(DIGICERT),
            ),
            (
                "C=GB, ST=Greater Manchester, L=Salford, O=Sectigo Limited, CN=Sectigo RSA Domain Validation Secure Server CA",
                Some(SECTIGO),
            ),
            (
                "C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, CN=COMODO RSA Domain Validation Secure Server CA",
                Some(SECTIGO),
            ),
            (
                "C=AT, O=ZeroSSL, CN=ZeroSSL RSA Domain Secure Site CA",
                Some(SECTIGO),
            ),
            (
                "C=US, O=Google Trust Services LLC, CN=GTS CA 1C3",
                Some(GOOGLE),
            ),
            ("C=US, O=Google Trust Services, CN=WR1", Some(GOOGLE)),
            (
                "C=BE, O=GlobalSign nv-sa, CN=GlobalSign GCC R3 DV TLS CA 2020",
                Some(GLOBALSIGN),
            ),
            (
                "C=US, ST=Arizona, L=Scottsdale, O=\"GoDaddy.com, Inc.\", OU=http://certs.godaddy.com/repository/, CN=Go Daddy Secure Certificate Authority - G2",
                Some(GODADDY),
            ),
            // Unquoted, as some tools print it: the comma does not split O.
            (
                "C=US, O=GoDaddy.com, Inc., CN=Go Daddy Secure Certificate Authority - G2",
                Some(GODADDY),
            ),
            (
                "C=US, ST=Arizona, L=Scottsdale, O=\"Starfield Technologies, Inc.\", OU=http://certs.starfieldtech.com/repository/, CN=Starfield Secure Certificate Authority - G2",
                Some(GODADDY),
            ),
            (
                "C=US, O=\"Entrust, Inc.\", OU=See www.entrust.net/legal-terms, CN=Entrust Certification Authority - L1K",
                Some(ENTRUST),
            ),
            (
                "C=NO, O=Buypass AS-983163327, CN=Buypass Class 2 CA 5",
                Some(BUYPASS),
            ),
            (
                "C=US, ST=Texas, L=Houston, O=SSL Corp, CN=SSL.com RSA SSL subCA",
                Some(SSL_COM),
            ),
            (
                "C=US, O=Microsoft Corporation, CN=Microsoft Azure RSA TLS Issuing CA 03",
                Some(MICROSOFT),
            ),
            (
                "C=US, O=Certainly, CN=Certainly Intermediate R1",
                Some(CERTAINLY),
            ),
            (
                "C=IT, L=Ponte San Pietro, O=Actalis S.p.A., CN=Actalis Organization Validated Server CA G3",
                Some(ACTALIS),
            ),
            (
                "C=IT, ST=Bergamo, L=Ponte San Pietro, O=Actalis S.p.A./03358520967, CN=Actalis Authentication Root CA",
                Some(ACTALIS),
            ),
            // Escaped comma, RFC 4514 style.
            (
                "CN=Go Daddy Secure Certificate Authority - G2,O=GoDaddy.com\\, Inc.,C=US",
                Some(GODADDY),
            ),
            // Case-insensitive.
            ("c=us, o=LET'S ENCRYPT, cn=r3", Some(LETS_ENCRYPT)),
            // CN fallback when the organisation is absent or a reseller's.
            (
                "CN=Sectigo Public Server Authentication CA DV R36",
                Some(SECTIGO),
            ),
            (
                "C=US, O=Example Reseller, CN=RapidSSL Global TLS RSA4096 SHA256 2022 CA1",
                Some(DIGICERT),
            ),
            // Unknown CAs: no claim.
            ("C=FR, O=Gandi, CN=Gandi Standard SSL CA 2", None),
            (
                "C=CN, O=\"TrustAsia Technologies, Inc.\", CN=TrustAsia RSA DV TLS CA G2",
                None,
            ),
            ("CN=Internal Corp Issuing CA", None),
            ("", None),
            ("garbage without attributes", None),
            ("=,,,\"\\", None),
            // Not a prefix match: "Amazonia Ltd" is not Amazon.
            ("C=BR, O=Amazonia Ltd, CN=Amazonia CA", None),
        ];
        for (dn, expected) in table {
            assert_eq!(issuer_domains(dn), *expected, "{dn}");
        }
    }

    #[test]
    fn dn_attributes() {
        assert_eq!(
            attributes("C=US, O=\"GoDaddy.com, Inc.\", OU=http://x/?a=b, CN=CA"),
            vec![
                ("C".to_owned(), "US".to_owned()),
                ("O".to_owned(), "GoDaddy.com, Inc.".to_owned()),
                ("OU".to_owned(), "http://x/?a=b".to_owned()),
                ("CN".to_owned(), "CA".to_owned()),
            ]
        );
    }

    #[test]
    fn no_records_allow() {
        assert_eq!(verdict(&[], false, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(verdict(&[], true, LETS_ENCRYPT), CaaVerdict::Allowed);
    }

    #[test]
    fn issue_names_the_ca() {
        let set = records(&["0 issue \"letsencrypt.org\""]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(verdict(&set, true, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(
            verdict(&set, false, DIGICERT),
            forbidden("issue", &["letsencrypt.org"])
        );
    }

    #[test]
    fn semicolon_forbids_all() {
        let set = records(&["0 issue \";\""]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), forbidden("issue", &[]));
        assert_eq!(verdict(&set, true, AMAZON), forbidden("issue", &[]));
        let empty = records(&["0 issue \"\""]);
        assert_eq!(
            verdict(&empty, false, LETS_ENCRYPT),
            forbidden("issue", &[])
        );
    }

    #[test]
    fn issuewild_governs_wildcards() {
        let set = records(&["0 issue \"letsencrypt.org\"", "0 issuewild \";\""]);
        assert_eq!(
            verdict(&set, true, LETS_ENCRYPT),
            forbidden("issuewild", &[])
        );
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        let wild_only = records(&["0 issuewild \"digicert.com\""]);
        // issuewild says nothing about non-wildcard names.
        assert_eq!(
            verdict(&wild_only, false, LETS_ENCRYPT),
            CaaVerdict::Allowed
        );
        assert_eq!(
            verdict(&wild_only, true, LETS_ENCRYPT),
            forbidden("issuewild", &["digicert.com"])
        );
        assert_eq!(verdict(&wild_only, true, DIGICERT), CaaVerdict::Allowed);
    }

    #[test]
    fn parameters_are_ignored() {
        let set = records(&[
            "0 issue \"letsencrypt.org; validationmethods=dns-01\"",
            "128 issue \"amazon.com;accounturi=https://example/1\"",
        ]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(verdict(&set, false, AMAZON), CaaVerdict::Allowed);
        assert_eq!(
            verdict(&set, false, GOOGLE),
            forbidden("issue", &["amazon.com", "letsencrypt.org"])
        );
        // Whitespace inside the quotes.
        let spaced = records(&["0 issue \"  letsencrypt.org ; x=y \""]);
        assert_eq!(verdict(&spaced, false, LETS_ENCRYPT), CaaVerdict::Allowed);
    }

    #[test]
    fn case_insensitive() {
        let set = records(&["0 ISSUE \"LetsEncrypt.org\""]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(
            verdict(&set, false, DIGICERT),
            forbidden("issue", &["letsencrypt.org"])
        );
        let wild = records(&["0 IssueWild \";\"", "0 issue \"letsencrypt.org\""]);
        assert_eq!(
            verdict(&wild, true, LETS_ENCRYPT),
            forbidden("issuewild", &[])
        );
    }

    #[test]
    fn iodef_only_allows() {
        let set = records(&["0 iodef \"mailto:x@example.com\""]);
        assert_eq!(verdict(&set, false, DIGICERT), CaaVerdict::Allowed);
        assert_eq!(verdict(&set, true, DIGICERT), CaaVerdict::Allowed);
        let critical_unknown = records(&["128 tbs \"x\""]);
        assert_eq!(
            verdict(&critical_unknown, false, DIGICERT),
            CaaVerdict::Allowed
        );
    }

    #[test]
    fn issue_records_unite() {
        let set = records(&[
            "0 issue \"letsencrypt.org\"",
            "0 issue \"amazon.com\"",
            "0 issue \";\"",
            "0 issue \"LETSENCRYPT.ORG\"",
        ]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        assert_eq!(verdict(&set, false, AMAZON), CaaVerdict::Allowed);
        assert_eq!(
            verdict(&set, false, SECTIGO),
            forbidden("issue", &["amazon.com", "letsencrypt.org"])
        );
    }

    #[test]
    fn unparseable_records_are_ignored() {
        let set = records(&[
            "issue \"digicert.com\"",
            "0 issue \"digicert.com",
            "0 issue \"digicert.com\" trailing",
            "256 issue \"digicert.com\"",
            "0 is-sue \"digicert.com\"",
            "0 issue",
            "",
            "   ",
            "0 issue \"bad \\1\"",
            "0 issue \"bad \\999\"",
        ]);
        assert_eq!(verdict(&set, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        let with_good = {
            let mut all = set.clone();
            all.push("0 issue \"pki.goog\"".to_owned());
            all
        };
        assert_eq!(
            verdict(&with_good, false, LETS_ENCRYPT),
            forbidden("issue", &["pki.goog"])
        );
    }

    #[test]
    fn presentation_values() {
        assert_eq!(unquote("\"a\\\"b\""), Some("a\"b".to_owned()));
        assert_eq!(
            unquote("\"\\108etsencrypt.org\""),
            Some("letsencrypt.org".to_owned())
        );
        assert_eq!(
            unquote("letsencrypt.org"),
            Some("letsencrypt.org".to_owned())
        );
        assert_eq!(unquote("\"unterminated"), None);
        assert_eq!(
            record("0\tissue\t\"letsencrypt.org\""),
            Some(("issue".to_owned(), "letsencrypt.org".to_owned()))
        );
        // Unquoted values (some tools print them so) read the same.
        let bare = records(&["0 issue letsencrypt.org"]);
        assert_eq!(verdict(&bare, false, LETS_ENCRYPT), CaaVerdict::Allowed);
        // A trailing dot on the issuer domain is tolerated.
        let dotted = records(&["0 issue \"letsencrypt.org.\""]);
        assert_eq!(verdict(&dotted, false, LETS_ENCRYPT), CaaVerdict::Allowed);
    }

    #[test]
    fn no_issuer_domains_is_forbidden_when_records_govern() {
        let set = records(&["0 issue \"letsencrypt.org\""]);
        assert_eq!(
            verdict(&set, false, &[]),
            forbidden("issue", &["letsencrypt.org"])
        );
    }

    #[test]
    fn verdict_serialises() {
        let json =
            serde_json::to_value(forbidden("issue", &["letsencrypt.org"])).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"Forbidden": {"tag": "issue", "allowed": ["letsencrypt.org"]}})
        );
    }
}
