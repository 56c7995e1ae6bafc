"""The first form of a visit dates it with the visit row capture_form already locked
(`audit.editing.update_locked_record`): no second read, yet audited with the reason and a
new row_version like any edit."""

import pytest

from assessments import services
from audit.history import history_for
from patients.models import ScheduledVisit, VisitStatus
from tests.assessments.helpers_capture import participant, rp_cast, rpdai, visit


@pytest.fixture
def cast(db):
    return rp_cast()


def test_the_first_form_dates_the_visit_audited_with_its_reason(cast):
    p = participant()
    w0 = visit(p, "W0")
    services.capture_form(
        participant=p,
        visit=w0,
        form_code="RPDAI",
        visit_date=w0.target_date,
        answers=rpdai(),
        user=cast.cora,
    )
    dated = ScheduledVisit.objects.get(pk=w0.pk)
    assert (dated.actual_date, dated.status) == (w0.target_date, VisitStatus.DONE)
    assert dated.row_version == w0.row_version + 1
    last = history_for(dated)[-1]
    assert (last.user, last.reason) == ("cora", "Visit date entered with RPDAI")
