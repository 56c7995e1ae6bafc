"""Which concomitant glucocorticoids a participant takes on a day, as prednisone equivalent.

The steroid dose (STEROID) records one drug at a visit; the concomitant-medication form the
protocol defines (CONMED, item codes in `trials.forms.codes`) lists the others. The day's
prednisone-equivalent total, which the steroid-taper endpoint reads, is the STEROID record's
equivalent plus, from CONMED, the glucocorticoids taken that day. This module is the one
place of that rule (docs/PROTOCOL-FILE.md, "The day's prednisone-equivalent total"):

- A row counts when it names a glucocorticoid (`CMGC`) and the form computed its daily
  prednisone equivalent (`CMPREDEQ`: a dose in mg taken daily, twice, thrice or weekly; a
  dose in g, unknown or as needed has none and is not counted).
- It is taken on day D when it started on or before D and is ongoing or stopped on or after
  D. An unknown start counts as before D (a long-standing drug). A stop date that is unknown
  counts as taken before the visit whose record says the row is stopped, not on or after it:
  the record says it had stopped by then, not when (counting it for ever would keep a drug
  stopped years ago in every total).
- A row of the STEROID record's own drug is not counted: the STEROID record is the visit's
  word on that drug, and counting its CONMED row too would count it twice.
- A row listed in several CONMED records (a protocol may schedule CONMED at several visits),
  told apart by its key, the drug's name and start date, counts once, from the record of the
  latest visit: a later list is the latest word on the same medication.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.dateparse import parse_date

from trials.forms.codes import (
    CM_DRUG,
    CM_GLUCOCORTICOID,
    CM_ONGOING,
    CM_PREDNISONE_EQ,
    CM_START,
    CM_STOP,
    CONMED,
    CONMED_ROWS,
)
from trials.forms.spec import row_numbers

from .models import FormRecord

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Glucocorticoid:
    """One glucocorticoid row of a CONMED record."""

    visit: str  # the code of the record's visit
    row: int  # n of its `CM.n.ITEM` keys
    name: str  # as entered (CMTRT)
    drug: str  # a code of derivations.PREDNISONE_EQUIVALENT (CMGC)
    prednisone_eq_mg: Decimal | None  # mg/day; None when the form could not compute it
    start: date | None  # None: unknown
    stopped: bool
    stop: date | None  # None: ongoing, or stopped on an unknown date
    reported_on: date | None  # the date of the record's visit

    def is_taken_on(self, day: date) -> bool:
        if self.start is not None and self.start > day:
            return False
        if not self.stopped:
            return True
        if self.stop is not None:
            return day <= self.stop
        return self.reported_on is None or day < self.reported_on


def _day(value) -> date | None:
    try:
        return parse_date(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _key(name: str, start) -> tuple[str, str]:
    return (" ".join(str(name or "").split()).casefold(), str(start or ""))


def _item(n: int, code: str) -> str:
    """The key of an item of row n in a record's values: `CM.n.ITEM`."""
    return f"{CONMED_ROWS}.{n}.{code}"


def _visit_day(record: FormRecord) -> date | None:
    visit = record.scheduled_visit
    return visit.actual_date or visit.target_date


def rows_of(records: Iterable[FormRecord]) -> list[Glucocorticoid]:
    """The glucocorticoid rows of these CONMED records, each key once, from the latest visit
    listing it (a later record's row that is no glucocorticoid any more replaces it too)."""
    latest: dict[tuple[str, str], Glucocorticoid | None] = {}
    ordered = sorted(records, key=lambda r: (_visit_day(r) or date.min, r.pk or 0))
    for record in ordered:
        values, missing, calculated = record.values, record.missing, record.calculated
        for n in sorted(row_numbers(CONMED_ROWS, (*values, *missing))):
            key = _key(values.get(_item(n, CM_DRUG)), values.get(_item(n, CM_START)))
            drug = values.get(_item(n, CM_GLUCOCORTICOID))
            if not drug:
                latest[key] = None
                continue
            equivalent = calculated.get(_item(n, CM_PREDNISONE_EQ))
            stop = _item(n, CM_STOP)
            latest[key] = Glucocorticoid(
                visit=record.scheduled_visit.code,
                row=n,
                name=str(values.get(_item(n, CM_DRUG)) or ""),
                drug=str(drug),
                prednisone_eq_mg=None if equivalent is None else Decimal(str(equivalent)),
                start=_day(values.get(_item(n, CM_START))),
                stopped=values.get(_item(n, CM_ONGOING)) == "N"
                or stop in values
                or stop in missing,
                stop=_day(values.get(stop)),
                reported_on=_visit_day(record),
            )
    return [row for row in latest.values() if row is not None]


def taken_on(rows: Iterable[Glucocorticoid], day: date, *, steroid_drug: str) -> list:
    """The rows taken on `day` other than the STEROID record's drug, equivalent or not."""
    return [r for r in rows if r.drug != steroid_drug and r.is_taken_on(day)]


def prednisone_eq_on(rows: Iterable[Glucocorticoid], day: date, *, steroid_drug: str) -> Decimal:
    """mg/day of prednisone equivalent the rows add to a STEROID record of `steroid_drug`
    dated `day`: those taken that day that have an equivalent, to 0.01 mg as the record
    keeps it (a protocol may compute CMPREDEQ to more places)."""
    counted = taken_on(rows, day, steroid_drug=steroid_drug)
    total = sum((r.prednisone_eq_mg for r in counted if r.prednisone_eq_mg is not None), ZERO)
    return total.quantize(ZERO, rounding=ROUND_HALF_UP)


def of_participant(participant) -> list[Glucocorticoid]:
    """The participant's CONMED glucocorticoid rows, from the records at visits still on the
    schedule (one query)."""
    records = FormRecord.objects.filter(
        participant=participant,
        form_code=CONMED,
        scheduled_visit__in=participant.visits.live(),
    ).select_related("scheduled_visit")
    return rows_of(records)
