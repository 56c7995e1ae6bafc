"""The one access layer: who may see and do what, for pages, API and exports alike.

Rules (docs/ARCHITECTURE.md, "The request path", Access):
- a user sees a study only through an active membership in it;
- site-bound records are visible for the membership's site, or every site when the
  membership has none;
- a user holding any blinded membership in a study is blinded in that study (the
  conservative reading: one blinded role is enough to hide the arm).

Anything not visible answers 404, so that a user cannot even learn that a study, site or
participant exists.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Blinding, Membership, Role, Study, VersionStatus


def site_scope(user, *, study_field: str = "study", site_field: str = "site") -> Q:
    """A filter selecting rows whose (study, site) the user may see.

    Used by every `visible_to(user)` queryset method of site-bound models. It names the
    studies and sites by id, from the memberships the request has read once (`memberships`):
    as two membership sub-selects, PostgreSQL planned them afresh in every query of every
    page (about 2 ms a query, make bench).
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    held = memberships(user)
    studies = sorted({m.study_id for m in held if m.site_id is None})
    sites = sorted({m.site_id for m in held if m.site_id is not None})
    return Q(**{f"{study_field}__in": studies}) | Q(**{f"{site_field}__in": sites})


def memberships(user) -> list[Membership]:
    """The user's active memberships, with study and site, loaded once per user object (a
    request's user lives as long as the request): the navigation bar, the home page and
    every per-study check of a page read the same list."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_memberships", None)
    if cached is None:
        cached = list(Membership.objects.for_user(user).select_related("study", "site"))
        user._memberships = cached
    return cached


def memberships_in(user, study: Study) -> list[Membership]:
    return [m for m in memberships(user) if m.study_id == study.pk]


def roles_in(user, study: Study, site=None) -> set[str]:
    """The user's roles in the study; with a site, only roles that cover that site."""
    return {
        m.role
        for m in memberships_in(user, study)
        if site is None or m.site_id is None or m.site_id == site.pk
    }


def has_role(user, study: Study, roles: Iterable[str], site=None) -> bool:
    return bool(roles_in(user, study, site) & set(roles))


def require_role(user, study: Study, roles: Iterable[str], site=None) -> None:
    if not has_role(user, study, roles, site):
        raise PermissionDenied(_("Your role in this study does not allow this."))


def is_blinded(user, study: Study) -> bool:
    """True when allocation must be hidden from this user in this study."""
    if not study.is_blinded_study:
        return False
    members = memberships_in(user, study)
    return not members or any(m.is_blinded for m in members)


def _arm_phases(study):
    from trials.models import DosingPhase

    return DosingPhase.objects.filter(version__study=study, arm__isnull=False)


def amount_reveals_arm(study: Study) -> bool:
    """True when a planned dose's amount tells its arm: a blinded study whose arms have
    phases of their own. The protocol file accepts such phases in a blinded study only when
    every arm's schedule is the same, so what differs is the amount (a dose level, or a
    placebo's 0)."""
    return study.is_blinded_study and _arm_phases(study).exists()


def amount_reveals_arm_expression(study_field: str) -> ExpressionWrapper:
    """`amount_reveals_arm` as an expression over rows reaching their study through
    `study_field`, to annotate many rows in one query (the reminder sweep)."""
    return ExpressionWrapper(
        ~Q(**{f"{study_field}__blinding": Blinding.OPEN})
        & Exists(_arm_phases(OuterRef(study_field))),
        output_field=BooleanField(),
    )


def studies_hiding_amounts(user, studies) -> set[int]:
    """The ids of those `studies` whose dose amounts this user must not see, in one query
    (none when the user is blinded in none of them)."""
    from trials.models import DosingPhase

    blinded = [study.pk for study in studies if is_blinded(user, study)]
    if not blinded:
        return set()
    return set(
        DosingPhase.objects.filter(version__study__in=blinded, arm__isnull=False)
        .values_list("version__study", flat=True)
        .distinct()
    )


def dose_amount_hidden(user, study: Study) -> bool:
    """True when this user must not see dose amounts in this study (they see the study drug
    and the schedule): a blinded user where the amount tells the arm."""
    return is_blinded(user, study) and amount_reveals_arm(study)


def get_study_or_404(user, code: str) -> Study:
    study = Study.objects.visible_to(user).filter(code=code).first()
    if study is None:
        raise Http404("No such study.")
    return study


def can_edit_clinical_data(user, study: Study, site=None) -> bool:
    return has_role(user, study, [Role.COORDINATOR, Role.INVESTIGATOR], site)


def can_configure(user, study: Study) -> bool:
    return has_role(user, study, [Role.STUDY_ADMIN])


def administered_studies(user):
    """The studies whose configuration the user may change: every one for an operator."""
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.administered_by(user)


def readable_versions(user, study: Study):
    """The protocol versions the user may read: drafts are the study admins' working copies.

    Everyone else reads the versions that have been in force (active, and retired ones,
    which participants not yet re-consented still follow).
    """
    versions = study.versions.all()
    if can_configure(user, study):
        return versions
    return versions.exclude(status=VersionStatus.DRAFT)
