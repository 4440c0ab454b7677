//! What the LLM answerer adds around the model call: retrieval, the prompt, HTTP over
//! loopback and parsing, against an in-process stub that answers at once (the model's own
//! time is not Baton's). Beside it, the knowledge-base answerer's whole turn on the same
//! articles and question.
//!
//! Besides criterion's means, prints p50 and p99 per turn of each and their ratio, over
//! the same number of turns in the same run.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use baton_agent::llm::{DEFAULT_PASSAGES, LlmAnswerer, LlmConfig};
use baton_agent::{Article, KnowledgeBase};
use baton_core::decision::AgentAnswer;
use baton_core::ids::{ConversationId, MessageId};
use baton_engine::model::{Author, Message};
use criterion::{Criterion, criterion_group, criterion_main};

const QUESTION: &str = "How long does delivery to Europe take?";
const TURNS: usize = 2000;

/// A help centre of 40 articles with three sections each.
fn articles() -> Vec<Article> {
    let topics = [
        "shipping",
        "returns",
        "payment",
        "invoice",
        "account",
        "password",
        "warranty",
        "repair",
        "gift card",
        "discount",
    ];
    let mut out = Vec::new();
    for i in 0..40 {
        let topic = topics[i % topics.len()];
        out.push(Article::new(
            format!("{topic}-{i}.md"),
            format!(
                "# {topic} {i}\n\n## Delivery times\n\nDelivery in Europe takes 3 to 5 days for \
                 {topic} orders; the rest of the world 7 to 10 days.\n\n## Costs\n\nThe {topic} \
                 service costs nothing over 50 euros. Payment by card or invoice.\n\n## Help\n\n\
                 Write to us about {topic} questions and we answer within a day.\n"
            ),
        ));
    }
    out
}

/// A conversation of 10 turns before the question.
fn transcript() -> Vec<Message> {
    (0..10)
        .map(|i| Message {
            id: MessageId(i),
            conversation_id: ConversationId(1),
            author: if i % 2 == 0 {
                Author::Visitor
            } else {
                Author::Agent
            },
            author_user_id: None,
            text: format!("Message number {i} of this conversation, about an order."),
            created_at: chrono::Utc::now(),
        })
        .collect()
}

/// A model that answers at once, with a body the size of a real completion.
async fn stub() -> String {
    let body = serde_json::json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "tool_calls": null,
            "content": "Delivery in Europe takes 3 to 5 days; the rest of the world 7 to 10."}}],
        "usage": {"prompt_tokens": 600, "completion_tokens": 20, "total_tokens": 620}
    })
    .to_string();
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |_: String| {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base_url = runtime.block_on(stub());
    let kb = Arc::new(KnowledgeBase::from_articles(articles()));
    let llm = LlmAnswerer::new(
        LlmConfig {
            base_url,
            model: "bench".into(),
            api_key: None,
            timeout: Duration::from_secs(10),
            passages: DEFAULT_PASSAGES,
        },
        kb.clone(),
    )
    .unwrap();
    let transcript = transcript();
    let answer = runtime.block_on(llm.answer(QUESTION, &transcript));
    assert!(
        matches!(answer, AgentAnswer::Answered { .. }),
        "the stub answers: {answer:?}"
    );
    assert!(
        matches!(kb.answer(QUESTION), AgentAnswer::Answered { .. }),
        "the knowledge base answers"
    );

    // Percentiles per turn, the two answerers interleaved so that both see the same
    // machine state.
    let mut llm_times = Vec::with_capacity(TURNS);
    let mut kb_times = Vec::with_capacity(TURNS);
    runtime.block_on(async {
        for _ in 0..TURNS {
            let start = Instant::now();
            std::hint::black_box(llm.answer(QUESTION, &transcript).await);
            llm_times.push(start.elapsed());
            let start = Instant::now();
            std::hint::black_box(kb.answer(QUESTION));
            kb_times.push(start.elapsed());
        }
    });
    llm_times.sort();
    kb_times.sort();
    let (l50, l99) = (percentile(&llm_times, 0.5), percentile(&llm_times, 0.99));
    let (k50, k99) = (percentile(&kb_times, 0.5), percentile(&kb_times, 0.99));
    println!(
        "llm turn (stub model answering at once, {TURNS} turns): p50 {l50:?}, p99 {l99:?}\n\
         kb turn (same question and articles):              p50 {k50:?}, p99 {k99:?}\n\
         ratio llm/kb: p50 {:.1}x, p99 {:.1}x",
        l50.as_secs_f64() / k50.as_secs_f64(),
        l99.as_secs_f64() / k99.as_secs_f64(),
    );

    let mut group = c.benchmark_group("turn");
    group.bench_function("llm answerer, stub model on loopback", |b| {
        b.iter(|| runtime.block_on(llm.answer(QUESTION, &transcript)));
    });
    group.bench_function("knowledge-base answerer", |b| {
        b.iter(|| kb.answer(QUESTION));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
