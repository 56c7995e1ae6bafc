"""Every change to protocol and clinical data is recorded with who, when, old → new and why."""

from datetime import date

from django.urls import reverse

from audit.history import history_for
from audit.tracking import acting, reason
from trials.models import Membership


def test_an_update_records_the_user_the_reason_and_old_and_new_values(sam, study):
    with acting(sam, "Sponsor renamed the study"):
        study.title = "Low-dose IL-2 in RP"
        study.save()
    last = history_for(study)[-1]
    assert last.action == "update"
    assert last.user == "sam"
    assert last.reason == "Sponsor renamed the study"
    assert [(c.field, c.old, c.new) for c in last.changes] == [
        ("title", "Relapsing polychondritis", "Low-dose IL-2 in RP")
    ]


def test_a_reason_block_adds_the_reason_to_the_request_context(study):
    with reason("Typo"):
        study.phase = "2b"
        study.save()
    assert history_for(study)[-1].reason == "Typo"


def test_a_bulk_update_cannot_escape_the_trail(study):
    from trials.models import Study

    Study.objects.filter(pk=study.pk).update(sponsor="PKUPH")
    assert history_for(study)[-1].changes[0].new == "PKUPH"


def test_a_deleted_membership_leaves_its_trail(alice, study):
    membership = Membership.objects.get(user=alice)
    pk = membership.pk
    membership.delete()
    from pghistory.models import Events

    labels = list(
        Events.objects.filter(pgh_obj_model="trials.Membership", pgh_obj_id=str(pk))
        .order_by("pgh_created_at")
        .values_list("pgh_label", flat=True)
    )
    assert labels == ["insert", "delete"]


def test_audit_events_cannot_be_edited(study):
    import pytest
    from django.db import DatabaseError, transaction

    event = study.events.first()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        type(event).objects.filter(pk=event.pk).update(title="forged")


def test_a_change_through_a_page_records_the_logged_in_user(client_for, sam, study):
    client = client_for(sam)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-much-longer-passphrase-9",
            "new_password2": "a-much-longer-passphrase-9",
        },
    )
    assert response.status_code == 302
    # The password change is not clinical data; the study's own trail stays as it was.
    assert [e.action for e in history_for(study)] == ["insert"]


def test_the_history_page_shows_field_old_and_new_value_and_reason(client_for, sam, study):
    with acting(sam, "Registry number arrived"):
        study.registry_id = "NCT04000000"
        study.save()
    body = client_for(sam).get(reverse("record-history", args=["trials.study", study.pk]))
    text = body.content.decode()
    # The field by its label, as on the form (issue 11), not by its column name.
    assert '<td class="audit-field">Registry id</td>' in text
    assert "NCT04000000" in text
    assert "Registry number arrived" in text
    assert "sam" in text


def test_the_history_api_answers_with_the_trail(client_for, sam, study):
    with acting(sam, "Correction"):
        study.phase = "3"
        study.save()
    data = client_for(sam).get(reverse("api-record-history", args=["trials.study", study.pk]))
    assert data.status_code == 200
    last = data.json()[-1]
    assert last["user"] == "sam"
    assert last["reason"] == "Correction"
    # Raw values keep their keys; the labelled ones come beside them (issue 11).
    assert {"field": "phase", "old": "2", "new": "3"}.items() <= last["changes"][0].items()


def test_a_user_outside_the_study_cannot_read_its_trail(client_for, charlie, study):
    client = client_for(charlie)
    assert client.get(reverse("record-history", args=["trials.study", study.pk])).status_code == 404
    api = client.get(reverse("api-record-history", args=["trials.study", study.pk]))
    assert api.status_code == 404


def test_an_unaudited_model_has_no_trail(client_for, sam):
    url = reverse("api-record-history", args=["auth.user", sam.pk])
    assert client_for(sam).get(url).status_code == 404


def test_clinical_records_cannot_be_hard_deleted_by_any_path(db):
    import pytest
    from django.db import DatabaseError, transaction

    from patients.models import Participant, PlannedDose
    from tests.factories import enrolled_participant

    participant = enrolled_participant(baseline=date(2026, 1, 5))
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        PlannedDose.objects.filter(participant=participant).delete()
    with (
        pytest.raises(DatabaseError, match="Cannot delete"),
        transaction.atomic(),
        transaction.get_connection().cursor() as cursor,
    ):
        cursor.execute("DELETE FROM patients_participant WHERE id = %s", [participant.pk])
    assert Participant.objects.filter(pk=participant.pk).exists()
    assert PlannedDose.objects.filter(participant=participant).count() == 28
