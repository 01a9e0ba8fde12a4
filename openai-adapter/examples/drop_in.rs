//! The drop-in replacement in use: a multi-tenant handler that used to keep a
//! client per API key forever now calls `get_or_create_openai_client`, unchanged
//! in shape. Runs offline against a local OpenAI-compatible mock it starts itself.
//!
//! ```text
//! cargo run -p tenure-openai --example drop_in
//! ```

use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
};
use serde_json::json;
use tenure_openai::{OpenAiConfig, configure, get_or_create_openai_client, process_clients};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The service's request handler. Only the client look-up line changed in the
/// migration: it was the Go map's `getOrCreateOpenAIClient(apiKey)`.
async fn answer(tenant_key: &str, question: &str) -> Result<String, Box<dyn std::error::Error>> {
    let client = get_or_create_openai_client(tenant_key);
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessage::from(question).into()])
        .build()?;
    let response = client.chat().create(request).await?;
    Ok(response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = local_openai().await;

    // At start-up, once: point the process-wide cache at the mock. In production
    // this comes from the service's config file, or is skipped for the defaults.
    let mut config: OpenAiConfig = toml::from_str(
        r#"
        request_timeout = "30s"
        [cache]
        policy = "hybrid"
        max_capacity = 10000
        time_to_idle = "1h"
        time_to_live = "24h"
        sweep_interval = "5m"
        "#,
    )?;
    config.base_url = format!("{}/v1", server.uri());
    configure(&config)?;

    for (tenant_key, question) in [
        ("sk-tenant-a", "hello"),
        ("sk-tenant-b", "bonjour"),
        ("sk-tenant-a", "again"),
    ] {
        println!("{question:>8} -> {}", answer(tenant_key, question).await?);
    }

    let requests = server.received_requests().await.unwrap_or_default();
    for request in &requests {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        println!("mock saw Authorization: {}", auth.unwrap_or("-"));
    }
    let stats = process_clients()?.stats();
    println!(
        "clients created: {}, cache hits: {}, live: {}",
        stats.creations, stats.hits, stats.len
    );
    assert_eq!(stats.creations, 2);
    Ok(())
}

/// A stand-in for the OpenAI API on 127.0.0.1.
async fn local_openai() -> MockServer {
    let server = MockServer::start().await;
    let completion = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000u32,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "hi from the mock"}}]
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion))
        .mount(&server)
        .await;
    server
}
