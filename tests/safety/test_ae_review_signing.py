"""Investigator review: only an investigator signs, with their password; a later change
voids the signature visibly and puts the AE back in the queue."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.editing import StaleRecord
from safety import services
from safety.models import AdverseEvent
from signatures.models import Signature
from signatures.services import SignatureError, standing_signature
from tests.safety.helpers_safety import ae_fields, build_cast, report, sae_fields


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def adverse_event(cast):
    return report(cast.participant, cast.coordinator, **sae_fields())


def sign(adverse_event, user, password, **kwargs):
    return services.sign_adverse_event(
        adverse_event=adverse_event, user=user, password=password, **kwargs
    )


def queue(study):
    return list(AdverseEvent.objects.for_study(study).awaiting_review())


def test_a_new_event_waits_in_the_review_queue(cast, adverse_event):
    assert queue(cast.study) == [adverse_event]
    assert not adverse_event.is_reviewed


def test_an_investigator_signs_with_their_password_and_the_event_leaves_the_queue(
    cast, adverse_event
):
    signature = sign(adverse_event, cast.investigator, cast.password)
    adverse_event.refresh_from_db()
    assert signature.signer == cast.investigator
    assert signature.meaning == "reviewed"
    assert standing_signature(adverse_event, "reviewed") == signature
    assert adverse_event.is_reviewed
    assert queue(cast.study) == []


def test_a_wrong_password_signs_nothing(cast, adverse_event):
    with pytest.raises(SignatureError):
        sign(adverse_event, cast.investigator, "not-my-password")
    assert not Signature.objects.exists()
    assert queue(cast.study) == [adverse_event]


def test_a_coordinator_can_enter_but_not_sign(cast):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    with pytest.raises(PermissionDenied):
        sign(adverse_event, cast.coordinator, cast.password)
    assert not Signature.objects.exists()


def test_a_monitor_can_neither_enter_nor_sign(cast, adverse_event):
    with pytest.raises(PermissionDenied):
        report(cast.participant, cast.monitor, **ae_fields())
    with pytest.raises(PermissionDenied):
        sign(adverse_event, cast.monitor, cast.password)
    assert AdverseEvent.objects.count() == 1


def test_an_investigator_of_another_site_cannot_sign(cast, adverse_event):
    with pytest.raises(PermissionDenied):
        sign(adverse_event, cast.paris_investigator, cast.password)


def test_an_event_already_signed_is_not_signed_twice(cast, adverse_event):
    sign(adverse_event, cast.investigator, cast.password)
    with pytest.raises(services.AlreadyReviewed):
        sign(adverse_event, cast.investigator, cast.password)
    assert Signature.objects.count() == 1


def test_signing_a_version_that_changed_since_it_was_read_is_refused(cast, adverse_event):
    read_version = adverse_event.row_version
    services.update_adverse_event(
        adverse_event=adverse_event,
        user=cast.coordinator,
        changes={"grade": 4},
        reason="Worsened",
        expected_version=read_version,
    )
    with pytest.raises(StaleRecord):
        sign(adverse_event, cast.investigator, cast.password, expected_version=read_version)
    assert not Signature.objects.exists()


def follow_up(adverse_event, user, reason="Worsened on day 3", **changes):
    adverse_event.refresh_from_db()
    return services.update_adverse_event(
        adverse_event=adverse_event,
        user=user,
        changes=changes,
        reason=reason,
        expected_version=adverse_event.row_version,
    )


def test_a_change_to_a_signed_event_voids_the_signature_and_requeues_it(cast, adverse_event):
    signature = sign(adverse_event, cast.investigator, cast.password)
    follow_up(adverse_event, cast.coordinator, grade=4)
    signature.refresh_from_db()
    assert signature.voided_at is not None
    assert "Worsened on day 3" in signature.void_reason
    assert "CTCAE grade" in signature.void_reason
    adverse_event.refresh_from_db()
    assert standing_signature(adverse_event, "reviewed") is None
    assert queue(cast.study) == [adverse_event]


def test_the_event_page_shows_the_voided_signature_and_its_reason(cast, adverse_event, client_for):
    sign(adverse_event, cast.investigator, cast.password)
    follow_up(adverse_event, cast.coordinator, grade=4)
    text = client_for(cast.monitor).get(reverse("safety:detail", args=[adverse_event.pk]))
    text = text.content.decode()
    assert "Signature voided: Changed after signing (CTCAE grade): Worsened on day 3" in text
    assert "Awaiting investigator review" in text


def test_a_change_that_changes_nothing_keeps_the_signature(cast, adverse_event):
    sign(adverse_event, cast.investigator, cast.password)
    follow_up(adverse_event, cast.coordinator, grade=adverse_event.grade)
    adverse_event.refresh_from_db()
    assert standing_signature(adverse_event, "reviewed") is not None
    assert adverse_event.row_version == 1


def test_a_change_behind_the_services_back_still_shows_as_unsigned(cast, adverse_event):
    sign(adverse_event, cast.investigator, cast.password)
    AdverseEvent.objects.filter(pk=adverse_event.pk).update(grade=4)
    adverse_event.refresh_from_db()
    assert services.review_signatures([adverse_event]) == {}


def test_voiding_an_event_voids_its_signature_and_takes_it_out_of_the_queue(cast):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    other = report(cast.participant, cast.coordinator, **ae_fields(term="Headache"))
    signature = sign(adverse_event, cast.investigator, cast.password)
    services.void_adverse_event(
        adverse_event=adverse_event, user=cast.investigator, reason="Wrong participant"
    )
    signature.refresh_from_db()
    assert signature.void_reason == "Adverse event voided: Wrong participant"
    assert queue(cast.study) == [other]
    with pytest.raises(ValidationError):
        follow_up(adverse_event, cast.investigator, grade=2)


def test_a_coordinator_cannot_void(cast, adverse_event):
    with pytest.raises(PermissionDenied):
        services.void_adverse_event(
            adverse_event=adverse_event, user=cast.coordinator, reason="Oops"
        )


# Pages ----------------------------------------------------------------------------------


def sign_page(client, adverse_event, password, **extra):
    data = {"password": password, "confirm": "on", "row_version": adverse_event.row_version}
    return client.post(reverse("safety:sign", args=[adverse_event.pk]), data | extra)


def test_the_investigator_signs_on_the_page_and_sees_signer_and_time(
    cast, adverse_event, client_for
):
    client = client_for(cast.investigator)
    response = sign_page(client, adverse_event, cast.password)
    assert response.status_code == 302
    text = client.get(response.url).content.decode()
    assert "Reviewed by ivy on" in text
    assert 'id="sign-form"' not in text


def test_a_wrong_password_on_the_page_says_so(cast, adverse_event, client_for):
    response = sign_page(client_for(cast.investigator), adverse_event, "nope")
    assert response.status_code == 400
    assert "The password is not correct" in response.content.decode()
    assert not Signature.objects.exists()


def test_the_page_insists_on_the_confirmation_tick(cast, adverse_event, client_for):
    response = sign_page(client_for(cast.investigator), adverse_event, cast.password, confirm="")
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_a_monitor_reads_the_event_page_without_a_sign_form(cast, adverse_event, client_for):
    client = client_for(cast.monitor)
    page = client.get(reverse("safety:detail", args=[adverse_event.pk]))
    assert page.status_code == 200
    assert 'id="sign-form"' not in page.content.decode()
    assert sign_page(client, adverse_event, cast.password).status_code == 403
    assert client.get(reverse("safety:edit", args=[adverse_event.pk])).status_code == 403


def test_a_coordinator_sees_no_sign_form_and_is_refused_signing(cast, adverse_event, client_for):
    client = client_for(cast.coordinator)
    page = client.get(reverse("safety:detail", args=[adverse_event.pk]))
    assert 'id="sign-form"' not in page.content.decode()
    assert sign_page(client, adverse_event, cast.password).status_code == 403
    assert not Signature.objects.exists()


def test_the_investigator_sees_the_sign_form(cast, adverse_event, client_for):
    page = client_for(cast.investigator).get(reverse("safety:detail", args=[adverse_event.pk]))
    assert 'id="sign-form"' in page.content.decode()


def test_someone_outside_the_study_or_site_gets_404(cast, adverse_event, client_for):
    url = reverse("safety:detail", args=[adverse_event.pk])
    assert client_for(cast.outsider).get(url).status_code == 404
    assert client_for(cast.paris_investigator).get(url).status_code == 404
    assert sign_page(client_for(cast.outsider), adverse_event, cast.password).status_code == 404
