//! The URLs zonewarden itself sends requests to (the vendor's license
//! endpoint, AWS's `ip-ranges.json`, CloudFormation's `ResponseURL`), parsed
//! once with a maintained URL parser (the WHATWG rules browsers use) and
//! judged on what the parser found, never on slices of the text: in
//! `http://127.0.0.1:80@evil.example/` the host is `evil.example` (the rest
//! is a user name and password), and in `https://attacker.example#.amazonaws.com/`
//! it is `attacker.example` (the rest is a fragment). The request is then
//! made to the parsed URL, so what was checked is what is used.
//!
//! The rules, for every such URL:
//! - `https://`; plain `http://` only to a loopback host (127.0.0.0/8,
//!   `[::1]`, `localhost`: the tests' and the demo's local stand-ins);
//! - no user name or password before the host (nothing we send needs one,
//!   and a URL that carries one is either a mistake that leaks a secret into
//!   logs or a disguise for the real host);
//! - no fragment (never sent on the wire, so it can only mislead a reader).
//!
//! CloudFormation's `ResponseURL` must in addition be an S3 presigned URL of
//! CloudFormation's own response bucket, see
//! [`OutboundUrl::cloudformation_response`].

use std::fmt;
use url::{Host, Url};

/// A URL that passed the rules above. Its text is the parser's
/// serialization, the exact URL requests go to.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundUrl(Url);

/// Why a URL is refused. Display reads after the URL (`` `x` must be an
/// https:// URL ``); no variant repeats the user name or password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("is not a URL ({0})")]
    Unparsable(String),
    #[error(
        "must be an https:// URL (plain http is accepted to a loopback address only: 127.0.0.0/8, [::1], localhost)"
    )]
    NotHttps,
    #[error(
        "carries a user name or password before the host (`name:password@`): remove it; this URL never needs credentials"
    )]
    UserInfo,
    #[error("has a fragment (`#...`): remove it")]
    Fragment,
    #[error("has no host")]
    NoHost,
    #[error(
        "is not an S3 URL of CloudFormation's custom resource response bucket (host `{0}`; expected cloudformation-custom-resource-response-<region>.s3[.-]<region>.amazonaws.com or .amazonaws.com.cn)"
    )]
    NotCloudFormationResponse(String),
}

impl UrlError {
    /// How to show the refused value in an error message: the URL itself,
    /// except when it carries credentials, which are never repeated.
    pub fn shown<'a>(&self, raw: &'a str) -> &'a str {
        match self {
            Self::UserInfo => "(the value, not shown: it carries credentials)",
            _ => raw,
        }
    }
}

/// The bucket CloudFormation answers custom resources through, one per
/// region, named with the region's dashes removed
/// (`cloudformation-custom-resource-response-euwest1`).
const CFN_RESPONSE_BUCKET: &str = "cloudformation-custom-resource-response-";

/// The DNS suffixes of S3 in the partitions whose CloudFormation answers
/// through a presigned S3 URL under this scheme: AWS (`amazonaws.com`,
/// GovCloud included) and China (`amazonaws.com.cn`).
const S3_PARTITION_SUFFIXES: [&str; 2] = [".amazonaws.com", ".amazonaws.com.cn"];

impl OutboundUrl {
    /// An endpoint zonewarden calls (the license endpoint, `ip-ranges.json`).
    pub fn endpoint(raw: &str) -> Result<Self, UrlError> {
        let url = Url::parse(raw.trim()).map_err(|e| UrlError::Unparsable(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::UserInfo);
        }
        if url.fragment().is_some() {
            return Err(UrlError::Fragment);
        }
        if url.host().is_none() {
            return Err(UrlError::NoHost);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(UrlError::NotHttps),
        }
        Ok(Self(url))
    }

    /// CloudFormation's `ResponseURL` for a custom resource: the endpoint
    /// rules, and then the host must be S3 answering for CloudFormation's
    /// response bucket of one region, in any of the forms S3 names it:
    ///
    /// - virtual-hosted: `cloudformation-custom-resource-response-<r>.` then
    ///   `s3`, `s3-<region>`, `s3.<region>` or `s3.dualstack.<region>`, then
    ///   `.amazonaws.com` or `.amazonaws.com.cn`;
    /// - path-style: the same S3 host without the bucket, and the bucket as
    ///   the first path segment.
    ///
    /// `<r>` is a region without its dashes; when the host names a region
    /// too, the two must agree. The default port only. Plain http to a
    /// loopback address is kept for the tests' stand-in for S3.
    pub fn cloudformation_response(raw: &str) -> Result<Self, UrlError> {
        let url = Self::endpoint(raw)?;
        if url.is_plain_http_to_loopback() {
            return Ok(url);
        }
        let host = url.0.host_str().unwrap_or_default();
        let refused =
            || UrlError::NotCloudFormationResponse(host.chars().take(100).collect::<String>());
        if url.0.port().is_some() {
            return Err(refused());
        }
        let Some(s3) = S3_PARTITION_SUFFIXES
            .iter()
            .find_map(|suffix| host.strip_suffix(suffix))
        else {
            return Err(refused());
        };
        // Virtual-hosted: the bucket is the first label; path-style: the
        // first path segment.
        let (bucket, endpoint) = match s3.strip_prefix(CFN_RESPONSE_BUCKET) {
            Some(rest) => {
                let (region, endpoint) = rest.split_once('.').ok_or_else(refused)?;
                (region, endpoint)
            }
            None => {
                let first = url
                    .0
                    .path_segments()
                    .and_then(|mut s| s.next())
                    .unwrap_or_default();
                let region = first
                    .strip_prefix(CFN_RESPONSE_BUCKET)
                    .ok_or_else(refused)?;
                (region, s3)
            }
        };
        if bucket.is_empty()
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(refused());
        }
        let named_region = if endpoint == "s3" {
            None
        } else if let Some(r) = endpoint.strip_prefix("s3.dualstack.") {
            Some(r)
        } else if let Some(r) = endpoint.strip_prefix("s3.") {
            Some(r)
        } else if let Some(r) = endpoint.strip_prefix("s3-") {
            Some(r)
        } else {
            return Err(refused());
        };
        if let Some(region) = named_region
            && (!is_region(region) || region.replace('-', "") != bucket)
        {
            return Err(refused());
        }
        Ok(url)
    }

    /// The URL as requests use it.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL, for an HTTP client.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Whether this is the tests' plain-http-to-loopback exception (an HTTP
    /// client must then allow plain http; for every other URL it must not).
    pub fn is_plain_http_to_loopback(&self) -> bool {
        self.0.scheme() == "http" && is_loopback(&self.0)
    }
}

impl fmt::Debug for OutboundUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutboundUrl({})", self.0)
    }
}

impl fmt::Display for OutboundUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// An AWS region code: `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_without_credentials_or_fragment() {
        for ok in [
            "https://license.example.com/v1/licenses/validate",
            "https://license.example.com:8443/v1?x=1",
            "https://ip-ranges.amazonaws.com/ip-ranges.json",
            "http://127.0.0.1:8080/v1/licenses/validate",
            "http://127.0.0.2:9/ip-ranges.json",
            "http://localhost:8080/",
            "http://[::1]:8080/",
        ] {
            assert!(OutboundUrl::endpoint(ok).is_ok(), "{ok}");
        }
        let cases = [
            // The userinfo disguise: the host is evil.example.
            ("http://127.0.0.1:80@evil.example/", UrlError::UserInfo),
            (
                "https://user:secret@license.example.com/",
                UrlError::UserInfo,
            ),
            ("https://token@license.example.com/", UrlError::UserInfo),
            ("https://license.example.com/v1#x", UrlError::Fragment),
            ("http://license.example.com/v1", UrlError::NotHttps),
            // Loopback-looking names that are not loopback.
            ("http://127.0.0.1.evil.example/", UrlError::NotHttps),
            ("http://localhost.evil.example/", UrlError::NotHttps),
            ("http://10.0.0.1/", UrlError::NotHttps),
            ("ftp://127.0.0.1/", UrlError::NotHttps),
            ("file:///etc/passwd", UrlError::NoHost),
        ];
        for (raw, expected) in cases {
            assert_eq!(OutboundUrl::endpoint(raw), Err(expected), "{raw}");
        }
        assert!(matches!(
            OutboundUrl::endpoint("license.example.com/v1"),
            Err(UrlError::Unparsable(_))
        ));
        assert!(matches!(
            OutboundUrl::endpoint("https://"),
            Err(UrlError::Unparsable(_))
        ));
    }

    #[test]
    fn the_request_goes_to_the_url_that_was_checked() {
        let u = OutboundUrl::endpoint(" https://License.Example.COM:443/v1 ").unwrap();
        assert_eq!(u.as_str(), "https://license.example.com/v1");
        assert!(!u.is_plain_http_to_loopback());
        assert!(
            OutboundUrl::endpoint("http://127.0.0.1:9/x")
                .unwrap()
                .is_plain_http_to_loopback()
        );
    }

    #[test]
    fn credentials_are_never_repeated_in_messages() {
        let raw = "https://user:hunter2@license.example.com/";
        let e = OutboundUrl::endpoint(raw).unwrap_err();
        assert!(!e.shown(raw).contains("hunter2"));
        assert!(!e.to_string().contains("hunter2"));
        let raw = "http://license.example.com/";
        assert_eq!(OutboundUrl::endpoint(raw).unwrap_err().shown(raw), raw);
    }

    /// What CloudFormation sends, in the forms seen across regions and
    /// partitions (the presigned query shortened).
    const REAL: [&str; 7] = [
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/zw/guid%7CLicenseCheckAtDeploy%7Creq?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261203T081500Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200&X-Amz-Credential=AKIA%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abc123",
        "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/zw/guid%7CX%7Creq?AWSAccessKeyId=AKIA&Expires=1700000000&Signature=abc%3D",
        "https://cloudformation-custom-resource-response-apnortheast1.s3.ap-northeast-1.amazonaws.com/arn%3Aaws?X-Amz-Signature=1",
        "https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com/arn%3Aaws-us-gov?X-Amz-Signature=1",
        "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/arn%3Aaws-cn?X-Amz-Signature=1",
        "https://s3.eu-central-1.amazonaws.com/cloudformation-custom-resource-response-eucentral1/arn%3Aaws?X-Amz-Signature=1",
        "https://cloudformation-custom-resource-response-uswest2.s3.dualstack.us-west-2.amazonaws.com/arn?X-Amz-Signature=1",
    ];

    #[test]
    fn cloudformation_presigned_response_urls_are_accepted() {
        for raw in REAL {
            assert!(
                OutboundUrl::cloudformation_response(raw).is_ok(),
                "{raw}: {:?}",
                OutboundUrl::cloudformation_response(raw)
            );
        }
        // The tests' stand-in for S3.
        assert!(OutboundUrl::cloudformation_response("http://127.0.0.1:9999/cfn").is_ok());
    }

    #[test]
    fn anything_else_is_not_answered() {
        let not_cfn = |raw: &str| {
            matches!(
                OutboundUrl::cloudformation_response(raw),
                Err(UrlError::NotCloudFormationResponse(_))
            )
        };
        // Sliced text would have taken these two for Amazon hosts.
        assert_eq!(
            OutboundUrl::cloudformation_response("https://attacker.example#.amazonaws.com/"),
            Err(UrlError::Fragment)
        );
        assert_eq!(
            OutboundUrl::cloudformation_response("http://127.0.0.1:80@evil.example/"),
            Err(UrlError::UserInfo)
        );
        assert_eq!(
            OutboundUrl::cloudformation_response(
                "https://x:y@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a"
            ),
            Err(UrlError::UserInfo)
        );
        assert_eq!(
            OutboundUrl::cloudformation_response(
                "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a"
            ),
            Err(UrlError::NotHttps)
        );
        assert_eq!(
            OutboundUrl::cloudformation_response(
                "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a#f"
            ),
            Err(UrlError::Fragment)
        );
        for raw in [
            "https://evil.example.com/amazonaws.com",
            "https://attacker.example\\.amazonaws.com/",
            "https://lambda.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/x",
            "https://attacker.example/?.amazonaws.com",
            "https://amazonaws.com.evil.example/",
            // Amazon, but not S3, or S3 but another bucket.
            "https://lambda.eu-west-1.amazonaws.com/x",
            "https://attacker-bucket.s3.amazonaws.com/x",
            "https://s3.amazonaws.com/attacker-bucket/x",
            "https://attacker.s3-website-eu-west-1.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1.attacker.example/x",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/x",
            "https://cloudformation-custom-resource-response-useast1.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-.s3.amazonaws.com/x",
            "https://cloudformation-custom-resource-response-useast1-x.s3.amazonaws.com/x",
            // The bucket and the region the host names disagree.
            "https://cloudformation-custom-resource-response-useast1.s3.eu-west-1.amazonaws.com/x",
            "https://s3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-useast1/x",
            "https://cloudformation-custom-resource-response-euwest1.s3.eu-west.amazonaws.com/x",
            // A port S3 does not answer presigned URLs on.
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443/x",
            // A trailing dot: another name as far as this check goes.
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com./x",
            // Loopback is for plain http (the tests) only; never a bucket.
            "https://127.0.0.1/x",
        ] {
            assert!(
                not_cfn(raw),
                "{raw}: {:?}",
                OutboundUrl::cloudformation_response(raw)
            );
        }
    }
}
