//! The process-wide `get_or_create_openai_client`, configured once. One test:
//! the process-wide cache is global state, so the steps must run in order.

mod common;

use std::panic::catch_unwind;

use common::{base_url, bearer_keys, chat, chat_server};
use tenure_openai::{
    Error, OpenAiConfig, configure, get_or_create_openai_client, process_clients,
    try_get_or_create_openai_client,
};

#[tokio::test]
async fn configure_once_then_use_the_drop_in() {
    let server = chat_server().await;
    let bad: OpenAiConfig = toml::from_str("connect_timeout = \"0s\"").unwrap();
    assert_eq!(
        configure(&bad),
        Err(Error::ZeroTimeout {
            field: "connect_timeout"
        })
    );

    let config = OpenAiConfig {
        base_url: format!("{}/", base_url(&server)), // a trailing `/` is handled
        ..OpenAiConfig::default()
    };
    configure(&config).expect("first configure, before use");
    assert_eq!(configure(&config), Err(Error::AlreadyConfigured));

    chat(&get_or_create_openai_client("sk-tenant-a")).await;
    chat(&get_or_create_openai_client("sk-tenant-b")).await;
    chat(&get_or_create_openai_client("sk-tenant-a")).await;
    assert_eq!(
        bearer_keys(&server).await,
        [
            "Bearer sk-tenant-a",
            "Bearer sk-tenant-b",
            "Bearer sk-tenant-a"
        ]
    );
    let clients = process_clients().unwrap();
    assert_eq!(clients.stats().creations, 2);
    assert_eq!(configure(&config), Err(Error::AlreadyConfigured));

    // A key async-openai would panic on later is refused now, without echoing it.
    let err = try_get_or_create_openai_client("sk-secret\r\nX-Injected: 1").unwrap_err();
    assert_eq!(err, Error::InvalidApiKey { position: 9 });
    let quiet = std::panic::take_hook(); // the panic below is expected
    std::panic::set_hook(Box::new(|_| {}));
    let panic = catch_unwind(|| get_or_create_openai_client("sk-secret\n")).unwrap_err();
    std::panic::set_hook(quiet);
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.contains("not a valid HTTP header value"),
        "{message}"
    );
    assert!(!message.contains("sk-secret"), "{message}");
    assert_eq!(clients.stats().creations, 2);
}
