//! A local OpenAI-compatible server for the tests, and a chat request to send it.
#![allow(dead_code)] // each test binary uses part of this

use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use serde_json::json;
use tenure_openai::OpenAiClient;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A mock answering every `POST /v1/chat/completions` with one completion.
pub(crate) async fn chat_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion()))
        .mount(&server)
        .await;
    server
}

/// The server's OpenAI-style base URL.
pub(crate) fn base_url(server: &MockServer) -> String {
    format!("{}/v1", server.uri())
}

pub(crate) fn completion() -> serde_json::Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000u32,
        "model": "gpt-4o-mini",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "hello"},
            "finish_reason": "stop"
        }]
    })
}

pub(crate) fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessage::from("hi").into()])
        .build()
        .expect("a valid request")
}

/// Sends one chat completion and checks the answer.
pub(crate) async fn chat(client: &OpenAiClient) {
    let response = client
        .chat()
        .create(request())
        .await
        .expect("the mock answers");
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("hello")
    );
}

/// The value of `header` on every request the server received, in order.
pub(crate) async fn received_header(server: &MockServer, header: &str) -> Vec<Option<String>> {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .iter()
        .map(|r| {
            r.headers
                .get(header)
                .map(|v| v.to_str().expect("ascii header").to_string())
        })
        .collect()
}

/// The `Authorization` header of every request received, in order.
pub(crate) async fn bearer_keys(server: &MockServer) -> Vec<String> {
    received_header(server, "authorization")
        .await
        .into_iter()
        .map(|v| v.expect("every request is authorised"))
        .collect()
}
