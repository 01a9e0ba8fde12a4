//! Base URLs as they may be shown: without the credentials they can carry.

use std::borrow::Cow;

/// `url` with its userinfo (`user:password@`, `user@`) shown as `***@`:
/// `https://user:secret@host/v1` becomes `https://***@host/v1`.
///
/// Every `Debug`, log line and removal event that shows a base URL goes
/// through here. It works on any string, valid URL or not (a config's
/// `base_url` is shown before it is checked), and errs towards hiding too
/// much: everything from the start of the authority (after `scheme://`, or
/// from the start of the string if there is no plain scheme before a `://`)
/// to the **last** `@` is hidden, so a password with a raw `@`, `/`, `?` or
/// `#` in it is hidden whole, as are percent-escapes. The price is that a
/// URL with an `@` only in its path shows less than it could.
pub(crate) fn redact_userinfo(url: &str) -> Cow<'_, str> {
    let Some(at) = url.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let authority = match url.find("://") {
        Some(end) if end < at && is_scheme(&url[..end]) => end + "://".len(),
        _ => 0,
    };
    Cow::Owned(format!("{}***{}", &url[..authority], &url[at..]))
}

/// RFC 3986's `scheme` rule: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden_and_the_rest_kept() {
        for (url, shown) in [
            ("https://user:secret@host/v1", "https://***@host/v1"),
            ("https://user@host/v1", "https://***@host/v1"),
            ("https://:secret@host:8443/v1", "https://***@host:8443/v1"),
            (
                "http://us%40er:p%3As%2Fs@127.0.0.1:80/v1",
                "http://***@127.0.0.1:80/v1",
            ),
            // A raw `@` or `/` in the password: hidden to the last `@`.
            ("https://user:p@ss/w@host/v1", "https://***@host/v1"),
            // Not URLs a client accepts, but a config may hold them.
            ("user:secret@host", "***@host"),
            ("https:user:secret@host", "***@host"),
            ("  https://user:secret@host", "***@host"),
            ("u:p://x@host", "***@host"),
            ("https://user:secret@[::1/v1", "https://***@[::1/v1"),
        ] {
            assert_eq!(redact_userinfo(url), shown, "{url}");
        }
    }

    #[test]
    fn a_url_without_userinfo_is_borrowed_unchanged() {
        for url in [
            "https://api.openai.com/v1",
            "http://127.0.0.1:8080",
            "",
            "not a url",
        ] {
            assert!(matches!(redact_userinfo(url), Cow::Borrowed(u) if u == url));
        }
    }
}
