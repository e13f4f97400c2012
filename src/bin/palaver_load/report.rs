//! The run's result: every connection's report added up into one [`Report`],
//! printed for people or as one JSON object, with hints when the server's
//! limits (rather than its speed) decided the figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::cli::Args;
use super::connection::ConnReport;
use super::machine::CpuWindow;
use super::stats::Percentiles;

/// Below this share of expected deliveries the report says some went missing.
const COMPLETE_RATIO: f64 = 0.999;
/// A load average above this per CPU (the run itself counts ~1-2) means
/// something else was competing for the machine.
const BUSY_LOAD_PER_CPU: f64 = 1.5;
/// Failure and loss reasons are grouped by text; long texts are cut to this.
const REASON_CHARS: usize = 120;

#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub mode: &'static str,
    pub url: String,
    pub started_at_unix: u64,
    pub nproc: usize,
    pub settings: Settings,
    pub connections: Connections,
    /// Deliveries received inside the measured window, per second.
    pub delivered_per_sec: f64,
    pub delivered: u64,
    pub sent_per_sec: f64,
    pub sent: u64,
    pub acks_per_sec: f64,
    pub acked: u64,
    /// End to end (send → receipt), messages sent in the window.
    pub latency_ms: Percentiles,
    /// Send → ack at the sender (raw mode: → its own copy).
    pub ack_latency_ms: Percentiles,
    pub delivery: Delivery,
    pub errors: BTreeMap<String, u64>,
    pub send_skipped: u64,
    /// Times a sender stopped waiting for answers that never came.
    pub ack_timeouts: u64,
    /// CPU used and load average during the window.
    pub cpu: CpuWindow,
    /// Deliveries in the window per CPU-second the server used (--server-pid).
    pub delivered_per_server_cpu_sec: Option<f64>,
    pub hints: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub clients: u32,
    pub users: u32,
    pub rooms: u32,
    pub senders: u32,
    /// Total messages per second asked for; null: as fast as acks allow.
    pub rate: Option<f64>,
    pub window: u32,
    pub warmup_secs: u64,
    pub duration_secs: u64,
    pub drain_secs: u64,
    pub body_bytes: usize,
}

#[derive(Debug, Serialize)]
pub struct Connections {
    /// Connected and joined before the start.
    pub participated: u64,
    pub failed: u64,
    /// Lost during the measured phase.
    pub lost: u64,
    pub connect_ms: Percentiles,
    pub failures: BTreeMap<String, u64>,
    pub lost_reasons: BTreeMap<String, u64>,
}

/// Deliveries of the messages sent in the window, against what the room
/// sizes promise: every accepted message reaches every member once.
#[derive(Debug, Serialize)]
pub struct Delivery {
    pub expected: u64,
    pub delivered: u64,
    pub ratio: f64,
    pub out_of_order: u64,
}

/// What the connections' reports and the shared histograms add up to.
pub struct Inputs<'a> {
    pub args: &'a Args,
    pub started_at_unix: u64,
    pub reports: Vec<ConnReport>,
    /// Tasks that had not ended by the deadline (aborted).
    pub unfinished: u64,
    pub latency: &'a Histogram<u64>,
    pub ack_latency: &'a Histogram<u64>,
    pub connect: &'a Histogram<u64>,
    pub cpu: CpuWindow,
}

impl Report {
    pub fn build(inputs: Inputs) -> Report {
        let args = inputs.args;
        let secs = args.duration as f64;
        let mut members: BTreeMap<usize, u64> = BTreeMap::new();
        let mut accepted: BTreeMap<usize, u64> = BTreeMap::new();
        let mut failures = BTreeMap::new();
        let mut lost_reasons = BTreeMap::new();
        let mut errors = BTreeMap::new();
        let (mut delivered, mut of_window, mut out_of_order) = (0, 0, 0);
        let (mut sent, mut acked, mut skipped, mut ack_timeouts) = (0, 0, 0, 0);
        for r in &inputs.reports {
            if let Some(failure) = &r.failure {
                *failures.entry(cut(failure)).or_insert(0) += 1;
            }
            if let Some(lost) = &r.lost {
                *lost_reasons.entry(cut(lost)).or_insert(0) += 1;
            }
            if r.participated {
                *members.entry(r.room).or_insert(0) += 1;
            }
            let t = &r.tally;
            *accepted.entry(r.room).or_insert(0) +=
                t.sent_in_window.saturating_sub(t.rejected_in_window);
            delivered += t.delivered_in_window;
            of_window += t.delivered_of_window;
            out_of_order += t.out_of_order;
            sent += t.sent_in_window;
            acked += t.acked_in_window;
            skipped += t.skipped;
            ack_timeouts += t.ack_timeouts;
            for (code, n) in &t.errors {
                *errors.entry(code.clone()).or_insert(0) += n;
            }
        }
        if inputs.unfinished > 0 {
            failures.insert("did not finish in time".into(), inputs.unfinished);
        }
        let expected: u64 = accepted
            .iter()
            .map(|(room, n)| n * members.get(room).copied().unwrap_or(0))
            .sum();
        let delivery = Delivery {
            expected,
            delivered: of_window,
            ratio: if expected == 0 {
                0.0
            } else {
                of_window as f64 / expected as f64
            },
            out_of_order,
        };
        let connections = Connections {
            participated: members.values().sum(),
            failed: failures.values().sum(),
            lost: lost_reasons.values().sum(),
            connect_ms: Percentiles::of(inputs.connect),
            failures,
            lost_reasons,
        };
        let mut report = Report {
            tool: "palaver-load",
            mode: if args.raw { "raw" } else { "palaver" },
            url: args.url.clone(),
            started_at_unix: inputs.started_at_unix,
            nproc: std::thread::available_parallelism().map_or(1, usize::from),
            settings: Settings {
                clients: args.clients,
                users: if args.raw { 0 } else { args.users() },
                rooms: args.rooms,
                senders: args.senders,
                rate: args.rate,
                window: args.window,
                warmup_secs: args.warmup,
                duration_secs: args.duration,
                drain_secs: args.drain,
                body_bytes: args.body_bytes,
            },
            connections,
            delivered_per_sec: delivered as f64 / secs,
            delivered,
            sent_per_sec: sent as f64 / secs,
            sent,
            acks_per_sec: acked as f64 / secs,
            acked,
            latency_ms: Percentiles::of(inputs.latency),
            ack_latency_ms: Percentiles::of(inputs.ack_latency),
            delivery,
            errors,
            send_skipped: skipped,
            ack_timeouts,
            cpu: inputs.cpu,
            delivered_per_server_cpu_sec: inputs
                .cpu
                .server_secs
                .filter(|&s| s > 0.0)
                .map(|s| (delivered as f64 / s).round()),
            hints: Vec::new(),
        };
        report.hints = hints(&report);
        report
    }

    /// The summary for people.
    pub fn human(&self) -> String {
        let s = &self.settings;
        let c = &self.connections;
        let d = &self.delivery;
        let pace = match s.rate {
            Some(rate) => format!("{} msg/s in total", thousands(rate)),
            None => format!("as fast as acks allow (window {})", s.window),
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "palaver-load ({} mode) {}: {} clients in {} room(s), {} senders {pace}; \
             {} s warm-up, {} s measured, {} CPUs",
            self.mode,
            self.url,
            s.clients,
            s.rooms,
            s.senders,
            s.warmup_secs,
            s.duration_secs,
            self.nproc
        );
        let _ = writeln!(
            out,
            "  connections  {} took part, {} failed, {} lost; connect {}",
            c.participated,
            c.failed,
            c.lost,
            latency_line(&c.connect_ms)
        );
        let _ = writeln!(
            out,
            "  delivered    {} msg/s ({} in {} s); {:.3}% of expected ({} of {}), {} out of order",
            thousands(self.delivered_per_sec),
            thousands(self.delivered as f64),
            s.duration_secs,
            d.ratio * 100.0,
            thousands(d.delivered as f64),
            thousands(d.expected as f64),
            d.out_of_order
        );
        let _ = writeln!(out, "  latency      {}", latency_line(&self.latency_ms));
        let _ = writeln!(
            out,
            "  sent         {} msg/s, acks {} /s; ack {}",
            thousands(self.sent_per_sec),
            thousands(self.acks_per_sec),
            latency_line(&self.ack_latency_ms)
        );
        let errors = if self.errors.is_empty() && self.send_skipped == 0 && self.ack_timeouts == 0 {
            "none".to_string()
        } else {
            let mut parts: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            if self.send_skipped > 0 {
                parts.push(format!("skipped sends {}", self.send_skipped));
            }
            if self.ack_timeouts > 0 {
                parts.push(format!("ack timeouts {}", self.ack_timeouts));
            }
            parts.join(", ")
        };
        let _ = writeln!(out, "  errors       {errors}");
        let _ = writeln!(out, "  machine      {}", self.machine_line());
        for (reason, n) in c.failures.iter().chain(&c.lost_reasons) {
            let _ = writeln!(out, "  connection   {n} x {reason}");
        }
        for hint in &self.hints {
            let _ = writeln!(out, "  hint: {hint}");
        }
        out
    }
}

impl Report {
    fn machine_line(&self) -> String {
        let cpu = &self.cpu;
        let opt = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.1}"));
        let mut line = format!(
            "load average {} -> {}; CPU in the {} s window: tool {} s",
            opt(cpu.loadavg_start),
            opt(cpu.loadavg_end),
            self.settings.duration_secs,
            opt(cpu.tool_secs)
        );
        if let Some(server) = cpu.server_secs {
            let _ = write!(line, ", server {server:.1} s");
        }
        let _ = write!(
            line,
            " (of {} available)",
            self.settings.duration_secs as usize * self.nproc
        );
        if let Some(per_cpu) = self.delivered_per_server_cpu_sec {
            let _ = write!(
                line,
                "; {} deliveries per server CPU-second",
                thousands(per_cpu)
            );
        }
        line
    }
}

fn hints(report: &Report) -> Vec<String> {
    let mut hints = Vec::new();
    let c = &report.connections;
    let reasons = || c.failures.keys().chain(c.lost_reasons.keys());
    if report.errors.contains_key("rate_limited") {
        hints.push(
            "rate_limited: the per-user send limit, not speed, stopped senders; start the \
             server with CHAT_SEND_RATE=100000 CHAT_SEND_BURST=100000"
                .into(),
        );
    }
    if reasons().any(|r| r.contains("1008")) {
        hints.push(
            "1008 closes: a client fell CHAT_WS_QUEUE frames behind (raise it, or lower the \
             load), or a connection cap was hit (CHAT_MAX_CONNECTIONS_PER_IP, \
             CHAT_MAX_SOCKETS_PER_USER or --users)"
                .into(),
        );
    }
    if reasons().any(|r| r.contains("HTTP 401")) {
        hints
            .push("401 on upgrade: the tokens are not valid here; delete the --tokens-file".into());
    }
    if reasons().any(|r| r.contains("os error 24") || r.contains("Too many open files")) {
        hints.push(
            "too many open files: raise `ulimit -n` (for the server too), or use fewer --clients"
                .into(),
        );
    }
    if report.delivery.expected > 0 && report.delivery.ratio < COMPLETE_RATIO {
        hints.push(format!(
            "{:.3}% of expected deliveries arrived within the {} s drain: lost, late, or \
             receivers that left",
            report.delivery.ratio * 100.0,
            report.settings.drain_secs
        ));
    }
    let load = [report.cpu.loadavg_start, report.cpu.loadavg_end]
        .into_iter()
        .flatten()
        .fold(f64::NAN, f64::max);
    if load > report.nproc as f64 * BUSY_LOAD_PER_CPU {
        hints.push(format!(
            "the machine was busy (load average {load:.1} on {} CPUs, this run included): \
             compare only with peers measured in the same session",
            report.nproc
        ));
    }
    if report.send_skipped > 0 {
        hints.push(
            "skipped sends: the server did not answer as fast as --rate asked \
             (more than --max-inflight waiting per sender)"
                .into(),
        );
    }
    hints
}

fn latency_line(p: &Percentiles) -> String {
    if p.count == 0 {
        return "n/a".into();
    }
    format!(
        "p50 {} p90 {} p99 {} p99.9 {} max {} ms",
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p999),
        ms(p.max)
    )
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

/// 1234567.8 → "1,234,568".
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn cut(reason: &str) -> String {
    reason.chars().take(REASON_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
    }
}
