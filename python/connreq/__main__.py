"""The ``connreq`` command line: ``python -m connreq ...`` or the ``connreq`` command.

It is the Rust command line (``connreq_cli::run``) run in this process, so it
takes the same arguments and gives the same output and exit codes as the
binary built with ``cargo build -p connreq-cli``. ``connreq --help`` lists the
commands.
"""

from __future__ import annotations

import contextlib
import signal
import sys

from connreq._connreq import run_cli


def main() -> None:
    """Runs ``connreq`` with this process's arguments and exits with its exit code."""
    # The command runs with the interpreter released; Ctrl-C ends the process
    # at once, as it ends the Rust binary, instead of waiting for the command.
    # (Only the main thread may set it; elsewhere the default handling stays.)
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    raise SystemExit(run_cli(["connreq", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
