"""Invariants of the captured records held by the database, each tested both ways:
`full_clean()` raises ValidationError and `create()` raises IntegrityError."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assessments.derivations import PREDNISONE_EQUIVALENT
from assessments.models import (
    DoseAdministration,
    InstrumentResponse,
    SteroidDose,
    SteroidDrug,
    TregPanel,
)
from tests.assessments.helpers_capture import participant, rp_cast, visit


@pytest.fixture
def setup(db):
    cast = rp_cast()
    p = participant()
    return cast, p, visit(p, "W0")


def treg_row(p, v, user, **changes):
    fields = {
        "participant": p,
        "scheduled_visit": v,
        "entered_by": user,
        "sample_date": date(2026, 1, 5),
        "lymphocytes_per_ul": Decimal(1500),
        "cd4_per_ul": Decimal(800),
        "treg_pct_of_cd4": Decimal(5),
        "tcon_pct_of_cd4": Decimal(60),
        "derived_cd4_per_ul": Decimal(800),
        "treg_per_ul": Decimal(40),
        "tcon_per_ul": Decimal(480),
    }
    return TregPanel(**(fields | changes))


def both_ways(obj, message):
    with pytest.raises(ValidationError, match=message):
        obj.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


def test_a_valid_treg_panel_passes(setup):
    cast, p, v = setup
    row = treg_row(p, v, cast.cora)
    row.full_clean()
    row.save()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"treg_pct_of_cd4": Decimal(101), "tcon_pct_of_cd4": Decimal(0)}, "between 0 and 100"),
        ({"treg_pct_of_cd4": Decimal(50), "tcon_pct_of_cd4": Decimal(60)}, "add up to more"),
        ({"cd4_per_ul": None}, "CD4\\+ cells per µL or CD4\\+ %"),
    ],
)
def test_treg_panel_constraints(setup, changes, message):
    cast, p, v = setup
    both_ways(treg_row(p, v, cast.cora, **changes), message)


def test_one_treg_panel_per_visit(setup):
    cast, p, v = setup
    treg_row(p, v, cast.cora).save()
    both_ways(treg_row(p, v, cast.cora), "already recorded at this visit")


def test_one_response_per_instrument_per_visit(setup):
    cast, p, v = setup
    fields = {
        "participant": p,
        "scheduled_visit": v,
        "entered_by": cast.cora,
        "instrument": "RPDAI",
        "answers": {"FEVER": False},
        "total": 0,
    }
    InstrumentResponse.objects.create(**fields)
    both_ways(InstrumentResponse(**fields), "already recorded at this visit")
    InstrumentResponse(**(fields | {"instrument": "PHQ9"})).full_clean()  # another instrument


def steroid_row(p, v, user, **changes):
    fields = {
        "participant": p,
        "scheduled_visit": v,
        "entered_by": user,
        "date": date(2026, 1, 5),
        "drug": "prednisone",
        "mg_per_day": Decimal(10),
        "prednisone_eq_mg": Decimal(10),
        "total_prednisone_eq_mg": Decimal(10),
    }
    return SteroidDose(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mg_per_day": Decimal(-1)}, "cannot be negative"),
        ({"weight_kg": Decimal(0)}, "more than 0 kg"),
    ],
)
def test_steroid_dose_constraints(setup, changes, message):
    cast, p, v = setup
    steroid_row(p, v, cast.cora).full_clean()
    both_ways(steroid_row(p, v, cast.cora, **changes), message)


def dose_row(p, user, **changes):
    fields = {
        "planned_dose": p.doses.order_by("date").first(),
        "participant": p,
        "entered_by": user,
        "given": True,
        "administered_on": date(2026, 1, 5),
        "actual_dose": Decimal(1),
        "unit": "MIU",
    }
    return DoseAdministration(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"administered_on": None}, "needs its date"),
        ({"actual_dose": None}, "needs its date and the dose"),
        ({"given": False, "actual_dose": None, "administered_on": None}, "Say why"),
        # 0 is a placebo's planned 0; the service refuses it for an active dose.
        ({"actual_dose": Decimal(-1)}, "cannot be negative"),
    ],
)
def test_dose_administration_constraints(setup, changes, message):
    cast, p, _v = setup
    dose_row(p, cast.cora).full_clean()
    dose_row(
        p, cast.cora, given=False, actual_dose=None, administered_on=None, reason_not_given="Ill"
    ).full_clean()
    both_ways(dose_row(p, cast.cora, **changes), message)


def test_the_steroid_drug_choices_are_the_derivation_table():
    assert set(SteroidDrug.values) == set(PREDNISONE_EQUIVALENT)
