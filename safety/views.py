"""Adverse event pages: report, follow-up, the AE page with its clocks, review and history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.editing import StaleRecord
from audit.history import history_for
from core.filters import valid_filters
from patients.selectors import get_participant_or_404
from signatures.models import Meaning, Signature
from signatures.services import SignatureError
from trials import access
from trials.models import Site

from . import services
from .forms import AdverseEventFilterForm, AdverseEventForm, ReportDatesForm, SignForm, VoidForm
from .models import CLINICAL_FIELDS, AdverseEvent, Grade, Relationship


def _add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (others as non-field errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def injection_site_reaction_initial(participant, dose_id) -> dict:
    """Prefill the AE form from a local reaction recorded on one of the participant's doses.

    Only what the dose record states is copied (term, onset); grading, causality and
    expectedness stay the reporter's judgement.
    """
    from assessments.models import DoseAdministration

    if not dose_id or not str(dose_id).isdigit():
        return {}
    dose = DoseAdministration.objects.filter(
        pk=dose_id, planned_dose__participant=participant
    ).first()
    if dose is None or dose.local_reaction in ("", "none"):
        return {}
    where = f" ({dose.get_injection_site_display()})" if dose.injection_site else ""
    term = f"Injection site reaction{where}: {dose.get_local_reaction_display()}"
    if dose.notes:
        term = f"{term} – {dose.notes}"[:200]
    return {"term": term, "onset_date": dose.administered_on}


@login_required
def report_adverse_event(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    if not services.can_enter(request.user, participant):
        raise PermissionDenied(_("Your role in this study does not allow this."))
    form = AdverseEventForm(
        request.POST or None,
        participant=participant,
        initial=injection_site_reaction_initial(participant, request.GET.get("from_dose")),
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CLINICAL_FIELDS}
        try:
            adverse_event = services.report_adverse_event(
                participant=participant, user=request.user, **fields
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Adverse event recorded."))
            return redirect(adverse_event)
    return render(
        request,
        "safety/ae_form.html",
        {"form": form, "participant": participant, "adverse_event": None},
    )


@login_required
def edit_adverse_event(request, pk: int):
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    participant = adverse_event.participant
    if not services.can_enter(request.user, participant):
        raise PermissionDenied(_("Your role in this study does not allow this."))
    if adverse_event.is_voided:
        messages.error(request, _("This adverse event was voided and can no longer be changed."))
        return redirect(adverse_event)
    form = AdverseEventForm(request.POST or None, instance=adverse_event, participant=participant)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_adverse_event(
                adverse_event=adverse_event,
                user=request.user,
                changes={name: form.cleaned_data[name] for name in CLINICAL_FIELDS},
                reason=form.cleaned_data["reason_for_change"],
                expected_version=form.cleaned_data.get("row_version"),
            )
        except StaleRecord as exc:
            form.add_error(None, exc.message())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Adverse event updated."))
            return redirect("safety:detail", pk)
    return render(
        request,
        "safety/ae_form.html",
        {"form": form, "participant": participant, "adverse_event": adverse_event},
    )


def _detail(request, adverse_event: AdverseEvent, status: int = 200, **forms):
    user, participant = request.user, adverse_event.participant
    signatures = list(Signature.objects.for_object(adverse_event).filter(meaning=Meaning.REVIEWED))
    standing = services.review_signatures([adverse_event]).get(adverse_event.pk)
    latest_voided = next((s for s in reversed(signatures) if s.voided_at), None)
    context = {
        "ae": adverse_event,
        "participant": participant,
        "site_tz": participant.site.timezone,
        "deadlines": adverse_event.deadlines(),
        "standing": standing,
        "latest_voided": None if standing else latest_voided,
        "signatures": signatures,
        "history": history_for(adverse_event),
        "can_edit": services.can_enter(user, participant) and not adverse_event.is_voided,
        "can_sign": services.can_sign(user, participant) and not adverse_event.is_voided,
        "can_report": services.can_record_reports(user, participant)
        and not adverse_event.is_voided,
        "can_void": services.can_void(user, participant) and not adverse_event.is_voided,
        "sign_form": forms.get("sign_form")
        or SignForm(initial={"row_version": adverse_event.row_version}),
        "report_form": forms.get("report_form") or ReportDatesForm(adverse_event=adverse_event),
        "void_form": forms.get("void_form")
        or VoidForm(initial={"row_version": adverse_event.row_version}),
    }
    return render(request, "safety/ae_detail.html", context, status=status)


@login_required
def adverse_event_detail(request, pk: int):
    return _detail(request, services.get_adverse_event_or_404(request.user, pk))


@login_required
@require_POST
def sign_adverse_event(request, pk: int):
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    if not services.can_sign(request.user, adverse_event.participant):
        raise PermissionDenied(_("Only an investigator of this site signs adverse events."))
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            services.sign_adverse_event(
                adverse_event=adverse_event,
                user=request.user,
                password=form.cleaned_data["password"],
                expected_version=form.cleaned_data["row_version"],
            )
        except StaleRecord:
            form.add_error(
                None,
                _("The adverse event changed after you opened it. Review it again, then sign."),
            )
        except services.AlreadyReviewed as exc:
            form.add_error(None, str(exc))
        except SignatureError as exc:
            form.add_error("password", str(exc))
        else:
            messages.success(request, _("Adverse event signed as reviewed."))
            return redirect(adverse_event)
    return _detail(request, adverse_event, status=400, sign_form=form)


@login_required
@require_POST
def record_reports(request, pk: int):
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    if not services.can_record_reports(request.user, adverse_event.participant):
        raise PermissionDenied(_("Your role in this study does not allow this."))
    form = ReportDatesForm(request.POST, adverse_event=adverse_event)
    if form.is_valid():
        try:
            services.record_reports(
                adverse_event=adverse_event,
                user=request.user,
                reported=form.reported(),
                reason=form.cleaned_data["reason_for_change"],
                **form.sponsor_awareness(),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Report times saved."))
            return redirect(adverse_event)
    return _detail(request, adverse_event, status=400, report_form=form)


@login_required
@require_POST
def void_adverse_event(request, pk: int):
    adverse_event = services.get_adverse_event_or_404(request.user, pk)
    if not services.can_void(request.user, adverse_event.participant):
        raise PermissionDenied(_("Only an investigator of this site voids adverse events."))
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.void_adverse_event(
                adverse_event=adverse_event,
                user=request.user,
                reason=form.cleaned_data["void_reason"],
                expected_version=form.cleaned_data["row_version"],
            )
        except StaleRecord:
            form.add_error(None, _("The adverse event changed after you opened it."))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Adverse event voided."))
            return redirect(adverse_event)
    return _detail(request, adverse_event, status=400, void_form=form)


#: Events per page of the listing and the review queue: each page is read in its order from
#: an index (ae_listing_order_idx, ae_review_queue_order_idx), whatever the study's size.
PAGE_SIZE = 50
#: The queue is a to-do list read from the top (the nearest deadline first) and each of its
#: rows carries the event's report countdowns: half a listing's page keeps it quick to draw.
QUEUE_PAGE_SIZE = 25


def _count_rows(counts: dict) -> dict:
    """Counts with their labels, in the order of the scales."""
    return {
        "total": counts["total"],
        "by_grade": [(Grade(g).label, n) for g, n in counts["by_grade"].items()],
        "by_seriousness": [
            (_("Serious"), counts["by_seriousness"]["serious"]),
            (_("Non-serious"), counts["by_seriousness"]["non_serious"]),
        ],
        "by_relationship": [
            (Relationship(r).label, n) for r, n in counts["by_relationship"].items()
        ],
    }


def _listing(request, code: str, *, queue: bool):
    study = access.get_study_or_404(request.user, code)
    sites = Site.objects.visible_to(request.user).filter(study=study)
    filters = AdverseEventFilterForm(request.GET or None, sites=sites)
    chosen = valid_filters(filters)
    serious = {"true": True, "false": False}.get(chosen.get("serious") or "")
    adverse_events = (
        AdverseEvent.objects.visible_to(request.user)
        .for_study(study)
        .live()
        .select_related("participant__site", "visit")
        .matching(
            site=chosen.get("site"),
            grade=chosen.get("grade"),
            serious=serious,
            relationship=chosen.get("relationship"),
            reviewed=False if queue else None,
        )
    )
    ordered = adverse_events.review_queue_order() if queue else adverse_events
    counts = adverse_events.counts()
    paginator = Paginator(ordered, QUEUE_PAGE_SIZE if queue else PAGE_SIZE)
    # The counts' total is the number of rows paged through: no second COUNT of them.
    paginator.count = counts["total"]
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "safety/ae_queue.html" if queue else "safety/ae_listing.html",
        {
            "study": study,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "counts": _count_rows(counts),
            "signatures": services.review_signatures(page.object_list),
            "queue": queue,
        },
    )


@login_required
def study_listing(request, code: str):
    """Every AE of the study at the user's sites, with counts (no arm: nobody needs it)."""
    return _listing(request, code, queue=False)


@login_required
def review_queue(request, code: str):
    """Unreviewed AEs, the nearest report deadline first, then severity, then age."""
    return _listing(request, code, queue=True)
