//! What the organization's other accounts published in the findings table
//! (organization mode), for the certificate family's validation records and
//! the endpoints family's coverage map: an account's DNS scan writes its
//! zones into the estate inventory (`ACCOUNT#<id>#ESTATE#zones`) and their
//! record sets into the inventory cache (`ACCOUNT#<id>#INVENTORY#<zone id>`),
//! its certificate scan its certificates (`ACCOUNT#<id>#ESTATE#certificates`);
//! the accounts are those of `ORG#ACCOUNTS`. Only `GetItem` and `Query` on
//! the deployment's own table: no other account's AWS API is called.

use crate::inventory::DynamoInventoryCache;
use crate::org::AccountRegistry;
use crate::table::Partition;
use crate::triage::EstateScope;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use zw_core::families::certificates::ports::{
    OrganizationEstate, PublishedRecords, SharedCertificate, SharedCertificates, SharedZone,
    SharedZones,
};
use zw_core::families::dns::ports::InventoryCache;
use zw_core::inventory::{InventoryEntry, InventoryKind};
use zw_core::model::HostedZone;
use zw_core::org::AccountRef;
use zw_core::ports::PortError;

/// Accounts whose published zones are read at once (one small `Query` each).
const CONCURRENT_ACCOUNTS: usize = 8;

#[derive(Debug, Clone)]
pub struct PublishedEstate {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The account being scanned: its own zones come from its Route 53.
    own: AccountRef,
}

impl PublishedEstate {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, own: AccountRef) -> Self {
        Self { client, table, own }
    }

    /// The other accounts' entries of one inventory, each account read on
    /// its own: an account that cannot be read is named with its error.
    async fn published(
        &self,
        kind: InventoryKind,
    ) -> Result<Vec<(AccountRef, Result<Vec<InventoryEntry>, PortError>)>, PortError> {
        Ok(self
            .published_scopes(kind)
            .await?
            .into_iter()
            .map(|(account, scopes)| {
                let entries = scopes.map(|s| s.into_iter().flat_map(|s| s.entries).collect());
                (account, entries)
            })
            .collect())
    }

    /// [`Self::published`] scope by scope, with when each was written.
    pub async fn published_scopes(
        &self,
        kind: InventoryKind,
    ) -> Result<Vec<(AccountRef, Result<Vec<EstateScope>, PortError>)>, PortError> {
        let registry = AccountRegistry::with_client(self.client.clone(), self.table.clone());
        let others: Vec<AccountRef> = registry
            .statuses()
            .await?
            .into_iter()
            .map(|s| s.account)
            .filter(|a| a.id != self.own.id)
            .collect();
        Ok(stream::iter(others)
            .map(|account| async move {
                let entries = crate::triage::load_estate_scopes(
                    &self.client,
                    &self.table,
                    &Partition::account(account.clone()),
                    kind,
                )
                .await
                .map_err(|mut e| {
                    e.message = format!(
                        "published {} of account {} ({}): {}",
                        kind.as_str(),
                        account.name,
                        account.id,
                        e.message
                    );
                    e
                });
                (account, entries)
            })
            .buffered(CONCURRENT_ACCOUNTS)
            .collect()
            .await)
    }
}

/// A zone inventory entry as the DNS family writes it (`id`, `name`, the
/// `private` and `record_sets` details); None for a private zone, which ACM
/// never validates through.
fn zone_of(entry: &InventoryEntry) -> Option<HostedZone> {
    let private = entry
        .details
        .get("private")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    (!private).then(|| HostedZone {
        id: entry.id.clone(),
        name: entry.name.clone(),
        private,
        record_set_count: entry
            .details
            .get("record_sets")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0),
    })
}

/// A certificate inventory entry as the certificate family writes it (`id`
/// the ARN, `name` the domain, the `status` and `names` details): its ARN and
/// every name, for an issued one only.
fn issued(entry: &InventoryEntry) -> Option<(String, Vec<String>)> {
    if entry
        .details
        .get("status")
        .and_then(serde_json::Value::as_str)
        != Some("ISSUED")
    {
        return None;
    }
    let mut names = vec![entry.name.clone()];
    names.extend(
        entry
            .details
            .get("names")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .map(str::to_owned),
    );
    names.sort();
    names.dedup();
    Some((entry.id.clone(), names))
}

impl OrganizationEstate for PublishedEstate {
    fn zones(&self) -> BoxFuture<'_, Result<SharedZones, PortError>> {
        Box::pin(async move {
            let mut out = SharedZones::default();
            for (account, entries) in self.published(InventoryKind::Zones).await? {
                match entries {
                    Ok(entries) => {
                        out.zones
                            .extend(entries.iter().filter_map(zone_of).map(|zone| SharedZone {
                                account: account.clone(),
                                zone,
                            }))
                    }
                    Err(e) => out.failed.push((account, e)),
                }
            }
            Ok(out)
        })
    }

    fn certificates(&self) -> BoxFuture<'_, Result<SharedCertificates, PortError>> {
        Box::pin(async move {
            let mut out = SharedCertificates::default();
            for (account, entries) in self.published(InventoryKind::Certificates).await? {
                match entries {
                    Ok(entries) => out
                        .certificates
                        .extend(entries.iter().filter_map(issued).map(|(arn, names)| {
                            SharedCertificate {
                                account: account.clone(),
                                arn,
                                names,
                            }
                        })),
                    Err(e) => out.failed.push((account, e)),
                }
            }
            Ok(out)
        })
    }

    fn record_sets<'a>(
        &'a self,
        zone: &'a SharedZone,
    ) -> BoxFuture<'a, Result<Option<PublishedRecords>, PortError>> {
        Box::pin(async move {
            let cache = DynamoInventoryCache::with_client(self.client.clone(), self.table.clone())
                .in_partition(Partition::account(zone.account.clone()));
            Ok(cache
                .load(&zone.zone.id)
                .await?
                .map(|inventory| PublishedRecords {
                    record_sets: inventory.record_sets,
                    listed_at: inventory.listed_at,
                }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(private: serde_json::Value) -> InventoryEntry {
        InventoryEntry {
            id: "Z1".into(),
            name: "example.com.".into(),
            region: "global".into(),
            not_after: None,
            details: BTreeMap::from([
                ("private".to_owned(), private),
                ("record_sets".to_owned(), serde_json::json!(12)),
            ]),
            checked_at: "2026-12-03T00:00:00Z".parse().expect("time"),
        }
    }

    #[test]
    fn a_published_zone_entry_reads_as_a_public_zone_and_private_ones_are_left_out() {
        assert_eq!(
            zone_of(&entry(serde_json::json!(false))),
            Some(HostedZone {
                id: "Z1".into(),
                name: "example.com.".into(),
                private: false,
                record_set_count: 12,
            })
        );
        assert_eq!(zone_of(&entry(serde_json::json!(true))), None);
    }

    #[test]
    fn a_published_certificate_entry_gives_every_name_of_an_issued_certificate() {
        let mut e = entry(serde_json::json!(false));
        e.id = "arn:aws:acm:eu-west-1:222233334444:certificate/1".into();
        e.name = "app.example.com".into();
        e.details = BTreeMap::from([
            ("status".to_owned(), serde_json::json!("ISSUED")),
            (
                "names".to_owned(),
                serde_json::json!(["app.example.com", "*.app.example.com"]),
            ),
        ]);
        assert_eq!(
            issued(&e),
            Some((
                e.id.clone(),
                vec!["*.app.example.com".to_owned(), "app.example.com".to_owned()]
            ))
        );
        e.details
            .insert("status".to_owned(), serde_json::json!("EXPIRED"));
        assert_eq!(issued(&e), None);
    }
}
