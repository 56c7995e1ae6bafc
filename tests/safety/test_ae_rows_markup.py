"""An AE's report countdowns read as they did when they were a template.

They are written in Python (`{% ae_deadlines %}`, for speed); the template it replaced is
kept beside this file as the reference: the countdowns must read as it wrote them, in
English and in Chinese, for every state of a deadline. (The links' `{% pk_url %}` is
compared with `{% url %}` in tests/platform/test_pk_urls.py.)
"""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Profile
from safety import services
from safety.clocks import DeadlineState
from safety.models import AdverseEvent
from safety.templatetags.safety_tags import ae_deadlines
from tests.markup import normalized
from tests.safety.helpers_safety import (
    PARIS,
    SHANGHAI,
    ae_fields,
    at,
    build_cast,
    report,
    sae_fields,
)

#: The template as it was (tests/safety/reference/_deadlines.html, verbatim).
REFERENCE = Path(__file__).parent / "reference"
OLD_DEADLINES = (REFERENCE / "_deadlines.html").read_text()

LANGUAGES = ["en", "zh-hans"]


def template(source: str):
    return engines["django"].from_string(source)


def local_day(moment, tz: str):
    return moment.astimezone(ZoneInfo(tz)).date()


def recent(participant, user, tz: str, ago: timedelta, **fields):
    """An event its reporter became aware of `ago` before now, and 30 s more: a countdown
    read a few seconds later still reads the same minutes."""
    awareness = timezone.now() - ago - timedelta(seconds=30)
    return report(
        participant,
        user,
        **{**fields, "awareness_at": awareness, "onset_date": local_day(awareness, tz)},
    )


@pytest.fixture
def cast(db):
    cast = build_cast()
    p, paris = cast.participant, cast.paris_participant
    susar = {"relationship": "possible", "expectedness": "unexpected"}
    cast.events = [
        recent(p, cast.coordinator, SHANGHAI, timedelta(hours=1), **sae_fields(term="Pneumonia")),
        recent(p, cast.coordinator, SHANGHAI, timedelta(days=3), **sae_fields(term="Sepsis")),
        recent(
            paris,
            cast.investigator,
            PARIS,
            timedelta(hours=5),
            **sae_fields(term="Hepatitis", **susar),
        ),
        report(p, cast.coordinator, **ae_fields(term="<i>Rash</i> & itch")),
    ]
    reported = report(p, cast.coordinator, **sae_fields(term="Colitis", **susar))
    cast.events.append(
        services.record_reports(
            adverse_event=reported,
            user=cast.coordinator,
            reported={"sponsor": at(2025, 2, 4, 9, 0), "regulator": at(2025, 2, 20, 9, 0)},
            reason="",
        )
    )
    for term in ("Headache", "Nausea"):
        signed = report(p, cast.coordinator, **ae_fields(term=term))
        services.sign_adverse_event(
            adverse_event=signed, user=cast.investigator, password=cast.password
        )
    # Changed behind the application's back: its signature no longer matches.
    AdverseEvent.objects.filter(term="Nausea").update(grade=2)
    return cast


def test_the_events_cover_every_deadline_state(cast):
    states = {d.state for ae in AdverseEvent.objects.all() for d in ae.deadlines()}
    assert states == set(DeadlineState)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_deadline_lists_read_as_the_template_wrote_them(cast, language):
    old = template(OLD_DEADLINES)
    events = AdverseEvent.objects.select_related("participant__site").order_by("pk")
    with translation.override(language):
        for ae in events:
            deadlines = ae.deadlines()
            assert normalized(ae_deadlines(ae, deadlines)) == normalized(
                old.render({"ae": ae, "deadlines": deadlines})
            ), ae.term
            assert normalized(ae_deadlines(ae)) == normalized(ae_deadlines(ae, deadlines))


def page_as(client_for, user, language: str, name: str, code: str):
    Profile.objects.update_or_create(user=user, defaults={"language": language})
    response = client_for(user).get(reverse(name, args=[code]))
    assert response.status_code == 200
    return response


def test_a_listing_of_the_study_still_shows_every_review_state(cast, client_for):
    text = page_as(
        client_for, cast.investigator, "en", "safety:study-listing", cast.study.code
    ).content.decode()
    for shown in ("Reviewed", "Signature no longer matches", "waiting", "&lt;i&gt;Rash"):
        assert shown in text
