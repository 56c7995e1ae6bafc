"""The rows of a REDCap data dictionary, each read into an item (`trials.forms.redcap_import`
puts the items of a form together and translates their logic).

A row is read by its REDCap columns and the action tags of its Field Annotation; every
refusal is recorded as a `Problem` with the row's spreadsheet number (the header is row 1),
and what is left out on purpose as a note.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .expressions import ExpressionError, ItemType, Ref
from .spec import MISSING_CODES, ItemSpec, Text

__all__ = [
    "FIELD_NAME",
    "Field",
    "Problem",
    "Row",
    "RowReader",
    "is_text",
    "looks_like_unit",
    "read_rows",
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
FIELD_NAME = re.compile(r"\[([a-z][a-z0-9_]*)(?:\([^)\]]*\))?\](?!\[)")


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


# ---------------------------------------------------------------------------------------
# Rows and their action tags
# ---------------------------------------------------------------------------------------


@dataclass
class Row:
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


def is_text(value) -> bool:
    """Whether a tag's JSON value is a label: a text or a {language: text} map."""
    return isinstance(value, str) or (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    )


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


def read_rows(text: str, problems: list[Problem]) -> list[Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        records = list(reader)
    except csv.Error as exc:  # e.g. a cell beyond the csv module's size limit
        problems.append(
            Problem(reader.line_num, "", _("This is not readable CSV: %(error)s") % {"error": exc})
        )
        return []
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
        row = Row(number, {key: cell.strip() for key, cell in zip(keys, record, strict=False)})
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
class Field:
    """A field read from its row, its logic still in REDCap's words."""

    row: Row
    item: ItemSpec
    show_if: tuple[str, str] | None = None  # ("ours" | "redcap", text)
    calc: tuple[str, str] | None = None


class RowReader:
    def __init__(self, row: Row, problems: list[Problem], notes: list[Problem]):
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
        if is_text(data):
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
                isinstance(pair, list) and len(pair) == 2 and is_text(pair[1]) for pair in tagged
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

    def read(self) -> Field | None:
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
        if label is None and row.tag("IL2-LABEL") is None:
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
        read = Field(row, item)
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
