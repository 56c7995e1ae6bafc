"""Forms a protocol defines as data (VITALS, CONMED, MEDHIST of the RP protocol) are entered
through the same visit pages and API as the built-in forms, checked by the server with the
form's rules, and stay with the form version they were entered under."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import FormRecord
from audit.history import history_for
from tests.assessments.helpers_capture import (
    field_error,
    inputs,
    participant,
    rp_cast,
    typed,
    visit,
)
from trials.protocol_file import parse_protocol
from trials.services import activate_version, load_protocol


@pytest.fixture
def cast(db):
    return rp_cast()


def post_form(client, p, form, answers, code="W0", **extra):
    url = reverse("api-visit-form", args=[p.pk, code, form])
    body = {"visit_date": visit(p, code).target_date.isoformat(), "answers": answers, **extra}
    return client.post(url, body, content_type="application/json")


def form_url(p, form, code="W0"):
    return reverse("assessments:visit_form", args=[p.pk, code, form])


def vitals(**changes) -> dict:
    return {
        "WEIGHT": "70.0",
        "HEIGHT": "175.0",
        "SYSBP": 120,
        "DIABP": 80,
        "HR": 70,
        "TEMP": "36.8",
        **changes,
    }


def medication(**changes) -> dict:
    return {
        "CMTRT": "Prednisone",
        "CMDOSE": "10",
        "CMDOSU": "mg",
        "CMROUTE": "PO",
        "CMFREQ": "QD",
        "CMSTDTC": "2019-01-10",
        "CMONGO": "Y",
        **changes,
    }


# -- scheduled and shown ------------------------------------------------------------------


def test_the_protocol_forms_are_scheduled_and_named_on_the_visit_page(cast, client_for):
    p = participant()
    page = client_for(cast.cora).get(reverse("assessments:visit", args=[p.pk, "W0"]))
    cells = {cell.code: cell for cell in page.context["cells"]}
    assert [cells[c].label for c in ("VITALS", "CONMED", "MEDHIST")] == [
        "Vital signs",
        "Concomitant medication",
        "Medical history",
    ]
    assert all(cells[c].status == "missing" for c in ("VITALS", "CONMED", "MEDHIST"))
    assert form_url(p, "VITALS") in page.content.decode()
    w4 = client_for(cast.cora).get(reverse("assessments:visit", args=[p.pk, "W4"]))
    assert [c.code for c in w4.context["cells"]] == ["RPDAI", "TREG", "STEROID", "VITALS", "AE"]


def test_the_form_page_is_built_from_the_forms_definition(cast, client_for):
    p = participant()
    html = client_for(cast.cora).get(form_url(p, "VITALS")).content.decode()
    for label in ("Weight (kg)", "Height (cm)", "Systolic blood pressure (mmHg)"):
        assert label in html
    assert typed(html, "WEIGHT") == "" or typed(html, "WEIGHT") is None
    assert inputs(html, "WEIGHT")[0]["inputmode"] == "decimal"
    assert not inputs(html, "BMI"), "a calculated item is never typed"
    select = html[html.index('name="SYSBP__missing"') :]
    assert re.findall(r'<option value="(\w*)"', select[: select.index("</select>")]) == ["", "ND"]
    assert not inputs(html, "WEIGHT__missing"), "WEIGHT allows no missing code"
    assert 'id="form-description"' in html and "js/form-branching.js" in html
    assert "<script>" not in html  # the Content-Security-Policy refuses inline scripts


def test_a_repeating_group_shows_its_rows_and_adds_one_without_saving(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    html = client.get(form_url(p, "CONMED")).content.decode()
    assert inputs(html, "CM.1.CMTRT") and not inputs(html, "CM.2.CMTRT")
    assert [o["value"] for o in inputs(html, "CM.1.CMONGO")] == ["Y", "N"]
    # The branching script finds an item's wrapper by its field name.
    assert 'id="div_id_CM.1.CMENDTC"' in html and 'id="div_id_CM.1.CMONGO"' in html
    data = {"visit_date": p.baseline_date.isoformat(), "CM.1.CMTRT": "Aspirin", "add_row": "CM"}
    again = client.post(form_url(p, "CONMED"), data)
    assert again.status_code == 200
    html = again.content.decode()
    assert typed(html, "CM.1.CMTRT") == "Aspirin" and inputs(html, "CM.2.CMTRT")
    assert not FormRecord.objects.exists()


def test_enter_in_a_field_of_a_form_with_rows_saves_rather_than_adds_a_row(cast, client_for):
    """A browser submits a form on Enter with its first submit button (HTML's implicit
    submission): that must be Save, not a group's "Add a row"."""
    p = participant()
    html = client_for(cast.cora).get(form_url(p, "CONMED")).content.decode()
    form = html[html.index('id="capture-form"') :]
    first_submit = re.search(
        r"<button[^>]*type=\"submit\"[^>]*>|<input[^>]*type=\"submit\"[^>]*>", form
    )
    assert first_submit is not None and "add_row" not in first_submit.group(0)


# -- entered through the API ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "height", "bmi"),
    [("70.0", "175.0", "22.9"), ("82.5", "168.0", "29.2"), ("45.3", "152.4", "19.5")],
)
def test_the_bmi_is_calculated_by_the_server_to_one_decimal(cast, client_for, weight, height, bmi):
    p = participant()
    response = post_form(client_for(cast.cora), p, "VITALS", vitals(WEIGHT=weight, HEIGHT=height))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["calculated"] == {"BMI": bmi}
    assert data["values"]["WEIGHT"] == weight
    record = FormRecord.objects.get()
    assert record.calculated == {"BMI": bmi}
    assert record.definition.content_hash == data["form_version"]
    # 70.0 / 1.75 ^ 2 = 22.857...: rounded half up at the item's precision.
    assert Decimal(weight) / (Decimal(height) / 100) ** 2 - Decimal(bmi) < Decimal("0.05")


def test_a_value_for_a_calculated_item_is_refused(cast, client_for):
    p = participant()
    response = post_form(client_for(cast.cora), p, "VITALS", vitals(BMI="25.0"))
    assert response.status_code == 400
    assert "calculated" in response.json()["errors"]["BMI"][0]
    assert not FormRecord.objects.exists()


def test_the_bmi_is_recomputed_when_the_weight_is_corrected(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    post_form(client, p, "VITALS", vitals())
    again = post_form(
        client,
        p,
        "VITALS",
        vitals(WEIGHT="80.0"),
        row_version=1,
        reason_for_change="Scale misread",
    )
    assert again.status_code == 200, again.json()
    assert again.json()["calculated"] == {"BMI": "26.1"}
    changes = {
        c.label: (c.old_display, c.new_display, c.derived)
        for c in history_for(FormRecord.objects.get())[-1].changes
    }
    assert changes["WEIGHT – Weight"] == ("70.0", "80.0", False)
    assert changes["BMI – Body-mass index"] == ("22.9", "26.1", True)


def test_a_value_outside_the_hard_range_is_refused_with_its_message(cast, client_for):
    p = participant()
    response = post_form(client_for(cast.cora), p, "VITALS", vitals(WEIGHT="300.0", HR="fast"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["WEIGHT"] == ["Must be between 20 and 250 kg."]
    assert errors["HR"] == ["Enter a whole number."]
    too_precise = post_form(client_for(cast.cora), p, "VITALS", vitals(WEIGHT="70.25"))
    assert too_precise.json()["errors"]["WEIGHT"] == ["Enter at most 1 decimal places."]
    assert not FormRecord.objects.exists()


def test_a_rule_over_two_items_is_shown_next_to_the_first_it_names(cast, client_for):
    p = participant()
    response = post_form(client_for(cast.cora), p, "VITALS", vitals(SYSBP=100, DIABP=105))
    assert response.status_code == 400
    assert response.json()["errors"] == {"DIABP": ["Diastolic pressure must be below systolic"]}


def test_a_value_outside_the_soft_range_is_saved_once_confirmed_and_audited(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    warned = post_form(client, p, "VITALS", vitals(WEIGHT="160.0"))
    assert warned.status_code == 400
    assert list(warned.json()["warnings"]) == ["WEIGHT"]
    assert "outside the usual range" in warned.json()["warnings"]["WEIGHT"][0]
    assert not FormRecord.objects.exists()
    confirmed = post_form(client, p, "VITALS", vitals(WEIGHT="160.0"), confirm=["WEIGHT"])
    assert confirmed.status_code == 201, confirmed.json()
    record = FormRecord.objects.get()
    assert record.confirmed_checks == [
        {"check": "VITALS.WEIGHT.soft_range", "item": "WEIGHT", "value": "160"}
    ]
    entry = history_for(record)[0]
    assert entry.user == "cora"
    assert any(c.field == "confirmed_checks" and c.new for c in entry.changes)


def test_a_missing_code_answers_a_required_item_only_with_a_reason(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    without_answer = post_form(client, p, "VITALS", vitals(SYSBP=None))
    assert "required" in without_answer.json()["errors"]["SYSBP"][0]
    no_reason = post_form(client, p, "VITALS", vitals(SYSBP={"missing": "ND"}, DIABP=None))
    assert no_reason.json()["errors"]["SYSBP"] == ["Give the reason the value is missing."]
    not_allowed = post_form(
        client, p, "VITALS", vitals(WEIGHT={"missing": "UNK", "reason": "Wheelchair"})
    )
    assert "not a missing-data code this item allows" in not_allowed.json()["errors"]["WEIGHT"][0]
    both = post_form(
        client, p, "VITALS", vitals(SYSBP={"missing": "ND", "reason": "Cuff", "value": 120})
    )
    assert both.json()["errors"]["SYSBP"] == ["Give a value or a missing-data code, not both."]
    saved = post_form(
        client,
        p,
        "VITALS",
        vitals(
            SYSBP={"missing": "ND", "reason": "Cuff broken"},
            DIABP={"missing": "ND", "reason": "Cuff broken"},
        ),
    )
    assert saved.status_code == 201, saved.json()
    record = FormRecord.objects.get()
    assert record.missing["SYSBP"] == {"code": "ND", "reason": "Cuff broken"}
    assert "SYSBP" not in record.values


def test_repeating_rows_are_stored_and_each_row_checked(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    rows = [
        medication(),
        medication(CMTRT="Methotrexate", CMONGO="N", CMSTDTC="2019-03-01", CMENDTC="2019-02-01"),
    ]
    refused = post_form(client, p, "CONMED", {"CM": rows})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "CM.2.CMENDTC": ["The stop date cannot be before the start date"]
    }
    rows[1]["CMENDTC"] = "2019-06-30"
    saved = post_form(client, p, "CONMED", {"CM": rows})
    assert saved.status_code == 201, saved.json()
    values = FormRecord.objects.get().values
    assert values["CM.1.CMTRT"] == "Prednisone" and values["CM.2.CMTRT"] == "Methotrexate"
    assert values["CM.1.CMDOSE"] == "10.00"
    assert values["CM.2.CMENDTC"] == "2019-06-30"
    assert "CM.1.CMENDTC" not in values
    missing_stop = post_form(
        client,
        p,
        "CONMED",
        {"CM": [medication(CMONGO="N")]},
        code="W0",
        row_version=1,
        reason_for_change="Stopped",
    )
    assert "required" in missing_stop.json()["errors"]["CM.1.CMENDTC"][0]


def test_a_value_a_change_hides_is_cleared_and_the_audit_names_why(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    stopped = medication(CMONGO="N", CMENDTC="2019-06-30")
    assert post_form(client, p, "CONMED", {"CM": [stopped]}).status_code == 201
    # The API client still sends the stop date: hidden now, it is cleared, not kept.
    ongoing = {**stopped, "CMONGO": "Y"}
    response = post_form(
        client, p, "CONMED", {"CM": [ongoing]}, row_version=1, reason_for_change="Restarted"
    )
    assert response.status_code == 200, response.json()
    record = FormRecord.objects.get()
    assert "CM.1.CMENDTC" not in record.values
    last = history_for(record)[-1]
    assert last.reason == "Restarted; cleared by branching: CM.1.CMENDTC (CM.1.CMONGO N→Y)"
    change = next(c for c in last.changes if c.item == "CM.1.CMENDTC")
    assert (change.label, change.old_display, change.new_display) == (
        "CM.1.CMENDTC – Stop date (row 1)",
        "2019-06-30",
        "",
    )


def test_an_edit_needs_a_reason_and_a_stale_one_is_refused(cast, client_for):
    p = participant()
    cora, ivy = client_for(cast.cora), client_for(cast.ivy)
    post_form(cora, p, "VITALS", vitals())
    no_reason = post_form(cora, p, "VITALS", vitals(HR=72), row_version=1)
    assert no_reason.status_code == 400
    assert "reason_for_change" in no_reason.json()["errors"]
    assert (
        post_form(
            ivy, p, "VITALS", vitals(HR=72), row_version=1, reason_for_change="Recount"
        ).status_code
        == 200
    )
    stale = post_form(cora, p, "VITALS", vitals(HR=75), row_version=1, reason_for_change="Fix")
    assert stale.status_code == 409
    record = FormRecord.objects.get()
    assert (record.values["HR"], record.row_version) == (72, 2)


def test_only_the_sites_coordinators_and_investigators_write(cast, client_for):
    p = participant()
    assert post_form(client_for(cast.molly), p, "VITALS", vitals()).status_code == 403
    assert post_form(client_for(cast.otto), p, "VITALS", vitals()).status_code == 404
    assert post_form(client_for(cast.charlie), p, "VITALS", vitals()).status_code == 404
    data = {"visit_date": p.baseline_date.isoformat(), **vitals()}
    assert client_for(cast.molly).post(form_url(p, "VITALS"), data).status_code == 403
    assert client_for(cast.otto).get(form_url(p, "VITALS")).status_code == 404
    assert not FormRecord.objects.exists()
    assert post_form(client_for(cast.cora), p, "NOSUCH", {}).status_code == 404


def test_a_form_record_is_never_deleted(cast, client_for):
    from django.db import DatabaseError, transaction

    p = participant()
    post_form(client_for(cast.cora), p, "VITALS", vitals())
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        FormRecord.objects.all().delete()


# -- entered through the page ------------------------------------------------------------------


def page_data(p, **items) -> dict:
    return {"visit_date": p.baseline_date.isoformat(), **vitals(), **items}


def test_the_page_keeps_a_refused_value_with_its_message(cast, client_for):
    p = participant()
    response = client_for(cast.cora).post(form_url(p, "VITALS"), page_data(p, WEIGHT="300"))
    assert response.status_code == 200
    html = response.content.decode()
    assert typed(html, "WEIGHT") == "300"
    assert field_error(html, "WEIGHT") == "Must be between 20 and 250 kg."
    assert not FormRecord.objects.exists()


def test_the_page_asks_to_confirm_an_unusual_value_then_saves_it(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    warned = client.post(form_url(p, "VITALS"), page_data(p, HR="130"))
    html = warned.content.decode()
    assert "outside the usual range" in field_error(html, "HR")
    assert inputs(html, "confirm_HR")
    saved = client.post(form_url(p, "VITALS"), page_data(p, HR="130", confirm_HR="on"))
    assert saved.status_code == 302
    assert FormRecord.objects.get().confirmed_checks[0]["check"] == "VITALS.HR.soft_range"


def test_the_page_enters_a_missing_code_and_repeating_rows(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    data = page_data(
        p,
        SYSBP="",
        SYSBP__missing="ND",
        SYSBP__reason="Cuff broken",
        DIABP="",
        DIABP__missing="ND",
        DIABP__reason="Cuff broken",
    )
    assert client.post(form_url(p, "VITALS"), data).status_code == 302
    assert FormRecord.objects.get().missing["DIABP"]["code"] == "ND"
    rows = {
        "visit_date": p.baseline_date.isoformat(),
        "MH.1.MHTERM": "Hypertension",
        "MH.1.MHSTDTC": "2015-05-01",
        "MH.1.MHONGO": "Y",
        "MH.2.MHTERM": "",
    }
    assert client.post(form_url(p, "MEDHIST"), rows).status_code == 302
    record = FormRecord.objects.get(form_code="MEDHIST")
    assert record.values == {
        "MH.1.MHTERM": "Hypertension",
        "MH.1.MHSTDTC": "2015-05-01",
        "MH.1.MHONGO": "Y",
    }
    html = client.get(form_url(p, "MEDHIST")).content.decode()
    assert typed(html, "MH.1.MHTERM") == "Hypertension" and inputs(html, "MH.2.MHTERM")


# -- versions ----------------------------------------------------------------------------------


def amended_rp(cast):
    """Version 2.0 of the RP protocol: VITALS gains a required respiratory rate."""
    from tests.factories import PROTOCOL_DIR

    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    text = text.replace('label: "1.0"', 'label: "2.0"').replace(
        "effective: 2019-11-01", "effective: 2020-03-01"
    )
    text = text.replace(
        "    checks:\n      - {id: VS1,",
        '      - {code: RESP, label: "Respiratory rate", type: integer, required: true}\n'
        "    checks:\n      - {id: VS1,",
    )
    version, _created = load_protocol(parse_protocol(text))
    return activate_version(version)


def test_a_record_stays_with_the_form_version_it_was_entered_under(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    post_form(client, p, "VITALS", vitals())
    first = FormRecord.objects.get().definition
    amended = amended_rp(cast)
    new_vitals = amended.forms.get(code="VITALS")
    assert new_vitals.content_hash != first.content_hash
    # Corrected after the amendment: still checked against the version it was entered under
    # (which has no RESP), and still pinned to it.
    response = post_form(
        client, p, "VITALS", vitals(HR=75), row_version=1, reason_for_change="Recount"
    )
    assert response.status_code == 200, response.json()
    assert FormRecord.objects.get().definition == first
    html = client.get(form_url(p, "VITALS")).content.decode()
    assert not inputs(html, "RESP")
    # A participant on the amended protocol enters the new version.
    q = participant(version=amended)
    refused = post_form(client, q, "VITALS", vitals())
    assert refused.json()["errors"]["RESP"] == ["This item is required."]
    assert post_form(client, q, "VITALS", vitals(RESP=16)).status_code == 201
    assert FormRecord.objects.get(participant=q).definition == new_vitals


def test_the_audit_trail_page_lists_items_by_label_not_as_json(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    post_form(client, p, "VITALS", vitals())
    post_form(client, p, "VITALS", vitals(HR=88), row_version=1, reason_for_change="Recount")
    record = FormRecord.objects.get()
    page = client_for(cast.molly).get(
        reverse("record-history", args=["assessments.formrecord", record.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "HR – Heart rate" in html and "Recount" in html
    assert '"HR"' not in html
    read_only = client_for(cast.molly).get(form_url(p, "VITALS")).content.decode()
    assert 'id="read-only"' in read_only and typed(read_only, "HR") == "88"
    assert "disabled" in inputs(read_only, "HR")[0]
    outsider = client_for(cast.otto).get(
        reverse("record-history", args=["assessments.formrecord", record.pk])
    )
    assert outsider.status_code == 404
