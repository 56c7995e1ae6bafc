"""Whether a done visit has a record of every form its definition requires: the one rule
behind the missing-forms work list and the visit's `forms_complete` mark.

The work list is set-based (one query for a site's visits), and the mark keeps it from
probing every done visit of a site's history: the capture of a visit's last required form
marks it, so only visits still waiting for forms are probed.
"""

from functools import reduce
from operator import or_

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull

from patients.models import ScheduledVisit, VisitStatus

from . import form_kinds


def lacking(code: str, records: QuerySet) -> Q:
    """The visit's protocol definition names the form and no record of it exists there.

    Written as "the first record's id IS NULL", not NOT EXISTS: PostgreSQL turns a NOT
    EXISTS inside an OR into a hashed sub-plan that reads every record of the form in the
    study (time growing with the study: 30 ms at 5,000 participants), where this probes
    the record's visit index for the site's visits only (make bench)."""
    first = records.filter(scheduled_visit=OuterRef("pk")).order_by().values("pk")[:1]
    return Q(definition__forms__contains=[code]) & Q(IsNull(Subquery(first), True))


def lacks_by_form(codes) -> dict[str, Q]:
    """`lacking` for each of these form codes entered at visits, by code."""
    found = {code: form_kinds.all_records(code) for code in sorted(codes)}
    return {code: lacking(code, records) for code, records in found.items() if records is not None}


def any_of(lacks: dict[str, Q]) -> Q:
    return reduce(or_, lacks.values(), Q(pk__in=[]))


def incomplete_done_visits() -> QuerySet:
    """Done visits of a protocol schedule not yet known to have every form (indexed:
    visit_done_incomplete_idx)."""
    return ScheduledVisit.objects.filter(
        status=VisitStatus.DONE, forms_complete=False, definition__isnull=False
    )


def mark_forms_complete(visits: QuerySet, codes) -> int:
    """Mark those of `visits` (done, of a protocol schedule) that lack none of the forms
    `codes` (every form their definitions name, or more), in one UPDATE; the number marked.
    The capture of a form calls it in its transaction, with the visit's definition's forms."""
    return (
        visits.filter(status=VisitStatus.DONE, forms_complete=False, definition__isnull=False)
        .exclude(any_of(lacks_by_form(codes)))
        .update(forms_complete=True)
    )
