//! IAM server certificates: `ListServerCertificates` and, for each,
//! `GetServerCertificate` (its public certificate body and chain; IAM never
//! returns the private key), through the SDK's runtime without the IAM
//! service crate (`crate::rpc`): IAM speaks the query protocol, a form body
//! in and a little XML out, as EC2 does. The end date comes from the body
//! itself, not from IAM's metadata.

use crate::error::classify;
use crate::rpc::{self, AwsError};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_types::body::SdkBody;
use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use zw_core::families::iam_certificates::model::{ServerCertificate, ServerCertificates};
use zw_core::families::iam_certificates::ports::ServerCertificateSource;
use zw_core::ports::{ErrorKind, PortError};

const SERVICE: &str = "iam";
const API_VERSION: &str = "2010-05-08";

/// IAM's endpoint: `AWS_ENDPOINT_URL_IAM`, the global override, or the one
/// endpoint of the partition.
pub const ENDPOINT: rpc::Endpoint = rpc::Endpoint {
    service_id: "IAM",
    env: "AWS_ENDPOINT_URL_IAM",
    prefix: "iam",
    signing_name: "iam",
};

/// The partition's IAM endpoint and the region it signs for, from any
/// region of that partition.
fn global_endpoint(sdk: &SdkConfig) -> (String, &'static str) {
    let region = sdk
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_default();
    let fips = sdk.use_fips().unwrap_or(false);
    if region.starts_with("cn-") {
        (
            "https://iam.cn-north-1.amazonaws.com.cn".into(),
            "cn-north-1",
        )
    } else if region.starts_with("us-gov-") {
        ("https://iam.us-gov.amazonaws.com".into(), "us-gov-west-1")
    } else if fips {
        ("https://iam-fips.amazonaws.com".into(), "us-east-1")
    } else {
        ("https://iam.amazonaws.com".into(), "us-east-1")
    }
}

/// One parsed answer: the leaf elements read, `member`s of a list as maps.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    pub fields: BTreeMap<String, String>,
    pub members: Vec<BTreeMap<String, String>>,
}

/// One IAM query action: its parameters in, the parsed answer out.
pub type IamOperation = Operation<Vec<(&'static str, String)>, Answer, AwsError>;

/// `action` of IAM, at the partition's endpoint (or the configured
/// override), signed and retried as the SDK's clients are. The adapter's
/// two reads use it; so does the testkit, to put certificates in moto.
pub fn operation(sdk: &SdkConfig, calls: &ApiCallCounter, action: &'static str) -> IamOperation {
    let (url, region) = match rpc::endpoint_override(sdk, &ENDPOINT) {
        Some(url) => (url, "us-east-1"),
        None => global_endpoint(sdk),
    };
    rpc::operation_builder_at(sdk, region, &url, &ENDPOINT, calls, action)
        .serializer(move |params: Vec<(&'static str, String)>| request(action, &params))
        .deserializer(parse_response)
        .build()
}

#[derive(Clone)]
pub struct IamAdapter {
    list: IamOperation,
    get: IamOperation,
}

impl std::fmt::Debug for IamAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamAdapter").finish_non_exhaustive()
    }
}

impl IamAdapter {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        Self {
            list: operation(sdk, calls, "ListServerCertificates"),
            get: operation(sdk, calls, "GetServerCertificate"),
        }
    }
}

/// The query protocol's form body: `Action`, `Version`, the parameters.
fn request(action: &str, params: &[(&'static str, String)]) -> Result<HttpRequest, BoxError> {
    let mut body = String::new();
    let mut writer = aws_smithy_query::QueryWriter::new(&mut body, action, API_VERSION);
    for (k, v) in params {
        writer.prefix(k).string(v);
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

fn parse_response(response: &HttpResponse) -> Result<Answer, OrchestratorError<AwsError>> {
    let body = response.body().bytes().unwrap_or_default();
    let text = std::str::from_utf8(body)
        .map_err(|e| OrchestratorError::other(format!("IAM answered with non-UTF-8 XML: {e}")))?;
    if !response.status().is_success() {
        let answer = parse(text).unwrap_or_default();
        let code = answer
            .fields
            .get("Code")
            .cloned()
            .unwrap_or_else(|| format!("HTTP {}", response.status().as_u16()));
        let message = answer.fields.get("Message").cloned().unwrap_or_default();
        return Err(OrchestratorError::operation(AwsError::new(&code, &message)));
    }
    parse(text).map_err(|e| OrchestratorError::other(format!("IAM answer: {e}")))
}

/// Elements that only hold others, besides every `<Action>Result`: walked
/// into.
const CONTAINERS: &[&str] = &[
    "ServerCertificateMetadataList",
    "ServerCertificate",
    "ServerCertificateMetadata",
    "Error",
    "ResponseMetadata",
];

fn parse(xml: &str) -> Result<Answer, XmlDecodeError> {
    let mut doc = Document::new(xml);
    let mut root = doc.root_element()?;
    let mut answer = Answer::default();
    walk(&mut root, &mut answer)?;
    Ok(answer)
}

fn walk(scope: &mut ScopedDecoder<'_, '_>, answer: &mut Answer) -> Result<(), XmlDecodeError> {
    while let Some(mut tag) = scope.next_tag() {
        let name = tag.start_el().local().to_owned();
        if name == "member" {
            let mut member = BTreeMap::new();
            while let Some(mut field) = tag.next_tag() {
                let key = field.start_el().local().to_owned();
                member.insert(key, try_data(&mut field)?.trim().to_owned());
            }
            answer.members.push(member);
        } else if CONTAINERS.contains(&name.as_str()) || name.ends_with("Result") {
            walk(&mut tag, answer)?;
        } else {
            let text = try_data(&mut tag)?.trim().to_owned();
            answer.fields.insert(name, text);
        }
    }
    Ok(())
}

/// The body's end and subject.
fn read_body(pem: &str) -> Result<(DateTime<Utc>, String), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| format!("the certificate body is not PEM: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("the certificate body does not parse: {e}"))?;
    let not_after = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "the certificate's notAfter is out of range".to_owned())?;
    Ok((not_after, cert.subject().to_string()))
}

impl IamAdapter {
    async fn certificate(
        &self,
        meta: &BTreeMap<String, String>,
    ) -> Result<ServerCertificate, PortError> {
        let name = meta
            .get("ServerCertificateName")
            .cloned()
            .unwrap_or_default();
        let got = self
            .get
            .invoke(vec![("ServerCertificateName", name.clone())])
            .await
            .map_err(|e| classify(SERVICE, "GetServerCertificate", e))?;
        let body = got.fields.get("CertificateBody").ok_or_else(|| {
            PortError::new(
                SERVICE,
                "GetServerCertificate",
                ErrorKind::InvalidResponse,
                "the answer has no CertificateBody",
            )
        })?;
        let (not_after, subject) = read_body(body).map_err(|m| {
            PortError::new(
                SERVICE,
                "GetServerCertificate",
                ErrorKind::InvalidResponse,
                m,
            )
        })?;
        Ok(ServerCertificate {
            id: meta.get("ServerCertificateId").cloned().unwrap_or_default(),
            arn: meta.get("Arn").cloned().unwrap_or_default(),
            path: meta.get("Path").cloned().unwrap_or_else(|| "/".to_owned()),
            name,
            not_after,
            subject,
        })
    }
}

impl ServerCertificateSource for IamAdapter {
    async fn server_certificates(&self) -> Result<ServerCertificates, PortError> {
        let mut listed = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let params = marker
                .take()
                .map(|m| vec![("Marker", m)])
                .unwrap_or_default();
            let page = self
                .list
                .invoke(params)
                .await
                .map_err(|e| classify(SERVICE, "ListServerCertificates", e))?;
            listed.extend(page.members);
            let truncated = page.fields.get("IsTruncated").is_some_and(|t| t == "true");
            match page.fields.get("Marker") {
                Some(m) if truncated && !m.is_empty() => marker = Some(m.clone()),
                _ => break,
            }
        }
        let mut out = ServerCertificates::default();
        for meta in &listed {
            match self.certificate(meta).await {
                Ok(c) => out.certificates.push(c),
                Err(e) => out
                    .failed
                    .push((meta.get("Arn").cloned().unwrap_or_default(), e)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shapes of the IAM API reference's example responses.
    const LIST: &str = r#"<ListServerCertificatesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListServerCertificatesResult>
    <IsTruncated>true</IsTruncated>
    <Marker>page-2</Marker>
    <ServerCertificateMetadataList>
      <member>
        <ServerCertificateMetadata/>
        <ServerCertificateName>ProdServerCert</ServerCertificateName>
        <Path>/company/servercerts/</Path>
        <Arn>arn:aws:iam::123456789012:server-certificate/company/servercerts/ProdServerCert</Arn>
        <UploadDate>2010-05-08T01:02:03.004Z</UploadDate>
        <ServerCertificateId>ASCACKCEVSQ6CEXAMPLE1</ServerCertificateId>
        <Expiration>2012-05-08T01:02:03.004Z</Expiration>
      </member>
    </ServerCertificateMetadataList>
  </ListServerCertificatesResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</ListServerCertificatesResponse>"#;

    const ERROR: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The Server Certificate with name x cannot be found.</Message></Error>
  <RequestId>1</RequestId>
</ErrorResponse>"#;

    #[test]
    fn a_listing_and_an_error_answer_parse() {
        let a = parse(LIST).expect("parses");
        assert_eq!(a.fields["IsTruncated"], "true");
        assert_eq!(a.fields["Marker"], "page-2");
        assert_eq!(a.members.len(), 1);
        assert_eq!(a.members[0]["ServerCertificateName"], "ProdServerCert");
        assert_eq!(a.members[0]["ServerCertificateId"], "ASCACKCEVSQ6CEXAMPLE1");
        let e = parse(ERROR).expect("parses");
        assert_eq!(e.fields["Code"], "NoSuchEntity");
        assert!(e.fields["Message"].contains("cannot be found"));
    }

    #[test]
    fn the_end_comes_from_the_body() {
        let now = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).expect("time");
        let end = now + chrono::Duration::days(12);
        let cert = zw_testkit_free_cert(now - chrono::Duration::days(1), end);
        let (not_after, subject) = read_body(&cert).expect("reads");
        assert_eq!(not_after, end);
        assert!(subject.contains("legacy.example.com"), "{subject}");
        assert!(read_body("not a certificate").is_err());
    }

    /// A self-signed certificate made here (zw-aws does not depend on the
    /// testkit): rcgen is a dev-dependency of this crate.
    fn zw_testkit_free_cert(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> String {
        let mut params =
            rcgen::CertificateParams::new(vec!["legacy.example.com".to_owned()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "legacy.example.com");
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        let secs = |t: DateTime<Utc>| std::time::Duration::from_secs(t.timestamp().unsigned_abs());
        params.not_before = epoch + secs(not_before);
        params.not_after = epoch + secs(not_after);
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").pem()
    }
}
