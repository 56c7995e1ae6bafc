"""Two people editing one form: the later, stale save is refused with what changed, and the
input stays on the page; saving again after reading it is a deliberate overwrite."""

import pytest
from django.urls import reverse

from assessments.models import DoseAdministration, InstrumentResponse, TregPanel
from tests.assessments.helpers_capture import (
    capture,
    checked,
    participant,
    rp_cast,
    rpdai,
    rpdai_post,
    treg,
    typed,
)


@pytest.fixture
def cast(db):
    return rp_cast()


def form_url(p, code, form):
    return reverse("assessments:visit_form", args=[p.pk, code, form])


def test_a_stale_rpdai_save_is_refused_showing_yours_and_saved(cast, client_for):
    p = participant()
    capture(p, "W4", "RPDAI", rpdai(AURIC=True), user=cast.cora)
    cora, ivy = client_for(cast.cora), client_for(cast.ivy)
    # Both open the saved form at version 1.
    for client in (cora, ivy):
        assert typed(client.get(form_url(p, "W4", "RPDAI")).content.decode(), "row_version") == "1"
    visit_date = p.visits.get(code="W4").target_date.isoformat()
    base = {"visit_date": visit_date, "row_version": "1"}

    first = cora.post(
        form_url(p, "W4", "RPDAI"),
        base | rpdai_post(rpdai(AURIC=True, NASAL=True)) | {"reason_for_change": "Nose"},
    )
    assert first.status_code == 302

    second = ivy.post(
        form_url(p, "W4", "RPDAI"),
        base | rpdai_post(rpdai(AURIC=True, SCLER=True)) | {"reason_for_change": "Eye"},
    )
    assert second.status_code == 200
    html = second.content.decode()
    assert "Someone else saved this record after you opened it" in html
    assert "Nasal chondritis: yours “no”, saved “yes”" in html
    assert "Scleritis: yours “yes”, saved “no”" in html
    # ivy's input is still on the page, now carrying the saved version.
    assert checked(html, "SCLER") == "yes" and checked(html, "NASAL") == "no"
    assert typed(html, "row_version") == "2"
    assert "Eye" in html
    saved = InstrumentResponse.objects.get()
    assert (saved.total, saved.row_version) == (18, 2)  # cora's save stands

    # Having read the differences, ivy saves again on purpose.
    again = ivy.post(
        form_url(p, "W4", "RPDAI"),
        base
        | {"row_version": "2"}
        | rpdai_post(rpdai(AURIC=True, NASAL=True, SCLER=True))
        | {"reason_for_change": "Eye too"},
    )
    assert again.status_code == 302
    saved.refresh_from_db()
    assert (saved.total, saved.row_version) == (27, 3)


def test_two_first_entries_of_one_form_do_not_overwrite_each_other(cast, client_for):
    p = participant()
    cora, ivy = client_for(cast.cora), client_for(cast.ivy)
    blank = ivy.get(form_url(p, "W0", "RPDAI")).content.decode()
    assert typed(blank, "row_version") in ("", None)
    data = {"visit_date": p.baseline_date.isoformat()}
    assert (
        cora.post(form_url(p, "W0", "RPDAI"), data | rpdai_post(rpdai(AURIC=True))).status_code
        == 302
    )

    late = ivy.post(form_url(p, "W0", "RPDAI"), data | rpdai_post(rpdai(CRP=True)))
    assert late.status_code == 200
    html = late.content.decode()
    assert "Someone else saved this record" in html
    assert "CRP &gt; 20 mg/L: yours “yes”, saved “no”" in html
    assert checked(html, "CRP") == "yes"
    assert typed(html, "row_version") == "1"
    assert InstrumentResponse.objects.get().total == 9


def test_a_stale_treg_panel_save_lists_the_changed_values(cast, client_for):
    p = participant()
    capture(p, "W0", "TREG", treg(treg_pct="5"), user=cast.cora)
    cora, ivy = client_for(cast.cora), client_for(cast.ivy)
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "row_version": "1",
        "lymphocytes_per_ul": "1500",
        "cd4_per_ul": "800",
        "tcon_pct_of_cd4": "60",
    }
    cora.post(
        form_url(p, "W0", "TREG"), data | {"treg_pct_of_cd4": "6", "reason_for_change": "Re-gated"}
    )
    html = ivy.post(
        form_url(p, "W0", "TREG"), data | {"treg_pct_of_cd4": "7.5", "reason_for_change": "Typo"}
    ).content.decode()
    assert "yours “7.5”, saved “6.00”" in html
    assert typed(html, "treg_pct_of_cd4") == "7.5"
    panel = TregPanel.objects.get()
    assert panel.treg_pct_of_cd4 == 6 and panel.row_version == 2


def test_a_stale_dose_record_is_refused(cast, client_for):
    p = participant()
    dose = p.doses.order_by("date").first()
    url = reverse("assessments:dose", args=[p.pk, dose.pk])
    cora, ivy = client_for(cast.cora), client_for(cast.ivy)
    data = {"given": "yes", "administered_on": dose.date.isoformat(), "actual_dose": "1"}
    assert cora.post(url, data | {"lot": "A1"}).status_code == 302
    html = ivy.post(url, data | {"lot": "B2"}).content.decode()
    assert "lot number: yours “B2”, saved “A1”" in html
    assert typed(html, "lot") == "B2"
    assert DoseAdministration.objects.get().lot == "A1"


def test_the_api_answers_409_to_a_stale_write(cast, client_for):
    p = participant()
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    capture(p, "W0", "RPDAI", rpdai(CRP=True), user=cast.cora, expected_version=1, reason="CRP")
    url = reverse("api-visit-form", args=[p.pk, "W0", "RPDAI"])
    body = {
        "visit_date": p.baseline_date.isoformat(),
        "answers": rpdai(FEVER=True),
        "row_version": 1,
        "reason_for_change": "Fever",
    }
    response = client_for(cast.ivy).post(url, body, content_type="application/json")
    assert response.status_code == 409
    assert "Fever" in response.json()["detail"]
    assert InstrumentResponse.objects.get().total == 3
