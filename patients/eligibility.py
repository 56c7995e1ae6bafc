"""The eligibility verdict, computed from the answers to the protocol's criteria.

Eligible = every inclusion criterion met and no exclusion criterion present. A yes/no
inclusion is met by "yes"; a yes/no exclusion is present when "yes". A numeric criterion
(e.g. "Age (years)", min 18) is met when the number is within its bounds; as an exclusion
it is present when within them. The verdict lists the failing criteria by code.

The age criterion (`type: age` in the protocol file, a number with bounds) is not a free
answer: the age follows from the year of birth and the assessment date, so it
is derived (`with_derived_age`) and a typed age that the year of birth rules out is
refused. Only the year is recorded, so the age on a day is one of two values (before or
after that year's birthday); either may be typed, and left blank the age is derived when
both give the same verdict.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from trials.models import AnswerType, CriterionKind, EligibilityCriterion


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    failed: tuple[str, ...]


def is_age_criterion(criterion: EligibilityCriterion) -> bool:
    return criterion.answer_type == AnswerType.AGE


def possible_ages(year_of_birth: int, on: date) -> tuple[int, int]:
    """The age on `on`: before this year's birthday, and from it."""
    return on.year - year_of_birth - 1, on.year - year_of_birth


def derived_age(criterion: EligibilityCriterion, year_of_birth: int, on: date) -> int | None:
    """The age to answer with, or None when the birthday decides the verdict."""
    before, after = possible_ages(year_of_birth, on)
    if _within(criterion, Decimal(before)) != _within(criterion, Decimal(after)):
        return None
    return after


def with_derived_age(
    criteria: list[EligibilityCriterion], raw: dict, *, year_of_birth: int, on: date
) -> tuple[dict, dict]:
    """(answers, errors): the age criterion answered from the year of birth, or refused."""
    answers, errors = dict(raw), {}
    for criterion in criteria:
        if not is_age_criterion(criterion):
            continue
        before, after = possible_ages(year_of_birth, on)
        facts = {"year": year_of_birth, "date": on.isoformat(), "before": before, "after": after}
        value = raw.get(criterion.code)
        if value is None or value == "":
            age = derived_age(criterion, year_of_birth, on)
            if age is None:
                errors[criterion.code] = [
                    _(
                        "Born in %(year)s, the participant is %(before)s or %(after)s on "
                        "%(date)s: enter the age."
                    )
                    % facts
                ]
            else:
                answers[criterion.code] = age
            continue
        try:
            typed = Decimal(str(value).strip())
        except InvalidOperation:
            continue  # not a number: `clean_answers` says so
        if typed.is_finite() and typed not in (before, after):
            errors[criterion.code] = [
                _(
                    "Born in %(year)s, the participant is %(before)s or %(after)s on %(date)s, "
                    "not %(typed)s."
                )
                % {**facts, "typed": value}
            ]
    return answers, errors


def clean_answers(criteria: list[EligibilityCriterion], raw: dict) -> tuple[dict, dict]:
    """(answers, errors): answers as JSON-ready values; errors keyed by criterion code."""
    answers, errors = {}, {}
    for criterion in criteria:
        value = raw.get(criterion.code)
        if value is None or value == "":
            errors[criterion.code] = [_("Answer this criterion.")]
            continue
        if criterion.answer_type == AnswerType.BOOLEAN:
            parsed = _boolean(value)
            if parsed is None:
                errors[criterion.code] = [_("Answer yes or no.")]
            else:
                answers[criterion.code] = parsed
        else:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                errors[criterion.code] = [_("Enter a number.")]
                continue
            if not number.is_finite():
                errors[criterion.code] = [_("Enter a number.")]
                continue
            answers[criterion.code] = int(number) if number == number.to_integral() else str(number)
    unknown = set(raw) - {c.code for c in criteria}
    if unknown:
        errors["__all__"] = [
            _("Unknown criteria: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}
        ]
    return answers, errors


def _boolean(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "y"}:
        return True
    if text in {"no", "false", "0", "n"}:
        return False
    return None


def _within(criterion: EligibilityCriterion, number: Decimal) -> bool:
    if criterion.min_value is not None and number < criterion.min_value:
        return False
    return criterion.max_value is None or number <= criterion.max_value


def verdict(criteria: list[EligibilityCriterion], answers: dict) -> Verdict:
    failed = []
    for criterion in criteria:
        answer = answers[criterion.code]
        if criterion.answer_type != AnswerType.BOOLEAN:  # a number or an age
            holds = _within(criterion, Decimal(str(answer)))
        else:
            holds = bool(answer)
        met = holds if criterion.kind == CriterionKind.INCLUSION else not holds
        if not met:
            failed.append(criterion.code)
    return Verdict(eligible=not failed, failed=tuple(failed))
