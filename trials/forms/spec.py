"""What a form is, as data: the form registry's definitions (docs/PROTOCOL-FILE.md, "`forms`").

A form is described the way CDISC ODM describes a CRF: form → item groups (repeating or not)
→ items → code lists, plus rules. These frozen dataclasses are that description, whether the
form is built in (registered by its app) or defined in a protocol file's `forms:` section;
they hold expressions as their source text (parsed and type-checked when the file is read,
by `trials.forms.expressions`).

`form_to_data` / `form_from_data` turn a form into plain JSON-ready data and back (the shape
of the protocol file's entries, and what `FormDefinition.spec` stores); `content_hash` is
the SHA-256 of that data written canonically, the identity of a form *version*: a form an
amendment leaves alone keeps its hash, any change gives a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import translation
from django.utils.functional import Promise

from .expressions import ItemType

__all__ = [
    "MISSING_CODES",
    "SEVERITIES",
    "CheckSpec",
    "FormSpec",
    "GroupSpec",
    "ItemSpec",
    "Text",
    "form_from_data",
    "form_to_data",
]

#: Missing-data codes an item may allow (SDTM --STAT / --REASND): not done, unknown, not
#: applicable. The code is stored beside the value, never in it.
MISSING_CODES = ("ND", "UNK", "NA")
#: error refuses the record, warning must be confirmed (audited), query accepts it and
#: (once data queries exist) opens one.
SEVERITIES = ("error", "warning", "query")
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Text:
    """A label: one string, or translations by language code ({"en": ..., "zh-hans": ...}).

    `get(language)` picks the language, then its base language (zh for zh-hans), then
    English, then the first translation given, so a label is never blank because one
    translation is missing. A built-in form's `plain` text may be a lazy gettext string:
    it is then translated by the project's catalogues like every other label.
    """

    plain: str | Promise | None = None
    translations: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: str | Mapping[str, str] | Text) -> Text:
        if isinstance(value, Text):
            return value
        if isinstance(value, str | Promise):
            return cls(plain=value)
        return cls(translations=tuple((str(k), str(v)) for k, v in value.items()))

    def get(self, language: str | None = None) -> str:
        if self.plain is not None:
            if isinstance(self.plain, Promise):
                with translation.override(language or translation.get_language()):
                    return str(self.plain)
            return self.plain
        by_language = dict(self.translations)
        language = (language or "").lower()
        for candidate in (language, language.split("-")[0], FALLBACK_LANGUAGE):
            if candidate in by_language:
                return by_language[candidate]
        return self.translations[0][1] if self.translations else ""

    def to_data(self) -> str | dict[str, str]:
        return str(self.plain) if self.plain is not None else dict(self.translations)

    def __str__(self) -> str:
        return self.get(translation.get_language())


@dataclass(frozen=True)
class ItemSpec:
    """One item (ODM ItemDef). `range` refuses a value outside it; `soft_range` asks the user
    to confirm one; both are (min, max), inclusive. `codes` are (code, label) pairs of a
    choice / multichoice item, codes being strings. `show_if` and `calc` are expression
    texts; a calculated item is never typed in. `missing` lists the missing-data codes
    (MISSING_CODES) that may answer the item instead of a value."""

    code: str
    label: Text
    type: ItemType
    help: Text | None = None
    precision: int | None = None
    max_length: int | None = None
    unit: str = ""
    codes: tuple[tuple[str, Text], ...] = ()
    required: bool = False
    range: tuple[Decimal, Decimal] | None = None
    soft_range: tuple[Decimal, Decimal] | None = None
    show_if: str | None = None
    calc: str | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupSpec:
    """An item group (ODM ItemGroupDef). A repeating group has rows, told apart by the items
    of `key` and at most `max_rows` of them; inside the group a bare code means the current
    row, outside it a column is read only through an aggregate (`sum(CM.DOSE)`). `checks`
    of a repeating group are rules over each row (stop date on or after start date), which
    the form's own checks cannot state since they see a column only as a whole."""

    code: str
    items: tuple[ItemSpec, ...]
    repeating: bool = False
    name: Text | None = None
    key: tuple[str, ...] = ()
    max_rows: int | None = None
    checks: tuple[CheckSpec, ...] = ()


def row_numbers(group_code: str, keys: Iterable[str]) -> set[int]:
    """The row numbers n of a repeating group's values, stored flat as `GROUP.n.ITEM`."""
    prefix = f"{group_code}."
    return {
        int(key.split(".")[1])
        for key in keys
        if key.startswith(prefix) and key.split(".")[1].isdigit()
    }


@dataclass(frozen=True)
class CheckSpec:
    """A rule over the form's items: when `rule` is definitely false the record fails it,
    with `message`, at `severity` (one of SEVERITIES)."""

    id: str
    rule: str
    message: Text
    severity: str = "error"


@dataclass(frozen=True)
class FormSpec:
    code: str
    name: Text
    groups: tuple[GroupSpec, ...]
    checks: tuple[CheckSpec, ...] = ()

    @property
    def items(self) -> tuple[ItemSpec, ...]:
        return tuple(item for group in self.groups for item in group.items)

    def item(self, code: str) -> ItemSpec | None:
        return next((item for item in self.items if item.code == code), None)

    @cached_property
    def content_hash(self) -> str:
        """The version identity: SHA-256 of the form's data as canonical JSON.

        Lazy (translated) labels of built-in forms are read in English, so the hash does
        not depend on the language of whoever asks first.
        """
        with translation.override(FALLBACK_LANGUAGE):
            data = _canonical(form_to_data(self))
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def version(self) -> str:
        """The short form of the hash people read in lists (the first 12 hex digits)."""
        return self.content_hash[:12]


def _canonical(value: Any) -> Any:
    # 20 and 20.0 are one bound: a reformatted file must not make a new form version.
    if isinstance(value, Decimal):
        normalized = value.normalize()
        return format(normalized, "f")
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Plain data: the protocol file's shape. Keys at their default are left out, so the data of a
# form reads like the file it came from. Decimals stay Decimals (the caller serialises them).

#: An item's keys in the protocol file, in the order they are written back.
ITEM_REQUIRED_KEYS = ("code", "label", "type")
ITEM_OPTIONAL_KEYS = (
    "help",
    "precision",
    "max_length",
    "unit",
    "codes",
    "required",
    "range",
    "soft_range",
    "show_if",
    "calc",
    "missing",
)


def item_to_data(item: ItemSpec) -> dict:
    data: dict[str, Any] = {}
    defaults = ItemSpec(code="", label=Text(""), type=ItemType.TEXT)
    for key in ITEM_REQUIRED_KEYS + ITEM_OPTIONAL_KEYS:
        value = getattr(item, key)
        if key not in ("code", "label", "type") and value == getattr(defaults, key):
            continue
        if isinstance(value, Text):
            value = value.to_data()
        elif key == "type":
            value = str(value)
        elif key == "codes":
            value = [[code, label.to_data()] for code, label in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[key] = value
    return data


def _group_to_data(group: GroupSpec) -> dict:
    data: dict[str, Any] = {"code": group.code}
    if group.name is not None:
        data["name"] = group.name.to_data()
    data["repeating"] = group.repeating
    if group.key:
        data["key"] = list(group.key)
    if group.max_rows is not None:
        data["max_rows"] = group.max_rows
    data["items"] = [item_to_data(item) for item in group.items]
    if group.checks:
        data["checks"] = [_check_to_data(check) for check in group.checks]
    return data


def _check_to_data(check: CheckSpec) -> dict:
    return {
        "id": check.id,
        "rule": check.rule,
        "message": check.message.to_data(),
        "severity": check.severity,
    }


def _check_from_data(check: Mapping) -> CheckSpec:
    return CheckSpec(
        id=check["id"],
        rule=check["rule"],
        message=Text.of(check["message"]),
        severity=check.get("severity", "error"),
    )


def is_direct_group(form: FormSpec, group: GroupSpec) -> bool:
    """The first group, written as the form's own `items:` (no `groups:` entry needed)."""
    return (
        group is form.groups[0]
        and group.code == form.code
        and not group.repeating
        and group.name is None
    )


def form_to_data(form: FormSpec) -> dict:
    data: dict[str, Any] = {"code": form.code, "name": form.name.to_data()}
    groups = list(form.groups)
    if groups and is_direct_group(form, groups[0]):
        data["items"] = [item_to_data(item) for item in groups.pop(0).items]
    if groups:
        data["groups"] = [_group_to_data(group) for group in groups]
    if form.checks:
        data["checks"] = [_check_to_data(check) for check in form.checks]
    return data


def _decimal_pair(value) -> tuple[Decimal, Decimal] | None:
    if value is None:
        return None
    low, high = value
    return (Decimal(str(low)), Decimal(str(high)))


def item_from_data(data: Mapping) -> ItemSpec:
    return ItemSpec(
        code=data["code"],
        label=Text.of(data["label"]),
        type=ItemType(data["type"]),
        help=Text.of(data["help"]) if data.get("help") is not None else None,
        precision=data.get("precision"),
        max_length=data.get("max_length"),
        unit=data.get("unit", ""),
        codes=tuple((str(code), Text.of(label)) for code, label in data.get("codes", ())),
        required=data.get("required", False),
        range=_decimal_pair(data.get("range")),
        soft_range=_decimal_pair(data.get("soft_range")),
        show_if=data.get("show_if"),
        calc=data.get("calc"),
        missing=tuple(data.get("missing", ())),
    )


def form_from_data(data: Mapping) -> FormSpec:
    """The form `form_to_data` wrote (trusted data: it was validated when it was read)."""
    groups = []
    if "items" in data:
        groups.append(
            GroupSpec(code=data["code"], items=tuple(item_from_data(i) for i in data["items"]))
        )
    for group in data.get("groups", ()):
        groups.append(
            GroupSpec(
                code=group["code"],
                items=tuple(item_from_data(i) for i in group["items"]),
                repeating=group.get("repeating", True),
                name=Text.of(group["name"]) if group.get("name") is not None else None,
                key=tuple(group.get("key", ())),
                max_rows=group.get("max_rows"),
                checks=tuple(_check_from_data(check) for check in group.get("checks", ())),
            )
        )
    return FormSpec(
        code=data["code"],
        name=Text.of(data["name"]),
        groups=tuple(groups),
        checks=tuple(_check_from_data(check) for check in data.get("checks", ())),
    )


def json_ready(value: Any) -> Any:
    """Form data with its Decimals as exact text, for a JSON column or an API answer."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
