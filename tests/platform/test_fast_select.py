"""`FastSelect` writes what Django's Select templates write, character for character: the
AE filters use it for speed, and nothing on the page may change for it."""

import pytest
from django import forms
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.widgets import FastSelect

CHOICES = [
    ("", _("Any grade")),
    ("a&b", 'Quote " and <tag>'),
    (3, 3),
    (
        _("Relationship"),
        [("certain", _("Serious")), ("possible", mark_safe("<em>safe</em>"))],
    ),
    (None, "None"),
]
ATTRS = {
    "class": "form-select form-select-sm",
    "data-x": 'a"b<c>',
    "autofocus": True,
    "hidden": False,
    "data-safe": mark_safe("<ok>"),
    "data-n": 7,
}


def form(widget, data=None, *, required=False):
    class Filters(forms.Form):
        kind = forms.ChoiceField(
            label=_("Site"), required=required, choices=CHOICES, widget=widget(attrs=ATTRS)
        )
        grade = forms.TypedChoiceField(
            required=required, coerce=int, choices=[(1, "1"), (2, "2")], widget=widget
        )

    filters = Filters(data)
    filters.is_valid()
    return filters


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "data",
    [None, {"kind": "a&b", "grade": "2"}, {"kind": "certain"}, {"kind": "nonsense"}, {}],
)
@pytest.mark.parametrize("required", [False, True])
def test_it_writes_what_django_s_select_writes(language, data, required):
    with translation.override(language):
        django = form(forms.Select, data, required=required)
        fast = form(FastSelect, data, required=required)
        for name in ("kind", "grade"):
            assert str(fast[name]) == str(django[name])


def test_a_subclass_with_its_own_template_is_rendered_by_it():
    class Radios(FastSelect):
        template_name = forms.RadioSelect.template_name
        option_template_name = forms.RadioSelect.option_template_name

    html = Radios(choices=[("x", "X")]).render("field", "x")
    assert "<label><input" in html
    assert "<select" not in html
