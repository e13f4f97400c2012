//! How busy the machine was during the measured window: the CPU time the load
//! tool and (with `--server-pid`) the server used, and the load average. On a
//! shared machine these say whether a figure was limited by the code measured
//! or by the neighbours. Linux `/proc` only; elsewhere the fields are null.

use serde::Serialize;
use tokio::time::{sleep_until, Instant};

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct CpuWindow {
    /// CPU seconds (user + system, all threads) the load tool used in the window.
    pub tool_secs: Option<f64>,
    /// The same for the process given with --server-pid.
    pub server_secs: Option<f64>,
    /// 1-minute load average at the window's start and end.
    pub loadavg_start: Option<f64>,
    pub loadavg_end: Option<f64>,
}

/// Samples at `start` and `end` (the measured window) and returns the deltas.
pub async fn measure(start: Instant, end: Instant, server_pid: Option<u32>) -> CpuWindow {
    sleep_until(start).await;
    let tool0 = cpu_secs("self");
    let server0 = server_pid.and_then(|p| cpu_secs(&p.to_string()));
    let load0 = loadavg();
    sleep_until(end).await;
    let tool1 = cpu_secs("self");
    let server1 = server_pid.and_then(|p| cpu_secs(&p.to_string()));
    CpuWindow {
        tool_secs: tool0.zip(tool1).map(|(a, b)| hundredths(b - a)),
        server_secs: server0.zip(server1).map(|(a, b)| hundredths(b - a)),
        loadavg_start: load0,
        loadavg_end: loadavg(),
    }
}

/// The tick is 10 ms: more decimals would only be float noise.
fn hundredths(secs: f64) -> f64 {
    (secs * 100.0).round() / 100.0
}

/// Whether `/proc/PID` exists (a wrong --server-pid is refused up front).
pub fn process_exists(pid: u32) -> bool {
    cpu_secs(&pid.to_string()).is_some()
}

fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&stat)
}

/// utime + stime from a `/proc/PID/stat` line, in seconds. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after the
/// last ')': state is field 3, utime 14, stime 15.
fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SEC)
}

fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_an_awkward_command_name() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 1000000 500";
        assert_eq!(parse_stat_cpu(stat), Some(3.0));
        assert_eq!(parse_stat_cpu("garbage"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_secs("self").is_some());
            assert!(process_exists(std::process::id()));
        }
    }
}
