//! Fakes the families' collection tests share: the internet as a table of
//! answers, the hosted zones as a list.

use crate::error::PortError;
use crate::families::dns::model::{
    Delegation, Observation, QueryFailure, Question, Resolution, ResourceRecord, ZoneInventory,
};
use crate::families::dns::ports::{DnsProbe, InventoryCache};
use crate::model::{DnssecStatus, HostedZone, RecordSet};
use crate::ports::ZoneSource;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// The internet, as a table of (name, type) -> resolution. Unlisted names
/// do not exist.
pub(crate) struct Internet {
    answers: BTreeMap<(String, String), Resolution>,
    asked: Mutex<Vec<(String, String)>>,
}

impl Internet {
    pub(crate) fn new(entries: &[(&str, &str, &[&str])]) -> Self {
        let mut answers = BTreeMap::new();
        for (name, rtype, data) in entries {
            let resolution = match *data {
                ["FAIL"] => Resolution::Failed {
                    reason: "timeout".into(),
                },
                [] => Resolution::NoData {
                    cname_chain: Vec::new(),
                },
                data => Resolution::Answer {
                    records: data
                        .iter()
                        .map(|d| ResourceRecord {
                            name: (*name).to_owned(),
                            rtype: (*rtype).to_owned(),
                            ttl: 300,
                            data: if *rtype == "TXT" {
                                format!("\"{d}\"")
                            } else {
                                (*d).to_owned()
                            },
                        })
                        .collect(),
                    cname_chain: Vec::new(),
                },
            };
            answers.insert(((*name).to_owned(), (*rtype).to_owned()), resolution);
        }
        Self {
            answers,
            asked: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn times_asked(&self, name: &str, rtype: &str) -> usize {
        self.asked
            .lock()
            .map(|a| a.iter().filter(|(n, t)| n == name && t == rtype).count())
            .unwrap_or(0)
    }
}

impl DnsProbe for Internet {
    async fn delegation(&self, _zone: &str) -> Delegation {
        unreachable!("the families on this fake do not walk delegations")
    }
    async fn server_addresses(&self, _ns: &str) -> Result<Vec<SocketAddr>, QueryFailure> {
        unreachable!("the families on this fake do not ask servers directly")
    }
    async fn ask(&self, _s: SocketAddr, _q: &[Question], _d: bool) -> Vec<Observation> {
        unreachable!("the families on this fake do not ask servers directly")
    }
    async fn resolve(&self, name: &str, rtype: &str) -> Resolution {
        if let Ok(mut a) = self.asked.lock() {
            a.push((name.to_owned(), rtype.to_owned()));
        }
        self.answers
            .get(&(name.to_owned(), rtype.to_owned()))
            .cloned()
            .unwrap_or_else(|| {
                // A name with records of another type exists.
                if self.answers.keys().any(|(n, _)| n == name) {
                    Resolution::NoData {
                        cname_chain: Vec::new(),
                    }
                } else {
                    Resolution::NxDomain {
                        cname_chain: Vec::new(),
                    }
                }
            })
    }
    fn may_probe(&self, address: SocketAddr) -> Result<(), String> {
        if address.ip().is_loopback() {
            Err("loopback".into())
        } else {
            Ok(())
        }
    }
}

pub(crate) struct Zones(pub(crate) Vec<(HostedZone, Vec<RecordSet>)>);

impl ZoneSource for Zones {
    async fn hosted_zones(&self) -> Result<Vec<HostedZone>, PortError> {
        Ok(self.0.iter().map(|(z, _)| z.clone()).collect())
    }
    async fn record_sets(&self, zone_id: &str) -> Result<Vec<RecordSet>, PortError> {
        Ok(self
            .0
            .iter()
            .find(|(z, _)| z.id == zone_id)
            .map(|(_, s)| s.clone())
            .unwrap_or_default())
    }
    async fn name_servers(&self, _zone_id: &str) -> Result<Vec<String>, PortError> {
        Ok(Vec::new())
    }
    async fn dnssec(&self, _zone_id: &str) -> Result<DnssecStatus, PortError> {
        Ok(DnssecStatus::default())
    }
    async fn record_set_limit(&self, _zone_id: &str) -> Result<u64, PortError> {
        Ok(10_000)
    }
}

/// No inventory cache: every zone's record sets come from the zone source.
pub(crate) struct NoCache;
impl InventoryCache for NoCache {
    async fn load(&self, _zone_id: &str) -> Result<Option<ZoneInventory>, PortError> {
        Ok(None)
    }
    async fn save(&self, _inventory: &ZoneInventory) -> Result<(), PortError> {
        Ok(())
    }
    async fn touch(&self, _inventory: &ZoneInventory) -> Result<(), PortError> {
        Ok(())
    }
}
