//! `connreq simulate`: a seeded population driven through simulated time
//! against any [`Network`], then scored. See [`engine`] for the model and
//! [`report`] for what is measured.

pub mod engine;
pub mod population;
pub mod reactions;
pub mod report;

pub use engine::{PolicyChoice, SimConfig, Simulation};
pub use population::{Label, Population, Scenario, Tie};
pub use report::SimReport;

use connreq_core::{Error, Network};
use indicatif::ProgressBar;
use std::time::Instant;

/// Runs a whole simulation on `net` (which must be empty) and scores it.
/// `finish` is called once the run is over: it flushes the database and
/// returns its size in bytes.
pub fn simulate<N: Network>(
    net: &N,
    config: &SimConfig,
    progress: &ProgressBar,
    finish: impl FnOnce() -> Result<u64, Error>,
) -> Result<SimReport, Error> {
    let started = Instant::now();
    let events = net.stats()?.events;
    if events > 0 {
        return Err(Error::InvalidInput(format!(
            "simulate needs an empty database; this one already holds {events} events \
             (pass --replace to start afresh, or --db for another path)"
        )));
    }
    let mut sim = Simulation::new(net, config)?;
    progress.set_length(u64::from(config.days));
    for day in 0..config.days {
        sim.run_day(day)?;
        progress.set_message(format!("{} invitations", sim.counters().sends));
        progress.inc(1);
    }
    progress.finish_and_clear();
    let db_bytes = finish()?;
    let mut report = report::score(net, config, &sim)?;
    report.db_bytes = db_bytes;
    report.run_time_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::{EventBody, MemberId, MemoryNetwork, Timestamp};

    fn run(config: &SimConfig) -> (MemoryNetwork, SimReport) {
        let net = MemoryNetwork::new(config.policy().unwrap()).unwrap();
        let report = simulate(&net, config, &ProgressBar::hidden(), || Ok(0)).unwrap();
        (net, report)
    }

    #[test]
    fn a_tenth_of_the_members_send_at_least_forty_percent_of_invitations() {
        let config = SimConfig { members: 1000, days: 30, seed: 11, ..SimConfig::default() };
        let (net, _) = run(&config);
        let mut per_sender = vec![0u64; 1000];
        for e in net.log() {
            if let EventBody::InvitationSent { sender, .. } = e.body {
                per_sender[(sender.0 - 1) as usize] += 1;
            }
        }
        per_sender.sort_unstable_by(|a, b| b.cmp(a));
        let total: u64 = per_sender.iter().sum();
        let top: u64 = per_sender[..100].iter().sum();
        assert!(total > 2000, "{total}");
        assert!(top as f64 >= 0.4 * total as f64, "top 10% sent {top} of {total}");
    }

    #[test]
    fn the_same_seed_gives_the_same_log() {
        let config = SimConfig { members: 200, days: 15, seed: 5, ..SimConfig::default() };
        let (a, ra) = run(&config);
        let (b, rb) = run(&config);
        assert_eq!(a.log(), b.log());
        assert_eq!(SimReport { run_time_seconds: 0.0, ..ra }, SimReport { run_time_seconds: 0.0, ..rb });
    }

    #[test]
    fn time_is_data_from_2026_and_expire_runs_daily() {
        let config = SimConfig {
            members: 200,
            days: 5,
            seed: 1,
            policy: PolicyChoice::Linkedin,
            ..SimConfig::default()
        };
        let (net, report) = run(&config);
        let log = net.log();
        assert_eq!(log[0].at, engine::START);
        assert!(log.last().unwrap().at < Timestamp(engine::START.0 + 5 * 86_400_000));
        assert_eq!(report.policy, "linkedin");
    }

    #[test]
    fn simulate_refuses_a_database_that_is_not_empty() {
        let net = MemoryNetwork::new(Default::default()).unwrap();
        net.register(MemberId(1), None, None, Timestamp(0)).unwrap();
        let err = simulate(&net, &SimConfig::default(), &ProgressBar::hidden(), || Ok(0)).unwrap_err();
        assert!(err.to_string().contains("empty database"), "{err}");
    }
}
