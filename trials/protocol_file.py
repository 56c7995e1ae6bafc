"""The protocol file: one YAML document per study protocol version, imported and exported.

The dataclasses below are the contract between the file and everything built from it (the
protocol models, the calendar, the reminder rules): a `ProtocolSpec` is only ever produced
whole and valid by `parse_protocol`, which reads the entire file, collects every problem
with its line and refuses the file if there is any (`ProtocolFileError`), so an import is
never half done. `dump_protocol` writes a spec back in the same shape, and
`parse_protocol(dump_protocol(spec)) == spec` holds for every valid spec.

Conventions (CDISC study days): study day 1 is baseline and the first dose; there is no day
0, the day before baseline is day -1. Week w covers study days 7(w-1)+1 .. 7w. A visit
window [minus, plus] runs from `minus` calendar days before the target date to `plus` after.
See docs/PROTOCOL-FILE.md for the format, and trials/protocols/ld-il2-rp.yaml for the relapsing
polychondritis study's file.
"""

import re
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal
from functools import partial

import yaml
from yaml.nodes import Node, SequenceNode

from trials.dosing import (
    BODY_SIZE_BASES,
    RESIZE_RULES,
    cycle_schedule,
    cycle_study_day,
    day_of_cycle,
)
from trials.forms.codes import BODY_HEIGHT, BODY_WEIGHT, FORM_CODES, VITALS
from trials.forms.expressions import ItemType
from trials.forms.protocol_section import read_form
from trials.forms.spec import FormSpec, form_to_data
from trials.protocol_validation import (
    BLINDINGS,
    CRITERION_KINDS,
    CRITERION_TYPES,
    DOSING_PATTERNS,
    REMINDER_EVENTS,
    ROLES,
    NodeReader,
    ProtocolFileError,
    ProtocolProblem,
    check_criterion_answer,
    check_lead_times,
    check_phase_dose,
    check_phase_schedule,
    check_visit_timing,
    refuse_deep_nesting,
    refuse_duplicate_phase_names,
    refuse_inconsistent_visit_days,
    refuse_overlapping_phases,
    refuse_unblinding_schedules,
    scalar_value,
    value_node,
)

__all__ = [
    "ArmSpec",
    "CriterionSpec",
    "CycleSpec",
    "DosingSpec",
    "PhaseSpec",
    "ProtocolFileError",
    "ProtocolProblem",
    "ProtocolSpec",
    "ReminderSpec",
    "SiteSpec",
    "StratumSpec",
    "StudySpec",
    "VersionSpec",
    "VisitSpec",
    "dump_protocol",
    "parse_protocol",
]


@dataclass(frozen=True)
class StudySpec:
    """The study: `blinding` is one of open / single / double; `phase` is text ("2", "1/2")."""

    code: str
    title: str
    phase: str
    blinding: str
    sponsor: str = ""
    registry_id: str = ""


#: The screening numbers a protocol accepts unless its file says otherwise: ASCII letters,
#: digits, `-` and `_`, so no look-alike, invisible or right-to-left character can spoof an
#: identifier in the screening log.
DEFAULT_SCREENING_NUMBER_PATTERN = r"[A-Za-z0-9_-]+"


@dataclass(frozen=True)
class VersionSpec:
    """The protocol version this file describes; an amendment is a new label and date.

    `screening_number_pattern` (optional key) is a Python regular expression that a whole
    screening number must match, e.g. `"RP-[0-9]{3}"`; it is checked as a regular
    expression when the file is read. Absent, DEFAULT_SCREENING_NUMBER_PATTERN applies.
    `blinded_results` (optional) lists form codes, built-in or defined by the file.
    """

    label: str
    effective: date
    screening_number_pattern: str = DEFAULT_SCREENING_NUMBER_PATTERN
    #: Forms whose values tell the allocation (a Treg panel under IL-2 against placebo):
    #: only users unblinded in the study enter or read them; the others see that they are done.
    blinded_results: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteSpec:
    """A site; `timezone` is an IANA name, used to show timestamps in local time."""

    code: str
    name: str
    timezone: str


@dataclass(frozen=True)
class ArmSpec:
    """A treatment arm; `ratio` is its allocation weight (IL2 2 + PBO 1 = a 2:1 trial)."""

    code: str
    name: str
    ratio: int
    placebo: bool = False


@dataclass(frozen=True)
class StratumSpec:
    """A randomisation stratum (e.g. diagnosis MDD or BD); each has its own list."""

    code: str
    name: str


@dataclass(frozen=True)
class CriterionSpec:
    """An eligibility criterion, answered yes/no (`boolean`) or with a number (`number`).

    An inclusion criterion is met when answered yes, an exclusion one when answered no. A
    numeric answer must lie within [min, max], both inclusive; either bound may be absent
    but not both. Bounds are exact decimals (0.5 mg/kg/day must not become 0.49999).
    """

    id: str
    kind: str
    text: str
    type: str = "boolean"
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class CycleSpec:
    """A phase's weeks as `count` cycles of `dosing_weeks` of dosing then `rest_weeks` of rest."""

    count: int
    dosing_weeks: int
    rest_weeks: int


@dataclass(frozen=True)
class PhaseSpec:
    """A dosing phase over study weeks `weeks` = (start, end), both inclusive, from week 1.

    Exactly one pattern is set (`trials.dosing` reads them): `days_per_week` (the first N
    days of each week, from the baseline's weekday), `days` (those days, 1-7, of each week),
    `weekdays` (those calendar weekdays, `mon`..`sun`), `every_days` (every N days from the
    phase's first day) or `every_weeks` (every N weeks); `cycles` repeats it in cycles of
    dosing and rest. `dose` is per administration, in `unit` (e.g. MIU), by `route` (e.g.
    SC); with `per` (`kg` or `m2`) it is per kg of weight or m² of body-surface area,
    rounded to `round_to`, and sized from the baseline's weight and height, or with
    `resize` = `each_cycle` each cycle from those at the cycle's first visit. `arm` names the
    arm the phase is for; without it the phase is every arm's.
    """

    name: str
    weeks: tuple[int, int]
    dose: Decimal
    unit: str
    route: str
    arm: str | None = None
    per: str | None = None
    round_to: Decimal | None = None
    days_per_week: int | None = None
    days: tuple[int, ...] | None = None
    weekdays: tuple[str, ...] | None = None
    every_days: int | None = None
    every_weeks: int | None = None
    cycles: CycleSpec | None = None
    resize: str | None = None

    def applies_to(self, arm: str | None) -> bool:
        """Whether a participant allocated to `arm` follows this phase."""
        return self.arm is None or self.arm == arm


@dataclass(frozen=True)
class DosingSpec:
    """The study drug and its phases, in file order; phases never share a week.

    `dose_levels` (optional) are the amounts, in the phases' unit, an investigator may
    reduce a participant's dose to: level 1 is the first listed, level 2 the second...
    A reduction names its level, so that a blinded reader can be told the level alone.
    """

    drug: str
    phases: tuple[PhaseSpec, ...]
    dose_levels: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class VisitSpec:
    """A scheduled visit on study `day` (never 0; negative = before baseline).

    `window` = (minus, plus) in calendar days around the target date, minus <= 0 <= plus:
    (-3, 3) is the target day give or take three days, (0, 0) the target day only. `forms`
    are the codes of the forms due at the visit: built-in forms
    (`trials.forms.codes.FORM_CODES`) or forms the file's `forms:` section defines.
    `screening: true` marks a screening visit: screening visits, and only they, come before
    day 1, with their whole window before baseline; every other visit's window opens on day 1
    or later. Visits are listed in the order of their days, one visit per day.

    A visit the file schedules by dosing cycle (`cycle: K, day: D`: day D of cycle K) keeps
    `cycle` = K so that the export writes it back that way; `day` is still the study day it
    resolves to, so nothing downstream needs to know about cycles.
    """

    code: str
    name: str
    day: int
    window: tuple[int, int]
    forms: tuple[str, ...]
    screening: bool = False
    cycle: int | None = None


@dataclass(frozen=True)
class ReminderSpec:
    """A reminder rule: on `event`, notify the members holding the `notify` roles.

    At most one lead time is set: `before_days` / `before_hours` before the due point
    (window opening, dose day, report deadline), `after_days` after it (visit overdue, AE
    not reviewed). None of them means at the event itself (e.g. phq9_self_harm).
    """

    event: str
    notify: tuple[str, ...]
    before_days: int | None = None
    after_days: int | None = None
    before_hours: int | None = None


@dataclass(frozen=True)
class ProtocolSpec:
    """A whole protocol version, as read from (and written to) a protocol file."""

    study: StudySpec
    version: VersionSpec
    sites: tuple[SiteSpec, ...]
    arms: tuple[ArmSpec, ...]
    strata: tuple[StratumSpec, ...]
    eligibility: tuple[CriterionSpec, ...]
    dosing: DosingSpec
    visits: tuple[VisitSpec, ...]
    reminders: tuple[ReminderSpec, ...]
    #: Forms the protocol defines as data (`trials.forms.spec`); optional in the file.
    forms: tuple[FormSpec, ...] = ()


# ---------------------------------------------------------------------------------------------
# Reading: one function per mapping of the file, each (reader, node, path) -> spec or None.
# Field by field, `Fields.get` reads a value or records why not; a spec is returned only when
# nothing was refused while reading it (`_built`).


def _built(r: NodeReader, before: int, spec):
    return spec if r.count() == before else None


def _study(r: NodeReader, node: Node, path: str) -> StudySpec | None:
    before = r.count()
    f = r.mapping(node, path, ("code", "title", "phase", "blinding"), ("sponsor", "registry_id"))
    if f is None:
        return None
    spec = StudySpec(
        code=f.get("code", r.code),
        title=f.get("title", r.text),
        phase=f.get("phase", r.text),
        blinding=f.get("blinding", r.choice, choices=BLINDINGS, what="blinding"),
        sponsor=f.get("sponsor", r.text, "", allow_blank=True),
        registry_id=f.get("registry_id", r.text, "", allow_blank=True),
    )
    return _built(r, before, spec)


def _version(
    r: NodeReader, node: Node, path: str, *, form_codes: frozenset[str] = FORM_CODES
) -> VersionSpec | None:
    before = r.count()
    f = r.mapping(
        node, path, ("label", "effective"), ("screening_number_pattern", "blinded_results")
    )
    if f is None:
        return None
    spec = VersionSpec(
        label=f.get("label", r.text),
        effective=f.get("effective", r.calendar_date),
        screening_number_pattern=f.get(
            "screening_number_pattern",
            lambda n, p: _pattern(r, n, p),
            DEFAULT_SCREENING_NUMBER_PATTERN,
        ),
        blinded_results=f.get(
            "blinded_results", r.unique_texts, (), choices=form_codes, what="form"
        ),
    )
    return _built(r, before, spec)


def _pattern(r: NodeReader, node: Node, path: str) -> str | None:
    value = r.text(node, path)
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error as exc:
        r.refuse(node, path, f"'{value}' is not a regular expression ({exc})")
        return None
    return value


def _site(r: NodeReader, node: Node, path: str) -> SiteSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("code", "name", "timezone"))
    if f is None:
        return None
    spec = SiteSpec(f.get("code", r.code), f.get("name", r.text), f.get("timezone", r.timezone))
    return _built(r, before, spec)


def _arm(r: NodeReader, node: Node, path: str) -> ArmSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("code", "name", "ratio"), ("placebo",))
    if f is None:
        return None
    spec = ArmSpec(
        code=f.get("code", r.code),
        name=f.get("name", r.text),
        ratio=f.get("ratio", r.integer, minimum=1),
        placebo=f.get("placebo", r.boolean, False),
    )
    return _built(r, before, spec)


def _stratum(r: NodeReader, node: Node, path: str) -> StratumSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("code", "name"))
    if f is None:
        return None
    return _built(r, before, StratumSpec(f.get("code", r.code), f.get("name", r.text)))


def _criterion(r: NodeReader, node: Node, path: str) -> CriterionSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("id", "kind", "text"), ("type", "min", "max"))
    if f is None:
        return None
    answer = f.get("type", r.choice, "boolean", choices=CRITERION_TYPES, what="criterion type")
    low, high = f.get("min", r.decimal), f.get("max", r.decimal)
    check_criterion_answer(r, f, answer, low, high)
    spec = CriterionSpec(
        id=f.get("id", r.code),
        kind=f.get("kind", r.choice, choices=CRITERION_KINDS, what="criterion kind"),
        text=f.get("text", r.text),
        type=answer,
        min=low,
        max=high,
    )
    return _built(r, before, spec)


def _cycles(r: NodeReader, node: Node, path: str) -> CycleSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("count", "dosing_weeks", "rest_weeks"))
    if f is None:
        return None
    spec = CycleSpec(
        count=f.get("count", r.integer, minimum=1),
        dosing_weeks=f.get("dosing_weeks", r.integer, minimum=1),
        rest_weeks=f.get("rest_weeks", r.integer, minimum=1),
    )
    return _built(r, before, spec)


def _phase(
    r: NodeReader, node: Node, path: str, *, arms: dict[str, bool] | None = None
) -> PhaseSpec | None:
    """One phase; `arms` maps the file's arm codes to whether the arm is a placebo."""
    before = r.count()
    f = r.mapping(
        node,
        path,
        ("name", "weeks", "dose", "unit", "route"),
        ("arm", "per", "round_to", *DOSING_PATTERNS, "cycles", "resize"),
    )
    if f is None:
        return None
    weeks = f.get("weeks", r.integer_pair)
    per_week = f.get("days_per_week", r.integer)
    arm = f.get("arm", r.code)
    dose = f.get("dose", r.decimal)
    if arm is not None and arms is not None and arm not in arms:
        known = ", ".join(arms) or "none"
        r.refuse(f.node("arm"), f.path_of("arm"), f"unknown arm '{arm}' (known: {known})")
    else:  # with an unknown arm, whether 0 is allowed cannot be told
        check_phase_dose(r, f, dose, placebo=bool(arms and arm and arms.get(arm)))
    per = f.get("per", r.choice, choices=BODY_SIZE_BASES, what="body-size basis")
    round_to = f.get("round_to", r.decimal, positive=True)
    cycles = f.get("cycles", partial(_cycles, r))
    check_phase_schedule(r, f, weeks, per_week, cycles)
    spec = PhaseSpec(
        name=f.get("name", r.text),
        weeks=weeks,
        dose=dose,
        unit=f.get("unit", r.text),
        route=f.get("route", r.text),
        arm=arm,
        per=per,
        round_to=round_to,
        days_per_week=per_week,
        days=f.get("days", r.days_of_week),
        weekdays=f.get("weekdays", r.weekdays),
        every_days=f.get("every_days", r.integer, minimum=1),
        every_weeks=f.get("every_weeks", r.integer, minimum=1),
        cycles=cycles,
        resize=f.get("resize", r.choice, choices=RESIZE_RULES, what="resize rule"),
    )
    return _built(r, before, spec)


def _dosing(
    r: NodeReader,
    node: Node,
    path: str,
    *,
    arms: dict[str, bool] | None = None,
    blinded: bool = False,
) -> DosingSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("drug", "phases"), ("dose_levels",))
    if f is None:
        return None
    drug = f.get("drug", r.text)
    entries = r.entries(f, "phases", partial(_phase, arms=arms))
    refuse_duplicate_phase_names(r, entries)
    refuse_overlapping_phases(r, entries)
    if blinded and arms:
        refuse_unblinding_schedules(r, entries, tuple(arms))
    spec = DosingSpec(
        drug=drug,
        phases=tuple(spec for spec, _, _ in entries),
        dose_levels=f.get("dose_levels", r.dose_levels, ()),
    )
    return _built(r, before, spec)


#: The cycle schedule of a file whose dosing could not be read: its cycle visits are not
#: placed (the dosing's own problems are reported).
_UNREAD = object()


def _visit(
    r: NodeReader,
    node: Node,
    path: str,
    *,
    form_codes: frozenset[str] = FORM_CODES,
    cycles=None,
) -> VisitSpec | None:
    """One visit; `cycles` is the dosing's `cycle_schedule` (None without cycles), the
    phases' disagreement as text, or `_UNREAD`."""
    before = r.count()
    f = r.mapping(node, path, ("code", "name", "day", "window", "forms"), ("screening", "cycle"))
    if f is None:
        return None
    day, window = f.get("day", r.integer), f.get("window", r.integer_pair)
    screening = f.get("screening", r.boolean, False)
    cycle = f.get("cycle", r.integer, minimum=1)
    if f.node("cycle") is not None:
        day = _day_of_cycle(r, f, cycle, day, cycles)
        if day is None:
            return None
    check_visit_timing(r, f, day, window, screening)
    spec = VisitSpec(
        code=f.get("code", r.code),
        name=f.get("name", r.text),
        day=day,
        window=window,
        forms=f.get("forms", r.unique_texts, choices=form_codes, what="form"),
        screening=screening,
        cycle=cycle,
    )
    return _built(r, before, spec)


def _day_of_cycle(r: NodeReader, f, cycle: int | None, day: int | None, cycles) -> int | None:
    """The study day of a visit written `cycle: K, day: D`, or None when it cannot be told
    (refused here, or already refused: the cycle, the day or the dosing)."""
    if cycle is None or day is None or cycles is _UNREAD:
        return None
    if cycles is None:
        message = "a visit by cycle needs a dosing phase in cycles: the dosing has none"
        r.refuse(f.node("cycle"), f.path_of("cycle"), message)
        return None
    if isinstance(cycles, str):
        message = (
            "a visit by cycle needs one cycle schedule, but the dosing's phases in cycles "
            f"disagree ({cycles})"
        )
        r.refuse(f.node("cycle"), f.path_of("cycle"), message)
        return None
    starts, length = cycles
    placed = True
    if cycle > len(starts):
        count = f"{len(starts)} cycle" + ("s" if len(starts) > 1 else "")
        r.refuse(f.node("cycle"), f.path_of("cycle"), f"cycle {cycle}: the dosing has {count}")
        placed = False
    if not 1 <= day <= length:
        message = f"day {day} of a cycle: a cycle's days are 1 to {length}"
        r.refuse(f.node("day"), f.path_of("day"), message)
        placed = False
    return cycle_study_day(cycles, cycle, day) if placed else None


def _reminder(r: NodeReader, node: Node, path: str) -> ReminderSpec | None:
    before = r.count()
    leads = ("before_days", "after_days", "before_hours")
    f = r.mapping(node, path, ("event", "notify"), leads)
    if f is None:
        return None
    check_lead_times(r, f, leads)
    spec = ReminderSpec(
        event=f.get("event", r.choice, choices=REMINDER_EVENTS, what="reminder event"),
        notify=f.get("notify", r.unique_texts, choices=ROLES, what="role", non_empty=True),
        before_days=f.get("before_days", r.integer, minimum=0),
        after_days=f.get("after_days", r.integer, minimum=0),
        before_hours=f.get("before_hours", r.integer, minimum=0),
    )
    return _built(r, before, spec)


_TOP_REQUIRED = (
    "study",
    "version",
    "sites",
    "arms",
    "eligibility",
    "dosing",
    "visits",
    "reminders",
)
# (key, build, code attribute checked for duplicates, what the code is called, must be non-empty)
_LISTS = (
    ("sites", _site, "code", "site code", True),
    ("arms", _arm, "code", "arm code", True),
    ("strata", _stratum, "code", "stratum code", False),
    ("eligibility", _criterion, "id", "criterion id", True),
    ("visits", _visit, "code", "visit code", True),
    ("reminders", _reminder, None, None, False),
)


def _protocol(r: NodeReader, root: Node) -> ProtocolSpec | None:
    f = r.mapping(root, "", _TOP_REQUIRED, ("strata", "forms"))
    if f is None:
        return None
    builtin = frozenset(FORM_CODES)
    form_entries = r.entries(f, "forms", partial(read_form, builtin=builtin), non_empty=False)
    r.refuse_duplicates(form_entries, "code", "form code")
    # A visit may schedule a form the file defines, even one refused for another reason
    # (its own problems are reported; "unknown form" on top of them would only mislead).
    defined = {
        node.value
        for _, item, _ in form_entries
        if (node := value_node(item, "code")) is not None and isinstance(node.value, str)
    }
    lists = {"forms": tuple(spec for spec, _, _ in form_entries)}
    # Phases name arms: read them from the nodes, so that an arm refused for another reason
    # does not add "unknown arm" to its phases' problems.
    arms_node = f.node("arms")
    arms = {
        node.value: scalar_value(value_node(item, "placebo")) is True
        for item in (arms_node.value if isinstance(arms_node, SequenceNode) else ())
        if (node := value_node(item, "code")) is not None and isinstance(node.value, str)
    }
    blinding = scalar_value(value_node(f.node("study"), "blinding"))
    dosing = partial(_dosing, arms=arms, blinded=blinding in ("single", "double"))
    # The dosing is read before the visits, which may be scheduled by its cycles.
    sections = {
        key: None if f.node(key) is None else build(r, f.node(key), key)
        for key, build in (
            ("study", _study),
            ("version", partial(_version, form_codes=builtin | defined)),
            ("dosing", dosing),
        )
    }
    cycles = _UNREAD
    if sections["dosing"] is not None:
        try:
            cycles = cycle_schedule(sections["dosing"].phases)
        except ValueError as disagreement:
            cycles = str(disagreement)
    for key, build, attr, what, non_empty in _LISTS:
        if key == "visits":
            build = partial(build, form_codes=builtin | defined, cycles=cycles)
        entries = r.entries(f, key, build, non_empty=non_empty)
        if attr is not None:
            r.refuse_duplicates(entries, attr, what)
        if key == "visits":
            refuse_inconsistent_visit_days(r, entries)
        lists[key] = tuple(spec for spec, _, _ in entries)
    if sections["dosing"] is not None:
        _refuse_body_size_without_vitals(r, f.node("dosing"), sections["dosing"], lists)
    spec = ProtocolSpec(**sections, **lists)
    return None if r.problems else spec


def _refuse_body_size_without_vitals(r: NodeReader, node: Node, dosing, lists: dict) -> None:
    """A dose by body size is sized from the baseline VITALS (`trials.forms.codes`): the file
    must define that form with a numeric weight (and, per m², height) and schedule it at a
    visit on or before day 1, or no participant's dose could ever be set."""
    bases = {phase.per for phase in dosing.phases if phase.per}
    if not bases:
        return
    needed = [BODY_WEIGHT, *([BODY_HEIGHT] if "m2" in bases else [])]
    vitals = next((form for form in lists["forms"] if form.code == VITALS), None)
    numeric = (ItemType.DECIMAL, ItemType.INTEGER)
    has_items = vitals is not None and all(
        (item := vitals.item(code)) is not None and item.type in numeric and not item.calc
        for code in needed
    )
    at_baseline = any(VITALS in visit.forms and visit.day <= 1 for visit in lists["visits"])
    if not (has_items and at_baseline):
        r.refuse(
            node,
            "dosing",
            f"a dose by body size needs the form {VITALS} with the numeric items "
            f"{' and '.join(needed)} (kg, cm), scheduled at a visit on or before day 1",
        )


def parse_protocol(text: str, *, source: str = "<protocol>") -> ProtocolSpec:
    """Read a protocol file, or raise `ProtocolFileError` listing every problem in it.

    `source` (usually the file name) only prefixes the problems in the error's text.
    """
    too_deep = refuse_deep_nesting(text)
    if too_deep is not None:
        raise ProtocolFileError([too_deep], source=source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        problem = ProtocolProblem(None if mark is None else mark.line + 1, "", message)
        raise ProtocolFileError([problem], source=source) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in a file
        line = text.count("\n", 0, exc.position) + 1
        message = f"not valid YAML: character {exc.character!r} is not allowed ({exc.reason})"
        raise ProtocolFileError([ProtocolProblem(line, "", message)], source=source) from None
    if root is None:
        problem = ProtocolProblem(None, "", "the file is empty: expected a protocol mapping")
        raise ProtocolFileError([problem], source=source)
    reader = NodeReader()
    spec = _protocol(reader, root)
    if spec is None:
        raise ProtocolFileError(reader.problems, source=source)
    return spec


# ---------------------------------------------------------------------------------------------
# Writing: plain dicts and lists in the file's key order, short mappings in flow style.


class _FlowMap(dict):
    """A mapping written on one line, `{code: W0, day: 1}`, like the entries of the file."""


class _FlowList(list):
    """A list of scalars written on one line, `[RPDAI, TREG]`."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True  # a protocol file never uses anchors, even for a repeated value


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")  # never an exponent: "1E+1" would read back as a string
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML may write a line break other than \n inside single quotes, where reading folds
    # it into a space; double quotes escape every break, so the text reads back unchanged.
    style = '"' if any(ch in value for ch in "\n\r\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(
    _FlowMap, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def _entry(spec) -> _FlowMap:
    """One spec as a flow mapping in field order, leaving out fields at their default."""
    entry = _FlowMap()
    for field in fields(spec):
        value = getattr(spec, field.name)
        if value != field.default:  # a required field's default is MISSING: never equal
            if isinstance(value, tuple):
                value = _FlowList(value)
            elif is_dataclass(value):
                value = _entry(value)
            entry[field.name] = value
    return entry


def cycle_days(spec: ProtocolSpec) -> list[int | None]:
    """Each visit's day of its cycle, for a visit the file schedules by cycle; None for a
    visit by study day, and for one whose study day no longer lies in its cycle (its day or
    the dosing edited in the admin of a draft: such a visit is written by study day)."""
    cycles = None
    if any(visit.cycle for visit in spec.visits):
        try:
            cycles = cycle_schedule(spec.dosing.phases)
        except ValueError:  # phases that disagree on their cycles, in a draft
            cycles = None
    return [
        None
        if visit.cycle is None or cycles is None
        else day_of_cycle(cycles, visit.cycle, visit.day)
        for visit in spec.visits
    ]


def _visit_entry(visit: VisitSpec, cycle_day: int | None) -> _FlowMap:
    """A visit as written: by study day, or `cycle: K, day: D` (day D of cycle K)."""
    entry = _entry(visit)
    entry.pop("cycle", None)
    if cycle_day is None:
        return entry
    written = _FlowMap()
    for key, value in entry.items():
        if key == "day":
            written["cycle"] = visit.cycle
            written["day"] = cycle_day
        else:
            written[key] = value
    return written


def _form_document(form: FormSpec) -> dict:
    """A form in block style, its items, groups' items and checks one flow line each."""
    data = form_to_data(form)
    for key in ("items", "checks"):
        if key in data:
            data[key] = [_FlowMap(entry) for entry in data[key]]
    for group in data.get("groups", ()):
        group["items"] = [_FlowMap(item) for item in group["items"]]
        if "key" in group:
            group["key"] = _FlowList(group["key"])
    return data


def dump_protocol(spec: ProtocolSpec) -> str:
    """The protocol file for `spec`, in the shape `parse_protocol` reads.

    Optional keys at their defaults (no sponsor, not placebo, a yes/no criterion, no
    strata) are left out, so a file exported after import reads like the one imported.
    """
    document = {
        "study": _entry(spec.study),
        "version": _entry(spec.version),
        "sites": [_entry(site) for site in spec.sites],
        "arms": [_entry(arm) for arm in spec.arms],
    }
    if spec.strata:
        document["strata"] = [_entry(stratum) for stratum in spec.strata]
    document["eligibility"] = [_entry(criterion) for criterion in spec.eligibility]
    document["dosing"] = {"drug": spec.dosing.drug}
    if spec.dosing.dose_levels:
        document["dosing"]["dose_levels"] = _FlowList(spec.dosing.dose_levels)
    document["dosing"]["phases"] = [_entry(phase) for phase in spec.dosing.phases]
    if spec.forms:
        document["forms"] = [_form_document(form) for form in spec.forms]
    document["visits"] = [
        _visit_entry(visit, day) for visit, day in zip(spec.visits, cycle_days(spec), strict=True)
    ]
    document["reminders"] = [_entry(reminder) for reminder in spec.reminders]
    return _dump(document)


def dump_forms(forms) -> str:
    """Forms as a protocol file's `forms:` section, written as `dump_protocol` writes it (what
    the REDCap import gives an admin to paste into the next version's file)."""
    return _dump({"forms": [_form_document(form) for form in forms]})


def _dump(document: dict) -> str:
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
