"""The one base class of the refusals services raise, and how each maps to HTTP.

A service says why it refuses in the user's words (`str(error)`), which field the refusal
concerns, if any (`field`), and what kind of refusal it is (`status_code`: 400 the request
cannot be done as asked, 409 it conflicts with what is stored, 403 the user may not do it).
Pages show the message next to the field; the API's exception handler (`config.api`) turns
it into the answer, so no endpoint translates refusals itself.
"""


class DomainError(Exception):
    status_code = 400
    #: The input field the refusal concerns; None: the request as a whole.
    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field


class ConflictError(DomainError):
    """The request conflicts with the stored state (a stale version, a reused label)."""

    status_code = 409


class NotAllowed(DomainError):
    """The user may not do this, whatever the input."""

    status_code = 403
