"""Studies, their sites and who may do what in them.

Access is decided by `Membership` rows only: a user sees a study when they hold an active
membership in it, and its site-bound data only for the sites of their memberships (or every
site when a membership has no site). Superusers are operators of the deployment, not study
staff: they use the Django admin, and the study pages apply the same rule to them.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.tracking import track


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Study coordinator")
    INVESTIGATOR = "investigator", _("Investigator")
    MONITOR = "monitor", _("Monitor")
    STUDY_ADMIN = "study_admin", _("Study admin")


class Blinding(models.TextChoices):
    OPEN = "open", _("Open label")
    SINGLE = "single", _("Single blind")
    DOUBLE = "double", _("Double blind")


class StudyQuerySet(models.QuerySet):
    def visible_to(self, user) -> "StudyQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__is_active=True).distinct()

    def administered_by(self, user) -> "StudyQuerySet":
        """The studies the user is an active study admin of, by membership.

        The one definition of "studies this user administers"; `access.administered_studies`
        adds that an operator (superuser) administers every study, for configuration.
        """
        if not user.is_authenticated:
            return self.none()
        admin_of = Membership.objects.for_user(user).filter(role=Role.STUDY_ADMIN)
        return self.filter(pk__in=admin_of.values("study"))


@track()
class Study(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    sponsor = models.CharField(_("sponsor"), max_length=200, blank=True)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    blinding = models.CharField(
        _("blinding"), max_length=10, choices=Blinding.choices, default=Blinding.OPEN
    )
    registry_id = models.CharField(_("registry id"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return self.code

    def get_study(self) -> "Study":
        return self

    def active_version(self):
        """The version new participants are screened and enrolled on; None before the first
        activation. The one definition of "the study's active version" (a constraint keeps
        it unique); many studies at once: `ProtocolVersion.objects.active()`."""
        return self.versions.active().first()

    @property
    def is_blinded_study(self) -> bool:
        return self.blinding != Blinding.OPEN


class SiteQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SiteQuerySet":
        """Sites the user works at: every site of a study for an all-sites membership."""
        from trials.access import site_scope  # access reads these models

        return self.filter(site_scope(user, study_field="study", site_field="pk"))


@track()
class Site(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["study", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="site_code_unique_per_study")
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    def get_study(self) -> Study:
        return self.study

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def today(self, now: datetime | None = None) -> date:
        """The calendar date at the site: the one "today" of every clinical date check.

        Clinical dates are the site's dates. At 07:00 in Shanghai it is still yesterday in
        UTC, so a consent signed that morning would look "in the future" on a UTC clock.
        """
        return (now or timezone.now()).astimezone(self.zone).date()


class MembershipQuerySet(models.QuerySet):
    def active(self) -> "MembershipQuerySet":
        return self.filter(is_active=True)

    def for_user(self, user) -> "MembershipQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.active().filter(user=user)

    def visible_to(self, user) -> "MembershipQuerySet":
        """A user's own memberships, and every membership of the studies they administer."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(user=user) | Q(study__in=Study.objects.administered_by(user)))


@track()
class Membership(models.Model):
    """A user's role in a study, at one site or (site empty) at every site of the study."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="memberships")
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Empty means every site of the study."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Safe by default: a new membership is blinded until another, unblinded study admin
    # unblinds it on purpose (`trials.services.set_membership_blinding`). The flag has no
    # effect in an open-label study (`trials.access.is_blinded`).
    is_blinded = models.BooleanField(
        _("blinded"),
        default=True,
        help_text=_(
            "A blinded user never sees treatment allocation. New memberships are blinded; "
            "only another, unblinded study admin can unblind one, with a reason."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["study", "user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "study", "site", "role"],
                name="membership_unique_role_per_site",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else _("all sites")
        return f"{self.user} – {self.study} – {self.get_role_display()} ({where})"

    def clean(self) -> None:
        if self.site_id and self.study_id and self.site.study_id != self.study_id:
            raise ValidationError({"site": _("This site belongs to another study.")})

    def get_study(self) -> Study:
        return self.study
