//! The one HTTP client every cached OpenAI client shares.

use std::time::Duration;

use crate::Error;

/// Builds the shared `reqwest::Client`: one connection pool, with timeouts
/// (async-openai sets none).
pub(crate) fn shared_http_client(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<reqwest::Client, Error> {
    let builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(request_timeout);
    #[cfg(feature = "rustls-ring")]
    let builder = builder.tls_backend_preconfigured(ring_tls()?);
    builder.build().map_err(|e| Error::HttpClient {
        reason: e.to_string(),
    })
}

/// rustls over `ring`, verifying with the platform's trust store, as reqwest
/// would with aws-lc-rs. Handing reqwest this config leaves the process-wide
/// rustls provider untouched.
#[cfg(feature = "rustls-ring")]
fn ring_tls() -> Result<rustls::ClientConfig, Error> {
    use rustls_platform_verifier::BuilderVerifierExt;

    let tls_error = |e: rustls::Error| Error::HttpClient {
        reason: format!("TLS: {e}"),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    // async-openai builds reqwest without HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
