//! Who a client speaks as: API key, base URL, organisation and project.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

use zeroize::Zeroizing;

use crate::Error;
use crate::redact::redact_userinfo;

/// The OpenAI API's base URL, used when none is configured.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Everything that makes two OpenAI clients different tenants: the API key, the
/// base URL, the organisation and the project.
///
/// Two identities are equal only if all four are equal, the key compared in full
/// (and in time that does not depend on where it differs), so no hash collision
/// can ever hand one tenant's client to another. The hash covers all four parts
/// too, so identities that share a key and differ only in base URL,
/// organisation or project spread over the table like distinct keys.
///
/// The key is kept in a [`Zeroizing`] buffer, overwritten with zeros when the
/// identity is dropped (for a cached client: when its entry leaves the cache). It
/// has no accessor and never appears in `Debug` output, which shows a
/// [`KeyFingerprint`] instead. Credentials in the base URL
/// (`https://user:password@host/v1`) are shown as `https://***@host/v1`.
///
/// An identity is always explicit: nothing in it is read from `OPENAI_*`
/// environment variables.
///
/// ```
/// use tenure_openai::ClientIdentity;
///
/// let identity = ClientIdentity::new("sk-tenant-a")?
///     .with_base_url("https://eu.example.com/v1/")? // the trailing `/` is dropped
///     .with_organization("org-a")?;
/// assert_eq!(identity.base_url(), "https://eu.example.com/v1");
/// assert_eq!(identity.organization(), Some("org-a"));
/// assert!(!format!("{identity:?}").contains("sk-tenant-a"));
///
/// let proxied = identity.with_base_url("https://user:s3cret@proxy.example/v1")?;
/// assert!(format!("{proxied:?}").contains(r#"base_url: "https://***@proxy.example/v1""#));
/// # Ok::<(), tenure_openai::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientIdentity {
    api_key: Zeroizing<String>,
    endpoint: Endpoint,
}

/// Base URL, organisation and project: the non-secret part of an identity.
/// Empty organisation or project means none (async-openai's convention).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Endpoint {
    pub(crate) base_url: String,
    pub(crate) organization: String,
    pub(crate) project: String,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            base_url: OPENAI_BASE_URL.to_string(),
            organization: String::new(),
            project: String::new(),
        }
    }
}

impl Endpoint {
    /// Checks and normalises the three parts as a config gives them.
    pub(crate) fn new(
        base_url: &str,
        organization: Option<&str>,
        project: Option<&str>,
    ) -> Result<Endpoint, Error> {
        Ok(Endpoint {
            base_url: normalize_base_url(base_url)?,
            organization: header_field("organization", organization.unwrap_or_default())?,
            project: header_field("project", project.unwrap_or_default())?,
        })
    }
}

impl ClientIdentity {
    /// An identity for `api_key` on the OpenAI API ([`OPENAI_BASE_URL`]), with no
    /// organisation and no project.
    ///
    /// # Errors
    /// [`Error::InvalidApiKey`] if the key cannot be sent as an HTTP header value.
    pub fn new(api_key: impl Into<String>) -> Result<Self, Error> {
        Self::with_endpoint(api_key.into(), Endpoint::default())
    }

    pub(crate) fn with_endpoint(api_key: String, endpoint: Endpoint) -> Result<Self, Error> {
        // Wrapped first, so a rejected key is zeroised too.
        let api_key = Zeroizing::new(api_key);
        check_api_key(&api_key)?;
        Ok(ClientIdentity { api_key, endpoint })
    }

    /// The same identity on another base URL. A trailing `/` is removed (async-openai
    /// appends paths that start with `/`).
    ///
    /// # Errors
    /// [`Error::InvalidBaseUrl`] unless `base_url` is an absolute `http`/`https` URL
    /// with a host and no query or fragment.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, Error> {
        self.endpoint.base_url = normalize_base_url(base_url)?;
        Ok(self)
    }

    /// The same identity in an organisation (sent as the `OpenAI-Organization` header).
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if it cannot be sent as a header value.
    pub fn with_organization(mut self, organization: &str) -> Result<Self, Error> {
        self.endpoint.organization = header_field("organization", organization)?;
        Ok(self)
    }

    /// The same identity in a project (sent as the `OpenAI-Project` header).
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if it cannot be sent as a header value.
    pub fn with_project(mut self, project: &str) -> Result<Self, Error> {
        self.endpoint.project = header_field("project", project)?;
        Ok(self)
    }

    /// The base URL, without a trailing `/`, as given: with any credentials in
    /// it, which `Debug` hides.
    pub fn base_url(&self) -> &str {
        &self.endpoint.base_url
    }

    /// The organisation, if any.
    pub fn organization(&self) -> Option<&str> {
        non_empty(&self.endpoint.organization)
    }

    /// The project, if any.
    pub fn project(&self) -> Option<&str> {
        non_empty(&self.endpoint.project)
    }

    /// A short, non-reversible stand-in for the key, for logs.
    pub fn fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(&self.api_key)
    }

    pub(crate) fn api_key(&self) -> &str {
        &self.api_key
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("api_key", &self.fingerprint())
            .field("base_url", &redact_userinfo(&self.endpoint.base_url))
            .field("organization", &self.organization())
            .field("project", &self.project())
            .finish()
    }
}

/// A short stand-in for an API key in logs: 32 bits of a hash seeded randomly
/// once per process, so it is stable within a process (you can follow one
/// tenant through the logs) but cannot be matched against a key list offline.
///
/// Shown as `key#` and eight hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyFingerprint(u32);

impl KeyFingerprint {
    /// The fingerprint of `api_key` in this process.
    pub fn of(api_key: &str) -> KeyFingerprint {
        static SEED: OnceLock<foldhash::quality::RandomState> = OnceLock::new();
        let hash = SEED.get_or_init(Default::default).hash_one(api_key);
        KeyFingerprint((hash >> 32) as u32)
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key#{:08x}", self.0)
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The byte rule of `http::HeaderValue::from_str`, which async-openai uses
/// (and unwraps) when it builds each request's headers.
pub(crate) fn first_invalid_header_byte(value: &str) -> Option<usize> {
    value
        .bytes()
        .position(|b| !(b >= 32 && b != 127 || b == b'\t'))
}

fn check_api_key(api_key: &str) -> Result<(), Error> {
    match first_invalid_header_byte(api_key) {
        Some(position) => Err(Error::InvalidApiKey { position }),
        None => Ok(()),
    }
}

fn header_field(field: &'static str, value: &str) -> Result<String, Error> {
    match first_invalid_header_byte(value) {
        Some(position) => Err(Error::InvalidHeader { field, position }),
        None => Ok(value.to_string()),
    }
}

/// Checks `base_url` and drops trailing slashes. The URL is never echoed in the
/// error: it may carry credentials (`https://user:pass@host`).
pub(crate) fn normalize_base_url(base_url: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        reason: reason.to_string(),
    };
    let trimmed = base_url.trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|e| Error::InvalidBaseUrl {
        reason: format!("is not a valid URL: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must use http or https"));
    }
    if !url.has_host() {
        return Err(invalid("must name a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "must not have a query or fragment (request paths are appended to it)",
        ));
    }
    Ok(trimmed.to_string())
}

/// The four parts an identity is compared on. Owned identities and borrowed
/// look-ups hash and compare through this one type, so they agree.
pub(crate) struct IdentityParts<'a> {
    api_key: &'a str,
    base_url: &'a str,
    organization: &'a str,
    project: &'a str,
}

impl Hash for IdentityParts<'_> {
    /// Every part, as equality compares them: identities that share a key and
    /// differ elsewhere (a gateway forwarding its callers' projects) would
    /// otherwise all land on one hash, and each hit would walk all of them.
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `str`'s `Hash` ends each part with a marker, so moving bytes from one
        // part to the next changes the hash.
        self.api_key.hash(state);
        self.base_url.hash(state);
        self.organization.hash(state);
        self.project.hash(state);
    }
}

impl PartialEq for IdentityParts<'_> {
    fn eq(&self, other: &Self) -> bool {
        same_bytes(self.api_key, other.api_key)
            && same_bytes(self.base_url, other.base_url)
            && same_bytes(self.organization, other.organization)
            && same_bytes(self.project, other.project)
    }
}

impl Eq for IdentityParts<'_> {}

/// Equality with no early exit at the first differing byte, so the time taken
/// does not say how much of a key matched; eight bytes at a time. (On the
/// benchmark machine libc's `memcmp` also proved several times slower on these
/// short strings than this loop.)
fn same_bytes(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a.as_bytes().chunks_exact(8), b.as_bytes().chunks_exact(8));
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().expect("an 8-byte chunk"));
    let mut diff = 0;
    for (x, y) in (&mut a).zip(&mut b) {
        diff |= word(x) ^ word(y);
    }
    for (x, y) in a.remainder().iter().zip(b.remainder()) {
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// Lets the cache look up a client from a borrowed key and endpoint, without
/// building (and allocating) a [`ClientIdentity`] on every hit.
pub(crate) trait IdentityView {
    fn parts(&self) -> IdentityParts<'_>;
}

impl IdentityView for ClientIdentity {
    fn parts(&self) -> IdentityParts<'_> {
        IdentityParts {
            api_key: &self.api_key,
            base_url: &self.endpoint.base_url,
            organization: &self.endpoint.organization,
            project: &self.endpoint.project,
        }
    }
}

/// A key on a given endpoint, borrowed.
pub(crate) struct KeyOnEndpoint<'a> {
    pub(crate) api_key: &'a str,
    pub(crate) endpoint: &'a Endpoint,
}

impl IdentityView for KeyOnEndpoint<'_> {
    fn parts(&self) -> IdentityParts<'_> {
        IdentityParts {
            api_key: self.api_key,
            base_url: &self.endpoint.base_url,
            organization: &self.endpoint.organization,
            project: &self.endpoint.project,
        }
    }
}

impl<'a> Borrow<dyn IdentityView + 'a> for ClientIdentity {
    fn borrow(&self) -> &(dyn IdentityView + 'a) {
        self
    }
}

impl Hash for dyn IdentityView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn IdentityView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn IdentityView + '_ {}

impl Hash for ClientIdentity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for ClientIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for ClientIdentity {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rule_matches_http_crate_for_every_byte() {
        for b in 0..=255u8 {
            let bytes = [b'a', b];
            // Non-UTF-8 single bytes are checked through the byte API.
            let ours = bytes
                .iter()
                .position(|&b| !(b >= 32 && b != 127 || b == b'\t'));
            let theirs = reqwest::header::HeaderValue::from_bytes(&bytes).is_ok();
            assert_eq!(ours.is_none(), theirs, "byte {b:#04x}");
            if let Ok(s) = std::str::from_utf8(&bytes) {
                assert_eq!(first_invalid_header_byte(s), ours);
            }
        }
    }

    #[test]
    fn borrowed_lookup_hashes_like_the_owned_identity() {
        let state = foldhash::fast::RandomState::default();
        let endpoint = Endpoint::default();
        let owned = ClientIdentity::with_endpoint("sk-1".into(), endpoint.clone()).unwrap();
        let view = KeyOnEndpoint {
            api_key: "sk-1",
            endpoint: &endpoint,
        };
        let borrowed: &dyn IdentityView = &view;
        let owned_view: &dyn IdentityView = owned.borrow();
        assert_eq!(state.hash_one(&owned), state.hash_one(borrowed));
        assert!(owned_view == borrowed);
    }

    #[test]
    fn hash_covers_every_part() {
        let state = std::hash::RandomState::new();
        let base = ClientIdentity::new("sk-1").unwrap();
        let hash = |identity: &ClientIdentity| state.hash_one(identity);
        let variants = [
            base.clone()
                .with_base_url("https://other.example/v1")
                .unwrap(),
            base.clone().with_organization("org").unwrap(),
            base.clone().with_project("proj").unwrap(),
            // The same bytes split differently between two parts.
            base.clone().with_organization("ab").unwrap(),
            base.clone()
                .with_organization("a")
                .unwrap()
                .with_project("b")
                .unwrap(),
        ];
        for (i, a) in variants.iter().enumerate() {
            assert_ne!(hash(a), hash(&base), "{a:?}");
            for b in &variants[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn identity_compares_the_whole_key() {
        let key = "sk-0123456789abcdef0123456789abcdef0123456789abcdef0";
        let a = ClientIdentity::new(key).unwrap();
        assert_eq!(a, ClientIdentity::new(key).unwrap());
        // A difference in any byte, in the 8-byte words or the tail, is seen.
        for i in 0..key.len() {
            let mut other = key.as_bytes().to_vec();
            other[i] ^= 1;
            let other = ClientIdentity::new(String::from_utf8(other).unwrap()).unwrap();
            assert_ne!(a, other, "byte {i}");
        }
        assert_ne!(a, ClientIdentity::new(&key[..key.len() - 1]).unwrap());
        let elsewhere = a.clone().with_base_url("https://other.example/v1").unwrap();
        assert_ne!(a, elsewhere);
        assert_ne!(a, a.clone().with_project("p").unwrap());
    }

    #[test]
    fn base_url_is_checked_and_trimmed() {
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/v1//").unwrap(),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(normalize_base_url("https://h").unwrap(), "https://h");
        for bad in [
            "ftp://h/v1",
            "not a url",
            "https://h/v1?x=1",
            "https://h/v1#f",
            "",
        ] {
            let err = normalize_base_url(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidBaseUrl { .. }), "{bad}");
        }
        let secret_url = "https://user:hunter2@[::1/v1";
        assert!(
            !normalize_base_url(secret_url)
                .unwrap_err()
                .to_string()
                .contains("hunter2")
        );
    }

    #[test]
    fn bad_key_error_names_position_not_key() {
        let err = ClientIdentity::new("sk-secret\nvalue").unwrap_err();
        assert_eq!(err, Error::InvalidApiKey { position: 9 });
        assert!(!err.to_string().contains("sk-secret"));
    }
}
