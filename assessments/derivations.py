"""Derived values of the two forms that are not scored instruments: Treg panel and steroid dose.

Pure functions on Decimals (floats would put 0.30000000000000004 into a clinical record).
Inputs may be Decimals, ints, floats or numeric strings (HTML forms). Results are rounded
once, at the end, half up as clinical reports do: cells/µL to 0.1, percentages to 0.01,
% changes to 0.1, the Treg/Tcon ratio to 0.0001 (ratios are small: 5 % / 80 % is 0.0625,
and three places would lose a significant digit), mg/kg to 0.001; decisions (the
steroid-sparing threshold) use exact values, never rounded ones. Definitions as
docs/INSTRUMENTS.md gives them ("Treg panel": dual platform, Treg = CD4+CD25hiCD127lo,
absolute counts a percentage of absolute CD4+; "Steroid dose": prednisone-equivalent
factors, >= 25 % reduction = the RP study's sparing outcome).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

ALL = "__all__"
CELLS = Decimal("0.1")
PERCENT = Decimal("0.01")
CHANGE = Decimal("0.1")
TREG_TCON_RATIO = Decimal("0.0001")
MG_PER_KG = Decimal("0.001")
HUNDRED = Decimal(100)


class InvalidInput(ValueError):
    """The inputs cannot be derived from; `.errors` maps field name to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _round(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_HALF_UP)


def _decimal(value) -> Decimal:
    """A finite Decimal from what an API or a form sends, else ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, float | str) else Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def _blank(value) -> bool:
    # An HTML form sends "" for an untouched field: that is a missing value, not a zero.
    return value is None or (isinstance(value, str) and not value.strip())


def _add(errors: dict, message: str, *keys: str) -> None:
    for key in keys:
        errors.setdefault(key, []).append(message)


def _read(errors: dict, name: str, value, required: bool = True) -> Decimal | None:
    """Parse one field, recording a message in `errors` if it is missing or not a number."""
    if _blank(value):
        if required:
            _add(errors, _("This field is required."), name)
        return None
    try:
        return _decimal(value)
    except ValueError:
        _add(errors, _("Enter a number."), name)
        return None


def percent_change(baseline, current) -> Decimal | None:
    """(current - baseline) / baseline × 100, to 0.1; None when there is no baseline to
    divide by (None or 0) or no current value."""
    if baseline is None or current is None:
        return None
    baseline, current = _decimal(baseline), _decimal(current)
    if baseline == 0:
        return None
    return _round((current - baseline) / baseline * HUNDRED, CHANGE)


# -- Treg panel ------------------------------------------------------------------------


@dataclass(frozen=True)
class TregDerived:
    lymphocytes_per_ul: Decimal
    cd4_per_ul: Decimal
    treg_pct_of_cd4: Decimal
    tcon_pct_of_cd4: Decimal
    treg_per_ul: Decimal
    tcon_per_ul: Decimal
    treg_tcon_ratio: Decimal | None  # None when there are no Tcon to divide by
    # Change from baseline: None without a baseline (or, for the relative change, when the
    # baseline value is 0). Treg % change is in percentage points.
    treg_pct_change: Decimal | None = None
    treg_pct_change_pct: Decimal | None = None
    treg_per_ul_change: Decimal | None = None
    treg_per_ul_change_pct: Decimal | None = None


def validate_treg(
    *,
    lymphocytes_per_ul,
    treg_pct_of_cd4,
    tcon_pct_of_cd4,
    cd4_per_ul=None,
    cd4_pct_of_lymphocytes=None,
) -> dict[str, list[str]]:
    """Every problem with a Treg panel's entered values, keyed by field name; {} if none.

    Cross-field problems are keyed on "__all__" and on the field to correct."""
    errors: dict[str, list[str]] = {}
    lymphocytes = _read(errors, "lymphocytes_per_ul", lymphocytes_per_ul)
    cd4 = _read(errors, "cd4_per_ul", cd4_per_ul, required=False)
    cd4_pct = _read(errors, "cd4_pct_of_lymphocytes", cd4_pct_of_lymphocytes, required=False)
    treg_pct = _read(errors, "treg_pct_of_cd4", treg_pct_of_cd4)
    tcon_pct = _read(errors, "tcon_pct_of_cd4", tcon_pct_of_cd4)

    for name, count in (("lymphocytes_per_ul", lymphocytes), ("cd4_per_ul", cd4)):
        if count is not None and count < 0:
            _add(errors, _("A cell count cannot be negative."), name)
    for name, pct in (
        ("cd4_pct_of_lymphocytes", cd4_pct),
        ("treg_pct_of_cd4", treg_pct),
        ("tcon_pct_of_cd4", tcon_pct),
    ):
        if pct is not None and not 0 <= pct <= 100:
            _add(errors, _("A percentage must be between 0 and 100."), name)

    if _blank(cd4_per_ul) and _blank(cd4_pct_of_lymphocytes):
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _add(errors, _("Enter CD4+ cells per µL or CD4+ % of lymphocytes."), ALL, "cd4_per_ul")
    if cd4 is not None and lymphocytes is not None and cd4 > lymphocytes >= 0:
        message = _("CD4+ cells per µL cannot be more than lymphocytes per µL.")
        _add(errors, message, ALL, "cd4_per_ul")
    if not any(key in errors for key in ("treg_pct_of_cd4", "tcon_pct_of_cd4")) and (
        treg_pct + tcon_pct > 100
    ):
        # xgettext:no-python-format (a literal percent sign, never formatted)
        message = _("Treg % and Tcon % of CD4+ cannot add up to more than 100.")
        _add(errors, message, ALL, "treg_pct_of_cd4", "tcon_pct_of_cd4")
    return errors


def derive_treg(
    *,
    lymphocytes_per_ul,
    treg_pct_of_cd4,
    tcon_pct_of_cd4,
    cd4_per_ul=None,
    cd4_pct_of_lymphocytes=None,
    baseline: TregDerived | None = None,
) -> TregDerived:
    """Absolute Treg and Tcon counts, their ratio and the change from `baseline`.

    A measured CD4+ /µL wins over CD4+ % of lymphocytes when both are given. Changes are
    computed from the baseline's stored (rounded) values, so anyone can recompute them from
    the record. Raises InvalidInput when `validate_treg` finds a problem."""
    if errors := validate_treg(
        lymphocytes_per_ul=lymphocytes_per_ul,
        treg_pct_of_cd4=treg_pct_of_cd4,
        tcon_pct_of_cd4=tcon_pct_of_cd4,
        cd4_per_ul=cd4_per_ul,
        cd4_pct_of_lymphocytes=cd4_pct_of_lymphocytes,
    ):
        raise InvalidInput(errors)
    lymphocytes = _decimal(lymphocytes_per_ul)
    treg_pct, tcon_pct = _decimal(treg_pct_of_cd4), _decimal(tcon_pct_of_cd4)
    if not _blank(cd4_per_ul):
        cd4 = _decimal(cd4_per_ul)
    else:
        cd4 = _decimal(cd4_pct_of_lymphocytes) / HUNDRED * lymphocytes
    treg = treg_pct / HUNDRED * cd4
    tcon = tcon_pct / HUNDRED * cd4
    ratio = None if tcon == 0 else _round(treg_pct / tcon_pct, TREG_TCON_RATIO)
    treg_per_ul = _round(treg, CELLS)
    derived = TregDerived(
        lymphocytes_per_ul=lymphocytes,
        cd4_per_ul=_round(cd4, CELLS),
        treg_pct_of_cd4=treg_pct,
        tcon_pct_of_cd4=tcon_pct,
        treg_per_ul=treg_per_ul,
        tcon_per_ul=_round(tcon, CELLS),
        treg_tcon_ratio=ratio,
    )
    if baseline is None:
        return derived
    return replace(
        derived,
        treg_pct_change=_round(treg_pct - baseline.treg_pct_of_cd4, PERCENT),
        treg_pct_change_pct=percent_change(baseline.treg_pct_of_cd4, treg_pct),
        treg_per_ul_change=_round(treg_per_ul - baseline.treg_per_ul, CELLS),
        treg_per_ul_change_pct=percent_change(baseline.treg_per_ul, treg_per_ul),
    )


# -- Steroid dose ----------------------------------------------------------------------

# mg of prednisone equivalent to 1 mg of the drug (docs/INSTRUMENTS.md, "Steroid dose";
# standard anti-inflammatory equivalence: prednisone 5 mg = methylprednisolone 4 mg =
# hydrocortisone 20 mg = dexamethasone 0.75 mg = deflazacort 6 mg = betamethasone 0.6 mg =
# cortisone 25 mg), each factor to two decimal places as written here: deflazacort 6 mg is
# 4.98 mg, not 5. The CONMED form of the shipped protocols converts with the same factors (a
# test keeps them in step).
PREDNISONE_EQUIVALENT = {
    "prednisone": Decimal("1"),
    "prednisolone": Decimal("1"),
    "methylprednisolone": Decimal("1.25"),
    "hydrocortisone": Decimal("0.25"),
    "dexamethasone": Decimal("6.67"),
    "deflazacort": Decimal("0.83"),
    "betamethasone": Decimal("8.33"),
    "cortisone": Decimal("0.2"),
}
STEROID_SPARING_REDUCTION = Decimal("0.25")


def _factor(drug) -> Decimal:
    key = str(drug or "").strip().lower()
    if key not in PREDNISONE_EQUIVALENT:
        known = ", ".join(sorted(PREDNISONE_EQUIVALENT))
        raise ValueError(
            _("Unknown steroid “%(drug)s”: choose one of %(known)s.")
            % {"drug": drug, "known": known}
        )
    return PREDNISONE_EQUIVALENT[key]


def prednisone_equivalent(drug: str, mg_per_day) -> Decimal:
    """mg/day of prednisone equivalent to `mg_per_day` of `drug`, to 0.01 mg."""
    return _round(_factor(drug) * _decimal(mg_per_day), PERCENT)


def mg_per_kg(pred_eq, weight_kg=None) -> Decimal | None:
    """Prednisone-equivalent mg/kg/day to 0.001, None without a weight. For display and
    storage: a threshold (e.g. "< 0.5 mg/kg/day") is judged on pred_eq / weight exactly."""
    if weight_kg is None:
        return None
    weight = _decimal(weight_kg)
    if weight <= 0:
        raise ValueError(_("Body weight must be more than 0 kg."))
    return _round(_decimal(pred_eq) / weight, MG_PER_KG)


def is_steroid_sparing_response(baseline, current) -> bool:
    """True when the prednisone-equivalent dose fell by at least 25 % from a non-zero
    baseline; decided on exact values, not on the rounded percent change."""
    if baseline is None or current is None:
        return False
    baseline, current = _decimal(baseline), _decimal(current)
    if baseline <= 0:
        return False
    return baseline - current >= baseline * STEROID_SPARING_REDUCTION


def validate_steroid(drug, mg_per_day, weight_kg=None) -> dict[str, list[str]]:
    """Every problem with a steroid dose's entered values, keyed by field name; {} if none."""
    errors: dict[str, list[str]] = {}
    if _blank(drug):
        errors["drug"] = [_("Choose a drug.")]
    else:
        try:
            _factor(drug)
        except ValueError as exc:
            errors["drug"] = [str(exc)]
    dose = _read(errors, "mg_per_day", mg_per_day)
    if dose is not None and dose < 0:
        _add(errors, _("A dose cannot be negative."), "mg_per_day")
    weight = _read(errors, "weight_kg", weight_kg, required=False)
    if weight is not None and weight <= 0:
        _add(errors, _("Body weight must be more than 0 kg."), "weight_kg")
    return errors
