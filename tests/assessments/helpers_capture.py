"""Shared set-up for the visit-capture tests: the RP demo study, its people, filled forms.

The cast, after the suite's alice / ivan / mona / charlie, but in the demo study LDIL2-RP
(site PKUPH, Asia/Shanghai) where `enrolled_participant` puts its participants: cora
coordinates at PKUPH, ivy investigates at every site, molly monitors, otto coordinates at a
second site and must see nothing of PKUPH, charlie has no membership at all.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser

from assessments import instruments, services
from patients.models import Participant
from tests.factories import (
    PROTOCOL_DIR,
    MembershipFactory,
    UserFactory,
    enrolled_participant,
    load_demo_protocol,
)
from trials.models import Role, Site


def site_today() -> date:
    return Site(timezone="Asia/Shanghai").today()


def past_monday(weeks_ago: int = 20) -> date:
    """A Monday long enough ago for the whole 12-week calendar to be in the past."""
    day = site_today() - timedelta(weeks=weeks_ago)
    return day - timedelta(days=day.weekday())


BASELINE = past_monday()

RPDAI_NONE = dict.fromkeys(instruments.get("RPDAI").item_codes, False)


def rpdai(**present) -> dict:
    """RPDAI answers: every item absent but those given (e.g. AURIC=True)."""
    return {**RPDAI_NONE, **present}


def rpdai_post(answers: dict) -> dict:
    """The same answers as the HTML form posts them."""
    return {code: "yes" if value else "no" for code, value in answers.items()}


HAMD_ZERO = {f"H{n}": 0 for n in range(1, 18) if n != 16} | {"H16A": 0}
PHQ_ZERO = {f"P{n}": 0 for n in range(1, 10)}


@dataclass
class Cast:
    version: object
    study: object
    site: Site
    other_site: Site
    cora: object
    ivy: object
    molly: object
    otto: object
    charlie: object


def rp_cast() -> Cast:
    version = load_demo_protocol("ld-il2-rp.yaml")
    study = version.study
    site = study.sites.get(code="PKUPH")
    other = Site.objects.get_or_create(
        study=study, code="OTHER", defaults={"name": "Other hospital", "timezone": "Europe/Paris"}
    )[0]

    def member(username, role, member_site=None):
        user = UserFactory(username=username, password=None)  # force_login: no hashing
        MembershipFactory(user=user, study=study, site=member_site, role=role)
        return user

    return Cast(
        version=version,
        study=study,
        site=site,
        other_site=other,
        cora=member("cora", Role.COORDINATOR, site),
        ivy=member("ivy", Role.INVESTIGATOR),
        molly=member("molly", Role.MONITOR),
        otto=member("otto", Role.COORDINATOR, other),
        charlie=UserFactory(username="charlie", password=None),
    )


def participant(baseline: date = BASELINE, **fields) -> Participant:
    """Enrolled on the RP demo protocol (or `version=`) at its first site, PKUPH for RP."""
    version = fields.pop("version", None) or load_demo_protocol("ld-il2-rp.yaml")
    fields.setdefault("site", version.study.sites.exclude(code="OTHER").order_by("code").first())
    return enrolled_participant(baseline=baseline, version=version, **fields)


def visit(participant, code):
    return participant.visits.live().get(code=code)


def capture(participant, code, form, answers, *, user, visit_date=None, **kwargs):
    """Enter a form through the service, at the visit's target date unless told."""
    scheduled = visit(participant, code)
    return services.capture_form(
        participant=participant,
        visit=scheduled,
        form_code=form,
        visit_date=visit_date or scheduled.target_date,
        answers=answers,
        user=user,
        **kwargs,
    )


def treg(lymphocytes=1500, cd4=800, treg_pct="5", tcon_pct="60") -> dict:
    return {
        "lymphocytes_per_ul": lymphocytes,
        "cd4_per_ul": cd4,
        "treg_pct_of_cd4": treg_pct,
        "tcon_pct_of_cd4": tcon_pct,
    }


def four_visits_of_data(p, user):
    """RPDAI, Treg panel and steroid dose at W0, W4, W8 and W12, improving over time."""
    for n, code in enumerate(["W0", "W4", "W8", "W12"]):
        present = {"AURIC": True, "NASAL": n < 2, "CRP": n < 3, "ARTHR": n == 0}
        capture(p, code, "RPDAI", rpdai(**present), user=user)
        capture(p, code, "TREG", treg(treg_pct=str(5 + 2 * n)), user=user)
        capture(p, code, "STEROID", {"drug": "prednisone", "mg_per_day": 20 - 4 * n}, user=user)


def field_error(html: str, field: str) -> str:
    """The error text crispy renders under one field (its `error_N_id_<field>` elements)."""
    found = re.findall(
        rf'id="error_\d+_id_{re.escape(field)}"[^>]*>(.*?)</(?:span|p|div)>', html, re.S
    )
    return " ".join(re.sub(r"<[^>]+>", "", text).strip() for text in found)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "option", "select", "textarea"):
            self.found.append({"tag": tag, **{k: (v if v is not None else "") for k, v in attrs}})


def inputs(html: str, name: str) -> list[dict]:
    parser = _Inputs()
    parser.feed(html)
    return [attrs for attrs in parser.found if attrs.get("name") == name]


def typed(html: str, name: str) -> str | None:
    """The value an <input name=...> shows (None if there is no such input)."""
    found = [a for a in inputs(html, name) if a["tag"] == "input"]
    return found[0].get("value") if found else None


def checked(html: str, name: str) -> str | None:
    """The value of the checked radio button of a group (None if none is checked)."""
    found = [a for a in inputs(html, name) if "checked" in a]
    return found[0]["value"] if found else None


def phq9_version():
    """A protocol with PHQ-9 at every visit (the MOOD design with PHQ-9 for HAM-D)."""
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    text = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text(encoding="utf-8")
    text = text.replace("HAMD17", "PHQ9").replace("LDIL2-MOOD", "LDIL2-PHQ")
    text = text.replace("blinding: double", "blinding: open")
    version, _created = load_protocol(parse_protocol(text), activate=True)
    return version


def enter_every_w0_form(p, user):
    """Every form of the RP baseline visit but its medical history."""
    capture(p, "W0", "RPDAI", rpdai(), user=user)
    treg = {
        "lymphocytes_per_ul": 1500,
        "cd4_per_ul": 800,
        "treg_pct_of_cd4": "5",
        "tcon_pct_of_cd4": "60",
    }
    capture(p, "W0", "TREG", treg, user=user)
    capture(p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": 10}, user=user)
    capture(p, "W0", "VITALS", {"WEIGHT": "70.0", "SYSBP": 120, "DIABP": 80}, user=user)
    capture(p, "W0", "CONMED", {"CM": []}, user=user)
