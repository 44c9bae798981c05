//! `run_cli`: the `connreq` command line (`connreq_cli::run`) inside the
//! Python process, so the package's `connreq` command and `python -m connreq`
//! are the same program as the Rust binary.

use pyo3::prelude::*;
use std::io::Write;

/// Flushes ``sys.stdout`` and ``sys.stderr`` (when there are any), so what
/// Python printed before comes out before what the command prints.
fn flush_python_streams(py: Python<'_>) {
    let Ok(sys) = py.import("sys") else { return };
    for name in ["stdout", "stderr"] {
        if let Ok(stream) = sys.getattr(name)
            && !stream.is_none()
        {
            // A stream that cannot be flushed has nothing of ours to lose.
            let _ = stream.call_method0("flush");
        }
    }
}

/// Runs the ``connreq`` command line and returns its exit code.
///
/// ``argv`` is the whole command line, program name first, as in
/// ``sys.argv``: ``run_cli(["connreq", "--db", "invites.db", "stats"])``.
/// The command writes to the process's standard output and error (file
/// descriptors 1 and 2, not ``sys.stdout``), and reads standard input for
/// ``batch``. The exit code is 0 on success, 1 for a connreq error (the message
/// is on standard error, ``error: ...``) and 2 for bad arguments; ``--help``
/// and ``--version`` print and return 0. It never raises for a failing command
/// and never exits the interpreter.
///
/// The interpreter is released while the command runs, so other Python threads
/// go on; a long command (``simulate``) is not interrupted by ``KeyboardInterrupt``.
#[pyfunction]
#[pyo3(signature = (argv))]
pub fn run_cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    flush_python_streams(py);
    py.detach(|| {
        let code = connreq_cli::run(argv);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    })
}
