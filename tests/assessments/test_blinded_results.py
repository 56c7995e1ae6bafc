"""A blinded result (the MOOD protocol's Treg panel: IL-2 expands Tregs, placebo does not)
is entered and read only by users unblinded in the study. A blinded user sees that it is
done, never its values: not on the visit or participant pages, the plots, the API or the
record trail."""

import pytest
from django.urls import reverse

from assessments.models import TregPanel
from tests.assessments.helpers_capture import HAMD_ZERO, capture, treg
from tests.patients import journey_helpers
from trials.models import Role

#: Values no page would show by chance: lymphocytes, CD4, Treg %, Tcon %, Treg /µL.
VALUES = ("1234", "777", "7.3", "61.9", "56.72")


@pytest.fixture
def mood(db):
    team = journey_helpers.enrolled_in_mood()
    team["lab"] = journey_helpers.staff(team["study"], "ulla", Role.COORDINATOR, blinded=False)
    participant = team["participant"]
    capture(participant, "W0", "HAMD17", HAMD_ZERO, user=team["coordinator"])
    capture(
        participant,
        "W0",
        "TREG",
        treg(lymphocytes=1234, cd4=777, treg_pct="7.3", tcon_pct="61.9"),
        user=team["lab"],
    )
    team["panel"] = TregPanel.objects.get(participant=participant)
    return team


def pages(team):
    p, panel = team["participant"], team["panel"]
    return {
        "participant": reverse("patients:participant", args=[p.pk]),
        "visit": reverse("assessments:visit", args=[p.pk, "W0"]),
        "form": reverse("assessments:visit_form", args=[p.pk, "W0", "TREG"]),
        "trail": reverse("record-history", args=["assessments.tregpanel", panel.pk]),
        "trail_api": reverse("api-record-history", args=["assessments.tregpanel", panel.pk]),
    }


def shows_values(html: str) -> list[str]:
    return [value for value in VALUES if value in html]


@pytest.mark.parametrize("who", ["coordinator", "investigator"])
def test_a_blinded_user_sees_the_treg_panel_done_and_none_of_its_values(mood, client_for, who):
    client = client_for(mood[who])
    urls = pages(mood)
    participant_page = client.get(urls["participant"])
    assert participant_page.status_code == 200
    assert shows_values(participant_page.content.decode()) == []
    visit = client.get(urls["visit"]).content.decode()
    assert shows_values(visit) == []
    row = visit.split('data-form="TREG"')[1].split("</tr>")[0]
    assert row.startswith(' data-status="entered"')  # done, and shown as done
    assert "blinded" in row and "/forms/TREG/" not in row and "history" not in row
    assert client.get(urls["form"]).status_code == 403
    assert client.get(urls["trail"]).status_code == 404
    assert client.get(urls["trail_api"]).status_code == 404


def test_a_blinded_user_cannot_enter_the_treg_panel_by_page_or_api(mood, client_for):
    p = mood["participant"]
    client = client_for(mood["coordinator"])
    answer = client.post(
        reverse("api-visit-form", args=[p.pk, "D5", "TREG"]),
        {"visit_date": p.visits.get(code="D5").target_date.isoformat(), "answers": treg()},
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert shows_values(answer.content.decode()) == []
    assert client.post(pages(mood)["form"], {}).status_code == 403
    assert TregPanel.objects.count() == 1


def test_an_unblinded_user_sees_the_values_everywhere(mood, client_for):
    for user in (mood["lab"], mood["admin"]):
        client = client_for(user)
        urls = pages(mood)
        assert "7.3" in client.get(urls["participant"]).content.decode()  # the plot's data
        assert "/forms/TREG/" in client.get(urls["visit"]).content.decode()
        form = client.get(urls["form"])
        assert form.status_code == 200 and "1234" in form.content.decode()
        trail = client.get(urls["trail"])
        assert trail.status_code == 200 and "7.3" in trail.content.decode()
        assert client.get(urls["trail_api"]).status_code == 200


def test_other_forms_of_the_same_visit_stay_open_to_blinded_users(mood, client_for):
    p = mood["participant"]
    client = client_for(mood["coordinator"])
    url = reverse("assessments:visit_form", args=[p.pk, "W0", "HAMD17"])
    assert client.get(url).status_code == 200
