//! Acceptance 4, secrets half: the key is absent from every formatted output,
//! error, stat, removal payload and trace line.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{base_url, chat, chat_server};
use tenure::ManualClock;
use tenure_openai::{ClientIdentity, KeyFingerprint, OpenAiClients, OpenAiConfig};
use tracing_subscriber::fmt::MakeWriter;

const KEY: &str = "sk-proj-VERYSECRET0123456789abcdefghij";

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

#[tokio::test(flavor = "current_thread")]
async fn the_key_never_leaves_in_text() {
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
        base_url: base_url(&server),
        ..OpenAiConfig::default()
    };
    let builder = OpenAiClients::builder(config.clone())
        .clock(clock.clone())
        .on_removal({
            let removals = Arc::clone(&removals);
            move |removal| removals.lock().unwrap().push(removal.clone())
        });
    let builder_debug = format!("{builder:?}");
    let clients = builder.build().unwrap();
    let client = clients.get(KEY).unwrap();
    chat(&client).await;
    let identity = ClientIdentity::new(KEY)
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
    let errors = [
        clients.get(&bad_key).unwrap_err(),
        ClientIdentity::new(bad_key.clone()).unwrap_err(),
        tenure_openai::try_get_or_create_openai_client(&bad_key).unwrap_err(),
    ];

    let outputs = [
        ("identity Debug", format!("{identity:?}")),
        ("fingerprint Display", format!("{}", identity.fingerprint())),
        ("cache Debug", format!("{clients:?}")),
        ("builder Debug", builder_debug),
        ("config Debug", format!("{config:?}")),
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
        ("async-openai client Debug", format!("{client:?}")),
    ];
    for (what, text) in &outputs {
        assert_no_key(what, text);
    }
    assert!(outputs[0].1.contains(&identity.fingerprint().to_string()));

    let trace = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(trace.contains("creating OpenAI client"), "{trace}");
    assert!(trace.contains("left the cache"), "{trace}");
    assert!(
        trace.contains(&KeyFingerprint::of(KEY).to_string()),
        "{trace}"
    );
    assert_no_key("tracing output", &trace);
}
