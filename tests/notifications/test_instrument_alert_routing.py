"""An instrument's suicidality / self-harm alert always reaches the site's investigators.

Reminder rules may add recipients; no protocol can remove the investigators, and a protocol
that schedules an alerting instrument without any rule for its alerts still gets them
delivered. The mood protocol routes the alert to its coordinators as well.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import services
from tests.assessments.helpers_capture import HAMD_ZERO, PHQ_ZERO
from tests.factories import (
    PROTOCOL_DIR,
    MembershipFactory,
    enrolled_participant,
    load_demo_protocol,
)
from tests.notifications.helpers_reminders import recipients, recorded, staff, sweep
from trials.models import ReminderRule, Role, Site
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

pytestmark = [pytest.mark.django_db]

BASELINE = date.today() - timedelta(days=60)
ALERT_EVENT = "phq9_self_harm"


def phq9_protocol_without_alert_rule():
    """The mood design with PHQ-9 at every visit and no rule for instrument alerts."""
    text = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text(encoding="utf-8")
    text = text.replace("HAMD17", "PHQ9").replace("LDIL2-MOOD", "LDIL2-PHQ")
    text = "\n".join(line for line in text.splitlines() if ALERT_EVENT not in line) + "\n"
    version, _created = load_protocol(parse_protocol(text), activate=True)
    assert not ReminderRule.objects.filter(version=version, event=ALERT_EVENT).exists()
    return version


def people(version):
    study = version.study
    site = study.sites.get()
    other = Site.objects.create(study=study, code="ELSE", name="Elsewhere", timezone="UTC")
    return {
        "coordinator": staff(study, "cody", Role.COORDINATOR, site=site),
        "site_investigator": staff(study, "ines", Role.INVESTIGATOR, site=site),
        "all_sites_investigator": staff(study, "ivo", Role.INVESTIGATOR),
        "other_site_investigator": staff(study, "otis", Role.INVESTIGATOR, site=other),
        "monitor": staff(study, "mo", Role.MONITOR),
    }


def enter(version, form, answers, user):
    site = version.study.sites.get(code="OSR")
    participant = enrolled_participant(baseline=BASELINE, version=version, site=site)
    visit = participant.visits.get(code="W0")
    services.capture_form(
        participant=participant,
        visit=visit,
        form_code=form,
        visit_date=visit.target_date,
        answers=answers,
        user=user,
    )
    return participant


def sweep_now():
    sweep(timezone.now() + timedelta(minutes=1))


def test_a_phq9_alert_without_any_alert_rule_reaches_the_sites_investigators():
    version = phq9_protocol_without_alert_rule()
    cast = people(version)
    enter(version, "PHQ9", PHQ_ZERO | {"P9": 1}, cast["coordinator"])
    sweep_now()
    assert recipients(ALERT_EVENT) == ["ines", "ivo"]
    assert all(row.subject.startswith("[LDIL2-PHQ] URGENT") for row in recorded(ALERT_EVENT))


def test_the_mood_protocol_routes_suicidality_alerts_to_its_reminder_rules():
    spec = parse_protocol((PROTOCOL_DIR / "ld-il2-mood.yaml").read_text(encoding="utf-8"))
    assert ALERT_EVENT in [reminder.event for reminder in spec.reminders]


def test_a_hamd17_suicide_item_of_2_notifies_investigators_and_the_rules_recipients_once():
    version = load_demo_protocol("ld-il2-mood.yaml")
    cast = people(version)
    enter(version, "HAMD17", HAMD_ZERO | {"H3": 2}, cast["coordinator"])
    sweep_now()
    sweep_now()  # a second sweep records nothing twice
    assert recipients(ALERT_EVENT) == ["cody", "ines", "ivo"]
    body = recorded(ALERT_EVENT)[0].body
    assert "HAM-D 17 item 3" in body


def test_a_hamd17_suicide_item_of_1_raises_no_alert():
    version = load_demo_protocol("ld-il2-mood.yaml")
    cast = people(version)
    enter(version, "HAMD17", HAMD_ZERO | {"H3": 1}, cast["coordinator"])
    sweep_now()
    assert recorded(ALERT_EVENT) == []


def test_someone_both_investigator_and_notified_coordinator_is_told_once():
    version = load_demo_protocol("ld-il2-mood.yaml")
    cast = people(version)
    site = version.study.sites.get(code="OSR")
    MembershipFactory(user=cast["coordinator"], study=version.study, site=site, role="investigator")
    enter(version, "HAMD17", HAMD_ZERO | {"H3": 4}, cast["coordinator"])
    sweep_now()
    assert recipients(ALERT_EVENT) == ["cody", "ines", "ivo"]


def test_a_hamd17_alert_is_named_for_what_it_is_in_the_inbox(client_for):
    """The event keeps its first name, `phq9_self_harm`; what people read must not call a
    HAM-D item 3 finding a PHQ-9 one."""
    version = load_demo_protocol("ld-il2-mood.yaml")
    cast = people(version)
    enter(version, "HAMD17", HAMD_ZERO | {"H3": 2}, cast["coordinator"])
    sweep_now()
    [row] = recorded(ALERT_EVENT, recipient=cast["site_investigator"])
    assert row.get_kind_display() == "Self-harm or suicidality alert"
    inbox = client_for(cast["site_investigator"]).get(reverse("notifications:inbox"))
    html = inbox.content.decode()
    assert "Self-harm or suicidality alert" in html
    assert "PHQ-9 item 9" not in html
