//! TLS for `https://` URLs and endpoints (feature `tls`): rustls with its `ring` crypto
//! provider — which compiles C and assembly, so the feature is off by default and the default
//! build links no C.
//!
//! Trusted roots: the system's certificates (as `rustls-native-certs` finds them, honouring
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus every PEM certificate in the file named by
//! `H5SPARSE_CA_FILE` (a private CA, a self-signed test server). Certificates are always
//! verified: there is no switch to turn that off.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A TLS connection over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The environment variable naming extra trusted certificates (PEM).
pub const CA_FILE_VAR: &str = "H5SPARSE_CA_FILE";

/// The client configuration: TLS 1.2 and 1.3, the system's roots and `H5SPARSE_CA_FILE`'s.
pub fn config() -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    // Unreadable or unparsable system certificates are skipped (as curl does): the ones
    // that load are trusted.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = std::env::var_os(CA_FILE_VAR).filter(|v| !v.is_empty()) {
        let shown = path.to_string_lossy().into_owned();
        let bad = |e: &dyn std::fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{CA_FILE_VAR}={shown}: {e}"),
            )
        };
        let certs = CertificateDer::pem_file_iter(&path)
            .map_err(|e| bad(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        if certs.is_empty() {
            return Err(bad(&"no PEM certificate in the file"));
        }
        for c in certs {
            roots.add(c).map_err(|e| bad(&e))?;
        }
    }
    if roots.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no trusted certificates: the system has none; name a PEM file in {CA_FILE_VAR}"
            ),
        ));
    }
    // rustls marks ring's provider deprecated for lacking post-quantum key exchange; the
    // alternative (aws-lc-rs) builds far more C. Classical TLS 1.2/1.3 is what range reads of
    // public data need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// Start TLS with `host` (a DNS name or an IP address) over `tcp` and finish the handshake,
/// so that a certificate the roots do not vouch for is an error here, naming the host.
pub fn connect(config: &Arc<ClientConfig>, host: &str, tcp: TcpStream) -> io::Result<TlsStream> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_string()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{host}: not a TLS server name ({e})"),
        )
    })?;
    let conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
    let mut s = StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData {
                // A certificate or protocol failure: not worth a retry.
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "TLS handshake with {host}: {e} (trusted: the system's certificates and {CA_FILE_VAR})"
                    ),
                )
            } else {
                e
            }
        })?;
    }
    Ok(s)
}
