"""The README's screenshots, taken in Chromium from a running server with the demo data.

    python manage.py seed_demo && python manage.py runserver 127.0.0.1:8000
    python scripts/screenshots.py [--base-url http://127.0.0.1:8000] [--out docs/screenshots]

It logs in as the demo users (`demo/people.py`) through the log-in page and saves, at a
1280x800 viewport: the coordinator's work list, a participant's page with its plots, the
investigator's adverse-event review queue, and the participant's page in Chinese. The demo
data has no adverse event, so when the RP study's review queue is empty the demo coordinator
first reports two through the adverse-event form (written to the server's database, as any
user's report would be). Nothing else is written. Chromium is Debian's (/usr/bin/chromium,
as the browser tests use); Playwright downloads none.
"""

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "il2-demo-password"  # demo/people.py DEMO_PASSWORD
STUDY = "LDIL2-RP"
SITE_TIMEZONE = "Asia/Shanghai"  # the RP demo site's (PKUPH)
#: The demo participant 60 days into the study: the most visits and doses entered.
PARTICIPANT = "RP-S001"


def log_in(page: Page, base: str, username: str, lang: str = "en") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('main [name="username"]', username)
    page.fill('main [name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('main button[type="submit"]')
    if page.url.endswith("/accounts/login/"):
        raise SystemExit(f"{username} could not log in: is the demo data seeded?")
    if lang != "en":
        page.locator("nav .dropdown-toggle").last.click()
        with page.expect_navigation():
            page.click(f'nav form:has(input[name="language"][value="{lang}"]) button')


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)  # the charts' drawing animation
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} kB")


def participant_path(page: Page, base: str) -> str:
    page.goto(f"{base}/participants/studies/{STUDY}/")
    link = page.locator("main table a", has_text=PARTICIPANT).first
    return link.get_attribute("href")


def report_adverse_events(page: Page, base: str, path: str) -> None:
    """Two adverse events for the review queue: a serious one known an hour ago (its
    initial report due within a day) and a mild injection-site reaction."""
    pk = path.strip("/").split("/")[-1]
    aware = datetime.now(ZoneInfo(SITE_TIMEZONE)) - timedelta(hours=1)
    events = [
        {
            "term": "Pneumonia",
            "grade": "3",
            "serious": True,
            "hospitalisation": True,
            "relationship": "possible",
            "expectedness": "unexpected",
            "outcome": "NOT RECOVERED/NOT RESOLVED",
            "awareness": aware,
        },
        {
            "term": "Injection site erythema",
            "grade": "1",
            "serious": False,
            "relationship": "probable",
            "expectedness": "expected",
            "outcome": "RECOVERED/RESOLVED",
            "awareness": aware - timedelta(days=1),
        },
    ]
    for event in events:
        page.goto(f"{base}/safety/participants/{pk}/adverse-events/new/")
        when = event.pop("awareness")
        ongoing = event["outcome"].startswith("NOT")
        values = {
            **event,
            "onset_date": when.date().isoformat(),
            "awareness_at": when.strftime("%Y-%m-%dT%H:%M"),
            "ongoing": ongoing,
            "action_taken": "DOSE NOT CHANGED",
        }
        if not ongoing:
            values["end_date"] = when.date().isoformat()
        for name, value in values.items():
            fill(page, name, value)
        with page.expect_navigation():
            page.click('main button[type="submit"]')
        if "/adverse-events/new/" in page.url:
            raise SystemExit(f"the adverse event was refused: {page.url}")


def fill(page: Page, name: str, value) -> None:
    """Type, choose or tick a field by name, whatever its kind of input."""
    element = page.locator(f'main [name="{name}"]')
    kind = element.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
    if kind.startswith("select"):
        element.select_option(str(value))
    elif kind.endswith(":radio"):
        page.check(f'main [name="{name}"][value="{value}"]')
    elif kind.endswith(":checkbox"):
        element.set_checked(bool(value))
    else:
        element.fill(str(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    base, out = args.base_url.rstrip("/"), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def tab(username: str, lang: str = "en") -> Page:
            context = browser.new_context(viewport=VIEWPORT, locale=lang)
            page = context.new_page()
            log_in(page, base, username, lang)
            return page

        coordinator = tab("coordinator")
        path = participant_path(coordinator, base)
        investigator = tab("investigator")
        investigator.goto(f"{base}/safety/studies/{STUDY}/review-queue/")
        if investigator.locator('main a[href^="/safety/adverse-events/"]').count() == 0:
            report_adverse_events(coordinator, base, path)

        coordinator.goto(f"{base}/")
        shoot(coordinator, out, "coordinator-work-list")

        coordinator.goto(f"{base}{path}")
        coordinator.locator("#plot-efficacy").scroll_into_view_if_needed()
        shoot(coordinator, out, "participant-plots")

        investigator.goto(f"{base}/safety/studies/{STUDY}/review-queue/")
        shoot(investigator, out, "ae-review-queue")

        chinese = tab("coordinator", "zh-hans")
        chinese.goto(f"{base}{path}")
        shoot(chinese, out, "participant-zh-hans")
        browser.close()


if __name__ == "__main__":
    main()
