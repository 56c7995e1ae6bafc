"""Suicidality in mood trials: HAM-D 17 item 3 (suicide) at 2 or more raises the same
standing alert as PHQ-9 item 9, stored with the response like every instrument alert."""

import pytest

from assessments.instruments import get
from assessments.instruments.base import SELF_HARM_ALERT
from assessments.models import InstrumentAlert
from tests.assessments.helpers_capture import HAMD_ZERO, capture, participant
from tests.factories import MembershipFactory, UserFactory, load_demo_protocol
from trials.models import Role


@pytest.mark.parametrize(
    "suicide, alerts", [(0, ()), (1, ()), (2, (SELF_HARM_ALERT,)), (4, (SELF_HARM_ALERT,))]
)
def test_hamd17_item_3_at_2_or_more_raises_the_self_harm_alert(suicide, alerts):
    assert get("HAMD17").score(HAMD_ZERO | {"H3": suicide}).alerts == alerts


def test_phq9_item_9_above_0_raises_the_same_alert_as_hamd17_item_3():
    phq = {f"P{n}": 0 for n in range(1, 10)}
    assert get("PHQ9").score(phq | {"P9": 1}).alerts == (SELF_HARM_ALERT,)
    assert get("HAMD17").score(HAMD_ZERO | {"H3": 2}).alerts == (SELF_HARM_ALERT,)


def test_a_hamd17_rating_with_suicidal_ideas_is_stored_as_a_standing_alert(db):
    version = load_demo_protocol("ld-il2-mood.yaml")
    p = participant(version=version)
    user = UserFactory(username="mario", password=None)
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.COORDINATOR)
    captured = capture(p, "W0", "HAMD17", HAMD_ZERO | {"H3": 3}, user=user)
    assert captured.record.alerts == [SELF_HARM_ALERT]
    alert = InstrumentAlert.objects.get()
    assert (alert.code, alert.participant, alert.cleared_at) == (SELF_HARM_ALERT, p, None)
