//! Organization mode's AWS side: which accounts the organization has
//! (Organizations), entering one (STS `AssumeRole` into its read-only
//! member role), the accounts' latest status for the roll-up, and the
//! migration of a single-account table's items into an account partition.

use crate::error::{classify, table_error};
use crate::table::{ACCOUNT_PREFIX, Item, Partition, query_partition};
use crate::usage::ApiCallCounter;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use zw_core::org::{AccountRef, AccountStatus, OrgSummary, Outcome};
use zw_core::ports::{ErrorKind, PortError};

/// The accounts' latest status (`zw_core::org::AccountStatus`), one item each.
pub const ACCOUNTS_PK: &str = "ORG#ACCOUNTS";
/// One item per organization run (the state machine's summary).
pub const RUNS_PK: &str = "ORG#RUNS";
/// Metric attributes of an account status item: `m#<name>#<dimension>`.
const METRIC_PREFIX: &str = "m#";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The IAM partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
fn arn_partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Enters member accounts: `AssumeRole` into `arn:aws:iam::<id>:role/<name>`
/// with the central credentials, one hour, and an `SdkConfig` whose every
/// client acts in that account (read-only: the member role has no write
/// permission).
#[derive(Debug, Clone)]
pub struct RoleAssumer {
    client: aws_sdk_sts::Client,
    base: SdkConfig,
    role_name: String,
}

impl RoleAssumer {
    pub fn new(central: &SdkConfig, role_name: impl Into<String>, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_sts::config::Builder::from(central)
            .interceptor(calls.clone())
            .build();
        Self {
            client: aws_sdk_sts::Client::from_conf(conf),
            base: central.clone(),
            role_name: role_name.into(),
        }
    }

    pub fn role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            arn_partition(self.base.region().map(|r| r.as_ref())),
            self.role_name
        )
    }

    /// The member account's `SdkConfig`, or one error saying which account,
    /// which role and what to check.
    pub async fn assume(
        &self,
        account: &AccountRef,
        session: &str,
    ) -> Result<SdkConfig, PortError> {
        let arn = self.role_arn(&account.id);
        // Session names: 2-64 of [\w+=,.@-]; the run id is ours, but keep it safe.
        let session: String = format!("zonewarden-{session}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        let out = self
            .client
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session)
            .duration_seconds(3600)
            .send()
            .await
            .map_err(|e| {
                let e = classify("sts", "AssumeRole", e);
                PortError {
                    message: format!(
                        "account {} ({}): cannot assume {arn}: {} — check that the member-role StackSet (infra/org/member-role.yaml) has an instance in this account and trusts this deployment's scanner role",
                        account.id, account.name, e.message
                    ),
                    ..e
                }
            })?;
        let c = out.credentials().ok_or_else(|| {
            PortError::new(
                "sts",
                "AssumeRole",
                ErrorKind::InvalidResponse,
                format!(
                    "account {}: AssumeRole of {arn} returned no credentials",
                    account.id
                ),
            )
        })?;
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        let creds = aws_sdk_sts::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "zonewarden-member-role",
        );
        Ok(self
            .base
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
            .build())
    }
}

/// The organization's active accounts, whole or under some units (nested
/// units included), every page.
#[derive(Debug, Clone)]
pub struct OrganizationLister {
    client: aws_sdk_organizations::Client,
}

fn org_error<E, R>(
    operation: &'static str,
    e: aws_sdk_organizations::error::SdkError<E, R>,
) -> PortError
where
    E: aws_sdk_organizations::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + 'static,
{
    let e = classify("organizations", operation, e);
    let hint = match e.kind {
        ErrorKind::AccessDenied => {
            " — run the central stack in the management account or in an account registered as a delegated administrator"
        }
        _ => "",
    };
    PortError {
        message: format!("{}{hint}", e.message),
        ..e
    }
}

fn account_of(a: &aws_sdk_organizations::types::Account) -> Option<AccountRef> {
    // Suspended and closing accounts cannot be entered: not selected.
    let active = match (a.state(), a.status()) {
        (Some(state), _) => state.as_str() == "ACTIVE",
        (None, Some(status)) => status.as_str() == "ACTIVE",
        (None, None) => true,
    };
    if !active {
        return None;
    }
    AccountRef::new(a.id()?, a.name().unwrap_or_default()).ok()
}

impl OrganizationLister {
    pub fn new(sdk: &SdkConfig, calls: &ApiCallCounter) -> Self {
        let conf = aws_sdk_organizations::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .build();
        Self {
            client: aws_sdk_organizations::Client::from_conf(conf),
        }
    }

    pub async fn accounts(&self, units: &[String]) -> Result<Vec<AccountRef>, PortError> {
        let mut out = Vec::new();
        if units.is_empty() {
            let mut token = None;
            loop {
                let page = self
                    .client
                    .list_accounts()
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| org_error("ListAccounts", e))?;
                out.extend(page.accounts().iter().filter_map(account_of));
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
            return Ok(out);
        }
        let mut parents: Vec<String> = units.to_vec();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(parent) = parents.pop() {
            if !seen.insert(parent.clone()) {
                continue;
            }
            let mut token = None;
            loop {
                let page = self
                    .client
                    .list_accounts_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| org_error("ListAccountsForParent", e))?;
                out.extend(page.accounts().iter().filter_map(account_of));
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
            let mut token = None;
            loop {
                let page = self
                    .client
                    .list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| org_error("ListOrganizationalUnitsForParent", e))?;
                parents.extend(
                    page.organizational_units()
                        .iter()
                        .filter_map(|u| u.id().map(str::to_owned)),
                );
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

/// The accounts' latest status and the runs' summaries, in the findings
/// table (the central account's partition: a few hundred small items).
#[derive(Debug, Clone)]
pub struct AccountRegistry {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl AccountRegistry {
    pub fn with_client(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    /// Records an account's scan. An update, not a put: a failed scan keeps
    /// the last success and the last known metrics, and a DNS-only run
    /// keeps the certificates' series.
    pub async fn record(&self, status: &AccountStatus) -> Result<(), PortError> {
        let mut sets = vec![
            "account_name = :name",
            "run_id = :run",
            "attempted_at = :at",
            "outcome = :outcome",
            "item_type = :type",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        let mut values: BTreeMap<String, AttributeValue> = BTreeMap::from([
            (":name".into(), s(&status.account.name)),
            (":run".into(), s(&status.run_id)),
            (":at".into(), s(ts(status.attempted_at))),
            (
                ":outcome".into(),
                s(match status.outcome {
                    Outcome::Scanned => "scanned",
                    Outcome::Partial => "partial",
                    Outcome::Failed => "failed",
                }),
            ),
            (":type".into(), s("org-account")),
        ]);
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        if let Some(at) = status.last_success_at {
            sets.push("last_success_at = :ok".into());
            values.insert(":ok".into(), s(ts(at)));
        }
        let mut removes = Vec::new();
        match &status.error {
            Some(e) => {
                sets.push("last_error = :err".into());
                values.insert(":err".into(), s(e));
            }
            None => removes.push("last_error"),
        }
        for (i, ((name, dim), value)) in status.metrics.iter().enumerate() {
            sets.push(format!("#m{i} = :m{i}"));
            names.insert(format!("#m{i}"), format!("{METRIC_PREFIX}{name}#{dim}"));
            values.insert(format!(":m{i}"), AttributeValue::N(value.to_string()));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(ACCOUNTS_PK))
            .key("sk", s(&status.account.id))
            .update_expression(expression)
            .set_expression_attribute_names(
                (!names.is_empty()).then(|| names.into_iter().collect()),
            )
            .set_expression_attribute_values(Some(values.into_iter().collect()))
            .send()
            .await
            .map_err(|e| table_error(&self.table, "UpdateItem", e))?;
        Ok(())
    }

    /// Every account's latest status. An item this version cannot read is
    /// an error naming it (the roll-up must not silently drop an account).
    pub async fn statuses(&self) -> Result<Vec<AccountStatus>, PortError> {
        let items = query_partition(&self.client, &self.table, ACCOUNTS_PK).await?;
        items
            .iter()
            .map(|i| {
                parse_status(i).map_err(|why| {
                    PortError::new(
                        "dynamodb",
                        "Query",
                        ErrorKind::InvalidResponse,
                        format!(
                            "table {}: account status item pk={ACCOUNTS_PK} sk={}: {why}",
                            self.table,
                            i.get("sk").and_then(|v| v.as_s().ok()).map_or("?", |v| v)
                        ),
                    )
                })
            })
            .collect()
    }

    /// Drops an account's status (it left the organization's selection).
    pub async fn forget(&self, account_id: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(ACCOUNTS_PK))
            .key("sk", s(account_id))
            .send()
            .await
            .map_err(|e| table_error(&self.table, "DeleteItem", e))?;
        Ok(())
    }

    /// Keeps a run's summary (TTL: `retention_days`).
    pub async fn record_run(
        &self,
        summary: &OrgSummary,
        at: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<(), PortError> {
        let body = serde_json::to_string(summary).map_err(|e| {
            PortError::new(
                "dynamodb",
                "PutItem",
                ErrorKind::Other,
                format!("cannot encode the run summary: {e}"),
            )
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(RUNS_PK))
            .item("sk", s(format!("{}#{}", ts(at), summary.run_id)))
            .item("item_type", s("org-run"))
            .item("summary", s(body))
            .item(
                "expires_at",
                AttributeValue::N(
                    (at + chrono::Duration::days(i64::from(retention_days)))
                        .timestamp()
                        .to_string(),
                ),
            )
            .send()
            .await
            .map_err(|e| table_error(&self.table, "PutItem", e))?;
        Ok(())
    }
}

fn parse_status(item: &Item) -> Result<AccountStatus, String> {
    let text = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| format!("attribute `{k}` missing or not a string"))
    };
    let time = |k: &str| -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(text(k)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("attribute `{k}`: {e}"))
    };
    let account = AccountRef::new(text("sk")?.clone(), text("account_name")?.clone())?;
    let outcome = match text("outcome")?.as_str() {
        "scanned" => Outcome::Scanned,
        "partial" => Outcome::Partial,
        "failed" => Outcome::Failed,
        other => return Err(format!("attribute `outcome`: `{other}` unknown")),
    };
    let mut metrics = BTreeMap::new();
    for (k, v) in item {
        if let Some(rest) = k.strip_prefix(METRIC_PREFIX) {
            let (name, dim) = rest
                .split_once('#')
                .ok_or_else(|| format!("attribute `{k}`: no dimension part"))?;
            let value: f64 = v
                .as_n()
                .ok()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("attribute `{k}` is not a number"))?;
            metrics.insert((name.to_owned(), dim.to_owned()), value);
        }
    }
    Ok(AccountStatus {
        account,
        run_id: text("run_id")?.clone(),
        attempted_at: time("attempted_at")?,
        outcome,
        last_success_at: if item.contains_key("last_success_at") {
            Some(time("last_success_at")?)
        } else {
            None
        },
        error: item.get("last_error").and_then(|v| v.as_s().ok()).cloned(),
        metrics,
    })
}

/// What `migrate` did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    /// Items copied into the account's partition, by their old partition's
    /// kind (`FINDING`, `HISTORY`, `SCAN`, `INVENTORY`, ...).
    pub copied: BTreeMap<String, u64>,
    /// Items already in the account's partition (a second run copies nothing).
    pub already_there: u64,
    /// Source items deleted (`--delete-source`).
    pub deleted: u64,
}

/// The partitions that belong to the deployment, not to one account: never
/// moved.
fn deployment_wide(pk: &str) -> bool {
    pk.starts_with(ACCOUNT_PREFIX) || pk.starts_with("ORG#") || pk.starts_with("LICENSE")
}

/// Moves a single-account table's items under `account`'s partition keys
/// (organization mode reads only those). Copies each item with a
/// conditional put (`attribute_not_exists`), so it can be run again after
/// an interruption and never overwrites what an organization-mode scan
/// already wrote; deletes the originals only when asked, after every copy
/// succeeded. The license and organization items stay where they are.
pub async fn migrate(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &AccountRef,
    dry_run: bool,
    delete_source: bool,
) -> Result<Migration, PortError> {
    let partition = Partition::account(account.clone());
    let mut report = Migration::default();
    let mut sources: Vec<(AttributeValue, AttributeValue)> = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| table_error(table, "Scan", e))?;
        for item in page.items() {
            let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()) else {
                continue;
            };
            if deployment_wide(pk) {
                continue;
            }
            let kind = pk.split('#').next().unwrap_or(pk).to_owned();
            let mut copy = item.clone();
            partition.stamp(&mut copy);
            if !dry_run {
                let put = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(copy))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await;
                match put {
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.as_service_error(),
                            Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_))
                        ) =>
                    {
                        report.already_there += 1;
                        if let (Some(p), Some(sk)) = (item.get("pk"), item.get("sk")) {
                            sources.push((p.clone(), sk.clone()));
                        }
                        continue;
                    }
                    Err(e) => return Err(table_error(table, "PutItem", e)),
                }
            }
            *report.copied.entry(kind).or_default() += 1;
            if let (Some(p), Some(sk)) = (item.get("pk"), item.get("sk")) {
                sources.push((p.clone(), sk.clone()));
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    if delete_source && !dry_run {
        let requests = sources
            .into_iter()
            .filter_map(|(pk, sk)| {
                let d = aws_sdk_dynamodb::types::DeleteRequest::builder()
                    .key("pk", pk)
                    .key("sk", sk)
                    .build()
                    .ok()?;
                Some(
                    aws_sdk_dynamodb::types::WriteRequest::builder()
                        .delete_request(d)
                        .build(),
                )
            })
            .collect::<Vec<_>>();
        report.deleted = requests.len() as u64;
        crate::table::batch_write(client, table, requests).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_prefix_keys_and_name_the_account() {
        let a = AccountRef::new("111122223333", "prod").expect("id");
        let p = Partition::account(a);
        assert_eq!(p.pk("FINDING"), "ACCOUNT#111122223333#FINDING");
        assert_eq!(Partition::single().pk("FINDING"), "FINDING");
        let mut item = Item::from([("pk".into(), s("SCAN#2026-12-02")), ("sk".into(), s("x"))]);
        p.stamp(&mut item);
        assert_eq!(
            item["pk"].as_s().expect("s"),
            "ACCOUNT#111122223333#SCAN#2026-12-02"
        );
        assert_eq!(item["account_id"].as_s().expect("s"), "111122223333");
        assert_eq!(item["account_name"].as_s().expect("s"), "prod");
        let mut same = item.clone();
        Partition::single().stamp(&mut same);
        assert_eq!(same, item, "single-account keys are left alone");
    }

    #[test]
    fn deployment_wide_items_are_never_moved() {
        for pk in [
            "LICENSE",
            "LICENSE#SENT",
            "ORG#ACCOUNTS",
            "ACCOUNT#111122223333#FINDING",
        ] {
            assert!(deployment_wide(pk), "{pk}");
        }
        for pk in [
            "FINDING",
            "HISTORY#2026-12-01",
            "SCAN#2026-12-01",
            "INVENTORY#Z1",
            "OUTBOX",
            "HEALTH",
            "BUDGET#route53",
        ] {
            assert!(!deployment_wide(pk), "{pk}");
        }
    }

    #[test]
    fn status_items_name_what_is_wrong() {
        let good = Item::from([
            ("pk".into(), s(ACCOUNTS_PK)),
            ("sk".into(), s("111122223333")),
            ("account_name".into(), s("prod")),
            ("run_id".into(), s("r1")),
            ("attempted_at".into(), s("2026-12-02T10:00:00.000Z")),
            ("outcome".into(), s("partial")),
            ("m#OpenFindings#high".into(), AttributeValue::N("3".into())),
        ]);
        let st = parse_status(&good).expect("parses");
        assert_eq!(st.outcome, Outcome::Partial);
        assert_eq!(
            st.metrics[&("OpenFindings".to_owned(), "high".to_owned())],
            3.0
        );
        assert!(st.last_success_at.is_none());
        let mut bad = good.clone();
        bad.insert("outcome".into(), s("exploded"));
        assert!(parse_status(&bad).expect_err("bad").contains("outcome"));
        let mut bad = good;
        bad.insert("m#OpenFindings#low".into(), s("three"));
        assert!(
            parse_status(&bad)
                .expect_err("bad")
                .contains("m#OpenFindings#low")
        );
    }

    #[test]
    fn role_arns_follow_the_region_partition() {
        assert_eq!(arn_partition(Some("eu-west-1")), "aws");
        assert_eq!(arn_partition(Some("cn-north-1")), "aws-cn");
        assert_eq!(arn_partition(Some("us-gov-west-1")), "aws-us-gov");
    }
}
