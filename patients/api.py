"""API v1 for the participant journey (docs/API.md).

Same permissions as the pages: the participant must be visible to the user (404 if not),
the role must allow the write (403), and `arm` is absent for a blinded user.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from signatures.fields import SigningPasswordSerializerField
from trials import access
from trials.models import Site

from . import dose_modifications, services
from .models import ModificationKind, Participant, ParticipantStatus, Sex
from .selectors import get_participant_or_404, may_see_arm, may_see_dose_amounts


def participant_data(user, participant: Participant) -> dict:
    return participant_data_fast(participant, show_arm=may_see_arm(user, participant))


class NewParticipantSerializer(serializers.Serializer):
    site = serializers.CharField()
    screening_number = serializers.CharField(max_length=30)
    year_of_birth = serializers.IntegerField(min_value=1900, max_value=2100)
    sex = serializers.ChoiceField(choices=Sex.choices)
    stratum = serializers.CharField(required=False, allow_null=True, allow_blank=True)


@extend_schema(request=NewParticipantSerializer, responses=dict)
@api_view(["GET", "POST"])
def study_participants(request, code: str):
    study = access.get_study_or_404(request.user, code)
    if request.method == "POST":
        body = NewParticipantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        site = Site.objects.visible_to(request.user).filter(study=study, code=data["site"]).first()
        if site is None:
            raise ValidationError({"site": ["No such site in this study for you."]})
        participant = services.screen(
            study=study,
            site=site,
            screening_number=data["screening_number"],
            year_of_birth=data["year_of_birth"],
            sex=data["sex"],
            stratum_code=data.get("stratum") or None,
            user=request.user,
        )
        return Response(participant_data(request.user, participant), status=201)
    participants = (
        Participant.objects.visible_to(request.user)
        .filter(study=study)
        .select_related("study", "site", "stratum", "protocol_version", "arm")
        .order_by("pk")
    )
    if site := request.query_params.get("site"):
        participants = participants.filter(site__code=site)
    if state := request.query_params.get("status"):
        if state not in ParticipantStatus.values:
            raise ValidationError({"status": [f"Unknown status {state!r}."]})
        participants = participants.filter(status=state)
    blinded = access.is_blinded(request.user, study)
    unblinded_ids = set()
    if blinded:
        unblinded_ids = set(
            participants.filter(unblindings__user=request.user).values_list("pk", flat=True)
        )
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(participants, request)
    rows = [participant_data_fast(p, show_arm=not blinded or p.pk in unblinded_ids) for p in page]
    return paginator.get_paginated_response(rows)


def participant_data_fast(participant: Participant, *, show_arm: bool) -> dict:
    """Like `participant_data` with the blinding decided once per page (no query per row)."""
    data = {
        "id": participant.pk,
        "study": participant.study.code,
        "site": participant.site.code,
        "screening_number": participant.screening_number,
        "subject_id": participant.subject_id,
        "year_of_birth": participant.year_of_birth,
        "sex": participant.sex,
        "stratum": participant.stratum.code if participant.stratum_id else None,
        "status": participant.status,
        "protocol_version": participant.protocol_version.label,
        "baseline_date": participant.baseline_date,
    }
    if show_arm:
        data["arm"] = participant.arm.code if participant.arm_id else None
    return data


class EligibilitySerializer(serializers.Serializer):
    answers = serializers.DictField()
    assessed_on = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True)


@extend_schema(request=EligibilitySerializer, responses=dict)
@api_view(["POST"])
def eligibility(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    body = EligibilitySerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        assessment = services.record_eligibility(
            participant=participant,
            answers=body.validated_data["answers"],
            assessed_on=body.validated_data.get("assessed_on") or participant.site.today(),
            user=request.user,
            reason=body.validated_data.get("reason", ""),
        )
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    return Response({"eligible": assessment.eligible, "failed": assessment.failed})


class EligibilitySignSerializer(serializers.Serializer):
    password = SigningPasswordSerializerField()
    meaning = serializers.ChoiceField(choices=["eligibility confirmed"])


@extend_schema(request=EligibilitySignSerializer, responses=dict)
@api_view(["POST"])
def eligibility_sign(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    body = EligibilitySignSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    signature = services.confirm_eligibility(
        participant=participant, user=request.user, password=body.validated_data["password"]
    )
    return Response({"signed_by": signature.signer_name, "signed_at": signature.signed_at})


class EnrolSerializer(serializers.Serializer):
    consent_date = serializers.DateField()
    baseline_date = serializers.DateField()


@extend_schema(request=EnrolSerializer, responses=dict)
@api_view(["POST"])
def enrol(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    body = EnrolSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    participant = services.enrol(
        participant=participant,
        consent_date=body.validated_data["consent_date"],
        baseline_date=body.validated_data["baseline_date"],
        user=request.user,
    )
    participant = get_participant_or_404(request.user, participant.pk)
    data = {"subject_id": participant.subject_id, "status": participant.status}
    if may_see_arm(request.user, participant):
        data["arm"] = participant.arm.code if participant.arm_id else None
    return Response(data, status=status.HTTP_200_OK)


def _planned_amount(dose, hidden: bool) -> dict:
    """`dose` and `unit` (null until a dose by body size is set, with its `derivation`);
    for a blinded reader whom the amount would tell the arm, `"dose": "study drug"` only."""
    if hidden:
        return {"dose": "study drug"}
    amount = {"dose": None if dose.dose is None else dose.dose.normalize(), "unit": dose.unit}
    if dose.dose_per:
        amount["derivation"] = dose.derivation or None
    return amount


@extend_schema(responses=dict)
@api_view(["GET"])
def calendar(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    visits = [
        {
            "code": v.code,
            "target_date": v.target_date,
            "window_start": v.window_start,
            "window_end": v.window_end,
            "status": v.status,
            "actual_date": v.actual_date,
        }
        for v in participant.visits.order_by("target_date", "code")
    ]
    show_amounts = may_see_dose_amounts(request.user, participant)
    hidden = access.dose_amount_hidden(request.user, participant.study)
    doses = [
        dose_data(d, show_amounts=show_amounts, hidden=hidden)
        for d in participant.doses.order_by("date", "phase")
    ]
    return Response({"visits": visits, "doses": doses})


def dose_data(dose, *, show_amounts: bool, hidden: bool) -> dict:
    """A planned dose (its amount as `_planned_amount` gives it); one a dosing decision
    changed names it (`modification`), a reduced one carries `reduced_from`, and both
    amounts are left out (`dose` null) for a reader who may not see a reduction
    (`may_see_dose_amounts`)."""
    data = {
        "date": dose.date,
        **_planned_amount(dose, hidden),
        "route": dose.route,
        "phase": dose.phase,
        "status": dose.status,
    }
    if dose.modification_id is not None:
        data["modification"] = dose.modification_id
    if dose.unmodified_dose is not None and not hidden:
        if show_amounts:
            data["reduced_from"] = dose.unmodified_dose.normalize()
        else:
            data["dose"] = None
    return data


def modification_data(modification, show_amounts: bool) -> dict:
    data = {
        "id": modification.pk,
        "kind": modification.kind,
        "from_date": modification.from_date,
        "until_date": modification.until_date,
        "level": modification.level,
        "reason": modification.reason,
        "decided_by": modification.decided_by.get_username(),
        "decided_at": modification.decided_at,
        "planned_doses": modification.planned_doses.count(),
    }
    if show_amounts and modification.dose is not None:
        data["dose"] = modification.dose.normalize()
    return data


class DoseModificationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModificationKind.choices)
    from_date = serializers.DateField()
    until_date = serializers.DateField(required=False, allow_null=True)
    level = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(allow_blank=True)


@extend_schema(request=DoseModificationSerializer, responses=dict)
@api_view(["GET", "POST"])
def dose_modifications_view(request, pk: int):
    """The participant's dosing decisions; a new one by an investigator (403 otherwise)."""
    participant = get_participant_or_404(request.user, pk)
    show_amounts = may_see_dose_amounts(request.user, participant)
    if request.method == "POST":
        if not dose_modifications.may_modify_dosing(request.user, participant):
            raise PermissionDenied(_("Only an investigator may change a participant's dosing."))
        body = DoseModificationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            modification = dose_modifications.modify_dosing(
                participant=participant, user=request.user, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise ValidationError(
                {
                    ("non_field_errors" if k == "__all__" else k): v
                    for k, v in exc.message_dict.items()
                }
            ) from None
        return Response(modification_data(modification, show_amounts), status=201)
    modifications = participant.dose_modifications.select_related("decided_by")
    return Response([modification_data(m, show_amounts) for m in modifications])
