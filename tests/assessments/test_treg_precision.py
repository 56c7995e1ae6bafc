"""Treg/Tcon ratios keep four decimal places from derivation to storage to the API; counts
stay at a tenth of a cell; a CD4+ count equal to the lymphocyte count is accepted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.derivations import derive_treg
from assessments.models import TregPanel
from tests.assessments.helpers_capture import capture, participant, rp_cast, treg

D = Decimal


@pytest.fixture
def cast(db):
    return rp_cast()


def post_treg(client, p, answers):
    url = reverse("api-visit-form", args=[p.pk, "W0", "TREG"])
    body = {"visit_date": p.baseline_date.isoformat(), "answers": answers}
    return client.post(url, body, content_type="application/json")


def test_a_ratio_of_five_to_eighty_percent_is_derived_as_0_0625():
    panel = derive_treg(
        lymphocytes_per_ul=1500, cd4_per_ul=600, treg_pct_of_cd4=5, tcon_pct_of_cd4=80
    )
    assert panel.treg_tcon_ratio == D("0.0625")
    assert (panel.treg_per_ul, panel.tcon_per_ul) == (D("30.0"), D("480.0"))


def test_a_ratio_of_0_0625_is_stored_and_answered_with_four_decimal_places(cast, client_for):
    p = participant()
    response = post_treg(client_for(cast.cora), p, treg(cd4=600, treg_pct="5", tcon_pct="80"))
    assert response.status_code == 201, response.json()
    assert response.json()["derived"]["treg_tcon_ratio"] == "0.0625"
    assert response.json()["derived"]["treg_per_ul"] == "30.0"
    assert TregPanel.objects.get().treg_tcon_ratio == D("0.0625")


def test_a_cd4_count_equal_to_the_lymphocyte_count_is_accepted(cast):
    p = participant()
    captured = capture(p, "W0", "TREG", treg(lymphocytes=1200, cd4=1200), user=cast.cora)
    assert captured.record.derived_cd4_per_ul == D("1200.0")
