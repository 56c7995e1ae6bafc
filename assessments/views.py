"""Visit data capture pages: visit, form entry, dose log, deviations.

Views only parse, call the writes (`services`, `dosing`) or the reads (`selectors`) and
render: who may see a participant is `get_participant_or_404` (404 outside the user's studies
and sites), who may write is `entry.can_capture` (coordinators and investigators;
monitors read).
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.editing import StaleRecord
from core.replica import using_replica
from patients import dose_modifications
from patients.models import ModificationKind, ScheduledVisit, VisitStatus
from patients.selectors import (
    can_see_values,
    get_participant_or_404,
    hidden_result_codes,
    may_see_amount_of,
    may_see_dose_amounts,
)
from trials import access
from trials.forms.registry import describe_form

from . import dosing, entry, form_kinds, selectors, services
from .forms import (
    ADD_ROW,
    DoseAdministrationForm,
    DoseModificationForm,
    MissedVisitForm,
    UnscheduledVisitForm,
)


def _visit_or_404(participant, code: str) -> ScheduledVisit:
    visit = (
        ScheduledVisit.objects.live()
        .select_related("definition")
        .filter(participant=participant, code=code)
        .first()
    )
    if visit is None:
        raise Http404(_("No such visit."))
    return visit


@login_required
def visit_detail(request, pk: int, code: str):
    participant = get_participant_or_404(request.user, pk)
    visit = _visit_or_404(participant, code)
    records = selectors.entered_records([visit.pk])[visit.pk]
    protocol_forms = (
        selectors.protocol_capture_forms(visit.protocol_version_id)
        if visit.definition_id is None
        else None
    )
    cells = selectors.hide_blinded_values(
        selectors.form_cells(
            visit,
            records,
            protocol_forms,
            selectors.open_query_counts(records.values()),
            form_kinds.Catalogue([visit.protocol_version_id]),
        ),
        hidden_result_codes(request.user, participant),
    )
    can_edit = entry.can_capture(request.user, participant)
    missed_form = None
    if can_edit and visit.status == VisitStatus.UPCOMING and not records:
        missed_form = MissedVisitForm(initial={"row_version": visit.row_version})
    return render(
        request,
        "assessments/visit.html",
        {
            "participant": participant,
            "visit": visit,
            "cells": cells,
            "can_edit": can_edit,
            "missed_form": missed_form,
            "today": participant.site.today(),
        },
    )


@login_required
def visit_form(request, pk: int, code: str, form_code: str):
    participant = get_participant_or_404(request.user, pk)
    visit = _visit_or_404(participant, code)
    kind = form_kinds.kind_at(visit, form_code)
    if kind is None or form_code not in selectors.forms_for_visit(visit):
        raise Http404(_("This visit has no such form."))
    if not can_see_values(request.user, participant, form_code):
        raise PermissionDenied(_("This form's results are blinded: unblinded staff see them."))
    record = selectors.record_at(visit, form_code)
    catalogue = form_kinds.Catalogue([visit.protocol_version_id])
    label = selectors.form_label(form_code, catalogue)
    can_edit = entry.can_capture(request.user, participant)
    conflict = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Your role does not allow entering data."))
        form = kind.page_form(
            form_code, visit=visit, record=record, participant=participant, data=request.POST
        )
        # "Add a row" posts back what was typed and shows another blank row: nothing saved.
        if not request.POST.get(ADD_ROW) and form.is_valid():
            try:
                captured = services.capture_form(
                    participant=participant,
                    visit=visit,
                    form_code=form_code,
                    visit_date=form.cleaned_data["visit_date"],
                    answers=form.answers(),
                    user=request.user,
                    expected_version=form.cleaned_data["row_version"],
                    reason=form.cleaned_data["reason_for_change"],
                    confirm=form.confirmed(),
                )
            except ValidationError as exc:
                form.show_errors(exc)
            except StaleRecord as exc:
                conflict = exc
                form.add_error(None, exc.message())
                form.keep_input_after_conflict(exc.current)
                record = exc.current
            else:
                messages.success(
                    request,
                    _("%(form)s saved for visit %(visit)s.") % {"form": label, "visit": visit.code},
                )
                if captured.visit.is_out_of_window:
                    messages.warning(
                        request,
                        _(
                            "Visit %(visit)s took place outside its window (%(start)s to "
                            "%(end)s): it is recorded as a protocol deviation."
                        )
                        % {
                            "visit": visit.code,
                            "start": visit.window_start,
                            "end": visit.window_end,
                        },
                    )
                return redirect("assessments:visit", pk=participant.pk, code=visit.code)
    else:
        form = kind.page_form(form_code, visit=visit, record=record, participant=participant)
        if not can_edit:
            form.disable()
    return render(
        request,
        "assessments/visit_form.html",
        {
            "participant": participant,
            "visit": visit,
            "form": form,
            "form_code": form_code,
            "form_label": label,
            "record": record,
            "kind": kind.name,
            "form_description": describe_form(form.spec) if kind is form_kinds.PROTOCOL else None,
            "audit_label": record._meta.label_lower if record is not None else None,
            "can_edit": can_edit,
            "conflict": conflict,
        },
    )


@login_required
@require_POST
def visit_missed(request, pk: int, code: str):
    participant = get_participant_or_404(request.user, pk)
    visit = _visit_or_404(participant, code)
    form = MissedVisitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the visit was missed."))
        return redirect("assessments:visit", pk=participant.pk, code=visit.code)
    try:
        services.mark_visit_missed(
            visit=visit,
            reason=form.cleaned_data["reason"],
            user=request.user,
            expected_version=form.cleaned_data["row_version"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except StaleRecord as exc:
        messages.error(request, exc.message())
    else:
        messages.success(request, _("Visit %(visit)s recorded as missed.") % {"visit": visit.code})
    return redirect("assessments:visit", pk=participant.pk, code=visit.code)


@login_required
def unscheduled_visit(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    if not entry.can_capture(request.user, participant):
        raise PermissionDenied(_("Your role does not allow entering data."))
    form = UnscheduledVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.add_unscheduled_visit(
                participant=participant,
                visit_date=form.cleaned_data["visit_date"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ValidationError as exc:
            form.show_errors(exc)
        else:
            messages.success(
                request, _("Unscheduled visit %(visit)s added.") % {"visit": visit.code}
            )
            return redirect("assessments:visit", pk=participant.pk, code=visit.code)
    return render(
        request, "assessments/unscheduled_visit.html", {"participant": participant, "form": form}
    )


@login_required
def dose_log(request, pk: int):
    participant = get_participant_or_404(request.user, pk)
    form = None
    if dose_modifications.may_modify_dosing(request.user, participant):
        form = _modification_form(request, participant)
    return _render_dose_log(request, participant, form)


def _modification_form(request, participant, data=None):
    return DoseModificationForm(
        data,
        levels=dose_modifications.dose_levels(participant),
        unit=participant.doses.values_list("unit", flat=True).first() or "",
        show_amounts=may_see_dose_amounts(request.user, participant),
        initial={"from_date": participant.site.today()},
    )


def _render_dose_log(request, participant, form, status=200):
    today = participant.site.today()
    doses = list(dosing.log_doses(participant))
    modifications = list(
        participant.dose_modifications.select_related("decided_by").order_by("decided_at", "pk")
    )
    rows = [(dose, dosing.dose_state(dose, today)) for dose in doses]
    return render(
        request,
        "assessments/dose_log.html",
        {
            "participant": participant,
            "rows": rows,
            "adherence": dosing.adherence(doses, today),
            "today": today,
            "can_edit": entry.can_capture(request.user, participant),
            "modifications": modifications,
            "levels": dosing.reduction_levels(doses, modifications),
            "show_amounts": may_see_dose_amounts(request.user, participant),
            "hide_amount": access.dose_amount_hidden(request.user, participant.study),
            "stopped": any(m.kind == ModificationKind.STOP for m in modifications),
            "modification_form": form,
        },
        status=status,
    )


@login_required
@require_POST
def dose_modify(request, pk: int):
    """An investigator holds, resumes, reduces or stops dosing from the dose log."""
    participant = get_participant_or_404(request.user, pk)
    if not dose_modifications.may_modify_dosing(request.user, participant):
        raise PermissionDenied(_("Only an investigator may change a participant's dosing."))
    form = _modification_form(request, participant, request.POST)
    if form.is_valid():
        try:
            modification = dose_modifications.modify_dosing(
                participant=participant, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.show_errors(exc)
        else:
            messages.success(
                request,
                _("%(decision)s recorded: %(count)d planned doses changed.")
                % {
                    "decision": modification.get_kind_display(),
                    "count": modification.planned_doses.count(),
                },
            )
            return redirect("assessments:doses", pk=participant.pk)
    return _render_dose_log(request, participant, form, status=400)


@login_required
def dose_record(request, pk: int, dose_pk: int):
    participant = get_participant_or_404(request.user, pk)
    dose = participant.doses.in_log().select_related("administration").filter(pk=dose_pk).first()
    if dose is None:
        raise Http404(_("No such planned dose."))
    record = getattr(dose, "administration", None)
    can_edit = entry.can_capture(request.user, participant)
    hide_amount = access.dose_amount_hidden(request.user, participant.study)
    show_amount = may_see_amount_of(request.user, participant, dose)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Your role does not allow entering data."))
        form = DoseAdministrationForm(
            request.POST, planned_dose=dose, record=record, show_amount=show_amount
        )
        if form.is_valid():
            try:
                dosing.record_dose(
                    planned_dose=dose,
                    user=request.user,
                    expected_version=form.cleaned_data["row_version"],
                    reason=form.cleaned_data["reason_for_change"],
                    confirm=form.confirmed(),
                    **form.values(),
                )
            except ValidationError as exc:
                form.show_errors(exc)
            except StaleRecord as exc:
                form.add_error(None, exc.message())
                form.keep_input_after_conflict(exc.current)
                record = exc.current
            else:
                messages.success(request, _("Dose of %(date)s recorded.") % {"date": dose.date})
                return redirect("assessments:doses", pk=participant.pk)
    else:
        form = DoseAdministrationForm(planned_dose=dose, record=record, show_amount=show_amount)
        if not can_edit:
            form.disable()
    return render(
        request,
        "assessments/dose_form.html",
        {
            "participant": participant,
            "dose": dose,
            "show_amounts": show_amount,
            "level": dosing.reduction_levels(
                [dose], participant.dose_modifications.filter(kind=ModificationKind.REDUCE)
            ).get(dose.pk),
            "form": form,
            "record": record,
            "can_edit": can_edit,
            "hide_amount": hide_amount,
        },
    )


@login_required
def dashboard(request):
    """The coordinator dashboard's old address: its lists are the home page's coordinator
    section now (`assessments.worklist`)."""
    return redirect(reverse("home") + "#work-coordinator")


@login_required
def deviations_csv(request, code: str):
    """Protocol deviations of a study (visits out of window, missed visits) as CSV."""
    study = access.get_study_or_404(request.user, code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.code}-deviations.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "study",
            "site",
            "subject_id",
            "visit",
            "visit_name",
            "deviation",
            "target_date",
            "window_start",
            "window_end",
            "actual_date",
            "days_outside_window",
            "reason",
        ]
    )
    with using_replica():  # an export: read from the replica, if any (access checked above)
        deviations = list(selectors.deviations_for(request.user, study))
    for deviation in deviations:
        visit = deviation.visit
        writer.writerow(
            [
                study.code,
                visit.participant.site.code,
                visit.participant.subject_id or visit.participant.screening_number,
                visit.code,
                visit.name,
                deviation.kind,
                visit.target_date.isoformat(),
                visit.window_start.isoformat(),
                visit.window_end.isoformat(),
                visit.actual_date.isoformat() if visit.actual_date else "",
                "" if deviation.days_outside is None else deviation.days_outside,
                _cell(visit.status_reason),
            ]
        )
    return response


def _cell(text: str) -> str:
    """Free text as a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
