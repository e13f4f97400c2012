//! HTTPS built in: the rustls server configuration, from PEM files given by
//! the operator (`--tls-cert`/`--tls-key`) or from a development certificate
//! that Palaver makes once and keeps in `<data dir>/tls/` (`--tls-self-signed`).
//!
//! Crypto is rustls with the `ring` provider (no cmake or assembler needed to
//! build). The listener, the plain-HTTP redirect and HSTS are wired up in
//! `Application::build` and `web::middleware::https`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use sha2::{Digest, Sha256};

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given by the operator.
    Files { cert: PathBuf, key: PathBuf },
    /// A development certificate for localhost in `<data dir>/tls/`.
    SelfSigned,
}

/// The directory under the data dir that holds the development certificate.
const SELF_SIGNED_DIR: &str = "tls";
const SELF_SIGNED_CERT: &str = "cert.pem";
const SELF_SIGNED_KEY: &str = "key.pem";
/// The names a development certificate is valid for: what a developer types
/// into the address bar on the machine running Palaver.
const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A certificate chain and its private key.
pub struct Identity {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// SHA-256 of the leaf certificate, as browsers show it (`AB:CD:…`).
    pub fn fingerprint(&self) -> String {
        self.certs
            .first()
            .map(|c| fingerprint(c))
            .unwrap_or_default()
    }
}

/// SHA-256 of a DER certificate, upper-case hex pairs joined by colons.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The crypto provider every rustls configuration here uses. It is also
/// installed as the process default, so any other rustls user in the process
/// (an HTTP client, a test) finds ring rather than panicking for want of one.
fn provider() -> Arc<CryptoProvider> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read and check an operator's certificate and key. The error is one line
/// naming the setting and the file, for `Config::validate` (exit code 2).
pub fn load_files(cert: &Path, key: &Path) -> Result<Identity, String> {
    let cert_pem = std::fs::read(cert)
        .map_err(|err| format!("CHAT_TLS_CERT: cannot read {}: {err}", cert.display()))?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("CHAT_TLS_CERT: {} is not valid PEM: {err}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "CHAT_TLS_CERT: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        ));
    }
    let key_pem = std::fs::read(key)
        .map_err(|err| format!("CHAT_TLS_KEY: cannot read {}: {err}", key.display()))?;
    // The key's own bytes never go into a message.
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| match err {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "CHAT_TLS_KEY: {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        ),
        _ => format!(
            "CHAT_TLS_KEY: {} is not a valid PEM private key",
            key.display()
        ),
    })?;
    let identity = Identity {
        certs,
        key: key_der,
    };
    // Building the configuration checks that the key parses and belongs to
    // the certificate.
    server_config(&identity).map_err(|err| {
        format!(
            "CHAT_TLS_CERT/CHAT_TLS_KEY: {} and {} do not make a usable pair: {err}",
            cert.display(),
            key.display()
        )
    })?;
    Ok(identity)
}

/// A rustls server configuration for `identity` (TLS 1.2 and 1.3). actix
/// sets ALPN to `http/1.1` (and `h2` only if actix-web's `http2` feature is
/// on, which it is not: WebSockets need HTTP/1.1 anyway).
pub fn server_config(identity: &Identity) -> Result<ServerConfig, rustls::Error> {
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(identity.certs.clone(), identity.key.clone_key())
}

/// The certificate to serve, loaded (or made) at start-up.
pub fn load(source: &TlsSource, data_dir: &Path) -> anyhow::Result<Identity> {
    match source {
        TlsSource::Files { cert, key } => load_files(cert, key).map_err(anyhow::Error::msg),
        TlsSource::SelfSigned => {
            let dir = data_dir.join(SELF_SIGNED_DIR);
            let identity = self_signed(&dir)?;
            let fingerprint = identity.fingerprint();
            let cert = dir.join(SELF_SIGNED_CERT);
            tracing::info!(cert = %cert.display(), %fingerprint, "serving the self-signed development certificate");
            // Also on stderr whatever CHAT_LOG says: it is what a developer
            // compares with the browser's certificate warning.
            eprintln!(
                "palaver: development certificate {} (localhost, 127.0.0.1, ::1), SHA-256 fingerprint {fingerprint}",
                cert.display()
            );
            Ok(identity)
        }
    }
}

/// The development certificate in `dir`, made on first use and reused after.
pub fn self_signed(dir: &Path) -> anyhow::Result<Identity> {
    let cert = dir.join(SELF_SIGNED_CERT);
    let key = dir.join(SELF_SIGNED_KEY);
    if !cert.exists() && !key.exists() {
        generate(dir, &cert, &key)?;
    }
    load_files(&cert, &key).map_err(|err| {
        anyhow::anyhow!(
            "{err} (delete {} to make a new development certificate)",
            dir.display()
        )
    })
}

fn generate(dir: &Path, cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names)
        .context("Failed to prepare the development certificate")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Palaver development certificate");
    let key_pair = rcgen::KeyPair::generate().context("Failed to generate a TLS key")?;
    let cert = params
        .self_signed(&key_pair)
        .context("Failed to sign the development certificate")?;
    crate::auth::csrf::write_private(key_path, key_pair.serialize_pem().as_bytes())
        .with_context(|| format!("Failed to write {}", key_path.display()))?;
    std::fs::write(cert_path, cert.pem())
        .with_context(|| format!("Failed to write {}", cert_path.display()))?;
    tracing::info!(dir = %dir.display(), "made a self-signed development certificate");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_certificate_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let first = self_signed(&tls).unwrap();
        let second = self_signed(&tls).unwrap();
        assert_eq!(first.fingerprint(), second.fingerprint());
        assert_eq!(first.fingerprint().len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tls.join("key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_files_are_one_line_errors_naming_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        self_signed(&tls).unwrap();
        let (cert, key) = (tls.join("cert.pem"), tls.join("key.pem"));
        assert!(load_files(&cert, &key).is_ok());

        let missing = dir.path().join("nope.pem");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").unwrap();
        let other = dir.path().join("other");
        self_signed(&other).unwrap();
        for (cert, key, expected) in [
            (&missing, &key, "CHAT_TLS_CERT: cannot read"),
            (&cert, &missing, "CHAT_TLS_KEY: cannot read"),
            (&garbage, &key, "CHAT_TLS_CERT: "),
            (&cert, &garbage, "CHAT_TLS_KEY: "),
            // Swapped: the key file holds no certificate.
            (&key, &cert, "CHAT_TLS_CERT: "),
            // A key that belongs to another certificate.
            (&cert, &other.join("key.pem"), "do not make a usable pair"),
        ] {
            let err = load_files(cert, key).err().unwrap();
            assert!(err.contains(expected), "{err} should say {expected}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(!err.contains("PRIVATE KEY-----"), "{err}");
        }
    }
}
