//! The endpoints family's TLS probe: a TCP connection and one TLS handshake
//! with SNI, bounded in time, and nothing more (no request is sent). What
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
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use zw_core::model::tls::{ServedCertificate, TlsOutcome};
use zw_core::ports::TlsProber;

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
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
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
            Ok(Err(e)) => {
                return TlsOutcome::Failed {
                    stage: "handshake".into(),
                    error: e.to_string(),
                };
            }
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
        let names: Vec<String> = cert
            .subject_alternative_name()
            .ok()
            .flatten()
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
            serial: zw_core::model::tls::normalize_serial(&cert.raw_serial_as_string()),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
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
