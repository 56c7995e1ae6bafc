"""REDCap's logic (branching logic and calculations) read into the registry's expressions.

REDCap writes `[weight] / ([height] / 100) ^ 2`, `[fever] = '1'`, `[site(2)] = '1'`,
`datediff([d1], [d2], "d", true)`; the registry writes `WEIGHT / (HEIGHT / 100) ^ 2`,
`FEVER == 'Y'`, `has(SITE, '2')`, `days(D1, D2)`. The translation works on a parsed tree,
not on the text, because what REDCap means depends on the type of the field: a radio
button reads as its number in arithmetic (`value(X)` here) but as its code in `=`; a yes/no
field's codes are 1 / 0 in REDCap and 'Y' / 'N' here; a checkbox option reads 1 or 0.

Whatever has no faithful translation raises `LogicError` saying why, so the import refuses
the row instead of guessing: another event's field (`[event_1_arm_1][x]`), smart variables
and modifiers (`[x:value]`), and functions the registry lacks (`roundup`, `sqrt`,
`datediff` in months or years, ...).

`unparse` writes a tree back as the registry's text with no more brackets than needed, so
an imported expression reads as if typed into a protocol file.
"""

import re
from collections.abc import Mapping
from decimal import Decimal

from django.utils.translation import gettext as _

from .expressions import (
    MAX_LENGTH,
    Binary,
    BoolOp,
    Call,
    Compare,
    ExpressionError,
    ItemType,
    Literal,
    Node,
    Ref,
    Unary,
)

__all__ = ["LogicError", "parse_logic", "translate_logic", "unparse"]


class LogicError(ValueError):
    """Why a REDCap expression cannot be brought in."""


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>\[[^\[\]]*\])
  | (?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|==|<=|>=|=|<|>|\+|-|\*|/|\^|\(|\)|,)
    """,
    re.VERBOSE,
)
_FIELD = re.compile(r"\[([a-z][a-z0-9_]*)(?:\(([A-Za-z0-9_-]+)\))?\]")
_NUMERIC_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: REDCap function -> the registry's, for those that mean the same.
_SAME_FUNCTIONS = {"if": "if", "sum": "sum", "min": "min", "max": "max", "mean": "mean"}
_FUNCTIONS = (*_SAME_FUNCTIONS, "round", "abs", "isblankormissingcode", "datediff")
_CHOICES = (ItemType.CHOICE, ItemType.YESNO)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise LogicError(_("Unexpected character %(char)r.") % {"char": text[pos]})
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        pos = match.end()
    return tokens


class _Parser:
    """REDCap logic into a raw tree of tuples (types are applied afterwards)."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise LogicError(_("The expression ends too early."))
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise LogicError(
                _("Expected %(want)r, found %(got)r.") % {"want": value, "got": token[1]}
            )

    def word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1].lower() in words:
            self.pos += 1
            return token[1].lower()
        return None

    def parse(self):
        tree = self.disjunction()
        if self.peek() is not None:
            raise LogicError(_("Unexpected %(token)r.") % {"token": self.peek()[1]})
        return tree

    def disjunction(self):
        operands = [self.conjunction()]
        while self.word("or"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else ("bool", "or", operands)

    def conjunction(self):
        operands = [self.comparison()]
        while self.word("and"):
            operands.append(self.comparison())
        return operands[0] if len(operands) == 1 else ("bool", "and", operands)

    def comparison(self):
        left = self.additive()
        token = self.peek()
        if token is not None and token[1] in ("=", "==", "<>", "!=", "<", "<=", ">", ">="):
            self.pos += 1
            op = {"=": "==", "<>": "!="}.get(token[1], token[1])
            return ("cmp", op, left, self.additive())
        return left

    def binary(self, operand, ops):
        left = operand()
        while (token := self.peek()) is not None and token[1] in ops:
            self.pos += 1
            left = ("bin", token[1], left, operand())
        return left

    def additive(self):
        return self.binary(self.multiplicative, ("+", "-"))

    def multiplicative(self):
        return self.binary(self.unary, ("*", "/"))

    def unary(self):
        token = self.peek()
        if token is not None and token[1] == "-":
            self.pos += 1
            return ("neg", self.unary())
        return self.power()

    def power(self):
        base = self.primary()
        token = self.peek()
        if token is not None and token[1] == "^":
            self.pos += 1
            return ("bin", "^", base, self.unary())  # right-associative, as in the registry
        return base

    def primary(self):
        kind, text = self.take()
        if kind == "field":
            follower = self.peek()
            if follower is not None and follower[0] == "field":
                raise LogicError(
                    _(
                        "%(event)s%(field)s names a field of another event or arm: a form here "
                        "only reads its own items."
                    )
                    % {"event": text, "field": follower[1]}
                )
            match = _FIELD.fullmatch(text)
            if match is None:
                raise LogicError(
                    _(
                        "%(field)s is not a field (smart variables, piping and modifiers such as "
                        ":value have no equivalent)."
                    )
                    % {"field": text}
                )
            return ("ref", match.group(1), match.group(2))
        if kind == "number":
            return ("num", text)
        if kind == "string":
            return ("str", text[1:-1])
        if kind == "name":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return ("num", "1" if lowered == "true" else "0")
            follower = self.peek()
            if follower is None or follower[1] != "(":
                raise LogicError(_("Unexpected word %(word)r.") % {"word": text})
            if lowered not in _FUNCTIONS:
                raise LogicError(
                    _(
                        "The function %(name)s() has no equivalent here (the functions are if, "
                        "sum, min, max, mean, round, abs, datediff in days and "
                        "isblankormissingcode)."
                    )
                    % {"name": text}
                )
            self.pos += 1
            args = []
            if self.peek() is not None and self.peek()[1] == ")":
                self.pos += 1
            else:
                while True:
                    args.append(self.disjunction())
                    token = self.take()
                    if token[1] == ")":
                        break
                    if token[1] != ",":
                        raise LogicError(
                            _("Expected ',' or ')', found %(got)r.") % {"got": token[1]}
                        )
            return ("call", lowered, args)
        if text == "(":
            inner = self.disjunction()
            self.expect(")")
            return inner
        raise LogicError(_("Unexpected %(token)r.") % {"token": text})


class _Converter:
    """The raw tree into the registry's tree, reading each field by its type."""

    def __init__(self, fields: Mapping[str, tuple[str, ItemType]]):
        self.fields = fields  # REDCap variable name -> (item code, item type)

    def field(self, name: str) -> tuple[str, ItemType]:
        if name not in self.fields:
            raise LogicError(_("[%(name)s] is not a field of this form.") % {"name": name})
        return self.fields[name]

    def option(self, raw) -> tuple[Ref, str]:
        """A checkbox option [x(code)]: the item and the code."""
        _kind, name, code = raw
        item, item_type = self.field(name)
        if item_type != ItemType.MULTICHOICE:
            raise LogicError(
                _("[%(name)s(%(code)s)] reads an option, but %(name)s is not a checkbox.")
                % {"name": name, "code": code}
            )
        return Ref(item), code

    def value(self, raw, *, numeric: bool = False) -> Node:
        """A value; `numeric`: where REDCap does arithmetic with it."""
        kind = raw[0]
        if kind == "num":
            return Literal(Decimal(raw[1]))
        if kind == "str":
            if numeric and _NUMERIC_TEXT.fullmatch(raw[1]):
                return Literal(Decimal(raw[1]))
            return Literal(raw[1])
        if kind == "ref":
            if raw[2] is not None:
                ref, code = self.option(raw)
                checked = Call("has", (ref, Literal(code)))
                return Call("if", (checked, Literal(Decimal(1)), Literal(Decimal(0))))
            code, item_type = self.field(raw[1])
            if item_type == ItemType.MULTICHOICE:
                raise LogicError(
                    _(
                        "[%(name)s] is a checkbox: REDCap reads it one option at a time, "
                        "[%(name)s(code)]."
                    )
                    % {"name": raw[1]}
                )
            if numeric and item_type == ItemType.CHOICE:
                return Call("value", (Ref(code),))
            if numeric and item_type == ItemType.YESNO:
                yes = Compare("==", Ref(code), Literal("Y"))
                return Call("if", (yes, Literal(Decimal(1)), Literal(Decimal(0))))
            return Ref(code)
        if kind == "neg":
            return Unary("-", self.value(raw[1], numeric=True))
        if kind == "bin":
            _k, op, left, right = raw
            return Binary(op, self.value(left, numeric=True), self.value(right, numeric=True))
        if kind == "cmp":
            return self.compare(*raw[1:])
        if kind == "bool":
            return BoolOp(raw[1], tuple(self.value(o) for o in raw[2]))
        if kind == "call":
            return self.call(raw[1], raw[2], numeric=numeric)
        raise LogicError(repr(raw))  # pragma: no cover - the parser makes no other node

    def compare(self, op: str, left, right) -> Node:
        for side, other in ((left, right), (right, left)):
            literal = other[0] in ("num", "str")
            if side[0] != "ref" or not literal:
                continue
            if side[2] is not None:  # [x(2)] = '1': option 2 is ticked
                ref, code = self.option(side)
                if op not in ("==", "!=") or other[1] not in ("0", "1"):
                    raise LogicError(_("A checkbox option is compared with = '1' or = '0'."))
                ticked = (other[1] == "1") == (op == "==")
                has = Call("has", (ref, Literal(code)))
                return has if ticked else Unary("not", has)
            code, item_type = self.field(side[1])
            if other[0] == "str" and other[1] == "" and op in ("==", "!="):
                blank = Call("is_blank", (Ref(code),))
                return blank if op == "==" else Unary("not", blank)
            if item_type in _CHOICES and op in ("==", "!="):
                text = other[1]
                if item_type == ItemType.YESNO:
                    if text not in ("0", "1"):
                        raise LogicError(
                            _("[%(name)s] is a yes/no field: compare it with '1' or '0'.")
                            % {"name": side[1]}
                        )
                    text = "Y" if text == "1" else "N"
                literal_node = Literal(text)
                if side is left:
                    return Compare(op, Ref(code), literal_node)
                return Compare(op, literal_node, Ref(code))
        numeric = op not in ("==", "!=") or any(
            s[0] == "num"
            or (
                s[0] == "ref"
                and self.fields.get(s[1], ("", None))[1] in (ItemType.INTEGER, ItemType.DECIMAL)
            )
            for s in (left, right)
        )
        return Compare(op, self.value(left, numeric=numeric), self.value(right, numeric=numeric))

    def call(self, name: str, args: list, *, numeric: bool) -> Node:
        if name in _SAME_FUNCTIONS:
            if name == "if":
                if len(args) != 3:
                    raise LogicError(_("if() takes 3 arguments."))
                return Call(
                    "if",
                    (
                        self.value(args[0]),
                        self.value(args[1], numeric=numeric),
                        self.value(args[2], numeric=numeric),
                    ),
                )
            return Call(name, tuple(self.value(a, numeric=True) for a in args))
        if name in ("round", "abs"):
            return Call(name, tuple(self.value(a, numeric=True) for a in args))
        if name == "isblankormissingcode":
            if len(args) != 1 or args[0][0] != "ref":
                raise LogicError(_("isblankormissingcode() takes one field."))
            return Call("is_blank", (Ref(self.field(args[0][1])[0]),))
        if name == "datediff":
            return self.datediff(args)
        raise LogicError(repr(name))  # pragma: no cover - the parser knows the names

    def datediff(self, args: list) -> Node:
        """datediff(d1, d2, "d"[, format][, signed]): d2 - d1 in days; absolute unless signed."""
        if not 3 <= len(args) <= 5:
            raise LogicError(_("datediff() takes 3 to 5 arguments."))
        unit = args[2]
        if unit[0] != "str" or unit[1] != "d":
            shown = unit[1] if unit[0] in ("str", "num") else "?"
            raise LogicError(
                _(
                    "datediff() in %(unit)r has no equivalent: only differences in days ('d') "
                    "translate (days())."
                )
                % {"unit": shown}
            )
        signed = False
        for extra in args[3:]:
            if extra[0] == "num":  # true / false, read as 1 / 0
                signed = extra[1] == "1"
            elif extra[0] != "str" or extra[1] not in ("ymd", "mdy", "dmy"):
                raise LogicError(_("datediff(): unexpected argument."))
        for date in args[:2]:
            if date[0] != "ref":
                raise LogicError(
                    _(
                        "datediff() here takes two fields ('today' and fixed dates have no "
                        "equivalent in a stored calculation)."
                    )
                )
        days = Call("days", (self.value(args[0]), self.value(args[1])))
        return days if signed else Call("abs", (days,))


def parse_logic(text: str):
    """REDCap logic read as it is written (a raw tree), or LogicError: what is wrong in it
    whatever the fields' types (syntax, another event, an unknown function)."""
    if len(text) > MAX_LENGTH:  # the registry's own limit: hostile text cannot exhaust the stack
        raise LogicError(
            _("An expression is at most %(max)s characters long.") % {"max": MAX_LENGTH}
        )
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise LogicError(_("The expression is too complex.")) from None


def translate_logic(text: str, fields: Mapping[str, tuple[str, ItemType]]) -> str:
    """The registry's expression for REDCap logic, or LogicError.

    `fields` maps each REDCap variable name the logic may use to its item code and type.
    The result is not type-checked yet: `expressions.check` does that, as for any file.
    """
    try:
        return unparse(_Converter(fields).value(parse_logic(text)))
    except ExpressionError as exc:  # a node the registry refuses to build (e.g. a bad code)
        raise LogicError(str(exc)) from None
    except RecursionError:
        raise LogicError(_("The expression is too complex.")) from None


# ---------------------------------------------------------------------------------------
# Writing a tree as the registry's text
# ---------------------------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}
_POWER = 8
_ATOM = 9


def _precedence(node: Node) -> int:
    match node:
        case BoolOp():
            return _PRECEDENCE[node.op]
        case Unary():
            return _PRECEDENCE["not" if node.op == "not" else "neg"]
        case Compare():
            return _PRECEDENCE["cmp"]
        case Binary():
            return _POWER if node.op == "^" else _PRECEDENCE[node.op]
    return _ATOM


def _wrapped(node: Node, parens: bool) -> str:
    text = unparse(node)
    return f"({text})" if parens else text


def _literal(node: Literal) -> str:
    if node.kind == "number":
        return format(node.value, "f")
    if node.kind == "boolean":
        return "true" if node.value else "false"
    if node.kind == "null":
        return "null"
    return f'"{node.value}"' if "'" in node.value else f"'{node.value}'"


def unparse(node: Node) -> str:
    """The registry's text for a tree (`parse(unparse(t)) == t`)."""
    match node:
        case Literal():
            return _literal(node)
        case Ref():
            return node.code
        case Unary(op="not"):
            return f"not {_wrapped(node.operand, _precedence(node.operand) < 3)}"
        case Unary():
            return f"-{_wrapped(node.operand, _precedence(node.operand) < _ATOM)}"
        case Binary(op="^"):
            left = _wrapped(node.left, _precedence(node.left) <= _POWER)
            right = _wrapped(node.right, _precedence(node.right) < _POWER)
            return f"{left} ^ {right}"
        case Binary():
            own = _precedence(node)
            left = _wrapped(node.left, _precedence(node.left) < own)
            right = _wrapped(node.right, _precedence(node.right) <= own)
            return f"{left} {node.op} {right}"
        case Compare():
            left = _wrapped(node.left, _precedence(node.left) <= _PRECEDENCE["cmp"])
            right = _wrapped(node.right, _precedence(node.right) <= _PRECEDENCE["cmp"])
            return f"{left} {node.op} {right}"
        case BoolOp():
            own = _precedence(node)
            return f" {node.op} ".join(
                _wrapped(operand, _precedence(operand) <= own) for operand in node.operands
            )
        case Call():
            args = [unparse(a) for a in node.args]
            if node.min_present is not None:
                args.append(f"min_present={node.min_present}")
            return f"{node.name}({', '.join(args)})"
    raise TypeError(f"not an expression tree: {node!r}")
