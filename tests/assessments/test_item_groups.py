"""Faster entry (issue 14): an instrument's items under their groups' headings, each group
with a "None of the below" button that fills answers in the page only. The server still
receives, checks and stores one explicit answer per item."""

import re
from types import SimpleNamespace

import pytest
from crispy_forms.utils import render_crispy_form
from django.urls import reverse

from assessments import instruments
from assessments.forms import InstrumentForm
from assessments.instruments.base import BOOLEAN, CHOICE, INTEGER, Group, Instrument, Item
from assessments.models import InstrumentResponse
from tests.assessments.helpers_capture import (
    field_error,
    participant,
    rp_cast,
    rpdai,
    rpdai_post,
)

SLEDAI_SYSTEMS = [
    "CNS",
    "VASCULAR",
    "MUSCULO",
    "RENAL",
    "MUCOCUT",
    "SEROSAL",
    "IMMUNO",
    "CONSTIT",
    "HAEM",
]


def sections(code):
    return [
        (group and group.code, [item.code for item in items])
        for group, items in instruments.get(code).sections()
    ]


def test_sledai2k_descriptors_fall_under_the_published_organ_systems():
    found = sections("SLEDAI2K")
    assert [group for group, _codes in found] == SLEDAI_SYSTEMS
    assert dict(found)["CNS"] == [
        "SEIZURE",
        "PSYCHOS",
        "OBS",
        "VISUAL",
        "CRANNERV",
        "HEADACHE",
        "CVA",
    ]
    assert dict(found)["RENAL"] == ["CASTS", "HAEMAT", "PROTEIN", "PYURIA"]
    # Every descriptor once, in its own order within its system.
    flat = [code for _group, codes in found for code in codes]
    assert sorted(flat) == sorted(instruments.get("SLEDAI2K").item_codes)


def test_rpdai_items_are_grouped_by_organ_without_reordering_the_instrument():
    rpdai_ = instruments.get("RPDAI")
    found = dict(sections("RPDAI"))
    assert found["GENERAL"] == ["FEVER", "CRP"]
    assert found["EARNOSE"] == ["AURIC", "NASAL", "VESTIB", "DEAFNESS"]
    assert found["AIRWAYS"] == ["RESPCH", "RESPCHF"]
    assert sorted(c for codes in found.values() for c in codes) == sorted(rpdai_.item_codes)
    # The instrument's own order (scores, exports, the API) is the published table's.
    assert rpdai_.item_codes[:3] == ("FEVER", "ARTHR", "MANUBR")
    assert "group" not in rpdai_.items[0].describe()


def test_instruments_without_groups_are_one_plain_section():
    for code in ("HAMD17", "PHQ9"):
        [(group, items)] = instruments.get(code).sections()
        assert group is None and len(items) == len(instruments.get(code).items)


def test_an_items_negative_answer_is_absent_or_zero_when_the_scale_has_one():
    assert Item("A", "a", BOOLEAN, None, None, weight=2).negative is False
    assert Item("B", "b", INTEGER, 0, 4).negative == 0
    assert Item("C", "c", INTEGER, 1, 7).negative is None
    assert Item("D", "d", CHOICE, None, None, choices=((0, "no"), (1, "yes"))).negative == 0
    assert Item("E", "e", CHOICE, None, None, choices=((1, "x"), (2, "y"))).negative is None


def test_two_groups_may_not_share_a_code():
    one, other = Group("G", "one"), Group("G", "other")
    with pytest.raises(ValueError, match="two groups"):
        Instrument(
            code="X",
            name="X",
            recall_period="",
            items=(
                Item("A", "a", BOOLEAN, None, None, weight=1, group=one),
                Item("B", "b", BOOLEAN, None, None, weight=1, group=other),
            ),
        )


def rendered(code, *, disabled=False):
    form = InstrumentForm(visit=SimpleNamespace(actual_date=None), instrument=instruments.get(code))
    if disabled:
        form.disable()
    return render_crispy_form(form)


def fieldsets(html):
    """(group code, legend, markup up to the next group) for each group's fieldset (the
    items' own radio groups are fieldsets nested in it)."""
    found = []
    for part in html.split('<fieldset id="group-')[1:]:
        code = part.split('"', 1)[0]
        legend = re.search(r"<legend>(.*?)</legend>", part, re.S).group(1)
        found.append((code, legend, part))
    return found


def test_each_group_is_a_fieldset_with_a_legend_and_a_none_of_the_below_button():
    html = rendered("SLEDAI2K")
    found = fieldsets(html)
    assert [code for code, _legend, _body in found] == SLEDAI_SYSTEMS
    legends = {code: re.sub(r"<[^>]+>", "", legend) for code, legend, _body in found}
    assert legends["RENAL"] == "Renal"
    body = {code: body for code, _legend, body in found}["RENAL"]
    button = re.search(r"<button [^>]*data-none-below[^>]*>([^<]*)</button>", body)
    assert button and button.group(1) == "None of the below"
    assert 'type="button"' in button.group(0)  # never submits the form
    assert 'data-none-below="RENAL"' in button.group(0)
    assert 'data-items="CASTS HAEMAT PROTEIN PYURIA"' in button.group(0)
    # The button comes first, then the group's items in order, each with its negative answer.
    assert body.index("data-none-below") < body.index('name="CASTS"')
    names = re.findall(r'name="(\w+)"', body)
    assert list(dict.fromkeys(names)) == ["CASTS", "HAEMAT", "PROTEIN", "PYURIA"]
    for radio in re.findall(r'<input type="radio" name="CASTS"[^>]*>', body):
        assert 'data-negative="no"' in radio
    # The visit date before the groups, the version and the reason after them.
    assert html.index('name="visit_date"') < html.index('id="group-CNS"')
    assert html.index('id="group-HAEM"') < html.index('name="reason_for_change"')


def test_a_read_only_form_has_its_groups_but_no_button():
    html = rendered("RPDAI", disabled=True)
    assert len(fieldsets(html)) == 9
    assert "data-none-below" not in html


def test_ungrouped_instruments_render_as_before():
    html = rendered("HAMD17")
    assert 'id="group-' not in html
    assert "data-none-below" not in html and "data-negative" not in html


@pytest.fixture
def cast(db):
    return rp_cast()


def form_url(p, code, form):
    return reverse("assessments:visit_form", args=[p.pk, code, form])


def test_the_capture_page_loads_the_none_of_the_below_script_only_for_editors(cast, client_for):
    p = participant()
    url = form_url(p, "W0", "RPDAI")
    editor = client_for(cast.cora).get(url).content.decode()
    assert "js/none-below.js" in editor and editor.count("data-none-below=") == 9
    reader = client_for(cast.molly).get(url).content.decode()
    assert "js/none-below.js" not in reader and "data-none-below" not in reader


def test_a_group_left_unanswered_is_refused_as_before_nothing_is_inferred(cast, client_for):
    """Only the page fills a group: a post without the group's items is refused item by item."""
    p = participant()
    answers = rpdai_post(rpdai())
    for code in ("PERICARD", "VESSEL", "MYOCARD", "VALVE"):
        del answers[code]
    response = client_for(cast.cora).post(
        form_url(p, "W0", "RPDAI"), {"visit_date": p.baseline_date.isoformat(), **answers}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for code in ("PERICARD", "VESSEL", "MYOCARD", "VALVE"):
        assert "This item is required." in field_error(html, code)
    assert not InstrumentResponse.objects.exists()


def test_an_all_negative_form_as_the_button_fills_it_stores_every_item(cast, client_for):
    p = participant()
    response = client_for(cast.cora).post(
        form_url(p, "W0", "RPDAI"),
        {"visit_date": p.baseline_date.isoformat(), **rpdai_post(rpdai())},
    )
    assert response.status_code == 302
    saved = InstrumentResponse.objects.get(instrument="RPDAI")
    assert saved.answers == dict.fromkeys(instruments.get("RPDAI").item_codes, False)
    assert saved.total == 0
