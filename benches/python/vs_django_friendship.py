"""connreq against django-friendship on SQLite: the same mixed workload through both.

django-friendship is the library a Django site would pick for friend requests:
``Friend.objects.add_friend``, ``FriendshipRequest.accept/reject/cancel``,
``Block.objects.add_block`` and the ``Friend.objects`` queries, on the Django
ORM. This script configures Django standalone (no project) with an SQLite file
in a temporary directory, migrates it and runs the workload; then it runs the
same workload through ``connreq.Network`` on a temporary sled database. Each
library runs in a process of its own, one after the other.

The workload is the mixed stream of ``benches/src/workload.rs`` (the same
SplitMix64 generator, the same shares): 30% send, 15% accept, 5% ignore,
5% decline, 7% withdraw, 1% block, and 37% queries (sent, received,
connections, the unread badge), senders heavy-tailed, viewers anyone. It maps
onto django-friendship as:

    send      Friend.objects.add_friend(sender, recipient)
    accept    FriendshipRequest.objects.get(id, to_user).accept()
    ignore    ... .mark_viewed()   (django-friendship has no ignore: the request is marked read)
    decline   ... .reject()
    withdraw  FriendshipRequest.objects.get(id, from_user).cancel()
    block     Block.objects.add_block(blocker, blocked)
    sent      Friend.objects.sent_requests(member)
    received  Friend.objects.requests(member)
    connections Friend.objects.friends(member)
    unread    Friend.objects.unread_request_count(member)

The two do not do the same work. A connreq command also checks invitation
settings, blocks, limits and moderation, records an event, writes in-app
notifications and queues emails; django-friendship writes the request rows
only (and keeps Django's default local-memory cache of its queries).
Durability is matched by default: connreq runs ``durability="background"``
(each command atomic, flushed within 500 ms: at most that much work lost in a
crash; connreq's own default makes every command durable before it returns); SQLite runs
with a WAL journal and ``synchronous=NORMAL`` (the same guarantee).
``--sqlite-journal default`` runs SQLite as Django leaves it (a rollback
journal, an fsync per commit). Setting up (migrating, creating the members) is
not timed; connreq's final flush to disk is.

    pip install -e '.[bench]'       # django, django-friendship
    python benches/python/vs_django_friendship.py [--members 2000] [--operations 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z, epoch milliseconds, as in benches/src/workload.rs
MASK = (1 << 64) - 1
MIX = "30% send, 15% accept, 5% ignore, 5% decline, 7% withdraw, 1% block, 37% queries"


class Rng:
    """SplitMix64, the generator of benches/src/workload.rs: the same seed gives the same stream."""

    def __init__(self, seed: int) -> None:
        self.state = (seed ^ 0x9E3779B97F4A7C15) & MASK

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return (self.next_u64() * n) >> 64

    def active_member(self, members: int) -> int:
        """A member id in 1..=members, heavy-tailed (density proportional to 1/sqrt(id))."""
        u = (self.next_u64() >> 11) / (1 << 53)
        return min(int(members * u * u), members - 1) + 1


class Target(Protocol):
    """One library behind the workload's operations; each returns whether it succeeded."""

    def send(self, sender: int, recipient: int, at: int) -> int | None: ...
    def accept(self, recipient: int, rid: int, at: int) -> bool: ...
    def ignore(self, recipient: int, rid: int, at: int) -> bool: ...
    def decline(self, recipient: int, rid: int, at: int) -> bool: ...
    def withdraw(self, sender: int, rid: int, at: int) -> bool: ...
    def block(self, blocker: int, blocked: int, at: int) -> bool: ...
    def sent(self, member: int) -> int: ...
    def received(self, member: int) -> int: ...
    def connections(self, member: int) -> int: ...
    def unread(self, member: int) -> int: ...


def run_workload(target: Target, members: int, operations: int, seed: int) -> dict[str, Any]:
    """The mixed stream of benches/src/workload.rs (``Mixed::step``), timed."""
    rng = Rng(seed)
    open_requests: list[tuple[int, int, int]] = []
    attempted: Counter[str] = Counter()
    succeeded: Counter[str] = Counter()
    at = START

    def take_open() -> tuple[int, int, int] | None:
        if not open_requests:
            return None
        i = rng.below(len(open_requests))
        open_requests[i], open_requests[-1] = open_requests[-1], open_requests[i]
        return open_requests.pop()

    def record(op: str, ok: object) -> None:
        attempted[op] += 1
        succeeded[op] += bool(ok)

    start = time.perf_counter()
    for _ in range(operations):
        at += 1
        roll = rng.below(100)
        member = rng.active_member(members) if roll < 63 else rng.below(members) + 1
        if roll < 30:
            recipient = rng.below(members) + 1
            rid = target.send(member, recipient, at)
            record("send", rid is not None)
            if rid is not None and len(open_requests) < 100_000:
                open_requests.append((rid, member, recipient))
        elif roll < 45:
            if (taken := take_open()) is not None:
                record("accept", target.accept(taken[2], taken[0], at))
        elif roll < 50:
            if (taken := take_open()) is not None:
                ok = target.ignore(taken[2], taken[0], at)
                record("ignore", ok)
                if ok:
                    open_requests.append(taken)
        elif roll < 55:
            if (taken := take_open()) is not None:
                record("decline", target.decline(taken[2], taken[0], at))
        elif roll < 62:
            if (taken := take_open()) is not None:
                record("withdraw", target.withdraw(taken[1], taken[0], at))
        elif roll < 63:
            record("block", target.block(member, rng.below(members) + 1, at))
        elif roll < 73:
            target.sent(member)
            record("query", True)
        elif roll < 83:
            target.received(member)
            record("query", True)
        elif roll < 93:
            target.connections(member)
            record("query", True)
        else:
            target.unread(member)
            record("query", True)
    finish = getattr(target, "finish", None)
    if finish is not None:
        finish()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "attempted": dict(attempted),
        "succeeded": dict(succeeded),
    }


# -- connreq ------------------------------------------------------------------------------------------


class ConnreqTarget:
    def __init__(self, net: Any) -> None:
        import connreq

        self.net = net
        self.error = connreq.ConnreqError

    def _try(self, call: Callable[[], object]) -> bool:
        try:
            call()
        except self.error:
            return False
        return True

    def send(self, sender: int, recipient: int, at: int) -> int | None:
        try:
            rid: int = self.net.send(sender, recipient, at=at)
        except self.error:
            return None
        return rid

    def accept(self, recipient: int, rid: int, at: int) -> bool:
        return self._try(lambda: self.net.accept(recipient, rid, at=at))

    def ignore(self, recipient: int, rid: int, at: int) -> bool:
        return self._try(lambda: self.net.ignore(recipient, rid, at=at))

    def decline(self, recipient: int, rid: int, at: int) -> bool:
        return self._try(lambda: self.net.decline(recipient, rid, at=at))

    def withdraw(self, sender: int, rid: int, at: int) -> bool:
        return self._try(lambda: self.net.withdraw(sender, rid, at=at))

    def block(self, blocker: int, blocked: int, at: int) -> bool:
        return self._try(lambda: self.net.block(blocker, blocked, at=at))

    def sent(self, member: int) -> int:
        return len(self.net.sent(member))

    def received(self, member: int) -> int:
        return len(self.net.received(member))

    def connections(self, member: int) -> int:
        return len(self.net.connections(member))

    def unread(self, member: int) -> int:
        return len(self.net.notifications(member, unread_only=True))

    def finish(self) -> None:
        self.net.flush()


def run_connreq(members: int, operations: int, seed: int) -> dict[str, Any]:
    import connreq

    with tempfile.TemporaryDirectory(prefix="connreq-bench-") as tmp:
        # Durable within 500 ms, as SQLite's WAL with synchronous=NORMAL (see above).
        net = connreq.Network.open(Path(tmp) / "connreq.db", durability="background")
        setup = time.perf_counter()
        for m in range(1, members + 1):
            net.register(m, email=f"member{m}@example.com", name=f"Member {m}", at=START)
        setup = time.perf_counter() - setup
        result = run_workload(ConnreqTarget(net), members, operations, seed)
        result["setup_seconds"] = setup
        result["stats"] = net.stats()["requests"]
        net.close()
    result["storage"] = "sled (connreq-store), background flush"
    return result


# -- django-friendship ----------------------------------------------------------------------------------


def run_django(members: int, operations: int, seed: int, journal: str) -> dict[str, Any]:
    import django
    from django.conf import settings

    with tempfile.TemporaryDirectory(prefix="django-friendship-bench-") as tmp:
        options: dict[str, str] = {}
        if journal == "wal":
            options["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "friendship"],
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": str(Path(tmp) / "db.sqlite3"),
                    "OPTIONS": options,
                }
            },
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            SECRET_KEY="benchmark-only",
        )
        django.setup()

        from django.contrib.auth.models import User
        from django.core.exceptions import ValidationError
        from django.core.management import call_command
        from django.db import connection
        from friendship.exceptions import AlreadyExistsError, AlreadyFriendsError
        from friendship.models import Block, Friend, FriendshipRequest

        setup = time.perf_counter()
        call_command("migrate", verbosity=0)
        User.objects.bulk_create(
            [User(username=f"member{m}", email=f"member{m}@example.com") for m in range(1, members + 1)]
        )
        users = {int(u.username.removeprefix("member")): u for u in User.objects.all()}
        setup = time.perf_counter() - setup
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]

        refused = (AlreadyExistsError, AlreadyFriendsError, ValidationError, FriendshipRequest.DoesNotExist)

        class DjangoTarget:
            def _act(self, call: Callable[[], object]) -> bool:
                try:
                    call()
                except refused:
                    return False
                return True

            def send(self, sender: int, recipient: int, at: int) -> int | None:
                try:
                    request = Friend.objects.add_friend(users[sender], users[recipient])
                except refused:
                    return None
                rid: int = request.pk
                return rid

            def accept(self, recipient: int, rid: int, at: int) -> bool:
                return self._act(lambda: FriendshipRequest.objects.get(pk=rid, to_user=users[recipient]).accept())

            def ignore(self, recipient: int, rid: int, at: int) -> bool:
                return self._act(lambda: FriendshipRequest.objects.get(pk=rid, to_user=users[recipient]).mark_viewed())

            def decline(self, recipient: int, rid: int, at: int) -> bool:
                return self._act(lambda: FriendshipRequest.objects.get(pk=rid, to_user=users[recipient]).reject())

            def withdraw(self, sender: int, rid: int, at: int) -> bool:
                return self._act(lambda: FriendshipRequest.objects.get(pk=rid, from_user=users[sender]).cancel())

            def block(self, blocker: int, blocked: int, at: int) -> bool:
                return self._act(lambda: Block.objects.add_block(users[blocker], users[blocked]))

            def sent(self, member: int) -> int:
                return len(Friend.objects.sent_requests(users[member]))

            def received(self, member: int) -> int:
                return len(Friend.objects.requests(users[member]))

            def connections(self, member: int) -> int:
                return len(Friend.objects.friends(users[member]))

            def unread(self, member: int) -> int:
                count: int = Friend.objects.unread_request_count(users[member])
                return count

        result = run_workload(DjangoTarget(), members, operations, seed)
        result["setup_seconds"] = setup
        result["storage"] = f"SQLite {sqlite3.sqlite_version}, journal_mode={mode}, synchronous={sync}"
        connection.close()
    return result


# -- driver ---------------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    if args.child == "connreq":
        result = run_connreq(args.members, args.operations, args.seed)
    else:
        result = run_django(args.members, args.operations, args.seed, args.sqlite_journal)
    print(json.dumps(result))


def in_own_process(library: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        library,
        "--members",
        str(args.members),
        "--operations",
        str(args.operations),
        "--seed",
        str(args.seed),
        "--sqlite-journal",
        args.sqlite_journal,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {library} run failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--operations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sqlite-journal",
        choices=["wal", "default"],
        default="wal",
        help="wal: WAL journal, synchronous=NORMAL (matches connreq's durability); default: as Django leaves it",
    )
    parser.add_argument("--child", choices=["connreq", "django"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.members < 2 or args.operations < 1:
        parser.error("--members must be at least 2 and --operations at least 1")
    if args.child:
        child(args)
        return

    print(f"workload: {args.members:,} members, {args.operations:,} operations (seed {args.seed})")
    print(f"  mix: {MIX}")
    print(
        f"versions: python {platform.python_version()}, connreq {version('connreq')}, "
        f"django {version('django')}, django-friendship {version('django-friendship')}"
    )
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}")
    results = {}
    for library in ("connreq", "django"):
        results[library] = in_own_process(library, args)
    names = {"connreq": "connreq", "django": "django-friendship"}
    print()
    print(f"{'library':<18} {'seconds':>8} {'ops/s':>10}   storage")
    for library, r in results.items():
        print(f"{names[library]:<18} {r['seconds']:>8.2f} {args.operations / r['seconds']:>10,.0f}   {r['storage']}")
    ratio = results["django"]["seconds"] / results["connreq"]["seconds"]
    print(f"\nconnreq / django-friendship throughput: {ratio:.1f}x")
    print("\nsucceeded / attempted per operation:")
    ops = ["send", "accept", "ignore", "decline", "withdraw", "block", "query"]
    print(f"  {'':<18}" + "".join(f"{op:>16}" for op in ops))
    for library, r in results.items():
        cells = "".join(f"{r['succeeded'].get(op, 0)}/{r['attempted'].get(op, 0)}".rjust(16) for op in ops)
        print(f"  {names[library]:<18}{cells}")
    print("\nsetup (not timed): " + ", ".join(f"{names[lib]} {r['setup_seconds']:.2f} s" for lib, r in results.items()))


if __name__ == "__main__":
    main()
