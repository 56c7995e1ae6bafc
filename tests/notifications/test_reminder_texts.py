"""What a reminder says: never the arm, the site's dates and times, the reader's language."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from notifications import texts
from patients.models import Participant
from safety import services as safety
from tests.factories import enrolled_participant, load_demo_protocol
from tests.notifications.helpers_reminders import (
    at,
    build_cast,
    recorded,
    staff,
    sweep,
)
from tests.safety.helpers_safety import ae_fields, sae_fields
from trials.models import Role

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def test_no_reminder_of_a_blinded_study_names_the_arm():
    version = load_demo_protocol("ld-il2-mood.yaml")
    placebo = version.arms.get(code="PBO")
    participant = enrolled_participant(baseline=date(2025, 1, 6), version=version)
    Participant.objects.filter(pk=participant.pk).update(arm=placebo)
    study = version.study
    staff(study, "blake", Role.COORDINATOR, blinded=True)
    investigator = staff(study, "iris", Role.INVESTIGATOR)
    staff(study, "adam", Role.STUDY_ADMIN)
    participant.refresh_from_db()
    sae = safety.report_adverse_event(
        participant=participant,
        user=investigator,
        **sae_fields(
            onset_date=date(2025, 1, 20), awareness_at=at(2025, 1, 20, 9, 0, tz="Europe/Rome")
        ),
    )
    for day in range(40):  # every day of the study up to week 5: visits and doses
        sweep(at(2025, 1, 5, 9, 0, tz="Europe/Rome") + timedelta(days=day))
    sweep(sae.sponsor_report_due - timedelta(hours=1))
    sweep(sae.awaiting_review_since + timedelta(days=2, hours=1))

    rows = recorded()
    kinds = {n.kind for n in rows}
    assert kinds == {
        "visit_window_opens",
        "visit_overdue",
        "dose_due",
        "sae_report_due",
        "ae_unreviewed",
    }
    assert "blake" in {n.recipient.username for n in rows}
    forbidden = {placebo.code, placebo.name.lower(), "aldesleukin"}
    forbidden |= {arm.name.lower() for arm in version.arms.all()}
    for row in rows:
        text = f"{row.subject}\n{row.body}\n{row.object_label}".lower()
        assert not [word for word in forbidden if word.lower() in text], text


def test_today_is_the_site_s_today():
    cast = build_cast()
    # 17:30 UTC on Sunday 5 January: already Monday in Shanghai, still Sunday in Paris.
    sweep(datetime(2025, 1, 5, 17, 30, tzinfo=UTC))
    assert [n.participant for n in recorded("dose_due")] == [cast.participant]
    # 23:30 UTC: Monday in Paris too.
    sweep(datetime(2025, 1, 5, 23, 30, tzinfo=UTC))
    assert {n.participant for n in recorded("dose_due")} == {
        cast.participant,
        cast.paris_participant,
    }


def test_times_are_printed_on_the_site_s_clock():
    cast = build_cast()
    paris_ae = safety.report_adverse_event(
        participant=cast.paris_participant,
        user=cast.investigator,
        **sae_fields(awareness_at=at(2025, 2, 3, 10, 0, tz="Europe/Paris")),
    )
    sweep(paris_ae.sponsor_report_due - timedelta(hours=1))
    (row,) = recorded("sae_report_due", recipient=cast.investigator)
    assert "2025-02-04 10:00 CET (UTC+01:00)" in row.body
    assert "09:00" not in row.body  # the same deadline in UTC


def test_texts_are_composed_in_the_deployment_language(settings, monkeypatch):
    cast = build_cast()
    settings.LANGUAGE_CODE = "zh-hans"
    seen = []
    compose_dose = texts.COMPOSERS["dose_due"]

    def spy(due, values):
        seen.append(translation.get_language())
        return compose_dose(due, values)

    monkeypatch.setitem(texts.COMPOSERS, "dose_due", spy)
    with translation.override("en"):
        sweep(at(2025, 1, 6, 9, 0))
    assert seen and set(seen) == {"zh-hans"}
    assert {n.language for n in recorded("dose_due")} == {"zh-hans"}
    assert cast.participant.subject_id in recorded("dose_due")[0].subject


def test_each_recipient_reads_the_reminder_in_the_language_they_chose(monkeypatch):
    from accounts.models import Profile

    cast = build_cast()
    compose_dose = texts.COMPOSERS["dose_due"]
    seen = []

    def spy(due, values):
        seen.append(translation.get_language())
        return compose_dose(due, values)

    monkeypatch.setitem(texts.COMPOSERS, "dose_due", spy)
    rows_before = {n.recipient_id for n in recorded("dose_due")}
    assert not rows_before
    chinese_reader = cast.coordinator
    Profile.objects.create(user=chinese_reader, language="zh-hans")
    sweep(at(2025, 1, 6, 9, 0))
    languages = {n.recipient_id: n.language for n in recorded("dose_due")}
    assert languages[chinese_reader.pk] == "zh-hans"
    assert "zh-hans" in seen


def test_an_e_mail_links_to_the_record_behind_the_access_rules(settings):
    cast = build_cast()
    settings.REMINDER_SITE_URL = "https://ecrf.example.org/"
    ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.coordinator, **ae_fields()
    )
    sweep(ae.awaiting_review_since + timedelta(days=2, hours=1))
    (row,) = recorded("ae_unreviewed")
    assert row.link == ae.get_absolute_url()
    assert f"https://ecrf.example.org{ae.get_absolute_url()}" in row.body
    assert ae.term not in row.body
