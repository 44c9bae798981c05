"""The web interface (SPEC §14) in a real browser: Chromium from the system's packages,
driven by Playwright, against a real ``connreq serve --demo``.

Every wait is Playwright's (``expect`` and ``wait_for`` poll until a deadline); nothing
sleeps. A screenshot of each page goes into the test output: ``CONNREQ_SCREENSHOTS``, else
``web-screenshots`` in pytest's temporary directory (printed at the end of the module).
Without a Chromium they fail, naming how to get one (``scripts/python-test.sh`` installs
Debian's package when it is missing).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import API_KEY, TOKEN_SECRET, Server, free_port
from connreq import Client, InvitationNotAllowed, member_token

#: Text that would run as script if it were ever taken for markup.
EVIL_NAME = '<img src=x onerror="window.__pwned=1">'
EVIL_NOTE = "<script>window.__pwned=2</script><img src=x onerror=window.__pwned=3>"
EVIL_MESSAGE = "<script>window.__pwned=4</script>"
EVIL_MODERATOR = "Mo <script>window.__pwned=5</script>"

expect.set_options(timeout=10_000)


def chromium() -> str | None:
    """The system's Chromium, if there is one."""
    given = os.environ.get("CONNREQ_CHROMIUM")
    if given:
        return given
    if os.access("/usr/bin/chromium", os.X_OK):  # Debian's package
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        pytest.fail("no Chromium found (apt-get install chromium, or set CONNREQ_CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, with the demo's sign-in; each test uses members of its own."""
    s = Server(db=str(tmp_path_factory.mktemp("web") / "served.db"), extra=["--demo"]).start()
    yield s
    s.kill()


_ids = itertools.count(1)


def members(server: Server, *names: str) -> list[int]:
    """Registers members with these names (fresh ids) and returns their ids."""
    ids = []
    with server.client() as c:
        for name in names:
            m = next(_ids)
            c.register(m, email=f"m{m}@example.com", name=name)
            ids.append(m)
    return ids


def api(server: Server, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One call of the API (the service key unless ``token``): status and decoded JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token or API_KEY}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text.strip().startswith(("{", "[")) else text
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "{}")


#: Where ``shoot`` saves (set by the ``screenshots`` fixture).
_shots: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test output's directory of screenshots."""
    given = os.environ.get("CONNREQ_SCREENSHOTS")
    out = Path(given) if given else tmp_path_factory.getbasetemp() / "web-screenshots"
    out.mkdir(parents=True, exist_ok=True)
    _shots[:] = [out]
    yield out
    print(f"\nscreenshots of the web interface: {out}")


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(_shots[0] / f"{name}.png"), full_page=True)


class Visit:
    """A member's browser tab, signed in with their token, watched for what must never happen."""

    def __init__(self, browser: Browser, server: Server, member: int, *, moderator: bool = False) -> None:
        self.server = server
        self.token = member_token(TOKEN_SECRET, member, moderator=moderator)
        self.context = browser.new_context(viewport={"width": 1100, "height": 800})
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self.refuse)
        self.page.goto(f"{server.url}/settings#token={self.token}")
        self.loaded()

    def refuse(self, dialog: Any) -> None:
        """An alert or prompt opened by anything on the page: never expected."""
        self.errors.append(f"a browser dialog opened: {dialog.message}")
        dialog.dismiss()

    def loaded(self) -> None:
        expect(self.page.locator("body")).to_have_attribute("data-loaded", "true")

    def open(self, path: str) -> Page:
        self.page.goto(self.server.url + path)
        self.loaded()
        return self.page

    def live(self) -> None:
        """Waits until the page follows the live stream."""
        expect(self.page.locator("body")).to_have_attribute("data-live", "on")

    def close(self) -> None:
        """Checks what every visit must hold, then closes the tab."""
        origin = self.server.url
        assert all(u.startswith(origin + "/") for u in self.requests), [u for u in self.requests if origin not in u]
        assert not any(self.token in u for u in self.requests), "the token went into a URL"
        assert self.context.cookies() == [], "a cookie was set"
        assert self.page.evaluate("window.__pwned") is None
        assert self.errors == []
        self.context.close()


@pytest.fixture
def visits(browser: Browser, web: Server) -> Iterator[list[Visit]]:
    opened: list[Visit] = []
    yield opened
    for v in opened:
        v.close()
    assert not any(v.token in web.log() for v in opened), "a token was logged"


def visit(visits: list[Visit], browser: Browser, server: Server, member: int, **kw: Any) -> Visit:
    v = Visit(browser, server, member, **kw)
    visits.append(v)
    return v


def card(page: Page, request_id: int) -> Any:
    return page.locator(f'li[data-request="{request_id}"]')


def test_a_withdrawal_through_the_dialog_shows_live_on_the_other_members_page(
    browser: Browser, web: Server, visits: list[Visit]
) -> None:
    ada, bob = members(web, "Ada", "Bob")
    with web.client() as c:
        rid = c.send(ada, bob, "We met at the conference")
    bobs = visit(visits, browser, web, bob)
    inbox = bobs.open("/notifications")
    bobs.live()
    expect(inbox.locator("#badge")).to_have_text("1")
    shoot(inbox, "notifications")

    adas = visit(visits, browser, web, ada)
    sent = adas.open("/sent")
    expect(card(sent, rid)).to_contain_text("Bob")
    shoot(sent, "sent")
    card(sent, rid).get_by_role("button", name="Withdraw").click()
    dialog = sent.locator("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Withdraw your invitation to Bob?")
    dialog.get_by_label("Message (optional)").fill("Sorry, I picked the wrong Bob")
    shoot(sent, "sent-withdraw-dialog")
    dialog.get_by_role("button", name="Withdraw").click()
    expect(dialog).to_be_hidden()
    expect(card(sent, rid)).to_have_count(0)
    expect(sent.locator("#status")).to_have_text("Withdrew the invitation to Bob.")

    live = inbox.locator('.notification[data-kind="invitation_withdrawn"]')
    expect(live).to_contain_text("Sorry, I picked the wrong Bob")
    expect(inbox.locator("#badge")).to_have_text("2")
    with web.client() as c:
        r = c.request(rid)
        assert (r.state, r.message) == ("withdrawn", "Sorry, I picked the wrong Bob")

    live.get_by_role("button", name="Mark read").click()
    expect(inbox.locator("#badge")).to_have_text("1")
    inbox.get_by_role("button", name="Mark all shown as read").click()
    expect(inbox.locator("#badge")).to_be_hidden()
    with web.client() as c:
        assert c.notifications(bob, unread_only=True) == []


def test_accept_ignore_and_decline_with_a_message(browser: Browser, web: Server, visits: list[Visit]) -> None:
    bea, cal, dot, eve, fin = members(web, "Bea", "Cal", "Dot", "Eve", "Fin")
    with web.client() as c:
        c.accept(dot, c.send(cal, dot))  # Bea and Cal will share Dot: one mutual connection.
        c.accept(bea, c.send(dot, bea))
        from_cal = c.send(cal, bea, "Hello Bea")
        from_eve = c.send(eve, bea)
        from_fin = c.send(fin, bea)
    beas = visit(visits, browser, web, bea)
    page = beas.open("/")
    expect(page.locator("li.card")).to_have_count(3)
    expect(card(page, from_cal)).to_contain_text("1 mutual connection: Dot")
    expect(card(page, from_cal)).to_contain_text("Hello Bea")
    shoot(page, "invitations")

    card(page, from_cal).get_by_role("button", name="Accept").click()
    expect(page.locator("#status")).to_have_text("You are now connected with Cal.")
    card(page, from_eve).get_by_role("button", name="Ignore").click()
    expect(page.locator("#status")).to_have_text("Ignored the invitation from Eve.")
    card(page, from_fin).get_by_role("button", name="Decline").click()
    page.locator("dialog").get_by_label("Message (optional)").fill("I only connect with people I know")
    page.locator("dialog").get_by_role("button", name="Decline").click()
    expect(page.locator("#status")).to_have_text("Declined the invitation from Fin.")
    expect(page.locator("li.card")).to_have_count(0)

    with web.client() as c:
        assert c.request(from_cal).state == "accepted"
        assert cal in c.connections(bea)
        assert c.received(bea, state="ignored")[0].id == from_eve
        fins_view = c.sent(fin)[0]
        assert (fins_view.state, fins_view.message) == ("declined", "I only connect with people I know")

    page = beas.open("/connections")
    expect(page.locator(f'li[data-member="{cal}"]')).to_contain_text("Cal")
    shoot(page, "connections")


def test_report_remove_and_block(browser: Browser, web: Server, visits: list[Visit]) -> None:
    fay, gus, hal, ike = members(web, "Fay", "Gus", "Hal", "Ike")
    with web.client() as c:
        from_gus = c.send(gus, fay)
        c.accept(fay, c.send(hal, fay))
        c.accept(fay, c.send(ike, fay))
    fays = visit(visits, browser, web, fay)
    page = fays.open("/")
    card(page, from_gus).get_by_role("button", name="Report").click()
    page.locator("dialog").get_by_label("Reason").select_option("dont_know")
    page.locator("dialog").get_by_role("button", name="Report").click()
    expect(page.locator("#status")).to_have_text("Reported Gus.")
    expect(card(page, from_gus)).to_have_count(0)

    page = fays.open("/connections")
    page.locator(f'li[data-member="{ike}"]').get_by_role("button", name="Remove").click()
    page.locator("dialog").get_by_role("button", name="Remove").click()
    expect(page.locator("#status")).to_have_text("Removed Ike from your connections.")
    expect(page.locator(f'li[data-member="{ike}"]')).to_have_count(0)
    hal_card = page.locator(f'li[data-member="{hal}"]')
    hal_card.get_by_role("button", name="Block").click()
    page.locator("dialog").get_by_role("button", name="Block").click()
    expect(page.locator("#status")).to_have_text("Blocked Hal.")
    with web.client() as c:
        assert c.is_blocked(fay, hal)
        assert not c.is_blocked(fay, ike)
        assert c.connections(fay) == []
        assert c.received(fay, state="ignored")[0].id == from_gus


def test_settings_change_who_may_invite_and_the_email(browser: Browser, web: Server, visits: list[Visit]) -> None:
    ivy, jon = members(web, "Ivy", "Jon")
    ivys = visit(visits, browser, web, ivy)
    page = ivys.open("/settings")
    expect(page.get_by_label("Everyone")).to_be_checked()
    shoot(page, "settings")
    page.get_by_label("Nobody").check()
    expect(page.locator("#status")).to_have_text("Saved who may invite you.")
    with web.client() as c, pytest.raises(InvitationNotAllowed):
        c.send(jon, ivy)

    page.get_by_label("My invitation is accepted").uncheck()
    expect(page.locator("#status")).to_have_text("Saved your email choices.")
    page.get_by_label("One digest a day").check()
    expect(page.locator("#status")).to_have_text("Saved how often you get email.")
    page.get_by_label("Language of my notifications and emails").select_option("de")
    expect(page.locator("#status")).to_have_text("Saved your language.")
    status, prefs = api(web, "GET", f"/v1/members/{ivy}/email-preferences")
    assert status == 200
    assert prefs["preferences"]["invitation_accepted"] is False
    assert (prefs["frequency"], prefs["locale"]) == ("daily", "de")

    page = ivys.open("/settings")
    expect(page.get_by_label("Nobody")).to_be_checked()
    expect(page.get_by_label("One digest a day")).to_be_checked()


def flag_by_withdrawals(c: Client, sender: int, recipient: int, message: str | None = None) -> None:
    for _ in range(3):
        c.withdraw(sender, c.send(sender, recipient), message)


def test_a_moderator_clears_one_flag_and_restricts_another_then_lifts_it(
    browser: Browser, web: Server, visits: list[Visit]
) -> None:
    kim, lea, max_, ned, mod = members(web, EVIL_NAME, "Lea", "Max", "Ned", EVIL_MODERATOR)
    with web.client() as c:
        flag_by_withdrawals(c, kim, lea, EVIL_MESSAGE)
        flag_by_withdrawals(c, max_, ned)
    mods = visit(visits, browser, web, mod, moderator=True)
    page = mods.open("/review")
    kims = page.locator(f'li.flag[data-member="{kim}"]')
    expect(kims).to_contain_text("repeated withdrawals")
    # The evidence is the flag's events (GET /v1/flags/{id}/events), in order, as a timeline.
    flag_id = int(kims.get_attribute("data-flag") or 0)
    status, events = api(web, "GET", f"/v1/flags/{flag_id}/events")
    assert status == 200
    assert len(events) >= 3
    timeline = kims.locator(".timeline li")
    expect(timeline).to_have_count(len(events))
    assert [int(s or 0) for s in timeline.evaluate_all("items => items.map(i => i.dataset.seq)")] == [
        e["seq"] for e in events
    ]
    expect(kims.locator(".timeline")).to_contain_text(EVIL_MESSAGE)
    expect(kims.locator("h2")).to_contain_text(EVIL_NAME)
    assert page.locator("#part img, #part script").count() == 0
    shoot(page, "review")

    kims.get_by_role("button", name="Clear").click()
    dialog = page.locator("dialog")
    expect(dialog).to_contain_text(f"You decide as {EVIL_MODERATOR}")
    dialog.get_by_label("Note for the record (optional)").fill(EVIL_NOTE)
    dialog.get_by_role("button", name="Clear").click()
    expect(kims).to_have_count(0)
    maxs = page.locator(f'li.flag[data-member="{max_}"]')
    maxs.get_by_role("button", name="Restrict").click()
    dialog.get_by_label("Note for the record (optional)").fill("Withdrew three times in a row")
    dialog.get_by_role("button", name="Restrict").click()
    expect(maxs).to_have_count(0)
    expect(page.locator("#status")).to_have_text("Restricted Max.")
    _, still_open = api(web, "GET", "/v1/flags")
    n = len(still_open)
    waiting = "No flags are waiting for review." if n == 0 else f"{n} flag{'s' * (n != 1)} waiting for review"
    expect(page.locator("#part .summary")).to_contain_text(waiting)

    # The decisions, with who took them and why, as text.
    decided_kim = page.locator(f'#decided li[data-member="{kim}"]')
    expect(decided_kim).to_contain_text("cleared")
    expect(decided_kim.locator(".moderator-name")).to_have_text(EVIL_MODERATOR)
    expect(decided_kim.locator(".resolution-note")).to_have_text(EVIL_NOTE)
    assert page.locator("#part img, #part script").count() == 0
    _, flags = api(web, "GET", "/v1/flags?status=all")
    decided = {f["member"]: f for f in flags if f["member"] in (kim, max_)}
    assert {m: f["status"] for m, f in decided.items()} == {kim: "cleared", max_: "restricted"}
    assert {m: f["resolved_by"] for m, f in decided.items()} == {kim: mod, max_: mod}
    assert decided[kim]["resolution_note"] == EVIL_NOTE
    assert decided[max_]["resolution_note"] == "Withdrew three times in a row"
    with web.client() as c:
        assert (c.standing(kim), c.standing(max_)) == ("good", "restricted")
    shoot(page, "review-decided")

    page.locator(f'#decided li[data-member="{max_}"]').get_by_role("button", name="Lift the restriction on Max").click()
    dialog.get_by_label("Note for the record (optional)").fill("Appeal upheld")
    dialog.get_by_role("button", name="Lift restriction").click()
    expect(page.locator("#status")).to_have_text("Lifted the restriction on Max.")
    expect(page.get_by_role("button", name="Lift the restriction on Max")).to_have_count(0)
    with web.client() as c:
        assert c.standing(max_) == "good"
        lifts = [e for e in c.events() if e.kind == "restriction_lifted" and e.subject == max_]
    assert [(e.actor, json.loads(e.detail)["note"]) for e in lifts] == [(mod, "Appeal upheld")]

    page = mods.open("/dashboard")
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator("svg.chart title")).to_have_text("Invitations sent, answered and accepted")
    expect(page.locator("#flags-heading")).to_be_visible()
    shoot(page, "dashboard")


def test_member_text_is_shown_as_text_and_runs_nothing(browser: Browser, web: Server, visits: list[Visit]) -> None:
    evil, pat = members(web, EVIL_NAME, "Pat")
    pats = visit(visits, browser, web, pat)
    inbox = pats.open("/notifications")
    pats.live()
    with web.client() as c:
        rid = c.send(evil, pat, EVIL_NOTE)
    live = inbox.locator('.notification[data-kind="invitation_received"]')
    expect(live).to_contain_text(EVIL_NAME)

    page = pats.open("/")
    expect(card(page, rid).locator("h2")).to_have_text(EVIL_NAME)
    expect(card(page, rid).locator(".note")).to_have_text(EVIL_NOTE)
    assert page.locator("#part img, #part script").count() == 0
    card(page, rid).get_by_role("button", name="Decline").click()
    expect(page.locator("dialog h2")).to_have_text(f"Decline the invitation from {EVIL_NAME}?")
    page.locator("dialog").get_by_label("Message (optional)").fill(EVIL_MESSAGE)
    page.locator("dialog").get_by_role("button", name="Decline").click()
    expect(page.locator("#status")).to_have_text(f"Declined the invitation from {EVIL_NAME}.")

    evils = visit(visits, browser, web, evil)
    page = evils.open("/notifications")
    expect(page.locator('.notification[data-kind="invitation_declined"]')).to_contain_text(EVIL_MESSAGE)
    assert page.locator("#part img, #part script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_member_token_cannot_open_the_moderator_pages(browser: Browser, web: Server, visits: list[Visit]) -> None:
    (quin,) = members(web, "Quin")
    quins = visit(visits, browser, web, quin)
    for path in ("/review", "/dashboard"):
        page = quins.open(path)
        expect(page.locator("#status")).to_have_text(
            "This page is for moderators. Sign in with a moderator token to see it."
        )
        expect(page.locator("#part .card, #part svg, #part table")).to_have_count(0)
        expect(page.get_by_role("link", name="Review queue")).to_be_hidden()
    for path in ("/ui/part/review", "/ui/part/dashboard", "/v1/flags", "/v1/stats"):
        status, _ = api(web, "GET", path, token=quins.token)
        assert status == 403, path
    for path in ("/ui/part/review", "/ui/part/invitations"):
        status, body = api(web, "GET", path, token="not-a-token")
        assert status == 401, path
        assert body["error"] == "NotAuthorized"


def test_a_withdrawal_by_keyboard_alone(browser: Browser, web: Server, visits: list[Visit]) -> None:
    rae, sam = members(web, "Rae", "Sam")
    with web.client() as c:
        rid = c.send(rae, sam)
    raes = visit(visits, browser, web, rae)
    page = raes.open("/sent")
    button = card(page, rid).get_by_role("button", name="Withdraw")

    def focused_is_withdraw() -> bool:
        return bool(page.evaluate("document.activeElement && document.activeElement.dataset.act === 'withdraw'"))

    for _ in range(40):
        page.keyboard.press("Tab")
        if focused_is_withdraw():
            break
    assert focused_is_withdraw(), "the Withdraw button is not reachable with Tab"
    outline = button.evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline != "none", "the focus is not visible"

    page.keyboard.press("Enter")
    dialog = page.locator("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Message (optional)")).to_be_focused()
    for _ in range(5):  # Tab goes round the dialog and never leaves it.
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    with web.client() as c:
        assert c.request(rid).state == "pending"

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Message (optional)")).to_be_focused()
    page.keyboard.type("Withdrawn by keyboard")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Withdraw")).to_be_focused()
    page.keyboard.press("Enter")
    expect(card(page, rid)).to_have_count(0)
    with web.client() as c:
        r = c.request(rid)
        assert (r.state, r.message) == ("withdrawn", "Withdrawn by keyboard")


def test_the_demo_signs_in_as_a_member(browser: Browser, web: Server, visits: list[Visit]) -> None:
    tom, uma = members(web, "Tom", "Uma")
    with web.client() as c:
        c.send(uma, tom)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{web.url}/demo")
        shoot(page, "demo")
        page.get_by_label("Member id").fill(str(tom))
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page).to_have_url(f"{web.url}/")
        expect(page.locator("#who")).to_have_text("Tom")
        expect(page.locator("li.card")).to_contain_text("Uma")
        assert context.cookies() == []
    finally:
        context.close()


def test_pages_are_light_strict_and_need_a_sign_in(browser: Browser, web: Server, visits: list[Visit]) -> None:
    (vic,) = members(web, "Vic")
    v = visit(visits, browser, web, vic, moderator=True)
    weight = """() => performance.getEntries()
        .filter(e => e.entryType !== 'resource' || !e.name.includes('/stream'))
        .reduce((n, e) => n + (e.encodedBodySize || 0), 0)"""
    for path in ("/", "/sent", "/connections", "/notifications", "/settings", "/review", "/dashboard"):
        response = v.page.goto(web.url + path)
        v.loaded()
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert 0 < v.page.evaluate(weight) <= 100 * 1024, path

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(web.url + "/")
        expect(page.locator("#signed-out")).to_be_visible()
        expect(page.get_by_role("link", name="Sign in as a member of the demo network")).to_be_visible()
        shoot(page, "signed-out")
    finally:
        context.close()


def test_demo_is_refused_on_an_address_other_machines_reach(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "connreq",
            "--db",
            str(tmp_path / "d.db"),
            "serve",
            "--demo",
            "--listen",
            f"0.0.0.0:{free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode != 0
    assert re.search(r"--demo .* loopback address only", r.stderr), r.stderr
