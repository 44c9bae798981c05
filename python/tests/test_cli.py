"""The ``connreq`` command line from the Python package: ``python -m connreq``,
the ``connreq`` console script and ``connreq.run_cli``, all the Rust command line."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import connreq
from conftest import SmtpServer, at
from connreq import Network, run_cli


def stamp(minutes: float = 0) -> str:
    """``at(minutes)`` as the RFC 3339 text ``--at`` takes."""
    return at(minutes).isoformat()


def console_script() -> str:
    """The ``connreq`` command installed next to this interpreter."""
    found = shutil.which("connreq", path=str(Path(sys.executable).parent))
    assert found is not None, f"no connreq command in {Path(sys.executable).parent}: is the package installed?"
    return found


def connreq_cmd(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs the console script with ``args``."""
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=timeout, check=False)


def on(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs the console script on the database ``db``; a failure shows its output."""
    return connreq_cmd("--db", str(db), *args)


def ok(db: Path, *args: str) -> str:
    """Runs a command that must succeed with nothing on standard error; returns standard output."""
    result = on(db, *args)
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def ok_json(db: Path, *args: str) -> Any:
    return json.loads(ok(db, "--json", *args))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "connreq.db"


@pytest.fixture
def two_members(db: Path) -> Path:
    """A database with Ada (1) and Bob (2), both with email addresses."""
    ok(db, "register", "1", "--email", "ada@example.com", "--name", "Ada", "--at", stamp(0))
    ok(db, "register", "2", "--email", "bob@example.com", "--name", "Bob", "--at", stamp(0))
    return db


def test_python_m_connreq_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connreq", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Usage: connreq" in result.stdout
    for command in ("simulate", "register", "send", "decline", "inbox", "dispatch", "check", "batch"):
        assert command in result.stdout


def test_version_is_the_package_version() -> None:
    result = connreq_cmd("--version")
    assert (result.returncode, result.stdout) == (0, f"connreq {connreq.__version__}\n")


def test_register_send_inbox_check(two_members: Path) -> None:
    db = two_members
    assert ok(db, "send", "1", "2", "--note", "We met at the conference", "--at", stamp(1)) == (
        "request 1 sent from member 1 to member 2\n"
    )
    inbox = ok(db, "inbox", "2")
    assert "invitation_received" in inbox
    assert "[unread]" in inbox
    assert "Ada" in inbox
    assert ok(db, "inbox", "1") == "no notifications for member 1\n"
    sent = ok_json(db, "sent", "1")
    assert [(r["id"], r["recipient"], r["state"], r["note"]) for r in sent] == [
        (1, 2, "pending", "We met at the conference")
    ]
    assert ok(db, "check") == "the database is sound\n"
    assert ok_json(db, "check") == {"problems": []}
    # The database is the package's: the Python API reads what the command wrote.
    with Network.open(db) as net:
        assert net.request(1).state == "pending"
        assert [n.kind for n in net.notifications(2)] == ["invitation_received"]


def test_a_refused_command_exits_1(two_members: Path) -> None:
    db = two_members
    ok(db, "send", "1", "2", "--at", stamp(1))
    again = on(db, "send", "1", "2", "--at", stamp(2))
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.startswith("error: ")
    assert again.stderr.count("\n") == 1
    unknown = on(db, "send", "1", "9", "--at", stamp(2))
    assert (unknown.returncode, unknown.stderr) == (1, "error: member 9 is not registered\n")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["send", "1"],
        ["send", "ada", "2"],
        ["register", "1", "--at", "yesterday"],
        ["setting", "1", "sometimes"],
        ["--policy", "strict", "stats"],
        ["dispatch"],
    ],
)
def test_bad_arguments_exit_2(db: Path, args: list[str]) -> None:
    result = on(db, *args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") or result.stderr.startswith("Usage: connreq"), result.stderr
    assert not db.exists()


def test_stats_without_a_database_exits_1(db: Path) -> None:
    result = on(db, "stats")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "there is no database" in result.stderr
    assert not db.exists()


def test_dispatch_delivers_each_email_once(two_members: Path, smtp: SmtpServer) -> None:
    db = two_members
    request = ok_json(db, "send", "1", "2", "--note", "We met at <PyCon>", "--at", stamp(0))
    assert ok(db, "dispatch", "--smtp", smtp.url, "--at", stamp(1)) == "sent 0 email(s)\n"  # none due yet
    sender = "Our Network <hello@net.example>"
    assert ok(db, "dispatch", "--smtp", smtp.url, "--from", sender, "--at", stamp(3)) == "sent 1 email(s)\n"
    ok(db, "decline", "2", str(request["id"]), "--message", "Sorry", "--at", stamp(4))
    assert ok(db, "dispatch", "--smtp", smtp.url, "--at", stamp(10)) == "sent 1 email(s)\n"
    (to_bob, invitation), (to_ada, decline) = smtp.mailbox.messages
    assert to_bob == ["bob@example.com"]
    assert invitation["From"] == sender
    assert "Ada" in invitation["Subject"]
    plain = invitation.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "We met at <PyCon>" in plain.get_content()
    assert to_ada == ["ada@example.com"]
    assert decline["Subject"] == "Your connection request was withdrawn"
    # A second dispatch sends nothing twice.
    assert ok_json(db, "dispatch", "--smtp", smtp.url, "--at", stamp(20)) == {"sent": 0}
    assert len(smtp.mailbox.messages) == 2
    assert ok_json(db, "stats")["unsent_emails"] == 0


def test_preferences_and_locale_show_and_change(two_members: Path) -> None:
    db = two_members
    shown = ok_json(db, "preferences", "2")
    assert shown == {
        "member": 2,
        "preferences": {
            "invitation_received": True,
            "invitation_accepted": True,
            "invitation_declined": True,
            "invitation_withdrawn": True,
            "invitation_reminder": True,
        },
        "frequency": "immediate",
    }
    changed = ok_json(
        db, "preferences", "2", "--off", "all", "--on", "invitation_received", "--frequency", "daily", "--at", stamp(5)
    )
    assert changed["frequency"] == "daily"
    assert [k for k, on in changed["preferences"].items() if on] == ["invitation_received"]
    assert "invitation_accepted: off" in ok(db, "preferences", "2")
    assert ok(db, "locale", "2") == "member 2's language is en\n"
    assert ok(db, "locale", "2", "de", "--at", stamp(6)) == "member 2's language is de\n"
    ok(db, "send", "1", "2", "--at", stamp(30))
    assert "möchte sich mit Ihnen vernetzen" in ok(db, "inbox", "2")
    bad = on(db, "locale", "2", "tlh")
    assert bad.returncode != 0
    assert "en, de, fr, es" in bad.stderr
    bad = on(db, "preferences", "2", "--off", "invitation_expired")
    assert bad.returncode != 0
    assert "invitation_reminder" in bad.stderr


def test_nothing_is_lost_while_the_server_is_down(db: Path, smtp_down: SmtpServer) -> None:
    for member, name in [(1, "ada"), (2, "bob"), (3, "cy"), (4, "di")]:
        ok(db, "register", str(member), "--email", f"{name}@example.com", "--at", stamp(0))
    ok(db, "send", "1", "2", "--at", stamp(0))
    ok(db, "send", "3", "4", "--at", stamp(0))
    down = on(db, "dispatch", "--smtp", smtp_down.url, "--at", stamp(5))
    assert down.returncode == 1
    assert down.stdout == ""
    assert down.stderr.startswith("error: ")
    assert "later" in down.stderr
    assert ok_json(db, "stats")["unsent_emails"] == 2
    smtp_down.start()
    assert ok(db, "dispatch", "--smtp", smtp_down.url, "--at", stamp(6)) == "sent 2 email(s)\n"
    assert sorted(rcpt for rcpt, _ in smtp_down.mailbox.messages) == [["bob@example.com"], ["di@example.com"]]
    assert ok(db, "dispatch", "--smtp", smtp_down.url, "--at", stamp(7)) == "sent 0 email(s)\n"
    assert len(smtp_down.mailbox.messages) == 2


def test_run_cli_in_process(db: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["connreq", "--db", str(db), "register", "1", "--at", stamp(0)]) == 0
    assert capfd.readouterr() == ("registered member 1\n", "")
    assert run_cli(["connreq", "--db", str(db), "register", "1", "--at", stamp(0)]) == 1
    assert capfd.readouterr() == ("", "error: member 1 is already registered\n")
    # Usage errors and --help return their codes; they never exit the interpreter.
    assert run_cli(["connreq", "--db", str(db), "send"]) == 2
    assert "Usage:" in capfd.readouterr().err
    assert run_cli(["connreq", "--help"]) == 0
    assert "Usage: connreq" in capfd.readouterr().out
    assert run_cli([]) == 2
    capfd.readouterr()
    # The command closed the database: the Python API can open it.
    with Network.open(db) as net:
        assert net.stats()["members"]["good"] == 1


def test_run_cli_takes_a_list_of_strings() -> None:
    with pytest.raises(TypeError):
        run_cli("connreq --help")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        run_cli(["connreq", 1])  # type: ignore[list-item]


def test_ctrl_c_stops_a_long_command(db: Path) -> None:
    process = subprocess.Popen(
        [console_script(), "--db", str(db), "simulate", "--members", "1000000", "--days", "3650"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not db.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert db.exists(), "the simulation did not start"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == -signal.SIGINT
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
