"""Any valid `forms:` section survives export and re-import unchanged, text included, and
keeps its content hash through the JSON it is stored as."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trials.helpers_forms import RP
from trials.forms.expressions import ItemType
from trials.forms.spec import (
    MISSING_CODES,
    SEVERITIES,
    CheckSpec,
    FormSpec,
    GroupSpec,
    ItemSpec,
    Text,
    form_from_data,
    form_to_data,
    json_ready,
)
from trials.protocol_file import dump_protocol, parse_protocol

BASE = parse_protocol(RP)
item_codes = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)
texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20).filter(str.strip)
labels = st.one_of(
    texts.map(Text.of),
    st.dictionaries(st.sampled_from(["en", "zh-hans", "fr"]), texts, min_size=1).map(Text.of),
)
numbers = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


@st.composite
def ranges(draw):
    low, high = sorted((draw(numbers), draw(numbers)))
    return (low, high)


@st.composite
def items(draw, code):
    kind = draw(st.sampled_from(list(ItemType)))
    numeric = kind in (ItemType.INTEGER, ItemType.DECIMAL)
    hard = draw(st.one_of(st.none(), ranges())) if numeric else None
    soft = None
    if hard is not None and draw(st.booleans()):
        soft = (hard[0], hard[0] + (hard[1] - hard[0]) / 2)
    codes = ()
    if kind in (ItemType.CHOICE, ItemType.MULTICHOICE):
        values = draw(st.lists(item_codes, min_size=1, max_size=4, unique=True))
        codes = tuple((value, draw(labels)) for value in values)
    return ItemSpec(
        code=code,
        label=draw(labels),
        type=kind,
        help=draw(st.one_of(st.none(), labels)),
        precision=draw(st.integers(0, 4)) if kind == ItemType.DECIMAL else None,
        max_length=draw(st.integers(1, 500)) if kind == ItemType.TEXT else None,
        unit=draw(st.one_of(st.just(""), texts)) if numeric else "",
        codes=codes,
        required=draw(st.booleans()),
        range=hard,
        soft_range=soft,
        missing=tuple(draw(st.lists(st.sampled_from(MISSING_CODES), unique=True))),
    )


@st.composite
def forms(draw):
    codes = draw(st.lists(item_codes, min_size=1, max_size=6, unique=True))
    form_code = "F" + draw(st.from_regex(r"[A-Z0-9]{1,6}", fullmatch=True))
    built = [draw(items(code)) for code in codes]
    split = draw(st.integers(0, len(built)))
    groups = []
    if split:
        groups.append(GroupSpec(form_code, tuple(built[:split])))
    if split < len(built):
        rest = tuple(built[split:])
        groups.append(
            GroupSpec(
                "G" + form_code,
                rest,
                repeating=True,
                name=draw(st.one_of(st.none(), labels)),
                key=(rest[0].code,) if draw(st.booleans()) else (),
                max_rows=draw(st.one_of(st.none(), st.integers(1, 99))),
            )
        )
    checks = ()
    if built[0].type in (ItemType.INTEGER, ItemType.DECIMAL) and split:
        checks = (
            CheckSpec(
                id=f"{form_code}-R1",
                rule=f"{built[0].code} >= 0",
                message=draw(labels),
                severity=draw(st.sampled_from(SEVERITIES)),
            ),
        )
    return FormSpec(code=form_code, name=draw(labels), groups=tuple(groups), checks=checks)


@settings(max_examples=60, deadline=None)
@given(st.lists(forms(), max_size=3, unique_by=lambda f: f.code))
def test_any_valid_forms_section_reads_back_as_it_was_written(defined):
    spec = replace(BASE, forms=tuple(defined))
    assert parse_protocol(dump_protocol(spec)) == spec


@settings(max_examples=60, deadline=None)
@given(forms())
def test_a_form_keeps_its_content_hash_through_its_stored_json(form):
    stored = form_from_data(json_ready(form_to_data(form)))
    assert stored == form
    assert stored.content_hash == form.content_hash


def test_numbers_are_stored_as_exact_text():
    assert json_ready({"range": [Decimal("0.10"), Decimal("3")]}) == {"range": ["0.10", "3"]}
