"""Reading a composed YAML protocol file node by node, collecting every problem with its line.

`trials.protocol_file` defines the protocol dataclasses and reads each mapping of the file
into them; this module holds what that reading needs and does not import the dataclasses:
the problem and error types, the vocabularies a file may use, `NodeReader` (which turns YAML
nodes into typed values or records why it cannot) and the rules that involve more than one
value. Working on nodes (from `yaml.compose`) rather than on loaded Python values is what
gives every problem the line it sits on, and reading the whole file before refusing it is
what lets an admin fix all the problems of an import in one pass.

A reader method either returns a good value or records a problem and returns None. Callers
compare `reader.count()` before and after reading an item to know whether it is usable; a
protocol is only assembled when no problem at all was recorded, so nothing partial escapes.
"""

import difflib
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trials.dosing import WEEKDAYS

BLINDINGS = ("open", "single", "double")
CRITERION_KINDS = ("inclusion", "exclusion")
CRITERION_TYPES = ("boolean", "number", "age")
# The events the reminder sweep knows how to compute, and the membership roles it can notify
# (the values of `trials.models.study.Role`; a test keeps the two in step).
REMINDER_EVENTS = (
    "visit_window_opens",
    "visit_overdue",
    "dose_due",
    "sae_report_due",
    "ae_unreviewed",
    "phq9_self_harm",
)
ROLES = ("coordinator", "investigator", "monitor", "study_admin")

# Codes end up in URLs, exports (SDTM, ODM OIDs) and file names: letters, digits, _ and -.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]+")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_KIND_OF_TAG = {
    _STR: "a string",
    _INT: "an integer",
    _FLOAT: "a decimal number",
    _BOOL: "a boolean",
    _NULL: "null",
    _TIMESTAMP: "a date",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: A protocol file nests five levels at most (dosing > phases > a phase > its days); far
#: deeper nesting is refused before composing, whose recursion it would otherwise exhaust.
MAX_NESTING = 20


@dataclass(frozen=True)
class ProtocolProblem:
    """One reason a protocol file is refused.

    `line` is 1-based (None only when there is no line to point at); `path` names the place
    in the document, e.g. `visits[1].window` with 0-based list indexes; "" is the document.
    """

    line: int | None
    path: str
    message: str

    def format(self, source: str) -> str:
        where = source if self.line is None else f"{source}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ProtocolFileError(ValueError):
    """A protocol file was refused; `errors` lists every problem found, in file order."""

    def __init__(self, errors: list[ProtocolProblem], *, source: str = "<protocol>"):
        self.errors = sorted(errors, key=lambda p: (p.line is None, p.line or 0))
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(problem.format(self.source) for problem in self.errors)


def refuse_deep_nesting(text: str) -> ProtocolProblem | None:
    """The problem with a file nested deeper than `MAX_NESTING`, else None.

    Read from the parser's event stream, which is iterative, so that a hostile file cannot
    raise a RecursionError (yaml.compose builds nodes recursively). Syntax errors are left
    to the composer, which reports them with their context.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    message = (
                        f"the file is nested more than {MAX_NESTING} levels deep: "
                        "a protocol file never is"
                    )
                    return ProtocolProblem(event.start_mark.line + 1, "", message)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _describe(node: Node) -> str:
    """What a node holds, for messages like "must be an integer, got a string 'one'"."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = _KIND_OF_TAG.get(node.tag, f"a value tagged {node.tag}")
    return kind if node.tag == _NULL else f"{kind} {node.value!r}"


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Fields:
    """The value nodes of one mapping by key, with the path each problem should name."""

    def __init__(self, node: MappingNode, values: dict[str, Node], path: str):
        self.mapping_node = node
        self.values = values
        self.path = path

    def node(self, key: str) -> Node | None:
        return self.values.get(key)

    def path_of(self, key: str) -> str:
        return join(self.path, key)

    def get(self, key: str, read, default=None, **options):
        """`read(node, path, **options)` for the key's node, or `default` when it is absent."""
        node = self.values.get(key)
        return default if node is None else read(node, self.path_of(key), **options)


class NodeReader:
    """Typed access to composed YAML nodes; every refusal is recorded with its line."""

    def __init__(self) -> None:
        self.problems: list[ProtocolProblem] = []
        self._scalars = yaml.constructor.SafeConstructor()

    def count(self) -> int:
        return len(self.problems)

    def refuse(self, node: Node | None, path: str, message: str) -> None:
        line = None if node is None else node.start_mark.line + 1
        self.problems.append(ProtocolProblem(line, path, message))

    def mapping(
        self, node: Node, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Fields | None:
        """The mapping's value nodes by key, refusing unknown, repeated and missing keys.

        Returns None only when the node is not a mapping; a mapping with bad keys still
        returns its good keys, so the problems inside their values are reported too.
        """
        if not isinstance(node, MappingNode):
            self.refuse(node, path, f"must be a mapping, got {_describe(node)}")
            return None
        allowed = required + optional
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in allowed:
                shown = f"'{key}'" if key is not None else _describe(key_node)
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.75)
                hint = f"did you mean '{close[0]}'? " if close else ""
                message = f"unknown key {shown} ({hint}allowed: {', '.join(allowed)})"
                self.refuse(key_node, path, message)
            elif key in found:
                self.refuse(key_node, path, f"duplicate key '{key}'")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.refuse(node, path, f"missing required key '{key}'")
        return Fields(node, found, path)

    def sequence(self, node: Node, path: str, *, non_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.refuse(node, path, f"must be a list, got {_describe(node)}")
            return None
        if non_empty and not node.value:
            self.refuse(node, path, "must list at least one entry")
            return None
        return list(node.value)

    def _scalar(self, node: Node, path: str, tags: tuple[str, ...], wanted: str):
        if isinstance(node, ScalarNode) and node.tag in tags:
            return self._scalars.construct_object(node)
        hint = ""
        if wanted == "a string" and isinstance(node, ScalarNode):
            hint = f' (quote it: "{node.value}")'
        self.refuse(node, path, f"must be {wanted}, got {_describe(node)}{hint}")
        return None

    def text(self, node: Node, path: str, *, allow_blank: bool = False) -> str | None:
        value = self._scalar(node, path, (_STR,), "a string")
        if value is not None and not allow_blank and not value.strip():
            self.refuse(node, path, "must not be empty")
            return None
        return value

    def code(self, node: Node, path: str) -> str | None:
        value = self.text(node, path)
        if value is not None and not CODE_PATTERN.fullmatch(value):
            self.refuse(node, path, f"'{value}' is not a code (use letters, digits, _ and -)")
            return None
        return value

    def choice(self, node: Node, path: str, *, choices: tuple[str, ...], what: str) -> str | None:
        value = self.text(node, path)
        if value is not None and value not in choices:
            self.refuse(node, path, f"unknown {what} '{value}' (known: {', '.join(choices)})")
            return None
        return value

    def timezone(self, node: Node, path: str) -> str | None:
        value = self.text(node, path)
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.refuse(node, path, f"'{value}' is not an IANA time zone (e.g. Europe/Rome)")
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        return self._scalar(node, path, (_BOOL,), "true or false")

    def integer(self, node: Node, path: str, *, minimum: int | None = None) -> int | None:
        value = self._scalar(node, path, (_INT,), "an integer")
        if value is not None and minimum is not None and value < minimum:
            self.refuse(node, path, f"must be at least {minimum}, got {value}")
            return None
        return value

    def decimal(self, node: Node, path: str, *, positive: bool = False) -> Decimal | None:
        """A number kept exact: read from the scalar's text, never through a float."""
        if not (isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT)):
            self.refuse(node, path, f"must be a number, got {_describe(node)}")
            return None
        try:
            if node.tag == _INT:
                value = Decimal(self._scalars.construct_object(node))
            else:
                value = Decimal(node.value.replace("_", ""))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.refuse(node, path, f"must be a finite decimal number, got {node.value!r}")
            return None
        if positive and value <= 0:
            self.refuse(node, path, f"must be greater than 0, got {node.value}")
            return None
        return value

    def calendar_date(self, node: Node, path: str) -> date | None:
        """A date written 2019-11-01 (quoted or not); impossible dates are refused."""
        if not (isinstance(node, ScalarNode) and node.tag in (_TIMESTAMP, _STR)):
            self.refuse(node, path, f"must be a date (YYYY-MM-DD), got {_describe(node)}")
            return None
        if node.tag == _STR and not _ISO_DATE.fullmatch(node.value):
            self.refuse(node, path, f"'{node.value}' is not a valid date (expected YYYY-MM-DD)")
            return None
        try:
            value = self._scalars.construct_yaml_timestamp(node)
        except ValueError as exc:
            self.refuse(node, path, f"'{node.value}' is not a valid date ({exc})")
            return None
        if isinstance(value, datetime):
            self.refuse(node, path, f"'{node.value}' must be a date without a time")
            return None
        return value

    def integer_pair(self, node: Node, path: str) -> tuple[int, int] | None:
        items = self.sequence(node, path)
        if items is None:
            return None
        if len(items) != 2:
            self.refuse(node, path, f"must be a list of two integers, got {len(items)} items")
            return None
        first = self.integer(items[0], f"{path}[0]")
        second = self.integer(items[1], f"{path}[1]")
        return None if first is None or second is None else (first, second)

    def unique_texts(
        self,
        node: Node,
        path: str,
        *,
        choices: tuple[str, ...] | frozenset[str],
        what: str,
        non_empty: bool = False,
    ) -> tuple[str, ...] | None:
        """A list of distinct strings, each one of `choices` (form codes, roles)."""
        items = self.sequence(node, path, non_empty=non_empty)
        if items is None:
            return None
        before = self.count()
        values: list[str] = []
        for index, item in enumerate(items):
            value = self.text(item, f"{path}[{index}]")
            if value is None:
                continue
            if value not in choices:
                known = ", ".join(sorted(choices))
                self.refuse(item, f"{path}[{index}]", f"unknown {what} '{value}' (known: {known})")
            elif value in values:
                self.refuse(item, f"{path}[{index}]", f"{what} '{value}' is listed twice")
            else:
                values.append(value)
        return tuple(values) if self.count() == before else None

    def days_of_week(self, node: Node, path: str) -> tuple[int, ...] | None:
        """Distinct days 1-7 of a week, in the order written."""
        items = self.sequence(node, path, non_empty=True)
        if items is None:
            return None
        before = self.count()
        days: list[int] = []
        for index, item in enumerate(items):
            day = self.integer(item, f"{path}[{index}]")
            if day is not None and not 1 <= day <= 7:
                self.refuse(item, f"{path}[{index}]", f"days of the week are 1 to 7, got {day}")
            elif day is not None and day in days:
                self.refuse(item, f"{path}[{index}]", f"day {day} is listed twice")
            elif day is not None:
                days.append(day)
        return tuple(days) if self.count() == before else None

    def dose_levels(self, node: Node, path: str) -> tuple[Decimal, ...] | None:
        """Distinct amounts greater than 0, level 1 first (a reduction names its level)."""
        items = self.sequence(node, path, non_empty=True)
        if items is None:
            return None
        before = self.count()
        levels: list[Decimal] = []
        for index, item in enumerate(items):
            amount = self.decimal(item, f"{path}[{index}]", positive=True)
            if amount is not None and amount in levels:
                self.refuse(item, f"{path}[{index}]", f"dose level {item.value} is listed twice")
            elif amount is not None:
                levels.append(amount)
        return tuple(levels) if self.count() == before else None

    def weekdays(self, node: Node, path: str) -> tuple[str, ...] | None:
        """Distinct calendar weekdays (`mon` .. `sun`), in the order written."""
        items = self.sequence(node, path, non_empty=True)
        if items is None:
            return None
        before = self.count()
        days: list[str] = []
        for index, item in enumerate(items):
            day = self.text(item, f"{path}[{index}]")
            if day is not None and day not in WEEKDAYS:
                message = f"unknown weekday '{day}' (known: {', '.join(WEEKDAYS)})"
                self.refuse(item, f"{path}[{index}]", message)
            elif day is not None and day in days:
                self.refuse(item, f"{path}[{index}]", f"weekday '{day}' is listed twice")
            elif day is not None:
                days.append(day)
        return tuple(days) if self.count() == before else None

    def entries(self, fields: Fields, key: str, build, *, non_empty: bool = True) -> list:
        """`build(reader, node, path)` for each entry of the list under `key`.

        Returns [(spec or None, entry node, entry path)]: the nodes stay with the specs so
        that rules across entries (duplicates, overlaps) can point at the right line.
        """
        node = fields.node(key)
        items = (
            None if node is None else self.sequence(node, fields.path_of(key), non_empty=non_empty)
        )
        entries = []
        for index, item in enumerate(items or []):
            path = f"{fields.path_of(key)}[{index}]"
            entries.append((build(self, item, path), item, path))
        return entries

    def refuse_duplicates(self, entries: list, key: str, what: str) -> None:
        """Refuse an entry whose `key` repeats an earlier entry's (the line of the first is
        given). Read from the nodes, so an entry refused for another reason still counts."""
        first_line: dict[str, int] = {}
        for _, item, path in entries:
            node = value_node(item, key)
            if node is None or node.tag != _STR:
                continue
            if node.value in first_line:
                message = (
                    f"duplicate {what} '{node.value}' (first on line {first_line[node.value]})"
                )
                self.refuse(node, join(path, key), message)
            else:
                first_line[node.value] = node.start_mark.line + 1


def scalar_value(node: Node | None):
    """The Python value of a scalar node (None for anything else), read as YAML reads it."""
    if not isinstance(node, ScalarNode):
        return None
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except yaml.YAMLError:
        return None


def value_node(item: Node, key: str) -> Node | None:
    """The value node under `key` in a mapping node, if it has one."""
    if isinstance(item, MappingNode):
        for key_node, node in item.value:
            if key_node.value == key:
                return node
    return None


# ---------------------------------------------------------------------------------------------
# The protocol's rules that involve more than one value. Each gets the mapping's `Fields` and
# the values already read (None when unreadable, in which case the rule has nothing to say).


def check_criterion_answer(r: NodeReader, f: Fields, answer, low, high) -> None:
    """min / max belong to numeric (and age) criteria only, which need at least one of them."""
    if answer == "boolean":
        for key in ("min", "max"):
            if f.node(key) is not None:
                r.refuse(
                    f.node(key), f.path_of(key), f"'{key}' applies only to type: number or age"
                )
    elif answer in ("number", "age") and f.node("min") is None and f.node("max") is None:
        r.refuse(f.mapping_node, f.path, "a numeric criterion needs 'min', 'max' or both")
    if low is not None and high is not None and low > high:
        r.refuse(f.node("max"), f.path_of("max"), f"max {high} is below min {low}")


#: The keys of a phase's dosing pattern, exactly one of which a phase gives.
DOSING_PATTERNS = ("days_per_week", "days", "weekdays", "every_days", "every_weeks")


def check_phase_dose(r: NodeReader, f: Fields, dose, *, placebo: bool) -> None:
    """A dose is more than 0, except in a placebo arm's phase (nothing active is given)."""
    if dose is None or dose > 0 or (placebo and dose == 0):
        return
    message = f"must be greater than 0, got {f.node('dose').value}"
    r.refuse(f.node("dose"), f.path_of("dose"), message)


def check_phase_schedule(r: NodeReader, f: Fields, weeks, days_per_week, cycles) -> None:
    """Weeks run forwards from week 1; a phase doses by exactly one pattern; cycles fill its
    weeks exactly; a dose by body size names its deliverable increment, and only a dose by
    body size in cycles is re-sized each cycle."""
    if weeks is not None and weeks[0] < 1:
        r.refuse(f.node("weeks"), f.path_of("weeks"), f"weeks start at 1, got {weeks[0]}")
        weeks = None
    elif weeks is not None and weeks[1] < weeks[0]:
        message = f"the phase ends (week {weeks[1]}) before it starts (week {weeks[0]})"
        r.refuse(f.node("weeks"), f.path_of("weeks"), message)
        weeks = None
    if days_per_week is not None and not 1 <= days_per_week <= 7:
        message = f"must be 1 to 7, got {days_per_week}"
        r.refuse(f.node("days_per_week"), f.path_of("days_per_week"), message)
    given = [key for key in DOSING_PATTERNS if f.node(key) is not None]
    if len(given) > 1:
        message = f"give one dosing pattern, not several (got {', '.join(given)})"
        r.refuse(f.mapping_node, f.path, message)
    elif not given:
        message = f"missing a dosing pattern: give one of {', '.join(DOSING_PATTERNS)}"
        r.refuse(f.mapping_node, f.path, message)
    if cycles is not None and weeks is not None:
        span = weeks[1] - weeks[0] + 1
        length = cycles.count * (cycles.dosing_weeks + cycles.rest_weeks)
        if span != length:
            message = (
                f"{cycles.count} cycles of {cycles.dosing_weeks} dosing + {cycles.rest_weeks} "
                f"rest weeks last {length} weeks, but the phase's weeks "
                f"{weeks[0]}-{weeks[1]} are {span}"
            )
            r.refuse(f.node("cycles"), f.path_of("cycles"), message)
    if f.node("per") is not None and f.node("round_to") is None:
        message = "a dose per kg or m² needs 'round_to': the deliverable increment, e.g. 0.1"
        r.refuse(f.node("per"), f.path_of("per"), message)
    elif f.node("per") is None and f.node("round_to") is not None:
        message = "'round_to' applies only to a dose by body size (per: kg or per: m2)"
        r.refuse(f.node("round_to"), f.path_of("round_to"), message)
    if f.node("resize") is not None and f.node("per") is None:
        message = "'resize' applies only to a dose by body size (per: kg or per: m2)"
        r.refuse(f.node("resize"), f.path_of("resize"), message)
    elif f.node("resize") is not None and f.node("cycles") is None:
        message = "'resize: each_cycle' needs a phase in cycles ('cycles')"
        r.refuse(f.node("resize"), f.path_of("resize"), message)


def _shares_arm(spec, other) -> bool:
    return spec.arm is None or other.arm is None or spec.arm == other.arm


def refuse_duplicate_phase_names(r: NodeReader, entries: list) -> None:
    """Phase names are unique among the phases a participant can follow: two arms may each
    have an 'induction' (in a blinded study they must, the name being shown to all)."""
    good = [(spec, item, path) for spec, item, path in entries if spec is not None]
    for index, (spec, item, path) in enumerate(good):
        for other, other_item, _ in good[:index]:
            if spec.name == other.name and _shares_arm(spec, other):
                line = other_item.start_mark.line + 1
                message = f"duplicate phase name '{spec.name}' (first on line {line})"
                r.refuse(value_node(item, "name"), join(path, "name"), message)
                break


def refuse_overlapping_phases(r: NodeReader, entries: list) -> None:
    """Two phases a participant can follow may not share a week: a day's dose would be
    ambiguous. Phases of two different arms may (each arm has its own regimen)."""
    good = [(spec, item, path) for spec, item, path in entries if spec is not None]
    for index, (spec, item, path) in enumerate(good):
        for other, _, _ in good[:index]:
            if not _shares_arm(spec, other):
                continue
            if spec.weeks[0] <= other.weeks[1] and other.weeks[0] <= spec.weeks[1]:
                message = (
                    f"weeks {spec.weeks[0]}-{spec.weeks[1]} overlap phase '{other.name}' "
                    f"(weeks {other.weeks[0]}-{other.weeks[1]})"
                )
                r.refuse(value_node(item, "weeks"), join(path, "weeks"), message)


def _schedule(phases) -> list:
    """What a blinded user sees of an arm's phases: everything but the amount."""
    return sorted(
        (
            p.name,
            p.weeks,
            p.unit,
            p.route,
            p.per,
            p.days_per_week,
            p.days,
            p.weekdays,
            p.every_days,
            p.every_weeks,
            p.cycles,
        )
        for p in phases
    )


def refuse_unblinding_schedules(r: NodeReader, entries: list, arms: tuple[str, ...]) -> None:
    """In a blinded study every arm follows the same schedule; only the amount may differ
    (and it is hidden from blinded users), so the calendar cannot reveal the allocation."""
    good = [(spec, item, path) for spec, item, path in entries if spec is not None]
    if len(good) != len(entries) or not any(spec.arm for spec, _, _ in good):
        return
    schedules = {arm: _schedule(s for s, _, _ in good if s.applies_to(arm)) for arm in arms}
    first = arms[0]
    for arm in arms[1:]:
        if schedules[arm] != schedules[first]:
            _spec, item, path = next((e for e in good if e[0].arm in (arm, first)), good[0])
            message = (
                f"in a blinded study every arm follows the same schedule (only the dose may "
                f"differ): arm '{arm}' and arm '{first}' have different phases, days or units"
            )
            r.refuse(value_node(item, "arm") or item, join(path, "arm"), message)
            return


def _day_offset(day: int) -> int:
    """Calendar days from baseline (day 1) to study `day`: CDISC days skip 0."""
    return day - 1 if day > 0 else day


def _study_day(offset: int) -> int:
    return offset + 1 if offset >= 0 else offset


def check_visit_timing(r: NodeReader, f: Fields, day, window, screening) -> None:
    """One visit's day and window, against baseline (day 1).

    CDISC study days have no day 0; a window must contain its own target day. Only a
    screening visit (`screening: true`) comes before day 1, and its whole window lies before
    baseline; every other visit's window opens on day 1 or later, so the two periods never
    mix and a typo such as -57 for 57 cannot pass as a visit two months before baseline.
    """
    if day == 0:
        message = "there is no study day 0: day 1 is baseline, the day before it is day -1"
        r.refuse(f.node("day"), f.path_of("day"), message)
    if window is not None and (window[0] > 0 or window[1] < 0):
        message = (
            f"window [{window[0]}, {window[1]}] does not contain the target day "
            "(write it [days before, days after] with days before <= 0 <= days after)"
        )
        r.refuse(f.node("window"), f.path_of("window"), message)
        window = None
    if day is None or day == 0 or screening is None:
        return
    if screening and day > 0:
        message = (
            f"a screening visit comes before baseline: its day must be -1 or earlier, got {day}"
        )
        r.refuse(f.node("screening"), f.path_of("screening"), message)
    elif not screening and day < 0:
        message = (
            f"day {day} is before baseline (day 1): only a screening visit (screening: true) "
            "comes before day 1"
        )
        r.refuse(f.node("day"), f.path_of("day"), message)
    elif window is not None and screening:
        end = _day_offset(day) + window[1]
        if end >= 0:
            message = (
                "the window of a screening visit must end before baseline (day 1): "
                f"day {day} + {window[1]} reaches day {_study_day(end)}"
            )
            r.refuse(f.node("window"), f.path_of("window"), message)
    elif window is not None:
        start = _day_offset(day) + window[0]
        if start < 0:
            message = (
                "the window of a visit from baseline on must not open before day 1: "
                f"day {day} - {-window[0]} reaches day {_study_day(start)}"
            )
            r.refuse(f.node("window"), f.path_of("window"), message)


def refuse_inconsistent_visit_days(r: NodeReader, entries: list) -> None:
    """Visits are listed in the order of their days, each day holding one visit.

    A calendar generated from the schedule must not depend on how rows happen to sort, and
    two visits on one day are one visit with two sets of forms.
    """
    first: dict[int, tuple[str, int]] = {}
    last: tuple[str, int] | None = None
    for spec, item, path in entries:
        # Read from the nodes, so that a visit refused for another reason is still placed;
        # a visit by cycle (`cycle: K, day: D`) is placed only once resolved to a study day.
        node, code_node = value_node(item, "day"), value_node(item, "code")
        if node is None or node.tag != _INT or code_node is None:
            continue
        if value_node(item, "cycle") is not None:
            if spec is None:
                continue
            day = spec.day
        else:
            day = r._scalars.construct_object(node)
        code = str(code_node.value)
        if day in first:
            first_code, first_line = first[day]
            message = f"day {day} is already the day of visit '{first_code}' (line {first_line})"
            r.refuse(node, join(path, "day"), message)
            continue
        if last is not None and day < last[1]:
            message = (
                f"day {day} comes after visit '{last[0]}' on day {last[1]}: "
                "list visits in the order of their days"
            )
            r.refuse(node, join(path, "day"), message)
        first[day] = (code, node.start_mark.line + 1)
        last = (code, day) if last is None or day > last[1] else last


def check_lead_times(r: NodeReader, f: Fields, leads: tuple[str, ...]) -> None:
    """A reminder is timed one way: before_days, after_days or before_hours, not several."""
    given = [key for key in leads if f.node(key) is not None]
    if len(given) > 1:
        message = f"give at most one of {', '.join(leads)} (got {', '.join(given)})"
        r.refuse(f.mapping_node, f.path, message)
