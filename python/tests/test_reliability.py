"""SPEC §17 from Python: fork safety, durability, read-only opens, damage and
repair, online backup, and text that deceives. Real processes, no mocks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import T0
from connreq import InvalidInput, Network, StorageError

FORKED = "opened in another process; open the database in each worker, or use the server"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


def wait_for_child(pid: int, seconds: float = 30) -> int:
    """The child's exit status; fails (after killing it) if it is still running at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.01)


def in_forked_child(work: Callable[[], str]) -> str:
    """Forks (as gunicorn --preload does with a worker); the child runs ``work()``, which
    returns a text, and exits at once. Returns the child's text."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python warns that forking a process with threads (sled's) may deadlock
        # the child: that is exactly the case being tested.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        try:
            answer = work()
        except BaseException as e:  # report anything to the parent
            answer = f"the child raised {type(e).__name__}: {e}"
        os.write(write, answer.encode())
        os._exit(0)
    os.close(write)
    status = wait_for_child(pid)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    assert os.waitstatus_to_exitcode(status) == 0, answer
    return answer


def test_a_network_opened_before_fork_is_refused_in_the_child_and_the_parent_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    net = Network.open(path)
    assert net.durability == "command"
    for m in range(1, 82):
        net.register(m, at=T0)
    first = [net.send(1, m, at=T0) for m in range(2, 42)]

    def worker() -> str:
        wrong = []
        for name, call in [
            ("register", lambda: net.register(500, at=T0)),
            ("send", lambda: net.send(1, 60, at=T0)),
            ("stats", net.stats),
            ("flush", net.flush),
            ("close", net.close),
        ]:
            try:
                call()
                wrong.append(f"{name} succeeded")
            except StorageError as e:
                if FORKED not in str(e):
                    wrong.append(f"{name}: {e}")
        try:
            Network.open(tmp_path / "other.db")
            wrong.append("a new network opened")
        except StorageError as e:
            if "forked from one that had already opened" not in str(e):
                wrong.append(f"open: {e}")
        return "\n".join(wrong)

    assert in_forked_child(worker) == ""
    # The parent hands out the next ids and keeps every one of them.
    second = [net.send(1, m, at=T0) for m in range(42, 82)]
    assert first == list(range(1, 41))
    assert second == list(range(41, 81))
    assert net.check() == []
    net.close()
    with Network.open(path) as again:
        assert again.stats()["requests"]["pending"] == 80
        assert again.check() == []
    assert not (tmp_path / "other.db").exists()


CHILD = """
import sys
from connreq import Network
net = Network.open(sys.argv[1])
net.register(1)
print("acked 0", flush=True)
for m in range(2, 10_000):
    net.register(m)
    net.send(1, m)
    print(f"acked {m - 1}", flush=True)
"""


def test_every_send_that_returned_survives_kill_9_under_the_default_durability(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    acked = 0
    with subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            acked = int(line.split()[1])
            if acked == 50:
                child.send_signal(signal.SIGKILL)  # at once: no background flush to help
                break
        child.wait()
    assert acked == 50
    with Network.open(path) as net:
        assert net.stats()["requests"]["pending"] >= 50
        assert net.check() == []


def test_durability_is_chosen_by_name(tmp_path: Path) -> None:
    for name in ["command", "background", "manual"]:
        with Network.open(tmp_path / name, durability=name) as net:
            assert net.durability == name
            net.register(1, at=T0)
        with Network.temporary(durability=name) as temp:
            assert temp.durability == name
    with pytest.raises(InvalidInput, match="durability must be"):
        Network.open(tmp_path / "x", durability="sometimes")
    with pytest.raises(InvalidInput, match="durability must be"):
        Network.temporary(durability="never")
    with Network.open(tmp_path / "manual") as net:
        assert net.stats()["events"] == 1


def files(path: Path) -> dict[str, bytes]:
    """Every file of the database but sled's ``snap.*``."""
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith("snap.")
    }


def test_a_network_opened_for_reading_only_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    with Network.open(path) as net:
        for m in range(1, 6):
            net.register(m, name=f"Member {m}", at=T0)
        net.send(1, 2, "hello", at=T0)
    before = files(path)
    with Network.open(path, read_only=True) as net:
        assert net.read_only
        assert net.stats()["events"] == 6
        assert net.sent(1)[0].note == "hello"
        assert net.check() == []
        assert len(net.events()) == 6
        with pytest.raises(StorageError, match="reading only"):
            net.register(9, at=T0)
    assert files(path) == before
    with pytest.raises(StorageError, match="no database"):
        Network.open(tmp_path / "missing", read_only=True)
    assert not (tmp_path / "missing").exists()


def test_a_log_damaged_behind_its_snapshot_warns_refuses_commands_and_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    with Network.open(path, durability="manual") as net:
        for m in range(1, 101):
            net.register(m, at=T0)
    # sled's files as they were after the first 100 events.
    older = tmp_path / "older"
    shutil.copytree(path, older)
    with Network.open(path, durability="manual") as net:
        for m in range(101, 10_102):
            net.register(m, at=T0)  # enough for closing to save a snapshot
    assert (path / "connreq.snapshot").exists()
    # Damage: sled's log goes back to its state of event 100; connreq's
    # snapshot still holds the state through event 10,101.
    for f in path.iterdir():
        if f.name == "db" or f.name == "conf" or f.name.startswith("snap."):
            f.unlink()
    for f in older.iterdir():
        if f.name == "db" or f.name == "conf" or f.name.startswith("snap."):
            shutil.copy(f, path / f.name)
    with pytest.warns(RuntimeWarning, match="the database is damaged: events 101\u201310101"):
        net = Network.open(path)
    with net:
        assert net.damage is not None
        assert "repair" in net.damage
        assert net.stats()["events"] == 10_101
        assert net.public_profile(10_101)["member"] == 10_101
        with pytest.raises(StorageError, match="damaged"):
            net.register(20_000, at=T0)
        assert net.check() != []
        report = net.repair()
        assert report["repaired"] is True
        assert report["history_lost"] == [(101, 10_101)]
        assert report["commands_lost"] is None
        assert report["kept_through"] == 10_101
        assert "events 101\u201310101" in report["summary"]
        assert report["damaged_copy"] == tmp_path / "invites.db.damaged"
        assert net.damage is None
        assert net.check() == []
        net.register(20_000, at=T0)
    with Network.open(path) as again:
        assert again.check() == []
        assert again.stats()["events"] == 10_102


def test_a_backup_taken_while_threads_write_holds_what_was_acknowledged_and_checks_clean(tmp_path: Path) -> None:
    net = Network.open(tmp_path / "invites.db", durability="background")
    for m in range(1, 2001):
        net.register(m, at=T0)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        m = 100_000
        try:
            while not stop.is_set():
                net.register(m, at=T0)
                m += 1
        except BaseException as e:  # reported below
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    acknowledged = net.stats()["events"]
    report = net.backup(tmp_path / "copy")
    stop.set()
    writer.join()
    assert errors == []
    assert report["through"] >= acknowledged
    with Network.open(report["path"]) as copy:
        assert copy.check() == []
        assert copy.stats()["events"] == report["through"]
        assert copy.events() == net.events(limit=report["through"])
    with pytest.raises(StorageError, match="already exists"):
        net.backup(tmp_path / "copy")
    net.close()


def test_bidirectional_controls_are_refused_in_names_notes_and_messages(people: Network) -> None:
    for i, c in enumerate(BIDI):
        text = f"Ada{c}gpj.exe"
        code = f"U\\+{ord(c):04X}"
        with pytest.raises(InvalidInput, match=code):
            people.register(10, name=text, at=T0)
        people.register(100 + i, at=T0)
        with pytest.raises(InvalidInput, match=code):
            people.send(1, 100 + i, text, at=T0)
        rid = people.send(100 + i, 2, at=T0)
        with pytest.raises(InvalidInput, match=code):
            people.decline(2, rid, text, at=T0)
        with pytest.raises(InvalidInput, match=code):
            people.withdraw(100 + i, rid, text, at=T0)
        people.withdraw(100 + i, rid, at=T0)
    assert not any(c in e.detail for e in people.events() for c in BIDI)
