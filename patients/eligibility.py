"""The eligibility verdict, computed from the answers to the protocol's criteria.

Eligible = every inclusion criterion met and no exclusion criterion present. A yes/no
inclusion is met by "yes"; a yes/no exclusion is present when "yes". A numeric criterion
(e.g. "Age (years)", min 18) is met when the number is within its bounds; as an exclusion
it is present when within them. The verdict lists the failing criteria by code.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from trials.models import AnswerType, CriterionKind, EligibilityCriterion


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    failed: tuple[str, ...]


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
        if criterion.answer_type == AnswerType.NUMBER:
            holds = _within(criterion, Decimal(str(answer)))
        else:
            holds = bool(answer)
        met = holds if criterion.kind == CriterionKind.INCLUSION else not holds
        if not met:
            failed.append(criterion.code)
    return Verdict(eligible=not failed, failed=tuple(failed))
