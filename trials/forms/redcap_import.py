"""A REDCap data dictionary read into draft forms (the most common academic format).

`import_dictionary(text)` reads the CSV REDCap exports (its 18 columns, one row per field)
and gives one `FormSpec` per REDCap instrument (Form Name), ready to be written as entries
of a protocol file's `forms:` section (`trials.protocol_file.dump_forms`). It does not touch
the database: an admin pastes the entries into the protocol file of the next version and
uploads it, so the form goes through the same loader, checks and audit as every other change
of a protocol (docs/PROTOCOL-FILE.md, "Importing a REDCap data dictionary").

The mapping follows docs/PROTOCOL-FILE.md ("Importing a REDCap data dictionary"): radio /
dropdown → choice, checkbox → multichoice, yesno / truefalse → yesno, text with integer /
number / date / datetime validation → integer / decimal / date / datetime, notes → text,
calc → a calculated decimal, slider → integer 0-100 (or its min / max), descriptive → left
out with a note. REDCap's Text Validation Min / Max only warn, so they become `soft_range`
unless the field carries `@FORCE-MINMAX`, REDCap's own tag for a range that refuses.
Branching logic and calculations are translated by `redcap_logic` and then type-checked like
any protocol file's expressions.

The `@IL2-...` action tags the data dictionary download writes (`trials.forms.redcap`) carry
what REDCap cannot say, so a form exported and imported again is the same form (same content
hash), translations included.

Anything that does not translate refuses the whole import: every problem is collected with
its spreadsheet row (the header is row 1) and field, so the file can be fixed in one pass.
What is deliberately left out (a descriptive field, a matrix layout, an identifier flag) is
reported as a note, not silently dropped.
"""

from dataclasses import dataclass, replace

import yaml
from django.utils.translation import gettext as _

from trials.protocol_file import dump_forms
from trials.protocol_validation import CODE_PATTERN, NodeReader

from .expressions import ExpressionError, check, dependency_order, parse
from .protocol_section import read_form, scope
from .redcap_fields import FIELD_NAME, Field, Problem, Row, RowReader, is_text, read_rows
from .redcap_logic import LogicError, parse_logic, translate_logic
from .spec import CheckSpec, FormSpec, GroupSpec, Text

__all__ = [
    "DictionaryRefused",
    "ImportedDictionary",
    "Problem",
    "import_dictionary",
]


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
        return dump_forms(self.forms)


# ---------------------------------------------------------------------------------------
# One form
# ---------------------------------------------------------------------------------------


class _FormReader:
    def __init__(self, name: str, rows: list[Row], problems, notes, all_fields):
        self.name = name
        self.rows = rows
        self.problems = problems
        self.notes = notes
        self.all_fields = all_fields  # REDCap name -> form name, across the dictionary
        self.failed: set[str] = set()  # the fields of this form refused on their own row

    def refuse(self, row: Row | None, message: str) -> None:
        self.problems.append(
            Problem(
                None if row is None else row.number, "" if row is None else row["name"], message
            )
        )

    def header(self) -> tuple[str, Text]:
        first = self.rows[0]
        data = first.tag("IL2-FORM")
        if (
            isinstance(data, dict)
            and isinstance(data.get("code"), str)
            and is_text(data.get("name"))
        ):
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
        fields: list[Field] = []
        groups: list[tuple[dict, list[Field]]] = [({"code": code, "direct": True}, [])]
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
                if (
                    not isinstance(group, dict)
                    or not isinstance(group.get("code"), str)
                    or not (group.get("name") is None or is_text(group["name"]))
                    or not isinstance(group.get("key") or [], list)
                    or not isinstance(group.get("checks") or [], list)
                ):
                    self.refuse(row, _('@IL2-GROUP must be {"code": ..., ...}.'))
                else:
                    # A repeating group's row checks travel in its tag (protocol file:
                    # groups[].checks).
                    group["checks"] = [self.check(row, c) for c in group.get("checks") or []]
                    groups.append((group, []))
            elif row["section"]:
                self.notes.append(
                    Problem(
                        row.number,
                        row["name"],
                        _("The section header only changes REDCap's layout: left out."),
                    )
                )
            read = RowReader(row, self.problems, self.notes).read()
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

    def group(self, data: dict, members: list[Field]) -> GroupSpec:
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
            checks=tuple(c for c in data.get("checks") or () if c is not None),
        )

    def check(self, row: Row, data) -> CheckSpec | None:
        if (
            not isinstance(data, dict)
            or not all(k in data for k in ("id", "rule", "message"))
            or not is_text(data["message"])
        ):
            self.refuse(row, _('@IL2-CHECK must be {"id", "rule", "message", ...}.'))
            return None
        return CheckSpec(
            id=str(data["id"]),
            rule=str(data["rule"]),
            message=Text.of(data["message"]),
            severity=str(data.get("severity", "error")),
        )

    def translate(self, read: Field, logic: tuple[str, str], what: str, fields) -> str | None:
        source, text = logic
        if source == "ours":
            return text
        problems = []
        for name in dict.fromkeys(FIELD_NAME.findall(text)):
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
        if self.failed.intersection(FIELD_NAME.findall(text)):
            return None  # it reads a field refused on its own row: that row says why
        try:
            return translate_logic(text, fields)
        except LogicError as exc:
            self.refuse(
                read.row,
                _("%(what)s %(text)r does not translate: %(error)s")
                % {"what": what, "text": text, "error": exc},
            )
            return None

    def expressions(self, form: FormSpec, fields: list[Field], *, complete: bool):
        """Translate and type-check each field's logic, as the protocol file would."""
        before = len(self.problems)
        by_code = {f.item.code: f for f in fields}
        by_name = {f.row["name"]: (f.item.code, f.item.type) for f in fields}
        texts: dict[str, dict[str, str]] = {}
        for read in fields:
            for key, logic, what in (
                ("show_if", read.show_if, _("Branching logic")),
                ("calc", read.calc, _("The calculation")),
            ):
                if logic is not None:
                    text = self.translate(read, logic, what, by_name)
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
                read = by_code[item.code]
                for key, logic, what in (
                    ("show_if", read.show_if, _("Branching logic")),
                    ("calc", read.calc, _("The calculation")),
                ):
                    text = getattr(item, key)
                    if text is None:
                        continue
                    try:
                        tree = parse(text)
                        target = item.type if key == "calc" else None
                        check(tree, types, codes=codes, context=key, target=target)
                    except ExpressionError as exc:
                        self.refuse(
                            read.row,
                            _("%(what)s %(redcap)r reads as %(ours)r, which is refused: %(error)s")
                            % {"what": what, "redcap": logic[1], "ours": text, "error": exc},
                        )
                        continue
                    if key == "calc":
                        calcs[item.code] = tree
        try:
            dependency_order(calcs)
        except ExpressionError as exc:
            first = next(code for code in calcs if code in exc.cycle)  # in row order
            self.refuse(by_code[first].row, str(exc))
        for group in (None, *form.groups):
            types, codes = scope(form, group)
            for check_ in form.checks if group is None else group.checks:
                try:
                    check(parse(check_.rule), types, codes=codes, context="rule")
                except ExpressionError as exc:
                    self.refuse(self.rows[0], f"@IL2-CHECK {check_.rule!r}: {exc}")
        return form if len(self.problems) == before else None


# ---------------------------------------------------------------------------------------
# The dictionary
# ---------------------------------------------------------------------------------------


def _refuse_piping(rows: list[Row], names: set[str], problems: list[Problem]) -> None:
    """Piping ([field] inside a text) would show another answer inside a label: refused."""
    for row in rows:
        for key in ("label", "note", "section") + (
            () if row["type"].lower() == "calc" else ("choices",)
        ):
            for name in FIELD_NAME.findall(row[key]):
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
    root = yaml.compose(dump_forms(forms), Loader=yaml.SafeLoader)
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
    rows = read_rows(text, problems)
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
    by_form: dict[str, list[Row]] = {}
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
