//! The WebSocket protocol's hot paths (`palaver::chat::protocol`): decoding
//! every kind of client frame, and encoding what the server sends most — a
//! live `message` frame (serialized once per message, whatever the room's
//! size) and a `history` page of 100 messages (sent on every join).
//!
//! `cargo bench --bench protocol`

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use palaver::chat::protocol::{decode, MessageObject, ServerFrame};

/// A `history` page as big as a join sends by default, twice over.
const HISTORY_PAGE: usize = 100;

/// One frame of each kind a client may send, as a browser sends it.
const CLIENT_FRAMES: [(&str, &str); 6] = [
    ("join", r#"{"type":"join","room":"general"}"#),
    ("leave", r#"{"type":"leave","room":"general"}"#),
    (
        "send",
        r#"{"type":"send","room":"general","body":"Hello everyone, the build is green again","client_id":"c-1732384800000-42"}"#,
    ),
    ("typing", r#"{"type":"typing","room":"general"}"#),
    (
        "history",
        r#"{"type":"history","room":"general","before":1200,"limit":50}"#,
    ),
    (
        "resume",
        r#"{"type":"resume","room":"general","after":1187}"#,
    ),
];

/// A typical chat line in `general`.
fn message(seq: i64) -> MessageObject {
    common::message("general", 40_000 + seq, seq)
}

fn decode_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol/decode");
    for (kind, text) in CLIENT_FRAMES {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(kind), text, |b, text| {
            b.iter(|| decode(black_box(text)))
        });
    }
    group.finish();
}

fn encode_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol/encode");
    let live = ServerFrame::Message(Box::new(message(1)));
    group.throughput(Throughput::Elements(1));
    group.bench_function("message", |b| b.iter(|| black_box(&live).to_text()));

    let history = ServerFrame::History {
        room: "general".into(),
        messages: (1..=HISTORY_PAGE as i64).map(message).collect(),
        events: Vec::new(),
        last_seq: Some(HISTORY_PAGE as i64),
        has_more: true,
    };
    group.throughput(Throughput::Elements(HISTORY_PAGE as u64));
    group.bench_function("history_100", |b| b.iter(|| black_box(&history).to_text()));
    group.finish();
}

/// Rendering a body to HTML happens once per stored message, on the
/// writer's commit path: plain text (the fast path), and a line with
/// markdown, a link and a mention (pulldown-cmark, linkify, ammonia).
fn render_bodies(c: &mut Criterion) {
    let mut group = c.benchmark_group("markdown/render");
    group.throughput(Throughput::Elements(1));
    let mentions = vec!["bob".to_string()];
    for (kind, body) in [
        ("plain", "Hello everyone, the build is green again"),
        (
            "markdown",
            "**@bob** the build is `green` again: https://ci.example.org/run/42",
        ),
    ] {
        group.bench_function(kind, |b| {
            b.iter(|| palaver::markdown::render(black_box(body), &mentions))
        });
    }
    group.finish();
}

/// Microsecond-scale functions: a short run is already precise.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = decode_frames, encode_frames, render_bodies
}
criterion_main!(benches);
