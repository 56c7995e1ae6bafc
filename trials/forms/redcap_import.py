"""A REDCap data dictionary read into draft forms (the most common academic format).

`import_dictionary(text)` reads the CSV REDCap exports (its 18 columns, one row per field)
and gives one `FormSpec` per REDCap instrument (Form Name), ready to be written as entries
of a protocol file's `forms:` section (`forms_yaml`). It does not touch the database: an
admin pastes the entries into the protocol file of the next version and uploads it, so the
form goes through the same loader, checks and audit as every other change of a protocol
(docs/PROTOCOL-FILE.md, "Importing a REDCap data dictionary").

The mapping follows DESIGN.md ("REDCap data dictionary import"): radio / dropdown → choice,
checkbox → multichoice, yesno / truefalse → yesno, text with integer / number / date /
datetime validation → integer / decimal / date / datetime, notes → text, calc → a
calculated decimal, slider → integer 0-100 (or its min / max), descriptive → left out with
a note. REDCap's Text Validation Min / Max only warn, so they become `soft_range` unless the
field carries `@FORCE-MINMAX`, REDCap's own tag for a range that refuses. Branching logic
and calculations are translated by `redcap_logic` and then type-checked like any protocol
file's expressions.

The `@IL2-...` action tags the data dictionary download writes (`trials.forms.redcap`)
carry what REDCap cannot say, so a form exported and imported again is the same form (same
content hash), translations included.

Anything that does not translate refuses the whole import: every problem is collected with
its spreadsheet row (the header is row 1) and field, so the file can be fixed in one pass.
What is deliberately left out (a descriptive field, a matrix layout, an identifier flag)
is reported as a note, not silently dropped.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import yaml
from django.utils.translation import gettext as _

from trials.protocol_file import _Dumper, _form_document
from trials.protocol_validation import CODE_PATTERN, NodeReader

from .expressions import ExpressionError, ItemType, Ref, check, dependency_order, parse
from .protocol_section import read_form, scope
from .redcap_logic import LogicError, parse_logic, translate_logic, unparse
from .spec import MISSING_CODES, CheckSpec, FormSpec, GroupSpec, ItemSpec, Text

__all__ = [
    "DictionaryRefused",
    "ImportedDictionary",
    "Problem",
    "forms_yaml",
    "import_dictionary",
    "looks_like_unit",
]

#: REDCap's columns, by a short key, and how each header starts once reduced to letters
#: (REDCap versions word some headers slightly differently: "Branching Logic (Show field
#: only if...)", "Question Number (surveys only)").
_COLUMNS = (
    ("name", "variablefieldname"),
    ("form", "formname"),
    ("section", "sectionheader"),
    ("type", "fieldtype"),
    ("label", "fieldlabel"),
    ("choices", "choicescalculationsorsliderlabels"),
    ("note", "fieldnote"),
    ("validation", "textvalidationtype"),
    ("min", "textvalidationmin"),
    ("max", "textvalidationmax"),
    ("identifier", "identifier"),
    ("branching", "branchinglogic"),
    ("required", "requiredfield"),
    ("alignment", "customalignment"),
    ("question", "questionnumber"),
    ("matrix", "matrixgroupname"),
    ("ranking", "matrixranking"),
    ("annotation", "fieldannotation"),
)
#: Older REDCap versions end before Matrix Ranking? and Field Annotation.
_FEWEST_COLUMNS = 16
_NUMBER_DP = re.compile(r"number_([0-9])dp(?:_comma_decimal)?")
_VALIDATION = {
    "integer": ItemType.INTEGER,
    "number": ItemType.DECIMAL,
    "number_comma_decimal": ItemType.DECIMAL,
    **{f"date_{order}": ItemType.DATE for order in ("ymd", "mdy", "dmy")},
    **{f"datetime_{order}": ItemType.DATETIME for order in ("ymd", "mdy", "dmy")},
    **{f"datetime_seconds_{order}": ItemType.DATETIME for order in ("ymd", "mdy", "dmy")},
}
_CHOICE_FIELDS = {
    "radio": ItemType.CHOICE,
    "dropdown": ItemType.CHOICE,
    "checkbox": ItemType.MULTICHOICE,
    "yesno": ItemType.YESNO,
    "truefalse": ItemType.YESNO,
}
_NUMERIC = (ItemType.INTEGER, ItemType.DECIMAL)
#: A number's Field Note is its unit when it looks like one (one short word with a letter or
#: a unit sign: kg, mmHg, kg/m2, °C, /min, %), else a help text ("0-27", "Enter in kg").
_UNIT = re.compile(r"(?=\S*(?:[^\W\d_]|[%°/]))\S{1,20}")
#: Action tags that change only how REDCap lays a field out: left out with a note.
_DISPLAY_TAGS = ("HIDEBUTTON", "PLACEHOLDER")
#: The tags this importer reads (the @IL2 ones the dictionary download writes, and REDCap's
#: own whose meaning the registry has).
_KNOWN_TAGS = (
    "FORCE-MINMAX",
    "CHARLIMIT",
    "READONLY",
    "IL2-FORM",
    "IL2-CODE",
    "IL2-LABEL",
    "IL2-HELP",
    "IL2-UNIT",
    "IL2-CODES",
    "IL2-TYPE",
    "IL2-RANGE",
    "IL2-PRECISION",
    "IL2-MISSING",
    "IL2-GROUP",
    "IL2-CHECK",
    "IL2-SHOW-IF",
    "IL2-CALC",
)
_TAG = re.compile(r"(?:^|(?<=\s))@([A-Z][A-Z0-9_-]*)")
#: A field named in logic or text: [name] or [name(code)], not the event of [event][name].
_FIELD_NAME = re.compile(r"\[([a-z][a-z0-9_]*)(?:\([^)\]]*\))?\](?!\[)")


@dataclass(frozen=True)
class Problem:
    """Why a row is refused (or, as a note, what of it was left out)."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}" if self.field else self.message
        where = _("row %(row)s") % {"row": self.row}
        if self.field:
            where += f" ({self.field})"
        return f"{where}: {self.message}"


class DictionaryRefused(ValueError):
    """The dictionary does not translate: every problem found, by row."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.row or 0)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class ImportedDictionary:
    forms: tuple[FormSpec, ...]
    notes: tuple[Problem, ...] = ()

    def yaml(self) -> str:
        return forms_yaml(self.forms)


def forms_yaml(forms) -> str:
    """The forms as a protocol file's `forms:` section, written as a protocol export writes it."""
    document = {"forms": [_form_document(form) for form in forms]}
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


# ---------------------------------------------------------------------------------------
# Rows and their action tags
# ---------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    tags: list[tuple[str, object]] = field(default_factory=list)

    def __getitem__(self, key: str) -> str:
        return self.cells.get(key, "")

    def tag(self, name: str, default=None):
        return next((value for tag, value in self.tags if tag == name), default)

    def has(self, name: str) -> bool:
        return any(tag == name for tag, _value in self.tags)


def _tag_value(text: str, start: int) -> tuple[object, int]:
    """The value after `@TAG=`: JSON ({...}, [...], "..."), '...', or a word."""
    if start < len(text) and text[start] in '{["':
        return json.JSONDecoder().raw_decode(text, start)
    if start < len(text) and text[start] == "'":
        end = text.find("'", start + 1)
        if end < 0:
            raise ValueError(_("a quoted value is not closed"))
        return text[start + 1 : end], end + 1
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end], end


def _read_tags(text: str) -> list[tuple[str, object]]:
    tags = []
    pos = 0
    while (match := _TAG.search(text, pos)) is not None:
        name, pos = match.group(1), match.end()
        value = None
        if pos < len(text) and text[pos] == "=":
            value, pos = _tag_value(text, pos + 1)
        tags.append((name, value))
    return tags


def looks_like_unit(note: str) -> bool:
    return bool(_UNIT.fullmatch(note))


def _header_keys(header: list[str]) -> list[str] | None:
    reduced = ["".join(ch for ch in cell.lower() if ch.isalpha()) for cell in header]
    if not _FEWEST_COLUMNS <= len(reduced) <= len(_COLUMNS):
        return None
    keys = []
    for cell, (key, start) in zip(reduced, _COLUMNS, strict=False):
        if not cell.startswith(start):
            return None
        keys.append(key)
    return keys


def _rows(text: str, problems: list[Problem]) -> list[_Row]:
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not records:
        problems.append(Problem(None, "", _("The file is empty.")))
        return []
    keys = _header_keys(records[0])
    if keys is None:
        problems.append(
            Problem(
                1,
                "",
                _(
                    "This is not a REDCap data dictionary: the first row must name REDCap's "
                    "columns, from Variable / Field Name to Field Annotation."
                ),
            )
        )
        return []
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(keys):
            problems.append(Problem(number, "", _("The row has more cells than the header.")))
            continue
        row = _Row(number, {key: cell.strip() for key, cell in zip(keys, record, strict=False)})
        try:
            row.tags = _read_tags(row["annotation"])
        except ValueError as exc:
            problems.append(
                Problem(number, row["name"], _("Field Annotation: %(error)s") % {"error": exc})
            )
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------
# One field
# ---------------------------------------------------------------------------------------


@dataclass
class _Field:
    """A field read from its row, its logic still in REDCap's words."""

    row: _Row
    item: ItemSpec
    show_if: tuple[str, str] | None = None  # ("ours" | "redcap", text)
    calc: tuple[str, str] | None = None


class _RowReader:
    def __init__(self, row: _Row, problems: list[Problem], notes: list[Problem]):
        self.row = row
        self.problems = problems
        self.notes = notes

    def refuse(self, message: str) -> None:
        self.problems.append(Problem(self.row.number, self.row["name"], message))

    def note(self, message: str) -> None:
        self.notes.append(Problem(self.row.number, self.row["name"], message))

    def text(self, tag: str, plain: str) -> Text | None:
        """A label: the @IL2 tag's translations when given, else the column's text."""
        data = self.row.tag(tag)
        if data is None:
            return Text.of(plain) if plain else None
        if isinstance(data, str) or (
            isinstance(data, dict) and data and all(isinstance(v, str) for v in data.values())
        ):
            return Text.of(data)
        self.refuse(_("@%(tag)s must be a text or a {language: text} map.") % {"tag": tag})
        return None

    def type(self) -> tuple[ItemType | None, int | None]:
        """The item type and, for a number_Ndp validation, its precision."""
        kind, validation = self.row["type"].lower(), self.row["validation"]
        if kind in _CHOICE_FIELDS:
            return _CHOICE_FIELDS[kind], None
        if kind == "notes":
            return ItemType.TEXT, None
        if kind == "slider":
            return ItemType.INTEGER, None
        if kind == "calc":
            declared = self.row.tag("IL2-TYPE", str(ItemType.DECIMAL))
            try:
                return ItemType(declared), None
            except ValueError:
                self.refuse(_("@IL2-TYPE: unknown item type %(type)r.") % {"type": declared})
                return None, None
        if kind == "text":
            if not validation:
                return ItemType.TEXT, None
            if match := _NUMBER_DP.fullmatch(validation):
                return ItemType.DECIMAL, int(match.group(1))
            if validation in _VALIDATION:
                return _VALIDATION[validation], None
            self.refuse(
                _(
                    "The text validation %(validation)r has no equivalent (integer, number, "
                    "number_Ndp, date_* and datetime_* translate)."
                )
                % {"validation": validation}
            )
            return None, None
        if kind in ("file", "sql"):
            self.refuse(_("A %(type)s field has no equivalent.") % {"type": kind})
        else:
            self.refuse(_("Unknown field type %(type)r.") % {"type": self.row["type"]})
        return None, None

    def codes(self, kind: ItemType) -> tuple[tuple[str, Text], ...]:
        tagged = self.row.tag("IL2-CODES")
        if tagged is not None:
            if not isinstance(tagged, list) or not all(
                isinstance(pair, list) and len(pair) == 2 for pair in tagged
            ):
                self.refuse(_("@IL2-CODES must be a list of [code, label] pairs."))
                return ()
            return tuple((str(code), Text.of(label)) for code, label in tagged)
        text = self.row["choices"]
        if not text:
            self.refuse(
                _("A %(type)s field needs its choices (1, Label | 2, Label).")
                % {"type": self.row["type"]}
            )
            return ()
        codes: list[tuple[str, Text]] = []
        seen: set[str] = set()
        for part in text.split("|"):
            code, comma, label = part.strip().partition(",")
            code, label = code.strip(), label.strip() if comma else code.strip()
            if not code:
                self.refuse(_("A choice has no code: %(choice)r.") % {"choice": part.strip()})
                continue
            if code in seen:
                self.refuse(_("The choice code %(code)r is used twice.") % {"code": code})
                continue
            seen.add(code)
            codes.append((code, Text.of(label)))
        return tuple(codes)

    def decimal(self, text: str, what: str) -> Decimal | None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.refuse(_("%(what)s %(value)r is not a number.") % {"what": what, "value": text})
            return None
        return value

    def bounds(self, kind: ItemType):
        """(range, soft_range): REDCap's min / max warn unless @FORCE-MINMAX."""
        low_text, high_text = self.row["min"], self.row["max"]
        hard = soft = None
        if self.row["type"].lower() == "slider":
            low = self.decimal(low_text or "0", _("Slider minimum"))
            high = self.decimal(high_text or "100", _("Slider maximum"))
            return ((low, high) if low is not None and high is not None else None), None
        if low_text or high_text:
            if kind not in _NUMERIC:
                self.refuse(
                    _(
                        "Text Validation Min / Max on a %(type)s item have no equivalent (only "
                        "numbers have ranges)."
                    )
                    % {"type": kind}
                )
            elif not (low_text and high_text):
                self.refuse(_("Give both Text Validation Min and Max (a range has two ends)."))
            else:
                low = self.decimal(low_text, _("Text Validation Min"))
                high = self.decimal(high_text, _("Text Validation Max"))
                if low is not None and high is not None:
                    if self.row.has("FORCE-MINMAX"):
                        hard = (low, high)
                    else:
                        soft = (low, high)
        tagged = self.row.tag("IL2-RANGE")
        if tagged is not None:
            low_text, _comma, high_text = str(tagged).partition(",")
            low = self.decimal(low_text, "@IL2-RANGE")
            high = self.decimal(high_text, "@IL2-RANGE")
            if low is not None and high is not None:
                hard = (low, high)
        return hard, soft

    def integer_tag(self, tag: str) -> int | None:
        value = self.row.tag(tag)
        if value is None:
            return None
        if not str(value).isdigit():
            self.refuse(_("@%(tag)s must be a whole number.") % {"tag": tag})
            return None
        return int(value)

    def tags_known(self) -> None:
        for tag, _value in self.row.tags:
            if tag in _DISPLAY_TAGS:
                self.note(_("@%(tag)s only changes REDCap's layout: left out.") % {"tag": tag})
            elif tag == "READONLY" and not self.row.has("IL2-CALC"):
                self.refuse(_("@READONLY has no equivalent (only a calculation is read-only)."))
            elif tag not in _KNOWN_TAGS:
                self.refuse(_("The action tag @%(tag)s has no equivalent.") % {"tag": tag})

    def read(self) -> _Field | None:
        row = self.row
        before = len(self.problems)
        self.tags_known()
        code = str(row.tag("IL2-CODE") or row["name"])
        try:
            Ref(code)
            if "." in code:
                raise ExpressionError("")
        except ExpressionError:
            self.refuse(
                _(
                    "%(code)r cannot be an item code (a letter, then letters, digits "
                    "and _; not a word of the expression language)."
                )
                % {"code": code}
            )
        kind, precision = self.type()
        label = self.text("IL2-LABEL", row["label"])
        if label is None:
            self.refuse(_("The field has no label."))
        note = row["note"]
        unit, help_text = "", None
        if kind in _NUMERIC and looks_like_unit(note):
            unit = note
        elif note:
            help_text = Text.of(note)
        if row.tag("IL2-UNIT") is not None:
            unit = str(row.tag("IL2-UNIT"))
        if row.tag("IL2-HELP") is not None:
            help_text = self.text("IL2-HELP", "")
        if row["type"].lower() == "slider" and row["choices"] and help_text is None:
            labels = [part.strip() for part in row["choices"].split("|") if part.strip()]
            help_text = Text.of(" / ".join(labels))
        codes = self.codes(kind) if kind in (ItemType.CHOICE, ItemType.MULTICHOICE) else ()
        hard, soft = self.bounds(kind) if kind is not None else (None, None)
        tagged_precision = self.integer_tag("IL2-PRECISION")
        missing = tuple(m for m in str(row.tag("IL2-MISSING") or "").split(",") if m)
        unknown = [m for m in missing if m not in MISSING_CODES]
        if unknown:
            self.refuse(_("@IL2-MISSING: unknown missing code %(code)s.") % {"code": unknown[0]})
        if row["identifier"].lower() in ("y", "yes", "1"):
            self.note(
                _(
                    "Marked as an identifier in REDCap: this form keeps no such flag; "
                    "make sure the item holds no direct identifier."
                )
            )
        for key, what in (
            ("matrix", _("matrix group")),
            ("alignment", _("custom alignment")),
            ("question", _("question number")),
        ):
            if row[key]:
                self.note(
                    _("The %(what)s only changes REDCap's layout: left out.") % {"what": what}
                )
        if len(self.problems) != before or kind is None or label is None:
            return None
        item = ItemSpec(
            code=code,
            label=label,
            type=kind,
            help=help_text,
            precision=tagged_precision if tagged_precision is not None else precision,
            max_length=self.integer_tag("CHARLIMIT") if kind == ItemType.TEXT else None,
            unit=unit,
            codes=codes,
            required=row["required"].lower() in ("y", "yes", "1"),
            range=hard,
            soft_range=soft,
            missing=missing,
        )
        read = _Field(row, item)
        if row.tag("IL2-SHOW-IF") is not None:
            read.show_if = ("ours", str(row.tag("IL2-SHOW-IF")))
        elif row["branching"]:
            read.show_if = ("redcap", row["branching"])
        if row.tag("IL2-CALC") is not None:
            read.calc = ("ours", str(row.tag("IL2-CALC")))
        elif row["type"].lower() == "calc":
            if not row["choices"]:
                self.refuse(_("A calc field needs its calculation."))
                return None
            read.calc = ("redcap", row["choices"])
        return read


# ---------------------------------------------------------------------------------------
# One form
# ---------------------------------------------------------------------------------------


class _FormReader:
    def __init__(self, name: str, rows: list[_Row], problems, notes, all_fields):
        self.name = name
        self.rows = rows
        self.problems = problems
        self.notes = notes
        self.all_fields = all_fields  # REDCap name -> form name, across the dictionary
        self.failed: set[str] = set()  # the fields of this form refused on their own row

    def refuse(self, row: _Row | None, message: str) -> None:
        self.problems.append(
            Problem(
                None if row is None else row.number, "" if row is None else row["name"], message
            )
        )

    def header(self) -> tuple[str, Text]:
        first = self.rows[0]
        data = first.tag("IL2-FORM")
        if isinstance(data, dict) and isinstance(data.get("code"), str) and "name" in data:
            return data["code"], Text.of(data["name"])
        if data is not None:
            self.refuse(first, _('@IL2-FORM must be {"code": ..., "name": ...}.'))
        code = self.name
        if not CODE_PATTERN.fullmatch(code):
            self.refuse(first, _("The form name %(name)r cannot be a form code.") % {"name": code})
        return code, Text.of(code.replace("_", " ").capitalize())

    def read(self, code_override: str | None) -> FormSpec | None:
        before = len(self.problems)
        code, name = self.header()
        if code_override:
            code = code_override
        fields: list[_Field] = []
        groups: list[tuple[dict, list[_Field]]] = [({"code": code, "direct": True}, [])]
        checks: list[CheckSpec] = []
        for row in self.rows:
            if row["type"].lower() == "descriptive":
                self.notes.append(
                    Problem(
                        row.number, row["name"], _("A descriptive field shows text only: left out.")
                    )
                )
                continue
            for data in (value for tag, value in row.tags if tag == "IL2-CHECK"):
                check_ = self.check(row, data)
                if check_ is not None:
                    checks.append(check_)
            group = row.tag("IL2-GROUP")
            if group is not None:
                if not isinstance(group, dict) or not isinstance(group.get("code"), str):
                    self.refuse(row, _('@IL2-GROUP must be {"code": ..., ...}.'))
                else:
                    groups.append((group, []))
            elif row["section"]:
                self.notes.append(
                    Problem(
                        row.number,
                        row["name"],
                        _("The section header only changes REDCap's layout: left out."),
                    )
                )
            read = _RowReader(row, self.problems, self.notes).read()
            if read is None:
                self.failed.add(row["name"])
            else:
                fields.append(read)
                groups[-1][1].append(read)
        if not fields and len(self.problems) == before:
            self.refuse(
                self.rows[0], _("The form %(form)s has no field to import.") % {"form": self.name}
            )
        form = FormSpec(
            code=code,
            name=name,
            groups=tuple(self.group(data, members) for data, members in groups if members),
            checks=tuple(checks),
        )
        # The logic of the fields that were read is translated even when other rows were
        # refused, so one pass reports every problem; it is type-checked only when the whole
        # form was read (an item missing from it would only add misleading "unknown item"s).
        return self.expressions(form, fields, complete=len(self.problems) == before)

    def group(self, data: dict, members: list[_Field]) -> GroupSpec:
        items = tuple(f.item for f in members)
        if data.get("direct"):
            return GroupSpec(code=data["code"], items=items)
        return GroupSpec(
            code=data["code"],
            items=items,
            repeating=bool(data.get("repeating", True)),
            name=Text.of(data["name"]) if data.get("name") is not None else None,
            key=tuple(data.get("key") or ()),
            max_rows=data.get("max_rows"),
        )

    def check(self, row: _Row, data) -> CheckSpec | None:
        if not isinstance(data, dict) or not all(k in data for k in ("id", "rule", "message")):
            self.refuse(row, _('@IL2-CHECK must be {"id", "rule", "message", ...}.'))
            return None
        return CheckSpec(
            id=str(data["id"]),
            rule=str(data["rule"]),
            message=Text.of(data["message"]),
            severity=str(data.get("severity", "error")),
        )

    def translate(self, read: _Field, logic: tuple[str, str], what: str) -> str | None:
        source, text = logic
        if source == "ours":
            return text
        problems = []
        for name in dict.fromkeys(_FIELD_NAME.findall(text)):
            owner = self.all_fields.get(name)
            if owner is None:
                problems.append(
                    _("%(what)s refers to [%(name)s], which is not a field of the dictionary.")
                    % {"what": what, "name": name}
                )
            elif owner != self.name:
                problems.append(
                    _(
                        "%(what)s refers to [%(name)s] of the form %(form)s: a form "
                        "reads only its own items."
                    )
                    % {"what": what, "name": name, "form": owner}
                )
        if problems:
            for message in problems:
                self.refuse(read.row, message)
            return None
        try:
            parse_logic(text)
        except LogicError as exc:
            self.refuse(
                read.row,
                _("%(what)s %(text)r does not translate: %(error)s")
                % {"what": what, "text": text, "error": exc},
            )
            return None
        if self.failed.intersection(_FIELD_NAME.findall(text)):
            return None  # it reads a field refused on its own row: that row says why
        fields = {f.row["name"]: (f.item.code, f.item.type) for f in self.fields_of_form}
        try:
            return unparse(translate_logic(text, fields))
        except LogicError as exc:
            self.refuse(
                read.row,
                _("%(what)s %(text)r does not translate: %(error)s")
                % {"what": what, "text": text, "error": exc},
            )
            return None

    def expressions(self, form: FormSpec, fields: list[_Field], *, complete: bool):
        """Translate and type-check each field's logic, as the protocol file would."""
        before = len(self.problems)
        self.fields_of_form = fields
        by_code = {f.item.code: f for f in fields}
        texts: dict[str, dict[str, str]] = {}
        for read in fields:
            for key, logic, what in (
                ("show_if", read.show_if, _("Branching logic")),
                ("calc", read.calc, _("The calculation")),
            ):
                if logic is not None:
                    text = self.translate(read, logic, what)
                    if text is None:
                        complete = False
                    else:
                        texts.setdefault(read.item.code, {})[key] = text
        if not complete or len(self.problems) != before:
            return None
        groups = tuple(
            replace(
                group,
                items=tuple(replace(item, **texts.get(item.code, {})) for item in group.items),
            )
            for group in form.groups
        )
        form = replace(form, groups=groups)
        calcs = {}
        for group in form.groups:
            types, codes = scope(form, group)
            for item in group.items:
                row = by_code[item.code].row
                for key, context in (("show_if", "show_if"), ("calc", "calc")):
                    text = getattr(item, key)
                    if text is None:
                        continue
                    try:
                        tree = parse(text)
                        target = item.type if key == "calc" else None
                        check(tree, types, codes=codes, context=context, target=target)
                    except ExpressionError as exc:
                        self.refuse(row, f"{key} {text!r}: {exc}")
                        continue
                    if key == "calc":
                        calcs[item.code] = tree
        try:
            dependency_order(calcs)
        except ExpressionError as exc:
            self.refuse(self.rows[0], str(exc))
        types, codes = scope(form, None)
        for check_ in form.checks:
            try:
                check(parse(check_.rule), types, codes=codes, context="rule")
            except ExpressionError as exc:
                self.refuse(self.rows[0], f"@IL2-CHECK {check_.rule!r}: {exc}")
        return form if len(self.problems) == before else None


# ---------------------------------------------------------------------------------------
# The dictionary
# ---------------------------------------------------------------------------------------


def _refuse_piping(rows: list[_Row], names: set[str], problems: list[Problem]) -> None:
    """Piping ([field] inside a text) would show another answer inside a label: refused."""
    for row in rows:
        for key in ("label", "note", "section") + (
            () if row["type"].lower() == "calc" else ("choices",)
        ):
            for name in _FIELD_NAME.findall(row[key]):
                if name in names:
                    problems.append(
                        Problem(
                            row.number,
                            row["name"],
                            _("Piping [%(name)s] into a text has no equivalent.") % {"name": name},
                        )
                    )


def _validated(forms: list[FormSpec], builtin: frozenset[str]) -> list[Problem]:
    """What the protocol file's own reader says of the YAML written for these forms.

    The importer's checks above should leave nothing for it to find; running the reader
    anyway guarantees that what the admin pastes into a protocol file loads.
    """
    root = yaml.compose(forms_yaml(forms), Loader=yaml.SafeLoader)
    reader = NodeReader()
    for index, node in enumerate(root.value[0][1].value):
        read_form(reader, node, f"forms[{index}]", builtin=builtin)
    return [
        Problem(None, forms[int(p.path[6:].split("]")[0])].code if p.path else "", p.message)
        for p in reader.problems
    ]


def import_dictionary(
    text: str,
    *,
    form: str | None = None,
    code: str | None = None,
    builtin: frozenset[str] = frozenset(),
) -> ImportedDictionary:
    """The dictionary's forms (only the REDCap instrument `form`, when given), or
    DictionaryRefused listing every problem.

    `code` names the imported form (one form only); `builtin` are the codes a protocol
    file may not define (the built-in forms'), refused like any other problem.
    """
    problems: list[Problem] = []
    notes: list[Problem] = []
    rows = _rows(text, problems)
    names: dict[str, str] = {}
    for row in rows:
        name = row["name"]
        if not name:
            problems.append(Problem(row.number, "", _("The row has no variable name.")))
        elif name in names:
            problems.append(Problem(row.number, name, _("The variable name is used twice.")))
        names.setdefault(name, row["form"])
        if not row["form"]:
            problems.append(Problem(row.number, name, _("The row has no form name.")))
    if rows and rows[0]["name"] == "record_id" and not rows[0].tags:
        notes.append(
            Problem(
                rows[0].number,
                "record_id",
                _(
                    "The REDCap project's record identifier: left out (records here have "
                    "their own)."
                ),
            )
        )
        rows = rows[1:]
    _refuse_piping(rows, set(names), problems)
    by_form: dict[str, list[_Row]] = {}
    for row in rows:
        by_form.setdefault(row["form"], []).append(row)
    if form is not None and form not in by_form:
        problems.append(
            Problem(
                None,
                "",
                _("The dictionary has no form %(form)s (it has: %(forms)s).")
                % {"form": form, "forms": ", ".join(by_form)},
            )
        )
    selected = [name for name in by_form if form is None or name == form]
    if code and len(selected) > 1:
        problems.append(
            Problem(
                None,
                "",
                _("A form code can be given only when one form is imported: choose the form."),
            )
        )
    forms = []
    for name in selected:
        spec = _FormReader(name, by_form[name], problems, notes, names).read(code)
        if spec is not None:
            forms.append(spec)
    for spec in forms:
        if spec.code in builtin:
            problems.append(
                Problem(
                    None,
                    spec.code,
                    _("%(code)s is a built-in form's code: give the form another code.")
                    % {"code": spec.code},
                )
            )
    if not problems and forms:
        problems.extend(_validated(forms, builtin))
    if problems:
        raise DictionaryRefused(problems)
    return ImportedDictionary(tuple(forms), tuple(notes))
