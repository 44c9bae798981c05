//! Real servers for the feed and replica tests: a nats-server with
//! JetStream and `connreq serve` processes, each on 127.0.0.1 with a port
//! and a directory of its own, killed (SIGKILL) and restarted at will.
//! Everything waits by polling with a deadline.

#![allow(dead_code)]

use connreq_server::Client;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service key every server of these tests uses.
pub const KEY: &str = "feed-test-key";
/// The token secret every server of these tests uses.
pub const SECRET: &str = "feed-test-secret";

/// Polls `f` until it gives `Some`, or panics with `what` after `deadline`.
pub fn poll<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < deadline, "gave up after {deadline:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The nats-server binary: `CONNREQ_NATS_SERVER`, else `nats-server` on the PATH
/// (scripts/test.sh installs it when missing).
fn nats_binary() -> String {
    std::env::var("CONNREQ_NATS_SERVER").unwrap_or_else(|_| "nats-server".into())
}

/// A nats-server with JetStream on its own port and store directory.
pub struct Nats {
    /// Its port on 127.0.0.1 (the same across restarts).
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nats {
    /// Starts one storing under `dir`.
    pub fn start(dir: &Path) -> Self {
        let mut n = Self { port: free_port(), dir: dir.to_owned(), child: None };
        n.restart();
        n
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it again (same port, same store) and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(nats_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server ({e}): install it (scripts/test.sh does) or set CONNREQ_NATS_SERVER")
            });
        self.child = Some(child);
        let port = self.port;
        poll(Duration::from_secs(20), "nats-server to accept connections", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `connreq serve` process.
pub struct Serve {
    /// Its port on 127.0.0.1 (the same across restarts).
    pub port: u16,
    db: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    log: PathBuf,
}

impl Serve {
    /// A primary on `db`, publishing to `nats`.
    pub fn primary(db: &Path, nats: &str) -> Self {
        Self::start(db, vec!["--publish".into(), nats.into()])
    }

    /// A replica on `db` of `network`, whose feed `nats` holds.
    pub fn replica(db: &Path, nats: &str, network: &str) -> Self {
        Self::start(db, vec!["--replica-of".into(), nats.into(), "--network".into(), network.into()])
    }

    fn start(db: &Path, args: Vec<String>) -> Self {
        let log = db.with_extension("log");
        let mut s = Self { port: free_port(), db: db.to_owned(), args, child: None, log };
        s.restart();
        s
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A client with the service key.
    pub fn client(&self) -> Client {
        Client::new(&self.url(), Some(KEY), Duration::from_secs(10))
    }

    /// Starts it again (same port, same database) and waits until `/healthz` answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("the log file");
        let child = Command::new(env!("CARGO_BIN_EXE_connreq"))
            .arg("--db")
            .arg(&self.db)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.args)
            .env("CONNREQ_API_KEY", KEY)
            .env("CONNREQ_TOKEN_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("connreq serve starts");
        self.child = Some(child);
        let client = self.client();
        let log = self.log.clone();
        poll(Duration::from_secs(60), "connreq serve to answer /healthz", || {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "connreq serve exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            client.call("GET", "/healthz", None, None).ok().filter(|(s, _)| *s == 200)
        });
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (a graceful stop), without waiting for it to exit.
    pub fn terminate(&mut self) {
        let pid = self.child.as_ref().expect("running").id();
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// Waits for it to exit; its exit status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.take().expect("running").wait().expect("it exits")
    }

    /// `/healthz`, as JSON (`Null` when it does not answer).
    pub fn health(&self) -> Value {
        match self.client().call("GET", "/healthz", None, None) {
            Ok((_, body)) => serde_json::from_slice(&body).unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    /// The network id it logged when it started.
    pub fn network(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.split("network=")
            .nth(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect())
            .expect("the server logs its network id")
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
