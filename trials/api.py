"""API v1 for studies and their protocols (docs/API.md)."""

import yaml
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from . import access
from .forms.registry import registry
from .models import ProtocolVersion, Study
from .protocol_file import dump_protocol
from .services import spec_from_version


class StudySerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    blinding = serializers.CharField()
    active_version = serializers.CharField(allow_null=True)


@extend_schema(responses=StudySerializer(many=True))
@api_view(["GET"])
def study_list(request):
    """The studies the user is a member of, with the label of their active version."""
    studies = Study.objects.visible_to(request.user).order_by("code")
    active = dict(
        ProtocolVersion.objects.filter(study__in=studies).active().values_list("study_id", "label")
    )
    data = [
        {
            "code": s.code,
            "title": s.title,
            "blinding": s.blinding,
            "active_version": active.get(s.pk),
        }
        for s in studies
    ]
    return Response(StudySerializer(data, many=True).data)


def protocol_document(version: ProtocolVersion, *, blinded: bool, amounts: bool) -> dict:
    """The protocol as in its file; without the arms for a blinded reader, and without the
    dose amounts for one whom the amounts would tell the arm (`access.dose_amount_hidden`,
    as the dose log hides them): the arms' phases, one schedule in a blinded study, are then
    one phase."""
    document = yaml.safe_load(dump_protocol(spec_from_version(version)))
    dosing = document["dosing"]
    if blinded:
        document.pop("arms", None)
        for phase in dosing["phases"]:
            phase.pop("arm", None)
    if not amounts:
        dosing.pop("dose_levels", None)
        phases: list[dict] = []
        for phase in dosing["phases"]:
            phase.pop("dose", None)
            if phase not in phases:
                phases.append(phase)
        dosing["phases"] = phases
    return document


@extend_schema(responses=dict)
@api_view(["GET"])
def study_protocol(request, code: str):
    """GET /api/v1/studies/{code}/protocol/ — the active version, or ?version=LABEL."""
    study = access.get_study_or_404(request.user, code)
    versions = access.readable_versions(request.user, study)
    label = request.query_params.get("version")
    version = versions.filter(label=label).first() if label else versions.active().first()
    if version is None:
        return Response({"detail": "This study has no such protocol version."}, status=404)
    return Response(
        protocol_document(
            version,
            blinded=access.is_blinded(request.user, study),
            amounts=not access.dose_amount_hidden(request.user, study),
        )
    )


def _form_versions(request):
    """The protocol versions whose forms `?study=CODE` adds (None without it): only a member
    of the study sees its forms (404 otherwise), and only the versions they may read."""
    code = request.query_params.get("study")
    if not code:
        return None
    study = access.get_study_or_404(request.user, code)
    return access.readable_versions(request.user, study)


@extend_schema(responses=dict, operation_id="forms_list")
@api_view(["GET"])
def form_list(request):
    """GET /api/v1/forms/ — every form of the registry; `?study=CODE` adds that study's
    protocol-defined forms. Forms carry no allocation: blinded users see them too."""
    return Response(registry.describe_all(versions=_form_versions(request)))


@extend_schema(responses=dict, operation_id="forms_retrieve")
@api_view(["GET"])
def form_detail(request, code: str):
    """GET /api/v1/forms/{code}/ — one form with its versions (`?study=CODE` as above)."""
    versions = _form_versions(request)
    if code not in registry.codes(versions=versions):
        return Response({"detail": "No such form."}, status=404)
    return Response(registry.describe(code, versions=versions))
