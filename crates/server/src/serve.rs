//! `connreq serve`: opens the database, starts the writer, the mail loop and
//! the HTTP server, and shuts down gracefully on SIGTERM or SIGINT (stop
//! accepting, finish what is in flight, end the streams, flush, close).
//!
//! With `--publish` the event feed runs beside them; with `--replica-of`
//! the server is a read replica instead: its database is fed by the
//! follower from the stream, it answers every query, and refuses commands.

use crate::feed::follow::{self, Follower};
use crate::feed::publish::Publisher;
use crate::feed::status::ReplicaStatus;
use crate::mailer::MailLoop;
use crate::metrics::Metrics;
use crate::routes;
use crate::secrets::{self, Source};
use crate::sse::Hub;
use crate::state::App;
use crate::writer::{self, Shared};
use connreq_core::Network as _;
use connreq_store::unsubscribe::Unsubscribe;
use connreq_store::{Durability, OpenOptions, Store};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::watch;

/// How `serve` logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What `serve` was asked to do.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The database directory.
    pub db: PathBuf,
    /// `HOST:PORT` to listen on.
    pub listen: String,
    /// The SMTP relay of the mail loop (`smtp://HOST:PORT`), if any.
    pub smtp: Option<String>,
    /// The `From:` address of emails.
    pub mail_from: String,
    /// The address the network is reached at by members (for links; kept for
    /// the features of SPEC §10 that need it).
    pub public_url: Option<String>,
    /// Log lines for a person, or JSON.
    pub log_format: LogFormat,
    /// A policy to run under (recorded as a change when it differs from the
    /// database's); `None` keeps the database's own.
    pub policy: Option<connreq_core::Policy>,
    /// Publish every event to this NATS server's JetStream (`nats://HOST:PORT`).
    pub publish: Option<String>,
    /// Be a read replica of the network whose feed this NATS server holds.
    pub replica_of: Option<String>,
    /// The network a replica follows (its id, 32 hex digits).
    pub network: Option<String>,
    /// Offer the web interface's "sign in as member N" page (loopback addresses only).
    pub demo: bool,
}

/// How long a new replica waits for its network's creation policy.
const POLICY_WAIT: Duration = Duration::from_secs(30);
/// How long a stopping primary waits for the stream to take the events it lacks.
const FEED_DRAIN: Duration = Duration::from_secs(10);

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    // A second server in one process (tests) keeps the first one's logger.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn signalled(tx: watch::Sender<bool>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new connections; finishing what is in flight");
    let _ = tx.send(true);
}

/// Runs the server until SIGTERM or SIGINT. Errors are said in words.
pub fn serve(config: ServeConfig) -> Result<(), String> {
    init_logging(config.log_format);
    if config.demo && !crate::web::demo::loopback_only(&config.listen) {
        return Err(format!(
            "--demo lets anyone who reaches the server sign in as any member, so it listens on a \
             loopback address only (127.0.0.1, [::1] or localhost), not {}",
            config.listen
        ));
    }
    let (secrets, source) = secrets::load_or_create(&config.db)?;
    match &source {
        Source::Environment => tracing::info!("credentials from the environment"),
        Source::File(p) => tracing::info!(file = %p.display(), "credentials from the secrets file"),
        Source::Created(p) => {
            tracing::info!(file = %p.display(), "created the secrets file (mode 0600) with a new service key and token secret")
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("connreq-http")
        .build()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    if let Some(url) = config.replica_of.clone() {
        return serve_replica(&config, &url, secrets, runtime);
    }
    if config.network.is_some() {
        return Err("--network names the network a replica follows; give --replica-of too".into());
    }
    // The writer flushes once per group of commands, so the store itself never does.
    let options = OpenOptions {
        durability: Durability::Manual,
        mail_from: config.mail_from.clone(),
        policy: config.policy.clone(),
        ..OpenOptions::default()
    };
    let store = Arc::new(Store::open_with(&config.db, options).map_err(|e| e.to_string())?);
    let last = store.read(|m| m.last_seq().0).unwrap_or(0);
    let network = crate::feed::network_id(&store.database_id().map_err(|e| e.to_string())?);
    tracing::info!(db = %config.db.display(), events = last, network = %network, "database open");
    let metrics = Arc::new(Metrics::default());
    let hub = Arc::new(Hub::default());
    let degraded = Arc::new(AtomicBool::new(false));
    let (wake_tx, wake_rx) = mpsc::sync_channel(1);
    let (durable_tx, durable_rx) = watch::channel(last);
    let shared = Shared {
        store: store.clone(),
        metrics: metrics.clone(),
        hub: hub.clone(),
        degraded: degraded.clone(),
        wake: config.smtp.as_ref().map(|_| wake_tx),
        durable: durable_tx,
    };
    let (writer, writer_thread) =
        writer::spawn(shared).map_err(|e| format!("cannot start the writer: {e}"))?;
    // One-click unsubscribe links (SPEC §10), signed with a key derived from the token secret.
    let unsubscribe = match &config.public_url {
        Some(url) => {
            let id = store.database_id().map_err(|e| e.to_string())?;
            Some(Unsubscribe::new(url, secrets.token_secret.as_bytes(), &id).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let stop_mail = Arc::new(AtomicBool::new(false));
    let mail_thread = match &config.smtp {
        Some(url) => {
            connreq_store::mail::SmtpUrl::parse(url).map_err(|e| e.to_string())?;
            let mail = MailLoop {
                store: store.clone(),
                writer: writer.clone(),
                url: url.clone(),
                from: config.mail_from.clone(),
                unsubscribe: unsubscribe.clone(),
                metrics: metrics.clone(),
                wake: wake_rx,
                stop: stop_mail.clone(),
            };
            tracing::info!(smtp = %url, "sending emails as they fall due");
            Some(mail.spawn().map_err(|e| format!("cannot start the mail loop: {e}"))?)
        }
        None => None,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let published = match &config.publish {
        Some(url) => {
            let published = Arc::new(AtomicU64::new(0));
            let publisher = Publisher {
                store: store.clone(),
                url: url.clone(),
                network: network.clone(),
                durable: durable_rx,
                primary: primary_url(&config),
                published: published.clone(),
            };
            tracing::info!(nats = %url, network = %network, "publishing every event to JetStream");
            let handle = runtime.spawn(publisher.run(shutdown_rx.clone()));
            Some((published, handle))
        }
        None => None,
    };
    let (published, publisher) = published.unzip();
    let app = Arc::new(App {
        store: store.clone(),
        writer: writer.clone(),
        secrets,
        unsubscribe,
        metrics,
        hub,
        degraded,
        shutdown: shutdown_rx.clone(),
        replica: None,
        published,
        demo: config.demo,
    });
    let served = run_http(&runtime, &config.listen, config.demo, app, shutdown_tx, shutdown_rx);
    if let Some(publisher) = publisher {
        // Every command answered is durable now: the feed publishes what the
        // stream lacks before the server exits (a promotion then loses nothing),
        // unless NATS cannot take it within FEED_DRAIN.
        let drained = runtime.block_on(async { tokio::time::timeout(FEED_DRAIN, publisher).await });
        if drained.is_err() {
            tracing::warn!("the stream does not hold every event yet: the next start publishes the rest");
        }
    }
    drop(runtime);
    stop_mail.store(true, Ordering::Relaxed);
    if let Some(t) = mail_thread {
        let _ = t.join();
    }
    writer.stop();
    let _ = writer_thread.join();
    let closed = store.close().map_err(|e| e.to_string());
    tracing::info!("stopped");
    served.and(closed)
}

/// The URL commands go to, as replicas name it: the public URL, or the address listened on.
fn primary_url(config: &ServeConfig) -> String {
    config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen))
}

/// A read replica: its own database fed from the stream, every query, no command.
fn serve_replica(
    config: &ServeConfig,
    url: &str,
    secrets: secrets::Secrets,
    runtime: tokio::runtime::Runtime,
) -> Result<(), String> {
    let network =
        config.network.clone().ok_or("--replica-of needs --network ID (the primary's network id)")?;
    let id = crate::feed::database_id(&network)
        .ok_or_else(|| format!("--network {network:?} is not a network id (32 hex digits)"))?;
    if config.publish.is_some() || config.smtp.is_some() || config.policy.is_some() {
        return Err("a replica publishes nothing, sends no email and takes its policy from the primary: \
                    leave out --publish, --smtp and --policy"
            .into());
    }
    // A new replica's database starts from the network's creation policy.
    let policy = if config.db.join("db").exists() {
        None
    } else {
        Some(runtime.block_on(follow::creation_policy(url, &network, POLICY_WAIT))?)
    };
    let options = OpenOptions {
        durability: Durability::Background,
        mail_from: config.mail_from.clone(),
        policy,
        database_id: Some(id),
        ..OpenOptions::default()
    };
    let store = Arc::new(Store::open_with(&config.db, options).map_err(|e| e.to_string())?);
    let own = crate::feed::network_id(&store.database_id().map_err(|e| e.to_string())?);
    if own != network {
        let _ = store.close();
        return Err(format!(
            "the database at {} belongs to network {own}, not {network}; give a new directory",
            config.db.display()
        ));
    }
    let applied = store.last_seq().map_err(|e| e.to_string())?.0;
    tracing::info!(db = %config.db.display(), events = applied, network = %network, nats = %url, "read replica");
    let status = Arc::new(ReplicaStatus::new(String::new(), url.to_owned(), applied));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let follower = Follower { store: store.clone(), url: url.to_owned(), network, status: status.clone() };
    runtime.spawn(follower.run(shutdown_rx.clone()));
    let app = Arc::new(App {
        store: store.clone(),
        writer: writer::Writer::replica(status.clone()),
        secrets,
        unsubscribe: None,
        metrics: Arc::new(Metrics::default()),
        hub: Arc::new(Hub::default()),
        degraded: Arc::new(AtomicBool::new(false)),
        shutdown: shutdown_rx.clone(),
        replica: Some(status),
        published: None,
        demo: config.demo,
    });
    let served = run_http(&runtime, &config.listen, config.demo, app, shutdown_tx, shutdown_rx);
    drop(runtime);
    let closed = store.close().map_err(|e| e.to_string());
    tracing::info!("stopped");
    served.and(closed)
}

/// Serves `app` on `listen` until SIGTERM or SIGINT.
fn run_http(
    runtime: &tokio::runtime::Runtime,
    listen: &str,
    demo: bool,
    app: Arc<App>,
    shutdown_tx: watch::Sender<bool>,
    shutdown_rx: watch::Receiver<bool>,
) -> Result<(), String> {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(address = %addr, "listening");
        if demo {
            tracing::info!("demo: open http://{addr}/demo to sign in as any member");
        }
        tokio::spawn(signalled(shutdown_tx));
        let mut done = shutdown_rx;
        axum::serve(listener, routes::app(app))
            .with_graceful_shutdown(async move {
                let _ = done.wait_for(|stop| *stop).await;
            })
            .await
            .map_err(|e| format!("the server failed: {e}"))
    })
}
