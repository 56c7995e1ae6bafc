"""Participant pages: screening log, eligibility, consent and enrolment, the participant page.

Views stay thin: they check who may see the participant (404 otherwise), bind a form, call
a service from `patients.services`, and show its refusal next to the field it concerns.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from audit.editing import StaleRecord
from signatures.models import Meaning, Signature
from signatures.services import SignatureError, standing_signature
from trials import access
from trials.models import Role, Site, VersionStatus

from . import services
from .clinical_dates import with_date_bounds
from .eligibility import derived_age, is_age_criterion
from .forms import (
    EligibilityForm,
    EndForm,
    EnrolForm,
    ReconsentForm,
    ScreeningForm,
    SignForm,
    UnblindForm,
)
from .models import Consent, EligibilityAssessment, Participant, ParticipantStatus
from .panels import participant_panels
from .selectors import arm_display, get_participant_or_404


def _entry_sites(user, study):
    sites = Site.objects.visible_to(user).filter(study=study)
    return [s for s in sites if access.has_role(user, study, services.ENTRY_ROLES, s)]


def _require_entry(user, participant) -> None:
    """Refused before the form: a page whose only purpose is a write is not offered to a
    reader (a monitor) whose every POST would be refused anyway."""
    access.require_role(user, participant.study, services.ENTRY_ROLES, participant.site)


def _refusal(form, exc: services.JourneyError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc))


@login_required
def screening_log(request, code: str):
    """The coordinator's list of screenings, by site and status, with "New screening"."""
    study = access.get_study_or_404(request.user, code)
    participants = (
        Participant.objects.visible_to(request.user)
        .filter(study=study)
        .select_related("site")
        .order_by("site__code", "screening_number")
    )
    sites = Site.objects.visible_to(request.user).filter(study=study)
    site_code = request.GET.get("site", "")
    status = request.GET.get("status", "")
    if site_code:
        participants = participants.filter(site__code=site_code)
    if status:
        participants = participants.filter(status=status)
    page = Paginator(participants, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/screening_log.html",
        {
            "study": study,
            "participants": page,
            "page": page,
            "query": urlencode({k: v for k, v in (("site", site_code), ("status", status)) if v}),
            "sites": sites,
            "statuses": ParticipantStatus.choices,
            "site_code": site_code,
            "status": status,
            "can_screen": bool(_entry_sites(request.user, study)),
        },
    )


@login_required
def new_screening(request, code: str):
    study = access.get_study_or_404(request.user, code)
    sites = _entry_sites(request.user, study)
    if not sites:
        raise PermissionDenied(_("Your role in this study does not allow this."))
    version = study.active_version()
    strata = list(version.strata.all()) if version else []
    form = ScreeningForm(
        request.POST or None,
        sites=Site.objects.filter(pk__in=[s.pk for s in sites]),
        strata=strata,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = services.screen(
                study=study,
                site=data["site"],
                screening_number=data["screening_number"],
                year_of_birth=data["year_of_birth"],
                sex=data["sex"],
                stratum_code=data.get("stratum") or None,
                user=request.user,
            )
        except services.JourneyError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("Screening %s registered.") % participant)
            return redirect("patients:eligibility", pk=participant.pk)
    return render(request, "patients/screening_form.html", {"study": study, "form": form})


@login_required
def eligibility(request, pk: int):
    """The checklist from the protocol's criteria, the computed verdict, and the signature."""
    participant = get_participant_or_404(request.user, pk)
    criteria = list(participant.protocol_version.criteria.all())
    assessment = EligibilityAssessment.objects.filter(participant=participant).first()
    initial = {}
    if assessment:
        initial["assessed_on"] = assessment.assessed_on
        for code, value in assessment.answers.items():
            initial[f"c_{code}"] = ("yes" if value else "no") if isinstance(value, bool) else value
    else:
        initial["assessed_on"] = participant.site.today()
        for criterion in criteria:
            if is_age_criterion(criterion):
                initial[f"c_{criterion.code}"] = derived_age(
                    criterion, participant.year_of_birth, initial["assessed_on"]
                )
    form = EligibilityForm(
        request.POST if "answers" in request.POST else None,
        criteria=criteria,
        editing=assessment is not None,
        row_version=assessment.row_version if assessment else None,
        initial=initial,
    )
    sign_form = SignForm(request.POST if "sign" in request.POST else None)
    if "answers" in request.POST and form.is_valid():
        try:
            services.record_eligibility(
                participant=participant,
                answers=form.answers(),
                assessed_on=form.cleaned_data["assessed_on"],
                user=request.user,
                reason=form.cleaned_data.get("reason_for_change", ""),
                expected_version=form.cleaned_data.get("row_version"),
            )
        except services.JourneyError as exc:
            _refusal(form, exc)
        except StaleRecord as exc:
            form.add_error(None, exc.message())
        except ValidationError as exc:
            for code, errors in exc.message_dict.items():
                name = f"c_{code}" if f"c_{code}" in form.fields else None
                if code in ("reason_for_change", "assessed_on") and code in form.fields:
                    name = code
                for error in errors:
                    form.add_error(name, error)
        else:
            messages.success(request, _("Eligibility answers saved."))
            return redirect("patients:eligibility", pk=participant.pk)
    if "sign" in request.POST and sign_form.is_valid():
        try:
            services.confirm_eligibility(
                participant=participant,
                user=request.user,
                password=sign_form.cleaned_data["password"],
            )
        except SignatureError as exc:
            sign_form.add_error("password", str(exc))
        except services.JourneyError as exc:
            sign_form.add_error(None, str(exc))
        else:
            messages.success(request, _("Eligibility confirmed and signed."))
            return redirect("patients:eligibility", pk=participant.pk)
    signatures = (
        Signature.objects.for_object(assessment).filter(meaning=Meaning.ELIGIBILITY_CONFIRMED)
        if assessment
        else []
    )
    return render(
        request,
        "patients/eligibility.html",
        {
            "participant": participant,
            "criteria": criteria,
            "assessment": assessment,
            "form": form,
            "sign_form": sign_form,
            "signature": assessment
            and standing_signature(assessment, Meaning.ELIGIBILITY_CONFIRMED),
            "signatures": signatures,
            "can_enter": access.has_role(
                request.user, participant.study, services.ENTRY_ROLES, participant.site
            ),
            # record_eligibility refuses changes once enrolled: offer no form to refuse.
            "fixed": participant.status
            not in (ParticipantStatus.SCREENING, ParticipantStatus.SCREEN_FAILED),
            "can_sign": access.has_role(
                request.user, participant.study, [Role.INVESTIGATOR], participant.site
            ),
        },
    )


@login_required
def enrol(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    _require_entry(request.user, participant)
    form = EnrolForm(request.POST or None, initial={"baseline_date": participant.site.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.enrol(
                participant=participant,
                baseline_date=form.cleaned_data["baseline_date"],
                consent_date=form.cleaned_data["consent_date"],
                user=request.user,
            )
        except services.JourneyError as exc:
            _refusal(form, exc)
        except services.RandomisationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Participant enrolled; the calendar is ready."))
            return redirect("patients:participant", pk=participant.pk)
    return render(
        request,
        "patients/enrol.html",
        {
            "participant": participant,
            "form": form,
            "confirmed": services.eligibility_confirmed(participant),
        },
    )


@login_required
def end_participation(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    _require_entry(request.user, participant)
    form = EndForm(request.POST or None, initial={"end_date": participant.site.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.end_participation(
                participant=participant,
                end_date=data["end_date"],
                reason=data["reason"],
                completed=data["outcome"] == "completed",
                user=request.user,
            )
        except services.JourneyError as exc:
            _refusal(form, exc)
        else:
            messages.success(request, _("Participation ended; future visits were cancelled."))
            return redirect("patients:participant", pk=participant.pk)
    return render(request, "patients/end.html", {"participant": participant, "form": form})


def _may_unblind(user, participant) -> bool:
    """An emergency unblinding is for a blinded investigator of the participant's site."""
    study = participant.study
    return (
        study.is_blinded_study
        and access.is_blinded(user, study)
        and access.has_role(user, study, [Role.INVESTIGATOR], participant.site)
    )


@login_required
def unblind(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    # Refused before the form: nobody else should even be offered to sign for the arm.
    if not _may_unblind(request.user, participant):
        raise PermissionDenied(
            _(
                "Only a blinded investigator of this participant's site, in a blinded study, "
                "can unblind in an emergency."
            )
        )
    form = UnblindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.emergency_unblind(
                participant=participant,
                user=request.user,
                password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
            )
        except SignatureError as exc:
            form.add_error("password", str(exc))
        except services.JourneyError as exc:
            _refusal(form, exc)
        else:
            messages.warning(
                request,
                _("Unblinded. The study admins will be told within minutes."),
            )
            return redirect("patients:participant", pk=participant.pk)
    return render(request, "patients/unblind.html", {"participant": participant, "form": form})


@login_required
def reconsent(request, pk: int):
    """Move a participant to the active amendment: future visits and doses follow it."""
    participant = get_participant_or_404(request.user, pk)
    _require_entry(request.user, participant)
    version = participant.study.active_version()
    form = ReconsentForm(request.POST or None, initial={"consent_date": participant.site.today()})
    if request.method == "POST" and form.is_valid() and version is not None:
        try:
            services.reconsent(
                participant=participant,
                version=version,
                consent_date=form.cleaned_data["consent_date"],
                user=request.user,
            )
        except services.CalendarError as exc:
            form.add_error(None, str(exc))
        except services.JourneyError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request, _("Re-consented to version %s; the calendar was updated.") % version.label
            )
            return redirect("patients:participant", pk=participant.pk)
    return render(
        request,
        "patients/reconsent.html",
        {"participant": participant, "form": form, "version": version},
    )


def _amendment(participant):
    """The study's active version when the participant is not on it yet (re-consent).

    A participant on an active version is on the study's one active version (a constraint
    keeps it unique): the question needs no query then."""
    if participant.protocol_version.status == VersionStatus.ACTIVE:
        return None
    active = participant.study.active_version()
    return active if active and active.pk != participant.protocol_version_id else None


@login_required
def participant_detail(request, pk: int):
    # The consents listed, and the date bounds the capture panel's plots use, come with the
    # participant (one query), not each in a query of its own.
    consents = Consent.objects.filter(participant=OuterRef("pk")).order_by("consent_date", "pk")
    participant = get_participant_or_404(
        request.user,
        pk,
        participants=with_date_bounds(Participant.objects.all()).annotate(
            consent_dates=ArraySubquery(consents.values("consent_date")),
            consent_versions=ArraySubquery(consents.values("protocol_version__label")),
        ),
    )
    study = participant.study
    amendment = _amendment(participant)
    return render(
        request,
        "patients/participant_detail.html",
        {
            "participant": participant,
            "arm": arm_display(request.user, participant),
            "consents": list(
                zip(participant.consent_dates, participant.consent_versions, strict=True)
            ),
            "can_enter": access.has_role(
                request.user, study, services.ENTRY_ROLES, participant.site
            ),
            "panels": participant_panels(),
            "amendment": amendment,
            "can_unblind": _may_unblind(request.user, participant),
        },
    )
