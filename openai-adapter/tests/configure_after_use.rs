//! `configure` after the process-wide cache was used is an error, not ignored.

use tenure_openai::{Error, OpenAiConfig, configure, get_or_create_openai_client};

#[test]
fn configure_after_first_use_is_refused() {
    let client = get_or_create_openai_client("sk-1");
    // The default config: the OpenAI API, whatever `OPENAI_BASE_URL` says.
    assert_eq!(
        async_openai::config::Config::api_base(client.config()),
        tenure_openai::OPENAI_BASE_URL
    );
    assert_eq!(
        configure(&OpenAiConfig::default()),
        Err(Error::AlreadyInUse)
    );
    // Still refused the second time, and the cache still works.
    assert_eq!(
        configure(&OpenAiConfig::default()),
        Err(Error::AlreadyInUse)
    );
    let stats = tenure_openai::process_clients().unwrap().stats();
    assert_eq!(stats.creations, 1);
}
