//! The two EC2 reads the dangling-record check needs (`DescribeAddresses`,
//! `DescribeNetworkInterfaces`), without `aws-sdk-ec2` (see `crate::rpc`).
//!
//! Why not the SDK crate: it models every EC2 operation (about 750) and was
//! the single largest cost of building zonewarden: about 12 CPU-minutes and
//! 12 GB of compiler memory in a release build (4 GB in a debug build),
//! enough to get a customer's `sam build` killed on a 7 GB CI runner, for two
//! read calls. So these two requests go through the SDK's own runtime
//! instead: `aws-smithy-runtime`'s orchestrator with the `SdkConfig`'s HTTP
//! client, credentials, identity cache, retry and timeout settings, the SDK's
//! SigV4 signer (`aws-runtime`) and the same call-counting interceptor as
//! every other client. Only what is specific to these two operations is
//! written here: the EC2 query protocol's form body (`aws-smithy-query`) and
//! the few XML elements read from the answer (`aws-smithy-xml`). Nothing is
//! signed or retried by hand.

use crate::rpc::{self, AwsError};
use crate::usage::ApiCallCounter;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
use aws_types::SdkConfig;
use std::net::IpAddr;

/// The EC2 query API version these requests speak (the current and only one).
const API_VERSION: &str = "2016-11-15";

/// One page of a `Describe*` answer: every address it lists, and the token
/// of the next page.
#[derive(Debug, Default, PartialEq)]
pub struct AddressPage {
    pub addresses: Vec<IpAddr>,
    pub next_token: Option<String>,
}

type Ec2Operation = Operation<Option<String>, AddressPage, AwsError>;

/// The EC2 client of one region: two read operations, built once.
#[derive(Clone)]
pub struct Ec2Reader {
    describe_addresses: Ec2Operation,
    describe_network_interfaces: Ec2Operation,
}

impl std::fmt::Debug for Ec2Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ec2Reader").finish_non_exhaustive()
    }
}

impl Ec2Reader {
    pub fn new(sdk: &SdkConfig, region: &str, calls: &ApiCallCounter) -> Self {
        Self {
            describe_addresses: operation(sdk, region, calls, "DescribeAddresses"),
            describe_network_interfaces: operation(sdk, region, calls, "DescribeNetworkInterfaces"),
        }
    }

    /// `DescribeAddresses`: every Elastic IP of the region (no paging).
    pub async fn describe_addresses(
        &self,
    ) -> Result<Vec<IpAddr>, SdkError<AwsError, HttpResponse>> {
        Ok(self.describe_addresses.invoke(None).await?.addresses)
    }

    /// `DescribeNetworkInterfaces`, every page: each interface's private and
    /// public IPv4 addresses and its IPv6 addresses.
    pub async fn describe_network_interfaces(
        &self,
    ) -> Result<Vec<IpAddr>, SdkError<AwsError, HttpResponse>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self.describe_network_interfaces.invoke(token).await?;
            out.extend(page.addresses);
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }
}

fn operation(
    sdk: &SdkConfig,
    region: &str,
    calls: &ApiCallCounter,
    action: &'static str,
) -> Ec2Operation {
    rpc::operation_builder(sdk, region, &ENDPOINT, calls, action)
        .serializer(move |token: Option<String>| request(action, token.as_deref()))
        .deserializer(|response: &HttpResponse| parse_response(response))
        .build()
}

/// EC2's endpoints: `AWS_ENDPOINT_URL_EC2`, the global override or
/// `ec2.<region>.<partition suffix>`.
const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "EC2",
    env: "AWS_ENDPOINT_URL_EC2",
    prefix: "ec2",
    signing_name: "ec2",
};

/// The form-encoded query request EC2 expects: `Action`, `Version` and, for
/// a later page, `NextToken`.
fn request(action: &str, next_token: Option<&str>) -> Result<HttpRequest, BoxError> {
    let mut body = String::new();
    let mut writer = aws_smithy_query::QueryWriter::new(&mut body, action, API_VERSION);
    if let Some(token) = next_token {
        writer.prefix("NextToken").string(token);
    }
    writer.finish();
    let request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("content-length", body.len().to_string())
        .body(SdkBody::from(body))?;
    Ok(HttpRequest::try_from(request)?)
}

fn parse_response(response: &HttpResponse) -> Result<AddressPage, OrchestratorError<AwsError>> {
    let body = response.body().bytes().unwrap_or_default();
    let text = std::str::from_utf8(body)
        .map_err(|e| OrchestratorError::other(format!("EC2 answered with non-UTF-8 XML: {e}")))?;
    if !response.status().is_success() {
        return Err(OrchestratorError::operation(
            parse_error(text).unwrap_or_else(|| {
                AwsError::new(
                    "Unknown",
                    &format!("HTTP status {}", response.status().as_u16()),
                )
            }),
        ));
    }
    parse_page(text).map_err(|e| OrchestratorError::other(format!("EC2 answer: {e}")))
}

/// The elements that carry an address, and those that lead to one, in the
/// answers of both operations (`addressesSet` of `DescribeAddresses`;
/// `networkInterfaceSet` with its `association`, `privateIpAddressesSet`
/// and `ipv6AddressesSet` of `DescribeNetworkInterfaces`). Everything else
/// (tags, attachments, prefixes, owner ids) is skipped.
const ADDRESS_ELEMENTS: &[&str] = &["publicIp", "privateIpAddress", "ipv6Address"];
const PATH_ELEMENTS: &[&str] = &[
    "addressesSet",
    "networkInterfaceSet",
    "item",
    "association",
    "privateIpAddressesSet",
    "ipv6AddressesSet",
];

/// One page of either answer.
pub fn parse_page(xml: &str) -> Result<AddressPage, aws_smithy_xml::decode::XmlDecodeError> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element()?;
    let mut page = AddressPage::default();
    while let Some(mut tag) = root.next_tag() {
        let name = tag.start_el().local().to_owned();
        if name == "nextToken" {
            let token = try_data(&mut tag)?.trim().to_owned();
            page.next_token = (!token.is_empty()).then_some(token);
        } else if PATH_ELEMENTS.contains(&name.as_str()) {
            collect(&mut tag, &mut page.addresses)?;
        }
    }
    Ok(page)
}

fn collect(
    scope: &mut ScopedDecoder<'_, '_>,
    out: &mut Vec<IpAddr>,
) -> Result<(), aws_smithy_xml::decode::XmlDecodeError> {
    while let Some(mut tag) = scope.next_tag() {
        let name = tag.start_el().local().to_owned();
        if ADDRESS_ELEMENTS.contains(&name.as_str()) {
            let text = try_data(&mut tag)?;
            match text.trim().parse() {
                Ok(a) => out.push(a),
                Err(_) if text.trim().is_empty() => {}
                Err(_) => tracing::warn!(
                    address = %text,
                    "EC2 listed an address that does not parse; skipped"
                ),
            }
        } else if PATH_ELEMENTS.contains(&name.as_str()) {
            collect(&mut tag, out)?;
        }
    }
    Ok(())
}

/// `<Response><Errors><Error><Code>…</Code><Message>…</Message>`.
fn parse_error(xml: &str) -> Option<AwsError> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().ok()?;
    while let Some(mut errors) = root.next_tag() {
        if !errors.start_el().matches("Errors") {
            continue;
        }
        while let Some(mut error) = errors.next_tag() {
            if !error.start_el().matches("Error") {
                continue;
            }
            let (mut code, mut message) = (String::new(), String::new());
            while let Some(mut field) = error.next_tag() {
                if field.start_el().matches("Code") {
                    code = try_data(&mut field).ok()?.trim().to_owned();
                } else if field.start_el().matches("Message") {
                    message = try_data(&mut field).ok()?.trim().to_owned();
                }
            }
            return Some(AwsError::new(&code, &message));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    // The answers' shapes as the EC2 API reference documents them
    // (DescribeAddresses, DescribeNetworkInterfaces: "Example Response").
    const ADDRESSES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeAddressesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>f7de5e98-491a-4c19-a92d-908d6EXAMPLE</requestId>
   <addressesSet>
      <item>
         <publicIp>203.0.113.41</publicIp>
         <allocationId>eipalloc-08229861</allocationId>
         <domain>vpc</domain>
         <instanceId>i-0598c7d356eba48d7</instanceId>
         <associationId>eipassoc-f0229899</associationId>
         <networkInterfaceId>eni-ef229886</networkInterfaceId>
         <networkInterfaceOwnerId>053230519467</networkInterfaceOwnerId>
         <privateIpAddress>10.0.0.228</privateIpAddress>
         <tagSet><item><key>Name</key><value>198.51.100.7 is not an address</value></item></tagSet>
      </item>
      <item>
         <publicIp>198.51.100.2</publicIp>
         <domain>standard</domain>
         <instanceId/>
      </item>
   </addressesSet>
</DescribeAddressesResponse>"#;

    const INTERFACES: &str = r#"<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>fc45294c-006b-457b-bab9-012f5EXAMPLE</requestId>
    <networkInterfaceSet>
        <item>
            <networkInterfaceId>eni-0f62d866</networkInterfaceId>
            <subnetId>subnet-c53c87ac</subnetId>
            <privateIpAddress>10.0.0.146</privateIpAddress>
            <association>
                <publicIp>203.0.113.12</publicIp>
                <ipOwnerId>amazon</ipOwnerId>
            </association>
            <attachment><attachmentId>eni-attach-6537fc0c</attachmentId></attachment>
            <privateIpAddressesSet>
                <item>
                    <privateIpAddress>10.0.0.146</privateIpAddress>
                    <primary>true</primary>
                    <association><publicIp>203.0.113.12</publicIp></association>
                </item>
                <item>
                    <privateIpAddress>10.0.0.148</privateIpAddress>
                    <primary>false</primary>
                </item>
            </privateIpAddressesSet>
            <ipv6AddressesSet>
                <item><ipv6Address>2001:db8:1234:1a00::123</ipv6Address></item>
            </ipv6AddressesSet>
            <ipv4PrefixSet><item><ipv4Prefix>10.0.0.160/28</ipv4Prefix></item></ipv4PrefixSet>
        </item>
    </networkInterfaceSet>
    <nextToken>AAEAAS1gpYAEXAMPLE</nextToken>
</DescribeNetworkInterfacesResponse>"#;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn addresses_of_every_elastic_ip_and_nothing_from_tags() {
        let page = parse_page(ADDRESSES).unwrap();
        assert_eq!(
            page.addresses,
            ips(&["203.0.113.41", "10.0.0.228", "198.51.100.2"])
        );
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn interfaces_give_private_public_and_ipv6_addresses_and_the_next_token() {
        let page = parse_page(INTERFACES).unwrap();
        assert_eq!(
            page.addresses,
            ips(&[
                "10.0.0.146",
                "203.0.113.12",
                "10.0.0.146",
                "203.0.113.12",
                "10.0.0.148",
                "2001:db8:1234:1a00::123",
            ])
        );
        assert_eq!(page.next_token.as_deref(), Some("AAEAAS1gpYAEXAMPLE"));
    }

    #[test]
    fn an_empty_last_page_has_no_token() {
        let page = parse_page(
            "<DescribeNetworkInterfacesResponse><networkInterfaceSet/><nextToken></nextToken></DescribeNetworkInterfacesResponse>",
        )
        .unwrap();
        assert_eq!(page, AddressPage::default());
    }

    #[test]
    fn error_answers_keep_code_and_message() {
        let e = parse_error(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>8b1c6c3b</RequestID></Response>"#,
        )
        .unwrap();
        assert_eq!(e.code(), Some("UnauthorizedOperation"));
        assert_eq!(
            e.message(),
            Some("You are not authorized to perform this operation.")
        );
        assert!(parse_error("<html>gateway</html>").is_none());
    }

    #[test]
    fn the_query_body_names_action_version_and_token() {
        let r = request("DescribeNetworkInterfaces", Some("tok/en+1")).unwrap();
        let body = std::str::from_utf8(r.body().bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            "Action=DescribeNetworkInterfaces&Version=2016-11-15&NextToken=tok%2Fen%2B1"
        );
        assert_eq!(r.method(), "POST");
    }

    #[test]
    fn endpoints_follow_the_partition_and_the_overrides() {
        let endpoint = |sdk: &SdkConfig, region: &str| rpc::endpoint(sdk, &ENDPOINT, region);
        let plain = SdkConfig::builder().build();
        assert_eq!(
            endpoint(&plain, "eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint(&plain, "cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
        let fips = SdkConfig::builder().use_fips(true).build();
        assert_eq!(
            endpoint(&fips, "us-gov-west-1"),
            "https://ec2-fips.us-gov-west-1.amazonaws.com"
        );
        let moto = SdkConfig::builder()
            .endpoint_url("http://127.0.0.1:5000")
            .build();
        assert_eq!(endpoint(&moto, "eu-west-1"), "http://127.0.0.1:5000");
    }
}
