"""The stubs match the extension module, and typical code type-checks against them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import connreq

PACKAGE = Path(connreq.__file__).parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_stubs_match_the_module() -> None:
    result = run("mypy.stubtest", "connreq._connreq")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed() -> None:
    assert (PACKAGE / "py.typed").exists()
    assert (PACKAGE / "_connreq.pyi").exists()


def test_typical_code_type_checks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            from datetime import datetime, timedelta, timezone
            from connreq import ConnreqError, Network, Policy, Request

            policy = Policy(weekly_invite_limit=50, pending_ttl=timedelta(days=30))
            with Network.temporary(policy) as net:
                t = datetime(2026, 10, 3, tzinfo=timezone.utc)
                net.register(1, email="a@example.com", name="Ada", at=t)
                net.register(2, at=1_790_000_000_000)
                rid: int = net.send(1, 2, "hi")
                req: Request = net.request(rid)
                created: datetime = req.created_at
                states: list[str] = [r.state for r in net.sent(1, state="pending")]
                count: int = net.public_profile(1)["connection_count"]
                pending: int = net.stats()["requests"]["pending"]
                stream = net.events_arrow(since=0)
                rows: int = len(stream)
                capsule: object = stream.__arrow_c_stream__()
                try:
                    net.accept(2, rid)
                except ConnreqError as e:
                    print(e)
            """
        )
    )
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """
            from connreq import Network
            net = Network.temporary()
            net.send(1, 2, at="yesterday")
            net.sent(1, state="ignored-ish")
            x: str = net.connection_count(1)
            """
        )
    )
    ok = run("mypy", "--strict", "--no-incremental", str(sample), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = run("mypy", "--strict", "--no-incremental", str(bad), cwd=tmp_path)
    assert wrong.returncode == 1
    assert wrong.stdout.count("error:") == 3, wrong.stdout


def test_every_public_name_has_a_docstring() -> None:
    assert connreq.__doc__
    missing = []
    for name in connreq.__all__:
        obj = getattr(connreq, name)
        if not isinstance(obj, type):
            continue
        if not obj.__doc__:
            missing.append(name)
        for attr, value in vars(obj).items():
            if attr.startswith("_") and attr not in {"__enter__", "__exit__", "__new__"}:
                continue
            if callable(value) or isinstance(value, property) or hasattr(value, "__get__"):
                doc = getattr(value, "__doc__", None)
                if not doc:
                    missing.append(f"{name}.{attr}")
    assert missing == []
