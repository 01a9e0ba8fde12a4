//! Acceptance 4, secrets half: the key, and the credentials a base URL may
//! carry, are absent from every formatted output, error, stat, removal payload
//! and trace line.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{base_url, chat, chat_server};
use tenure::ManualClock;
use tenure_openai::{ClientIdentity, KeyFingerprint, OpenAiClients, OpenAiConfig};
use tracing_subscriber::fmt::MakeWriter;

const KEY: &str = "sk-proj-VERYSECRET0123456789abcdefghij";
/// Userinfo of the config's base URL, percent-escapes included.
const URL_USER: &str = "gateway%40tenant";
const URL_PASSWORD: &str = "PASS%2Fw0rd%3Ahunter2";
/// Userinfo (a user alone) of an identity's base URL.
const IDENTITY_URL_USER: &str = "LONE-USER-token";

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn assert_no_key(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} contains the key: {text}");
    // Nor a long piece of it.
    assert!(
        !text.contains(&KEY[8..24]),
        "{what} contains part of the key: {text}"
    );
}

fn assert_no_url_credentials(what: &str, text: &str) {
    for secret in [URL_USER, URL_PASSWORD, IDENTITY_URL_USER, "hunter2"] {
        assert!(
            !text.contains(secret),
            "{what} contains the base URL's credentials ({secret}): {text}"
        );
    }
}

/// `base_url` with `userinfo@` put after its scheme.
fn with_userinfo(base_url: &str, userinfo: &str) -> String {
    base_url.replacen("://", &format!("://{userinfo}@"), 1)
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_ever_leaves_in_text() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = chat_server().await;
    let removals = Arc::new(Mutex::new(Vec::new()));
    let clock = ManualClock::new();
    let config = OpenAiConfig {
        base_url: with_userinfo(&base_url(&server), &format!("{URL_USER}:{URL_PASSWORD}")),
        ..OpenAiConfig::default()
    };
    let builder = OpenAiClients::builder(config.clone())
        .clock(clock.clone())
        .eviction_listener({
            let removals = Arc::clone(&removals);
            move |removal| removals.lock().unwrap().push(removal.clone())
        });
    let builder_debug = format!("{builder:?}");
    let clients = builder.build().unwrap();
    let client = clients.get(KEY).unwrap();
    chat(&client).await;
    let identity = ClientIdentity::new(KEY)
        .unwrap()
        .with_base_url(&with_userinfo(&base_url(&server), IDENTITY_URL_USER))
        .unwrap()
        .with_organization("org-1")
        .unwrap();
    clients.get_with_identity(&identity);

    // Let both expire and be reclaimed, so the removal path logs too.
    clock.advance(Duration::from_secs(3601));
    clients.run_maintenance();
    let removals = removals.lock().unwrap().clone();
    assert_eq!(removals.len(), 2);
    assert_eq!(removals[0].fingerprint, KeyFingerprint::of(KEY));

    let mut bad_key = KEY.to_string();
    bad_key.push('\n');
    // Invalid (unclosed IPv6 host, then a query) URLs with credentials in them.
    let bad_url = format!("https://{URL_USER}:{URL_PASSWORD}@[::1/v1");
    let bad_config = OpenAiConfig {
        base_url: format!("https://{URL_USER}:{URL_PASSWORD}@host/v1?x"),
        ..OpenAiConfig::default()
    };
    let errors = [
        clients.get(&bad_key).unwrap_err(),
        ClientIdentity::new(bad_key.clone()).unwrap_err(),
        tenure_openai::try_get_or_create_openai_client(&bad_key).unwrap_err(),
        identity.clone().with_base_url(&bad_url).unwrap_err(),
        OpenAiClients::new(&bad_config).unwrap_err(),
        bad_config.validate().unwrap_err(),
    ];

    let outputs = [
        ("identity Debug", format!("{identity:?}")),
        ("fingerprint Display", format!("{}", identity.fingerprint())),
        ("cache Debug", format!("{clients:?}")),
        ("builder Debug", builder_debug),
        ("config Debug", format!("{config:?}")),
        ("invalid config Debug", format!("{bad_config:?}")),
        ("stats Debug", format!("{:?}", clients.stats())),
        (
            "stats JSON",
            serde_json::to_string(&clients.stats()).unwrap(),
        ),
        ("removal payloads", format!("{removals:?}")),
        ("errors Debug", format!("{errors:?}")),
        (
            "errors Display",
            errors.iter().map(|e| format!("{e}")).collect(),
        ),
    ];
    for (what, text) in &outputs {
        assert_no_key(what, text);
        assert_no_url_credentials(what, text);
    }
    assert!(outputs[0].1.contains(&identity.fingerprint().to_string()));
    // Shown redacted, not dropped: host and path stay readable.
    let redacted = with_userinfo(&base_url(&server), "***");
    let shown = |what: &str| &outputs.iter().find(|(w, _)| *w == what).unwrap().1;
    for what in [
        "identity Debug",
        "cache Debug",
        "builder Debug",
        "config Debug",
        "removal payloads",
    ] {
        assert!(shown(what).contains(&redacted), "{what}: {}", shown(what));
    }
    let invalid = shown("invalid config Debug");
    assert!(invalid.contains("https://***@host/v1?x"), "{invalid}");
    assert_eq!(removals[0].base_url, redacted);
    // async-openai's own `Debug` of a client prints its base URL as given (the
    // key it hides): the adapter cannot change that, so only the key is checked.
    assert_no_key("async-openai client Debug", &format!("{client:?}"));

    let trace = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(trace.contains("creating OpenAI client"), "{trace}");
    assert!(trace.contains("left the cache"), "{trace}");
    assert!(
        trace.contains(&KeyFingerprint::of(KEY).to_string()),
        "{trace}"
    );
    assert!(trace.contains(&redacted), "{trace}");
    assert_no_key("tracing output", &trace);
    assert_no_url_credentials("tracing output", &trace);
}
