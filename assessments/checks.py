"""Plausibility checks on entered magnitudes: the seed of the form registry's `range` and
`soft_range` (docs/PROTOCOL-FILE.md, "An item"; the tables: docs/INSTRUMENTS.md, "Checks on
forms").

A form's limits are data, one table per form: item code → `Limits(range, soft_range)`.
`range` is hard: a value outside it is impossible (a unit typed wrong, a slipped digit) and
is refused. `soft_range` warns: the value is possible but unusual, and is saved only once
the user confirms it for that item (pages: a checkbox next to the field; API: the item's
code in `"confirm"`). Limits may be multiples of a value known only at entry (`relative_to`,
e.g. the planned dose). `evaluate` runs a form's checks on its cleaned values; the checks
confirmed are stored on the record (`confirmed_checks`), so the audit trail shows who
confirmed which check, with the value confirmed.

Only values that passed their own parsing and rules are checked: a value already in error
is not also warned about. The rules that span items (Treg % + Tcon % <= 100) stay with the
derivations until the registry's expression language can state them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ERROR = "error"
WARNING = "warning"
ALL = "__all__"

Bound = Decimal | int | str | None


@dataclass(frozen=True)
class Limits:
    """The limits of one item. Bounds are inclusive; None leaves that side open."""

    range: tuple[Bound, Bound] | None = None
    soft_range: tuple[Bound, Bound] | None = None
    unit: str = ""
    #: The bounds are multiples of this context value (e.g. "planned_dose"); unchecked
    #: when the context does not give it.
    relative_to: str | None = None
    #: Messages replacing the generic ones; formatted with low, high, value, unit, base.
    range_message: str | None = None
    soft_message: str | None = None


@dataclass(frozen=True)
class Check:
    """One rule: an id the confirmations and the audit trail name, the item it is shown
    next to, its severity, and the limits it applies."""

    id: str
    item: str
    severity: str
    low: Bound
    high: Bound
    limits: Limits


def checks_for(form: str, table: dict[str, Limits]) -> tuple[Check, ...]:
    """The checks a form's table declares, ids "FORM.item.range" / "FORM.item.soft_range"."""
    found = []
    for item, limits in table.items():
        for kind, severity, bounds in (
            ("range", ERROR, limits.range),
            ("soft_range", WARNING, limits.soft_range),
        ):
            if bounds is not None:
                low, high = bounds
                found.append(Check(f"{form}.{item}.{kind}", item, severity, low, high, limits))
    return tuple(found)


@dataclass
class Outcome:
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: Warnings not confirmed yet, keyed by item: the save must wait for them.
    warnings: dict[str, list[str]] = field(default_factory=dict)
    #: What to store on the record: [{"check": id, "item": code, "value": "..."}].
    confirmed: list[dict] = field(default_factory=list)


class Unconfirmed(ValidationError):
    """Refused until the user corrects the errors (if any) and confirms the warnings.

    A ValidationError, so that every caller that shows errors shows these; `.warnings`
    maps item code to the warnings still to confirm."""

    def __init__(self, errors: dict[str, list[str]], warnings: dict[str, list[str]]):
        if not errors:
            errors = {ALL: [_("Check the values marked with a warning, then confirm them.")]}
        super().__init__(errors)
        self.warnings = warnings


def _number(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _text(number: Decimal) -> str:
    # 1.500 reads as 1.5 and 2E+3 as 2000: limits and values as a person writes them.
    return format(number.normalize(), "f")


def _message(check: Check, value: Decimal, low, high, base) -> str:
    limits = check.limits
    values = {
        "value": _text(value),
        "low": "" if low is None else _text(low),
        "high": "" if high is None else _text(high),
        "unit": limits.unit,
        "base": "" if base is None else _text(base),
    }
    custom = limits.range_message if check.severity == ERROR else limits.soft_message
    if custom is not None:
        return str(custom) % values
    if check.severity == ERROR:
        if low is None:
            text = _("Cannot be more than %(high)s %(unit)s.")
        elif high is None:
            text = _("Cannot be less than %(low)s %(unit)s.")
        else:
            text = _("Must be between %(low)s and %(high)s %(unit)s.")
    else:
        text = _(
            "%(value)s %(unit)s is outside the usual range (%(low)s to %(high)s %(unit)s): "
            "check it, then confirm it."
        )
    return text % values


def evaluate(
    checks: Iterable[Check],
    values: dict,
    *,
    confirm: Iterable[str] = (),
    context: dict | None = None,
    previously_confirmed: Iterable[dict] = (),
    skip: Iterable[str] = (),
) -> Outcome:
    """Run `checks` on cleaned `values`.

    A warning counts as confirmed when its item is in `confirm`, or when the record already
    carries a confirmation of the same check for the same value (`previously_confirmed`),
    so correcting another field does not ask again. Items in `skip` (already in error) are
    not checked."""
    confirm, skip, context = set(confirm), set(skip), context or {}
    earlier = {(c.get("check"), c.get("value")) for c in previously_confirmed}
    outcome = Outcome()
    refused: set[str] = set()
    for check in checks:
        value = _number(values.get(check.item))
        if check.item in skip or value is None:
            continue
        base = None
        low, high = check.low, check.high
        if check.limits.relative_to is not None:
            base = _number(context.get(check.limits.relative_to))
            if base is None:
                continue
            low = None if low is None else Decimal(low) * base
            high = None if high is None else Decimal(high) * base
        low = None if low is None else Decimal(low)
        high = None if high is None else Decimal(high)
        if (low is None or value >= low) and (high is None or value <= high):
            continue
        message = _message(check, value, low, high, base)
        if check.severity == ERROR:
            outcome.errors.setdefault(check.item, []).append(message)
            refused.add(check.item)
        elif check.item in refused:
            continue
        elif check.item in confirm or (check.id, _text(value)) in earlier:
            outcome.confirmed.append({"check": check.id, "item": check.item, "value": _text(value)})
        else:
            outcome.warnings.setdefault(check.item, []).append(message)
    # A warning about a value that is refused anyway is noise: correct it first.
    for item in refused:
        outcome.warnings.pop(item, None)
    outcome.confirmed = [c for c in outcome.confirmed if c["item"] not in refused]
    return outcome


# -- the tables ------------------------------------------------------------------------------
# Hard limits are what no patient of these trials can have (adults; dual-platform flow on
# peripheral blood); soft limits are what a monitor would query. Lower bounds of 0 restate
# the derivations' own rules (never reported twice: an item in error is skipped).

TREG_LIMITS = {
    "lymphocytes_per_ul": Limits(range=(0, 100_000), soft_range=(200, 6_000), unit="/µL"),
    "cd4_per_ul": Limits(range=(0, 50_000), soft_range=(50, 3_000), unit="/µL"),
    "cd4_pct_of_lymphocytes": Limits(range=(0, 100), soft_range=(5, 85), unit="%"),
    "treg_pct_of_cd4": Limits(range=(0, 100), soft_range=(0.5, 30), unit="%"),
    "tcon_pct_of_cd4": Limits(range=(0, 100), soft_range=(40, 100), unit="%"),
}

STEROID_LIMITS = {
    # 2,000 mg/day exceeds any glucocorticoid regimen (a methylprednisolone pulse is
    # 1,000 mg); above 100 mg/day is pulse or stress dosing, possible but worth a second look.
    "mg_per_day": Limits(range=(0, 2_000), soft_range=(0, 100), unit="mg/day"),
    "weight_kg": Limits(range=(20, 250), soft_range=(35, 150), unit="kg"),
}

DOSE_LIMITS = {
    # Multiples of the planned dose: ten times the plan is a unit or decimal-point slip
    # (IU for MIU, 15 for 1.5); any other dose than planned is possible but confirmed.
    "actual_dose": Limits(
        range=(None, 10),
        soft_range=(1, 1),
        relative_to="planned_dose",
        range_message=gettext_lazy(
            "%(value)s is more than ten times the planned dose (%(base)s): check the dose "
            "and its unit."
        ),
        soft_message=gettext_lazy(
            "%(value)s differs from the planned dose (%(base)s): check it, then confirm it."
        ),
    ),
}

TREG_CHECKS = checks_for("TREG", TREG_LIMITS)
STEROID_CHECKS = checks_for("STEROID", STEROID_LIMITS)
DOSE_CHECKS = checks_for("DOSE", DOSE_LIMITS)
