"""A moment reads at the site where it happened, named with its zone and UTC offset, on every
page and in every e-mail: a Shanghai site's SAE is on Shanghai's clock, a Paris site's on
Paris's, whoever reads it (core.times, the |site_time filter)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from core.times import iso_with_offset, site_time
from notifications import services
from notifications.models import Notification
from safety import services as safety
from tests.notifications.helpers_reminders import at, build_cast, sweep
from tests.safety.helpers_safety import sae_fields

UTC = ZoneInfo("UTC")
SHANGHAI_DUE = "2025-02-04 10:00 CST (UTC+08:00)"
PARIS_DUE = "2025-02-04 10:00 CET (UTC+01:00)"


def test_a_moment_is_shown_with_the_zone_s_abbreviation_and_offset():
    moment = datetime(2026, 11, 30, 6, 5, 9, tzinfo=UTC)
    assert site_time(moment, "Asia/Shanghai") == "2026-11-30 14:05 CST (UTC+08:00)"
    assert site_time(moment, ZoneInfo("Europe/Paris")) == "2026-11-30 07:05 CET (UTC+01:00)"
    assert site_time(moment, "Europe/Paris", seconds=True) == "2026-11-30 07:05:09 CET (UTC+01:00)"
    summer = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)
    assert site_time(summer, "Europe/Paris") == "2026-07-01 08:05 CEST (UTC+02:00)"
    assert site_time(moment, "America/St_Johns") == "2026-11-30 02:35 NST (UTC-03:30)"


def test_without_a_site_the_time_is_utc_and_says_so():
    moment = datetime(2026, 11, 30, 6, 5, tzinfo=UTC)
    assert site_time(moment) == "2026-11-30 06:05 UTC"
    assert site_time(moment, "Not/A_Zone") == "2026-11-30 06:05 UTC"
    assert site_time(None, "Asia/Shanghai") == ""


def test_a_zone_without_an_abbreviation_shows_its_offset_only():
    moment = datetime(2026, 11, 30, 6, 5, tzinfo=UTC)
    assert site_time(moment, "Asia/Dubai") == "2026-11-30 10:05 (UTC+04:00)"


def test_exports_carry_the_offset_in_iso_8601():
    moment = datetime(2026, 11, 30, 6, 5, tzinfo=UTC)
    assert iso_with_offset(moment, "Asia/Shanghai") == "2026-11-30T14:05:00+08:00"
    assert iso_with_offset(moment) == "2026-11-30T06:05:00+00:00"


@pytest.fixture
def cast(db):
    """An SAE at each site, both aware at 10:00 local time (due 24 hours later)."""
    cast = build_cast()
    cast.shanghai_ae = safety.report_adverse_event(
        participant=cast.participant, user=cast.investigator, **sae_fields()
    )
    cast.paris_ae = safety.report_adverse_event(
        participant=cast.paris_participant,
        user=cast.investigator,
        **sae_fields(awareness_at=at(2025, 2, 3, 10, 0, tz="Europe/Paris")),
    )
    return cast


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_ae_page_shows_its_site_s_clock(cast, client_for):
    client = client_for(cast.investigator)
    shanghai = page(client, reverse("safety:detail", args=[cast.shanghai_ae.pk]))
    assert "2025-02-03 10:00 CST (UTC+08:00)" in shanghai  # aware at
    assert SHANGHAI_DUE in shanghai  # the sponsor's clock
    assert "CET" not in shanghai
    paris = page(client, reverse("safety:detail", args=[cast.paris_ae.pk]))
    assert "2025-02-03 10:00 CET (UTC+01:00)" in paris
    assert PARIS_DUE in paris
    assert "CST" not in paris


def test_the_audit_trail_shows_its_site_s_clock(cast, client_for):
    client = client_for(cast.monitor)
    shanghai = page(
        client, reverse("record-history", args=["safety.adverseevent", cast.shanghai_ae.pk])
    )
    assert "2025-02-03 10:00:00 CST (UTC+08:00)" in shanghai
    assert "CET" not in shanghai
    paris = page(client, reverse("record-history", args=["safety.adverseevent", cast.paris_ae.pk]))
    assert "2025-02-03 10:00:00 CET (UTC+01:00)" in paris
    assert "CST" not in paris


def test_the_inbox_shows_each_reminder_on_its_site_s_clock(cast, client_for):
    sweep(at(2025, 2, 4, 9, 30, tz="Europe/Paris"))  # both SAE reports are due within 12 h
    inbox = page(client_for(cast.investigator), reverse("notifications:inbox"))
    rows = {
        n.site.code: n.pk
        for n in Notification.objects.filter(kind="sae_report_due", recipient=cast.investigator)
    }
    assert set(rows) == {"PKUPH", "PAR"}
    shanghai_row = inbox.split(f'data-notification="{rows["PKUPH"]}"')[1].split("</tr>")[0]
    paris_row = inbox.split(f'data-notification="{rows["PAR"]}"')[1].split("</tr>")[0]
    assert SHANGHAI_DUE in shanghai_row
    assert PARIS_DUE in paris_row


def test_the_e_mail_says_the_site_s_clock(cast):
    sweep(at(2025, 2, 4, 9, 30, tz="Europe/Paris"))
    for row in Notification.objects.filter(kind="sae_report_due", recipient=cast.investigator):
        services.send_notification(notification_id=row.pk)
    bodies = {m.subject: m.body for m in mail.outbox}
    (shanghai,) = [b for b in bodies.values() if "site PKUPH" in b]
    (paris,) = [b for b in bodies.values() if "site PAR " in b]
    assert SHANGHAI_DUE in shanghai and "CET" not in shanghai
    assert PARIS_DUE in paris and "CST" not in paris
