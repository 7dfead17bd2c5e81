//! The AWS resources DNS records may point at: whether an S3 bucket exists,
//! the account's own endpoints (CloudFront, load balancers, Elastic
//! Beanstalk, API Gateway, EC2 addresses) and AWS's published IP ranges. The
//! DNS rules use them to tell a live target from a dangling one.
//!
//! Each kind of endpoint is listed independently: when any call of a kind
//! fails (in any region), that kind is `None` and its errors are returned; the
//! other kinds still fill. Regions are listed concurrently, at most
//! [`TargetsSettings::region_concurrency`] at a time; within a region the kinds
//! run concurrently and each kind's calls one after the other.

use crate::error::classify;
use crate::ip_ranges::{DEFAULT_HTTP_TIMEOUT, DEFAULT_IP_RANGES_URL, DEFAULT_TTL, IpRanges};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use zw_core::Region;
use zw_core::families::dns::model::{AccountEndpoints, AwsIpPrefix};
use zw_core::families::dns::ports::AwsTargets;
use zw_core::families::endpoints::model::Attachment;
use zw_core::families::endpoints::ports::AttachmentSource;
use zw_core::model::normalize_dns_name;
use zw_core::ports::{ErrorKind, PortError};

/// How the adapter is set up. Every field has a default ([`Default`]).
#[derive(Debug, Clone)]
pub struct TargetsSettings {
    /// Where `ip-ranges.json` is read from; `http://` is allowed (tests).
    /// Default: `https://ip-ranges.amazonaws.com/ip-ranges.json`.
    pub ip_ranges_url: String,
    /// Regions listed at the same time. Default: 4.
    pub region_concurrency: usize,
    /// Connect and read timeout of the `ip-ranges.json` download. Default: 10 s.
    pub http_timeout: Duration,
    /// How long a downloaded `ip-ranges.json` is reused. Default: 24 h.
    pub ip_ranges_ttl: Duration,
}

impl Default for TargetsSettings {
    fn default() -> Self {
        Self {
            ip_ranges_url: DEFAULT_IP_RANGES_URL.to_owned(),
            region_concurrency: 4,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            ip_ranges_ttl: DEFAULT_TTL,
        }
    }
}

/// The clients of one region's regional services.
#[derive(Debug, Clone)]
struct RegionClients {
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    beanstalk: aws_sdk_elasticbeanstalk::Client,
    apigw: aws_sdk_apigateway::Client,
    apigw2: aws_sdk_apigatewayv2::Client,
    ec2: crate::ec2::Ec2Reader,
}

impl RegionClients {
    fn new(sdk: &SdkConfig, region: &Region, calls: &ApiCallCounter) -> Self {
        let r = aws_config::Region::new(region.as_str().to_owned());
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(
                    $krate::config::Builder::from(sdk)
                        .region(r.clone())
                        .interceptor(calls.clone())
                        .build(),
                )
            };
        }
        Self {
            elbv2: client!(aws_sdk_elasticloadbalancingv2),
            elb: client!(aws_sdk_elasticloadbalancing),
            beanstalk: client!(aws_sdk_elasticbeanstalk),
            apigw: client!(aws_sdk_apigateway),
            apigw2: client!(aws_sdk_apigatewayv2),
            ec2: crate::ec2::Ec2Reader::new(sdk, region.as_str(), calls),
        }
    }
}

/// [`AwsTargets`] on the AWS SDK. Cheap to clone (clients are handles; the
/// `ip-ranges.json` cache and the clients are shared by clones).
///
/// The clients (S3, CloudFront and six per region) are built on their first
/// use, not with the adapter: building fourteen SDK clients was a third of
/// the endpoints function's init, and a scan that finds no alias needs few
/// of them.
#[derive(Debug, Clone)]
pub struct AwsTargetsAdapter {
    sdk: SdkConfig,
    calls: ApiCallCounter,
    s3: Arc<OnceLock<aws_sdk_s3::Client>>,
    cloudfront: Arc<OnceLock<aws_sdk_cloudfront::Client>>,
    regions: Arc<Mutex<HashMap<Region, RegionClients>>>,
    region_concurrency: usize,
    ip_ranges: IpRanges,
}

impl AwsTargetsAdapter {
    pub fn new(
        sdk: &SdkConfig,
        calls: &ApiCallCounter,
        settings: &TargetsSettings,
    ) -> Result<Self, PortError> {
        let ip_ranges = IpRanges::new(
            settings.ip_ranges_url.clone(),
            settings.http_timeout,
            settings.ip_ranges_ttl,
        )?;
        Ok(Self {
            sdk: sdk.clone(),
            calls: calls.clone(),
            s3: Arc::default(),
            cloudfront: Arc::default(),
            regions: Arc::default(),
            region_concurrency: settings.region_concurrency.max(1),
            ip_ranges,
        })
    }

    /// The `ip-ranges.json` source, e.g. to inject a clock in tests.
    pub fn with_ip_ranges(mut self, ip_ranges: IpRanges) -> Self {
        self.ip_ranges = ip_ranges;
        self
    }

    fn region_clients(&self, region: &Region) -> RegionClients {
        // A panic elsewhere while holding the lock leaves a usable map.
        let mut regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        regions
            .entry(region.clone())
            .or_insert_with(|| RegionClients::new(&self.sdk, region, &self.calls))
            .clone()
    }

    fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            // moto (any endpoint override) serves buckets by path, not by
            // `<bucket>.host` virtual hosts.
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&self.sdk)
                    .force_path_style(self.sdk.endpoint_url().is_some())
                    .interceptor(self.calls.clone())
                    .build(),
            )
        })
    }

    fn cloudfront(&self) -> &aws_sdk_cloudfront::Client {
        self.cloudfront.get_or_init(|| {
            aws_sdk_cloudfront::Client::from_conf(
                aws_sdk_cloudfront::config::Builder::from(&self.sdk)
                    .interceptor(self.calls.clone())
                    .build(),
            )
        })
    }
}

/// `GetBucketLocation`, read as "does a bucket of this name exist anywhere".
/// It needs only `s3:GetBucketLocation`, which reveals a bucket's region and
/// nothing of its contents (`HeadBucket` is authorised as `s3:ListBucket`,
/// the permission to list every object key):
/// - 200: ours (or readable by us): exists;
/// - 403: someone else's bucket: exists (and cannot be claimed);
/// - 301/307, or 400 with `x-amz-bucket-region`: exists in another region;
/// - 404 (`NoSuchBucket`): does not exist, anyone may create it.
///
/// Note that refused credentials also answer 403: a broken setup then makes
/// every bucket "exist", which errs on the side of no takeover finding.
pub async fn bucket_exists(client: &aws_sdk_s3::Client, bucket: &str) -> Result<bool, PortError> {
    let err = match client.get_bucket_location().bucket(bucket).send().await {
        Ok(_) => return Ok(true),
        Err(err) => err,
    };
    let raw = err.raw_response();
    let status = raw.map(|r| r.status().as_u16());
    let has_region = raw.is_some_and(|r| r.headers().contains_key("x-amz-bucket-region"));
    let code = err.code();
    match (status, code) {
        (_, Some("NoSuchBucket")) | (Some(404), _) => Ok(false),
        (Some(301 | 307 | 403), _) => Ok(true),
        (Some(400), _) if has_region => Ok(true),
        _ => {
            let mut e = classify("s3", "GetBucketLocation", err);
            if e.kind == ErrorKind::Other {
                e.kind = match status {
                    Some(429 | 503) => ErrorKind::Throttled,
                    Some(500..=599) => ErrorKind::Transient,
                    _ => ErrorKind::Other,
                };
            }
            let status = status.map_or_else(String::new, |s| format!(" (HTTP {s})"));
            e.message = format!("bucket `{bucket}`{status}: {}", e.message);
            Err(e)
        }
    }
}

impl AttachmentSource for AwsTargetsAdapter {
    async fn attachments(&self, regions: &[Region]) -> (Vec<Attachment>, Vec<PortError>) {
        let regional = stream::iter(regions.iter().cloned())
            .map(|region| {
                let c = self.region_clients(&region);
                async move {
                    let (v2, classic, gw, gw2) = tokio::join!(
                        elbv2_attachments(&c.elbv2, &region),
                        elb_attachments(&c.elb, &region),
                        apigw_attachments(&c.apigw, &region),
                        apigw2_attachments(&c.apigw2, &region),
                    );
                    vec![v2, classic, gw, gw2]
                }
            })
            .buffer_unordered(self.region_concurrency)
            .collect::<Vec<_>>();
        let (cloudfront, regional) =
            tokio::join!(cloudfront_attachments(self.cloudfront()), regional);
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for r in std::iter::once(cloudfront).chain(regional.into_iter().flatten()) {
            match r {
                Ok(a) => out.extend(a),
                Err(e) => errors.push(e),
            }
        }
        out.sort_by(|a, b| a.dns_name.cmp(&b.dns_name));
        (out, errors)
    }
}

/// The IAM server certificates among a listener's certificate ARNs.
fn iam_arns<'a>(arns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = arns
        .into_iter()
        .filter(|a| a.contains(":iam:") && a.contains(":server-certificate/"))
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn acm_arns<'a>(arns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = arns
        .into_iter()
        .filter(|a| a.contains(":acm:"))
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

async fn cloudfront_attachments(
    client: &aws_sdk_cloudfront::Client,
) -> Result<Vec<Attachment>, PortError> {
    let mut out = Vec::new();
    let mut pages = client.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("cloudfront", "ListDistributions", e))?;
        let Some(list) = page.distribution_list() else {
            continue;
        };
        for d in list.items() {
            let arns = acm_arns(d.viewer_certificate().and_then(|v| v.acm_certificate_arn()));
            let iam = d
                .viewer_certificate()
                .and_then(|v| v.iam_certificate_id())
                .map(|id| vec![id.to_owned()])
                .unwrap_or_default();
            out.push(Attachment {
                kind: "cloudfront".into(),
                resource: d.arn().to_owned(),
                dns_name: normalize_dns_name(d.domain_name()),
                certificate_arns: arns,
                iam_certificates: iam,
            });
        }
    }
    Ok(out)
}

async fn elbv2_attachments(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    region: &Region,
) -> Result<Vec<Attachment>, PortError> {
    let mut out = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("elbv2", "DescribeLoadBalancers", region, e))?;
        for lb in page.load_balancers() {
            let (Some(arn), Some(dns)) = (lb.load_balancer_arn(), lb.dns_name()) else {
                continue;
            };
            let listeners = client
                .describe_listeners()
                .load_balancer_arn(arn)
                .send()
                .await
                .map_err(|e| regional("elbv2", "DescribeListeners", region, e))?;
            let mut arns = Vec::new();
            for l in listeners.listeners() {
                let secure = l
                    .protocol()
                    .is_some_and(|p| matches!(p.as_str(), "HTTPS" | "TLS"));
                let Some(listener_arn) = l.listener_arn().filter(|_| secure) else {
                    continue;
                };
                arns.extend(
                    l.certificates()
                        .iter()
                        .filter_map(|c| c.certificate_arn())
                        .map(str::to_owned),
                );
                // The listener's SNI certificates besides its default one.
                let mut marker: Option<String> = None;
                loop {
                    let page = client
                        .describe_listener_certificates()
                        .listener_arn(listener_arn)
                        .set_marker(marker.take())
                        .send()
                        .await
                        .map_err(|e| {
                            regional("elbv2", "DescribeListenerCertificates", region, e)
                        })?;
                    arns.extend(
                        page.certificates()
                            .iter()
                            .filter_map(|c| c.certificate_arn())
                            .map(str::to_owned),
                    );
                    match page.next_marker() {
                        Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                        _ => break,
                    }
                }
            }
            out.push(Attachment {
                kind: "elb".into(),
                resource: arn.to_owned(),
                dns_name: normalize_dns_name(dns),
                certificate_arns: acm_arns(arns.iter().map(String::as_str)),
                iam_certificates: iam_arns(arns.iter().map(String::as_str)),
            });
        }
    }
    Ok(out)
}

async fn elb_attachments(
    client: &aws_sdk_elasticloadbalancing::Client,
    region: &Region,
) -> Result<Vec<Attachment>, PortError> {
    let mut out = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("elb", "DescribeLoadBalancers", region, e))?;
        for lb in page.load_balancer_descriptions() {
            let Some(dns) = lb.dns_name() else { continue };
            let ids: Vec<&str> = lb
                .listener_descriptions()
                .iter()
                .filter_map(|l| l.listener())
                .filter_map(|l| l.ssl_certificate_id())
                .collect();
            out.push(Attachment {
                kind: "elb".into(),
                resource: lb.load_balancer_name().unwrap_or(dns).to_owned(),
                dns_name: normalize_dns_name(dns),
                certificate_arns: acm_arns(ids.iter().copied()),
                iam_certificates: iam_arns(ids.iter().copied()),
            });
        }
    }
    Ok(out)
}

async fn apigw_attachments(
    client: &aws_sdk_apigateway::Client,
    region: &Region,
) -> Result<Vec<Attachment>, PortError> {
    let mut out = Vec::new();
    let mut pages = client.get_domain_names().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("apigateway", "GetDomainNames", region, e))?;
        for d in page.items() {
            let resource = d.domain_name().unwrap_or_default().to_owned();
            if let Some(target) = d.regional_domain_name() {
                out.push(Attachment {
                    kind: "apigateway".into(),
                    resource: resource.clone(),
                    dns_name: normalize_dns_name(target),
                    certificate_arns: acm_arns(d.regional_certificate_arn()),
                    iam_certificates: Vec::new(),
                });
            }
            if let Some(target) = d.distribution_domain_name() {
                out.push(Attachment {
                    kind: "apigateway".into(),
                    resource: resource.clone(),
                    dns_name: normalize_dns_name(target),
                    certificate_arns: acm_arns(d.certificate_arn()),
                    iam_certificates: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

async fn apigw2_attachments(
    client: &aws_sdk_apigatewayv2::Client,
    region: &Region,
) -> Result<Vec<Attachment>, PortError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_domain_names()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| regional("apigatewayv2", "GetDomainNames", region, e))?;
        for d in page.items() {
            for c in d.domain_name_configurations() {
                let Some(target) = c.api_gateway_domain_name() else {
                    continue;
                };
                out.push(Attachment {
                    kind: "apigateway".into(),
                    resource: d.domain_name().unwrap_or(target).to_owned(),
                    dns_name: normalize_dns_name(target),
                    certificate_arns: acm_arns(c.certificate_arn()),
                    iam_certificates: Vec::new(),
                });
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

impl AwsTargets for AwsTargetsAdapter {
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, PortError> {
        bucket_exists(self.s3(), bucket).await
    }

    async fn account_endpoints(&self, regions: &[Region]) -> (AccountEndpoints, Vec<PortError>) {
        let regional = stream::iter(regions.iter().cloned())
            .map(|region| {
                let clients = self.region_clients(&region);
                async move { list_region(&clients, &region).await }
            })
            .buffer_unordered(self.region_concurrency)
            .collect::<Vec<RegionLists>>();
        let (cloudfront, regional) = tokio::join!(cloudfront_names(self.cloudfront()), regional);

        let mut errors = Vec::new();
        let mut load_balancers = Kind::default();
        let mut beanstalk = Kind::default();
        let mut api_gateway = Kind::default();
        let mut addresses = Kind::default();
        for r in regional {
            load_balancers.add(r.load_balancers);
            beanstalk.add(r.beanstalk);
            api_gateway.add(r.api_gateway);
            addresses.add(r.addresses);
        }
        let mut cloudfront_kind = Kind::default();
        cloudfront_kind.add(cloudfront);
        let endpoints = AccountEndpoints {
            cloudfront: cloudfront_kind.finish(&mut errors),
            load_balancers: load_balancers.finish(&mut errors),
            beanstalk: beanstalk.finish(&mut errors),
            api_gateway: api_gateway.finish(&mut errors),
            addresses: addresses.finish(&mut errors),
        };
        (endpoints, errors)
    }

    async fn ip_ranges(&self) -> Result<Vec<AwsIpPrefix>, PortError> {
        self.ip_ranges.prefixes().await.map(|p| p.as_ref().clone())
    }
}

/// One kind's results over every region: all values, or every error.
#[derive(Debug)]
struct Kind<T> {
    values: BTreeSet<T>,
    errors: Vec<PortError>,
}

impl<T> Default for Kind<T> {
    fn default() -> Self {
        Self {
            values: BTreeSet::new(),
            errors: Vec::new(),
        }
    }
}

impl<T: Ord> Kind<T> {
    fn add(&mut self, r: Result<Vec<T>, Vec<PortError>>) {
        match r {
            Ok(v) => self.values.extend(v),
            Err(e) => self.errors.extend(e),
        }
    }

    /// Sorted and deduplicated, or None (and the errors moved out).
    fn finish(self, errors: &mut Vec<PortError>) -> Option<Vec<T>> {
        if self.errors.is_empty() {
            Some(self.values.into_iter().collect())
        } else {
            errors.extend(self.errors);
            None
        }
    }
}

type Listed<T> = Result<Vec<T>, Vec<PortError>>;

/// What one region's calls brought back, per kind.
#[derive(Debug)]
struct RegionLists {
    load_balancers: Listed<String>,
    beanstalk: Listed<String>,
    api_gateway: Listed<String>,
    addresses: Listed<IpAddr>,
}

/// Runs a kind's calls one after the other, keeping every error.
fn merge<T>(parts: Vec<Result<Vec<T>, PortError>>) -> Listed<T> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for p in parts {
        match p {
            Ok(v) => values.extend(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Classifies an SDK error and says which region it came from.
fn regional<E, R>(
    service: &'static str,
    operation: &'static str,
    region: &Region,
    err: SdkError<E, R>,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let mut e = classify(service, operation, err);
    e.message = format!("{region}: {}", e.message);
    e
}

async fn list_region(c: &RegionClients, region: &Region) -> RegionLists {
    let load_balancers = async {
        merge(vec![
            elbv2_names(&c.elbv2, region).await,
            elb_names(&c.elb, region).await,
        ])
    };
    let beanstalk = async { merge(vec![beanstalk_names(&c.beanstalk, region).await]) };
    let api_gateway = async {
        merge(vec![
            apigw_domain_names(&c.apigw, region).await,
            apigw_rest_apis(&c.apigw, region).await,
            apigw2_domain_names(&c.apigw2, region).await,
            apigw2_apis(&c.apigw2, region).await,
        ])
    };
    let addresses = async {
        merge(vec![
            eip_addresses(&c.ec2, region).await,
            eni_addresses(&c.ec2, region).await,
        ])
    };
    let (load_balancers, beanstalk, api_gateway, addresses) =
        tokio::join!(load_balancers, beanstalk, api_gateway, addresses);
    RegionLists {
        load_balancers,
        beanstalk,
        api_gateway,
        addresses,
    }
}

async fn cloudfront_names(client: &aws_sdk_cloudfront::Client) -> Listed<String> {
    let mut names = Vec::new();
    let mut pages = client.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| vec![classify("cloudfront", "ListDistributions", e)])?;
        let Some(list) = page.distribution_list() else {
            continue;
        };
        for d in list.items() {
            names.push(normalize_dns_name(d.domain_name()));
            if let Some(aliases) = d.aliases() {
                names.extend(aliases.items().iter().map(|a| normalize_dns_name(a)));
            }
        }
    }
    Ok(names)
}

async fn elbv2_names(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("elbv2", "DescribeLoadBalancers", region, e))?;
        names.extend(
            page.load_balancers()
                .iter()
                .filter_map(|lb| lb.dns_name())
                .map(normalize_dns_name),
        );
    }
    Ok(names)
}

async fn elb_names(
    client: &aws_sdk_elasticloadbalancing::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("elb", "DescribeLoadBalancers", region, e))?;
        names.extend(
            page.load_balancer_descriptions()
                .iter()
                .filter_map(|lb| lb.dns_name())
                .map(normalize_dns_name),
        );
    }
    Ok(names)
}

async fn beanstalk_names(
    client: &aws_sdk_elasticbeanstalk::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .describe_environments()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| regional("elasticbeanstalk", "DescribeEnvironments", region, e))?;
        for env in page.environments() {
            names.extend(env.cname().and_then(host_name));
            // A single-instance environment's endpoint is its Elastic IP,
            // which `addresses` lists; only names belong here.
            names.extend(env.endpoint_url().and_then(host_name));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(names)
}

async fn apigw_domain_names(
    client: &aws_sdk_apigateway::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut pages = client.get_domain_names().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("apigateway", "GetDomainNames", region, e))?;
        for d in page.items() {
            names.extend(d.regional_domain_name().map(normalize_dns_name));
            names.extend(d.distribution_domain_name().map(normalize_dns_name));
        }
    }
    Ok(names)
}

async fn apigw_rest_apis(
    client: &aws_sdk_apigateway::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut pages = client.get_rest_apis().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| regional("apigateway", "GetRestApis", region, e))?;
        names.extend(
            page.items()
                .iter()
                .filter_map(|api| api.id())
                .map(|id| execute_api_host(id, region)),
        );
    }
    Ok(names)
}

async fn apigw2_domain_names(
    client: &aws_sdk_apigatewayv2::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_domain_names()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| regional("apigatewayv2", "GetDomainNames", region, e))?;
        for d in page.items() {
            names.extend(
                d.domain_name_configurations()
                    .iter()
                    .filter_map(|c| c.api_gateway_domain_name())
                    .map(normalize_dns_name),
            );
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(names)
}

async fn apigw2_apis(
    client: &aws_sdk_apigatewayv2::Client,
    region: &Region,
) -> Result<Vec<String>, PortError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_apis()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| regional("apigatewayv2", "GetApis", region, e))?;
        names.extend(
            page.items()
                .iter()
                .filter_map(|api| api.api_endpoint())
                .filter_map(host_name),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(names)
}

async fn eip_addresses(
    client: &crate::ec2::Ec2Reader,
    region: &Region,
) -> Result<Vec<IpAddr>, PortError> {
    // DescribeAddresses has no paging: it answers every address at once.
    client
        .describe_addresses()
        .await
        .map_err(|e| regional("ec2", "DescribeAddresses", region, e))
}

async fn eni_addresses(
    client: &crate::ec2::Ec2Reader,
    region: &Region,
) -> Result<Vec<IpAddr>, PortError> {
    client
        .describe_network_interfaces()
        .await
        .map_err(|e| regional("ec2", "DescribeNetworkInterfaces", region, e))
}

/// `<api id>.execute-api.<region>.amazonaws.com.` (the default endpoint of
/// a REST API; China regions use `amazonaws.com.cn`).
pub fn execute_api_host(api_id: &str, region: &Region) -> String {
    let suffix = if region.as_str().starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    normalize_dns_name(&format!(
        "{}.execute-api.{}.{suffix}",
        api_id,
        region.as_str()
    ))
}

/// The host of a URL or bare name (`https://abc.example.com:443/x` ->
/// `abc.example.com.`); None for empty values and IP addresses.
pub fn host_name(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.parse::<IpAddr>().is_ok() {
        None
    } else {
        Some(normalize_dns_name(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    /// An answer as S3 gives it: errors carry an XML body with their code.
    fn status(code: u16, region_header: bool) -> Response {
        let body = match code {
            200..=299 => {
                r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>"#
            }
            404 => {
                "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
            }
            403 => "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
            301 => {
                "<Error><Code>PermanentRedirect</Code><Message>use the bucket's endpoint</Message></Error>"
            }
            400 => {
                "<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message></Error>"
            }
            500 => {
                "<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>"
            }
            _ => {
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate</Message></Error>"
            }
        };
        let mut r = Response::new(
            StatusCode::try_from(code).expect("status"),
            SdkBody::from(body),
        );
        if region_header {
            r.headers_mut().insert("x-amz-bucket-region", "eu-west-1");
        }
        r
    }

    async fn exists_for(code: u16, region_header: bool) -> Result<bool, PortError> {
        let rule = mock!(aws_sdk_s3::Client::get_bucket_location)
            .then_http_response(move || status(code, region_header));
        let client = mock_client!(aws_sdk_s3, RuleMode::Sequential, &[&rule]);
        bucket_exists(&client, "assets.example.com").await
    }

    #[tokio::test]
    async fn bucket_location_statuses_say_whether_a_bucket_exists() {
        assert_eq!(exists_for(200, false).await, Ok(true));
        assert_eq!(
            exists_for(404, false).await,
            Ok(false),
            "missing: claimable"
        );
        assert_eq!(
            exists_for(403, false).await,
            Ok(true),
            "someone else's bucket"
        );
        assert_eq!(exists_for(301, true).await, Ok(true), "in another region");
        assert_eq!(exists_for(400, true).await, Ok(true), "in another region");
    }

    #[tokio::test]
    async fn bucket_location_outputs_and_other_failures() {
        let ok = mock!(aws_sdk_s3::Client::get_bucket_location)
            .match_requests(|r| r.bucket() == Some("mine"))
            .then_output(|| GetBucketLocationOutput::builder().build());
        let client = mock_client!(aws_sdk_s3, RuleMode::Sequential, &[&ok]);
        assert_eq!(bucket_exists(&client, "mine").await, Ok(true));

        // 500s are retried by the SDK, then classified; never "missing".
        let e = exists_for(500, false).await.expect_err("a failure");
        assert_eq!(e.kind, ErrorKind::Transient, "{e}");
        assert!(e.message.contains("HTTP 500"), "{e}");
        let e = exists_for(503, false).await.expect_err("a failure");
        assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
        assert!(e.message.contains("assets.example.com"), "{e}");
        assert_eq!((e.service, e.operation), ("s3", "GetBucketLocation"));
    }

    #[test]
    fn hosts_of_urls_and_names() {
        assert_eq!(
            host_name("https://abc123.execute-api.eu-west-1.amazonaws.com").as_deref(),
            Some("abc123.execute-api.eu-west-1.amazonaws.com.")
        );
        assert_eq!(
            host_name("awseb-e-x.eu-west-1.elb.amazonaws.com:443/health").as_deref(),
            Some("awseb-e-x.eu-west-1.elb.amazonaws.com.")
        );
        assert_eq!(
            host_name("My-Env.eu-west-1.elasticbeanstalk.com").as_deref(),
            Some("my-env.eu-west-1.elasticbeanstalk.com.")
        );
        assert_eq!(
            host_name("52.1.2.3"),
            None,
            "an EIP is an address, not a name"
        );
        assert_eq!(host_name("http://[2600:1f14::1]:80/"), None);
        assert_eq!(host_name(""), None);
    }

    #[test]
    fn execute_api_hosts() {
        let eu = Region::parse("eu-west-1").expect("region");
        assert_eq!(
            execute_api_host("a1b2c3", &eu),
            "a1b2c3.execute-api.eu-west-1.amazonaws.com."
        );
        let cn = Region::parse("cn-north-1").expect("region");
        assert_eq!(
            execute_api_host("a1b2c3", &cn),
            "a1b2c3.execute-api.cn-north-1.amazonaws.com.cn."
        );
    }

    #[test]
    fn a_kind_with_any_failure_is_none_and_keeps_every_error() {
        let err = |op| PortError::new("elbv2", op, ErrorKind::AccessDenied, "no");
        let mut ok = Kind::default();
        ok.add(Ok(vec!["b.".to_owned(), "a.".to_owned()]));
        ok.add(Ok(vec!["a.".to_owned()]));
        let mut failed = Kind::default();
        failed.add(Ok(vec!["a.".to_owned()]));
        failed.add(Err(vec![err("X"), err("Y")]));
        let mut errors = Vec::new();
        assert_eq!(
            ok.finish(&mut errors),
            Some(vec!["a.".to_owned(), "b.".to_owned()])
        );
        assert_eq!(failed.finish(&mut errors), None);
        assert_eq!(errors.len(), 2);
        assert_eq!(
            merge(vec![Ok(vec![1]), Err(err("Z")), Ok(vec![2])])
                .expect_err("failed")
                .len(),
            1
        );
    }
}
