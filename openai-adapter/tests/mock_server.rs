//! Acceptance 1: the cache against a local OpenAI-compatible server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{base_url, bearer_keys, chat, chat_server, received_header};
use tenure::ManualClock;
use tenure_openai::{ClientIdentity, OpenAiClients, OpenAiConfig};

fn config_for(server: &wiremock::MockServer) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url(server),
        ..OpenAiConfig::default()
    }
}

#[tokio::test]
async fn each_request_carries_its_own_key() {
    let server = chat_server().await;
    let clients = OpenAiClients::new(&config_for(&server)).unwrap();
    chat(&clients.get("sk-tenant-a").unwrap()).await;
    chat(&clients.get("sk-tenant-b").unwrap()).await;
    chat(&clients.get("sk-tenant-a").unwrap()).await;
    assert_eq!(
        bearer_keys(&server).await,
        [
            "Bearer sk-tenant-a",
            "Bearer sk-tenant-b",
            "Bearer sk-tenant-a"
        ]
    );
    assert_eq!(clients.stats().creations, 2);
}

#[tokio::test]
async fn the_same_key_twice_is_one_creation() {
    let server = chat_server().await;
    let clients = OpenAiClients::new(&config_for(&server)).unwrap();
    chat(&clients.get("sk-1").unwrap()).await;
    chat(&clients.get("sk-1").unwrap()).await;
    let stats = clients.stats();
    assert_eq!((stats.creations, stats.hits, stats.misses), (1, 1, 1));
    assert_eq!(clients.len(), 1);
}

#[tokio::test]
async fn a_key_idle_past_its_ttl_gets_a_new_client() {
    let server = chat_server().await;
    let clock = ManualClock::new();
    let clients = OpenAiClients::builder(config_for(&server))
        .clock(clock.clone())
        .build()
        .unwrap();
    chat(&clients.get("sk-1").unwrap()).await;
    clock.advance(Duration::from_secs(3600) - Duration::from_nanos(1));
    chat(&clients.get("sk-1").unwrap()).await; // a hit: the deadline slides
    assert_eq!(clients.stats().creations, 1);
    clock.advance(Duration::from_secs(3600));
    chat(&clients.get("sk-1").unwrap()).await;
    let stats = clients.stats();
    assert_eq!(stats.creations, 2);
    assert_eq!(stats.removals.expired, 1);
    assert_eq!(bearer_keys(&server).await, ["Bearer sk-1"; 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_tasks_make_one_client() {
    let server = chat_server().await;
    let clients = OpenAiClients::new(&config_for(&server)).unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let clients = clients.clone();
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                let client = clients.get("sk-new").unwrap();
                chat(&client).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(clients.stats().creations, 1);
    assert_eq!(bearer_keys(&server).await, vec!["Bearer sk-new"; 64]);
}

#[test]
fn sixty_four_threads_racing_make_one_client() {
    let clients = OpenAiClients::new(&OpenAiConfig::default()).unwrap();
    let start = std::sync::Barrier::new(64);
    std::thread::scope(|s| {
        for _ in 0..64 {
            s.spawn(|| {
                start.wait();
                clients.get("sk-race").unwrap()
            });
        }
    });
    assert_eq!(clients.stats().creations, 1);
}

#[tokio::test]
async fn another_base_url_or_organisation_is_another_client() {
    let first = chat_server().await;
    let second = chat_server().await;
    let clients = OpenAiClients::new(&config_for(&first)).unwrap();

    let by_key = clients.get("sk-1").unwrap();
    let same = ClientIdentity::new("sk-1")
        .unwrap()
        .with_base_url(&base_url(&first))
        .unwrap();
    let elsewhere = same
        .clone()
        .with_base_url(&format!("{}/", base_url(&second)))
        .unwrap();
    let in_org = same.clone().with_organization("org-b").unwrap();
    let in_project = same.clone().with_project("proj-c").unwrap();

    chat(&by_key).await;
    chat(&clients.get_with_identity(&same)).await; // the same identity: a hit
    chat(&clients.get_with_identity(&elsewhere)).await;
    chat(&clients.get_with_identity(&in_org)).await;
    chat(&clients.get_with_identity(&in_project)).await;

    assert_eq!(clients.stats().creations, 4);
    assert_eq!(bearer_keys(&first).await, ["Bearer sk-1"; 4]);
    assert_eq!(bearer_keys(&second).await, ["Bearer sk-1"]);
    let org = |v: &str| Some(v.to_string());
    assert_eq!(
        received_header(&first, "openai-organization").await,
        [None, None, org("org-b"), None]
    );
    assert_eq!(
        received_header(&first, "openai-project").await,
        [None, None, None, org("proj-c")]
    );
}

#[tokio::test]
async fn a_removed_key_gets_a_fresh_client() {
    let server = chat_server().await;
    let clients = OpenAiClients::new(&config_for(&server)).unwrap();
    let identity = ClientIdentity::new("sk-1")
        .unwrap()
        .with_base_url("https://other.example/v1")
        .unwrap();
    clients.get("sk-1").unwrap();
    clients.get_with_identity(&identity);
    clients.get("sk-2").unwrap();
    assert_eq!(clients.remove_key("sk-1"), 2);
    assert_eq!(clients.len(), 1);
    chat(&clients.get("sk-1").unwrap()).await;
    assert_eq!(clients.stats().creations, 4);
}

#[test]
fn the_bound_evicts_least_recently_used() {
    let config: OpenAiConfig =
        toml::from_str("[cache]\npolicy = \"hybrid\"\ntime_to_idle = \"1h\"\nmax_capacity = 2")
            .unwrap();
    let clients = OpenAiClients::new(&config).unwrap();
    for key in ["sk-1", "sk-2", "sk-1", "sk-3"] {
        clients.get(key).unwrap();
    }
    assert_eq!(clients.len(), 2);
    assert_eq!(clients.stats().removals.capacity, 1);
    clients.get("sk-1").unwrap(); // still cached: sk-2 was the least recent
    assert_eq!(clients.stats().creations, 3);
}
