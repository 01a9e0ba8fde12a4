//! Acceptance 4, environment half: `OPENAI_*` variables never reach a client the
//! adapter makes. The variables are set only in a child process (this same test
//! binary, re-run), so no other test sees them and no `unsafe` `set_var` is needed.

mod common;

use std::process::Command;

use async_openai::config::{Config, OpenAIConfig};
use common::{base_url, bearer_keys, chat, chat_server, received_header};
use tenure_openai::{ClientIdentity, OPENAI_BASE_URL, OpenAiClients, OpenAiConfig};

const CHILD_MARKER: &str = "TENURE_OPENAI_ENV_CHILD";
const TEST_NAME: &str = "openai_env_variables_are_never_inherited";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_env_variables_are_never_inherited() {
    if std::env::var_os(CHILD_MARKER).is_some() {
        return child_checks().await;
    }
    // The server the environment points at: it must receive nothing.
    let env_target = chat_server().await;
    let env_url = base_url(&env_target);
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_MARKER, "1")
            .env("OPENAI_BASE_URL", &env_url)
            .env("OPENAI_ORG_ID", "org-from-env")
            .env("OPENAI_PROJECT_ID", "proj-from-env")
            .env("OPENAI_API_KEY", "sk-from-env")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the checks:\n{stdout}"
    );
    assert_eq!(bearer_keys(&env_target).await, Vec::<String>::new());
}

async fn child_checks() {
    // The variables are really set: async-openai's own config picks them up.
    let from_env = OpenAIConfig::new();
    assert_eq!(
        from_env.api_base(),
        std::env::var("OPENAI_BASE_URL").unwrap()
    );
    assert_eq!(from_env.org_id(), "org-from-env");

    // A cache configured with an explicit base URL sends there, with the given
    // key and no organisation or project header.
    let server = chat_server().await;
    let config = OpenAiConfig {
        base_url: base_url(&server),
        ..OpenAiConfig::default()
    };
    let clients = OpenAiClients::new(&config).unwrap();
    let client = clients.get("sk-explicit").unwrap();
    assert_eq!(client.config().api_base(), base_url(&server));
    assert_eq!(client.config().org_id(), "");
    chat(&client).await;

    // An explicit identity keeps its own organisation.
    let identity = ClientIdentity::new("sk-explicit")
        .unwrap()
        .with_base_url(&base_url(&server))
        .unwrap()
        .with_organization("org-explicit")
        .unwrap();
    chat(&clients.get_with_identity(&identity)).await;

    assert_eq!(bearer_keys(&server).await, ["Bearer sk-explicit"; 2]);
    assert_eq!(
        received_header(&server, "openai-organization").await,
        [None, Some("org-explicit".to_string())]
    );
    assert_eq!(
        received_header(&server, "openai-project").await,
        [None, None]
    );

    // The default config means the OpenAI API, not `OPENAI_BASE_URL`.
    let defaults = OpenAiClients::new(&OpenAiConfig::default()).unwrap();
    let client = defaults.get("sk-explicit").unwrap();
    assert_eq!(client.config().api_base(), OPENAI_BASE_URL);
    assert_eq!(client.config().org_id(), "");
    // So does the process-wide drop-in.
    let client = tenure_openai::get_or_create_openai_client("sk-explicit");
    assert_eq!(client.config().api_base(), OPENAI_BASE_URL);
    assert_eq!(client.config().org_id(), "");
}
