"""Any valid protocol survives export and re-import unchanged.

The strategies build `ProtocolSpec`s that keep every rule of the file format (unique codes,
phases that do not overlap, windows around their day, no day 0, visits in day order with
screening visits alone before baseline, known forms, events and roles, at most one lead time
per reminder) while varying everything else, text included.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trials.dosing import BODY_SIZE_BASES, WEEKDAYS, cycle_schedule
from trials.forms.codes import BODY_HEIGHT, BODY_WEIGHT, FORM_CODES, VITALS
from trials.forms.expressions import ItemType
from trials.forms.spec import FormSpec, GroupSpec, ItemSpec, Text
from trials.protocol_file import (
    ArmSpec,
    CriterionSpec,
    CycleSpec,
    DosingSpec,
    PhaseSpec,
    ProtocolSpec,
    ReminderSpec,
    SiteSpec,
    StratumSpec,
    StudySpec,
    VersionSpec,
    VisitSpec,
    dump_protocol,
    parse_protocol,
)
from trials.protocol_validation import BLINDINGS, REMINDER_EVENTS, ROLES

codes = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
# Any text but lone surrogates (not encodable), with something other than white space in it.
texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30).filter(str.strip)
timezones = st.sampled_from(["UTC", "Europe/Rome", "Asia/Shanghai", "America/New_York"])
decimals = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False)
positive_decimals = st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3)
lead_times = st.integers(min_value=0, max_value=30)


def unique_by_code(strategy, *, min_size=0, max_size=4, key=lambda spec: spec.code):
    return st.lists(strategy, min_size=min_size, max_size=max_size, unique_by=key).map(tuple)


studies = st.builds(
    StudySpec,
    code=codes,
    title=texts,
    phase=texts,
    blinding=st.sampled_from(BLINDINGS),
    sponsor=st.one_of(st.just(""), st.text(max_size=20)),
    registry_id=st.one_of(st.just(""), texts),
)
versions = st.builds(
    VersionSpec, label=texts, effective=st.dates(date(1990, 1, 1), date(2100, 12, 31))
)
sites = st.builds(SiteSpec, code=codes, name=texts, timezone=timezones)
arms = st.builds(ArmSpec, code=codes, name=texts, ratio=st.integers(1, 10), placebo=st.booleans())
strata = st.builds(StratumSpec, code=codes, name=texts)


@st.composite
def criteria(draw):
    common = {
        "id": draw(codes),
        "kind": draw(st.sampled_from(["inclusion", "exclusion"])),
        "text": draw(texts),
    }
    if draw(st.booleans()):
        return CriterionSpec(**common)
    low, high = draw(st.one_of(st.none(), decimals)), draw(st.one_of(st.none(), decimals))
    if low is None and high is None:
        low = draw(decimals)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return CriterionSpec(**common, type=draw(st.sampled_from(["number", "age"])), min=low, max=high)


@st.composite
def dosing(draw):
    """Phases in consecutive, non-overlapping week ranges (with gaps), named uniquely, each
    with one dosing pattern, some in cycles, some dosed by body size (re-sized each cycle
    or not)."""
    names = draw(st.lists(texts, min_size=1, max_size=4, unique=True))
    phases, week = [], 1
    for name in names:
        start = week + draw(st.integers(0, 3))
        end = start + draw(st.integers(0, 10))
        pattern = draw(
            st.sampled_from(["days_per_week", "days", "weekdays", "every_days", "every_weeks"])
        )
        if pattern == "days_per_week":
            schedule = {"days_per_week": draw(st.integers(1, 7))}
        elif pattern == "days":
            days = draw(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True))
            schedule = {"days": tuple(days)}
        elif pattern == "weekdays":
            days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
            schedule = {"weekdays": tuple(days)}
        else:
            schedule = {pattern: draw(st.integers(1, 14))}
        if draw(st.booleans()):
            cycle = CycleSpec(
                draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            )
            schedule["cycles"] = cycle
            end = start + cycle.count * (cycle.dosing_weeks + cycle.rest_weeks) - 1
        if draw(st.booleans()):
            schedule["per"] = draw(st.sampled_from(BODY_SIZE_BASES))
            schedule["round_to"] = draw(positive_decimals)
            if "cycles" in schedule and draw(st.booleans()):
                schedule["resize"] = "each_cycle"
        week = end + 1
        phases.append(
            PhaseSpec(
                name=name,
                weeks=(start, end),
                dose=draw(positive_decimals),
                unit=draw(texts),
                route=draw(texts),
                **schedule,
            )
        )
    if draw(st.booleans()):
        phases.reverse()  # a file may list phases in any order
    return DosingSpec(drug=draw(texts), phases=tuple(phases))


form_lists = st.lists(st.sampled_from(sorted(FORM_CODES)), unique=True, max_size=5)


@st.composite
def visit_schedules(draw):
    """Visits on distinct days in day order: screening ones wholly before baseline (day 1),
    the others with windows opening on day 1 or later."""
    screening_days = draw(st.lists(st.integers(-60, -1), unique=True, max_size=2))
    later_days = draw(st.lists(st.integers(1, 400), unique=True, max_size=4))
    days = sorted(screening_days) + sorted(later_days)
    if not days:
        days = [draw(st.integers(1, 400))]
    codes_drawn = draw(st.lists(codes, min_size=len(days), max_size=len(days), unique=True))
    schedule = []
    for code, day in zip(codes_drawn, days, strict=True):
        offset = day - 1 if day > 0 else day  # calendar days from baseline
        if day < 0:
            window = (draw(st.integers(-14, 0)), draw(st.integers(0, min(14, -offset - 1))))
        else:
            window = (draw(st.integers(max(-14, -offset), 0)), draw(st.integers(0, 14)))
        schedule.append(
            VisitSpec(
                code=code,
                name=draw(texts),
                day=day,
                window=window,
                forms=tuple(
                    draw(st.lists(st.sampled_from(sorted(FORM_CODES)), unique=True, max_size=5))
                ),
                screening=day < 0,
            )
        )
    return tuple(schedule)


@st.composite
def reminders(draw):
    timing = draw(st.sampled_from([None, "before_days", "after_days", "before_hours"]))
    return ReminderSpec(
        event=draw(st.sampled_from(REMINDER_EVENTS)),
        notify=tuple(draw(st.lists(st.sampled_from(ROLES), min_size=1, unique=True))),
        **({} if timing is None else {timing: draw(lead_times)}),
    )


#: What a file dosing by body size must collect at baseline (docs/PROTOCOL-FILE.md).
VITALS_FORM = FormSpec(
    code=VITALS,
    name=Text.of("Vital signs"),
    groups=(
        GroupSpec(
            VITALS,
            tuple(
                ItemSpec(code=code, label=Text.of(code), type=ItemType.DECIMAL, precision=1)
                for code in (BODY_WEIGHT, BODY_HEIGHT)
            ),
        ),
    ),
)


def with_baseline_vitals(spec: ProtocolSpec) -> ProtocolSpec:
    """A protocol dosing by body size defines VITALS and schedules it at a visit on or
    before day 1 (a baseline visit on day 1 is added when the schedule has none)."""
    if not any(phase.per for phase in spec.dosing.phases):
        return spec
    visits = list(spec.visits)
    early = [i for i, visit in enumerate(visits) if visit.day <= 1]
    if early:
        i = early[-1]
        visits[i] = replace(visits[i], forms=tuple(dict.fromkeys((*visits[i].forms, VITALS))))
    else:
        taken = {visit.code for visit in visits}
        code = next(
            c for c in ("BASE", "BASE1", "BASE2", "BASE3", "BASE4", "BASE5") if c not in taken
        )
        baseline = VisitSpec(code=code, name="Baseline", day=1, window=(0, 0), forms=(VITALS,))
        position = sum(1 for visit in visits if visit.day < 1)
        visits.insert(position, baseline)
    return replace(spec, forms=(VITALS_FORM,), visits=tuple(visits))


@st.composite
def by_cycle(draw, spec: ProtocolSpec) -> ProtocolSpec:
    """Some visits that fall in a cycle written by cycle (`cycle: K, day: D`), when the
    phases in cycles share one schedule (a visit by cycle needs one)."""
    try:
        schedule = cycle_schedule(spec.dosing.phases)
    except ValueError:
        return spec
    if schedule is None:
        return spec
    starts, length = schedule
    visits = []
    for visit in spec.visits:
        cycle = next(
            (k for k, first in enumerate(starts, 1) if first <= visit.day < first + length), None
        )
        if cycle is not None and draw(st.booleans()):
            visit = replace(visit, cycle=cycle)
        visits.append(visit)
    return replace(spec, visits=tuple(visits))


protocols = (
    st.builds(
        ProtocolSpec,
        study=studies,
        version=versions,
        sites=unique_by_code(sites, min_size=1),
        arms=unique_by_code(arms, min_size=1),
        strata=unique_by_code(strata),
        eligibility=unique_by_code(criteria(), min_size=1, key=lambda criterion: criterion.id),
        dosing=dosing(),
        visits=visit_schedules(),
        reminders=st.lists(reminders(), max_size=6).map(tuple),
    )
    .map(with_baseline_vitals)
    .flatmap(by_cycle)
)


@settings(max_examples=300, deadline=None)
@given(protocols)
def test_any_valid_protocol_reads_back_as_it_was_written(spec):
    exported = dump_protocol(spec)

    assert parse_protocol(exported) == spec


@settings(max_examples=100, deadline=None)
@given(protocols)
def test_exporting_a_reimported_protocol_gives_the_same_file(spec):
    exported = dump_protocol(spec)

    assert dump_protocol(parse_protocol(exported)) == exported


def test_the_strategy_writes_visits_by_cycle():
    """The properties above cover `cycle: K, day: D` only if the strategy draws it."""
    found = []

    @settings(max_examples=200, deadline=None)
    @given(protocols)
    def collect(spec):
        found.extend(visit for visit in spec.visits if visit.cycle is not None)

    collect()
    assert found
