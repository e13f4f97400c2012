//! `palaver-load`: the bundled load tool (SPEC §9). It logs N users in through
//! the real API (or reuses saved tokens), opens N WebSockets, joins them to R
//! rooms, lets S of them send for a warm-up and then a measured window, and
//! reports what the receivers saw: delivered messages/s, end-to-end latency
//! percentiles, acks/s, connect times, errors and lost connections. With
//! `--raw` it loads a reference peer (plain broadcast WebSocket) the same way,
//! so Palaver's figures can be stated as ratios measured in the same session.
//!
//! Bounded in time and loopback-only unless told otherwise. Progress goes to
//! stderr; the summary to stdout, or with `--json` one JSON object to stdout.

mod palaver_load;

use std::cell::Cell;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout_at, Instant};

use palaver_load::cli::Args;
use palaver_load::connection::{self, ConnReport, Slot};
use palaver_load::report::{thousands, Inputs, Report};
use palaver_load::stamp::unix_nanos;
use palaver_load::stats::{new_histogram, Counters, SharedHistogram};
use palaver_load::traffic::Schedule;
use palaver_load::{accounts, machine, Plan};

/// File descriptors beyond one per client: HTTP, stdio, the runtime.
const SPARE_FDS: u64 = 64;
/// Time between "all connected" and the first send, so every task is waiting.
const START_DELAY: Duration = Duration::from_millis(300);
/// After the drain, how long closing and collecting may take before the
/// stragglers are abandoned.
const COLLECT_GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(err) = args.validate() {
        eprintln!("palaver-load: {err:#}");
        return ExitCode::from(2);
    }
    raise_open_files(u64::from(args.clients) + SPARE_FDS);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("palaver-load: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(load(&args)) {
        Ok(report) => {
            if args.json {
                eprint!("{}", report.human());
                match serde_json::to_string(&report) {
                    Ok(json) => println!("{json}"),
                    Err(err) => eprintln!("palaver-load: {err}"),
                }
            } else {
                print!("{}", report.human());
            }
            // Nothing delivered is a failure, unless nothing was sent (an
            // idle-sockets run with --senders 0).
            if report.delivered == 0 && args.senders > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("palaver-load: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Soft open-files limit up to the hard one; a warning if still too low.
fn raise_open_files(needed: u64) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed => eprintln!(
            "palaver-load: the open-files limit is {limit}, {needed} are needed: \
             raise it with `ulimit -n {needed}` (the server needs as many)"
        ),
        Ok(_) => {}
        Err(err) => eprintln!("palaver-load: cannot raise the open-files limit: {err}"),
    }
}

async fn load(args: &Args) -> anyhow::Result<Report> {
    let (base, ws_url) = args.urls()?;
    let started_at_unix = unix_nanos() / 1_000_000_000;
    let rooms: Vec<String> = if args.raw {
        vec![format!("{}-0", args.room_prefix)]
    } else {
        (0..args.rooms)
            .map(|r| format!("{}-{r}", args.room_prefix))
            .collect()
    };
    let setup_deadline = Instant::now() + Duration::from_secs(args.setup_timeout);
    let tokens = if args.raw {
        Vec::new()
    } else {
        timeout_at(setup_deadline, accounts_and_rooms(args, &base, &rooms))
            .await
            .context("logging in took longer than --setup-timeout")??
    };
    let plan = Arc::new(Plan {
        raw: args.raw,
        ws_url,
        run: rand::random(),
        rooms,
        senders: args.senders,
        rate_per_sender: args.rate.map(|r| r / f64::from(args.senders.max(1))),
        window: args.window,
        max_inflight: args.max_inflight,
        body_bytes: args.body_bytes,
        latency: SharedHistogram::new()?,
        ack_latency: SharedHistogram::new()?,
        counters: Counters::default(),
    });
    let (start_tx, start_rx) = watch::channel(None);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let handles: Vec<JoinHandle<ConnReport>> = (0..args.clients)
        .map(|i| {
            let slot = Slot {
                index: i,
                room: if args.raw {
                    0
                } else {
                    (i % args.rooms) as usize
                },
                token: tokens.get((i % args.users()) as usize).cloned(),
                sender: (i < args.senders).then_some(i),
            };
            tokio::spawn(connection::run(
                plan.clone(),
                slot,
                gate.clone(),
                start_rx.clone(),
            ))
        })
        .collect();
    drop(start_rx);
    let progress = Progress::new(args.quiet);
    let ready = wait_until_connected(args, &plan.counters, setup_deadline, &progress).await;
    if ready == 0 {
        drop(start_tx);
        let reports = collect(handles, Instant::now() + COLLECT_GRACE).await.0;
        let why = reports
            .iter()
            .find_map(|r| r.failure.clone())
            .unwrap_or_default();
        bail!("no client could connect and join ({why})");
    }
    let schedule = schedule(args);
    // Every task holds a receiver until it ends, so this only fails if all did.
    let _ = start_tx.send(Some(schedule));
    let window_start = schedule.start + Duration::from_secs(args.warmup);
    let window_end = window_start + Duration::from_secs(args.duration);
    let cpu = tokio::spawn(machine::measure(window_start, window_end, args.server_pid));
    watch_run(args, &plan.counters, &schedule, &progress).await;
    let cpu = cpu.await.unwrap_or_default();
    let (reports, unfinished) = collect(handles, schedule.stop + COLLECT_GRACE).await;
    progress.done();
    let mut connect = new_histogram()?;
    for micros in reports.iter().filter_map(|r| r.connect_micros) {
        connect.saturating_record(micros.max(1));
    }
    Ok(Report::build(Inputs {
        args,
        started_at_unix,
        reports,
        unfinished,
        latency: &plan.latency.merged()?,
        ack_latency: &plan.ack_latency.merged()?,
        connect: &connect,
        cpu,
    }))
}

async fn accounts_and_rooms(
    args: &Args,
    base: &reqwest::Url,
    rooms: &[String],
) -> anyhow::Result<Vec<String>> {
    let http = accounts::http_client()?;
    let names: Vec<String> = (0..args.users())
        .map(|i| format!("{}{i}", args.user_prefix))
        .collect();
    if !args.quiet {
        eprintln!(
            "palaver-load: registering / logging in {} accounts ({} at a time; \
             start the server with CHAT_BCRYPT_COST=4 to make this quick)",
            names.len(),
            args.login_concurrency
        );
    }
    let tokens = accounts::tokens(
        &http,
        base,
        &names,
        &args.password,
        args.login_concurrency,
        args.tokens_file.as_deref(),
    )
    .await?;
    let first = tokens.first().context("no accounts")?;
    accounts::ensure_rooms(&http, base, first, rooms).await?;
    Ok(tokens)
}

/// The phases, from a moment just ahead so every task sees it in time.
fn schedule(args: &Args) -> Schedule {
    let now = Instant::now();
    let now_unix = unix_nanos();
    let secs_nanos = |s: u64| s * 1_000_000_000;
    let start_unix = now_unix + u64::try_from(START_DELAY.as_nanos()).unwrap_or(0);
    let start = now + START_DELAY;
    let measured = Duration::from_secs(args.warmup + args.duration);
    Schedule {
        start,
        stop_sending: start + measured,
        stop: start + measured + Duration::from_secs(args.drain),
        window_start_unix: start_unix + secs_nanos(args.warmup),
        window_end_unix: start_unix + secs_nanos(args.warmup + args.duration),
    }
}

/// Waits until every client is ready or failed, or the setup time is up;
/// returns how many are ready.
async fn wait_until_connected(
    args: &Args,
    counters: &Counters,
    deadline: Instant,
    progress: &Progress,
) -> u64 {
    let total = u64::from(args.clients);
    loop {
        let ready = Counters::get(&counters.ready);
        let failed = Counters::get(&counters.failed);
        progress.show(&format!(
            "connecting: {ready} ready, {failed} failed of {total}"
        ));
        if ready + failed >= total || Instant::now() >= deadline {
            return ready;
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// Shows the live rates once a second until the end of the drain.
async fn watch_run(args: &Args, counters: &Counters, schedule: &Schedule, progress: &Progress) {
    let total = args.warmup + args.duration + args.drain;
    let mut last = (0, 0, 0);
    let mut last_at = Instant::now();
    while Instant::now() < schedule.stop {
        sleep(Duration::from_secs(1).min(schedule.stop - Instant::now())).await;
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(schedule.start).as_secs();
        let phase = if elapsed < args.warmup {
            "warm-up"
        } else if elapsed < args.warmup + args.duration {
            "measuring"
        } else {
            "draining"
        };
        let current = (
            Counters::get(&counters.delivered),
            Counters::get(&counters.sent),
            Counters::get(&counters.acked),
        );
        let dt = now.duration_since(last_at).as_secs_f64().max(1e-3);
        let rate = |a: u64, b: u64| thousands(a.saturating_sub(b) as f64 / dt);
        progress.show(&format!(
            "[{elapsed:>3}/{total} s] {phase:<9} delivered {}/s  sent {}/s  acks {}/s  errors {}  lost {}",
            rate(current.0, last.0),
            rate(current.1, last.1),
            rate(current.2, last.2),
            Counters::get(&counters.errors),
            Counters::get(&counters.disconnects),
        ));
        last = current;
        last_at = now;
    }
}

/// Every task's report; tasks still running at the deadline are aborted and
/// counted.
async fn collect(
    handles: Vec<JoinHandle<ConnReport>>,
    deadline: Instant,
) -> (Vec<ConnReport>, u64) {
    let mut reports = Vec::with_capacity(handles.len());
    let mut unfinished = 0;
    for mut handle in handles {
        match timeout_at(deadline, &mut handle).await {
            Ok(Ok(report)) => reports.push(report),
            Ok(Err(_)) => unfinished += 1,
            Err(_) => {
                handle.abort();
                unfinished += 1;
            }
        }
    }
    (reports, unfinished)
}

/// The progress line on stderr: redrawn in place on a terminal, one line
/// every few seconds otherwise.
struct Progress {
    quiet: bool,
    terminal: bool,
    last_line: Cell<Option<std::time::Instant>>,
}

impl Progress {
    const LOG_EVERY: Duration = Duration::from_secs(5);

    fn new(quiet: bool) -> Self {
        Progress {
            quiet,
            terminal: std::io::stderr().is_terminal(),
            last_line: Cell::new(None),
        }
    }

    fn show(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
            return;
        }
        if self
            .last_line
            .get()
            .is_none_or(|t| t.elapsed() >= Self::LOG_EVERY)
        {
            eprintln!("{line}");
            self.last_line.set(Some(std::time::Instant::now()));
        }
    }

    fn done(&self) {
        if !self.quiet && self.terminal {
            eprintln!();
        }
    }
}
