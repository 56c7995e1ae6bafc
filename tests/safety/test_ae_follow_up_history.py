"""Follow-up of an adverse event: every update needs a reason, is audited old → new, and the
AE page shows its history; a stale update is refused showing both values."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.editing import StaleRecord
from audit.history import history_for
from safety import services
from tests.safety.helpers_safety import ae_fields, build_cast, report


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def adverse_event(cast):
    return report(cast.participant, cast.coordinator, **ae_fields(grade=2))


def update(adverse_event, user, *, reason, version=None, **changes):
    return services.update_adverse_event(
        adverse_event=adverse_event,
        user=user,
        changes=changes,
        reason=reason,
        expected_version=adverse_event.row_version if version is None else version,
    )


def test_an_update_without_a_reason_is_refused(cast, adverse_event):
    with pytest.raises(ValidationError) as caught:
        update(adverse_event, cast.coordinator, reason="  ", grade=3)
    assert "reason_for_change" in caught.value.message_dict
    adverse_event.refresh_from_db()
    assert adverse_event.grade == 2


def test_an_update_is_audited_with_user_reason_and_old_and_new_values(cast, adverse_event):
    update(adverse_event, cast.investigator, reason="Worsened at W4", grade=3)
    last = history_for(adverse_event)[-1]
    assert (last.user, last.reason) == ("ivy", "Worsened at W4")
    assert ("grade", 2, 3) in [(c.field, c.old, c.new) for c in last.changes]


def test_the_first_entry_is_audited_as_initial_entry_by_its_author(cast, adverse_event):
    first = history_for(adverse_event)[0]
    assert (first.action, first.user, first.reason) == ("insert", "cora", "Initial entry")


def test_a_resolution_ends_the_event_in_one_update(cast, adverse_event):
    adverse_event = update(
        adverse_event,
        cast.coordinator,
        reason="Resolved",
        ongoing=False,
        end_date=date(2025, 2, 9),
        outcome="RECOVERED/RESOLVED",
    )
    adverse_event.refresh_from_db()
    assert (adverse_event.ongoing, adverse_event.end_date) == (False, date(2025, 2, 9))
    assert adverse_event.row_version == 2


def test_an_inconsistent_follow_up_is_refused_with_the_field_message(cast, adverse_event):
    with pytest.raises(ValidationError) as caught:
        update(adverse_event, cast.coordinator, reason="Resolved", outcome="RECOVERED/RESOLVED")
    assert "ongoing" in caught.value.message_dict


def test_a_stale_update_is_refused_with_both_values(cast, adverse_event):
    old_version = adverse_event.row_version
    update(adverse_event, cast.investigator, reason="Worsened", grade=3)
    with pytest.raises(StaleRecord) as caught:
        update(adverse_event, cast.coordinator, reason="Improved", version=old_version, grade=1)
    message = caught.value.message()
    assert "yours “1”" in message
    assert "saved “3”" in message
    adverse_event.refresh_from_db()
    assert adverse_event.grade == 3


def test_the_event_page_shows_its_history(cast, adverse_event, client_for):
    update(adverse_event, cast.investigator, reason="Worsened at W4", grade=3)
    page = client_for(cast.monitor).get(reverse("safety:detail", args=[adverse_event.pk]))
    text = page.content.decode()
    assert 'id="history"' in text
    assert "Worsened at W4" in text
    # Choice labels as on the form (issue 11), not the stored codes.
    assert (
        'CTCAE grade: <span class="audit-old">2 – Moderate</span> → '
        '<span class="audit-new">3 – Severe or medically significant</span>'
    ) in text


def test_the_generic_audit_trail_page_works_for_an_event(cast, adverse_event, client_for):
    url = reverse("record-history", args=["safety.adverseevent", adverse_event.pk])
    assert client_for(cast.monitor).get(url).status_code == 200
    assert client_for(cast.outsider).get(url).status_code == 404


# The follow-up page ----------------------------------------------------------------------


def form_data(adverse_event, **overrides):
    data = {
        "term": adverse_event.term,
        "onset_date": "2025-02-03",
        "ongoing": "on",
        "grade": "2",
        "relationship": adverse_event.relationship,
        "expectedness": adverse_event.expectedness,
        "action_taken": adverse_event.action_taken,
        "outcome": adverse_event.outcome,
        "awareness_at": "2025-02-03T10:00",
        "row_version": adverse_event.row_version,
        "reason_for_change": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_follow_up_page_shows_awareness_in_the_site_time_zone(cast, adverse_event, client_for):
    page = client_for(cast.coordinator).get(reverse("safety:edit", args=[adverse_event.pk]))
    # Stored as 02:00 UTC; typed and shown as 10:00 in Shanghai.
    assert 'value="2025-02-03T10:00"' in page.content.decode()


def test_the_follow_up_page_requires_a_reason_and_keeps_what_was_typed(
    cast, adverse_event, client_for
):
    client = client_for(cast.coordinator)
    url = reverse("safety:edit", args=[adverse_event.pk])
    response = client.post(url, form_data(adverse_event, grade="3", term="Erythema, spreading"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "This field is required" in text
    assert 'value="Erythema, spreading"' in text
    adverse_event.refresh_from_db()
    assert adverse_event.grade == 2


def test_the_follow_up_page_saves_with_a_reason(cast, adverse_event, client_for):
    client = client_for(cast.coordinator)
    url = reverse("safety:edit", args=[adverse_event.pk])
    response = client.post(
        url, form_data(adverse_event, grade="3", reason_for_change="Worse on review")
    )
    assert response.status_code == 302
    adverse_event.refresh_from_db()
    assert adverse_event.grade == 3
    assert history_for(adverse_event)[-1].reason == "Worse on review"


def test_a_stale_follow_up_page_shows_the_conflict_and_keeps_the_input(
    cast, adverse_event, client_for
):
    stale = form_data(adverse_event, grade="1", reason_for_change="Improved")
    update(adverse_event, cast.investigator, reason="Worsened", grade=3)
    response = client_for(cast.coordinator).post(
        reverse("safety:edit", args=[adverse_event.pk]), stale
    )
    text = response.content.decode()
    assert "Someone else saved this record" in text
    assert "yours “1”, saved “3”" in text
    assert "Improved</textarea>" in text
    adverse_event.refresh_from_db()
    assert adverse_event.grade == 3
