"""One domain-error base class, answered by the one API exception handler (config/api.py).

A service refuses with a `DomainError` (its message, the field it concerns, its HTTP
status); no endpoint translates it: the handler answers 400 as `{"errors": {field:
[message]}}` and a conflict (409) or refusal (403) in DRF's `{"detail": message}` shape, as
the API contract says.
"""

import pytest
from rest_framework.test import APIRequestFactory

from accounts.lockout import AccountLocked
from audit.editing import StaleRecord
from config.api import exception_handler
from core.errors import DomainError
from patients.randomisation import RandomisationError
from patients.services import CalendarError, JourneyError
from safety.services import AlreadyReviewed
from signatures.services import SignatureError
from trials.services import MembershipRefused, ProtocolConflict


def answer(exc):
    request = APIRequestFactory().post("/api/v1/anything/", {}, format="json")
    return exception_handler(exc, {"request": request, "view": None})


def test_a_domain_error_is_answered_400_with_its_message_under_its_field():
    response = answer(JourneyError("Consent comes before baseline.", "consent_date"))
    assert response.status_code == 400
    assert response.data == {"errors": {"consent_date": ["Consent comes before baseline."]}}


def test_a_domain_error_about_no_field_is_a_non_field_error():
    response = answer(RandomisationError("The list is exhausted."))
    assert response.status_code == 400
    assert response.data == {"errors": {"non_field_errors": ["The list is exhausted."]}}


def test_a_wrong_signing_password_is_an_error_of_the_password_field():
    response = answer(SignatureError("The password is not correct."))
    assert response.data == {"errors": {"password": ["The password is not correct."]}}


def test_a_stale_write_is_answered_409_with_the_conflict_explained():
    response = answer(StaleRecord(current=None, conflicts=[]))
    assert response.status_code == 409
    assert "Someone else saved this record" in response.data["detail"]


def test_a_refusal_for_lack_of_permission_is_answered_403():
    response = answer(MembershipRefused("Nobody changes their own membership."))
    assert response.status_code == 403
    assert response.data["detail"] == "Nobody changes their own membership."


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (JourneyError, 400),
        (CalendarError, 400),
        (RandomisationError, 400),
        (SignatureError, 400),
        (AlreadyReviewed, 400),
        (StaleRecord, 409),
        (ProtocolConflict, 409),
        (MembershipRefused, 403),
        (AccountLocked, 403),
    ],
)
def test_every_refusal_of_a_service_is_a_domain_error_with_its_status(error, status):
    assert issubclass(error, DomainError)
    assert error.status_code == status
