"""The VITALS form captured at a participant's visit (or captured again, with a reason), for
the tests of doses by body size, which are sized from the weight and height it records."""

from assessments.services import capture_form


def vitals(participant, coordinator, code, **answers):
    visit = participant.visits.get(code=code)
    record = visit_record(visit)
    return capture_form(
        participant=participant,
        visit=visit,
        form_code="VITALS",
        visit_date=visit.target_date,
        answers=answers,
        user=coordinator,
        expected_version=None if record is None else record.row_version,
        reason="" if record is None else "Weighed again",
    )


def visit_record(visit):
    from assessments.models import FormRecord

    return FormRecord.objects.filter(scheduled_visit=visit, form_code="VITALS").first()
