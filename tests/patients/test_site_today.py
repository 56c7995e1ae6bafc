"""Every "today" of the participant journey is the site's date, not the server's (UTC).

At 07:00 in Shanghai it is still yesterday in UTC; at 20:00 in New York it is already
tomorrow in UTC. The clock is frozen by patching `django.utils.timezone.now`.
"""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from notifications.models import Notification
from patients import services
from patients.models import Participant
from tests.patients.journey_helpers import RP_YES, rp_study, screened, staff
from trials.models import ReminderEvent, Role, Site

# 07:00 on 11 March 2026 in Shanghai (UTC+8) is 23:00 on 10 March in UTC.
SHANGHAI_7AM = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
# 20:00 on 10 March 2026 in New York (UTC-4, daylight time) is 00:00 on 11 March in UTC.
NEW_YORK_8PM = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)


def frozen(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def rp(db):
    study = rp_study()
    return {
        "study": study,
        "site": Site.objects.get(study=study, code="PKUPH"),
        "coordinator": staff(study, "carla", Role.COORDINATOR),
    }


def test_the_site_model_knows_its_own_today():
    assert Site(timezone="Asia/Shanghai").today(SHANGHAI_7AM) == date(2026, 3, 11)
    assert Site(timezone="America/New_York").today(NEW_YORK_8PM) == date(2026, 3, 10)
    with frozen(SHANGHAI_7AM):
        assert Site(timezone="Asia/Shanghai").today() == date(2026, 3, 11)


def test_a_shanghai_coordinator_records_consent_dated_today_at_seven_in_the_morning(rp):
    participant = screened(rp["study"], rp["coordinator"])
    with frozen(SHANGHAI_7AM):
        consent = services.record_consent(
            participant=participant, consent_date=date(2026, 3, 11), user=rp["coordinator"]
        )
    assert consent.consent_date == date(2026, 3, 11)


def test_a_new_york_coordinator_cannot_date_consent_tomorrow_at_eight_in_the_evening(rp):
    rp["site"].timezone = "America/New_York"
    rp["site"].save()
    participant = screened(rp["study"], rp["coordinator"])
    with frozen(NEW_YORK_8PM), pytest.raises(services.JourneyError) as refused:
        services.record_consent(
            participant=participant, consent_date=date(2026, 3, 11), user=rp["coordinator"]
        )
    assert refused.value.field == "consent_date"


def test_the_consent_api_at_seven_in_shanghai_enrols_with_todays_consent(rp, client_for):
    from tests.patients.journey_helpers import eligible_and_confirmed

    investigator = staff(rp["study"], "ines", Role.INVESTIGATOR)
    participant = screened(rp["study"], rp["coordinator"])
    eligible_and_confirmed(participant, rp["coordinator"], investigator, RP_YES)
    with frozen(SHANGHAI_7AM):
        response = client_for(rp["coordinator"]).post(
            reverse("api-enrol", args=[participant.pk]),
            {"consent_date": "2026-03-11", "baseline_date": "2026-03-11"},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content


def test_the_pages_offer_the_sites_today_as_the_default_date(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"])
    client = client_for(rp["coordinator"])
    with frozen(SHANGHAI_7AM):
        page = client.get(reverse("patients:eligibility", args=[participant.pk]))
    assert page.context["form"]["assessed_on"].value() == date(2026, 3, 11)


def test_a_year_of_birth_in_the_sites_new_year_is_not_in_the_future(rp):
    # 07:00 on 1 January 2027 in Shanghai is still 2026 in UTC.
    with frozen(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)):
        newborn = services.screen(
            study=rp["study"],
            site=rp["site"],
            screening_number="S-2027",
            year_of_birth=2027,
            sex="F",
            user=rp["coordinator"],
        )
    assert newborn.year_of_birth == 2027


def test_the_inbox_sorts_reminders_by_the_sites_today(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"])
    for label, due in (("Due yesterday in Shanghai", 10), ("Due today in Shanghai", 11)):
        Notification.objects.create(
            kind=ReminderEvent.choices[0][0],
            recipient=rp["coordinator"],
            study=rp["study"],
            site=rp["site"],
            participant=participant,
            content_type=ContentType.objects.get_for_model(Participant),
            object_id=participant.pk + due,
            object_label=label,
            due_date=date(2026, 3, due),
        )
    with frozen(SHANGHAI_7AM):  # 11 March in Shanghai, still 10 March in UTC
        page = client_for(rp["coordinator"]).get(reverse("notifications:inbox"))
    assert [n.object_label for n in page.context["upcoming"]] == ["Due today in Shanghai"]
    assert [n.object_label for n in page.context["earlier"]] == ["Due yesterday in Shanghai"]
