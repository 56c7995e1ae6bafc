"""Stored deadlines of serious AEs: computed on every save in the site's time zone, recorded
as met or missed when the report time is entered, and queryable for the reminder sweep."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.editing import StaleRecord
from safety import services
from safety.clocks import DeadlineState
from safety.models import AdverseEvent, DeadlineKind
from signatures.services import standing_signature
from tests.safety.helpers_safety import (
    PARIS,
    UTC,
    ae_fields,
    at,
    build_cast,
    fatal_fields,
    report,
    sae_fields,
)


@pytest.fixture
def cast(db):
    return build_cast()


def susar_fields(**overrides):
    return sae_fields(relationship="possible", expectedness="unexpected", **overrides)


def end_of(day: date, tz: str) -> datetime:
    return at(day.year, day.month, day.day, 23, 59, 59, 999999, tz=tz)


def test_a_non_serious_event_has_no_deadline(cast):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    assert adverse_event.sponsor_report_due is None
    assert adverse_event.regulator_report_due is None
    assert adverse_event.deadlines() == []


def test_a_serious_event_is_due_at_the_sponsor_24_hours_after_awareness(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    adverse_event.refresh_from_db()
    assert adverse_event.sponsor_report_due == at(2025, 2, 4, 10, 0)
    assert not adverse_event.is_susar
    assert adverse_event.regulator_report_due is None


def test_a_susar_at_a_paris_site_counts_paris_days_across_the_spring_dst_change(cast):
    awareness = at(2025, 3, 27, 10, 0, tz=PARIS)
    adverse_event = report(
        cast.paris_participant,
        cast.investigator,
        **susar_fields(onset_date=date(2025, 3, 26), awareness_at=awareness, life_threatening=True),
    )
    adverse_event.refresh_from_db()
    assert adverse_event.is_susar
    assert adverse_event.sponsor_report_due - awareness == timedelta(hours=24)
    assert adverse_event.regulator_report_due == datetime(
        2025, 4, 3, 21, 59, 59, 999999, tzinfo=UTC
    )
    assert adverse_event.regulator_complete_report_due == end_of(date(2025, 4, 11), PARIS)


def test_a_fatal_susar_gets_seven_days_then_the_complete_report(cast):
    adverse_event = report(
        cast.participant,
        cast.investigator,
        **fatal_fields(relationship="probable", expectedness="unexpected"),
    )
    assert adverse_event.regulator_report_due == end_of(date(2025, 2, 10), "Asia/Shanghai")
    assert adverse_event.regulator_complete_report_due == end_of(date(2025, 2, 18), "Asia/Shanghai")


@pytest.mark.parametrize("relationship", ["unassessable", "conditional"])
def test_a_fatal_unexpected_event_of_unassessable_causality_gets_the_7_day_clock(
    cast, relationship
):
    adverse_event = report(
        cast.participant,
        cast.investigator,
        **fatal_fields(relationship=relationship, expectedness="unexpected"),
    )
    adverse_event.refresh_from_db()
    assert adverse_event.is_susar
    assert adverse_event.regulator_report_due == end_of(date(2025, 2, 10), "Asia/Shanghai")
    assert adverse_event.regulator_complete_report_due == end_of(date(2025, 2, 18), "Asia/Shanghai")


def test_another_susar_gets_15_days_across_a_month_end(cast):
    adverse_event = report(
        cast.participant,
        cast.coordinator,
        **susar_fields(onset_date=date(2025, 1, 27), awareness_at=at(2025, 1, 28, 23, 30)),
    )
    assert adverse_event.regulator_report_due == end_of(date(2025, 2, 12), "Asia/Shanghai")
    assert adverse_event.regulator_complete_report_due is None


def test_a_serious_unexpected_but_unlikely_related_event_is_not_a_susar(cast):
    adverse_event = report(
        cast.participant,
        cast.coordinator,
        **sae_fields(relationship="unlikely", expectedness="unexpected"),
    )
    assert not adverse_event.is_susar
    assert adverse_event.sponsor_report_due is not None
    assert adverse_event.regulator_report_due is None


def update(adverse_event, user, reason="Follow-up", **changes):
    return services.update_adverse_event(
        adverse_event=adverse_event,
        user=user,
        changes=changes,
        reason=reason,
        expected_version=adverse_event.row_version,
    )


def test_deadlines_follow_a_follow_up_that_changes_the_classification(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    adverse_event = update(
        adverse_event,
        cast.investigator,
        reason="Causality reassessed",
        relationship="probable",
        expectedness="unexpected",
    )
    assert adverse_event.is_susar
    assert adverse_event.regulator_report_due == end_of(date(2025, 2, 18), "Asia/Shanghai")
    adverse_event = update(
        adverse_event,
        cast.investigator,
        reason="Not serious after all",
        serious=False,
        hospitalisation=False,
    )
    adverse_event.refresh_from_db()
    assert (adverse_event.is_susar, adverse_event.sponsor_report_due) == (False, None)
    assert adverse_event.regulator_report_due is None


def test_correcting_the_awareness_moves_the_deadlines(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    adverse_event = update(
        adverse_event, cast.coordinator, reason="Typo", awareness_at=at(2025, 2, 3, 18, 0)
    )
    assert adverse_event.sponsor_report_due == at(2025, 2, 4, 18, 0)


def record(adverse_event, user, reason="", **times):
    return services.record_reports(
        adverse_event=adverse_event, user=user, reported=times, reason=reason
    )


def test_a_report_on_time_is_met_and_a_late_one_missed(cast):
    adverse_event = report(
        cast.participant, cast.coordinator, **susar_fields(awareness_at=at(2025, 2, 3, 10, 0))
    )
    adverse_event = record(
        adverse_event,
        cast.coordinator,
        sponsor=at(2025, 2, 4, 9, 0),
        regulator=at(2025, 2, 20, 9, 0),
    )
    states = {d.kind: d.state for d in adverse_event.deadlines()}
    assert states == {
        DeadlineKind.SPONSOR: DeadlineState.MET,
        DeadlineKind.REGULATOR: DeadlineState.MISSED,
    }
    page = cast_client(cast.coordinator).get(reverse("safety:detail", args=[adverse_event.pk]))
    text = page.content.decode()
    assert "ae-deadline-met" in text
    assert "ae-deadline-missed" in text


def cast_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_an_unreported_deadline_shows_a_countdown_or_overdue(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    due = adverse_event.sponsor_report_due
    [before] = adverse_event.deadlines(now=due - timedelta(hours=5))
    [after] = adverse_event.deadlines(now=due + timedelta(hours=5))
    assert (before.state, after.state) == (DeadlineState.PENDING, DeadlineState.OVERDUE)
    page = cast_client(cast.monitor).get(reverse("safety:detail", args=[adverse_event.pk]))
    assert "overdue by" in page.content.decode()  # awareness in 2025: long overdue


def test_a_report_time_for_a_report_that_does_not_apply_is_refused(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    with pytest.raises(ValidationError) as caught:
        record(adverse_event, cast.coordinator, regulator=at(2025, 2, 4, 9, 0))
    assert "regulator_reported_at" in caught.value.message_dict


def test_a_report_cannot_precede_awareness(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    with pytest.raises(ValidationError) as caught:
        record(adverse_event, cast.coordinator, sponsor=at(2025, 2, 3, 9, 0))
    assert "sponsor_reported_at" in caught.value.message_dict


def test_correcting_a_recorded_report_time_needs_a_reason(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    adverse_event = record(adverse_event, cast.coordinator, sponsor=at(2025, 2, 4, 9, 0))
    with pytest.raises(ValidationError) as caught:
        record(adverse_event, cast.coordinator, sponsor=at(2025, 2, 4, 8, 0))
    assert "reason_for_change" in caught.value.message_dict
    adverse_event = record(
        adverse_event, cast.coordinator, reason="Fax log says 08:00", sponsor=at(2025, 2, 4, 8, 0)
    )
    assert adverse_event.sponsor_reported_at == at(2025, 2, 4, 8, 0)


def test_recording_a_report_time_leaves_the_review_signature_standing(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    services.sign_adverse_event(
        adverse_event=adverse_event, user=cast.investigator, password=cast.password
    )
    adverse_event = record(adverse_event, cast.coordinator, sponsor=at(2025, 2, 4, 9, 0))
    adverse_event.refresh_from_db()
    assert standing_signature(adverse_event, "reviewed") is not None
    assert adverse_event.is_reviewed


def test_a_monitor_cannot_record_report_times(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    with pytest.raises(PermissionDenied):
        record(adverse_event, cast.monitor, sponsor=at(2025, 2, 4, 9, 0))


def test_the_reminder_sweep_finds_open_deadlines_in_a_window(cast):
    open_one = report(cast.participant, cast.coordinator, **sae_fields())
    reported = report(cast.participant, cast.coordinator, **sae_fields(term="Fracture"))
    record(reported, cast.coordinator, sponsor=at(2025, 2, 4, 9, 0))
    voided = report(cast.participant, cast.coordinator, **sae_fields(term="Duplicate"))
    services.void_adverse_event(
        adverse_event=voided, user=cast.investigator, reason="Entered twice"
    )
    later = report(
        cast.participant,
        cast.coordinator,
        **sae_fields(term="Later", onset_date=date(2025, 3, 1), awareness_at=at(2025, 3, 1, 8)),
    )
    window = AdverseEvent.objects.deadline_between(
        "sponsor", at(2025, 2, 4, 0, 0), at(2025, 2, 5, 0, 0)
    )
    assert list(window) == [open_one]
    assert set(AdverseEvent.objects.open_deadline("sponsor")) == {open_one, later}


def test_unreviewed_events_older_than_a_moment_are_found_for_the_reminder(cast):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    since = adverse_event.awaiting_review_since
    assert list(AdverseEvent.objects.awaiting_review_since_before(since)) == []
    assert list(
        AdverseEvent.objects.awaiting_review_since_before(since + timedelta(seconds=1))
    ) == [adverse_event]


def test_a_follow_up_form_opened_before_a_report_time_was_recorded_is_stale(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    record(adverse_event, cast.coordinator, sponsor=at(2025, 2, 4, 9, 0))
    with pytest.raises(StaleRecord):
        update(adverse_event, cast.coordinator, reason="Old form", grade=4)


def test_an_sae_reported_before_its_deadline_shows_met_at_once(cast):
    aware = timezone.now() - timedelta(hours=2)
    onset = timezone.localdate(aware, timezone=ZoneInfo("Asia/Shanghai"))
    adverse_event = report(
        cast.participant, cast.coordinator, **sae_fields(onset_date=onset, awareness_at=aware)
    )
    assert adverse_event.sponsor_report_due > timezone.now()
    record(adverse_event, cast.coordinator, sponsor=aware + timedelta(hours=1))
    page = cast_client(cast.coordinator).get(reverse("safety:detail", args=[adverse_event.pk]))
    text = page.content.decode()
    assert "ae-deadline-met" in text
    assert "due in" not in text
    adverse_event.refresh_from_db()
    assert [d.state for d in adverse_event.deadlines()] == [DeadlineState.MET]


def test_at_the_due_instant_a_deadline_is_still_pending_and_a_report_then_meets_it(cast):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    due = adverse_event.sponsor_report_due
    [at_due] = adverse_event.deadlines(now=due)
    [just_after] = adverse_event.deadlines(now=due + timedelta(microseconds=1))
    assert (at_due.state, just_after.state) == (DeadlineState.PENDING, DeadlineState.OVERDUE)
    adverse_event = record(adverse_event, cast.coordinator, sponsor=due)
    [reported] = adverse_event.deadlines(now=due + timedelta(days=30))
    assert reported.state == DeadlineState.MET
