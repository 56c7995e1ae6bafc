"""Activating an amendment says what it changes and asks first; drafts are the admins' own.

Activation retires the version participants are on: they are to be re-consented, and their
calendars are regenerated when they are. The admin shows this on a confirmation page before
anything changes. Until then the draft is a study admin's working copy: coordinators,
investigators and monitors read the versions in force only, in pages and API alike.
"""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import PROTOCOL_DIR, MembershipFactory, UserFactory, enrolled_participant
from tests.trials.helpers_admin import study_admin
from trials.models import ProtocolVersion, Role, VersionStatus
from trials.protocol_file import parse_protocol
from trials.services import load_protocol


def amendment_text(label="1.1") -> str:
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text()
    return text.replace('label: "1.0"', f'label: "{label}"').replace(
        "day: 85, window: [-3, 3]", "day: 85, window: [-5, 5]"
    )


@pytest.fixture
def amended(db):
    """RP with two enrolled participants on v1.0 and a draft amendment v1.1."""
    first = enrolled_participant(baseline=date(2026, 1, 5))
    enrolled_participant(baseline=date(2026, 1, 12))
    draft, _ = load_protocol(parse_protocol(amendment_text()))
    return first.study, first.protocol_version, draft


def activate(client, draft, **extra):
    return client.post(
        reverse("admin:trials_protocolversion_changelist"),
        {"action": "activate", "_selected_action": [draft.pk]} | extra,
    )


def test_activating_shows_what_it_changes_and_waits_for_confirmation(amended, client_for):
    study, active, draft = amended
    client = client_for(study_admin("sam", study))

    page = activate(client, draft)

    assert page.status_code == 200
    body = page.content.decode()
    assert "1.1" in body and "1.0" in body
    assert page.context["changes"][0]["participants_to_reconsent"] == 2
    assert "re-consent" in body and "calendar" in body
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_confirming_activates_and_the_message_names_the_new_status(amended, client_for):
    study, active, draft = amended
    client = client_for(study_admin("sam", study))

    response = activate(client, draft, confirm="yes")

    assert response.status_code == 302
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == (VersionStatus.ACTIVE, VersionStatus.RETIRED)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("1.1" in text and "Active" in text for text in texts), texts
    assert not any("Draft" in text for text in texts), texts


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR])
def test_staff_other_than_study_admins_never_see_a_draft(amended, client_for, role):
    study, active, draft = amended
    user = UserFactory(username=f"{role}-user")
    MembershipFactory(user=user, study=study, role=role)
    client = client_for(user)

    summary = client.get(reverse("trials:protocol", args=[study.code]))
    assert [v.label for v in summary.context["versions"]] == ["1.0"]
    assert (
        client.get(reverse("trials:protocol", args=[study.code]) + "?version=1.1").status_code
        == 404
    )
    api = reverse("api-study-protocol", args=[study.code])
    assert client.get(api + "?version=1.1").status_code == 404
    assert client.get(api).json()["version"]["label"] == "1.0"


def test_a_study_admin_reads_the_draft_too(amended, client_for):
    study, active, draft = amended
    user = UserFactory(username="sam")
    MembershipFactory(user=user, study=study, role=Role.STUDY_ADMIN)
    client = client_for(user)

    summary = client.get(reverse("trials:protocol", args=[study.code]) + "?version=1.1")
    assert summary.status_code == 200
    assert [v.label for v in summary.context["versions"]] == ["1.0", "1.1"]
    api = reverse("api-study-protocol", args=[study.code]) + "?version=1.1"
    assert client.get(api).json()["version"]["label"] == "1.1"


def test_a_study_with_only_a_draft_shows_no_protocol_to_a_coordinator(db, client_for):
    version, _ = load_protocol(parse_protocol(amendment_text("0.9")))
    coordinator = UserFactory(username="cora")
    MembershipFactory(user=coordinator, study=version.study, role=Role.COORDINATOR)

    response = client_for(coordinator).get(reverse("trials:protocol", args=[version.study.code]))

    assert response.status_code == 404
    assert ProtocolVersion.objects.get().status == VersionStatus.DRAFT


def test_uploading_an_amendment_with_activate_still_asks_for_confirmation(amended, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    study, active, _draft = amended
    client = client_for(study_admin("sam", study))
    upload = SimpleUploadedFile("rp-1.2.yaml", amendment_text("1.2").encode())

    page = client.post(
        reverse("admin:trials_protocolversion_upload"), {"file": upload, "activate": "on"}
    )

    assert page.status_code == 200
    assert page.context["changes"][0]["participants_to_reconsent"] == 2
    assert ProtocolVersion.objects.get(study=study, label="1.2").status == VersionStatus.DRAFT
    active.refresh_from_db()
    assert active.status == VersionStatus.ACTIVE


def test_a_draft_edited_into_an_inconsistent_schedule_is_not_activated(amended):
    from trials.services import ProtocolConflict, activate_version

    _study, _active, draft = amended
    visits = list(draft.visits.order_by("order"))
    visits[0].order, visits[-1].order = visits[-1].order, visits[0].order
    for visit in (visits[0], visits[-1]):
        visit.save(update_fields=["order"])

    with pytest.raises(ProtocolConflict, match="list visits in the order of their days"):
        activate_version(draft)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
