"""The form expression language: one parser, one evaluator, one JSON tree.

The shared vectors in expression_vectors.json are the contract a browser preview will run
against the same JSON tree; the tests here run every one of them on the server, both on the
parsed tree and on the tree after a trip through JSON text, and pin the helpers the form
registry builds on (visibility, check failure, rounding, dependencies) and the limits that
keep hostile text harmless.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trials.forms.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    Call,
    ExpressionError,
    ItemType,
    Literal,
    Ref,
    ValueType,
    check,
    check_fails,
    dependency_order,
    evaluate,
    from_json,
    is_shown,
    parse,
    quantize,
    references,
    to_json,
)

VECTORS_FILE = Path(__file__).with_name("expression_vectors.json")
CONTRACT = json.loads(VECTORS_FILE.read_text(), parse_float=Decimal, parse_int=Decimal)
VECTORS = CONTRACT["vectors"]


def decode(value):
    """A value of the vectors file as the caller hands it to the evaluator."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        ((kind, text),) = value.items()
        return {
            "number": Decimal,
            "date": date.fromisoformat,
            "datetime": datetime.fromisoformat,
            "set": frozenset,
        }[kind](text)
    return value


def same(result, expected) -> bool:
    """Equal and of the same kind: True is not 1, and 2.50 is 2.5."""
    if expected is None or isinstance(expected, bool):
        return result is expected
    if isinstance(expected, Decimal):
        return isinstance(result, Decimal) and result == expected
    return type(result) is type(expected) and result == expected


def vector_id(vector) -> str:
    return vector["expr"] or "(empty)"


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_every_shared_vector_gives_its_result_or_its_error(vector):
    items, codes = CONTRACT["items"], CONTRACT["codes"]
    context = vector.get("context", "calc")
    if "error" in vector:
        with pytest.raises(ExpressionError) as refused:
            check(parse(vector["expr"]), items, context=context, codes=codes)
        assert vector["error"] in str(refused.value)
        return
    tree = parse(vector["expr"])
    check(tree, items, context=context, codes=codes)
    values = {code: decode(value) for code, value in vector["values"].items()}
    today = date.fromisoformat(vector["today"]) if "today" in vector else None
    expected = decode(vector["expected"])
    assert same(evaluate(tree, values, today=today), expected)
    # The page's preview receives the tree as JSON text; it must mean the same.
    sent = from_json(json.loads(json.dumps(to_json(tree))))
    assert same(evaluate(sent, values, today=today), expected)


def test_the_vectors_cover_every_operator_function_and_null_rule():
    assert len(VECTORS) >= 60
    text = " ".join(v["expr"] for v in VECTORS)
    for token in ["+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">=", "and", "or"]:
        assert f" {token} " in text, token
    for word in ["not ", "true", "false", "null", "min_present="]:
        assert word in text, word
    for name in ["if", "sum", "min", "max", "mean", "round", "abs", "days", "coalesce"]:
        assert f"{name}(" in text, name
    for name in ["is_blank", "has", "value", "today"]:
        assert f"{name}(" in text, name
    values = [v for v in VECTORS if "error" not in v]
    assert sum(v["expected"] is None for v in values) >= 20
    assert sum("error" in v for v in VECTORS) >= 40


def test_a_bmi_calculation_is_an_unrounded_decimal_until_the_item_precision_rounds_it():
    tree = parse("WEIGHT / (HEIGHT / 100) ^ 2")
    types = {"WEIGHT": ItemType.DECIMAL, "HEIGHT": ItemType.DECIMAL}
    assert check(tree, types, context="calc", target=ItemType.DECIMAL) == ValueType.NUMBER
    bmi = evaluate(tree, {"WEIGHT": Decimal("70.0"), "HEIGHT": Decimal("175.0")})
    assert isinstance(bmi, Decimal)
    assert quantize(bmi, 1) == Decimal("22.9")
    assert str(quantize(Decimal("2.25"), 1)) == "2.3"
    assert quantize(Decimal("-2.25"), 1) == Decimal("-2.3")
    assert quantize(None, 1) is None


def test_a_calculation_whose_result_does_not_fit_its_item_is_refused():
    types = {"AESTDT": "date", "AEENDT": "date"}
    with pytest.raises(ExpressionError, match="does not fit a date item"):
        check(parse("days(AESTDT, AEENDT)"), types, target="date")
    assert check(parse("days(AESTDT, AEENDT)"), types, target="integer") == ValueType.NUMBER


def test_a_null_show_if_hides_and_only_a_definite_true_shows():
    shown = parse("FEVER == 'Y'")
    assert is_shown(shown, {"FEVER": "Y"})
    assert not is_shown(shown, {"FEVER": "N"})
    assert not is_shown(shown, {})
    assert not is_shown(shown, {"FEVER": ""})


def test_a_null_check_is_not_evaluated_and_only_a_definite_false_fails():
    rule = parse("DIABP < SYSBP")
    assert check_fails(rule, {"SYSBP": 80, "DIABP": 90})
    assert not check_fails(rule, {"SYSBP": 120, "DIABP": 80})
    assert not check_fails(rule, {"SYSBP": 120})
    assert not check_fails(rule, {"SYSBP": None, "DIABP": 80})


def test_a_rule_with_today_uses_the_day_the_caller_passes_and_is_null_without_one():
    rule = parse("AESTDT <= today()")
    check(rule, {"AESTDT": "date"}, context="rule")
    assert check_fails(rule, {"AESTDT": date(2024, 5, 2)}, today=date(2024, 5, 1))
    assert evaluate(rule, {"AESTDT": date(2024, 5, 2)}) is None


def test_a_calculation_or_show_if_using_today_is_refused_at_load():
    for context in ("calc", "show_if"):
        with pytest.raises(ExpressionError, match="only allowed in rules"):
            check(parse("days(AESTDT, today()) > 1"), {"AESTDT": "date"}, context=context)


def test_every_type_problem_of_an_expression_is_listed_at_once_with_its_column():
    with pytest.raises(ExpressionError) as refused:
        check(parse("WEIGHT + FOO > 1 and FEVER == 1"), {"WEIGHT": "decimal", "FEVER": "yesno"})
    assert refused.value.messages == [
        "Unknown item FOO. (column 10)",
        "Compare the yes/no item FEVER with 'Y' or 'N'. (column 22)",
    ]


def test_a_parse_error_names_the_column_of_the_original_text_even_after_accented_text():
    with pytest.raises(ExpressionError) as refused:
        parse("TXT == 'café' and X[1]")
    assert refused.value.messages == ["Unexpected character '['. (column 20)"]
    with pytest.raises(ExpressionError, match=r"\(column 14\)"):
        parse("2 ^ 3 ^ 4 == foo(1)")


def test_a_dotted_name_is_one_reference_to_a_repeating_group_column():
    assert parse("sum(CM.PREDEQ)") == Call("sum", (Ref("CM.PREDEQ"),))
    assert references(parse("sum(CM.PREDEQ) + WEIGHT / 2")) == {"CM.PREDEQ", "WEIGHT"}


def test_a_literal_true_differs_from_the_number_one_in_the_tree():
    assert parse("true") != parse("1")
    assert parse("1") == Literal(Decimal(1))
    assert parse("2 ^ 3 ^ 2") == Binary(
        "^", Literal(Decimal(2)), Binary("^", Literal(Decimal(3)), Literal(Decimal(2)))
    )


def test_the_json_tree_keeps_decimals_exact_as_text():
    tree = parse("round(0.10 + A, 2)")
    assert to_json(tree) == {
        "kind": "call",
        "name": "round",
        "args": [
            {
                "kind": "binary",
                "op": "+",
                "left": {"kind": "number", "value": "0.10"},
                "right": {"kind": "ref", "code": "A"},
            },
            {"kind": "number", "value": "2"},
        ],
    }
    assert to_json(parse("sum(A, B, min_present=2)"))["min_present"] == 2


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"kind": "eval", "code": "__import__('os')"},
        {"kind": "number", "value": 1.5},
        {"kind": "number", "value": "NaN"},
        {"kind": "ref", "code": "A; B"},
        {"kind": "ref", "code": "null"},
        {"kind": "ref", "code": "CM.if"},
        {"kind": "ref", "code": "A", "extra": 1},
        {"kind": "binary", "op": "%", "left": {"kind": "null"}, "right": {"kind": "null"}},
        {"kind": "call", "name": "exec", "args": []},
        {"kind": "call", "name": "if", "args": [{"kind": "null"}]},
        {"kind": "call", "name": "sum", "args": [{"kind": "null"}], "min_present": True},
        {"kind": "bool", "op": "and", "operands": [{"kind": "null"}]},
    ],
)
def test_a_json_tree_that_no_parse_could_produce_is_refused(data):
    with pytest.raises(ExpressionError):
        from_json(data)


def test_hostile_length_and_nesting_are_refused_before_they_exhaust_the_stack():
    with pytest.raises(ExpressionError, match=f"at most {MAX_LENGTH} characters"):
        parse("1+" * MAX_LENGTH + "1")
    for text in ["-" * 150 + "1", "not " * 150 + "true", "(" * 150 + "1" + ")" * 150]:
        with pytest.raises(ExpressionError, match=f"more than {MAX_DEPTH} levels"):
            parse(text)
    deep = {"kind": "null"}
    for _ in range(MAX_DEPTH + 5):
        deep = {"kind": "unary", "op": "-", "operand": deep}
    with pytest.raises(ExpressionError, match="levels"):
        from_json(deep)
    assert evaluate(parse("sum(" + ", ".join(["A"] * 400) + ")"), {"A": 1}) == 400


def test_python_is_never_reachable_from_an_expression():
    for text in [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "A.__class__",
        "eval('1')",
        "(lambda: 1)()",
        "[x for x in A]",
        "A if B else C",
        "f'{A}'",
    ]:
        with pytest.raises(ExpressionError):
            parse(text)


def test_a_value_of_an_unexpected_kind_reads_as_null_instead_of_raising():
    tree = parse("A + 1 > B and has(S, 'X') or days(D, E) > 0")
    values = {"A": object(), "B": "text", "S": "X", "D": datetime.now(UTC), "E": date.today()}
    assert evaluate(tree, values) is None
    assert evaluate(parse("A < B"), {"A": datetime.now(UTC), "B": datetime.now()}) is None
    assert evaluate(parse("A + 1"), {"A": float("nan")}) is None
    assert evaluate(parse("A + 1"), {"A": 1.5}) == Decimal("2.5")


def test_calculations_are_ordered_after_the_calculations_they_read():
    calcs = {"BMI": parse("W / H ^ 2"), "W": parse("LB * 0.45359237"), "H": parse("CM / 100")}
    order = dependency_order(calcs)
    assert order.index("W") < order.index("BMI") and order.index("H") < order.index("BMI")


def test_a_calculation_depending_on_itself_is_refused_naming_the_cycle():
    with pytest.raises(ExpressionError, match="BMI → X → BMI"):
        dependency_order({"BMI": parse("X + 1"), "X": parse("Y * BMI"), "Y": parse("1")})
    with pytest.raises(ExpressionError, match="TOTAL → TOTAL"):
        dependency_order({"TOTAL": parse("sum(A, TOTAL)")})


# Properties over generated expressions ---------------------------------------------------

ITEMS = {
    "N": "decimal",
    "I": "integer",
    "T": "text",
    "D": "date",
    "DT": "datetime",
    "YN": "yesno",
    "CH": "choice",
    "MC": "multichoice",
    "CM.X": "decimal",
}
numbers = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(str),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False).map(str),
)
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="'"), max_size=8)
atoms = st.one_of(
    numbers,
    texts.map(lambda t: f"'{t}'"),
    st.sampled_from(["true", "false", "null", "today()", *ITEMS]),
)
FUNCTION_ARITY = {
    "if": 3,
    "round": 2,
    "abs": 1,
    "days": 2,
    "coalesce": 2,
    "is_blank": 1,
    "value": 1,
    "sum": 2,
    "min": 1,
    "max": 3,
    "mean": 2,
}


def compound(children):
    binary = st.tuples(
        children,
        st.sampled_from(["+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">=", "and", "or"]),
        children,
    ).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not "]), children).map(lambda t: f"{t[0]}({t[1]})")
    call = st.sampled_from(sorted(FUNCTION_ARITY)).flatmap(
        lambda name: st.tuples(
            st.lists(children, min_size=FUNCTION_ARITY[name], max_size=FUNCTION_ARITY[name]),
            st.integers(1, 3) if name in ("sum", "min", "max", "mean") else st.none(),
        ).map(
            lambda t: (
                f"{name}({', '.join(t[0])}"
                + ("" if t[1] is None else f", min_present={t[1]}")
                + ")"
            )
        )
    )
    has = st.sampled_from(["MC", "N", "null"]).map(lambda x: f"has({x}, 'A')")
    return st.one_of(binary, unary, call, has)


expressions = st.recursive(atoms, compound, max_leaves=12)
maybe = st.none().__or__
values = st.fixed_dictionaries(
    {},
    optional={
        "N": maybe(st.decimals(allow_nan=True, allow_infinity=True)),
        "I": maybe(st.integers(min_value=-(10**40), max_value=10**40)),
        "T": maybe(texts),
        "D": maybe(st.dates()),
        "DT": maybe(st.datetimes(timezones=st.none() | st.just(UTC))),
        "YN": maybe(st.sampled_from(["Y", "N"])),
        "CH": maybe(st.sampled_from(["0", "1", "2", "A"])),
        "MC": maybe(st.frozensets(st.sampled_from(["A", "B"]))),
        "CM.X": st.lists(maybe(st.decimals(allow_nan=False, allow_infinity=False)), max_size=4),
    },
)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_a_tree_survives_the_trip_through_json_exactly(text):
    tree = parse(text)
    data = json.loads(json.dumps(to_json(tree)))
    assert from_json(data) == tree
    assert to_json(from_json(data)) == to_json(tree)


@settings(max_examples=300, deadline=None)
@given(expressions, values, st.dates())
def test_evaluation_never_raises_and_the_json_tree_gives_the_same_value(text, given, today):
    tree = parse(text)
    result = evaluate(tree, given, today=today)
    assert result is None or isinstance(result, Decimal | str | bool | date | frozenset | tuple)
    assert not (isinstance(result, Decimal) and not result.is_finite())
    again = evaluate(from_json(to_json(tree)), given, today=today)
    assert same(again, result) if not isinstance(result, Decimal) else again == result
    assert isinstance(is_shown(tree, given, today=today), bool)
    assert isinstance(check_fails(tree, given, today=today), bool)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_checking_a_generated_expression_gives_a_type_or_an_expression_error(text):
    for context in ("calc", "rule", "show_if"):
        try:
            assert isinstance(check(parse(text), ITEMS, context=context), ValueType)
        except ExpressionError as refused:
            assert refused.messages


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" AB12.+-*/^()<>=!'\",_ifsumnotandortruenull[]:é", max_size=40))
def test_any_text_parses_or_is_refused_with_an_expression_error(text):
    try:
        tree = parse(text)
    except ExpressionError as refused:
        assert refused.messages
    else:
        assert from_json(to_json(tree)) == tree
