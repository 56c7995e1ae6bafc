"""The instruments' radio items are written by Python (`assessments.forms.InlineRadioItem`)
rather than by crispy's templates, for speed: what the page shows, and what assistive
technology reads (fieldset, legend, labels, error and help ids), stays crispy's bootstrap5
inline radios, item for item, for a blank form, one with errors and a read-only one."""

import re
from types import SimpleNamespace

import pytest
from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Field
from crispy_forms.utils import render_crispy_form
from django import forms

from assessments import forms as capture_forms
from assessments import instruments
from assessments.forms import InstrumentForm


def normalised(html: str) -> str:
    """The markup without the templates' layout whitespace (which no reader sees)."""
    return re.sub(r"\s+", " ", html).replace("> <", "><").replace(" >", ">")


def crispys_layout(name, field):
    return InlineRadios(name) if isinstance(field.widget, forms.RadioSelect) else Field(name)


def form(code: str, state: str) -> InstrumentForm:
    instrument = instruments.get(code)
    data = None
    if state == "errors":
        data = {"visit_date": "not a date", **{item.code: "maybe" for item in instrument.items}}
    built = InstrumentForm(
        visit=SimpleNamespace(actual_date=None), instrument=instrument, data=data
    )
    if data is not None:
        assert not built.is_valid()
    if state == "read-only":
        built.disable()
    return built


@pytest.mark.parametrize("code", [i.code for i in instruments.all_instruments()])
@pytest.mark.parametrize("state", ["blank", "errors", "read-only"])
def test_radio_items_are_crispys_inline_radios(monkeypatch, code, state):
    ours = render_crispy_form(form(code, state))
    monkeypatch.setattr(capture_forms, "_laid_out", crispys_layout)
    theirs = render_crispy_form(form(code, state))
    assert normalised(ours) == normalised(theirs)


def test_the_comparison_covers_radios_errors_and_help():
    html = render_crispy_form(form("RPDAI", "errors"))
    assert html.count('class="form-check form-check-inline"') >= 2 * 20
    assert 'class="invalid-feedback"' in html and "aria-describedby=" in html


@pytest.mark.parametrize("state", ["answered", "errors", "read-only"])
def test_a_protocol_forms_radios_are_crispys_inline_radios_too(db, monkeypatch, state):
    """The RP protocol's CONMED form asks of each medication "ongoing?" with yes / no radios
    (the posted row is shown: a blank form shows none)."""
    from assessments import form_kinds
    from tests.assessments.helpers_capture import participant, rp_cast, visit

    rp_cast()
    p = participant()
    w0 = visit(p, "W0")

    def conmed():
        ongoing = "maybe" if state == "errors" else "Y"
        data = {"visit_date": "not a date" if state == "errors" else "", "CM.1.CMONGO": ongoing}
        built = form_kinds.kind_for("CONMED").page_form(
            "CONMED", visit=w0, record=None, participant=p, data=data
        )
        built.is_valid()
        if state == "read-only":
            built.disable()
        return built

    ours = render_crispy_form(conmed())
    assert 'name="CM.1.CMONGO"' in ours and "form-check-inline" in ours
    monkeypatch.setattr(capture_forms, "_laid_out", crispys_layout)
    assert normalised(ours) == normalised(render_crispy_form(conmed()))
