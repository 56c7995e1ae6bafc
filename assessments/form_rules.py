"""The rules of a form defined as data, run by the server on every save (docs/PROTOCOL-FILE.md,
"`forms`": "An item", "Checks", "Expressions").

`run(form, answers, ...)` takes what a page or an API client sent for one form and gives the
values to store, or the problems keyed like the values:

- types and formats: integers, decimals at most at the item's precision, text of at most
  `max_length`, ISO dates, yes/no and choice codes, multichoice lists of codes;
- `show_if`: a hidden item is not required, and a value it had is dropped; hiding cascades
  (a hidden item reads as null) and a value saved before that a change now hides is listed
  in `cleared`, so the audit reason can name it;
- `calc`: recomputed here in dependency order and rounded to the item's precision; a value
  sent for a calculated item is refused (the page never sends one; a client that does has
  misunderstood the form, and silently dropping its number would hide that);
- missing-data codes: allowed ones only, always with a reason, never with a value; a code
  with its reason satisfies `required`;
- `range` (refused) and `soft_range` (confirmed) through `assessments.checks.evaluate`, the
  same path as the built-in forms' limits;
- the form's `checks` and each repeating group's row `checks`: `error` refuses, `warning`
  must be confirmed (by check id or by the item it is shown next to), `query` accepts. A
  rule that reads a blank value is not evaluated (only a definite false fails).

Keys: an item's code for the form's own items, `GROUP.n.ITEM` for row n (from 1) of a
repeating group. In `answers` a repeating group is a list of rows (`{"CM": [{"CMTRT": ...},
...]}`), and an item answered with a missing code is `{"missing": "ND", "reason": "..."}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from trials.forms.expressions import (
    ItemType,
    check_fails,
    dependency_order,
    evaluate,
    is_shown,
    parse,
    quantize,
    references,
)
from trials.forms.spec import MISSING_CODES, CheckSpec, FormSpec, GroupSpec, ItemSpec

from . import checks as limits
from .entry import is_blank

ALL = "__all__"
YES, NO = "Y", "N"


@dataclass
class Result:
    """What to store (`values`, `missing`, `calculated`, `confirmed`), or why not."""

    values: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    calculated: dict = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    confirmed: list[dict] = field(default_factory=list)
    #: Keys of saved values a change now hides: [(key, why)], for the audit reason.
    cleared: list[tuple[str, str]] = field(default_factory=list)


def _add(errors: dict, key: str, message: str) -> None:
    errors.setdefault(key, []).append(str(message))


def row_key(group: GroupSpec, row: int, item: ItemSpec) -> str:
    return f"{group.code}.{row}.{item.code}"


# -- types ------------------------------------------------------------------------------------


def _typed(item: ItemSpec, raw, errors: dict, key: str):
    """The value `raw` as the evaluator reads it (Decimal, str code, date, frozenset), or
    None when blank; a malformed value adds its message and gives None."""
    if item.type == ItemType.MULTICHOICE:
        if raw is None or raw == "":
            return None
        chosen = [raw] if isinstance(raw, str) else raw
        if not isinstance(chosen, list | tuple) or not all(isinstance(c, str) for c in chosen):
            _add(errors, key, _("Choose from the list."))
            return None
        known = {code for code, _label in item.codes}
        unknown = [c for c in chosen if c not in known]
        if unknown:
            _add(errors, key, _("“%(code)s” is not one of the choices.") % {"code": unknown[0]})
            return None
        return frozenset(chosen)
    if isinstance(raw, bool) and item.type == ItemType.YESNO:
        return YES if raw else NO
    if is_blank(raw):
        return None
    if isinstance(raw, list | dict | bool):
        _add(errors, key, _("Enter a single value."))
        return None
    text = str(raw).strip()
    if item.type == ItemType.INTEGER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            _add(errors, key, _("Enter a whole number."))
            return None
        return Decimal(int(number))
    if item.type == ItemType.DECIMAL:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            _add(errors, key, _("Enter a number."))
            return None
        places = item.precision
        if places is not None and -number.as_tuple().exponent > places:
            _add(
                errors,
                key,
                _("Enter at most %(n)s decimal places.") % {"n": places}
                if places
                else _("Enter a whole number."),
            )
            return None
        return number
    if item.type == ItemType.TEXT:
        if item.max_length is not None and len(text) > item.max_length:
            _add(
                errors,
                key,
                _("Enter at most %(n)s characters (it has %(length)s).")
                % {"n": item.max_length, "length": len(text)},
            )
            return None
        return text
    if item.type == ItemType.DATE:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is None:
            _add(errors, key, _("Enter a valid date (YYYY-MM-DD)."))
        return day
    if item.type == ItemType.DATETIME:
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            _add(errors, key, _("Enter a valid date and time (YYYY-MM-DDTHH:MM)."))
        return moment
    if item.type == ItemType.YESNO:
        code = {"yes": YES, "no": NO, "y": YES, "n": NO, "true": YES, "false": NO}.get(text.lower())
        if code is None:
            _add(errors, key, _("Answer yes or no."))
        return code
    # A choice: its codes are strings ("choice codes are strings").
    if text not in {code for code, _label in item.codes}:
        _add(errors, key, _("“%(code)s” is not one of the choices.") % {"code": text})
        return None
    return text


def stored(item: ItemSpec, value):
    """A typed value as JSON: decimals as text at the item's precision, dates ISO."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if item.type == ItemType.INTEGER:
            return int(value)
        if item.precision is not None:
            value = quantize(value, item.precision)
            return None if value is None else format(value, "f")
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return [code for code, _label in item.codes if code in value]
    return value


def loaded(item: ItemSpec, value):
    """A stored value back as the evaluator reads it."""
    if value is None:
        return None
    if item.type in (ItemType.INTEGER, ItemType.DECIMAL):
        return Decimal(str(value))
    if item.type == ItemType.DATE:
        return parse_date(value)
    if item.type == ItemType.DATETIME:
        return parse_datetime(value)
    if item.type == ItemType.MULTICHOICE:
        return frozenset(value)
    return value


# -- one pass over the form -----------------------------------------------------------------


@dataclass
class _Slot:
    """One item of the form, or of one row of a repeating group."""

    key: str
    item: ItemSpec
    group: GroupSpec
    row: int | None
    value: object = None
    missing: dict | None = None
    shown: bool = True


class _Form:
    def __init__(self, form: FormSpec):
        self.form = form
        self.trees = {}
        for item in form.items:
            for text in (item.show_if, item.calc):
                if text is not None and text not in self.trees:
                    self.trees[text] = parse(text)
        for check in self.all_checks():
            self.trees.setdefault(check.rule, parse(check.rule))
        self.calc_order = dependency_order(
            {item.code: self.trees[item.calc] for item in form.items if item.calc is not None}
        )

    def all_checks(self) -> Iterable[CheckSpec]:
        yield from self.form.checks
        for group in self.form.groups:
            yield from group.checks

    def environment(self, slots: list[_Slot], row_of: tuple[str, int] | None) -> dict:
        """The values an expression sees: the form's items, each column of a repeating group
        as a list (hidden or missing read as null), and, inside a row, its items bare."""
        env: dict = {}
        for slot in slots:
            value = slot.value if slot.shown else None
            if slot.row is None:
                env[slot.item.code] = value
            else:
                env.setdefault(f"{slot.group.code}.{slot.item.code}", []).append(value)
                if row_of == (slot.group.code, slot.row):
                    env[slot.item.code] = value
        return env


def _rows(group: GroupSpec, raw, errors: dict) -> list[dict]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        _add(errors, group.code, _("Give the rows as a list of {item: value}."))
        return []
    rows = [row for row in raw if any(not _blank_answer(v) for v in row.values())]
    if group.max_rows is not None and len(rows) > group.max_rows:
        _add(errors, group.code, _("At most %(n)s rows.") % {"n": group.max_rows})
    return rows


def _blank_answer(value) -> bool:
    if isinstance(value, Mapping):
        return not value.get("missing")
    if isinstance(value, list | tuple):
        return False
    return is_blank(value)


def _read(slot: _Slot, raw, errors: dict) -> None:
    item, key = slot.item, slot.key
    if isinstance(raw, Mapping):
        code = raw.get("missing")
        reason = str(raw.get("reason") or "").strip()
        value = raw.get("value")
        if not code:
            slot.value = _typed(item, value, errors, key)
            return
        if code not in item.missing:
            allowed = ", ".join(item.missing) or "–"
            _add(
                errors,
                key,
                _("“%(code)s” is not a missing-data code this item allows (%(allowed)s).")
                % {"code": code, "allowed": allowed}
                if code in MISSING_CODES
                else _("“%(code)s” is not a missing-data code.") % {"code": code},
            )
            return
        if not is_blank(value):
            _add(errors, key, _("Give a value or a missing-data code, not both."))
            return
        if not reason:
            _add(errors, key, _("Give the reason the value is missing."))
        slot.missing = {"code": code, "reason": reason}
        return
    slot.value = _typed(item, raw, errors, key)


def run(
    form: FormSpec,
    answers: Mapping,
    *,
    confirm: Iterable[str] = (),
    previous: Mapping | None = None,
    previously_confirmed: Iterable[dict] = (),
    today: date | None = None,
) -> Result:
    """Check and compute one form's answers. `previous` is the stored record's
    {"values": ..., "missing": ...} (None for a first entry), to tell what a change hides."""
    result = Result()
    errors = result.errors
    compiled = _Form(form)
    if not isinstance(answers, Mapping):
        _add(errors, ALL, _("Answers must be given as item: value pairs."))
        return result
    known = {g.code for g in form.groups if g.repeating}
    known |= {i.code for g in form.groups if not g.repeating for i in g.items}
    for key in answers:
        if key not in known:
            _add(errors, str(key), _("“%(key)s” is not an item of this form.") % {"key": key})

    slots: list[_Slot] = []
    raw_of: dict = {}
    for group in form.groups:
        if not group.repeating:
            for item in group.items:
                slots.append(_Slot(item.code, item, group, None))
                raw_of[item.code] = answers.get(item.code)
            continue
        codes = {i.code for i in group.items}
        for number, row in enumerate(_rows(group, answers.get(group.code), errors), start=1):
            for code in row:
                if code not in codes:
                    _add(
                        errors,
                        f"{group.code}.{number}.{code}",
                        _("“%(key)s” is not an item of this form.") % {"key": code},
                    )
            for item in group.items:
                key = row_key(group, number, item)
                slots.append(_Slot(key, item, group, number))
                raw_of[key] = row.get(item.code)
    for slot in slots:
        raw = raw_of.get(slot.key)
        if slot.item.calc is not None:
            if not _blank_answer(raw):
                _add(
                    errors,
                    slot.key,
                    _("%(item)s is calculated by the server: do not send it.")
                    % {"item": slot.item.code},
                )
            continue
        _read(slot, raw, errors)

    # Visibility and calculations until they settle: a calculation may show an item and a
    # shown item may feed a calculation; the chain is at most as long as the form.
    for _round in range(len(slots) + 1):
        changed = False
        for code in compiled.calc_order:
            for slot in (s for s in slots if s.item.code == code):
                env = compiled.environment(slots, _row_of(slot))
                value = evaluate(compiled.trees[slot.item.calc], env)
                value = _fit(slot.item, value)
                if value != slot.value:
                    slot.value, changed = value, True
        for slot in slots:
            if slot.item.show_if is None:
                continue
            env = compiled.environment(slots, _row_of(slot))
            shown = is_shown(compiled.trees[slot.item.show_if], env)
            if shown != slot.shown:
                slot.shown, changed = shown, True
        if not changed:
            break

    before = previous or {}
    before_values = before.get("values", {}) if isinstance(before, Mapping) else {}
    before_missing = before.get("missing", {}) if isinstance(before, Mapping) else {}
    for slot in slots:
        if not slot.shown:
            if slot.key in before_values or slot.key in before_missing:
                result.cleared.append((slot.key, _why_hidden(compiled, slots, slot, before_values)))
            errors.pop(slot.key, None)  # a hidden item's typo is not the user's problem
            slot.value, slot.missing = None, None
            continue
        if slot.item.calc is not None:
            if slot.value is not None:
                result.calculated[slot.key] = stored(slot.item, slot.value)
            continue
        if slot.missing is not None:
            result.missing[slot.key] = slot.missing
        elif slot.value is not None:
            result.values[slot.key] = stored(slot.item, slot.value)
        elif slot.item.required and slot.key not in errors:
            _add(
                errors,
                slot.key,
                _("This item is required: answer it, or give a missing-data code and why.")
                if slot.item.missing
                else _("This item is required."),
            )

    # Hard and soft ranges: the one limits path of every form (assessments.checks).
    range_checks = []
    numbers = {}
    for slot in slots:
        item = slot.item
        if not slot.shown or slot.item.calc is not None or slot.value is None:
            continue
        if item.range is None and item.soft_range is None:
            continue
        numbers[slot.key] = slot.value
        range_checks.extend(
            limits.checks_for(
                form.code,
                {
                    slot.key: limits.Limits(
                        range=item.range, soft_range=item.soft_range, unit=item.unit
                    )
                },
            )
        )
    confirm = set(confirm)
    # Confirming an item's code confirms it in every row (the page sends keys, a client
    # may prefer codes).
    expanded = confirm | {s.key for s in slots if s.item.code in confirm}
    outcome = limits.evaluate(
        range_checks,
        numbers,
        confirm=expanded,
        previously_confirmed=previously_confirmed,
        skip=set(errors),
    )
    for key, messages in outcome.errors.items():
        for message in messages:
            _add(errors, key, message)
    result.warnings.update(outcome.warnings)
    result.confirmed.extend(outcome.confirmed)

    # Rules over several items: the form's, then each row's.
    earlier = {(c.get("check"), c.get("value")) for c in previously_confirmed}
    scopes = [(None, form.checks)] + [
        ((g.code, n), g.checks)
        for g in form.groups
        if g.checks
        for n in sorted({s.row for s in slots if s.group is g and s.row is not None})
    ]
    for row_of, rules in scopes:
        env = compiled.environment(slots, row_of)
        for check in rules:
            tree = compiled.trees[check.rule]
            if not check_fails(tree, env, today=today) or check.severity == "query":
                continue
            named = references(tree)
            # Shown next to the item the rule names first ("DIABP < SYSBP": under DIABP).
            keys = [
                s.key
                for s in sorted(slots, key=lambda s: _place_in(check.rule, s.item.code))
                if (s.item.code in named or f"{s.group.code}.{s.item.code}" in named)
                and (row_of is None or (s.group.code, s.row) == row_of)
            ]
            if any(k in errors for k in keys):
                continue  # a value already refused: correct it first
            target = keys[0] if keys else ALL
            check_id = check.id if row_of is None else f"{check.id}.{row_of[1]}"
            value = "; ".join(f"{k}={_plain(env_value(slots, k))}" for k in keys)
            message = str(check.message)
            if check.severity == "error":
                _add(errors, target, message)
            elif (
                check.id in confirm
                or check_id in confirm
                or target in confirm
                or (check_id, value) in earlier
            ):
                result.confirmed.append({"check": check_id, "item": target, "value": value})
            else:
                result.warnings.setdefault(target, []).append(message)
    for key in list(result.warnings):
        if key in errors:
            result.warnings.pop(key)
    return result


def _why_hidden(compiled: _Form, slots: list[_Slot], hidden: _Slot, before: Mapping) -> str:
    """ "CMONGO N→Y": the values its `show_if` reads, before → now (stored text)."""
    named = references(compiled.trees[hidden.item.show_if])
    parts = []
    for slot in slots:
        same_place = slot.row is None or (slot.group is hidden.group and slot.row == hidden.row)
        if slot.item.code in named and same_place:
            now = stored(slot.item, slot.value) if slot.shown else None
            then = before.get(slot.key)
            parts.append(f"{slot.key} {_plain(then) or '∅'}→{_plain(now) or '∅'}")
    return ", ".join(parts) or hidden.item.show_if


def _place_in(rule: str, code: str) -> int:
    found = re.search(rf"\b{re.escape(code)}\b", rule)
    return found.start() if found else len(rule)


def env_value(slots: list[_Slot], key: str):
    return next((s.value for s in slots if s.key == key), None)


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _row_of(slot: _Slot) -> tuple[str, int] | None:
    return None if slot.row is None else (slot.group.code, slot.row)


def _fit(item: ItemSpec, value):
    """A calculation's result in its item's type: decimals rounded to the item's precision
    (ROUND_HALF_UP), integers to whole numbers."""
    if isinstance(value, Decimal):
        if item.type == ItemType.INTEGER:
            return quantize(value, 0)
        if item.precision is not None:
            return quantize(value, item.precision)
    return value
