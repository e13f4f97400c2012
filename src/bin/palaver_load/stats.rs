//! What the connections measure and how it is added up: latency histograms
//! (HDR, microseconds), the live counters behind the progress line, and the
//! percentile summary that the report prints.
//!
//! Thousands of connections each owning an HDR histogram would cost hundreds of
//! megabytes, and one shared histogram would be a lock taken per delivery; so
//! each connection buffers samples and flushes them into one of a few shards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency recorded exactly (60 s in µs); longer ones are clamped.
const MAX_LATENCY_MICROS: u64 = 60_000_000;
/// Three significant digits: p99.9 stays meaningful to 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;
/// Few enough to keep memory small, enough that flushes rarely contend.
const SHARDS: usize = 16;
/// Samples a connection keeps before it flushes them into its shard.
const LOCAL_SAMPLES: usize = 512;

pub fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, SIGNIFICANT_DIGITS)
        .context("Failed to create a latency histogram")
}

/// A histogram shared by every connection, sharded to keep locking rare.
pub struct SharedHistogram {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl SharedHistogram {
    pub fn new() -> anyhow::Result<Self> {
        let shards = (0..SHARDS)
            .map(|_| new_histogram().map(Mutex::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(SharedHistogram { shards })
    }

    fn record_all(&self, shard: usize, samples: &[u64]) {
        let Some(shard) = self.shards.get(shard % SHARDS) else {
            return;
        };
        // A poisoned shard only means another task panicked mid-flush; the
        // counts in it are still counts.
        let mut hist = shard.lock().unwrap_or_else(|e| e.into_inner());
        for &micros in samples {
            hist.saturating_record(micros.max(1));
        }
    }

    /// All shards added together.
    pub fn merged(&self) -> anyhow::Result<Histogram<u64>> {
        let mut total = new_histogram()?;
        for shard in &self.shards {
            let hist = shard.lock().unwrap_or_else(|e| e.into_inner());
            total
                .add(&*hist)
                .context("Failed to merge latency histograms")?;
        }
        Ok(total)
    }
}

/// One connection's buffer of samples for a [`SharedHistogram`].
pub struct LocalSamples {
    shard: usize,
    samples: Vec<u64>,
}

impl LocalSamples {
    pub fn new(shard: usize) -> Self {
        LocalSamples {
            shard,
            samples: Vec::with_capacity(LOCAL_SAMPLES),
        }
    }

    pub fn record(&mut self, micros: u64, into: &SharedHistogram) {
        self.samples.push(micros);
        if self.samples.len() >= LOCAL_SAMPLES {
            self.flush(into);
        }
    }

    pub fn flush(&mut self, into: &SharedHistogram) {
        if !self.samples.is_empty() {
            into.record_all(self.shard, &self.samples);
            self.samples.clear();
        }
    }
}

/// Running totals for the progress line (whole run, not just the window).
#[derive(Default)]
pub struct Counters {
    pub delivered: AtomicU64,
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub errors: AtomicU64,
    pub disconnects: AtomicU64,
    pub ready: AtomicU64,
    pub failed: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(hist: &Histogram<u64>) -> Percentiles {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if hist.is_empty() {
            return Percentiles {
                count: 0,
                mean: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
            };
        }
        Percentiles {
            count: hist.len(),
            mean: hist.mean() / 1000.0,
            p50: ms(hist.value_at_quantile(0.50)),
            p90: ms(hist.value_at_quantile(0.90)),
            p99: ms(hist.value_at_quantile(0.99)),
            p999: ms(hist.value_at_quantile(0.999)),
            max: ms(hist.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_thousand_milliseconds() -> anyhow::Result<()> {
        let mut hist = new_histogram()?;
        for ms in 1..=1000u64 {
            hist.record(ms * 1000)?;
        }
        let p = Percentiles::of(&hist);
        assert_eq!(p.count, 1000);
        // Three significant digits: each value within 0.1 %.
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 1e-9;
        assert!(near(p.p50, 500.0), "{p:?}");
        assert!(near(p.p90, 900.0), "{p:?}");
        assert!(near(p.p99, 990.0), "{p:?}");
        assert!(near(p.p999, 999.0), "{p:?}");
        assert!(near(p.max, 1000.0), "{p:?}");
        assert!(near(p.mean, 500.5), "{p:?}");
        Ok(())
    }

    #[test]
    fn an_empty_histogram_summarises_as_zeros() -> anyhow::Result<()> {
        let p = Percentiles::of(&new_histogram()?);
        assert_eq!((p.count, p.p50, p.max), (0, 0.0, 0.0));
        Ok(())
    }

    #[test]
    fn samples_flushed_from_many_connections_add_up() -> anyhow::Result<()> {
        let shared = SharedHistogram::new()?;
        for conn in 0..40 {
            let mut local = LocalSamples::new(conn);
            for _ in 0..600 {
                local.record(2_000, &shared);
            }
            local.flush(&shared);
        }
        // Too long to represent: clamped to the maximum, still counted.
        let mut local = LocalSamples::new(3);
        local.record(MAX_LATENCY_MICROS * 10, &shared);
        local.flush(&shared);
        let total = shared.merged()?;
        assert_eq!(total.len(), 40 * 600 + 1);
        assert_eq!(Percentiles::of(&total).p50, 2.0);
        Ok(())
    }
}
