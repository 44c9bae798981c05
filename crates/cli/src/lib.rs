//! # connreq-cli
//!
//! The `connreq` command line as a library: [`run`] takes the arguments (the
//! program name first, as [`std::env::args`] gives them) and returns the exit
//! code, so the binary and the Python package share one entry point.
//!
//! * `connreq simulate` drives a seeded population through simulated time and
//!   reports what moderation caught against the planted abusers ([`sim`]).
//! * Member commands (`register`, `send`, `accept`, … `review`, `resolve`)
//!   operate on the database at `--db`, each with an optional `--at`.
//! * `check`, `events`, `stats`, `dispatch` inspect and serve the database;
//!   `backup` copies it, `repair` rebuilds a damaged one; `batch` runs many
//!   commands against one database.
//! * `serve` runs the network as an HTTP service (`connreq_server`); `token`
//!   mints a member token; `--server URL` runs the member and operator
//!   commands against a running server instead of the database ([`remote`]).
//!
//! Commands that only read (the views, `stats`, `events`, `check`, `backup`)
//! open the database for reading only and write nothing; `--policy` is
//! refused there. Every command that writes is durable before `connreq`
//! exits (`simulate` flushes once at the end). A damaged database is
//! reported on standard error when it is opened.
//!
//! Output is text for a person, or JSON with `--json`; member text holding
//! bidirectional controls (stored before they were refused) is shown with
//! them escaped, `\u{202e}`. Errors print `error: <message>` on standard
//! error; the exit code is 1 for a connreq error and 2 for bad arguments.

#![warn(missing_docs)]

pub mod batch;
pub mod cli;
pub mod commands;
pub mod db;
pub mod remote;
pub mod sim;
pub mod time;

use clap::Parser;
use cli::{Cli, Command};
use commands::{CliError, Output, execute};
use connreq_core::Error;
use db::{Backend, DEFAULT_DB_PATH, Db, open_db, open_db_read_only};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit code for a connreq error (or any failure that is not a usage error).
pub const EXIT_ERROR: i32 = 1;
/// Exit code for bad arguments, as clap uses it.
pub const EXIT_USAGE: i32 = 2;

/// Runs the command line `args` (program name first) with the process's
/// standard output and error; returns the exit code.
pub fn run(args: Vec<String>) -> i32 {
    // Not locked for the whole run: `serve` logs to standard error from
    // threads of its own.
    run_with(args, &mut io::stdout(), &mut io::stderr())
}

/// [`run`] with the output streams given (for tests and embedding).
pub fn run_with(args: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let _ =
                if e.use_stderr() { err.write_all(text.as_bytes()) } else { out.write_all(text.as_bytes()) };
            return e.exit_code();
        }
    };
    match main_command(cli, out, err) {
        Ok(code) => code,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(CliError::Usage(m)) => {
            let _ = writeln!(err, "error: {m}");
            EXIT_USAGE
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_ERROR
        }
    }
}

fn print(out: &mut dyn Write, output: &Output, json: bool) -> Result<(), CliError> {
    if json {
        writeln!(out, "{}", commands::safe_json(&output.json))?;
    } else {
        out.write_all(connreq_core::text::show_bidi(&output.text).as_bytes())?;
    }
    Ok(())
}

/// Prints the damage opening found, if any, on standard error.
fn warn_damage(db: &Db, err: &mut dyn Write) -> Result<(), CliError> {
    if let Some(damage) = db::damage_of(db)? {
        writeln!(err, "warning: {}", damage.summary())?;
    }
    Ok(())
}

/// The service key for `--server`: CONNREQ_API_KEY, else the secrets file beside `db`.
fn service_key(db: &Path) -> Result<String, CliError> {
    if let Ok(key) = std::env::var(connreq_server::secrets::API_KEY_VAR)
        && !key.is_empty()
    {
        return Ok(key);
    }
    let path = connreq_server::secrets::secrets_path(db);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        CliError::Failed(format!(
            "--server needs the service key: set {} (or run beside the database, whose {} holds it)",
            connreq_server::secrets::API_KEY_VAR,
            path.display()
        ))
    })?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{}=", connreq_server::secrets::API_KEY_VAR)))
        .map(|k| k.trim().to_owned())
        .ok_or_else(|| CliError::Failed(format!("{} holds no service key", path.display())))
}

fn main_command(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let path = cli.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB_PATH));
    if let Some(url) = &cli.server
        && !matches!(cli.command, Command::Serve { .. } | Command::Token { .. })
    {
        if cli.policy.is_some() {
            return Err(CliError::Failed(
                "--policy cannot be given with --server (the server has its policy)".into(),
            ));
        }
        let client =
            connreq_server::Client::new(url, Some(&service_key(&path)?), std::time::Duration::from_secs(30));
        if let Some(output) = remote::execute(&client, &cli.command, out)? {
            print(out, &output, cli.json)?;
        }
        return Ok(0);
    }
    match &cli.command {
        Command::Serve {
            listen,
            smtp,
            mail_from,
            public_url,
            log_format,
            publish,
            replica_of,
            network,
            demo,
        } => {
            let config = connreq_server::ServeConfig {
                db: path,
                listen: listen.clone(),
                smtp: smtp.clone(),
                mail_from: mail_from.clone(),
                public_url: public_url.clone(),
                log_format: match log_format {
                    cli::LogFormat::Text => connreq_server::LogFormat::Text,
                    cli::LogFormat::Json => connreq_server::LogFormat::Json,
                },
                policy: cli.policy.map(|p| p.policy()),
                publish: publish.clone(),
                replica_of: replica_of.clone(),
                network: network.clone(),
                demo: *demo,
            };
            connreq_server::serve(config).map_err(CliError::Failed)?;
            Ok(0)
        }
        Command::Token { member, moderator, ttl } => {
            let secret = connreq_server::secrets::token_secret(&path).map_err(CliError::Failed)?;
            let now = connreq_server::token::now_secs();
            let token =
                connreq_server::token::mint(&secret, connreq_core::MemberId(*member), *ttl, *moderator, now)
                    .map_err(CliError::Failed)?;
            if cli.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "member": member, "moderator": moderator, "token": token })
                )?;
            } else {
                writeln!(out, "{token}")?;
            }
            Ok(0)
        }
        _ => local_command(cli, path, out, err),
    }
}

fn local_command(cli: Cli, path: PathBuf, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    if cli.command.reads_only() && cli.policy.is_some() {
        return Err(CliError::Usage(format!(
            "--policy cannot be given to `{}`: it only reads the database and writes nothing, \
             so it cannot change the policy (give --policy to a command that writes)",
            cli.command.name()
        )));
    }
    match &cli.command {
        Command::Simulate { members, days, seed, replace, scenario, set, in_memory } => {
            let config = sim::SimConfig {
                members: *members,
                days: *days,
                seed: *seed,
                policy: cli.policy.unwrap_or_default(),
                overrides: set.clone(),
                scenario: *scenario,
            };
            // A wrong field is refused before anything is removed.
            let policy = config.policy()?;
            if *in_memory {
                let net = connreq_core::MemoryNetwork::new(policy)?;
                let report = sim::simulate(&net, &config, &ProgressBar::hidden(), || Ok(0))?;
                print_report(&report, cli.json, out)?;
                return Ok(0);
            }
            if *replace {
                remove_database(&path)?;
            }
            simulate(&path, &config, cli.json, out)?;
            Ok(0)
        }
        Command::Batch { file, keep_going } => {
            let db = open_db(&path, cli.policy.map(|p| p.policy()))?;
            warn_damage(&db, err)?;
            let code = match file {
                Some(f) => {
                    let file = std::fs::File::open(f)
                        .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", f.display())))?;
                    run_batch(&db, io::BufReader::new(file), cli.json, *keep_going, out, err)?
                }
                None => run_batch(&db, io::stdin().lock(), cli.json, *keep_going, out, err)?,
            };
            db.flush()?;
            Ok(code)
        }
        Command::Check => check(&path, cli.json, out, err),
        Command::Repair => {
            if !path.exists() {
                return Err(missing(&path));
            }
            let report = db::repair_db(&path)?;
            print(out, &commands::repair_output(&report), cli.json)?;
            Ok(0)
        }
        command => {
            if (command.reads_only() || matches!(command, Command::Dispatch { .. })) && !path.exists() {
                return Err(missing(&path));
            }
            let db = if command.reads_only() {
                open_db_read_only(&path)?
            } else {
                open_db(&path, cli.policy.map(|p| p.policy()))?
            };
            warn_damage(&db, err)?;
            if let Command::Backup { dest } = command {
                let report = db::backup_db(&db, dest)?;
                print(out, &commands::backup_output(&report), cli.json)?;
                return Ok(0);
            }
            let result = execute(&db, command, out);
            if !command.reads_only() {
                db.flush()?;
            }
            if let Some(output) = result? {
                print(out, &output, cli.json)?;
            }
            Ok(0)
        }
    }
}

fn missing(path: &Path) -> CliError {
    CliError::Failed(format!(
        "there is no database at {} (run `connreq simulate` or `connreq register` first, or pass --db)",
        path.display()
    ))
}

/// `connreq check`: reads the database only; with `--json`, prints JSON
/// whatever happens: `{"problems": [...]}` (empty when sound), with
/// `"damaged": true` and `"trusted_through"` for a damaged database and
/// `"error"` for one that cannot be read (or is missing).
fn check(path: &Path, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let failed = |e: CliError, out: &mut dyn Write, err: &mut dyn Write| -> Result<i32, CliError> {
        if !json {
            return Err(e);
        }
        let message = e.to_string();
        let value = json!({ "problems": [message], "error": message });
        writeln!(out, "{}", commands::safe_json(&value))?;
        writeln!(err, "error: {message}")?;
        Ok(EXIT_ERROR)
    };
    if !path.exists() {
        return failed(missing(path), out, err);
    }
    let db = match open_db_read_only(path) {
        Ok(db) => db,
        Err(e) => return failed(e.into(), out, err),
    };
    warn_damage(&db, err)?;
    let problems = match db::check_db(&db) {
        Ok(problems) => problems,
        Err(e) => return failed(e.into(), out, err),
    };
    let damage = db::damage_of(&db)?;
    if json {
        // `{"problems": []}` when sound; a damaged database adds what the
        // store serves.
        let value = match &damage {
            None => json!({ "problems": problems }),
            Some(d) => {
                json!({ "problems": problems, "damaged": true, "trusted_through": d.trusted_through.0 })
            }
        };
        writeln!(out, "{}", commands::safe_json(&value))?;
    } else if problems.is_empty() {
        writeln!(out, "the database is sound")?;
    } else {
        for p in &problems {
            writeln!(out, "{}", connreq_core::text::show_bidi(p))?;
        }
    }
    if problems.is_empty() {
        Ok(0)
    } else {
        writeln!(err, "error: the database has {} problem(s)", problems.len())?;
        Ok(EXIT_ERROR)
    }
}

/// Deletes the connreq database at `path` (and only a connreq database).
fn remove_database(path: &Path) -> Result<(), CliError> {
    if !path.exists() {
        return Ok(());
    }
    // Opening proves it is a connreq database (and that no other process has it).
    drop(open_db(path, None)?);
    std::fs::remove_dir_all(path)
        .map_err(|e| CliError::Failed(format!("cannot delete {}: {e}", path.display())))
}

fn simulate(path: &Path, config: &sim::SimConfig, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    // Millions of commands: flushed once, at the end (`finish` below).
    let db = db::open_db_for_bulk(path, Some(config.policy()?))?;
    let progress = if json || !io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(u64::from(config.days));
        if let Ok(style) =
            ProgressStyle::with_template("simulating day {pos}/{len} {wide_bar} {elapsed_precise} · {msg}")
        {
            bar.set_style(style);
        }
        bar
    };
    let report = sim::simulate(&db, config, &progress, || {
        db.flush()?;
        Ok::<u64, Error>(db::db_bytes(path))
    })?;
    print_report(&report, json, out)
}

fn print_report(report: &sim::SimReport, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string(&report).map_err(|e| CliError::Failed(e.to_string()))?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(sim::report::render(report).as_bytes())?;
    }
    Ok(())
}

/// Runs commands from `input`, one per line, against `db`. Returns the exit
/// code: 0 if every line succeeded, else that of the worst failure (2 for a
/// line that does not parse, 1 for a command that failed).
pub fn run_batch<N: Backend>(
    db: &N,
    input: impl BufRead,
    json: bool,
    keep_going: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let mut worst = 0;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| CliError::Failed(format!("cannot read line {}: {e}", n + 1)))?;
        if batch::is_blank(&line) {
            continue;
        }
        let code = match batch_line(db, &line, json, out) {
            Ok(()) => 0,
            Err((code, CliError::Io(e))) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(code),
            Err((code, e)) => {
                writeln!(err, "error: line {}: {e}", n + 1)?;
                code
            }
        };
        worst = worst.max(code);
        if code != 0 && !keep_going {
            break;
        }
    }
    Ok(worst)
}

fn batch_line<N: Backend>(
    db: &N,
    line: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), (i32, CliError)> {
    let usage = |m: String| (EXIT_USAGE, CliError::Failed(m));
    let words = batch::split_line(line).map_err(usage)?;
    let args = std::iter::once("connreq".to_owned()).chain(words);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help or --version inside a batch: print it and go on.
            return out.write_all(e.render().to_string().as_bytes()).map_err(|e| (EXIT_ERROR, e.into()));
        }
        Err(e) => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            return Err(usage(first.strip_prefix("error: ").unwrap_or(first).to_owned()));
        }
    };
    if cli.db.is_some() || cli.policy.is_some() {
        return Err(usage("--db and --policy cannot be given inside a batch".into()));
    }
    if !cli.command.allowed_in_batch() {
        return Err(usage("simulate and batch cannot run inside a batch".into()));
    }
    let output = execute(db, &cli.command, out).map_err(|e| (EXIT_ERROR, e))?;
    if let Some(output) = output {
        print(out, &output, json || cli.json).map_err(|e| (EXIT_ERROR, e))?;
    }
    Ok(())
}
