"""The one expression language of the form registry: `show_if`, `calc` and `checks[].rule`.

An expression is parsed once into an immutable tree (`parse`), checked against the form's
item types when the protocol file is loaded (`check`), and evaluated by the server
(`evaluate`, `is_shown`, `check_fails`). The tree serialises to JSON (`to_json` /
`from_json`) so a page's live preview evaluates the very same tree; the vectors in
tests/trials/expression_vectors.json are the contract both evaluators run against. There is
no second grammar.

Grammar
    Numbers (`12`, `0.5`; no exponents) are `Decimal`, never float. Strings are quoted with
    ' or " (no escapes; use the other quote to include one). `true`, `false`, `null`. Item
    codes are identifiers starting with a letter (`WEIGHT`); `GROUP.ITEM` is the column of a
    repeating group, a list, usable only inside `sum`, `min`, `max` and `mean`. Operators, from
    loosest to tightest: `or`, `and`, `not`, comparisons (`== != < <= > >=`, not chained),
    `+ -`, `* /`, unary `-`, `^` (power, right-associative: 2 ^ 3 ^ 2 = 2 ^ 9). `**` is
    refused (write `^`). At most 2,000 characters and 100 levels of nesting, so hostile
    text cannot exhaust the stack; long totals are written `sum(A, B, ...)`, which is flat.

Functions
    `if(c, a, b)`; `sum`, `min`, `max`, `mean` over several arguments and/or columns, with
    `min_present=N`; `round(x)` / `round(x, n)`; `abs(x)`; `days(d1, d2)` (d2 - d1 in days,
    dates only); `coalesce(a, b, ...)`; `is_blank(x)`; `has(X, 'CODE')` (multichoice
    membership); `value(X)` (the number a choice code spells: '2' -> 2, so a weighted total
    over choice items such as ESSDAI is `3 * value(CONST) + 2 * value(LYMPH) + ...`; a code
    that is not a number reads as null); `today()` (the site's day, passed in by the caller;
    allowed only in rules, since a stored calculation or a visibility must not change by
    itself overnight).

Null (blank and missing)
    An item absent from the values, blank (empty or white-space text) or answered with a
    missing-data code (the caller passes None: the code lives beside the value, never in it)
    reads as null. Arithmetic, comparisons, `not`, `abs`, `round`, `days`, `value` with a null
    give null; `and` / `or` use three-valued (Kleene/SQL) logic: false and null = false,
    true or null = true, otherwise null. `if` with a null condition gives null (a blank
    answer never silently picks a branch). Aggregates skip nulls; all null, or fewer than
    `min_present` present, gives null. `coalesce` gives its first non-null argument,
    `is_blank` is never null. An empty multichoice set is an answer (not blank); `has` on it
    is false. Division by zero gives null, as does any result that is not a finite number
    (0 ^ -1, (-8) ^ 0.5), and `==` with null is refused at load (write `is_blank(X)`).
    A `show_if` that is null hides (`is_shown`); a check that is null is not evaluated: only
    a definite false fails (`check_fails`). Evaluation never raises: a value of an
    unexpected kind at run time reads as null as well.

Arithmetic
    Decimal with 28 significant digits and ROUND_HALF_UP throughout (the rounding decimal.js
    uses by default); results are rounded only by an explicit `round` (ROUND_HALF_UP: round(
    2.5) = 3, round(-2.5) = -3) or by the item's precision, which is the caller's concern
    (`quantize`).

Types (checked at load by `check`)
    integer and decimal items are numbers; text is text; date and datetime are distinct;
    yesno and choice items hold string codes and are compared with quoted codes (`FEVER ==
    'Y'`; `FEVER == 1` is refused), with == and != only; a multichoice item is only used
    through `has(X, 'CODE')`; arithmetic takes numbers; `days` takes dates.
"""

import ast
import bisect
import keyword
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import Any
from typing import Literal as TypingLiteral

from django.utils.translation import gettext as _

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Binary",
    "BoolOp",
    "Call",
    "Compare",
    "ExpressionError",
    "ItemType",
    "Literal",
    "Node",
    "Ref",
    "Unary",
    "ValueType",
    "check",
    "check_fails",
    "dependency_order",
    "evaluate",
    "from_json",
    "is_shown",
    "parse",
    "quantize",
    "references",
    "to_json",
]

MAX_LENGTH = 2000
MAX_DEPTH = 100

# Every evaluation runs in this context: traps off so that overflow, 0 ^ -1 or a root of a
# negative number give a non-finite result (turned into null) instead of an exception.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999, traps=[])


class ExpressionError(ValueError):
    """Why an expression (or a set of calculations) is refused: every problem found."""

    def __init__(self, messages: str | Iterable[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


def _at(message: str, column: int | None) -> str:
    # Columns are 1-based for people; a tree read from JSON has no positions.
    if column is None:
        return message
    return _("%(message)s (column %(column)s)") % {"message": message, "column": column + 1}


# ---------------------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------------------

UNARY_OPS = ("-", "not")
BINARY_OPS = ("+", "-", "*", "/", "^")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
BOOL_OPS = ("and", "or")
AGGREGATES = ("sum", "min", "max", "mean")
# name -> (fewest, most) arguments; None = any number.
FUNCTIONS = {
    "if": (3, 3),
    "sum": (1, None),
    "min": (1, None),
    "max": (1, None),
    "mean": (1, None),
    "round": (1, 2),
    "abs": (1, 1),
    "days": (2, 2),
    "coalesce": (1, None),
    "is_blank": (1, 1),
    "has": (2, 2),
    "value": (1, 1),
    "today": (0, 0),
}


def _position() -> Any:
    # Where the node starts in the text: for messages only, so not part of equality or JSON.
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Literal:
    value: Decimal | str | bool | None
    # The kind takes part in equality: True == Decimal(1) in Python, but not here.
    kind: str = field(init=False, repr=False)
    pos: int | None = _position()

    def __post_init__(self):
        if isinstance(self.value, bool):
            kind = "boolean"
        elif isinstance(self.value, Decimal):
            if not self.value.is_finite():
                raise ExpressionError(_("A number must be finite."))
            kind = "number"
        elif isinstance(self.value, str):
            kind = "text"
        elif self.value is None:
            kind = "null"
        else:
            raise ExpressionError(_("A literal must be a number, text, true, false or null."))
        object.__setattr__(self, "kind", kind)


@dataclass(frozen=True)
class Ref:
    code: str
    pos: int | None = _position()

    def __post_init__(self):
        if (
            not isinstance(self.code, str)
            or not _REFERENCE.fullmatch(self.code)
            or any(part in _WORDS or keyword.iskeyword(part) for part in self.code.split("."))
        ):
            raise ExpressionError(_("%(code)r is not an item code.") % {"code": self.code})

    @property
    def is_column(self) -> bool:
        return "." in self.code


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"
    pos: int | None = _position()

    def __post_init__(self):
        _require_op(self.op, UNARY_OPS)


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"
    pos: int | None = _position()

    def __post_init__(self):
        _require_op(self.op, BINARY_OPS)


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Node"
    right: "Node"
    pos: int | None = _position()

    def __post_init__(self):
        _require_op(self.op, COMPARE_OPS)


@dataclass(frozen=True)
class BoolOp:
    op: str
    operands: tuple["Node", ...]
    pos: int | None = _position()

    def __post_init__(self):
        _require_op(self.op, BOOL_OPS)
        object.__setattr__(self, "operands", tuple(self.operands))
        if len(self.operands) < 2:
            raise ExpressionError(_("%(op)s needs two operands.") % {"op": self.op})


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Node", ...]
    min_present: int | None = None
    pos: int | None = _position()

    def __post_init__(self):
        object.__setattr__(self, "args", tuple(self.args))
        if self.name not in FUNCTIONS:
            raise ExpressionError(
                _at(
                    _("Unknown function %(name)s; the functions are %(known)s.")
                    % {"name": self.name, "known": ", ".join(FUNCTIONS)},
                    self.pos,
                )
            )
        fewest, most = FUNCTIONS[self.name]
        if len(self.args) < fewest or (most is not None and len(self.args) > most):
            if fewest == most:
                count = str(fewest)
            elif most is None:
                count = _("at least %(n)s") % {"n": fewest}
            else:
                count = _("%(a)s or %(b)s") % {"a": fewest, "b": most}
            raise ExpressionError(
                _at(
                    _("%(name)s() takes %(count)s arguments, not %(given)s.")
                    % {"name": self.name, "count": count, "given": len(self.args)},
                    self.pos,
                )
            )
        if self.min_present is not None:
            if self.name not in AGGREGATES:
                raise ExpressionError(
                    _at(
                        _("min_present is only for sum, min, max and mean, not %(name)s().")
                        % {"name": self.name},
                        self.pos,
                    )
                )
            if (
                isinstance(self.min_present, bool)
                or not isinstance(self.min_present, int)
                or self.min_present < 1
            ):
                raise ExpressionError(
                    _at(_("min_present must be a whole number of at least 1."), self.pos)
                )


Node = Literal | Ref | Unary | Binary | Compare | BoolOp | Call

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_REFERENCE = re.compile(rf"{_NAME}(?:\.{_NAME})?")


def _too_deep() -> str:
    return _("The expression nests more than %(max)s levels deep.") % {"max": MAX_DEPTH}


def _require_op(op: str, allowed: tuple[str, ...]) -> None:
    if op not in allowed:
        raise ExpressionError(_("Unknown operator %(op)r.") % {"op": op})


# ---------------------------------------------------------------------------------------
# Parsing: a small tokenizer rewrites the text into Python syntax, `ast` parses it, and a walk
# over a whitelist of node types builds the tree. User text is never compiled or run.
# ---------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>\*\*|==|!=|<=|>=|<|>|\+|-|\*|/|\^|\(|\)|,|=)
    """,
    re.VERBOSE,
)
_WORDS = {"and", "or", "not", "true", "false", "null"}
# `if` is a Python keyword, so the function is renamed for the parser; names cannot start
# with an underscore, so no item code can collide with it.
_IF = "__if__"


def _tokenize(text: str) -> tuple[str, list[int], list[int]]:
    """Python-syntax text, with each token's start there and in the original text."""
    out: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    opened: list[int] = []  # where each unclosed ( is, to name it
    last = None  # the last token when it is an operator
    length = 0
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"":
                raise ExpressionError(_at(_("This text has no closing quote."), pos))
            raise ExpressionError(
                _at(_("Unexpected character %(char)r.") % {"char": text[pos]}, pos)
            )
        kind, token = match.lastgroup, match.group()
        end = match.end()
        if kind == "space":
            pos = end
            continue
        if kind == "number":
            if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                raise ExpressionError(_at(_("Malformed number."), pos))
        elif kind == "string":
            token = ascii(token[1:-1])  # ASCII only: ast columns are then character columns
        elif kind == "name":
            parts = token.split(".")
            if len(parts) > 2:
                raise ExpressionError(
                    _at(
                        _("%(name)s: an item reference has at most one dot (GROUP.ITEM).")
                        % {"name": token},
                        pos,
                    )
                )
            for part in parts:
                if part.startswith("_"):
                    raise ExpressionError(
                        _at(
                            _("Names cannot start with an underscore: %(name)s.") % {"name": token},
                            pos,
                        )
                    )
                if part in ("True", "False", "None"):
                    raise ExpressionError(_at(_("Write true, false and null in lower case."), pos))
                if keyword.iskeyword(part) and (len(parts) > 1 or part not in _WORDS | {"if"}):
                    raise ExpressionError(
                        _at(
                            _("%(word)s is not part of the expression language.") % {"word": part},
                            pos,
                        )
                    )
            if token == "if":
                token = _IF
        elif token == "**":
            raise ExpressionError(_at(_("Write powers with ^, not **."), pos))
        elif token == "^":
            token = "**"
        if token == "(":
            opened.append(pos)
            if len(opened) > MAX_DEPTH:
                raise ExpressionError(_at(_too_deep(), pos))
        elif token == ")":
            if not opened:
                raise ExpressionError(_at(_("This ) has no matching (."), pos))
            opened.pop()
        starts.append(length)
        origins.append(pos)
        out.append(token)
        length += len(token) + 1
        last = match.group() if kind == "op" else None
        pos = end
    if opened:
        raise ExpressionError(_at(_("This ( is never closed."), opened[-1]))
    if last is not None and last != ")":
        raise ExpressionError(_("The expression ends too early, after %(op)s.") % {"op": last})
    return " ".join(out), starts, origins


def parse(text: str) -> Node:
    """The tree of an expression, or ExpressionError saying what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionError(_("An expression must be text."))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            _("An expression is at most %(max)s characters long.") % {"max": MAX_LENGTH}
        )
    if not text.strip():
        raise ExpressionError(_("The expression is empty."))
    source, starts, origins = _tokenize(text)

    def column(rewritten: int | None) -> int | None:
        if rewritten is None:
            return None
        index = bisect.bisect_right(starts, rewritten) - 1
        if index < 0:
            return 0
        return origins[index]

    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        offset = None if error.offset is None else error.offset - 1
        if offset is not None and offset >= len(source):
            raise ExpressionError(_("The expression ends too early.")) from None
        raise ExpressionError(_at(_("Syntax error."), column(offset))) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(_("The expression is too complex.")) from None
    return _Builder(source, column).build(tree.body, 1)


class _Builder:
    def __init__(self, source: str, column):
        self.source = source
        self.column = column

    def refuse(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(_at(message, self.column(getattr(node, "col_offset", None))))

    def build(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.refuse(
                _too_deep(),
                node,
            )
        pos = self.column(getattr(node, "col_offset", None))
        deeper = depth + 1
        match node:
            case ast.Constant(value=str() as value):
                if self.source[node.col_offset : node.end_col_offset] != ascii(value):
                    # Python joins 'a' 'b' into one text; here that is a missing operator.
                    raise self.refuse(_("Two texts in a row: an operator is missing."), node)
                return Literal(value, pos=pos)
            case ast.Constant(value=int() | float()) if not isinstance(node.value, bool):
                # The number's own digits, not the float Python made of them.
                digits = self.source[node.col_offset : node.end_col_offset]
                return Literal(Decimal(digits), pos=pos)
            case ast.Name(id=name):
                if name == _IF:
                    raise self.refuse(_("if is a function: if(condition, then, else)."), node)
                if name in ("true", "false", "null"):
                    return Literal({"true": True, "false": False, "null": None}[name], pos=pos)
                return Ref(name, pos=pos)
            case ast.Attribute(value=ast.Name()):
                return Ref(self.source[node.col_offset : node.end_col_offset], pos=pos)
            case ast.UnaryOp(op=ast.USub()):
                return Unary("-", self.build(node.operand, deeper), pos=pos)
            case ast.UnaryOp(op=ast.Not()):
                return Unary("not", self.build(node.operand, deeper), pos=pos)
            case ast.BinOp(op=ast.Add() | ast.Sub() | ast.Mult() | ast.Div() | ast.Pow()):
                op = _BINARY_OF_AST[type(node.op)]
                return Binary(
                    op, self.build(node.left, deeper), self.build(node.right, deeper), pos=pos
                )
            case ast.Compare(ops=[operator], comparators=[right]):
                op = _COMPARE_OF_AST.get(type(operator))
                if op is None:
                    raise self.refuse(_("Only == != < <= > >= compare values."), node)
                return Compare(
                    op, self.build(node.left, deeper), self.build(right, deeper), pos=pos
                )
            case ast.Compare():
                raise self.refuse(
                    _("Chained comparisons are not allowed: join them with and."), node
                )
            case ast.BoolOp(op=ast.And() | ast.Or()):
                op = "and" if isinstance(node.op, ast.And) else "or"
                operands = tuple(self.build(value, deeper) for value in node.values)
                return BoolOp(op, operands, pos=pos)
            case ast.Call(func=ast.Name(id=name)):
                return self.call("if" if name == _IF else name, node, deeper, pos)
            case ast.Call():
                raise self.refuse(_("Only the listed functions can be called."), node)
        raise self.refuse(
            _("This is not allowed in an expression."),
            node,
        )

    def call(self, name: str, node: ast.Call, depth: int, pos: int | None) -> Call:
        if name not in FUNCTIONS:
            raise self.refuse(
                _("Unknown function %(name)s; the functions are %(known)s.")
                % {"name": name, "known": ", ".join(FUNCTIONS)},
                node,
            )
        min_present = None
        for kw in node.keywords:
            if kw.arg != "min_present":
                raise self.refuse(
                    _("The only named argument is min_present, not %(name)s.") % {"name": kw.arg},
                    kw,
                )
            value = kw.value
            if not (
                isinstance(value, ast.Constant)
                and isinstance(value.value, int)
                and not isinstance(value.value, bool)
            ):
                raise self.refuse(_("min_present must be a whole number of at least 1."), kw)
            min_present = value.value
        args = tuple(self.build(arg, depth) for arg in node.args)
        return Call(name, args, min_present, pos=pos)


_BINARY_OF_AST = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}
_COMPARE_OF_AST = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}


# ---------------------------------------------------------------------------------------
# JSON: the shape the page's preview evaluates. Numbers travel as strings, so no float.
# ---------------------------------------------------------------------------------------


def to_json(tree: Node) -> dict:
    """The tree as JSON-ready dicts; `from_json(to_json(t)) == t` exactly."""
    match tree:
        case Literal(kind="number"):
            return {"kind": "number", "value": str(tree.value)}
        case Literal(kind="text"):
            return {"kind": "text", "value": tree.value}
        case Literal(kind="boolean"):
            return {"kind": "boolean", "value": tree.value}
        case Literal(kind="null"):
            return {"kind": "null"}
        case Ref():
            return {"kind": "ref", "code": tree.code}
        case Unary():
            return {"kind": "unary", "op": tree.op, "operand": to_json(tree.operand)}
        case Binary() | Compare():
            return {
                "kind": "binary" if isinstance(tree, Binary) else "compare",
                "op": tree.op,
                "left": to_json(tree.left),
                "right": to_json(tree.right),
            }
        case BoolOp():
            return {"kind": "bool", "op": tree.op, "operands": [to_json(o) for o in tree.operands]}
        case Call():
            data = {"kind": "call", "name": tree.name, "args": [to_json(a) for a in tree.args]}
            if tree.min_present is not None:
                data["min_present"] = tree.min_present
            return data
    raise TypeError(f"not an expression tree: {tree!r}")


_JSON_KEYS = {
    "number": {"kind", "value"},
    "text": {"kind", "value"},
    "boolean": {"kind", "value"},
    "null": {"kind"},
    "ref": {"kind", "code"},
    "unary": {"kind", "op", "operand"},
    "binary": {"kind", "op", "left", "right"},
    "compare": {"kind", "op", "left", "right"},
    "bool": {"kind", "op", "operands"},
    "call": {"kind", "name", "args", "min_present"},
}
_NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:E[+-]?[0-9]+)?")


def from_json(data: Any, _depth: int = 1) -> Node:
    """The tree a `to_json` produced; anything else is an ExpressionError, never a crash."""
    if _depth > MAX_DEPTH:
        raise ExpressionError(_too_deep())
    if not isinstance(data, dict) or data.get("kind") not in _JSON_KEYS:
        raise ExpressionError(_("Not an expression tree: %(data).80r") % {"data": data})
    kind = data["kind"]
    keys = set(data)
    allowed = _JSON_KEYS[kind]
    required = allowed - {"min_present"}
    if not required <= keys <= allowed:
        raise ExpressionError(_("Not an expression tree: %(data).80r") % {"data": data})
    deeper = _depth + 1
    match kind:
        case "number":
            value = data["value"]
            if not isinstance(value, str) or not _NUMBER_TEXT.fullmatch(value):
                message = _("A number must be written as text: %(v).40r") % {"v": value}
                raise ExpressionError(message)
            return Literal(Decimal(value))
        case "text":
            if not isinstance(data["value"], str):
                raise ExpressionError(_("Text must be a string."))
            return Literal(data["value"])
        case "boolean":
            if not isinstance(data["value"], bool):
                raise ExpressionError(_("A boolean must be true or false."))
            return Literal(data["value"])
        case "null":
            return Literal(None)
        case "ref":
            return Ref(data["code"])
        case "unary":
            return Unary(data["op"], from_json(data["operand"], deeper))
        case "binary" | "compare":
            cls = Binary if kind == "binary" else Compare
            left, right = from_json(data["left"], deeper), from_json(data["right"], deeper)
            return cls(data["op"], left, right)
        case "bool":
            if not isinstance(data["operands"], list):
                raise ExpressionError(_("Operands must be a list."))
            return BoolOp(data["op"], tuple(from_json(o, deeper) for o in data["operands"]))
        case _:
            if not isinstance(data["name"], str) or not isinstance(data["args"], list):
                raise ExpressionError(_("Not an expression tree: %(data).80r") % {"data": data})
            args = tuple(from_json(a, deeper) for a in data["args"])
            return Call(data["name"], args, data.get("min_present"))


# ---------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------

_NUMERIC_CODE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _normalise(value: Any) -> Any:
    """The value as the evaluator sees it: blanks are null, numbers Decimal."""
    if value is None or isinstance(value, (bool, date)):
        return value
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    return None


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, frozenset):
        return "set"
    if isinstance(value, tuple):
        return "list"
    return "other"


def _number(value: Decimal) -> Decimal | None:
    return value if value.is_finite() else None


def evaluate(tree: Node, values: Mapping[str, Any], *, today: date | None = None) -> Any:
    """The expression's value for these item values: Decimal, str, bool, date, ... or None.

    `values` maps item codes to Python values (Decimal or int for numbers, str codes for
    choice and yesno items, a set of codes for multichoice, date / datetime, a list for a
    repeating-group column `GROUP.ITEM`); absent, blank and None read as null. `today` is
    the site's day for `today()`. Never raises for such values.
    """
    with localcontext(_CONTEXT):
        return _Evaluator(values, today).eval(tree)


def is_shown(tree: Node, values: Mapping[str, Any], *, today: date | None = None) -> bool:
    """Whether a `show_if` shows its item: only a definite true shows; null hides."""
    return evaluate(tree, values, today=today) is True


def check_fails(tree: Node, values: Mapping[str, Any], *, today: date | None = None) -> bool:
    """Whether a check rule fails: only a definite false fails; null is not evaluated."""
    return evaluate(tree, values, today=today) is False


def quantize(value: Decimal | None, precision: int) -> Decimal | None:
    """A calculated value rounded to the item's decimal places, ROUND_HALF_UP; null stays."""
    if value is None:
        return None
    with localcontext(_CONTEXT):
        result = Decimal(value).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
    return result if result.is_finite() else None


class _Evaluator:
    def __init__(self, values: Mapping[str, Any], today: date | None):
        self.values = values
        self.today = today if isinstance(today, date) and not isinstance(today, datetime) else None

    def eval(self, node: Node) -> Any:
        match node:
            case Literal():
                return node.value
            case Ref():
                try:
                    return _normalise(self.values.get(node.code))
                except Exception:  # a hostile Mapping; the caller still gets null
                    return None
            case Unary():
                value = self.eval(node.operand)
                if node.op == "-":
                    return _number(-value) if _kind(value) == "number" else None
                return (not value) if _kind(value) == "boolean" else None
            case Binary():
                return self.arithmetic(node.op, self.eval(node.left), self.eval(node.right))
            case Compare():
                return self.compare(node.op, self.eval(node.left), self.eval(node.right))
            case BoolOp():
                results = [self.eval(o) for o in node.operands]
                results = [r if _kind(r) == "boolean" else None for r in results]
                decisive = node.op == "or"  # true decides an or, false decides an and
                if decisive in results:
                    return decisive
                if None in results:
                    return None
                return not decisive
            case Call():
                return getattr(self, f"call_{node.name}")(node)
        return None

    @staticmethod
    def arithmetic(op: str, left: Any, right: Any) -> Decimal | None:
        if _kind(left) != "number" or _kind(right) != "number":
            return None
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif op == "/":
            if right == 0:
                return None
            result = left / right
        else:
            result = left**right
        return _number(result)

    @staticmethod
    def compare(op: str, left: Any, right: Any) -> bool | None:
        kind = _kind(left)
        if kind is None or kind != _kind(right) or kind in ("set", "list", "other"):
            return None
        if op in ("==", "!="):
            return (left == right) == (op == "==")
        if kind not in ("number", "date", "datetime"):
            return None
        try:
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
                op
            ]
        except TypeError:  # an aware and a naive datetime
            return None

    def aggregate(self, node: Call) -> list[Any] | None:
        """The present values of an aggregate's arguments and columns, or None if too few."""
        present = []
        for arg in node.args:
            value = self.eval(arg)
            items = value if _kind(value) == "list" else (value,)
            present.extend(item for item in items if item is not None)
        if not present or len(present) < (node.min_present or 1):
            return None
        return present

    def numbers(self, node: Call) -> list[Decimal] | None:
        present = self.aggregate(node)
        if present is None or any(_kind(v) != "number" for v in present):
            return None
        return present

    def call_sum(self, node: Call) -> Decimal | None:
        present = self.numbers(node)
        return None if present is None else _number(sum(present, Decimal(0)))

    def call_mean(self, node: Call) -> Decimal | None:
        present = self.numbers(node)
        return None if present is None else _number(sum(present, Decimal(0)) / len(present))

    def extreme(self, node: Call, pick) -> Any:
        present = self.aggregate(node)
        if present is None:
            return None
        kinds = {_kind(v) for v in present}
        if len(kinds) != 1 or kinds & {"text", "boolean", "set", "list", "other"}:
            return None
        try:
            return pick(present)
        except TypeError:
            return None

    def call_min(self, node: Call) -> Any:
        return self.extreme(node, min)

    def call_max(self, node: Call) -> Any:
        return self.extreme(node, max)

    def call_if(self, node: Call) -> Any:
        condition = self.eval(node.args[0])
        if condition is True:
            return self.eval(node.args[1])
        if condition is False:
            return self.eval(node.args[2])
        return None

    def call_round(self, node: Call) -> Decimal | None:
        value = self.eval(node.args[0])
        places = self.eval(node.args[1]) if len(node.args) > 1 else Decimal(0)
        if _kind(value) != "number" or _kind(places) != "number":
            return None
        if places != places.to_integral_value() or not -28 <= places <= 28:
            return None
        return quantize(value, int(places))

    def call_abs(self, node: Call) -> Decimal | None:
        value = self.eval(node.args[0])
        return abs(value) if _kind(value) == "number" else None

    def call_days(self, node: Call) -> Decimal | None:
        start, end = self.eval(node.args[0]), self.eval(node.args[1])
        if _kind(start) != "date" or _kind(end) != "date":
            return None
        return Decimal((end - start).days)

    def call_coalesce(self, node: Call) -> Any:
        for arg in node.args:
            value = self.eval(arg)
            if value is not None:
                return value
        return None

    def call_is_blank(self, node: Call) -> bool:
        return self.eval(node.args[0]) is None

    def call_has(self, node: Call) -> bool | None:
        chosen, code = self.eval(node.args[0]), self.eval(node.args[1])
        if _kind(chosen) not in ("set", "list") or _kind(code) != "text":
            return None
        return code in chosen

    def call_value(self, node: Call) -> Decimal | None:
        code = self.eval(node.args[0])
        if _kind(code) != "text" or not _NUMERIC_CODE.fullmatch(code.strip()):
            return None
        return Decimal(code.strip())

    def call_today(self, node: Call) -> date | None:
        return self.today


# ---------------------------------------------------------------------------------------
# Type checking at load
# ---------------------------------------------------------------------------------------


class ItemType(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    YESNO = "yesno"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"


class ValueType(StrEnum):
    """What an expression yields. CODE is a choice or yes/no code, CODES a multichoice set."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CODE = "code"
    CODES = "codes"
    NULL = "null"


_VALUE_TYPE_OF_ITEM = {
    ItemType.INTEGER: ValueType.NUMBER,
    ItemType.DECIMAL: ValueType.NUMBER,
    ItemType.TEXT: ValueType.TEXT,
    ItemType.DATE: ValueType.DATE,
    ItemType.DATETIME: ValueType.DATETIME,
    ItemType.YESNO: ValueType.CODE,
    ItemType.CHOICE: ValueType.CODE,
    ItemType.MULTICHOICE: ValueType.CODES,
}
# Which item a calculation's result may be stored in.
_FITS = {
    ValueType.NUMBER: {ItemType.INTEGER, ItemType.DECIMAL},
    ValueType.TEXT: {ItemType.TEXT, ItemType.CHOICE, ItemType.YESNO},
    ValueType.CODE: {ItemType.TEXT, ItemType.CHOICE, ItemType.YESNO},
    ValueType.DATE: {ItemType.DATE},
    ValueType.DATETIME: {ItemType.DATETIME},
    ValueType.CODES: {ItemType.MULTICHOICE},
    ValueType.BOOLEAN: set(),
    ValueType.NULL: set(ItemType),
}


@dataclass(frozen=True)
class _Typed:
    type: ValueType
    item: str | None = None  # the item a CODE / CODES value comes from
    yesno: bool = False
    column: bool = False
    text: str | None = None  # the literal text, to check codes


CheckContext = TypingLiteral["calc", "rule", "show_if"]


def check(
    tree: Node,
    item_types: Mapping[str, ItemType | str],
    *,
    context: CheckContext = "calc",
    target: ItemType | str | None = None,
    codes: Mapping[str, Collection[str]] | None = None,
) -> ValueType:
    """The type the expression yields, or ExpressionError listing every problem found.

    `item_types` maps every item code the expression may use (columns as `GROUP.ITEM`) to
    its type; `codes`, when given, maps choice items to their codes so unknown codes are
    refused too. A `show_if` or a rule must be a condition; `today()` is refused outside
    rules; with `target`, a calculation's result must fit that item type.
    """
    checker = _Checker(item_types, codes or {}, context)
    result = checker.check(tree)
    if result is not None and not checker.problems:
        if context in ("rule", "show_if") and result.type not in (ValueType.BOOLEAN,):
            checker.problems.append(
                _at(
                    _("A %(context)s must be a condition (true or false), not %(type)s.")
                    % {"context": _context_name(context), "type": _type_name(result.type)},
                    tree.pos,
                )
            )
        elif target is not None:
            try:
                item_type = ItemType(target)
            except ValueError:
                item_type = None
                checker.problems.append(_("Unknown item type %(type)r.") % {"type": target})
            if item_type is not None and item_type not in _FITS[result.type]:
                checker.problems.append(
                    _("The calculation gives %(type)s, which does not fit a %(item)s item.")
                    % {"type": _type_name(result.type), "item": item_type}
                )
    if checker.problems:
        raise ExpressionError(checker.problems)
    return result.type


def _context_name(context: str) -> str:
    return {"calc": _("calculation"), "rule": _("rule"), "show_if": _("show_if")}.get(
        context, context
    )


def _type_name(value_type: ValueType) -> str:
    return {
        ValueType.NUMBER: _("a number"),
        ValueType.TEXT: _("text"),
        ValueType.BOOLEAN: _("a condition"),
        ValueType.DATE: _("a date"),
        ValueType.DATETIME: _("a date and time"),
        ValueType.CODE: _("a choice code"),
        ValueType.CODES: _("a multichoice set"),
        ValueType.NULL: _("null"),
    }[value_type]


class _Checker:
    def __init__(self, item_types, codes, context):
        self.item_types = item_types
        self.codes = codes
        self.context = context
        self.problems: list[str] = []

    def problem(self, message: str, node: Node) -> None:
        self.problems.append(_at(message, node.pos))

    def column_misused(self, node: Node) -> None:
        self.problem(
            _("%(code)s is a repeating-group column: use it inside sum(), min(), max() or mean().")
            % {"code": getattr(node, "code", "")},
            node,
        )

    def check(self, node: Node, *, allow_column: bool = False) -> _Typed | None:
        """The node's type, or None when a problem was recorded (so it does not cascade)."""
        result = self._check(node)
        if result is not None and result.column and not allow_column:
            self.column_misused(node)
            return None
        return result

    def scalar(self, node: Node, allowed: set[ValueType], what: str) -> _Typed | None:
        """Check an operand that must be one of `allowed` (null is always allowed)."""
        typed = self.check(node)
        if typed is None:
            return None
        if typed.type == ValueType.CODES:
            self.problem(
                _("%(code)s is a multichoice item: test it with has(%(code)s, 'CODE').")
                % {"code": typed.item},
                node,
            )
            return None
        if typed.type != ValueType.NULL and typed.type not in allowed:
            self.problem(
                _("%(what)s takes %(allowed)s, not %(type)s.")
                % {
                    "what": what,
                    "allowed": _(" or ").join(_type_name(t) for t in sorted(allowed)),
                    "type": _type_name(typed.type),
                }
                + (_(" Use days(d1, d2) for dates.") if typed.type == ValueType.DATE else ""),
                node,
            )
            return None
        return typed

    def _check(self, node: Node) -> _Typed | None:
        match node:
            case Literal():
                text = node.value if node.kind == "text" else None
                return _Typed(ValueType(node.kind), text=text)
            case Ref():
                return self.ref(node)
            case Unary(op="-"):
                return self.unify_numbers([node.operand], "-")
            case Unary():
                if self.scalar(node.operand, {ValueType.BOOLEAN}, "not") is None:
                    return None
                return _Typed(ValueType.BOOLEAN)
            case Binary():
                return self.unify_numbers([node.left, node.right], node.op)
            case Compare():
                return self.compare(node)
            case BoolOp():
                typed = [self.scalar(o, {ValueType.BOOLEAN}, node.op) for o in node.operands]
                return None if None in typed else _Typed(ValueType.BOOLEAN)
            case Call():
                return getattr(self, f"call_{node.name}")(node)
        return None

    def ref(self, node: Ref) -> _Typed | None:
        if node.code not in self.item_types:
            self.problem(_("Unknown item %(code)s.") % {"code": node.code}, node)
            return None
        try:
            item_type = ItemType(self.item_types[node.code])
        except ValueError:
            self.problem(
                _("Item %(code)s has an unknown type %(type)r.")
                % {"code": node.code, "type": self.item_types[node.code]},
                node,
            )
            return None
        return _Typed(
            _VALUE_TYPE_OF_ITEM[item_type],
            item=node.code,
            yesno=item_type == ItemType.YESNO,
            column=node.is_column,
        )

    def unify_numbers(self, operands: list[Node], what: str) -> _Typed | None:
        typed = [self.scalar(o, {ValueType.NUMBER}, what) for o in operands]
        return None if None in typed else _Typed(ValueType.NUMBER)

    def compare(self, node: Compare) -> _Typed | None:
        left, right = self.check(node.left), self.check(node.right)
        if left is None or right is None:
            return None
        boolean = _Typed(ValueType.BOOLEAN)
        for side in (left, right):
            if side.type == ValueType.NULL or (side.type == ValueType.TEXT and side.text == ""):
                self.problem(_("Comparing with null or '' is never true: use is_blank(X)."), node)
                return None
            if side.type == ValueType.CODES:
                self.problem(
                    _("%(code)s is a multichoice item: test it with has(%(code)s, 'CODE').")
                    % {"code": side.item},
                    node,
                )
                return None
        for code_side, other in ((left, right), (right, left)):
            if code_side.type != ValueType.CODE:
                continue
            if other.type not in (ValueType.CODE, ValueType.TEXT):
                if code_side.yesno:
                    message = _("Compare the yes/no item %(code)s with 'Y' or 'N'.")
                else:
                    message = _("Compare the choice item %(code)s with a quoted code.")
                self.problem(message % {"code": code_side.item}, node)
                return None
            if node.op not in ("==", "!="):
                self.problem(
                    _("Choice codes are compared with == or !=, not %(op)s.") % {"op": node.op},
                    node,
                )
                return None
            if other.text is not None and not self.known_code(code_side, other.text, node):
                return None
            return boolean
        if left.type != right.type:
            self.problem(
                _("Cannot compare %(left)s with %(right)s.")
                % {"left": _type_name(left.type), "right": _type_name(right.type)},
                node,
            )
            return None
        if node.op not in ("==", "!=") and left.type not in (
            ValueType.NUMBER,
            ValueType.DATE,
            ValueType.DATETIME,
        ):
            self.problem(
                _("%(type)s is compared with == or !=, not %(op)s.")
                % {"type": _type_name(left.type), "op": node.op},
                node,
            )
            return None
        return boolean

    def known_code(self, typed: _Typed, code: str, node: Node) -> bool:
        if typed.yesno:
            allowed = {"Y", "N"}
        elif typed.item in self.codes:
            allowed = set(self.codes[typed.item])
        else:
            return True
        if code not in allowed:
            self.problem(
                _("%(item)s has no code %(code)r.") % {"item": typed.item, "code": code}, node
            )
            return False
        return True

    # Functions ---------------------------------------------------------------------------

    def call_if(self, node: Call) -> _Typed | None:
        condition = self.scalar(node.args[0], {ValueType.BOOLEAN}, "if()")
        then, otherwise = self.check(node.args[1]), self.check(node.args[2])
        if condition is None or then is None or otherwise is None:
            return None
        return self.common([then, otherwise], node, "if()")

    def common(self, typed: list[_Typed], node: Call, what: str) -> _Typed | None:
        """The one type several branches or arguments share (null fits any; code fits text)."""
        present = [t for t in typed if t.type != ValueType.NULL]
        if not present:
            return _Typed(ValueType.NULL)
        kinds = {ValueType.TEXT if t.type == ValueType.CODE else t.type for t in present}
        if len(kinds) > 1:
            self.problem(
                _("The values of %(what)s must have one type, not %(types)s.")
                % {
                    "what": what,
                    "types": _(" and ").join(sorted(_type_name(t.type) for t in present)),
                },
                node,
            )
            return None
        if ValueType.CODES in kinds:
            self.problem(_("A multichoice item is only tested with has(X, 'CODE')."), node)
            return None
        return present[0]

    def aggregate(self, node: Call, allowed: set[ValueType]) -> _Typed | None:
        typed = []
        for arg in node.args:
            result = self.check(arg, allow_column=True)
            if result is None:
                return None
            if result.type != ValueType.NULL and result.type not in allowed:
                self.problem(
                    _("%(name)s() takes %(allowed)s, not %(type)s.")
                    % {
                        "name": node.name,
                        "allowed": _(" or ").join(_type_name(t) for t in sorted(allowed)),
                        "type": _type_name(result.type),
                    },
                    arg,
                )
                return None
            typed.append(_Typed(result.type))
        return self.common(typed, node, f"{node.name}()")

    def call_sum(self, node: Call) -> _Typed | None:
        return self.aggregate(node, {ValueType.NUMBER})

    def call_mean(self, node: Call) -> _Typed | None:
        return self.aggregate(node, {ValueType.NUMBER})

    def call_min(self, node: Call) -> _Typed | None:
        return self.aggregate(node, {ValueType.NUMBER, ValueType.DATE, ValueType.DATETIME})

    def call_max(self, node: Call) -> _Typed | None:
        return self.call_min(node)

    def call_round(self, node: Call) -> _Typed | None:
        return self.unify_numbers(list(node.args), "round()")

    def call_abs(self, node: Call) -> _Typed | None:
        return self.unify_numbers(list(node.args), "abs()")

    def call_days(self, node: Call) -> _Typed | None:
        typed = [self.scalar(a, {ValueType.DATE}, "days()") for a in node.args]
        return None if None in typed else _Typed(ValueType.NUMBER)

    def call_coalesce(self, node: Call) -> _Typed | None:
        typed = [self.check(a) for a in node.args]
        if None in typed:
            return None
        return self.common(typed, node, "coalesce()")

    def call_is_blank(self, node: Call) -> _Typed | None:
        # Any single value may be blank, a multichoice included (not answered at all).
        if self.check(node.args[0]) is None:
            return None
        return _Typed(ValueType.BOOLEAN)

    def call_has(self, node: Call) -> _Typed | None:
        chosen, code = node.args
        typed = self.check(chosen)
        if typed is None:
            return None
        if typed.type != ValueType.CODES:
            self.problem(
                _("has() takes a multichoice item, not %(type)s.")
                % {"type": _type_name(typed.type)},
                chosen,
            )
            return None
        if not (isinstance(code, Literal) and code.kind == "text"):
            self.problem(_("has() takes a quoted code: has(X, 'CODE')."), code)
            return None
        if not self.known_code(typed, code.value, code):
            return None
        return _Typed(ValueType.BOOLEAN)

    def call_value(self, node: Call) -> _Typed | None:
        typed = self.check(node.args[0])
        if typed is None:
            return None
        if typed.type not in (ValueType.CODE, ValueType.NULL) or typed.yesno:
            self.problem(
                _("value() takes a choice item whose codes are numbers, not %(type)s.")
                % {"type": _type_name(typed.type) if not typed.yesno else _("a yes/no item")},
                node,
            )
            return None
        if typed.item in self.codes:
            wrong = [c for c in self.codes[typed.item] if not _NUMERIC_CODE.fullmatch(c)]
            if wrong:
                self.problem(
                    _("value(%(item)s) needs codes that are numbers, not %(codes)s.")
                    % {"item": typed.item, "codes": ", ".join(map(repr, wrong))},
                    node,
                )
                return None
        return _Typed(ValueType.NUMBER)

    def call_today(self, node: Call) -> _Typed | None:
        if self.context != "rule":
            self.problem(
                _(
                    "today() is only allowed in rules, not in a %(context)s: a stored or shown "
                    "value must not change by itself from one day to the next."
                )
                % {"context": _context_name(self.context)},
                node,
            )
            return None
        return _Typed(ValueType.DATE)


# ---------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------


def references(tree: Node) -> set[str]:
    """The item codes an expression reads (columns as GROUP.ITEM)."""
    match tree:
        case Ref():
            return {tree.code}
        case Literal():
            return set()
        case Unary():
            return references(tree.operand)
        case Binary() | Compare():
            return references(tree.left) | references(tree.right)
        case BoolOp():
            return set().union(*(references(o) for o in tree.operands))
        case Call():
            return set().union(set(), *(references(a) for a in tree.args))
    return set()


def dependency_order(calcs: Mapping[str, Node]) -> list[str]:
    """The calculated items in an order where each comes after the calculations it reads.

    Refuses a calculation that depends on itself, directly or through others, naming the
    cycle ("BMI → X → BMI"; the error's `cycle` lists its codes, so a reader can point at
    the first of them in its own order). The order is otherwise the order of `calcs`, so it
    is stable.
    """
    order: list[str] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(code: str) -> None:
        if code in done:
            return
        if code in path:
            cycle = [*path[path.index(code) :], code]
            refusal = ExpressionError(
                _("The calculation %(code)s depends on itself: %(cycle)s.")
                % {"code": code, "cycle": " → ".join(cycle)}
            )
            refusal.cycle = tuple(cycle)
            raise refusal
        path.append(code)
        for used in sorted(references(calcs[code])):
            if used in calcs:
                visit(used)
        path.pop()
        done.add(code)
        order.append(code)

    for code in calcs:
        visit(code)
    return order
