"""Items, instruments and scores: the shared machinery of every scored instrument.

An instrument is data (its items, their ranges or weights, its severity bands) plus a few
small hooks for the rules that span items. Scores are always recomputed from the answers by
`Instrument.score`, which validates first, so an invalid answer set can never be scored and a
total is never typed in (docs/INSTRUMENTS.md, "How a scored instrument is saved").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

BOOLEAN = "boolean"  # present / absent; counts `weight` points when present
INTEGER = "integer"  # a point on a scale from `min` to `max`; counts its value
CHOICE = "choice"  # one of `choices` (integer value, label); counts its value
ITEM_TYPES = (BOOLEAN, INTEGER, CHOICE)

ALL = "__all__"  # error key for rules that span several items (Django's NON_FIELD_ERRORS)

#: The suicidality / self-harm alert. Every instrument that asks about suicide or self-harm
#: raises this one code, so that the reminders sweep and the investigators' routing treat
#: a PHQ-9 item 9 and a HAM-D item 3 alike (docs/INSTRUMENTS.md, "The self-harm / suicidality
#: alert").
SELF_HARM_ALERT = "self_harm"

_INTEGER_STRING = re.compile(r"^[+-]?\d+$")


class InstrumentValidationError(Exception):
    """The answers do not make a valid response; `.errors` maps item code to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Group:
    """A heading under which the form shows some items (an organ system, a domain).

    Layout only: a group never changes how an item is validated or scored, and every item is
    still answered on its own (the form's "None of the below" fills a group's unanswered
    items in the page; the server receives and stores one explicit answer per item)."""

    code: str
    label: str


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    type: str
    min: int | None
    max: int | None
    weight: int | None = None
    choices: tuple[tuple[int, str], ...] | None = None
    help: str = ""
    required: bool = True  # optional items may be left out (e.g. PHQ-9 question 10)
    scored: bool = True  # unscored items are recorded but never count towards the total
    group: Group | None = None  # the heading the form shows the item under

    def __post_init__(self):
        # Definition mistakes fail at import time, not when a coordinator saves a form.
        if self.type not in ITEM_TYPES:
            raise ValueError(f"{self.code}: unknown item type {self.type!r}")
        if self.type == BOOLEAN and (self.weight is None or self.weight < 0):
            raise ValueError(f"{self.code}: a boolean item needs a non-negative weight")
        if self.type == INTEGER and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError(f"{self.code}: an integer item needs min <= max")
        if self.type == CHOICE and not self.choices:
            raise ValueError(f"{self.code}: a choice item needs choices")

    @property
    def max_points(self) -> int:
        """The most this item can add to the total."""
        if not self.scored:
            return 0
        if self.type == BOOLEAN:
            return self.weight
        if self.type == CHOICE:
            return max(value for value, _label in self.choices)
        return self.max

    @property
    def negative(self) -> bool | int | None:
        """The answer that says "nothing found" (absent, or a score of 0), if the item has
        one: what a group's "None of the below" may fill in for it."""
        if self.type == BOOLEAN:
            return False
        if self.type == CHOICE:
            return 0 if any(value == 0 for value, _label in self.choices) else None
        return 0 if self.min <= 0 <= self.max else None

    def points(self, value) -> int:
        """What a cleaned value adds to the total."""
        if not self.scored or value is None:
            return 0
        if self.type == BOOLEAN:
            return self.weight if value else 0
        return value

    def clean(self, value):
        """Return the coerced value, or raise ValueError with a user-facing message."""
        if self.type == BOOLEAN:
            # Strict: a truthy string such as "no" must never count as "present".
            if not isinstance(value, bool):
                raise ValueError(_("Must be yes or no (true or false)."))
            return value
        number = _as_integer(value)
        if self.type == CHOICE:
            allowed = [choice for choice, _label in self.choices]
            if number not in allowed:
                raise ValueError(
                    _("Must be one of: %(values)s.") % {"values": ", ".join(map(str, allowed))}
                )
            return number
        if not self.min <= number <= self.max:
            raise ValueError(
                _("Must be between %(min)s and %(max)s.") % {"min": self.min, "max": self.max}
            )
        return number

    def describe(self) -> dict:
        data = {
            "code": self.code,
            "label": str(self.label),
            "type": self.type,
            "min": self.min,
            "max": self.max,
        }
        if self.weight is not None:
            data["weight"] = self.weight
        if self.choices:
            data["choices"] = [{"value": v, "label": str(label)} for v, label in self.choices]
        if self.help:
            data["help"] = str(self.help)
        if not self.required:
            data["required"] = False
        if not self.scored:
            data["scored"] = False
        return data


def _as_integer(value) -> int:
    """Accept what an API or an HTML form sends for a whole number: 3, 3.0, "3"."""
    message = _("Must be a whole number.")
    if isinstance(value, bool):  # bool is an int subclass: True is not "1 point"
        raise ValueError(message)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        try:
            whole = math.isfinite(value) and value == int(value)
        except (ValueError, OverflowError):  # e.g. a signalling NaN
            whole = False
        if not whole:
            raise ValueError(message)
        return int(value)
    if isinstance(value, str) and _INTEGER_STRING.match(value.strip()):
        return int(value.strip())
    raise ValueError(message)


def _is_blank(value) -> bool:
    # An HTML form sends "" for an untouched field: that is a missing answer, not a zero.
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class ItemAlert:
    """An answer that must reach the investigator at once, whatever the total: `item`
    answered `at_least` or more raises the alert `code`. `finding` says what was found in
    words a notification can carry (it names the item, never the answers of other items)."""

    code: str
    item: str
    at_least: int
    finding: str


@dataclass(frozen=True)
class Band:
    """A severity band: totals from `low` to `high` inclusive are called `label`.

    The label is stored with the response and exported as it is (English, stable); pages
    show it in the reader's language through `band_display`."""

    low: int
    high: int
    label: str


#: What pages call each band label, translated (the labels the instruments' bands use).
BAND_DISPLAY = {
    "none": pgettext_lazy("severity band", "none"),
    "minimal": pgettext_lazy("severity band", "minimal"),
    "mild": pgettext_lazy("severity band", "mild"),
    "moderate": pgettext_lazy("severity band", "moderate"),
    "moderately severe": pgettext_lazy("severity band", "moderately severe"),
    "severe": pgettext_lazy("severity band", "severe"),
    "very severe": pgettext_lazy("severity band", "very severe"),
}


def band_display(label: str) -> str:
    """A stored band label in the reader's language (as stored if it has no translation)."""
    return str(BAND_DISPLAY.get(label, label))


@dataclass(frozen=True)
class Score:
    total: int
    band: str | None
    alerts: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    recall_period: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    item_alerts: tuple[ItemAlert, ...] = ()

    def __post_init__(self):
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.code}: item codes must be unique")
        if ALL in codes:
            raise ValueError(f"{self.code}: {ALL!r} is reserved for cross-item errors")
        groups: dict[str, Group] = {}
        for item in self.items:
            if item.group is not None and groups.setdefault(item.group.code, item.group) != (
                item.group
            ):
                raise ValueError(f"{self.code}: two groups are coded {item.group.code!r}")
        for alert in self.item_alerts:
            if alert.item not in codes:
                raise ValueError(f"{self.code}: alert {alert.code!r} names no item {alert.item!r}")

    # -- hooks: instrument-specific rules; subclasses override only what they need --------

    def extra_errors(self, answers: dict) -> dict[str, list[str]]:
        """Cross-item rules. Like Django's Form.clean they always run, so that every problem
        shows at once, and see only the items that passed their own checks: a rule must
        not assume an item is there. Key each message on "__all__" and the items involved."""
        return {}

    def alerts(self, answers: dict, total: int) -> tuple[str, ...]:
        """Findings that must reach the investigator now: the declared `item_alerts` whose
        item is answered at or above its threshold, each code once."""
        raised = []
        for alert in self.item_alerts:
            value = answers.get(alert.item)
            if value is not None and value >= alert.at_least and alert.code not in raised:
                raised.append(alert.code)
        return tuple(raised)

    def item_alert(self, code: str) -> ItemAlert | None:
        """The declaration behind an alert code (for the words of its notification)."""
        return next((alert for alert in self.item_alerts if alert.code == code), None)

    def details(self, answers: dict, total: int) -> dict:
        """Instrument-specific facts worth storing with the score."""
        return {}

    # -- the public API ------------------------------------------------------------------

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def sections(self) -> list[tuple[Group | None, tuple[Item, ...]]]:
        """The items as the form shows them: each group in the order of its first item, its
        items in their own order; a run of ungrouped items is a section of its own (None).
        An instrument without groups is one ungrouped section."""
        sections: list[tuple[Group | None, list[Item]]] = []
        by_group: dict[str, list[Item]] = {}
        for item in self.items:
            if item.group is None:
                if not sections or sections[-1][0] is not None:
                    sections.append((None, []))
                sections[-1][1].append(item)
            elif item.group.code in by_group:
                by_group[item.group.code].append(item)
            else:
                by_group[item.group.code] = [item]
                sections.append((item.group, by_group[item.group.code]))
        return [(group, tuple(items)) for group, items in sections]

    @property
    def theoretical_max(self) -> int:
        """Sum of every scored item's maximum, ignoring cross-item exclusions."""
        return sum(item.max_points for item in self.items)

    def band_for(self, total: int) -> str | None:
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        return None

    def _check(self, answers) -> tuple[dict, dict[str, list[str]]]:
        if not isinstance(answers, dict):
            return {}, {ALL: [_("Answers must be given as item code: value pairs.")]}
        errors: dict[str, list[str]] = {}
        cleaned = {}
        known = set(self.item_codes)
        for code in answers:
            if code not in known:
                errors[str(code)] = [
                    _("“%(code)s” is not an item of %(instrument)s.")
                    % {"code": code, "instrument": self.name}
                ]
        for item in self.items:
            value = answers.get(item.code)
            if _is_blank(value):
                if item.required:
                    errors[item.code] = [_("This item is required.")]
                continue
            try:
                cleaned[item.code] = item.clean(value)
            except ValueError as exc:
                errors[item.code] = [str(exc)]
        extra = self.extra_errors(cleaned)
        # A cross-item message about an item already wrong on its own is noise (e.g. "answer
        # 16A or 16B" when 16A was answered out of range): the item's own message suffices.
        if not any(key in errors for key in extra if key != ALL):
            for key, messages in extra.items():
                errors.setdefault(key, []).extend(messages)
        return cleaned, errors

    def validate(self, answers: dict) -> dict[str, list[str]]:
        """Every problem with the answers, keyed by item code (or "__all__"); {} if none."""
        return self._check(answers)[1]

    def clean(self, answers: dict) -> dict:
        """The answers coerced to their types (optional items left out are omitted)."""
        cleaned, errors = self._check(answers)
        if errors:
            raise InstrumentValidationError(errors)
        return cleaned

    def score(self, answers: dict) -> Score:
        cleaned = self.clean(answers)
        total = sum(item.points(cleaned.get(item.code)) for item in self.items)
        return Score(
            total=total,
            band=self.band_for(total),
            alerts=tuple(self.alerts(cleaned, total)),
            details=self.details(cleaned, total),
        )

    def describe(self) -> dict:
        """The instrument as `GET /api/v1/instruments/{code}/` returns it."""
        return {
            "code": self.code,
            "name": str(self.name),
            "items": [item.describe() for item in self.items],
        }
