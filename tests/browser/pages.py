"""What the browser journeys share: a tab per person, and every page it reaches checked.

`Journey` opens a `Tab` for a user (logged in through the log-in page, in the journey's
language chosen through the language menu). `Tab.goto` and `Tab.seen` record each page: a
screenshot in the artefacts folder, axe-core's serious and critical violations (a journey
fails on any), Content-Security-Policy refusals reported by the browser, and the page's text
and markup (so a journey can ask what a person saw on all of them, e.g. no arm). The page
objects below hold each page's selectors, so a journey reads as what a person does.
Selectors use names, ids, URLs and roles, never English text: each journey runs in English
and in Chinese.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.factories import PASSWORD

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

# axe's impact levels that fail a journey.
BLOCKING = ("serious", "critical")

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@dataclass
class Seen:
    """One page as a person saw it."""

    step: str
    url: str
    text: str
    html: str


@dataclass
class Journey:
    browser: Browser
    base_url: str
    name: str
    lang: str
    artifacts: Path
    tabs: list[Tab] = field(default_factory=list)
    step_count: int = 0

    def open(self, user, *, viewport=DESKTOP, password=PASSWORD) -> Tab:
        """A fresh browser context logged in as `user`, pages in the journey's language."""
        context = self.browser.new_context(viewport=viewport, base_url=self.base_url)
        tab = Tab(self, context, context.new_page(), user.get_username())
        # The log-in and home pages are checked once a journey: the next people's are alike.
        LoginPage(tab).log_in(user.get_username(), password, check=not self.tabs)
        self.tabs.append(tab)
        if self.lang != "en":
            tab.choose_language(self.lang)
        return tab

    def next_step(self) -> int:
        self.step_count += 1
        return self.step_count

    def close(self):
        for tab in self.tabs:
            tab.context.close()


class Tab:
    def __init__(self, journey: Journey, context: BrowserContext, page: Page, who: str):
        self.journey = journey
        self.context = context
        self.page = page
        self.who = who
        self.history: list[Seen] = []
        self.csp_refusals: list[str] = []
        page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.csp_refusals.append(f"{self.page.url}: {message.text}")

    # navigation -------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.journey.base_url + path

    def goto(self, path: str, step: str, *, status: int = 200) -> Tab:
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == status, (
            f"{path}: {response and response.status}, expected {status}"
        )
        return self.seen(step)

    def seen(self, step: str) -> Tab:
        """Record the page now shown, screenshot it and check its accessibility."""
        page = self.page
        page.wait_for_load_state("load")
        number = self.journey.next_step()
        slug = re.sub(r"[^\w-]+", "-", step)
        shot = f"{self.journey.name}-{self.journey.lang}-{number:02d}-{self.who}-{slug}.png"
        page.screenshot(path=str(self.journey.artifacts / shot), full_page=True)
        self.history.append(Seen(step, page.url, page.inner_text("body"), page.content()))
        violations = self.axe()
        assert not violations, f"{step} ({page.url}): axe found\n" + json.dumps(
            violations, indent=1, ensure_ascii=False
        )
        assert not self.csp_refusals, self.csp_refusals
        return self

    def axe(self) -> list[dict]:
        """axe-core's serious and critical violations on the page shown."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated by the browser's debugging protocol, which the page's CSP does not
            # govern (a <script> tag of it would be refused: script-src 'self').
            self.page.evaluate(axe_source())
        violations = self.page.evaluate(_AXE_RUN)
        return [v for v in violations if v["impact"] in BLOCKING]

    def submit(self, step: str, button: str = 'button[type="submit"]', *, form=None) -> Tab:
        """Press a form's submit button and record the page the answer shows."""
        scope = form if form is not None else self.page.locator("main")
        with self.page.expect_navigation():
            scope.locator(button).first.click()
        return self.seen(step)

    # forms ------------------------------------------------------------------------------
    def field(self, name: str, within: str = "main"):
        return self.page.locator(f'{within} [name="{name}"]')

    def fill(self, within: str = "main", **values) -> Tab:
        for name, value in values.items():
            element = self.field(name, within)
            tag = element.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
            if tag.startswith("select"):
                element.select_option(str(value))
            elif tag.endswith(":radio"):
                self.page.locator(f'{within} [name="{name}"][value="{value}"]').check()
            elif tag.endswith(":checkbox"):
                element.set_checked(bool(value))
            else:
                element.fill(str(value))
        return self

    def value(self, name: str) -> str:
        return self.field(name).first.input_value()

    def errors(self) -> list[str]:
        """The names of the fields that show an error message next to them."""
        return self.page.eval_on_selector_all(
            "main .is-invalid[name]", "els => els.map(e => e.name)"
        )

    def focused_name(self) -> str | None:
        return self.page.evaluate("() => document.activeElement && document.activeElement.name")

    # the person -------------------------------------------------------------------------
    def choose_language(self, code: str):
        toggler = self.page.locator("nav .navbar-toggler")
        if toggler.is_visible():  # a small screen folds the menus away
            toggler.click()
        self.page.locator("nav .dropdown-toggle").last.click()
        with self.page.expect_navigation():
            choice = f'nav form:has(input[name="language"][value="{code}"]) button'
            self.page.locator(choice).click()
        expect(self.page.locator("html")).to_have_attribute("lang", code)

    def post(self, path: str, step: str, data: dict | None = None, *, status: int) -> Tab:
        """Send a form to `path` from this page, as a crafted page would (with the CSRF
        token), to see the answer to a write the page itself does not offer."""
        token = next(c["value"] for c in self.context.cookies() if c["name"] == "csrftoken")
        fields = {"csrfmiddlewaretoken": token, **(data or {})}
        with self.page.expect_navigation() as navigation:
            self.page.evaluate(
                """([action, fields]) => {
                  const form = document.createElement("form");
                  form.method = "post"; form.action = action;
                  for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = name; input.value = value;
                    form.appendChild(input);
                  }
                  document.body.appendChild(form); form.submit();
                }""",
                [self.url(path), fields],
            )
        assert navigation.value.status == status, f"{path}: {navigation.value.status}"
        return self.seen(step)

    def is_styled_error_page(self) -> bool:
        """The app's own page (navigation, main landmark, a heading), not a bare message."""
        page = self.page
        return (
            page.locator("nav.navbar-app").count() == 1
            and page.locator("main#main h1").count() == 1
            and page.locator("main .alert").count() >= 1
        )

    def everything_seen(self) -> str:
        return "\n".join(seen.text + "\n" + seen.html for seen in self.history)

    def has_no_horizontal_scroll(self) -> bool:
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )


class LoginPage:
    def __init__(self, tab: Tab):
        self.tab = tab

    def log_in(self, username: str, password: str, *, check: bool = True):
        tab = self.tab
        if check:
            tab.goto("/accounts/login/", "login")
        else:
            tab.page.goto(tab.url("/accounts/login/"))
        tab.fill(username=username, password=password)
        if check:
            tab.submit("home")
        else:
            with tab.page.expect_navigation():
                tab.page.locator('main button[type="submit"]').click()
        assert not tab.page.url.endswith("/accounts/login/"), f"{username} was not logged in"


class WorkList:
    """The home page's work lists: a section per kind of work for each of the user's roles
    (trials.worklist), each row linking to the page where the work is done."""

    def __init__(self, tab: Tab):
        self.tab = tab

    def open(self, step="work-list") -> WorkList:
        self.tab.goto("/", step)
        return self

    def section(self, key: str):
        return self.tab.page.locator(f'main section.worklist-section[data-section="{key}"]')

    def count(self, key: str) -> int:
        return int(self.section(key).get_attribute("data-count"))

    def nav_count(self) -> int | None:
        """The navigation's badge: the number of things to do the home page counted."""
        badge = self.tab.page.locator("#nav-work [data-work]")
        return int(badge.get_attribute("data-work")) if badge.count() else None

    def row(self, key: str, href: str):
        """The section's row that links to `href`."""
        return self.section(key).locator(f'tbody tr:has(a[href="{href}"])')

    def see_all(self, key: str) -> Tab:
        """Follow the section's link to its whole list (filtered by site or day)."""
        with self.tab.page.expect_navigation():
            self.section(key).locator(f'a[href="/work/{key}/"]').click()
        return self.tab.seen(f"work-{key}")

    def follow(self, key: str, href: str, step: str) -> Tab:
        with self.tab.page.expect_navigation():
            self.row(key, href).locator(f'a[href="{href}"]').first.click()
        return self.tab.seen(step)


class ScreeningLog:
    """The study's screening log and its new-screening form (patients)."""

    def __init__(self, tab: Tab, study_code: str):
        self.tab = tab
        self.path = f"/participants/studies/{study_code}/"

    def open(self) -> ScreeningLog:
        self.tab.goto(self.path, "screening-log")
        return self

    def new_screening(self, **values) -> Tab:
        tab = self.tab
        with tab.page.expect_navigation():
            tab.page.locator(f'main a[href="{self.path}new/"]').click()
        tab.seen("new-screening")
        tab.fill(**values)
        return tab.submit("screened-to-eligibility")


class ParticipantPage:
    """A participant's page: header, consents, visit grid, dose calendar, panels."""

    def __init__(self, tab: Tab, pk: int):
        self.tab = tab
        self.pk = pk
        self.path = f"/participants/{pk}/"

    def open(self, step="participant") -> ParticipantPage:
        self.tab.goto(self.path, step)
        return self

    def visits(self) -> list[str]:
        return self.tab.page.eval_on_selector_all(
            "main tr[data-visit]", "rows => rows.map(r => r.dataset.visit)"
        )

    def dose_cells(self) -> int:
        return self.tab.page.locator("main td[data-state]").count()

    def subject_id(self) -> str:
        return self.tab.page.locator("#participant-header h1").inner_text().strip()


class EligibilityPage:
    def __init__(self, tab: Tab, pk: int):
        self.tab = tab
        self.path = f"/participants/{pk}/eligibility/"

    def open(self, step="eligibility") -> EligibilityPage:
        self.tab.goto(self.path, step)
        return self

    def answer(self, assessed_on: str, answers: dict) -> Tab:
        self.tab.fill(assessed_on=assessed_on, **{f"c_{c}": v for c, v in answers.items()})
        return self.tab.submit("eligibility-answered", 'button[name="answers"]')

    def sign(self, password: str) -> Tab:
        self.tab.fill(password=password)
        return self.tab.submit("eligibility-signed", 'button[name="sign"]')

    def is_eligible(self) -> bool:
        return "alert-success" in (self.tab.page.locator("#verdict").get_attribute("class") or "")

    def is_signed(self) -> bool:
        return self.tab.page.locator("#signature-status .text-warning").count() == 0


class EnrolPage:
    def __init__(self, tab: Tab, pk: int):
        self.tab = tab
        self.path = f"/participants/{pk}/enrol/"

    def enrol(self, consent_date: str, baseline_date: str) -> Tab:
        self.tab.goto(self.path, "enrol")
        self.tab.fill(consent_date=consent_date, baseline_date=baseline_date)
        return self.tab.submit("enrolled")


class VisitPage:
    """One visit of a participant: its facts and its forms (assessments)."""

    def __init__(self, tab: Tab, pk: int, code: str):
        self.tab = tab
        self.pk = pk
        self.code = code
        self.path = f"/capture/participants/{pk}/visits/{code}/"

    def open_from_participant(self) -> VisitPage:
        """Follow the visit's link in the participant page's visit grid."""
        with self.tab.page.expect_navigation():
            self.tab.page.locator(f'#visit-grid tr[data-visit="{self.code}"] a').first.click()
        self.tab.seen(f"visit-{self.code}")
        return self

    def form_status(self, form_code: str) -> str:
        return self.tab.page.locator(f'#visit-forms tr[data-form="{form_code}"]').get_attribute(
            "data-status"
        )

    def open_form(self, form_code: str) -> FormPage:
        with self.tab.page.expect_navigation():
            self.tab.page.locator(f'#visit-forms tr[data-form="{form_code}"] a.form-status').click()
        self.tab.seen(f"form-{self.code}-{form_code}")
        return FormPage(self.tab, self.pk, self.code, form_code)


class FormPage:
    """A visit's form: an instrument, a Treg panel or a steroid dose."""

    def __init__(self, tab: Tab, pk: int, code: str, form_code: str):
        self.tab = tab
        self.form_code = form_code
        self.path = f"/capture/participants/{pk}/visits/{code}/forms/{form_code}/"

    def open(self, step: str | None = None) -> FormPage:
        self.tab.goto(self.path, step or f"form-{self.form_code}")
        return self

    def save(self, step: str, **values) -> Tab:
        """Press Save (a form with repeating rows has an "Add a row" button before it)."""
        self.tab.fill(**values)
        save = 'button[type="submit"]:not([name="add_row"]):not(.visually-hidden)'
        return self.tab.submit(step, save, form=self.tab.page.locator("#capture-form"))

    def add_row(self, group: str, step: str) -> Tab:
        """Press a repeating group's "Add a row": the page comes back with one more row."""
        button = f'button[name="add_row"][value="{group}"]'
        return self.tab.submit(step, button, form=self.tab.page.locator("#capture-form"))

    def saved(self) -> bool:
        """The save went through: the browser left the form for the visit page."""
        return not self.tab.page.url.endswith(self.path)

    def asks_to_confirm(self) -> list[str]:
        return self.tab.page.eval_on_selector_all(
            'main input[type="checkbox"][name^="confirm_"]', "els => els.map(e => e.name)"
        )

    def has_conflict(self) -> bool:
        return self.tab.page.locator("#conflict").count() == 1

    def inputs_enabled(self) -> int:
        return self.tab.page.locator(
            "main input:not([type=hidden]):enabled, main select:enabled, main textarea:enabled"
        ).count()


class DosePage:
    """One planned dose and what was given (assessments)."""

    def __init__(self, tab: Tab, pk: int, dose_pk: int):
        self.tab = tab
        self.path = f"/capture/participants/{pk}/doses/{dose_pk}/"

    def open(self) -> DosePage:
        self.tab.goto(self.path, "dose")
        return self

    def save(self, step: str, **values) -> Tab:
        self.tab.fill(**values)
        return self.tab.submit(step, form=self.tab.page.locator("#dose-form"))


class AdverseEventPages:
    """Reporting an adverse event, its page, the investigator's review queue (safety)."""

    def __init__(self, tab: Tab):
        self.tab = tab

    def report(self, participant_pk: int, step: str, **values) -> Tab:
        self.tab.goto(f"/safety/participants/{participant_pk}/adverse-events/new/", "ae-new")
        self.tab.fill(**values)
        return self.tab.submit(step)

    def review_queue(self, study_code: str) -> AdverseEventPages:
        self.tab.goto(f"/safety/studies/{study_code}/review-queue/", "review-queue")
        return self

    def open_from_queue(self, ae_pk: int) -> AdverseEventPages:
        with self.tab.page.expect_navigation():
            self.tab.page.locator(f'main a[href="/safety/adverse-events/{ae_pk}/"]').first.click()
        self.tab.seen("ae-to-review")
        return self

    def sign(self, password: str) -> Tab:
        self.tab.fill(within="#sign-form", confirm=True, password=password)
        return self.tab.submit("ae-signed", form=self.tab.page.locator("#sign-form"))

    def review_state(self) -> str:
        classes = self.tab.page.locator("#review-state").get_attribute("class") or ""
        return "reviewed" if "text-bg-success" in classes else "awaiting"
