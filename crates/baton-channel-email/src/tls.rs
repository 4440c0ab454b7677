//! TLS for IMAP and SMTP (`tls = "tls"` from the first byte, or `"starttls"` after the
//! plaintext greeting): rustls on aws-lc-rs, trusting the system's roots and, when
//! `[email] ca_file` names one, a private CA's certificates too.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::config::{EmailConfig, Tls};

/// Why TLS could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("email.ca_file: cannot read {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("email.ca_file: {path} holds no PEM certificate")]
    NoCertificate { path: String },
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// The trust every TLS connection of the channel uses; built once at start.
#[derive(Clone)]
pub struct Trust {
    /// For IMAP.
    pub(crate) connector: Option<TlsConnector>,
    /// The private CA, in PEM, for lettre's own builder (SMTP).
    pub(crate) ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("tls", &self.connector.is_some())
            .field("private_ca", &self.ca_pem.is_some())
            .finish()
    }
}

impl Trust {
    /// Loads the roots when some mailbox uses TLS; without one, nothing is read.
    pub fn load(config: &EmailConfig) -> Result<Trust, TlsError> {
        let uses_tls = config
            .mailboxes
            .iter()
            .any(|m| m.imap.tls != Tls::None || m.smtp.tls != Tls::None);
        if !uses_tls {
            return Ok(Trust {
                connector: None,
                ca_pem: None,
            });
        }
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, errors = native.errors.len(), "system roots loaded");
        let ca_pem = match &config.ca_file {
            Some(path) => Some(read_ca(path, &mut roots)?),
            None => None,
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Trust {
            connector: Some(TlsConnector::from(Arc::new(client))),
            ca_pem,
        })
    }

    /// TLS over `tcp` to `host`, the certificate checked against the roots.
    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, String> {
        let connector = self
            .connector
            .as_ref()
            .ok_or("TLS was not set up at start")?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?} is not a host name for TLS: {e}"))?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))
    }
}

fn read_ca(path: &Path, roots: &mut RootCertStore) -> Result<Vec<u8>, TlsError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| TlsError::CaFile {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let mut found = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| TlsError::CaFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        roots.add(cert).map_err(|e| TlsError::CaFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        found += 1;
    }
    if found == 0 {
        return Err(TlsError::NoCertificate { path: shown });
    }
    Ok(pem)
}
