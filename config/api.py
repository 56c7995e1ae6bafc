"""API conventions shared by every endpoint (docs/API.md).

Validation errors are answered as 400 `{"errors": {field: [messages]}}`; 403, 404 and 409
keep DRF's `{"detail": ...}` shape.

A service's refusal (`core.errors.DomainError`) is answered here, once for every endpoint,
by its status: 400 under its field (or "non_field_errors"), 403 and 409 as `{"detail":
message}`. Endpoints do not catch refusals to translate them.

A date or datetime at the edge of the calendar (0001-01-01T00:00:00, year 9999) parses, and
then overflows in time-zone or calendar arithmetic, or in a database column. Whatever the
endpoint, such an overflow is answered here as a 400 naming the fields that carried an
out-of-range date (`patients.clinical_dates` holds the range), never as a 500.
"""

import re
from datetime import date

from django.db import DataError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


def _as_api_exception(exc: DomainError) -> APIException:
    if exc.status_code == status.HTTP_400_BAD_REQUEST:
        return ValidationError({exc.field or "non_field_errors": [str(exc)]})
    answer = APIException(str(exc))
    answer.status_code = exc.status_code
    return answer


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = _as_api_exception(exc)
    if isinstance(exc, OverflowError | DataError) and "request" in context:
        fields = _out_of_range_dates(context["request"].data)
        if fields:
            from patients.clinical_dates import out_of_range_message

            exc = ValidationError({field: [out_of_range_message()] for field in fields})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        data = response.data
        if isinstance(data, list):
            data = {"non_field_errors": data}
        response.data = {"errors": data}
    return response


_DATE_START = re.compile(r"\s*(-?\d{1,})-(\d{2})-(\d{2})")


def _out_of_range_dates(data, found=None) -> list[str]:
    """The keys (at any depth, e.g. inside `answers`) whose value is an out-of-range date."""
    from patients.clinical_dates import within_representable_range

    found = [] if found is None else found
    items = data.items() if hasattr(data, "items") else []
    for key, value in items:
        if isinstance(value, dict):
            _out_of_range_dates(value, found)
            continue
        match = _DATE_START.match(value) if isinstance(value, str) else None
        if match is None:
            continue
        year, month, day = (int(part) for part in match.groups())
        try:
            inside = within_representable_range(date(year, month, day))
        except ValueError:
            inside = False
        if not inside:
            found.append(key)
    return found
