"""Writing protocols: import a protocol file, export it back, activate an amendment.

The file format and its validation live in `trials.protocol_file`; this module maps a valid
`ProtocolSpec` onto the models and back, inside one transaction, so an import is all or
nothing. Loading a changed file for an existing study creates a new *draft* version:
activating it is a separate, explicit step (`activate_version`).
"""

from dataclasses import replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.tracking import acting
from core.errors import ConflictError, NotAllowed

from . import access
from .forms.spec import form_to_data, json_ready
from .models import (
    Arm,
    DosingPhase,
    EligibilityCriterion,
    FormDefinition,
    Membership,
    ProtocolVersion,
    ReminderRule,
    Site,
    Stratum,
    Study,
    VersionStatus,
    VisitDefinition,
)
from .protocol_file import (
    ArmSpec,
    CriterionSpec,
    CycleSpec,
    DosingSpec,
    PhaseSpec,
    ProtocolFileError,
    ProtocolSpec,
    ReminderSpec,
    SiteSpec,
    StratumSpec,
    StudySpec,
    VersionSpec,
    VisitSpec,
    dump_protocol,
    parse_protocol,
)


class ProtocolConflict(ConflictError):
    """The file cannot be loaded as it stands (e.g. a label reused for different content)."""


class MembershipRefused(NotAllowed):
    """A membership change the acting user may not make (their own, or an unblinding)."""


@transaction.atomic
def set_membership_blinding(*, membership: Membership, blinded: bool, user, reason: str):
    """Blind or unblind a membership: an explicit, audited act with a reason.

    Unblinding opens the allocation to someone, so it takes a second person who already
    sees it: a study admin of the study who is not blinded there (or an operator), never
    the member themselves. Blinding is the safe direction, open to any study admin of the
    study, but still not to the member (nobody changes their own membership).
    """
    membership = (
        Membership.objects.select_for_update().select_related("study").get(pk=membership.pk)
    )
    study = membership.study
    if not reason.strip():
        raise MembershipRefused(_("Give the reason for this change."))
    if membership.user_id == user.pk:
        raise MembershipRefused(_("Nobody changes their own membership."))
    if not access.administered_studies(user).filter(pk=study.pk).exists():
        raise MembershipRefused(_("You do not administer study %s.") % study.code)
    if not blinded and not user.is_superuser and access.is_blinded(user, study):
        raise MembershipRefused(
            _("Only a study admin who is not blinded in %s can unblind a membership.") % study.code
        )
    if membership.is_blinded == blinded:
        return membership
    action = "Membership blinded" if blinded else "Membership unblinded"
    with acting(user, f"{action}: {reason.strip()}"):
        membership.is_blinded = blinded
        membership.save(update_fields=["is_blinded"])
    return membership


def spec_from_version(version: ProtocolVersion) -> ProtocolSpec:
    """The protocol file content of a stored version (for export, calendars and comparison)."""
    study = version.study
    return ProtocolSpec(
        study=StudySpec(
            code=study.code,
            title=study.title,
            phase=study.phase,
            blinding=study.blinding,
            sponsor=study.sponsor,
            registry_id=study.registry_id,
        ),
        version=VersionSpec(
            label=version.label,
            effective=version.effective_date,
            screening_number_pattern=version.screening_number_pattern,
            blinded_results=tuple(version.blinded_results),
        ),
        sites=tuple(SiteSpec(s.code, s.name, s.timezone) for s in study.sites.all()),
        arms=tuple(ArmSpec(a.code, a.name, a.ratio, a.is_placebo) for a in version.arms.all()),
        strata=tuple(StratumSpec(s.code, s.name) for s in version.strata.all()),
        eligibility=tuple(
            CriterionSpec(
                id=c.code,
                kind=c.kind,
                text=c.text,
                type=c.answer_type,
                min=_plain(c.min_value),
                max=_plain(c.max_value),
            )
            for c in version.criteria.all()
        ),
        dosing=DosingSpec(
            drug=version.drug,
            phases=tuple(phase_specs(version)),
            dose_levels=tuple(_plain(level) for level in version.dose_levels),
        ),
        visits=tuple(visit_spec(v) for v in version.visits.order_by("order")),
        reminders=tuple(
            ReminderSpec(
                event=r.event,
                notify=tuple(r.notify),
                before_days=r.before_days,
                after_days=r.after_days,
                before_hours=r.before_hours,
            )
            for r in version.reminder_rules.all()
        ),
        forms=tuple(definition.form for definition in version.forms.order_by("order")),
    )


def phase_spec(phase: DosingPhase) -> PhaseSpec:
    cycles = None
    if phase.cycle_count is not None:
        cycles = CycleSpec(phase.cycle_count, phase.cycle_dosing_weeks, phase.cycle_rest_weeks)
    return PhaseSpec(
        name=phase.name,
        weeks=(phase.start_week, phase.end_week),
        dose=_plain(phase.dose),
        unit=phase.unit,
        route=phase.route,
        arm=phase.arm.code if phase.arm_id is not None else None,
        per=phase.per or None,
        round_to=_plain(phase.round_to),
        days_per_week=phase.days_per_week,
        days=tuple(phase.days) if phase.days is not None else None,
        weekdays=tuple(phase.weekdays) if phase.weekdays is not None else None,
        every_days=phase.every_days,
        every_weeks=phase.every_weeks,
        cycles=cycles,
        resize=phase.resize or None,
    )


def phase_specs(version: ProtocolVersion) -> list[PhaseSpec]:
    """The version's dosing phases in file order."""
    return [phase_spec(p) for p in version.dosing_phases.select_related("arm").order_by("order")]


def visit_spec(visit: VisitDefinition) -> VisitSpec:
    return VisitSpec(
        code=visit.code,
        name=visit.name,
        day=visit.study_day,
        window=(visit.window_minus, visit.window_plus),
        forms=tuple(visit.forms),
        screening=visit.is_screening,
        cycle=visit.cycle,
    )


def _plain(value):
    """A stored Decimal without the trailing zeros of its column (1.000 → 1), as in files."""
    if value is None:
        return None
    normalized = value.normalize()
    return normalized.quantize(1) if normalized == normalized.to_integral() else normalized


def _without_study_fields(spec: ProtocolSpec) -> ProtocolSpec:
    """What makes a version: the study's own fields and sites are not versioned."""
    return replace(spec, study=None, sites=())


@transaction.atomic
def load_protocol(
    spec: ProtocolSpec, *, user=None, reason: str = "Protocol file imported", activate=False
) -> tuple[ProtocolVersion, bool]:
    """Create or amend a study from a protocol file. Returns (version, created).

    - a new study gets its first version (a draft unless `activate`);
    - a file identical to a stored version changes nothing;
    - a changed file creates a new draft version, which must carry a new label.
    Sites are added or renamed, never removed (participants may be attached to them).
    """
    with acting(user, reason):
        study, _created = Study.objects.select_for_update().get_or_create(
            code=spec.study.code,
            defaults={
                "title": spec.study.title,
                "phase": spec.study.phase,
                "blinding": spec.study.blinding,
                "sponsor": spec.study.sponsor,
                "registry_id": spec.study.registry_id,
            },
        )
        _update_study(study, spec)
        for site in spec.sites:
            Site.objects.update_or_create(
                study=study, code=site.code, defaults={"name": site.name, "timezone": site.timezone}
            )
        existing = study.versions.filter(label=spec.version.label).first()
        if existing is not None:
            if _without_study_fields(spec_from_version(existing)) != _without_study_fields(spec):
                raise ProtocolConflict(
                    _(
                        "Version %(label)s of %(study)s already exists with different content. "
                        "Give the amendment a new version label."
                    )
                    % {"label": spec.version.label, "study": study.code}
                )
            if activate and existing.status == VersionStatus.DRAFT:
                existing = activate_version(existing, user=user)
            return existing, False
        version = _create_version(study, spec)
        if activate:
            version = activate_version(version, user=user)
        return version, True


def _update_study(study: Study, spec: ProtocolSpec) -> None:
    changed = False
    for field in ("title", "phase", "sponsor", "registry_id"):
        value = getattr(spec.study, field)
        if getattr(study, field) != value:
            setattr(study, field, value)
            changed = True
    if study.blinding != spec.study.blinding:
        if study.versions.exclude(status=VersionStatus.DRAFT).exists():
            raise ProtocolConflict(
                _("The blinding of %(study)s cannot change once a version has been active.")
                % {"study": study.code}
            )
        study.blinding = spec.study.blinding
        changed = True
    if changed:
        study.save()


def _create_version(study: Study, spec: ProtocolSpec) -> ProtocolVersion:
    version = ProtocolVersion.objects.create(
        study=study,
        label=spec.version.label,
        effective_date=spec.version.effective,
        screening_number_pattern=spec.version.screening_number_pattern,
        drug=spec.dosing.drug,
        dose_levels=list(spec.dosing.dose_levels),
        blinded_results=list(spec.version.blinded_results),
    )
    arms = Arm.objects.bulk_create(
        Arm(version=version, order=i, code=a.code, name=a.name, ratio=a.ratio, is_placebo=a.placebo)
        for i, a in enumerate(spec.arms)
    )
    arm_by_code = {arm.code: arm for arm in arms}
    Stratum.objects.bulk_create(
        Stratum(version=version, order=i, code=s.code, name=s.name)
        for i, s in enumerate(spec.strata)
    )
    EligibilityCriterion.objects.bulk_create(
        EligibilityCriterion(
            version=version,
            order=i,
            code=c.id,
            kind=c.kind,
            text=c.text,
            answer_type=c.type,
            min_value=c.min,
            max_value=c.max,
        )
        for i, c in enumerate(spec.eligibility)
    )
    DosingPhase.objects.bulk_create(
        DosingPhase(
            version=version,
            order=i,
            name=p.name,
            start_week=p.weeks[0],
            end_week=p.weeks[1],
            arm=arm_by_code[p.arm] if p.arm is not None else None,
            dose=p.dose,
            unit=p.unit,
            route=p.route,
            per=p.per or "",
            round_to=p.round_to,
            days_per_week=p.days_per_week,
            days=list(p.days) if p.days is not None else None,
            weekdays=list(p.weekdays) if p.weekdays is not None else None,
            every_days=p.every_days,
            every_weeks=p.every_weeks,
            cycle_count=p.cycles.count if p.cycles else None,
            cycle_dosing_weeks=p.cycles.dosing_weeks if p.cycles else None,
            cycle_rest_weeks=p.cycles.rest_weeks if p.cycles else None,
            resize=p.resize or "",
        )
        for i, p in enumerate(spec.dosing.phases)
    )
    VisitDefinition.objects.bulk_create(
        VisitDefinition(
            version=version,
            order=i,
            code=v.code,
            name=v.name,
            study_day=v.day,
            window_minus=v.window[0],
            window_plus=v.window[1],
            forms=list(v.forms),
            is_screening=v.screening,
            cycle=v.cycle,
        )
        for i, v in enumerate(spec.visits)
    )
    ReminderRule.objects.bulk_create(
        ReminderRule(
            version=version,
            order=i,
            event=r.event,
            notify=list(r.notify),
            before_days=r.before_days,
            after_days=r.after_days,
            before_hours=r.before_hours,
        )
        for i, r in enumerate(spec.reminders)
    )
    FormDefinition.objects.bulk_create(
        FormDefinition(
            version=version,
            order=i,
            code=form.code,
            name=form.name.to_data(),
            spec=json_ready(form_to_data(form)),
            content_hash=form.content_hash,
        )
        for i, form in enumerate(spec.forms)
    )
    return version


#: Participant statuses still following a protocol (`patients.models.ParticipantStatus`;
#: named here as values because `trials` sits below `patients`).
_FOLLOWING_A_PROTOCOL = ("screening", "enrolled")


def activation_preview(version: ProtocolVersion) -> dict:
    """What activating this draft changes, for the admin to confirm before doing it.

    The active version is retired; the study's participants still following another
    version are to be re-consented to this one, and the enrolled among them get their
    calendars (future visits and doses) regenerated when they are.
    """
    study = version.study
    following = study.participants.filter(status__in=_FOLLOWING_A_PROTOCOL).exclude(
        protocol_version=version
    )
    return {
        "version": version,
        "retiring": study.active_version(),
        "participants_to_reconsent": following.count(),
        "calendars_to_regenerate": following.filter(status="enrolled").count(),
    }


@transaction.atomic
def activate_version(version: ProtocolVersion, *, user=None) -> ProtocolVersion:
    """Make a draft the version new participants enrol on; the previous one is retired.

    Participants already on the previous version stay on it until they are re-consented
    to the new one (`patients.services.reconsent`).
    """
    version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ProtocolConflict(
            _("Only a draft can be activated; version %(label)s is %(status)s.")
            % {"label": version.label, "status": version.get_status_display()}
        )
    # A draft edited in the admin has not been through the file's rules (visit order, ...):
    # it must read back as a valid protocol file before participants follow it.
    try:
        parse_protocol(dump_protocol(spec_from_version(version)))
    except ProtocolFileError as exc:
        problems = "; ".join(f"{p.path}: {p.message}" for p in exc.errors)
        raise ProtocolConflict(
            _("Version %(label)s cannot be activated: %(problems)s")
            % {"label": version.label, "problems": problems}
        ) from None
    with acting(user, f"Protocol version {version.label} activated"):
        ProtocolVersion.objects.filter(study=version.study).active().update(
            status=VersionStatus.RETIRED
        )
        version.status = VersionStatus.ACTIVE
        version.activated_at = timezone.now()
        version.save(update_fields=["status", "activated_at"])
    return version
