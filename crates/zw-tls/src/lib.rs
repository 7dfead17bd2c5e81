//! The endpoints family's TLS probe: a TCP connection and one TLS handshake
//! with SNI, bounded in time, and nothing more (no request is sent; the
//! mail family's MTA-STS policy fetch, `policy`, is the one exception). What
//! the endpoint served is recorded, not judged during the handshake: an
//! expired, mis-named or untrusted certificate is exactly what we want to
//! see, so the handshake accepts any certificate and the chain and name are
//! checked afterwards against webpki's roots plus the configured extras.

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, InvalidMessage, OtherError,
    RootCertStore, SignatureScheme,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use zw_core::families::endpoints::model::{ServedCertificate, TlsOutcome, WeakKey};
use zw_core::families::endpoints::ports::TlsProber;

pub mod policy;

/// Why the probe could not be built (bad settings: refused at start).
#[derive(Debug, thiserror::Error)]
pub enum TlsProbeError {
    #[error(
        "ZW_TLS_EXTRA_ROOTS: cannot read `{path}` as PEM certificates: {reason}; give a file of one or more `-----BEGIN CERTIFICATE-----` blocks"
    )]
    ExtraRoots { path: String, reason: String },
    #[error("the TLS trust store cannot be built: {0}")]
    Roots(String),
}

/// Probe settings.
#[derive(Debug, Clone)]
pub struct TlsProbeSettings {
    /// Connect plus handshake, per target.
    pub timeout: Duration,
    /// PEM file of extra trust anchors (a private CA).
    pub extra_roots_file: Option<String>,
    /// Use only the extra roots (tests that must not trust the public web).
    pub webpki_roots: bool,
}

impl Default for TlsProbeSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(5000),
            extra_roots_file: None,
            webpki_roots: true,
        }
    }
}

/// One handshake per call; cheap to clone (the configuration is shared).
#[derive(Clone)]
pub struct TlsProbe {
    connector: TlsConnector,
    verifier: Arc<WebPkiServerVerifier>,
    timeout: Duration,
}

impl std::fmt::Debug for TlsProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsProbe")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Accepts any certificate during the handshake, so that the probe sees
/// what is served; the handshake's signatures are still verified, so the
/// peer holds the key of what it presented.
#[derive(Debug)]
struct RecordEverything {
    algorithms: WebPkiSupportedAlgorithms,
}

/// RSA key sizes whose signatures the TLS library (rustls with aws-lc-rs)
/// verifies. Smaller keys are refused by TLS clients generally (public CAs
/// have not issued them since 2013); larger ones are valid and accepted by
/// browsers, so failing on them is a limit of the probe.
const RSA_MIN_BITS: u32 = 2048;
const RSA_MAX_BITS: u32 = 8192;

/// The handshake's signature check failed because of the size of the
/// served key, not because the signature is wrong: carried through rustls
/// (as `CertificateError::Other`) to the probe, which says so.
#[derive(Debug, thiserror::Error)]
#[error("the served {algorithm} key is {bits} bits: {library_error}")]
struct UnusableKey {
    algorithm: &'static str,
    bits: u32,
    subject: String,
    serial: String,
    library_error: String,
}

/// `error` unless the leaf's RSA key is outside the sizes verified.
fn explain_signature_error(cert: &CertificateDer<'_>, error: rustls::Error) -> rustls::Error {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert) else {
        return error;
    };
    let Ok(x509_parser::public_key::PublicKey::RSA(key)) = parsed.public_key().parsed() else {
        return error;
    };
    let bits = u32::try_from(key.key_size()).unwrap_or(u32::MAX);
    if (RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return error;
    }
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(UnusableKey {
        algorithm: "RSA",
        bits,
        subject: parsed.subject().to_string(),
        serial: zw_core::families::endpoints::model::normalize_serial(
            &parsed.raw_serial_as_string(),
        ),
        library_error: error.to_string(),
    }))))
}

/// rustls reads handshake messages of at most 64 KiB (TLS allows 16 MiB) to
/// bound the memory a peer can make it use; a certificate with thousands
/// of names is larger, and browsers accept it.
const HANDSHAKE_LIMIT: &str = "a handshake message (its certificate chain) larger than the 64 KiB zonewarden's TLS library (rustls) accepts";

/// A failed handshake: the endpoint's doing (a finding), or a limit of the
/// probe (a scan error, see `TlsOutcome::ProbeLimit`).
fn handshake_failure(e: &std::io::Error) -> TlsOutcome {
    let error = e.to_string();
    let inner = e.get_ref();
    match inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidMessage(
            InvalidMessage::HandshakePayloadTooLarge | InvalidMessage::CertificatePayloadTooLarge,
        )) => {
            return TlsOutcome::ProbeLimit {
                limit: HANDSHAKE_LIMIT.into(),
                error,
            };
        }
        Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => {
            if let Some(k) = other.0.downcast_ref::<UnusableKey>() {
                return if k.bits < RSA_MIN_BITS {
                    TlsOutcome::KeyTooSmall(WeakKey {
                        algorithm: k.algorithm.into(),
                        bits: k.bits,
                        minimum_bits: RSA_MIN_BITS,
                        subject: k.subject.clone(),
                        serial: k.serial.clone(),
                        error: k.library_error.clone(),
                    })
                } else {
                    TlsOutcome::ProbeLimit {
                        limit: format!(
                            "a {}-bit {} key (zonewarden's TLS library verifies RSA signatures of {RSA_MIN_BITS} to {RSA_MAX_BITS} bits)",
                            k.bits, k.algorithm
                        ),
                        error: k.library_error.clone(),
                    }
                };
            }
        }
        _ => {}
    }
    // rustls buffers at most 64 KiB of one handshake message and says so
    // with a plain I/O error of this text (not a `rustls::Error`).
    if e.kind() == std::io::ErrorKind::InvalidData
        && inner.is_some_and(|i| i.to_string() == "message buffer full")
    {
        return TlsOutcome::ProbeLimit {
            limit: HANDSHAKE_LIMIT.into(),
            error,
        };
    }
    TlsOutcome::Failed {
        stage: "handshake".into(),
        error,
    }
}

impl ServerCertVerifier for RecordEverything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
            .map_err(|e| explain_signature_error(cert, e))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
            .map_err(|e| explain_signature_error(cert, e))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl TlsProbe {
    pub fn new(settings: &TlsProbeSettings) -> Result<Self, TlsProbeError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        if settings.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if let Some(path) = &settings.extra_roots_file {
            let bad = |reason: String| TlsProbeError::ExtraRoots {
                path: path.clone(),
                reason,
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("it holds no certificate".into()));
            }
            let (added, ignored) = roots.add_parsable_certificates(certs);
            if added == 0 || ignored > 0 {
                return Err(bad(format!(
                    "{ignored} of {} certificate(s) are not usable trust anchors",
                    added + ignored
                )));
            }
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsProbeError::Roots(e.to_string()))?;
        let config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsProbeError::Roots(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RecordEverything {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth();
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            verifier,
            timeout: settings.timeout,
        })
    }

    /// The provider the probe uses (tests build servers with the same one).
    pub fn provider() -> CryptoProvider {
        rustls::crypto::aws_lc_rs::default_provider()
    }

    async fn probe(&self, host: &str, address: SocketAddr) -> TlsOutcome {
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => match ServerName::try_from(host.to_owned()) {
                Ok(n) => n,
                Err(e) => {
                    return TlsOutcome::Failed {
                        stage: "sni".into(),
                        error: format!("`{host}` cannot be sent as a server name: {e}"),
                    };
                }
            },
        };
        let started = tokio::time::Instant::now();
        let deadline = started + self.timeout;
        let tcp = match tokio::time::timeout_at(deadline, TcpStream::connect(address)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return TlsOutcome::NoService {
                    reason: e.to_string(),
                };
            }
            Err(_) => {
                return TlsOutcome::NoService {
                    reason: format!("no TCP answer within {} ms", self.timeout.as_millis()),
                };
            }
        };
        let _ = tcp.set_nodelay(true);
        let handshake = self.connector.connect(server_name.clone(), tcp);
        let mut tls = match tokio::time::timeout_at(deadline, handshake).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return handshake_failure(&e),
            Err(_) => {
                return TlsOutcome::Failed {
                    stage: "handshake".into(),
                    error: format!(
                        "TCP connected but no TLS handshake within {} ms",
                        self.timeout.as_millis()
                    ),
                };
            }
        };
        let outcome = {
            let (_, conn) = tls.get_ref();
            let protocol = conn
                .protocol_version()
                .map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            match conn.peer_certificates() {
                Some([leaf, intermediates @ ..]) => {
                    match self.inspect(leaf, intermediates, &server_name, protocol) {
                        Ok(served) => TlsOutcome::Served(served),
                        Err(error) => TlsOutcome::Failed {
                            stage: "certificate".into(),
                            error,
                        },
                    }
                }
                _ => TlsOutcome::Failed {
                    stage: "certificate".into(),
                    error: "the handshake completed without a certificate".into(),
                },
            }
        };
        // A polite close, bounded: nothing else is sent.
        let _ = tokio::time::timeout(Duration::from_millis(200), tls.shutdown()).await;
        outcome
    }

    /// What the leaf says, the chain checked at a moment inside the leaf's
    /// validity (expiry is reported on its own, from `not_after`), and the
    /// name checked on its own (webpki stops at the first problem).
    fn inspect(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        protocol: String,
    ) -> Result<ServedCertificate, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| format!("the served certificate cannot be parsed: {e}"))?;
        let time = |t: x509_parser::time::ASN1Time| {
            DateTime::<Utc>::from_timestamp(t.timestamp(), 0).unwrap_or_default()
        };
        let not_before = time(cert.validity().not_before);
        let not_after = time(cert.validity().not_after);
        let san = cert.subject_alternative_name().ok().flatten();
        let has_san = san.is_some();
        let names: Vec<String> = san
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                        x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                            4 => <[u8; 4]>::try_from(*ip)
                                .ok()
                                .map(|b| IpAddr::from(b).to_string()),
                            16 => <[u8; 16]>::try_from(*ip)
                                .ok()
                                .map(|b| IpAddr::from(b).to_string()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let key_type = match cert.public_key().parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(k)) => format!("RSA {}", k.key_size()),
            Ok(x509_parser::public_key::PublicKey::EC(k)) => format!("EC P-{}", k.key_size()),
            _ => match cert
                .public_key()
                .algorithm
                .algorithm
                .to_id_string()
                .as_str()
            {
                "1.3.101.112" => "Ed25519".to_owned(),
                "1.3.101.113" => "Ed448".to_owned(),
                other => other.to_owned(),
            },
        };
        let midpoint = not_before + (not_after - not_before) / 2;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(midpoint.timestamp()).unwrap_or(0),
        ));
        let chain_error =
            match self
                .verifier
                .verify_server_cert(leaf, intermediates, server_name, &[], at)
            {
                Ok(_) => None,
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) => None,
                Err(e) => Some(e.to_string()),
            };
        let hostname_matches = ParsedCertificate::try_from(leaf)
            .map(|p| verify_server_name(&p, server_name).is_ok())
            .unwrap_or(false);
        Ok(ServedCertificate {
            serial: zw_core::families::endpoints::model::normalize_serial(
                &cert.raw_serial_as_string(),
            ),
            subject: cert.subject().to_string(),
            common_name: cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_owned),
            issuer: cert.issuer().to_string(),
            has_san,
            names,
            not_before,
            not_after,
            key_type,
            protocol,
            chain_error,
            hostname_matches,
        })
    }
}

impl TlsProber for TlsProbe {
    async fn handshake(&self, host: &str, address: SocketAddr) -> TlsOutcome {
        self.probe(host, address).await
    }
}

#[cfg(test)]
mod tests {
    //! Real handshakes with servers on loopback: rustls serving rcgen
    //! certificates, and `openssl s_server` for RSA keys under 2048 bits
    //! (aws-lc-rs, and so rustls and rcgen here, refuse to sign with them).
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};
    use rustls::pki_types::PrivateKeyDer;
    use std::io::BufRead;
    use tokio::net::TcpListener;

    fn probe() -> TlsProbe {
        TlsProbe::new(&TlsProbeSettings {
            timeout: Duration::from_secs(10),
            ..TlsProbeSettings::default()
        })
        .expect("probe")
    }

    /// A rustls server on 127.0.0.1 serving one self-signed certificate
    /// (rcgen's default validity) to every client; stops when dropped.
    struct Server {
        address: SocketAddr,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// Serves one certificate whatever the client asks. (`with_single_cert`
    /// would parse it with webpki first, which refuses certificates over
    /// 64 KiB: the server must not depend on that.)
    #[derive(Debug)]
    struct Always(Arc<rustls::sign::CertifiedKey>);

    impl rustls::server::ResolvesServerCert for Always {
        fn resolve(
            &self,
            _hello: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    async fn serve(params: CertificateParams) -> Server {
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("certificate");
        let provider = TlsProbe::provider();
        let signing = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(key.serialize_der().into()))
            .expect("signing key");
        let certified = rustls::sign::CertifiedKey::new(vec![cert.der().clone()], signing);
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Always(Arc::new(certified))));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
        Server { address, task }
    }

    fn with_names(cn: &str, names: Vec<String>) -> CertificateParams {
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
    }

    /// The MTA-STS policy fetch wants what senders want: a certificate
    /// trusted for the host. An untrusted one, or nothing listening, is the
    /// server's doing (a finding), never a limit of ours.
    #[tokio::test]
    async fn a_policy_fetch_refuses_an_untrusted_certificate_as_the_servers_fault() {
        use zw_core::families::mail::model::FetchFailure;
        use zw_core::families::mail::ports::PolicyFetcher;
        let host = "mta-sts.mail.test";
        let server = serve(with_names(host, vec![host.to_owned()])).await;
        let now = DateTime::from_timestamp(1_764_806_400, 0).expect("a time");
        let path = "/.well-known/mta-sts.txt";
        match probe().fetch(host, server.address, path, now).await {
            Err(FetchFailure::Server(why)) => assert!(why.contains("not trusted"), "{why}"),
            other => panic!("{other:?}"),
        }
        let closed = server.address;
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        match probe().fetch(host, closed, path, now).await {
            Err(FetchFailure::Server(why)) => assert!(why.contains("no connection"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// A valid certificate browsers accept: 10,000 names make its handshake
    /// message about 250 KB, beyond rustls's 64 KiB. Our limit, not the
    /// endpoint's defect: never `Failed` (which is `tls.handshake-failed`).
    #[tokio::test]
    async fn a_certificate_with_ten_thousand_names_is_a_probe_limit_not_a_failed_handshake() {
        let names: Vec<String> = (0..10_000)
            .map(|i| format!("host-{i:05}.many.test"))
            .collect();
        let server = serve(with_names("many.test", names)).await;
        let outcome = probe()
            .handshake("host-00042.many.test", server.address)
            .await;
        match &outcome {
            TlsOutcome::ProbeLimit { limit, error } => {
                assert!(limit.contains("64 KiB"), "{limit}");
                assert!(!error.is_empty());
            }
            other => panic!("expected a probe limit, got {other:?}"),
        }

        // Below the limit the same kind of certificate is read whole.
        let names: Vec<String> = (0..1_000)
            .map(|i| format!("host-{i:05}.some.test"))
            .collect();
        let server = serve(with_names("some.test", names)).await;
        match probe()
            .handshake("host-00042.some.test", server.address)
            .await
        {
            TlsOutcome::Served(s) => {
                assert_eq!(s.names.len(), 1_000);
                assert!(s.hostname_matches);
            }
            other => panic!("expected the certificate, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_certificate_without_subject_alt_name_is_recorded_with_its_cn() {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "legacy.test");
        let server = serve(params).await;
        match probe().handshake("legacy.test", server.address).await {
            TlsOutcome::Served(s) => {
                assert!(!s.has_san, "{s:?}");
                assert!(s.names.is_empty(), "{s:?}");
                assert_eq!(s.common_name.as_deref(), Some("legacy.test"));
                // Clients ignore the CN: the name is not covered.
                assert!(!s.hostname_matches);
            }
            other => panic!("expected the certificate, got {other:?}"),
        }
        let server = serve(with_names("named.test", vec!["named.test".into()])).await;
        match probe().handshake("named.test", server.address).await {
            TlsOutcome::Served(s) => {
                assert!(s.has_san && s.hostname_matches, "{s:?}");
                assert_eq!(s.common_name.as_deref(), Some("named.test"));
            }
            other => panic!("expected the certificate, got {other:?}"),
        }
    }

    /// `openssl s_server` on 127.0.0.1 with an RSA leaf of `bits` made by
    /// `openssl req`; killed (and its files removed) when dropped.
    struct OpenSslServer {
        child: std::process::Child,
        address: SocketAddr,
        dir: std::path::PathBuf,
    }

    impl Drop for OpenSslServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn openssl_server(name: &str, bits: u32) -> OpenSslServer {
        let missing =
            "the `openssl` command is needed by this test (Debian: apt-get install openssl)";
        let dir =
            std::env::temp_dir().join(format!("zw-tls-rsa{bits}-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = std::process::Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-days", "30"])
            .args(["-newkey", &format!("rsa:{bits}")])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args(["-subj", &format!("/CN={name}")])
            .args(["-addext", &format!("subjectAltName=DNS:{name}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect(missing);
        assert!(made.success(), "openssl req failed");
        // SECLEVEL=0: OpenSSL itself refuses to serve keys this small.
        let mut child = std::process::Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0"])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args(["-cipher", "DEFAULT:@SECLEVEL=0"])
            // s_server quits when its stdin closes: keep it open.
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(missing);
        let stdout = child.stdout.take().expect("stdout");
        let address = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("ACCEPT ").and_then(|a| a.parse().ok()))
            .expect("s_server prints `ACCEPT 127.0.0.1:PORT`");
        OpenSslServer {
            child,
            address,
            dir,
        }
    }

    #[tokio::test]
    async fn a_1024_bit_rsa_key_is_reported_as_too_small_not_as_a_bad_signature() {
        let weak = openssl_server("weak.test", 1024);
        match probe().handshake("weak.test", weak.address).await {
            TlsOutcome::KeyTooSmall(k) => {
                assert_eq!(
                    (k.algorithm.as_str(), k.bits, k.minimum_bits),
                    ("RSA", 1024, 2048)
                );
                assert!(k.subject.contains("weak.test"), "{k:?}");
                assert!(!k.serial.is_empty());
            }
            other => panic!("expected a key too small, got {other:?}"),
        }
        // The same server with a 2048-bit key is read as usual.
        let fine = openssl_server("fine.test", 2048);
        match probe().handshake("fine.test", fine.address).await {
            TlsOutcome::Served(s) => assert_eq!(s.key_type, "RSA 2048"),
            other => panic!("expected the certificate, got {other:?}"),
        }
    }

    fn io(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    fn unusable(bits: u32) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
            UnusableKey {
                algorithm: "RSA",
                bits,
                subject: "CN=x.test".into(),
                serial: "1".into(),
                library_error: "invalid peer certificate: BadSignature".into(),
            },
        ))))
    }

    /// Every way rustls says "too large for me" is our limit; anything the
    /// peer did wrong stays a failed handshake.
    #[test]
    fn handshake_failures_are_classified_as_the_endpoints_or_ours() {
        let limited = |o: TlsOutcome| matches!(o, TlsOutcome::ProbeLimit { .. });
        assert!(limited(handshake_failure(&io("message buffer full"))));
        assert!(limited(handshake_failure(&io(
            rustls::Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge)
        ))));
        assert!(limited(handshake_failure(&io(
            rustls::Error::InvalidMessage(InvalidMessage::CertificatePayloadTooLarge)
        ))));
        // Browsers verify RSA keys above 8192 bits; rustls does not.
        match handshake_failure(&io(unusable(16_384))) {
            TlsOutcome::ProbeLimit { limit, .. } => {
                assert!(limit.contains("16384-bit RSA"), "{limit}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            handshake_failure(&io(unusable(1024))),
            TlsOutcome::KeyTooSmall(WeakKey { bits: 1024, .. })
        ));
        for peer in [
            io(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure,
            )),
            io(rustls::Error::PeerSentOversizedRecord),
            io(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature,
            )),
            std::io::Error::new(std::io::ErrorKind::ConnectionReset, "message buffer full"),
        ] {
            assert!(
                matches!(handshake_failure(&peer), TlsOutcome::Failed { .. }),
                "{peer}"
            );
        }
    }
}
