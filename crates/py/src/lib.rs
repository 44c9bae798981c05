//! # connreq-py
//!
//! The Python extension module `connreq._connreq`: the connreq API of SPEC §8
//! on a `connreq_store::Store`. It translates between Python values and the
//! core's types and holds no rules of its own. Build it with maturin (see
//! `pyproject.toml`); the Python package `connreq` re-exports everything.
//! `run_cli` runs the `connreq` command line (`connreq_cli::run`) in process:
//! the package's `connreq` command is the same program as the Rust binary.

mod arrow;
mod cli;
mod client;
mod convert;
mod errors;
mod network;
mod policy;
mod records;

use crate::convert::Id;
use crate::network::PyNetwork;
use connreq_core::{MemberId, Network as _};
use pyo3::prelude::*;
use std::hint::black_box;
use std::time::Instant;

/// Measures the store's own cost of a query, without the binding: runs
/// ``query`` (``"are_connected"`` or ``"connection_count"``) ``n`` times in a
/// Rust loop on members ``a`` and ``b`` and returns the mean nanoseconds per
/// call. For the overhead benchmark (``benches/python/overhead.py``).
#[pyfunction]
#[pyo3(signature = (net, query, a, b, n))]
fn _bench_rust_loop(py: Python<'_>, net: &PyNetwork, query: &str, a: Id, b: Id, n: u64) -> PyResult<f64> {
    let store = net.store().clone();
    let (a, b) = (MemberId(a.0), MemberId(b.0));
    let connected = match query {
        "are_connected" => true,
        "connection_count" => false,
        other => {
            return Err(errors::invalid(format!(
                "query must be \"are_connected\" or \"connection_count\", not {other:?}"
            )));
        }
    };
    let elapsed = py.detach(|| -> Result<f64, connreq_core::Error> {
        let start = Instant::now();
        for _ in 0..n {
            if connected {
                black_box(store.are_connected(black_box(a), black_box(b))?);
            } else {
                black_box(store.connection_count(black_box(a))?);
            }
        }
        Ok(start.elapsed().as_secs_f64())
    });
    let elapsed = elapsed.map_err(errors::to_pyerr)?;
    Ok(if n == 0 { 0.0 } else { elapsed * 1e9 / n as f64 })
}

/// The connreq extension module; use it through the ``connreq`` package.
#[pymodule]
fn _connreq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyNetwork>()?;
    m.add_class::<client::PyClient>()?;
    m.add_function(wrap_pyfunction!(client::member_token, m)?)?;
    m.add_class::<policy::PyPolicy>()?;
    m.add_class::<records::Request>()?;
    m.add_class::<records::Notification>()?;
    m.add_class::<records::Email>()?;
    m.add_class::<records::Flag>()?;
    m.add_class::<records::Event>()?;
    m.add_class::<records::Invitation>()?;
    m.add_class::<records::Suggestion>()?;
    m.add_class::<arrow::EventStream>()?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_rust_loop, m)?)?;
    errors::add_all(m)?;
    // `__all__` lists the public names only (not the benchmark helper).
    let all: Vec<String> = m.getattr("__all__")?.extract()?;
    let public: Vec<String> = all.into_iter().filter(|name| !name.starts_with('_')).collect();
    m.setattr("__all__", public)?;
    Ok(())
}
