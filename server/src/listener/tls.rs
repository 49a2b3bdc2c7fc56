//! TLS for `protocol: "https"`: the certificate, chain and key files of laravel-echo-server's
//! `sslCertPath`, `sslCertChainPath`, `sslKeyPath` and `sslPassphrase`, served with rustls.
//!
//! The certificate sits behind a resolver that [`Certificates::reload`] swaps in place: new
//! handshakes get the new certificate, established connections keep theirs (`SIGHUP`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::config::TlsFiles;

/// Why the certificate or key could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file is missing or unreadable.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// The key file holds no PEM private key.
    #[error("{0} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey(PathBuf),
    /// The key is encrypted and no passphrase is configured.
    #[error("{0} is encrypted; set sslPassphrase")]
    PassphraseMissing(PathBuf),
    /// The passphrase does not decrypt the key.
    #[error("{0} could not be decrypted with sslPassphrase: {1}")]
    Decrypt(PathBuf, String),
    /// OpenSSL's legacy key encryption (`Proc-Type: 4,ENCRYPTED`).
    #[error(
        "{0} uses OpenSSL's legacy key encryption; convert it with `openssl pkcs8 -topk8 -in <key> -out <new key>`"
    )]
    LegacyEncryption(PathBuf),
    /// rustls refused the certificate or key (unsupported key type, key does not match).
    #[error("{path} cannot be used: {reason}")]
    Invalid {
        /// The key file.
        path: PathBuf,
        /// rustls' reason.
        reason: String,
    },
}

/// The served certificate; reloadable.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Load the files.
    ///
    /// # Errors
    /// A file is missing, unreadable or unusable.
    pub fn load(files: &TlsFiles) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(files, &provider)?;
        Ok(Arc::new(Certificates {
            files: files.clone(),
            provider,
            current: RwLock::new(key),
        }))
    }

    /// Read the files again and serve the new certificate to new connections. On error the
    /// current certificate stays.
    ///
    /// # Errors
    /// As [`Certificates::load`].
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = certified_key(&self.files, &self.provider)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
        Ok(())
    }

    /// The rustls server configuration (HTTP/1.1 only: Socket.IO needs nothing else).
    pub(crate) fn server_config(self: &Arc<Self>) -> Result<ServerConfig, TlsError> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Invalid {
                path: self.files.cert.clone(),
                reason: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

fn certified_key(
    files: &TlsFiles,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let mut chain = certificates(&files.cert)?;
    if let Some(extra) = &files.chain {
        chain.extend(certificates(extra)?);
    }
    let key = private_key(&files.key, files.passphrase.as_deref())?;
    CertifiedKey::from_der(chain, key, provider)
        .map(Arc::new)
        .map_err(|e| TlsError::Invalid {
            path: files.key.clone(),
            reason: e.to_string(),
        })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

fn private_key(path: &Path, passphrase: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::LegacyEncryption(path.to_owned()));
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let passphrase = passphrase
            .filter(|p| !p.is_empty())
            .ok_or_else(|| TlsError::PassphraseMissing(path.to_owned()))?;
        return decrypt(path, &text, passphrase);
    }
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TlsError::NoKey(path.to_owned()))
}

fn decrypt(path: &Path, pem: &str, passphrase: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    use pkcs8::der::Decode;
    const END: &str = "-----END ENCRYPTED PRIVATE KEY-----";
    let fail = |e: &dyn std::fmt::Display| TlsError::Decrypt(path.to_owned(), e.to_string());
    let begin = pem
        .find("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        .unwrap_or_default();
    let end = pem.find(END).map_or(pem.len(), |e| e + END.len());
    let (_, der) =
        pkcs8::der::pem::decode_vec(&pem.as_bytes()[begin..end]).map_err(|e| fail(&e))?;
    let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).map_err(|e| fail(&e))?;
    let document = info.decrypt(passphrase).map_err(|e| fail(&e))?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        document.as_bytes().to_vec(),
    )))
}
