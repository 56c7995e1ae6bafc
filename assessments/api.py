"""API v1 for visit data capture (docs/API.md).

The same services and permission layer as the pages: a participant outside the user's
studies and sites is 404, a monitor's write is 403, bad input is 400 `{"errors": {field:
[messages]}}` keyed by field or instrument item code, a stale write is 409. Decimal values
are answered as strings, as DRF does, so no precision is lost on the way.

Plausibility (assessments.checks): a value beyond its hard limits is an error like any
other. A value beyond its soft limits must be confirmed: the body lists the fields
confirmed in `"confirm": [field codes]`; an unconfirmed one answers 400 with the warnings
beside the errors, `{"errors": {...}, "warnings": {field: [messages]}}` (errors holds
"non_field_errors" when nothing else is wrong, so a client reading only errors still sees
why), and nothing is saved. Confirmations are stored with the record and audited.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from patients.models import ScheduledVisit
from patients.selectors import get_participant_or_404
from trials import access

from . import dosing, entry, form_kinds, instruments, services
from .checks import Unconfirmed
from .models import InjectionSite, LocalReaction

# -- instruments ----------------------------------------------------------------------------


class InstrumentItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=["boolean", "integer", "choice"])
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)
    weight = serializers.IntegerField(required=False)
    choices = serializers.ListField(child=serializers.DictField(), required=False)
    help = serializers.CharField(required=False)
    required = serializers.BooleanField(required=False)
    scored = serializers.BooleanField(required=False)


class InstrumentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    items = InstrumentItemSerializer(many=True)


@extend_schema(responses=InstrumentSerializer(many=True))
@api_view(["GET"])
def instrument_list(request):
    """Every scored instrument with its items (codes, labels, ranges, weights)."""
    return Response([instrument.describe() for instrument in instruments.all_instruments()])


@extend_schema(responses=InstrumentSerializer)
@api_view(["GET"])
def instrument_detail(request, code: str):
    try:
        instrument = instruments.get(code)
    except instruments.UnknownInstrument as exc:
        raise NotFound(_("No instrument has this code.")) from exc
    return Response(instrument.describe())


# -- forms at visits --------------------------------------------------------------------------


class FormCaptureSerializer(serializers.Serializer):
    visit_date = serializers.DateField(
        required=False, allow_null=True, help_text="Defaults to the visit's recorded date."
    )
    answers = serializers.DictField(
        help_text=(
            "Instruments: {item code: value}. TREG: lymphocytes_per_ul, cd4_per_ul or "
            "cd4_pct_of_lymphocytes, treg_pct_of_cd4, tcon_pct_of_cd4, sample_date?. "
            "STEROID: drug, mg_per_day, weight_kg?, date?. A protocol-defined form: "
            '{item code: value or {"missing": "ND", "reason": "..."}, '
            "repeating group code: [{item code: value}, ...]}."
        )
    )
    row_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="Required to change a saved form."
    )
    reason_for_change = serializers.CharField(
        required=False, allow_blank=True, help_text="Required to change a saved form."
    )
    confirm = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Field codes (or rule ids) whose warnings the user confirmed.",
    )


def _errors(message_dict: dict, names: dict | None = None) -> dict:
    names = {"__all__": "non_field_errors", **(names or {})}
    return {names.get(key, key): messages for key, messages in message_dict.items()}


def _refusal(exc: ValidationError, names: dict | None = None) -> Response:
    """400 with the errors, and the warnings still to confirm when there are some."""
    data = {"errors": _errors(exc.message_dict, names)}
    if isinstance(exc, Unconfirmed):
        data["warnings"] = _errors(exc.warnings, names)
    return Response(data, status=status.HTTP_400_BAD_REQUEST)


def _text(value):
    return None if value is None else str(value)


def form_payload(form_code: str, captured: entry.Captured) -> dict:
    record, visit = captured.record, captured.visit
    return {
        "form": form_code,
        "id": record.pk,
        "participant": record.participant_id,
        "visit": visit.code,
        "visit_date": visit.actual_date,
        "out_of_window": visit.is_out_of_window,
        "row_version": record.row_version,
        **form_kinds.kind_for(form_code).payload(record),
    }


@extend_schema(
    request=FormCaptureSerializer,
    responses={
        201: OpenApiResponse(description="Entered: {form, id, visit, visit_date, total?, ...}"),
        200: OpenApiResponse(description="Corrected (row_version and reason_for_change given)"),
        400: OpenApiResponse(
            description='{"errors": {field or item code: [messages]}, "warnings"?: {...}}'
        ),
        409: OpenApiResponse(description="Saved by someone else since row_version"),
    },
)
@api_view(["POST"])
def capture_visit_form(request, pk: int, code: str, form: str):
    """Enter (201) or correct (200) one form at one visit: RPDAI, HAMD17, PHQ9, SLEDAI2K,
    TREG, STEROID or a form the participant's protocol defines. Scores, derived and
    calculated values are computed here, never sent."""
    participant = get_participant_or_404(request.user, pk)
    visit = (
        ScheduledVisit.objects.live()
        .select_related("definition")
        .filter(participant=participant, code=code)
        .first()
    )
    if visit is None or form_kinds.kind_at(visit, form) is None:
        raise NotFound(_("No such visit or form."))
    if not entry.can_capture(request.user, participant):
        raise PermissionDenied(_("Your role does not allow entering data."))
    body = FormCaptureSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        captured = services.capture_form(
            participant=participant,
            visit=visit,
            form_code=form,
            visit_date=body.validated_data.get("visit_date"),
            answers=body.validated_data["answers"],
            user=request.user,
            expected_version=body.validated_data.get("row_version"),
            reason=body.validated_data.get("reason_for_change", ""),
            confirm=body.validated_data.get("confirm", ()),
        )
    except ValidationError as exc:
        return _refusal(exc)
    return Response(
        form_payload(form, captured),
        status=status.HTTP_201_CREATED if captured.created else status.HTTP_200_OK,
    )


# -- doses ------------------------------------------------------------------------------------


class DoseRecordSerializer(serializers.Serializer):
    date = serializers.DateField(
        help_text="The real date given; for a dose not given, its planned date."
    )
    given = serializers.BooleanField()
    dose = serializers.DecimalField(max_digits=8, decimal_places=3, required=False, allow_null=True)
    lot = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why the dose was not given."
    )
    planned_date = serializers.DateField(
        required=False, help_text="The planned day, when the dose was given on another day."
    )
    time = serializers.TimeField(required=False, allow_null=True)
    injection_site = serializers.ChoiceField(
        choices=InjectionSite.choices, required=False, allow_blank=True
    )
    local_reaction = serializers.ChoiceField(
        choices=LocalReaction.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    row_version = serializers.IntegerField(required=False, allow_null=True)
    reason_for_change = serializers.CharField(required=False, allow_blank=True)
    confirm = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text='Fields whose warnings the user confirmed, e.g. ["dose"].',
    )


#: Service (model) field names → the API's names.
DOSE_FIELDS = {
    "administered_on": "date",
    "administered_time": "time",
    "actual_dose": "dose",
    "reason_not_given": "reason",
}
API_TO_DOSE_FIELDS = {api: model for model, api in DOSE_FIELDS.items()}


def dose_payload(record, adherence: dosing.Adherence, *, hide_amount: bool = False) -> dict:
    """The recorded dose; `hide_amount` (a blinded reader whom the amount would tell the
    arm) gives `"dose": "study drug"` and no unit."""
    dose = record.planned_dose
    payload = {
        "id": record.pk,
        "planned_dose": dose.pk,
        "planned_date": dose.date,
        "date": record.administered_on if record.given else dose.date,
        "time": record.administered_time,
        "given": record.given,
        "dose": _text(record.actual_dose),
        "unit": record.unit,
        "lot": record.lot,
        "reason": record.reason_not_given,
        "injection_site": record.injection_site,
        "local_reaction": record.local_reaction,
        "status": dose.status,
        "row_version": record.row_version,
        "adherence": {
            "given": adherence.given,
            "due": adherence.due,
            "planned": adherence.planned,
            "percent": _text(adherence.percent),
        },
    }
    if hide_amount:
        payload["dose"] = "study drug"
        del payload["unit"]
    return payload


@extend_schema(
    request=DoseRecordSerializer,
    responses={
        201: OpenApiResponse(description="Recorded"),
        200: OpenApiResponse(description="Corrected"),
        400: OpenApiResponse(description='{"errors": {field: [messages]}, "warnings"?: {...}}'),
        409: OpenApiResponse(description="Saved by someone else since row_version"),
    },
)
@api_view(["POST"])
def record_dose(request, pk: int):
    """Record a planned dose as given (on `date`, its real day; `planned_date` when that is
    not the planned day) or not given (`reason`)."""
    participant = get_participant_or_404(request.user, pk)
    if not entry.can_capture(request.user, participant):
        raise PermissionDenied(_("Your role does not allow entering data."))
    body = DoseRecordSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    hide_amount = access.dose_amount_hidden(request.user, participant.study)
    if hide_amount and data.get("dose") is not None:
        # Any amount typed would be checked against the plan, whose messages tell the arm.
        raise serializers.ValidationError(
            {
                "dose": [
                    _(
                        "Dose amounts are blinded in this study: record the dose as given "
                        "without an amount (the planned amount is recorded)."
                    )
                ]
            }
        )
    planned_on = data.get("planned_date") or data["date"]
    dose = participant.doses.live().filter(date=planned_on).order_by("study_day", "phase").first()
    if dose is None:
        key = "planned_date" if "planned_date" in data else "date"
        raise serializers.ValidationError(
            {key: [_("No dose is planned on %(date)s.") % {"date": planned_on.isoformat()}]}
        )
    try:
        captured = dosing.record_dose(
            planned_dose=dose,
            user=request.user,
            given=data["given"],
            administered_on=data["date"] if data["given"] else None,
            administered_time=data.get("time"),
            actual_dose=data.get("dose"),
            lot=data.get("lot", ""),
            injection_site=data.get("injection_site", ""),
            local_reaction=data.get("local_reaction", ""),
            notes=data.get("notes", ""),
            reason_not_given=data.get("reason", ""),
            expected_version=data.get("row_version"),
            reason=data.get("reason_for_change", ""),
            confirm=[API_TO_DOSE_FIELDS.get(name, name) for name in data.get("confirm", ())],
        )
    except ValidationError as exc:
        return _refusal(exc, DOSE_FIELDS)
    record = captured.record
    record.planned_dose.refresh_from_db(fields=["status"])
    doses = list(participant.doses.live())
    return Response(
        dose_payload(
            record, dosing.adherence(doses, participant.site.today()), hide_amount=hide_amount
        ),
        status=status.HTTP_201_CREATED if captured.created else status.HTTP_200_OK,
    )
