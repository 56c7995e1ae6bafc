"""The forms of a study as a REDCap data dictionary (the most common academic format).

One row per item, in REDCap's columns, so forms go out to REDCap and (with a later
importer) come back in. What REDCap cannot say natively travels in the Field Annotation as
action tags of our own, which REDCap keeps and ignores:

- `@IL2-CODE=WEIGHT` the item's code when it differs from the REDCap variable name
  (REDCap names are lower case and unique across the project);
- `@IL2-RANGE=min,max` the hard range: REDCap's Text Validation Min / Max carry the soft
  range when there is one; without one they carry the hard range, marked `@FORCE-MINMAX`
  (REDCap's own tag for a range that refuses);
- `@IL2-PRECISION=n` the decimal places when REDCap's number_Ndp types cannot say it;
- `@IL2-MISSING=ND,UNK` the missing-data codes the item accepts;
- `@IL2-GROUP={...}` (JSON, on a group's first item) an item group: code, repeating, key,
  max_rows;
- `@IL2-CHECK={...}` (JSON, on the form's first item) one per form check: id, rule,
  message, severity;
- `@IL2-SHOW-IF="..."` / `@IL2-CALC="..."` the expression when it has no REDCap
  translation (a repeating-group column, `not`, `coalesce`, `value`, `min_present`).

Expressions are translated from the parsed tree: `X` → `[x]`, `==` → `=`, `!=` → `<>`,
`has(X, '2')` → `[x(2)]='1'`, `days(a, b)` → `datediff([a],[b],"d",true)` (signed, as
`days` is: REDCap's datediff is an absolute value unless its last argument is true), a
yes/no code 'Y' / 'N' → '1' / '0', `and` / `or` as they are; `is_blank(X)` → `[x]=''`.
"""

import csv
import io
import json
from collections.abc import Iterable
from decimal import Decimal

from django.utils import translation

from .expressions import (
    Binary,
    BoolOp,
    Call,
    Compare,
    ItemType,
    Literal,
    Node,
    Ref,
    Unary,
    parse,
)
from .spec import FormSpec, ItemSpec

COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)


class Untranslatable(ValueError):
    """The expression has no REDCap equivalent (it then travels in an @IL2 tag)."""


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


class _Translator:
    def __init__(self, names: dict[str, str], types: dict[str, ItemType]):
        self.names = names  # item code -> REDCap variable name
        self.types = types

    def var(self, code: str) -> str:
        if "." in code or code not in self.names:
            raise Untranslatable(code)
        return f"[{self.names[code]}]"

    def literal(self, node: Literal, yesno: bool = False) -> str:
        if node.kind == "number":
            return _number(node.value)
        if node.kind == "boolean":
            return "1" if node.value else "0"
        if node.kind == "null":
            return "''"
        text = {"Y": "1", "N": "0"}.get(node.value, node.value) if yesno else node.value
        if "'" in text:
            return f'"{text}"'
        return f"'{text}'"

    def is_yesno(self, node: Node) -> bool:
        return isinstance(node, Ref) and self.types.get(node.code) == ItemType.YESNO

    def __call__(self, node: Node, top: bool = False) -> str:
        match node:
            case Literal():
                return self.literal(node)
            case Ref():
                return self.var(node.code)
            case Unary(op="-"):
                return f"-{self(node.operand)}"
            case Unary():
                raise Untranslatable("not")
            case Binary():
                text = f"{self(node.left)} {node.op} {self(node.right)}"
            case Compare():
                op = {"==": "=", "!=": "<>"}.get(node.op, node.op)
                left = self.side(node.left, node.right)
                right = self.side(node.right, node.left)
                text = f"{left} {op} {right}"
            case BoolOp():
                text = f" {node.op} ".join(self(o) for o in node.operands)
            case Call():
                return self.call(node)
            case _:
                raise Untranslatable(str(node))
        return text if top else f"({text})"

    def side(self, node: Node, other: Node) -> str:
        if isinstance(node, Literal) and node.kind == "text":
            return self.literal(node, yesno=self.is_yesno(other))
        return self(node)

    def call(self, node: Call) -> str:
        args = node.args
        if node.min_present is not None:
            raise Untranslatable("min_present")
        if node.name == "has":
            (item, code) = args
            if not (isinstance(item, Ref) and isinstance(code, Literal)):
                raise Untranslatable("has")
            return f"{self.var(item.code)[:-1]}({code.value})]='1'"
        if node.name == "days":
            return f'datediff({self(args[0], True)},{self(args[1], True)},"d",true)'
        if node.name == "today":
            return "'today'"
        if node.name == "is_blank":
            return f"({self(args[0])}='')"
        if node.name in ("if", "sum", "min", "max", "mean", "round", "abs"):
            return f"{node.name}({','.join(self(a, True) for a in args)})"
        raise Untranslatable(node.name)


def translate(text: str, names: dict[str, str], types: dict[str, ItemType]) -> str:
    """The REDCap logic for an expression of ours, or Untranslatable."""
    return _Translator(names, types)(parse(text), top=True)


def _validation(item: ItemSpec) -> tuple[str, str]:
    """(Field Type, Text Validation Type) for an item that is not calculated."""
    match item.type:
        case ItemType.INTEGER:
            return "text", "integer"
        case ItemType.DECIMAL:
            if item.precision is not None and 1 <= item.precision <= 4:
                return "text", f"number_{item.precision}dp"
            return "text", "number"
        case ItemType.DATE:
            return "text", "date_ymd"
        case ItemType.DATETIME:
            return "text", "datetime_ymd"
        case ItemType.YESNO:
            return "yesno", ""
        case ItemType.CHOICE:
            return "radio", ""
        case ItemType.MULTICHOICE:
            return "checkbox", ""
    return ("text" if item.max_length and item.max_length <= 255 else "notes"), ""


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _check_data(check) -> dict:
    return {
        "id": check.id,
        "rule": check.rule,
        "message": str(check.message),
        "severity": check.severity,
    }


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def dictionary_rows(forms: Iterable[FormSpec]) -> list[dict[str, str]]:
    """One row per item of each form, in REDCap's columns (labels in English)."""
    rows: list[dict[str, str]] = []
    used: set[str] = set()
    with translation.override("en"):
        for form in forms:
            rows.extend(_form_rows(form, used))
    return rows


def _form_rows(form: FormSpec, used: set[str]) -> list[dict[str, str]]:
    form_name = form.code.lower()
    names: dict[str, str] = {}
    for item in form.items:
        name = item.code.lower()
        if name in used:  # REDCap variable names are unique across the whole project
            name = f"{form_name}_{name}".replace("-", "_")
        used.add(name)
        names[item.code] = name
    types = {item.code: item.type for item in form.items}
    rows = []
    first_of_form = True
    for group in form.groups:
        for index, item in enumerate(group.items):
            tags: list[str] = []
            if names[item.code] != item.code:
                tags.append(f"@IL2-CODE={item.code}")
            if first_of_form:
                for check in form.checks:
                    tags.append("@IL2-CHECK=" + _json(_check_data(check)))
            if index == 0 and not (group is form.groups[0] and group.code == form.code):
                tags.append(
                    "@IL2-GROUP="
                    + _json(
                        {
                            "code": group.code,
                            "repeating": group.repeating,
                            "key": list(group.key),
                            "max_rows": group.max_rows,
                            **(
                                {"checks": [_check_data(c) for c in group.checks]}
                                if group.checks
                                else {}
                            ),
                        }
                    )
                )
            field_type, validation = _validation(item)
            choices = " | ".join(f"{code}, {label}" for code, label in item.codes)
            if item.calc is not None:
                try:
                    choices = translate(item.calc, names, types)
                    field_type, validation = "calc", ""
                except Untranslatable:
                    tags.append(f"@READONLY @IL2-CALC={_quoted(item.calc)}")
            branching = ""
            if item.show_if is not None:
                try:
                    branching = translate(item.show_if, names, types)
                except Untranslatable:
                    tags.append(f"@IL2-SHOW-IF={_quoted(item.show_if)}")
            low = high = ""
            if item.soft_range is not None:
                low, high = (_number(v) for v in item.soft_range)
            elif item.range is not None:
                low, high = (_number(v) for v in item.range)
                tags.append("@FORCE-MINMAX")
            if item.range is not None:
                tags.append(f"@IL2-RANGE={_number(item.range[0])},{_number(item.range[1])}")
            if item.precision is not None and not validation.endswith("dp"):
                tags.append(f"@IL2-PRECISION={item.precision}")
            if item.missing:
                tags.append(f"@IL2-MISSING={','.join(item.missing)}")
            section = ""
            if index == 0 and group.name is not None:
                section = str(group.name)
            rows.append(
                {
                    "Variable / Field Name": names[item.code],
                    "Form Name": form_name,
                    "Section Header": section,
                    "Field Type": field_type,
                    "Field Label": str(item.label),
                    "Choices, Calculations, OR Slider Labels": choices,
                    "Field Note": item.unit,
                    "Text Validation Type OR Show Slider Number": validation,
                    "Text Validation Min": low,
                    "Text Validation Max": high,
                    "Identifier?": "",
                    "Branching Logic (Show field only if...)": branching,
                    "Required Field?": "y" if item.required else "",
                    "Custom Alignment": "",
                    "Question Number (surveys only)": "",
                    "Matrix Group Name": "",
                    "Matrix Ranking?": "",
                    "Field Annotation": " ".join(tags),
                }
            )
            first_of_form = False
    return rows


def dictionary_csv(forms: Iterable[FormSpec]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dictionary_rows(forms))
    return out.getvalue()
