"""Pages for studies: the home page of each user and one page per study, and a study admin's
form library with the REDCap data dictionary import."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from core.replica import using_replica

from . import access
from .forms.codes import FORM_CODES
from .forms.redcap import dictionary_csv
from .forms.redcap_import import DictionaryRefused, import_dictionary
from .forms.registry import describe_form, registry
from .models import Role, Site, VersionStatus, VisitDefinition
from .services import spec_from_version
from .summary import (
    dose_weeks,
    doses_per_participant,
    schedule_of_assessments,
    visit_columns,
    without_amounts,
)
from .worklist_views import home_blocks


@login_required
def home(request):
    """Each user starts from their work: a list per role they hold (`trials.worklist`),
    then their studies, with what their role there lets them do."""
    by_study: dict = {}
    for membership in access.memberships(request.user):
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
    blocks, work = home_blocks(request)
    return render(
        request,
        "trials/home.html",
        {"cards": cards, "Role": Role, "blocks": blocks, "now": work.now, "work": work},
    )


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
    total = doses_per_participant(spec, weeks)
    if access.dose_amount_hidden(request.user, study):
        weeks = without_amounts(weeks)
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
            "visit_columns": visit_columns(spec),
            "dose_weeks": weeks,
            "dose_total": total,
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
    with using_replica():  # an export: read from the replica, if any (access checked above)
        codes: list[str] = []
        for visit in version.visits.order_by("order"):
            codes.extend(c for c in visit.forms if c not in codes)
        codes.extend(c for c in version.forms.values_list("code", flat=True) if c not in codes)
        forms = [registry.form(c, version=version) for c in codes]
    response = HttpResponse(dictionary_csv(forms), content_type="text/csv; charset=utf-8")
    filename = f"{study.code}-{version.label}-data-dictionary.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


#: What a preview says an item's type and a check's severity are (the registry's words are
#: codes, not for people).
_TYPE_LABELS = {
    "integer": _("whole number"),
    "decimal": _("decimal number"),
    "text": _("text"),
    "date": _("date"),
    "datetime": _("date and time"),
    "yesno": _("yes / no"),
    "choice": _("one choice"),
    "multichoice": _("several choices"),
}
_SEVERITY_LABELS = {
    "error": _("refuses the record"),
    "warning": _("asks for confirmation"),
    "query": _("opens a query"),
}


def _for_preview(described: dict) -> dict:
    for group in described["groups"]:
        for item in group["items"]:
            item["type_label"] = _TYPE_LABELS.get(item["type"], item["type"])
    for check in described["checks"]:
        check["severity_label"] = _SEVERITY_LABELS.get(check["severity"], check["severity"])
    return described


def _administered_study(request, code: str):
    """The study, for its study admins (and operators): others 403, outsiders 404."""
    study = access.get_study_or_404(request.user, code)
    if not request.user.is_superuser:
        access.require_role(request.user, study, [Role.STUDY_ADMIN])
    return study


@login_required
def form_library(request, code: str):
    """Every form of the study, built in or defined by its protocol, with its versions (by
    content hash), the visits that schedule it, and a read-only preview.

    An admin reads drafts too (`readable_versions`): a form being prepared for the next
    version shows here before it is activated.
    """
    study = _administered_study(request, code)
    versions = access.readable_versions(request.user, study)
    scheduled: dict[str, dict] = {}
    visits = (
        VisitDefinition.objects.filter(version__in=versions)
        .select_related("version")
        .order_by("version__effective_date", "version__created_at", "study_day", "order")
    )
    for visit in visits:
        for form_code in visit.forms:
            by_version = scheduled.setdefault(form_code, {})
            by_version.setdefault(visit.version, []).append(visit.code)
    library = []
    for form_code in registry.codes(versions=versions):
        described = registry.describe(form_code, versions=versions)
        described["scheduled"] = list(scheduled.get(form_code, {}).items())
        library.append(_for_preview(described))
    return render(
        request,
        "trials/form_library.html",
        {"study": study, "library": library, "versions": versions},
    )


#: A REDCap dictionary of a large project is well under a megabyte; a bigger upload is not one.
MAX_DICTIONARY_BYTES = 5 * 1024 * 1024


class DictionaryImportForm(forms.Form):
    dictionary = forms.FileField(
        label=_("REDCap data dictionary (CSV)"),
        help_text=_("The file REDCap downloads from Project Setup → Data Dictionary."),
    )
    form = forms.CharField(
        label=_("REDCap form"),
        required=False,
        max_length=100,
        help_text=_("Its Form Name, to import only that form of the dictionary."),
    )
    code = forms.RegexField(
        label=_("Form code"),
        required=False,
        max_length=20,
        regex=r"^[A-Za-z0-9_-]+$",
        help_text=_(
            "The code of the imported form (letters, digits, _ and -); by default "
            "the REDCap form name."
        ),
    )

    def clean_dictionary(self):
        upload = self.cleaned_data["dictionary"]
        if upload.size > MAX_DICTIONARY_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB: it is not a data dictionary.")
                % {"mb": MAX_DICTIONARY_BYTES // (1024 * 1024)}
            )
        return upload


@login_required
def form_import(request, code: str):
    """A REDCap data dictionary read into draft forms: every problem by row, or the forms'
    preview and the YAML to paste into the protocol file of the next version.

    Nothing is stored: a form reaches a study only through a protocol file, whose loading
    checks it with the rest of the protocol and is audited (docs/PROTOCOL-FILE.md).
    """
    study = _administered_study(request, code)
    form = DictionaryImportForm(request.POST or None, request.FILES or None)
    context = {"study": study, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["dictionary"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("dictionary", _("The file is not UTF-8 text."))
        else:
            try:
                imported = import_dictionary(
                    text,
                    form=form.cleaned_data["form"] or None,
                    code=form.cleaned_data["code"] or None,
                    builtin=FORM_CODES,
                )
            except DictionaryRefused as exc:
                context["problems"] = exc.problems
            else:
                context["imported"] = [
                    describe_form(spec) | {"hash": spec.content_hash} for spec in imported.forms
                ]
                context["notes"] = imported.notes
                context["yaml"] = imported.yaml()
    return render(request, "trials/form_import.html", context)
