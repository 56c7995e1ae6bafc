"""The sweep turns each protocol reminder rule into notifications at the right moment."""

from datetime import date, timedelta

import pytest
from django.test import override_settings

from patients.models import DoseStatus, PlannedDose, ScheduledVisit
from safety import services as safety
from tests.factories import PROTOCOL_DIR, enrolled_participant
from tests.notifications.helpers_reminders import (
    at,
    build_cast,
    raise_alert,
    recipients,
    recorded,
    staff,
    sweep,
)
from tests.safety.helpers_safety import ae_fields, sae_fields
from trials.models import ReminderRule
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return build_cast()


def w4(participant) -> ScheduledVisit:
    return participant.visits.get(code="W4")


# Visit window opens (3 days before, coordinator) ------------------------------------------


def test_the_window_reminder_is_not_written_four_days_before_the_window_opens(cast):
    sweep(at(2025, 1, 27, 12, 0))
    assert recorded("visit_window_opens") == []


def test_the_window_reminder_goes_to_the_site_coordinator_three_days_before(cast):
    sweep(at(2025, 1, 28, 0, 30))
    rows = recorded("visit_window_opens", participant=cast.participant)
    assert [n.recipient for n in rows] == [cast.coordinator]
    assert rows[0].target == w4(cast.participant)
    assert rows[0].due_date == date(2025, 1, 31)
    assert "W4" in rows[0].subject and "2025-01-31" in rows[0].subject


def test_a_visit_already_done_gets_no_window_reminder(cast):
    ScheduledVisit.objects.filter(pk=w4(cast.participant).pk).update(
        status="done", actual_date=date(2025, 2, 3)
    )
    sweep(at(2025, 1, 29, 9, 0))
    assert recorded("visit_window_opens", participant=cast.participant) == []


def test_a_window_that_has_closed_gets_no_opening_reminder(cast):
    sweep(at(2025, 2, 7, 9, 0))
    assert recorded("visit_window_opens", participant=cast.participant) == []


# Visit overdue (1 day after the window closes, coordinator + investigator) ---------------


def test_a_visit_is_not_overdue_on_the_last_day_of_its_window(cast):
    sweep(at(2025, 2, 6, 23, 0))
    assert recorded("visit_overdue", participant=cast.participant) == []


def test_an_unrecorded_visit_is_overdue_the_day_after_its_window_closed(cast):
    sweep(at(2025, 2, 7, 8, 0))
    assert recipients("visit_overdue", participant=cast.participant) == ["cora", "ivy"]
    rows = recorded("visit_overdue", participant=cast.participant)
    assert {n.due_date for n in rows} == {date(2025, 2, 6)}
    assert all(n.target == w4(cast.participant) for n in rows)


def test_a_visit_recorded_as_missed_is_not_reminded_as_overdue(cast):
    ScheduledVisit.objects.filter(pk=w4(cast.participant).pk).update(status="missed")
    sweep(at(2025, 2, 7, 8, 0))
    assert recorded("visit_overdue", participant=cast.participant) == []


@override_settings(REMINDER_LOOKBACK_DAYS=7)
def test_the_sweep_catches_up_within_the_look_back_and_not_beyond(cast):
    sweep(at(2025, 2, 14, 8, 0))  # overdue since 02-07: 7 days late
    assert recipients("visit_overdue", participant=cast.participant) == ["cora", "ivy"]
    sweep(at(2025, 3, 15, 8, 0))  # W8 is overdue since 03-07: 8 days late
    assert not recorded("visit_overdue", participant=cast.participant, due_date=date(2025, 3, 6))


# Dose due (on the day, coordinator) -------------------------------------------------------


def test_a_planned_dose_is_reminded_on_its_day_to_the_coordinator(cast):
    sweep(at(2025, 1, 6, 7, 0))
    rows = recorded("dose_due", participant=cast.participant)
    assert [n.recipient for n in rows] == [cast.coordinator]
    assert rows[0].due_date == date(2025, 1, 6)
    assert isinstance(rows[0].target, PlannedDose)
    assert "1 MIU SC" in rows[0].body


def test_no_dose_reminder_on_a_day_without_a_dose(cast):
    sweep(at(2025, 1, 11, 7, 0))  # Saturday of week 1
    assert recorded("dose_due") == []


def test_a_dose_already_recorded_is_not_reminded(cast):
    PlannedDose.objects.filter(participant=cast.participant, date=date(2025, 1, 6)).update(
        status=DoseStatus.GIVEN
    )
    sweep(at(2025, 1, 6, 7, 0))
    assert recorded("dose_due", participant=cast.participant) == []


def test_a_dose_day_that_has_passed_is_not_reminded_late(cast):
    sweep(at(2025, 1, 7, 7, 0))
    assert {n.due_date for n in recorded("dose_due", participant=cast.participant)} == {
        date(2025, 1, 7)
    }


# SAE report due (12 h before, investigator + study admin) ---------------------------------


def test_an_sae_sponsor_report_is_reminded_12_hours_before_its_deadline(cast):
    ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.investigator, **sae_fields()
    )
    assert ae.sponsor_report_due == at(2025, 2, 4, 10, 0)
    sweep(at(2025, 2, 3, 21, 59))
    assert recorded("sae_report_due") == []
    sweep(at(2025, 2, 3, 22, 1))
    assert recipients("sae_report_due") == ["ada", "ivy"]
    row = recorded("sae_report_due")[0]
    assert row.target == ae
    assert row.due_at == ae.sponsor_report_due
    assert row.due_date == date(2025, 2, 4)
    assert "2025-02-04 10:00 CST (UTC+08:00)" in row.body


def test_a_report_recorded_as_sent_is_not_reminded(cast):
    ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.investigator, **sae_fields()
    )
    safety.record_reports(
        adverse_event=ae, user=cast.investigator, reported={"sponsor": at(2025, 2, 3, 15, 0)}
    )
    sweep(at(2025, 2, 4, 9, 0))
    assert recorded("sae_report_due") == []


def test_each_susar_deadline_is_its_own_reminder(cast):
    ae = safety.report_adverse_event(
        participant=cast.participant,
        user=cast.investigator,
        **sae_fields(relationship="probable", expectedness="unexpected"),
    )
    assert ae.is_susar and ae.regulator_report_due
    sweep(at(2025, 2, 3, 22, 1))
    sweep(ae.regulator_report_due - timedelta(hours=1))
    due_dates = {n.due_date for n in recorded("sae_report_due", recipient=cast.investigator)}
    assert due_dates == {date(2025, 2, 4), date(2025, 2, 18)}


# AE unreviewed (2 days after entry, investigator) -----------------------------------------


def test_an_ae_unreviewed_for_two_days_is_reminded_to_the_investigator(cast):
    ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.coordinator, **ae_fields()
    )
    entered = ae.awaiting_review_since
    sweep(entered + timedelta(days=2) - timedelta(minutes=1))
    assert recorded("ae_unreviewed") == []
    sweep(entered + timedelta(days=2, minutes=1))
    assert recipients("ae_unreviewed") == ["ivy"]
    assert recorded("ae_unreviewed")[0].target == ae


def test_a_reviewed_ae_is_not_reminded(cast):
    ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.coordinator, **ae_fields()
    )
    entered = ae.awaiting_review_since
    type(ae).objects.filter(pk=ae.pk).update(awaiting_review_since=None)
    sweep(entered + timedelta(days=2, minutes=1))
    assert recorded("ae_unreviewed") == []


# PHQ-9 item 9 (at once) -------------------------------------------------------------------


@pytest.fixture
def phq9_participant(cast):
    """A study like RP whose protocol also alerts the investigator on PHQ-9 item 9."""
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    text = text.replace("code: LDIL2-RP", "code: PHQ-RP").replace("code: PKUPH", "code: PHQ")
    text += "  - {event: phq9_self_harm, notify: [investigator]}\n"
    version, _ = load_protocol(parse_protocol(text), activate=True)
    assert ReminderRule.objects.filter(version=version, event="phq9_self_harm").exists()
    participant = enrolled_participant(baseline=date(2025, 1, 6), version=version)
    staff(version.study, "ian", "investigator")
    return participant


def test_a_phq9_self_harm_alert_reaches_the_investigator_at_once(cast, phq9_participant):
    alert = raise_alert(phq9_participant, cast.coordinator, at(2025, 1, 6, 11, 0))
    sweep(at(2025, 1, 6, 11, 1))
    rows = recorded("phq9_self_harm")
    assert [n.recipient.username for n in rows] == ["ian"]
    assert rows[0].target == alert
    assert rows[0].subject.startswith("[PHQ-RP] URGENT")


def test_a_cleared_phq9_alert_is_not_notified(cast, phq9_participant):
    raise_alert(phq9_participant, cast.coordinator, at(2025, 1, 6, 11, 0), cleared=True)
    sweep(at(2025, 1, 6, 11, 1))
    assert recorded("phq9_self_harm") == []


def test_a_protocol_without_the_alert_rule_still_alerts_the_sites_investigators(cast):
    # Issue 10, item 15: an instrument alert reaches the investigators whatever the rules.
    raise_alert(cast.participant, cast.coordinator, at(2025, 1, 6, 11, 0))
    sweep(at(2025, 1, 6, 11, 1))
    assert recipients("phq9_self_harm") == ["ivy"]
