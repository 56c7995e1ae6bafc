"""The sweep's cost is what is due: its queries do not grow with the number of participants."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from safety import services as safety
from safety.models import AdverseEvent
from tests.factories import enrolled_participant, load_demo_protocol
from tests.notifications.helpers_reminders import (
    BASELINE,
    at,
    staff,
    sweep,
)
from tests.safety.helpers_safety import sae_fields
from trials.models import Role

pytestmark = pytest.mark.django_db

#: Monday of week 6: a maintenance dose day, W4 overdue since Friday.
NOW = at(2025, 2, 10, 11, 0)
#: Per participant: W4 overdue (coordinator, investigator), the dose (coordinator), the SAE
#: sponsor report due tonight (investigator, study admin), the SAE unreviewed (investigator).
PER_PARTICIPANT = 6


@pytest.fixture
def team():
    version = load_demo_protocol()
    study = version.study
    return {
        "version": version,
        "coordinator": staff(study, "cora", Role.COORDINATOR, site=study.sites.get()),
        "investigator": staff(study, "ivy", Role.INVESTIGATOR),
        "admin": staff(study, "ada", Role.STUDY_ADMIN),
    }


def add_participants(team, count: int) -> None:
    for _ in range(count):
        participant = enrolled_participant(baseline=BASELINE, version=team["version"])
        safety.report_adverse_event(
            participant=participant,
            user=team["investigator"],
            **sae_fields(
                onset_date=NOW.date() - timedelta(days=1),
                awareness_at=at(2025, 2, 9, 22, 0),
            ),
        )
    # Entered on Friday: unreviewed for more than the rule's 2 days by Monday.
    AdverseEvent.objects.update(awaiting_review_since=at(2025, 2, 7, 9, 0))


def test_the_sweep_runs_the_same_queries_for_5_and_for_50_participants(
    team, django_assert_num_queries
):
    add_participants(team, 5)
    sweep(NOW)  # warm the content type cache, then start again from an empty outbox
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as for_5:
        sweep(NOW)
    assert Notification.objects.count() == 5 * PER_PARTICIPANT
    # The budget: the rules, one query per finder (FINDERS, instrument alerts, emergency
    # unblindings and dose holds: nine here, the AE finders reading per deadline kind), the
    # membership read for recipients and the outbox insert with its savepoint. A new kind of
    # reminder adds its finder's one query; what must never happen is a query per row.
    assert len(for_5) <= 16, [q["sql"][:120] for q in for_5]

    add_participants(team, 45)
    Notification.objects.all().delete()
    with django_assert_num_queries(len(for_5)):
        sweep(NOW)
    assert Notification.objects.count() == 50 * PER_PARTICIPANT
