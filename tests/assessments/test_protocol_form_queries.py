"""The visit page and the participant page read protocol-defined forms in a fixed number of
queries: one more form (or item) in the protocol is not one more query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.assessments.helpers_capture import BASELINE
from tests.factories import MembershipFactory, UserFactory, enrolled_participant
from tests.trials.helpers_forms import VITALS, with_forms
from trials.models import Role
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

ONE_FORM = VITALS[: VITALS.index("  - code: SYMPT")]


def study_with(forms: str, visit_forms: str, code: str):
    text = with_forms(forms, visit_forms).replace("code: LDIL2-RP", f"code: {code}")
    version, _created = load_protocol(parse_protocol(text), activate=True)
    user = UserFactory(username=f"cora-{code.lower()}", password=None)
    site = version.study.sites.get()
    MembershipFactory(user=user, study=version.study, site=site, role=Role.COORDINATOR)
    return enrolled_participant(baseline=BASELINE, version=version, site=site), user


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["assessments:visit", "patients:participant"])
def test_the_pages_queries_do_not_grow_with_the_protocols_forms(db, client_for, page):
    one, one_user = study_with(ONE_FORM, "[RPDAI, VITALS, AE]", "ONE")
    three, three_user = study_with(VITALS, "[RPDAI, VITALS, SYMPT, CM, AE]", "THREE")

    def url(p):
        return reverse(page, args=[p.pk, "W4"] if page == "assessments:visit" else [p.pk])

    counts = [queries(client_for(one_user), url(one)), queries(client_for(three_user), url(three))]
    assert counts[0] == counts[1]
    html = client_for(three_user).get(url(three)).content.decode()
    assert "SYMPT" in html and "Concomitant medication" in html
