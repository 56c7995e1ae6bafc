"""API conventions shared by every endpoint (DESIGN.md, "API contract").

Validation errors are answered as 400 `{"errors": {field: [messages]}}`; 403, 404 and 409
keep DRF's `{"detail": ...}` shape.
"""

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(APIException):
    """A stale write: the record changed since the client read it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record was changed by someone else since you loaded it."
    default_code = "conflict"


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        data = response.data
        if isinstance(data, list):
            data = {"non_field_errors": data}
        response.data = {"errors": data}
    return response
