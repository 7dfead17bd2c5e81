//! Referrals with glue in front of hickory's `Catalog`.
//!
//! hickory-server 0.26 answers a name below a zone cut with the cut's NS
//! set, but without glue: its additional-section search for the NS targets
//! hits the same zone cut and finds the NS set again. Real parents send
//! glue, and the probe's walks must be tested against that, so the lab
//! answers referrals itself and leaves everything else to the catalog.

use hickory_proto::op::{Metadata, ResponseCode};
use hickory_proto::rr::{LowerName, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponseBuilder};
use tracing::debug;

/// A delegation inside a lab zone: the NS set at the cut and the glue the
/// zone holds for its targets.
#[derive(Debug, Clone)]
pub(crate) struct Cut {
    pub name: LowerName,
    pub ns: Vec<Record>,
    pub glue: Vec<Record>,
}

pub(crate) struct LabHandler {
    pub catalog: Catalog,
    pub cuts: Vec<Cut>,
}

impl LabHandler {
    /// The deepest cut at or above `name`, unless the question is the DS
    /// at the cut itself (the parent answers that).
    fn cut_for(&self, name: &LowerName, rtype: RecordType) -> Option<&Cut> {
        self.cuts
            .iter()
            .filter(|cut| cut.name.zone_of(name))
            .filter(|cut| !(rtype == RecordType::DS && cut.name == *name))
            .max_by_key(|cut| cut.name.num_labels())
    }
}

#[async_trait::async_trait]
impl RequestHandler for LabHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let cut = request
            .queries
            .queries()
            .first()
            .and_then(|q| self.cut_for(q.name(), q.query_type()));
        let Some(cut) = cut else {
            return self
                .catalog
                .handle_request::<R, T>(request, response_handle)
                .await;
        };
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.response_code = ResponseCode::NoError;
        let response = MessageResponseBuilder::from_message_request(request).build(
            metadata,
            std::iter::empty(),
            cut.ns.iter(),
            std::iter::empty(),
            cut.glue.iter(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(e) => {
                debug!(error = %e, "sending a referral failed");
                let mut header = hickory_proto::op::Header {
                    metadata,
                    counts: Default::default(),
                };
                header.metadata.response_code = ResponseCode::ServFail;
                header.into()
            }
        }
    }
}
