"""The forms of a study as a REDCap data dictionary (the most common academic format).

One row per item, in REDCap's columns, so forms go out to REDCap and (with a later
importer) come back in. What REDCap cannot say natively travels in the Field Annotation as
action tags of our own, which REDCap keeps and ignores:

- `@IL2-FORM={...}` (JSON, on the form's first item) the form's code and name;
- `@IL2-CODE=WEIGHT` the item's code when it differs from the REDCap variable name
  (REDCap names are lower case and unique across the project);
- `@IL2-LABEL={...}`, `@IL2-HELP=...`, `@IL2-CODES=[...]` (JSON) a label with its
  translations (the columns hold the English text), a number's help text (its Field Note
  holds the unit), choices whose labels REDCap's `1, Label | 2, Label` cannot carry;
- `@IL2-UNIT="..."` a unit the importer would not read as one (with a space, say);
- `@CHARLIMIT=n` (REDCap's own tag) a text's maximum length; `@IL2-TYPE=integer` the type
  of a calculated item that is not a decimal;
- `@IL2-RANGE=min,max` the hard range: REDCap's Text Validation Min / Max carry the soft
  range when there is one; without one they carry the hard range, marked `@FORCE-MINMAX`
  (REDCap's own tag for a range that refuses);
- `@IL2-PRECISION=n` the decimal places when REDCap's number_Ndp types cannot say it;
- `@IL2-MISSING=ND,UNK` the missing-data codes the item accepts;
- `@IL2-GROUP={...}` (JSON, on a group's first item) an item group: code, repeating, key,
  max_rows, name;
- `@IL2-CHECK={...}` (JSON, on the form's first item) one per form check: id, rule,
  message, severity;
- `@IL2-SHOW-IF="..."` / `@IL2-CALC="..."` (a JSON string) the expression when it has no
  REDCap translation (a repeating-group column, `not`, `coalesce`, `min_present`) or when
  reading the translation back (`trials.forms.redcap_import`) would not give its very text.

Expressions are translated from the parsed tree: `X` → `[x]`, `==` → `=`, `!=` → `<>`,
`has(X, '2')` → `[x(2)]='1'`, `days(a, b)` → `datediff([a],[b],"d",true)` (signed, as
`days` is: REDCap's datediff is an absolute value unless its last argument is true), a
yes/no code 'Y' / 'N' → '1' / '0', `and` / `or` as they are; `is_blank(X)` → `[x]=''`;
`value(X)` → `[x]` (REDCap reads a radio button as its number in arithmetic).
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
from .redcap_fields import looks_like_unit
from .redcap_logic import LogicError, translate_logic
from .spec import FormSpec, ItemSpec, Text, is_direct_group

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
        if node.name == "value" and isinstance(args[0], Ref):
            return self.var(args[0].code)
        if node.name in ("if", "sum", "min", "max", "mean", "round", "abs"):
            return f"{node.name}({','.join(self(a, True) for a in args)})"
        raise Untranslatable(node.name)


def translate(text: str, names: dict[str, str], types: dict[str, ItemType]) -> str:
    """The REDCap logic for an expression of ours, or Untranslatable."""
    return _Translator(names, types)(parse(text), top=True)


def _reads_back(redcap: str, text: str, names: dict[str, str], types) -> bool:
    """Whether the importer reads `redcap` back as exactly `text` (else a tag keeps it)."""
    fields = {name: (code, types[code]) for code, name in names.items()}
    try:
        return translate_logic(redcap, fields) == text
    except LogicError:
        return False


def _text_tag(tag: str, text: Text | None) -> list[str]:
    """A tag with the translations, when the English text alone in a column would lose them."""
    if text is None or text.plain is not None:
        return []
    return [f"@{tag}={_json(text.to_data())}"]


def _choices(item: ItemSpec) -> tuple[str, list[str]]:
    """The Choices column, and a tag when REDCap's `code, label | ...` cannot carry them."""
    column = " | ".join(f"{code}, {label}" for code, label in item.codes)
    lossy = any(
        label.plain is None
        or any(ch in str(label) for ch in "|\n")
        or str(label) != str(label).strip()
        or not str(label)
        or "," in code
        or "|" in code
        or code != code.strip()
        for code, label in item.codes
    )
    if not lossy:
        return column, []
    return column, [f"@IL2-CODES={_json([[c, label.to_data()] for c, label in item.codes])}"]


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
    # A JSON string: any quote inside the expression survives the way back.
    return json.dumps(text, ensure_ascii=False)


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
            if first_of_form:
                tags.append("@IL2-FORM=" + _json({"code": form.code, "name": form.name.to_data()}))
            if names[item.code] != item.code:
                tags.append(f"@IL2-CODE={item.code}")
            tags += _text_tag("IL2-LABEL", item.label)
            if first_of_form:
                for check in form.checks:
                    tags.append(
                        "@IL2-CHECK="
                        + _json(
                            {
                                "id": check.id,
                                "rule": check.rule,
                                "message": check.message.to_data(),
                                "severity": check.severity,
                            }
                        )
                    )
            if index == 0 and not is_direct_group(form, group):
                described = {
                    "code": group.code,
                    "repeating": group.repeating,
                    "key": list(group.key),
                    "max_rows": group.max_rows,
                }
                if group.name is not None:
                    described["name"] = group.name.to_data()
                if group.checks:
                    described["checks"] = [
                        {
                            "id": c.id,
                            "rule": c.rule,
                            "message": c.message.to_data(),
                            "severity": c.severity,
                        }
                        for c in group.checks
                    ]
                tags.append("@IL2-GROUP=" + _json(described))
            field_type, validation = _validation(item)
            choices, choice_tags = _choices(item)
            tags += choice_tags
            if item.calc is not None:
                try:
                    choices = translate(item.calc, names, types)
                    field_type, validation = "calc", ""
                    if item.type != ItemType.DECIMAL:
                        tags.append(f"@IL2-TYPE={item.type}")
                    if not _reads_back(choices, item.calc, names, types):
                        tags.append(f"@IL2-CALC={_quoted(item.calc)}")
                except Untranslatable:
                    tags.append(f"@READONLY @IL2-CALC={_quoted(item.calc)}")
            branching = ""
            if item.show_if is not None:
                try:
                    branching = translate(item.show_if, names, types)
                    if not _reads_back(branching, item.show_if, names, types):
                        tags.append(f"@IL2-SHOW-IF={_quoted(item.show_if)}")
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
            if item.max_length is not None:
                tags.append(f"@CHARLIMIT={item.max_length}")
            if item.missing:
                tags.append(f"@IL2-MISSING={','.join(item.missing)}")
            # The Field Note shows under the field: a number's unit, else the help text. A
            # number's help, or a help with translations, travels in a tag.
            note = item.unit
            if item.unit and not looks_like_unit(item.unit):
                tags.append(f"@IL2-UNIT={_json(item.unit)}")
            if item.help is not None:
                if item.type in (ItemType.INTEGER, ItemType.DECIMAL) or item.help.plain is None:
                    tags.append(f"@IL2-HELP={_json(item.help.to_data())}")
                if item.type not in (ItemType.INTEGER, ItemType.DECIMAL):
                    note = str(item.help)
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
                    "Field Note": note,
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
