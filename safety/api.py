"""API v1 for adverse events (docs/API.md).

Same permissions as the pages: the AE's participant must be visible (404), the role must
allow the write (403: coordinators and investigators enter, only investigators sign).
Datetimes without an offset are read in the site's time zone; answers are in UTC. An AE
answer carries only the deadlines that apply to it.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from patients.models import ScheduledVisit
from patients.selectors import get_participant_or_404
from signatures.fields import SigningPasswordSerializerField
from signatures.models import Meaning
from trials import access

from . import services
from .models import (
    DEADLINE_FIELDS,
    SERIOUSNESS_FIELDS,
    ActionTaken,
    AdverseEvent,
    Expectedness,
    Grade,
    Outcome,
    Relationship,
    Seriousness,
)

#: Model field names that the API shows under another name.
API_NAMES = dict.fromkeys(SERIOUSNESS_FIELDS.values(), "seriousness") | {
    "__all__": "non_field_errors"
}


def _refused(exc: DjangoValidationError):
    """A model/service ValidationError as the API's 400 `{"errors": {field: [...]}}`."""
    if not hasattr(exc, "error_dict"):
        raise ValidationError({"non_field_errors": exc.messages}) from exc
    errors: dict[str, list] = {}
    for field, messages in exc.message_dict.items():
        errors.setdefault(API_NAMES.get(field, field), []).extend(messages)
    raise ValidationError(errors) from exc


class AdverseEventWriteSerializer(serializers.Serializer):
    """First report (POST) or follow-up (PATCH, with `row_version` and `reason_for_change`)."""

    term = serializers.CharField(max_length=200)
    meddra_code = serializers.CharField(max_length=8, required=False, allow_blank=True)
    meddra_term = serializers.CharField(max_length=200, required=False, allow_blank=True)
    onset_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    ongoing = serializers.BooleanField(
        required=False, help_text="Defaults to true when no end_date is given."
    )
    grade = serializers.ChoiceField(choices=Grade.choices)
    serious = serializers.BooleanField()
    seriousness = serializers.ListField(
        child=serializers.ChoiceField(choices=Seriousness.choices), required=False
    )
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    expectedness = serializers.ChoiceField(choices=Expectedness.choices)
    action_taken = serializers.ChoiceField(choices=ActionTaken.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    death_date = serializers.DateField(required=False, allow_null=True)
    awareness_at = serializers.DateTimeField(
        help_text="ISO 8601; without an offset, local time at the participant's site."
    )
    visit = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Visit code, e.g. W4."
    )
    row_version = serializers.IntegerField(required=False)
    reason_for_change = serializers.CharField(required=False, allow_blank=True)

    def validate_visit(self, code):
        if not code:
            return None
        visit = (
            ScheduledVisit.objects.filter(participant=self.context["participant"], code=code)
            .live()
            .first()
        )
        if visit is None:
            raise ValidationError(_("This participant has no visit with this code."))
        return visit

    def fields_for_service(self) -> dict:
        data = dict(self.validated_data)
        data.pop("row_version", None)
        data.pop("reason_for_change", None)
        if not self.partial and "ongoing" not in data:
            data["ongoing"] = data.get("end_date") is None
        if "serious" in data and "seriousness" not in data and not data["serious"]:
            data["seriousness"] = []
        return data


class SignatureAnswer(serializers.Serializer):
    signed_by = serializers.CharField()
    signed_at = serializers.DateTimeField()
    meaning = serializers.CharField()


def adverse_event_data(adverse_event: AdverseEvent, *, signature=None) -> dict:
    """An AE as the API answers it; deadline keys only where the deadline applies.

    `signature` is the AE's standing "reviewed" signature (`services.review_signatures`):
    reviewed means one that still matches the record, not a stored flag.
    """
    participant = adverse_event.participant
    data = {
        "id": adverse_event.pk,
        "participant": participant.pk,
        "subject_id": participant.subject_id,
        "study": participant.study.code,
        "site": participant.site.code,
        "site_timezone": participant.site.timezone,
        "term": adverse_event.term,
        "meddra_code": adverse_event.meddra_code,
        "meddra_term": adverse_event.meddra_term,
        "onset_date": adverse_event.onset_date,
        "end_date": adverse_event.end_date,
        "ongoing": adverse_event.ongoing,
        "grade": adverse_event.grade,
        "serious": adverse_event.serious,
        "seriousness": adverse_event.seriousness,
        "relationship": adverse_event.relationship,
        "expectedness": adverse_event.expectedness,
        "action_taken": adverse_event.action_taken,
        "outcome": adverse_event.outcome,
        "death_date": adverse_event.death_date,
        "awareness_at": adverse_event.awareness_at,
        # null: the sponsor learnt of it with the investigator (investigator-sponsored).
        "sponsor_awareness_at": adverse_event.sponsor_awareness_at,
        "visit": adverse_event.visit.code if adverse_event.visit_id else None,
        "is_susar": adverse_event.is_susar,
        "reviewed": signature is not None,
        "review": (
            {
                "signed_by": signature.signer_name,
                "signed_at": _utc(signature.signed_at),
                "meaning": signature.meaning,
            }
            if signature
            else None
        ),
        "voided": adverse_event.is_voided,
        "void_reason": adverse_event.void_reason,
        "row_version": adverse_event.row_version,
        "created_at": adverse_event.created_at,
        "updated_at": adverse_event.updated_at,
    }
    for due_field, reported_field in DEADLINE_FIELDS.values():
        if getattr(adverse_event, due_field) is not None:
            data[due_field] = getattr(adverse_event, due_field)
            data[reported_field] = getattr(adverse_event, reported_field)
    data["deadlines"] = [
        {
            "kind": d.kind.value,
            "due": _utc(d.due),
            "reported_at": _utc(d.reported_at),
            "state": d.state.value,
        }
        for d in adverse_event.deadlines()
    ]
    return {key: _utc(value) for key, value in data.items()}


def _utc(value):
    """Datetimes answer in UTC whatever zone they were read in (dates are left as dates)."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _read_in_site_zone(serializer: serializers.Serializer, participant) -> None:
    with timezone.override(ZoneInfo(participant.site.timezone)):
        serializer.is_valid(raise_exception=True)


@extend_schema(request=AdverseEventWriteSerializer, responses=dict)
@api_view(["GET", "POST"])
def participant_adverse_events(request, pk: int):
    """GET the participant's AEs; POST a new one → 201 with its deadlines."""
    participant = get_participant_or_404(request.user, pk)
    if request.method == "GET":
        adverse_events = list(
            participant.adverse_events.select_related(
                "participant__study", "participant__site", "visit"
            )
        )
        signatures = services.review_signatures(adverse_events)
        return Response(
            [adverse_event_data(ae, signature=signatures.get(ae.pk)) for ae in adverse_events]
        )
    if not services.can_enter(request.user, participant):
        return Response(
            {"detail": _("Your role in this study does not allow this.")},
            status=status.HTTP_403_FORBIDDEN,
        )
    body = AdverseEventWriteSerializer(data=request.data, context={"participant": participant})
    _read_in_site_zone(body, participant)
    try:
        adverse_event = services.report_adverse_event(
            participant=participant, user=request.user, **body.fields_for_service()
        )
    except DjangoValidationError as exc:
        _refused(exc)
    return Response(adverse_event_data(adverse_event), status=status.HTTP_201_CREATED)


def _boolean_param(request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValidationError({name: [_("Expected true or false, not %r.") % value]})


def _choice_param(request, name: str, choices) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in {str(c) for c in choices}:
        raise ValidationError({name: [_("Unknown value %r.") % value]})
    return value


@extend_schema(
    parameters=[
        OpenApiParameter("reviewed", bool, description="false: the review queue"),
        OpenApiParameter("site", str),
        OpenApiParameter("grade", int),
        OpenApiParameter("serious", bool),
        OpenApiParameter("relationship", str, enum=Relationship.values),
    ],
    responses=dict,
)
@api_view(["GET"])
def study_adverse_events(request, code: str):
    """The study's AEs at the user's sites; `?reviewed=false` is the review queue. In the
    queue's order: nearest report deadline, most severe, oldest. Voided AEs are left out."""
    study = access.get_study_or_404(request.user, code)
    reviewed = _boolean_param(request, "reviewed")
    grade = _choice_param(request, "grade", Grade.values)
    adverse_events = (
        AdverseEvent.objects.visible_to(request.user)
        .for_study(study)
        .live()
        .select_related("participant__study", "participant__site", "visit")
        .matching(
            site=request.query_params.get("site") or None,
            grade=int(grade) if grade else None,
            serious=_boolean_param(request, "serious"),
            relationship=_choice_param(request, "relationship", Relationship.values),
            reviewed=reviewed,
        )
    )
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(adverse_events.review_queue_order(), request)
    signatures = services.review_signatures(page)
    response = paginator.get_paginated_response(
        [adverse_event_data(ae, signature=signatures.get(ae.pk)) for ae in page]
    )
    response.data["counts"] = adverse_events.counts()
    return response


@extend_schema(request=AdverseEventWriteSerializer, responses=dict)
@api_view(["GET", "PATCH"])
def adverse_event_detail(request, pk: int):
    """GET one AE; PATCH a follow-up (`row_version` and `reason_for_change` required)."""
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    if request.method == "PATCH":
        participant = adverse_event.participant
        if not services.can_enter(request.user, participant):
            return Response(
                {"detail": _("Your role in this study does not allow this.")},
                status=status.HTTP_403_FORBIDDEN,
            )
        body = AdverseEventWriteSerializer(
            data=request.data, partial=True, context={"participant": participant}
        )
        _read_in_site_zone(body, participant)
        if "row_version" not in body.validated_data:
            raise ValidationError({"row_version": [_("Send the row_version you last read.")]})
        try:
            adverse_event = services.update_adverse_event(
                adverse_event=adverse_event,
                user=request.user,
                changes=body.fields_for_service(),
                reason=body.validated_data.get("reason_for_change", ""),
                expected_version=body.validated_data["row_version"],
            )
        except DjangoValidationError as exc:
            _refused(exc)
        adverse_event = services.get_adverse_event_or_404(request.user, pk)
    signature = services.review_signatures([adverse_event]).get(adverse_event.pk)
    return Response(adverse_event_data(adverse_event, signature=signature))


class SignSerializer(serializers.Serializer):
    password = SigningPasswordSerializerField()
    meaning = serializers.ChoiceField(choices=[Meaning.REVIEWED.value])
    row_version = serializers.IntegerField(
        required=False, help_text="The version reviewed: refused with 409 if the AE changed."
    )


@extend_schema(request=SignSerializer, responses=SignatureAnswer)
@api_view(["POST"])
def adverse_event_sign(request, pk: int):
    """An investigator of the AE's site signs it "reviewed" with their password."""
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    if not services.can_sign(request.user, adverse_event.participant):
        return Response(
            {"detail": _("Only an investigator of this site signs adverse events.")},
            status=status.HTTP_403_FORBIDDEN,
        )
    body = SignSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        signature = services.sign_adverse_event(
            adverse_event=adverse_event,
            user=request.user,
            password=body.validated_data["password"],
            meaning=body.validated_data["meaning"],
            expected_version=body.validated_data.get("row_version"),
        )
    except DjangoValidationError as exc:
        _refused(exc)
    return Response(
        SignatureAnswer(
            {
                "signed_by": signature.signer_name,
                "signed_at": signature.signed_at,
                "meaning": signature.meaning,
            }
        ).data
    )


class ReportsSerializer(serializers.Serializer):
    sponsor_awareness_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the sponsor first learnt of the event: day 0 of the regulator clock. "
        "null: the investigator's awareness (investigator-sponsored study).",
    )
    sponsor_reported_at = serializers.DateTimeField(required=False, allow_null=True)
    regulator_reported_at = serializers.DateTimeField(required=False, allow_null=True)
    regulator_complete_reported_at = serializers.DateTimeField(required=False, allow_null=True)
    reason_for_change = serializers.CharField(required=False, allow_blank=True)


@extend_schema(request=ReportsSerializer, responses=dict)
@api_view(["POST"])
def adverse_event_reports(request, pk: int):
    """Record when the sponsor learnt of the event (day 0 of the regulator clock) and when
    expedited reports were sent; the answer shows each deadline met/missed."""
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    participant = adverse_event.participant
    if not services.can_record_reports(request.user, participant):
        return Response(
            {"detail": _("Your role in this study does not allow this.")},
            status=status.HTTP_403_FORBIDDEN,
        )
    body = ReportsSerializer(data=request.data)
    _read_in_site_zone(body, participant)
    reported = {
        kind: body.validated_data[reported_field]
        for kind, (_due, reported_field) in DEADLINE_FIELDS.items()
        if reported_field in body.validated_data
    }
    sponsor_awareness = {
        name: body.validated_data[name]
        for name in ("sponsor_awareness_at",)
        if name in body.validated_data
    }
    try:
        services.record_reports(
            adverse_event=adverse_event,
            user=request.user,
            reported=reported,
            reason=body.validated_data.get("reason_for_change", ""),
            **sponsor_awareness,
        )
    except DjangoValidationError as exc:
        _refused(exc)
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    signature = services.review_signatures([adverse_event]).get(adverse_event.pk)
    return Response(adverse_event_data(adverse_event, signature=signature))
