//! Load on `connreq serve` over HTTP, on this machine (see `benches/serve.sh`).
//!
//! Starts the `connreq` binary on a fresh database with a small SMTP sink of
//! its own, registers the members, opens live notification streams, then runs
//! a mixed workload over `--connections` keep-alive connections for
//! `--seconds`: 30% send, 15% accept, 5% ignore, 5% decline, 7% withdraw, 1%
//! block by heavy-tailed members (density ∝ 1/√id), 37% queries (sent,
//! received, connections, unread notifications). Every command is
//! acknowledged durable (the server answers after its group flush). Reports
//! acknowledged operations per second, latency p50/p99, flushes per second and
//! commands per flush (from `/metrics`), command → SSE event latency, due →
//! SMTP receipt latency, and the server's memory for `--idle-streams` open
//! streams. `--url URL` runs the same workload against a peer (no streams,
//! no email) instead: `--peer django` speaks the Django service's routes.
//! `--publish nats://HOST:PORT` has the server publish its log to JetStream
//! and starts a read replica fed from it: the driver then also reports the
//! replica's lag under the load — for each moment sampled (every 10 ms), the
//! time from the event count the primary reported (durable there) until the
//! replica reported as many applied.
//!
//!     cargo run --release -p connreq-benches --bin serve_load -- --seconds 20

use connreq_benches::workload::Rng;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const KEY: &str = "bench-service-key";
/// The primary's database is created under the standard policy with this
/// email delay, so the emails of the load fall due while it runs. Commands
/// carry no time: the server dates each by its clock, as a backend's would
/// be (SPEC §16 refuses a command dated before the log's last event, so
/// back-dated commands would be refused once the email loop records a send).
const EMAIL_DELAY_MS: i64 = 1_000;

#[derive(Clone, Debug)]
struct Args {
    connreq: String,
    members: u64,
    seconds: u64,
    connections: usize,
    streams: u64,
    idle_streams: u64,
    email_share: u64,
    url: Option<String>,
    peer: String,
    publish: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        connreq: "target/release/connreq".into(),
        members: 10_000,
        seconds: 20,
        connections: 64,
        streams: 200,
        idle_streams: 10_000,
        email_share: 5,
        url: None,
        peer: "connreq".into(),
        publish: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--connreq" => a.connreq = value(),
            "--members" => a.members = value().parse().expect("--members N"),
            "--seconds" => a.seconds = value().parse().expect("--seconds N"),
            "--connections" => a.connections = value().parse().expect("--connections N"),
            "--streams" => a.streams = value().parse().expect("--streams N"),
            "--idle-streams" => a.idle_streams = value().parse().expect("--idle-streams N"),
            "--email-percent" => a.email_share = value().parse().expect("--email-percent N"),
            "--url" => a.url = Some(value()),
            "--peer" => a.peer = value(),
            "--publish" => a.publish = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// One keep-alive HTTP/1.1 connection, spoken by hand (no client library between the load and the server).
struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
    auth: String,
    /// The server said it closes the connection after this answer.
    closing: bool,
}

impl Conn {
    async fn open(addr: &str, auth: &str) -> std::io::Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self { reader: BufReader::new(s), host: addr.to_owned(), auth: auth.to_owned(), closing: false })
    }

    async fn call(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
        if self.closing {
            *self = Self::open(&self.host.clone(), &self.auth.clone()).await?;
        }
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.auth,
            body.len()
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(body.as_bytes());
        self.reader.get_mut().write_all(&out).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close") {
                    self.closing = true;
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.trim().eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        if chunked {
            // Servers that do not know a body's length up front (gunicorn with Django) send it in chunks.
            let mut body = Vec::new();
            loop {
                line.clear();
                self.reader.read_line(&mut line).await?;
                let size =
                    usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).await?;
                if size == 0 {
                    return Ok((status, body));
                }
                body.extend_from_slice(&chunk[..size]);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// The kind of command a path names (`send`, `accept`, `block`, ...).
fn path_kind(path: &str) -> &str {
    if path.ends_with("/requests") {
        "send"
    } else if path.contains("/blocks/") {
        "block"
    } else {
        path.rsplit('/').next().unwrap_or("?")
    }
}

fn field(body: &[u8], name: &str) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.find(&format!("\"{name}\":"))? + name.len() + 3;
    text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[derive(Default)]
struct Shared {
    open: Mutex<Vec<(u64, u64, u64)>>,
    latencies: Mutex<Vec<u32>>,
    sent_at: Mutex<HashMap<u64, Instant>>,
    event_at: Mutex<HashMap<u64, Instant>>,
    ops: AtomicU64,
    commands: AtomicU64,
    errors: AtomicU64,
    /// Commands refused by a rule (4xx), by the error the answer names.
    refused: Mutex<HashMap<String, u64>>,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn worker(
    addr: String,
    auth: String,
    seed: u64,
    members: u64,
    until: Instant,
    shared: Arc<Shared>,
    peer: String,
) {
    let mut rng = Rng::new(seed);
    let mut conn = Conn::open(&addr, &auth).await.expect("connect");
    let mut local = Vec::with_capacity(100_000);
    while Instant::now() < until {
        let roll = rng.below(100);
        let (method, path, body, is_send, command) = if roll < 30 {
            let s = rng.active_member(members);
            let mut r = rng.below(members) + 1;
            if r == s {
                r = r % members + 1;
            }
            let body = format!("{{\"sender\":{s},\"recipient\":{r}}}");
            ("POST", "/v1/requests".to_owned(), body, Some((s, r)), true)
        } else if roll < 63 {
            let picked = {
                let mut open = shared.open.lock().unwrap();
                if open.is_empty() {
                    None
                } else {
                    let i = rng.below(open.len() as u64) as usize;
                    Some(open.swap_remove(i))
                }
            };
            match picked {
                Some((rid, s, r)) => {
                    let (action, actor_field, actor) = match roll {
                        30..45 => ("accept", "recipient", r),
                        45..50 => ("ignore", "recipient", r),
                        50..55 => ("decline", "recipient", r),
                        _ => ("withdraw", "sender", s),
                    };
                    if action == "ignore" {
                        // Still open: it may be accepted, declined or withdrawn later.
                        shared.open.lock().unwrap().push((rid, s, r));
                    }
                    let body = format!("{{\"{actor_field}\":{actor}}}");
                    ("POST", format!("/v1/requests/{rid}/{action}"), body, None, true)
                }
                None => {
                    let m = rng.active_member(members);
                    ("GET", format!("/v1/members/{m}/sent"), String::new(), None, false)
                }
            }
        } else if roll < 64 {
            let a = rng.active_member(members);
            let b = rng.below(members) + 1;
            if a == b {
                continue;
            }
            ("PUT", format!("/v1/members/{a}/blocks/{b}"), "{}".to_owned(), None, true)
        } else {
            let m = rng.active_member(members);
            let path = match roll % 4 {
                0 => format!("/v1/members/{m}/sent"),
                1 => format!("/v1/members/{m}/received"),
                2 => format!("/v1/members/{m}/connections"),
                _ => format!("/v1/members/{m}/notifications?unread_only=true"),
            };
            ("GET", path, String::new(), None, false)
        };
        let path = if peer == "django" { path.replacen("/v1/", "/api/", 1) } else { path };
        let start = Instant::now();
        let (status, answer) = match conn.call(method, &path, &body).await {
            Ok(r) => r,
            Err(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                conn = match Conn::open(&addr, &auth).await {
                    Ok(c) => c,
                    Err(_) => return,
                };
                continue;
            }
        };
        local.push(start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        shared.ops.fetch_add(1, Ordering::Relaxed);
        if command {
            shared.commands.fetch_add(1, Ordering::Relaxed);
        }
        if status >= 500 || status == 0 {
            shared.errors.fetch_add(1, Ordering::Relaxed);
        } else if command && status >= 400 {
            let text = String::from_utf8_lossy(&answer);
            let name = text.split("\"error\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("?");
            *shared.refused.lock().unwrap().entry(format!("{} {name}", path_kind(&path))).or_default() += 1;
        }
        if let (Some((s, r)), 201) = (is_send, status)
            && let Some(rid) = field(&answer, "id")
        {
            shared.open.lock().unwrap().push((rid, s, r));
            shared.sent_at.lock().unwrap().insert(rid, start);
        }
    }
    shared.latencies.lock().unwrap().extend(local);
}

/// A live stream of `member`: records when each `invitation_received` event arrives, by request id.
async fn stream(addr: String, member: u64, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let Ok(mut s) = TcpStream::connect(&addr).await else { return };
    let head = format!(
        "GET /v1/members/{member}/notifications/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if let Some(data) = line.strip_prefix("data: ")
            && data.contains("\"invitation_received\"")
            && let Some(rid) = field(data.as_bytes(), "request_id")
        {
            shared.event_at.lock().unwrap().insert(rid, Instant::now());
        }
    }
}

/// A tiny SMTP server: takes every message, records when each email (by the id in its Message-ID) arrived.
async fn smtp_sink(listener: tokio::net::TcpListener, got: Arc<Mutex<HashMap<u64, (u64, i64)>>>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else { return };
        let _ = sock.set_nodelay(true);
        let got = got.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(sock);
            let _ = r.get_mut().write_all(b"220 sink\r\n").await;
            let mut line = String::new();
            let mut member = 0u64;
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let cmd = line.to_ascii_uppercase();
                if let Some(rest) = cmd.strip_prefix("RCPT TO:<M") {
                    member = rest.split('@').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                }
                let reply: &[u8] = if cmd.starts_with("DATA") {
                    let _ = r.get_mut().write_all(b"354 go on\r\n").await;
                    let mut id = None;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == ".\r\n" {
                            break;
                        }
                        // `Message-ID: <N.DATABASE@DOMAIN>`: N is the email's id.
                        if let Some(rest) = line.strip_prefix("Message-ID: <") {
                            id = rest.split(['.', '@']).next().and_then(|n| n.parse::<u64>().ok());
                        }
                    }
                    if let Some(id) = id {
                        got.lock().unwrap().insert(id, (member, now_ms()));
                    }
                    b"250 taken\r\n"
                } else if cmd.starts_with("QUIT") {
                    let _ = r.get_mut().write_all(b"221 bye\r\n").await;
                    return;
                } else if cmd.starts_with("EHLO") {
                    b"250-sink\r\n250 PIPELINING\r\n"
                } else {
                    b"250 ok\r\n"
                };
                if r.get_mut().write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn metric(conn: &mut Conn, name: &str) -> f64 {
    let (_, body) = conn.call("GET", "/metrics", "").await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("address").to_string()
}

async fn start_server(a: &Args, smtp: &str) -> Server {
    let mut extra = vec!["--smtp".to_owned(), smtp.to_owned()];
    if let Some(url) = &a.publish {
        extra.extend(["--publish".to_owned(), url.clone()]);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let policy = connreq_core::Policy {
        email_delay: Duration::from_millis(EMAIL_DELAY_MS as u64),
        ..connreq_core::Policy::standard()
    };
    connreq_store::Store::open(dir.path().join("db"), policy)
        .and_then(|store| store.close())
        .expect("create the database");
    spawn_server(&a.connreq, &extra, dir).await
}

/// `connreq serve` with `extra` arguments on the database `db` in `dir`
/// (created by the server when it is not there), once it answers.
async fn spawn_server(connreq: &str, extra: &[String], dir: tempfile::TempDir) -> Server {
    let addr = free_addr();
    let child = Command::new(connreq)
        .args(["--db", &dir.path().join("db").display().to_string(), "serve", "--listen", &addr])
        .args(extra)
        .env("CONNREQ_API_KEY", KEY)
        .env("CONNREQ_TOKEN_SECRET", "bench-token-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run connreq serve (build it with cargo build --release -p connreq-cli)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Conn::open(&addr, KEY).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Server { child, addr, _dir: dir }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let got_mail = Arc::new(Mutex::new(HashMap::new()));
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("smtp sink");
    let smtp = format!("smtp://{}", sink.local_addr().expect("address"));
    tokio::spawn(smtp_sink(sink, got_mail.clone()));
    let mut server = None;
    let (addr, auth) = match &a.url {
        Some(url) => (url.trim_start_matches("http://").trim_end_matches('/').to_owned(), KEY.to_owned()),
        None => {
            let s = start_server(&a, &smtp).await;
            let addr = s.addr.clone();
            server = Some(s);
            (addr, KEY.to_owned())
        }
    };
    let peer = a.peer.clone();
    // Members: a few percent with an address (each of their invitations is an email).
    let registered = Instant::now();
    let shared = Arc::new(Shared::default());
    let chunk = a.members.div_ceil(a.connections as u64);
    let mut tasks = Vec::new();
    for c in 0..a.connections as u64 {
        let (addr, auth, members, share, peer) =
            (addr.clone(), auth.clone(), a.members, a.email_share, peer.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr, &auth).await.expect("connect");
            for m in (c * chunk + 1)..=((c + 1) * chunk).min(members) {
                let email = if m % 100 < share {
                    format!(",\"email\":\"m{m}@bench.example\"")
                } else {
                    String::new()
                };
                let path = if peer == "django" { "/api/members" } else { "/v1/members" };
                let (status, body) =
                    conn.call("POST", path, &format!("{{\"member\":{m}{email}}}")).await.expect("register");
                assert!(status < 300, "register {m}: {status} {}", String::from_utf8_lossy(&body));
            }
        }));
    }
    for t in tasks.drain(..) {
        t.await.expect("register");
    }
    println!("registered {} members in {:.1} s", a.members, registered.elapsed().as_secs_f64());
    let stop = Arc::new(AtomicBool::new(false));
    let replica = match (&a.publish, &server) {
        (Some(nats), Some(_)) => Some(start_replica(&a.connreq, nats, &addr).await),
        _ => None,
    };
    let sampled = Arc::new(AtomicBool::new(false));
    let lag_sampler =
        replica.as_ref().map(|r| tokio::spawn(sample_lag(addr.clone(), r.addr.clone(), sampled.clone())));
    if a.url.is_none() {
        for m in 1..=a.streams.min(a.members) {
            tokio::spawn(stream(addr.clone(), m, shared.clone(), stop.clone()));
        }
    }
    let mut probe = Conn::open(&addr, &auth).await.expect("connect");
    let (flushes0, commands0) = if a.url.is_none() {
        (
            metric(&mut probe, "connreq_flushes_total").await,
            metric(&mut probe, "connreq_commands_total").await,
        )
    } else {
        (0.0, 0.0)
    };
    let begun = Instant::now();
    let until = begun + Duration::from_secs(a.seconds);
    for c in 0..a.connections {
        tasks.push(tokio::spawn(worker(
            addr.clone(),
            auth.clone(),
            1000 + c as u64,
            a.members,
            until,
            shared.clone(),
            peer.clone(),
        )));
    }
    for t in tasks.drain(..) {
        let _ = t.await;
    }
    let elapsed = begun.elapsed().as_secs_f64();
    let ops = shared.ops.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *shared.latencies.lock().unwrap());
    lat.sort_unstable();
    println!(
        "{peer}: {ops} operations in {elapsed:.1} s = {:.0} ops/s ({} commands), errors {}; latency p50 {:.2} ms, p99 {:.2} ms",
        ops as f64 / elapsed,
        shared.commands.load(Ordering::Relaxed),
        shared.errors.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    let mut refused: Vec<(String, u64)> = shared.refused.lock().unwrap().drain().collect();
    refused.sort_by_key(|r| std::cmp::Reverse(r.1));
    let total: u64 = refused.iter().map(|r| r.1).sum();
    println!(
        "commands refused by a rule (4xx): {total}{}{}",
        if refused.is_empty() { "" } else { ": " },
        refused.iter().take(8).map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    );
    if let (Some(replica), Some(sampler)) = (&replica, lag_sampler) {
        // The load is over: the replica catches up, then the sampler stops.
        let mut p = Conn::open(&addr, &auth).await.expect("connect");
        let mut r = Conn::open(&replica.addr, KEY).await.expect("connect");
        let last = health(&mut p).await["events"].as_u64().unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(120);
        while health(&mut r).await["events"].as_u64().unwrap_or(0) < last && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let h = health(&mut r).await;
        sampled.store(true, Ordering::Relaxed);
        let (mut lags, mut reported) = sampler.await.expect("the lag sampler");
        lags.sort_unstable();
        reported.sort_unstable();
        println!(
            "replica lag (durable on the primary → applied on the replica), {} samples: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; \
             the replica's own lag_seconds p99 {:.0} ms; it applied {} of {last} events",
            lags.len(),
            percentile(&lags, 0.5),
            percentile(&lags, 0.99),
            lags.last().map_or(f64::NAN, |l| f64::from(*l) / 1000.0),
            percentile(&reported, 0.99),
            h["events"],
        );
    }
    let Some(mut server) = server else { return };
    let flushes = metric(&mut probe, "connreq_flushes_total").await - flushes0;
    let commands = metric(&mut probe, "connreq_commands_total").await - commands0;
    println!(
        "flushes {:.0}/s, {:.1} commands per flush",
        flushes / elapsed,
        if flushes > 0.0 { commands / flushes } else { 0.0 }
    );
    // Delivery: command → stream event.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut sse: Vec<u32> = {
        let sent = shared.sent_at.lock().unwrap();
        let events = shared.event_at.lock().unwrap();
        events
            .iter()
            .filter_map(|(rid, t)| sent.get(rid).map(|s| t.saturating_duration_since(*s).as_micros() as u32))
            .collect()
    };
    sse.sort_unstable();
    println!(
        "command → SSE event: {} events on {} streams, p50 {:.2} ms, p99 {:.2} ms",
        sse.len(),
        a.streams,
        percentile(&sse, 0.5),
        percentile(&sse, 0.99)
    );
    // Delivery: due → SMTP receipt (emails are due a second after their command).
    let settle = Instant::now() + Duration::from_secs(30);
    loop {
        let unsent = metric(&mut probe, "connreq_emails_sent_total").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        if metric(&mut probe, "connreq_emails_sent_total").await == unsent || Instant::now() > settle {
            break;
        }
    }
    let received: Vec<(u64, (u64, i64))> = got_mail.lock().unwrap().iter().map(|(k, v)| (*k, *v)).collect();
    let mut by_member: HashMap<u64, Vec<(u64, i64)>> = HashMap::new();
    for (id, (member, at)) in &received {
        by_member.entry(*member).or_default().push((*id, *at));
    }
    let mut due_lat = Vec::new();
    for (member, mails) in &by_member {
        let (_, body) =
            probe.call("GET", &format!("/v1/members/{member}/notifications"), "").await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let mut created: HashMap<u64, i64> = HashMap::new();
        for item in text.split("{\"id\":").skip(1) {
            let id = item.split(',').next().and_then(|n| n.parse().ok());
            let at = item.split("\"created_at\":\"").nth(1).and_then(|r| r.split('"').next());
            if let (Some(id), Some(at)) = (id, at.and_then(|t| connreq_server_time(t).ok())) {
                created.insert(id, at);
            }
        }
        for (id, got) in mails {
            if let Some(c) = created.get(id) {
                // Due EMAIL_DELAY_MS after the notification.
                due_lat.push(((got - (c + EMAIL_DELAY_MS)).max(0) as u32).saturating_mul(1000));
            }
        }
    }
    due_lat.sort_unstable();
    println!(
        "due → SMTP receipt: {} emails, p50 {:.0} ms, p99 {:.0} ms",
        due_lat.len(),
        percentile(&due_lat, 0.5),
        percentile(&due_lat, 0.99)
    );
    stop.store(true, Ordering::Relaxed);
    // Memory: idle streams.
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let mut idle = Vec::new();
    for i in 0..a.idle_streams {
        let m = i % a.members + 1;
        let mut s = match TcpStream::connect(&addr).await {
            Ok(s) => s,
            Err(e) => {
                println!("stopped opening streams at {i}: {e}");
                break;
            }
        };
        let head = format!(
            "GET /v1/members/{m}/notifications/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\n\r\n"
        );
        if s.write_all(head.as_bytes()).await.is_err() {
            break;
        }
        idle.push(s);
    }
    let mut open = 0.0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        open = metric(&mut probe, "connreq_open_streams").await;
        if open >= idle.len() as f64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = rss_kib(pid);
    println!(
        "{} idle streams open ({open} counted by the server): server RSS {:.1} MiB → {:.1} MiB (+{:.1} MiB)",
        idle.len(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    drop(idle);
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = server.child.wait();
    if let Some(mut replica) = replica {
        let _ = Command::new("kill").args(["-TERM", &replica.child.id().to_string()]).status();
        let _ = replica.child.wait();
    }
}

/// `/healthz` as JSON (`Null` when it does not answer).
async fn health(conn: &mut Conn) -> serde_json::Value {
    match conn.call("GET", "/healthz", "").await {
        Ok((_, body)) => serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// A read replica of the primary at `primary`, which publishes to `nats`,
/// once it has caught up with what the primary holds.
async fn start_replica(connreq: &str, nats: &str, primary: &str) -> Server {
    let mut p = Conn::open(primary, KEY).await.expect("connect");
    let network = health(&mut p).await["feed"]["network"].as_str().expect("the primary publishes").to_owned();
    let args = ["--replica-of", nats, "--network", &network].map(str::to_owned);
    let replica = spawn_server(connreq, &args, tempfile::tempdir().expect("a temporary directory")).await;
    let mut r = Conn::open(&replica.addr, KEY).await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let last = health(&mut p).await["events"].as_u64().unwrap_or(0);
        if health(&mut r).await["events"].as_u64() == Some(last) {
            break;
        }
        assert!(Instant::now() < deadline, "the replica did not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("replica of network {network} caught up");
    replica
}

/// Samples both servers every 10 ms until `stop`: for each sample, the time
/// until the replica had applied as many events as the primary then held
/// (µs), and the lag the replica itself reported (µs).
async fn sample_lag(primary: String, replica: String, stop: Arc<AtomicBool>) -> (Vec<u32>, Vec<u32>) {
    let mut p = Conn::open(&primary, KEY).await.expect("connect");
    let mut r = Conn::open(&replica, KEY).await.expect("connect");
    let mut waiting: std::collections::VecDeque<(Instant, u64)> = Default::default();
    let (mut lags, mut reported) = (Vec::new(), Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if let Some(e) = health(&mut p).await["events"].as_u64() {
            waiting.push_back((t, e));
        }
        let h = health(&mut r).await;
        let applied = h["events"].as_u64().unwrap_or(0);
        let now = Instant::now();
        while waiting.front().is_some_and(|(_, e)| *e <= applied) {
            let (at, _) = waiting.pop_front().expect("a sample");
            lags.push(now.saturating_duration_since(at).as_micros().min(u128::from(u32::MAX)) as u32);
        }
        if let Some(s) = h["replica"]["lag_seconds"].as_f64() {
            reported.push((s * 1e6) as u32);
        }
        tokio::time::sleep_until((t + Duration::from_millis(10)).into()).await;
    }
    (lags, reported)
}

/// RFC 3339 → epoch ms (the server's own parser).
fn connreq_server_time(text: &str) -> Result<i64, String> {
    connreq_server::time::parse_at(text).map(|t| t.0)
}
