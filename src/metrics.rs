//! Prometheus metrics (via `prometheus-client`), served at `/metrics` in
//! the OpenMetrics text format. One `Metrics` is made at start-up and
//! shared (every metric is a cheap, thread-safe handle).

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The matched route pattern (e.g. `/rooms/{name}`), never the raw path,
    /// so the number of series stays bounded.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub ws_connections: Gauge<i64, AtomicI64>,
    pub rooms: Gauge<i64, AtomicI64>,
    pub active_rooms: Gauge<i64, AtomicI64>,
    pub messages_stored: Counter,
    pub messages_delivered: Counter,
    pub slow_consumers_dropped: Counter,
    pub fanout_seconds: Histogram,
    pub db_batch_seconds: Histogram,
    pub db_batch_size: Histogram,
    pub http_requests: Family<HttpLabels, Counter>,
    pub upload_bytes: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Arc::new(Registry::default()),
            ws_connections: Gauge::default(),
            rooms: Gauge::default(),
            active_rooms: Gauge::default(),
            messages_stored: Counter::default(),
            messages_delivered: Counter::default(),
            slow_consumers_dropped: Counter::default(),
            // 10 µs .. ~5 s
            fanout_seconds: Histogram::new(exponential_buckets(0.000_01, 2.5, 15)),
            // 100 µs .. ~16 s
            db_batch_seconds: Histogram::new(exponential_buckets(0.000_1, 2.5, 14)),
            db_batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            http_requests: Family::default(),
            upload_bytes: Counter::default(),
        };
        let mut r = Registry::with_prefix("palaver");
        r.register(
            "websocket_connections",
            "Open WebSocket connections",
            m.ws_connections.clone(),
        );
        r.register("rooms", "Rooms that exist", m.rooms.clone());
        r.register(
            "active_rooms",
            "Rooms with at least one connected member",
            m.active_rooms.clone(),
        );
        r.register(
            "messages_stored",
            "Messages stored by the writer",
            m.messages_stored.clone(),
        );
        r.register(
            "messages_delivered",
            "Room events handed to WebSocket sessions",
            m.messages_delivered.clone(),
        );
        r.register(
            "slow_consumers_dropped",
            "Sessions disconnected because their outbound queue overflowed",
            m.slow_consumers_dropped.clone(),
        );
        r.register(
            "fanout_seconds",
            "Time from commit to every member's queue, per batch",
            m.fanout_seconds.clone(),
        );
        r.register(
            "db_batch_commit_seconds",
            "Time to store and commit one writer batch",
            m.db_batch_seconds.clone(),
        );
        r.register(
            "db_batch_size",
            "Events per writer batch",
            m.db_batch_size.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests by route, method and status",
            m.http_requests.clone(),
        );
        r.register(
            "upload_bytes",
            "Bytes of accepted uploads",
            m.upload_bytes.clone(),
        );
        m.registry = Arc::new(r);
        m
    }

    /// The whole registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_every_metric() {
        let m = Metrics::new();
        m.messages_stored.inc();
        m.http_requests
            .get_or_create(&HttpLabels {
                route: "/rooms/{name}".into(),
                method: "GET".into(),
                status: 200,
            })
            .inc();
        let text = m.encode().unwrap();
        assert!(text.contains("palaver_messages_stored_total 1"), "{text}");
        assert!(
            text.contains(
                r#"palaver_http_requests_total{route="/rooms/{name}",method="GET",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("palaver_db_batch_commit_seconds_bucket"));
        assert!(text.ends_with("# EOF\n"));
    }
}
