"""Screenshots of each page of the web interface for docs/web/, taken from a running
``connreq serve --demo`` on a simulated network (README, "The web interface").

    .venv/bin/python scripts/web-screenshots.py http://127.0.0.1:7878 MEMBER [OUT]

Signs in through /demo as MEMBER, then as the moderator the page proposes; needs Playwright and a Chromium
(``CONNREQ_CHROMIUM``, else the first on PATH). Opens the withdraw dialog on /sent
and the restrict dialog on /review without confirming them: it changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright


def loaded(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")


def main() -> None:
    url, member = sys.argv[1], sys.argv[2]
    out = Path(sys.argv[3] if len(sys.argv) > 3 else Path(__file__).resolve().parents[1] / "docs" / "web")
    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("CONNREQ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1000, "height": 720}).new_page()
        page.goto(f"{url}/demo")
        page.screenshot(path=str(out / "demo.png"))
        page.get_by_label("Member id").fill(member)
        page.get_by_role("button", name="Sign in", exact=True).click()
        loaded(page)
        for path, name in [
            ("/", "invitations"),
            ("/connections", "connections"),
            ("/notifications", "notifications"),
            ("/settings", "settings"),
            ("/sent", "sent"),
        ]:
            page.goto(url + path)
            loaded(page)
            page.screenshot(path=str(out / f"{name}.png"))
        withdraw = page.locator('button[data-act="withdraw"]').first
        if withdraw.count():
            withdraw.click()
            page.locator("dialog").get_by_label("Message (optional)").fill("Sorry, I meant to invite someone else.")
            page.screenshot(path=str(out / "sent-withdraw.png"))
            page.keyboard.press("Escape")
        page.goto(f"{url}/demo")
        page.get_by_role("button", name=re.compile(r", a moderator$")).first.click()
        loaded(page)
        page.screenshot(path=str(out / "review.png"))
        restrict = page.locator('button[data-act="restrict"]').first
        if restrict.count():
            restrict.click()
            page.locator("dialog").get_by_label("Note for the record (optional)").fill(
                "Reports from members they never met; restricted pending their answer."
            )
            page.screenshot(path=str(out / "review-decide.png"))
            page.keyboard.press("Escape")
        page.goto(f"{url}/dashboard")
        loaded(page)
        page.screenshot(path=str(out / "dashboard.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
