//! The parts of `palaver-load`: the command line, getting accounts and rooms,
//! one connection's life, the measured traffic, the protocol's frames, the
//! stamp that carries the send time, how busy the machine was, the statistics
//! and the final report.

pub mod accounts;
pub mod cli;
pub mod connection;
pub mod machine;
pub mod report;
pub mod stamp;
pub mod stats;
pub mod traffic;
pub mod wire;

use stats::{Counters, SharedHistogram};

/// Everything every connection shares, fixed before the first one starts.
pub struct Plan {
    /// Reference-peer mode: no protocol, every stamped frame is a delivery.
    pub raw: bool,
    pub ws_url: String,
    /// Random per run: only this run's messages are counted.
    pub run: u64,
    pub rooms: Vec<String>,
    pub senders: u32,
    /// Messages per second per sender; `None`: as fast as acks allow.
    pub rate_per_sender: Option<f64>,
    pub window: u32,
    pub max_inflight: u32,
    pub body_bytes: usize,
    /// End-to-end latency at the receivers, of messages sent in the window.
    pub latency: SharedHistogram,
    /// Send → ack latency at the senders, of messages sent in the window.
    pub ack_latency: SharedHistogram,
    pub counters: Counters,
}
