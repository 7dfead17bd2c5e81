//! Whatever bytes come back, the response path does not panic.

use crate::format::dns_answer;
use crate::pipeline::deliver_for_test;
use hickory_proto::op::Message;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Some(Ok(message)) = deliver_for_test(&bytes) {
            let _ = dns_answer(&message);
        }
        if let Ok(message) = Message::from_vec(&bytes) {
            let _ = dns_answer(&message);
        }
    }

    /// Real headers with random bodies reach deeper into the parser than
    /// random headers do.
    #[test]
    fn plausible_headers_with_random_bodies_never_panic(
        counts in proptest::array::uniform4(0u8..4),
        flags in any::<u16>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = vec![0, 0];
        bytes.extend_from_slice(&(flags | 0x8000).to_be_bytes());
        for c in counts {
            bytes.extend_from_slice(&[0, c]);
        }
        bytes.extend_from_slice(&body);
        if let Some(Ok(message)) = deliver_for_test(&bytes) {
            let _ = dns_answer(&message);
        }
    }
}
