"""Reminders go to the members holding the rule's roles at the participant's site, once."""

from datetime import date

import pytest

from notifications.models import Channel
from tests.factories import MembershipFactory
from tests.notifications.helpers_reminders import (
    PARIS,
    at,
    build_cast,
    recipients,
    recorded,
    staff,
    sweep,
)
from trials.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return build_cast()


def test_a_site_coordinator_is_reminded_of_their_site_only(cast):
    sweep(at(2025, 1, 6, 12, 0))  # a dose day at both sites (Shanghai and Paris)
    assert recipients("dose_due", participant=cast.participant) == ["cora"]
    assert recipients("dose_due", participant=cast.paris_participant) == ["paul"]


def test_an_all_sites_investigator_is_reminded_of_every_site(cast):
    sweep(at(2025, 2, 7, 18, 0))
    assert "ivy" in recipients("visit_overdue", participant=cast.participant)
    assert "ivy" in recipients("visit_overdue", participant=cast.paris_participant)


def test_roles_the_rule_does_not_name_and_outsiders_get_nothing(cast):
    sweep(at(2025, 2, 7, 18, 0))
    everyone = set(recipients())
    assert everyone, "the sweep found nothing due: the test proves nothing"
    assert {"moe", "ada", "charlie"}.isdisjoint(everyone)


def test_an_inactive_membership_or_user_is_not_reminded(cast):
    Membership.objects.filter(user=cast.coordinator).update(is_active=False)
    cast.paris_coordinator.is_active = False
    cast.paris_coordinator.save()
    sweep(at(2025, 1, 6, 12, 0))
    assert recorded("dose_due") == []


def test_a_member_holding_two_notified_roles_gets_one_reminder(cast):
    MembershipFactory(user=cast.coordinator, study=cast.study, site=None, role=Role.INVESTIGATOR)
    sweep(at(2025, 2, 7, 8, 0))
    rows = recorded("visit_overdue", participant=cast.participant, recipient=cast.coordinator)
    assert len(rows) == 1
    assert rows[0].due_date == date(2025, 2, 6)


def test_a_member_of_another_study_is_not_reminded(cast, blind_study, site_m):
    staff(blind_study, "otto", Role.COORDINATOR, site=None)
    sweep(at(2025, 1, 6, 12, 0))
    assert "otto" not in recipients()


def test_a_recipient_without_an_e_mail_address_is_reminded_in_the_app_only(cast):
    cast.coordinator.email = ""
    cast.coordinator.save()
    sweep(at(2025, 1, 6, 12, 0))
    (row,) = recorded("dose_due", recipient=cast.coordinator)
    assert row.channel == Channel.INBOX
    (paris,) = recorded("dose_due", recipient=cast.paris_coordinator)
    assert paris.channel == Channel.EMAIL


def test_a_paris_coordinator_is_reminded_on_the_paris_calendar(cast):
    sweep(at(2025, 1, 7, 0, 30, tz=PARIS))
    assert [n.due_date for n in recorded("dose_due", recipient=cast.paris_coordinator)] == [
        date(2025, 1, 7)
    ]
