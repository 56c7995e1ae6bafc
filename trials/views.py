"""Pages for studies: the home page of each user and one page per study."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from . import access
from .forms.redcap import dictionary_csv
from .forms.registry import registry
from .models import Membership, Role, Site, VersionStatus
from .services import spec_from_version
from .summary import dose_weeks, doses_per_participant, schedule_of_assessments


@login_required
def home(request):
    """Each user starts from their studies, with what their role there lets them do."""
    by_study: dict = {}
    for membership in Membership.objects.for_user(request.user).select_related("study", "site"):
        by_study.setdefault(membership.study, []).append(membership)
    cards = [
        {
            "study": study,
            "memberships": members,
            "roles": {m.role for m in members},
            "blinded": access.is_blinded(request.user, study),
        }
        for study, members in by_study.items()
    ]
    return render(request, "trials/home.html", {"cards": cards, "Role": Role})


@login_required
def study_detail(request, code: str):
    study = access.get_study_or_404(request.user, code)
    sites = Site.objects.visible_to(request.user).filter(study=study)
    return render(
        request,
        "trials/study_detail.html",
        {
            "study": study,
            "sites": sites,
            "roles": access.roles_in(request.user, study),
            "blinded": access.is_blinded(request.user, study),
            "Role": Role,
        },
    )


@login_required
def protocol_summary(request, code: str):
    """What an investigator prints: the protocol, its schedule of assessments and doses."""
    study = access.get_study_or_404(request.user, code)
    versions = access.readable_versions(request.user, study)
    label = request.GET.get("version")
    if label:
        version = versions.filter(label=label).first()
    else:  # the active version, else the newest one the user may read
        version = versions.active().first() or versions.last()
    if version is None:
        raise Http404("This study has no such protocol version.")
    spec = spec_from_version(version)
    weeks = dose_weeks(spec)
    return render(
        request,
        "trials/protocol_summary.html",
        {
            "study": study,
            "version": version,
            "versions": versions,
            "spec": spec,
            "blinded": access.is_blinded(request.user, study),
            "soa": schedule_of_assessments(spec),
            "dose_weeks": weeks,
            "dose_total": doses_per_participant(spec, weeks),
        },
    )


@login_required
def form_dictionary(request, code: str):
    """The study's forms as a REDCap data dictionary (CSV), for its admins and monitors.

    The forms of one protocol version (the active one, or `?version=LABEL`): those its
    visits schedule, in schedule order, then any it defines but does not schedule.
    """
    study = access.get_study_or_404(request.user, code)
    if not request.user.is_superuser:
        access.require_role(request.user, study, [Role.STUDY_ADMIN, Role.MONITOR])
    versions = access.readable_versions(request.user, study)
    label = request.GET.get("version")
    if label:
        version = versions.filter(label=label).first()
    else:
        version = versions.filter(status=VersionStatus.ACTIVE).first() or versions.last()
    if version is None:
        raise Http404("This study has no such protocol version.")
    codes: list[str] = []
    for visit in version.visits.order_by("order"):
        codes.extend(c for c in visit.forms if c not in codes)
    codes.extend(c for c in version.forms.values_list("code", flat=True) if c not in codes)
    forms = [registry.form(c, version=version) for c in codes]
    response = HttpResponse(dictionary_csv(forms), content_type="text/csv; charset=utf-8")
    filename = f"{study.code}-{version.label}-data-dictionary.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
