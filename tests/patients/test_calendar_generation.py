"""Enrolment writes the calendar; an amendment regenerates only the future."""

from datetime import date, timedelta

import pytest
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.models import DoseStatus, PlannedDose, ScheduledVisit, VisitStatus
from patients.services import CalendarError, generate_calendar, reconsent
from tests.factories import enrolled_participant
from tests.patients.helpers_calendar import amendment

MONDAY = date(2026, 1, 5)


def coordinator():
    """The RP study's coordinator, who records re-consent."""
    from tests.factories import UserFactory
    from trials.models import Membership, Study

    user = UserFactory(username="carla")
    study = Study.objects.get(code="LDIL2-RP")
    Membership.objects.get_or_create(user=user, study=study, site=None, role="coordinator")
    return user


def test_enrolment_writes_the_rp_calendar(db):
    participant = enrolled_participant(baseline=MONDAY)
    doses = list(participant.doses.order_by("date"))
    assert len(doses) == 28
    assert sum(d.phase == "induction" for d in doses) == 20
    assert [d.date for d in doses if d.phase == "maintenance"] == [
        MONDAY + timedelta(days=n) for n in range(28, 78, 7)
    ]
    visits = {v.code: v for v in participant.visits.all()}
    assert visits["W4"].target_date == date(2026, 2, 2)
    assert (visits["W4"].window_start, visits["W4"].window_end) == (
        date(2026, 1, 30),
        date(2026, 2, 5),
    )
    assert visits["W12"].target_date == date(2026, 3, 30)


def test_a_calendar_is_written_once(db):
    participant = enrolled_participant(baseline=MONDAY)
    with pytest.raises(CalendarError, match="already has a calendar"):
        generate_calendar(participant=participant)


def test_reconsent_regenerates_only_the_future_and_keeps_history(db):
    participant = enrolled_participant(baseline=MONDAY)
    w0 = participant.visits.get(code="W0")
    w0.status, w0.actual_date = VisitStatus.DONE, MONDAY
    w0.save()
    participant.doses.filter(date__lt=date(2026, 2, 16)).update(status=DoseStatus.GIVEN)
    new = amendment()

    reconsent(
        participant=participant, version=new, consent_date=date(2026, 2, 20), user=coordinator()
    )

    participant.refresh_from_db()
    assert participant.protocol_version == new
    live = participant.visits.live()
    assert live.get(code="W12").target_date == MONDAY + timedelta(days=91)
    assert live.get(code="W0").status == VisitStatus.DONE
    superseded = participant.visits.get(code="W12", status=VisitStatus.SUPERSEDED)
    assert superseded.target_date == date(2026, 3, 30)
    # Maintenance from the re-consent date (day 47, 2026-02-20) is on Mondays and Thursdays.
    maintenance = [d.date for d in participant.doses.live() if d.date >= date(2026, 2, 20)]
    assert maintenance[:3] == [date(2026, 2, 23), date(2026, 2, 26), date(2026, 3, 2)]
    assert all(d.weekday() in (0, 3) for d in maintenance)
    # The five old Monday doses from the re-consent on (Feb 23 … Mar 23) are kept, superseded;
    # Feb 16, before the re-consent, stays planned under version 1.0.
    superseded_days = participant.doses.filter(status=DoseStatus.SUPERSEDED)
    assert [d.date for d in superseded_days] == [
        date(2026, 2, 23) + timedelta(weeks=n) for n in range(5)
    ]
    assert participant.doses.get(date=date(2026, 2, 16)).status == DoseStatus.PLANNED
    assert participant.consents.get(protocol_version=new).consent_date == date(2026, 2, 20)


def test_reconsent_refuses_a_draft_or_the_same_version(db):
    participant = enrolled_participant(baseline=MONDAY)
    with pytest.raises(CalendarError, match="already on this version"):
        reconsent(
            participant=participant,
            version=participant.protocol_version,
            consent_date=date(2026, 2, 1),
            user=coordinator(),
        )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    done_days=st.integers(min_value=0, max_value=84),
    consent_offset=st.integers(min_value=0, max_value=90),
)
def test_regeneration_keeps_every_done_visit_and_given_dose_byte_for_byte(
    django_db_blocker, done_days, consent_offset
):
    """Whatever was recorded before an amendment is exactly as it was after it."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        participant = enrolled_participant(baseline=MONDAY)
        recorded_until = MONDAY + timedelta(days=done_days)
        for visit in participant.visits.filter(target_date__lte=recorded_until):
            visit.status, visit.actual_date = VisitStatus.DONE, visit.target_date
            visit.save()
        participant.doses.filter(date__lte=recorded_until).update(status=DoseStatus.GIVEN)
        before_visits = [model_to_dict(v) for v in participant.visits.filter(status="done")]
        before_doses = [model_to_dict(d) for d in participant.doses.filter(status="given")]

        new = amendment(effective=(MONDAY + timedelta(days=1)).isoformat())
        reconsent(
            participant=participant,
            version=new,
            consent_date=MONDAY + timedelta(days=consent_offset),
            user=coordinator(),
        )

        after_visits = [
            model_to_dict(ScheduledVisit.objects.get(pk=v["id"])) for v in before_visits
        ]
        after_doses = [model_to_dict(PlannedDose.objects.get(pk=d["id"])) for d in before_doses]
        assert after_visits == before_visits
        assert after_doses == before_doses
        # Each visit code has one live row, and no day has two live doses.
        codes = list(participant.visits.live().values_list("code", flat=True))
        assert len(codes) == len(set(codes))
        days = list(participant.doses.live().values_list("date", flat=True))
        assert len(days) == len(set(days))
        transaction.set_rollback(True)


def test_the_coordinator_re_consents_a_participant_from_the_participant_page(db, client_for):
    from django.urls import reverse

    participant = enrolled_participant(baseline=MONDAY)
    new = amendment()
    client = client_for(coordinator())
    page = client.get(reverse("patients:participant", args=[participant.pk])).content.decode()
    assert "Re-consent to version 2.0" in page
    response = client.post(
        reverse("patients:reconsent", args=[participant.pk]), {"consent_date": "2026-02-20"}
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.protocol_version == new
    assert participant.visits.live().get(code="W12").study_day == 92
