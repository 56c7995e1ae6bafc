"""Each role's work list: the sections of the home page, contributed by the apps.

The home page belongs to trials (a user starts from their studies), yet most of the work on
it is recorded by the layers above: visits and doses (patients, assessments), adverse events
(safety), reminders (notifications). Trials may not import them, so each app registers its
sections here from its `AppConfig.ready`, as the participant page's panels are registered
(`patients/panels.py`). A later feature (queries to answer, SDV due, casebooks to sign, dose
holds) adds a section, not a page.

A section is one list of things to do for one role, most urgent first. It answers with a
queryset, so the home page asks the database for each section's first few rows and its
count in one query (a window count), and for the counts of the compact sections in ONE
query (`core.queries.count_each`); the "see all" page paginates the same queryset. Nothing
here loads a list to count it, so the cost of the page follows the number of sections, not
the size of the study.

Scope: a section sees only the sites where the user holds the section's role (a coordinator
at site A who monitors site B sees site B's visits only in the monitor's section). "Today"
is each site's own day (`Site.today`); `Scope.on_their_day` groups the sites by it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import access
from .models import ChangesSeen, ProtocolVersion, Role, Site, VersionStatus

#: How many rows of each section the home page shows; "see all" shows the rest.
HOME_ROWS = 10
#: Rows per page of a section's "see all" list.
PAGE_ROWS = 50
#: The navigation shows the count the home page made, kept in the user's session this long:
#: every page shows it, so it reads the session (loaded by every request anyway) and never
#: counts, and every page costs the same queries; the home page, where a user lands and
#: comes back to, counts afresh.
NAV_COUNT_SECONDS = 5 * 60
NAV_SESSION_KEY = "worklist_total"
#: An unchanged total is written back to the session at most this often.
NAV_REWRITE_SECONDS = 60

ROLE_ORDER = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.STUDY_ADMIN)


@dataclass(frozen=True)
class Section:
    """One work list. `rows(scope)` answers the section's queryset, most urgent first,
    already limited to `scope` (the sites or studies where the user holds `role`)."""

    key: str
    role: str
    title: str
    #: What the list shows when there is nothing to do.
    empty: str
    #: The table's column headings (the row template fills one <td> per heading).
    columns: tuple[str, ...]
    #: Renders one <tr> from `item` (and `now`).
    row_template: str
    rows: Callable[[Scope], models.QuerySet]
    #: What the "day" filter of the "see all" list selects, in a few words.
    day_means: str = ""
    #: For a site-bound section, the lookup from a row to its site (the per-site counts).
    site_field: str | None = None
    #: Decorates the rows shown (e.g. which forms are missing) in a fixed number of queries.
    prepare: Callable[[list], None] | None = None
    #: On the home page, the count alone (a table of counts rather than of rows).
    compact: bool = False


_sections: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """Called from `AppConfig.ready`: the apps register bottom to top, so in layer order."""
    _sections.setdefault(section.key, section)


def sections() -> tuple[Section, ...]:
    return tuple(_sections.values())


def get_section(key: str) -> Section | None:
    return _sections.get(key)


# -- who sees what ----------------------------------------------------------------------


class WorkContext:
    """The user's roles and the sites each covers, loaded once per request (the memberships
    the whole page shares, and one query for the sites), with the "see all" filters (study
    code, site id, day) applied to them."""

    def __init__(
        self,
        user,
        *,
        now: datetime | None = None,
        study: str | None = None,
        site: int | None = None,
        day: date | None = None,
    ):
        self.user = user
        self.now = now or timezone.now()
        self.day = day
        memberships = access.memberships(user)
        whole_studies: dict[str, set[int]] = defaultdict(set)
        single_sites: dict[str, set[int]] = defaultdict(set)
        for m in memberships:
            if m.site_id:
                single_sites[m.role].add(m.site_id)
            else:
                whole_studies[m.role].add(m.study_id)
        every_study = set().union(*whole_studies.values()) if whole_studies else set()
        every_site = set().union(*single_sites.values()) if single_sites else set()
        sites = Site.objects.filter(Q(study__in=every_study) | Q(pk__in=every_site))
        if study:
            sites = sites.filter(study__code=study)
        if site:
            sites = sites.filter(pk=site)
        self.all_sites = list(sites.select_related("study").order_by("study__code", "code"))
        self.sites_by_role: dict[str, list[Site]] = {
            role: [
                s
                for s in self.all_sites
                if s.study_id in whole_studies[role] or s.pk in single_sites[role]
            ]
            for role in ROLE_ORDER
        }

    @property
    def roles(self) -> list[str]:
        """The user's roles that cover at least one site, in the home page's order."""
        return [role for role in ROLE_ORDER if self.sites_by_role[role]]

    @cached_property
    def studies(self) -> list:
        return list({s.study_id: s.study for s in self.all_sites}.values())

    @cached_property
    def changes_since(self) -> datetime | None:
        """Changes after this moment are news to the user: when they last marked them seen;
        None (everything is news) before they ever did."""
        seen = ChangesSeen.objects.filter(user=self.user).values_list("seen_at", flat=True)
        return seen.first()

    def scope(self, section: Section) -> Scope:
        return Scope(self, section)

    def sections(self) -> list[Section]:
        return [s for s in sections() if s.role in self.roles]


@dataclass
class Scope:
    """What one section may show: the sites (and studies) where the user holds its role."""

    context: WorkContext
    section: Section
    sites: list[Site] = field(init=False)

    def __post_init__(self):
        self.sites = self.context.sites_by_role.get(self.section.role, [])

    @property
    def user(self):
        return self.context.user

    @property
    def now(self) -> datetime:
        return self.context.now

    @property
    def day(self) -> date | None:
        """The day the "see all" list asked for, if any."""
        return self.context.day

    @property
    def study_ids(self) -> list[int]:
        return sorted({s.study_id for s in self.sites})

    @property
    def changes_since(self) -> datetime | None:
        return self.context.changes_since

    def at_sites(self, site_field: str) -> Q:
        return Q(**{f"{site_field}__in": [s.pk for s in self.sites]})

    def in_studies(self, study_field: str) -> Q:
        return Q(**{f"{study_field}__in": self.study_ids})

    def on_their_day(self, site_field: str, condition: Callable[[date], Q]) -> Q:
        """`condition(day)` for each site on its own day: the day asked for, else the site's
        today. Sites a few time zones apart share a day, so this is a Q of two or three
        branches, not one per site."""
        by_day: dict[date, list[int]] = defaultdict(list)
        for site in self.sites:
            by_day[self.day or site.today(self.now)].append(site.pk)
        branches = (
            Q(**{f"{site_field}__in": pks}) & condition(day) for day, pks in sorted(by_day.items())
        )
        return reduce(or_, branches, Q(pk__in=[]))


# -- what changed since the monitor's last visit -----------------------------------------


def changed_records(model: type[models.Model], scope: Scope, site_field: str) -> models.QuerySet:
    """The records of `model` at the scope's sites whose audit trail (pghistory's event
    table) has an event after the user's "changes seen" mark, the newest records first.

    The trail is written by triggers, so nothing escapes it (bulk updates and the admin
    included). Each record is probed through the event table's index on the record. The
    time of the last change is shown but not sorted on: sorting on it would compute it for
    every changed record (1.5 s for 60,000 dose records) to show fifty."""
    event_model = model.pgh_event_models["update"]
    events = event_model.objects.filter(pgh_obj=models.OuterRef("pk"))
    since = scope.changes_since
    news = events if since is None else events.filter(pgh_created_at__gt=since)
    return (
        model.objects.filter(scope.at_sites(site_field))
        .filter(models.Exists(news))
        .annotate(
            last_changed=models.Subquery(
                events.order_by("-pgh_created_at").values("pgh_created_at")[:1]
            )
        )
        .order_by("-pk")
    )


def changes_section(
    *,
    key: str,
    model: type[models.Model],
    title: str,
    site_field: str,
    link: Callable[[models.Model], str],
    label: Callable[[models.Model], str],
    related: tuple[str, ...] = (),
) -> Section:
    """A monitor's section: the records of one kind changed at their sites since their last
    visit, each linked to the page that shows it (`link`, `label` in its own words)."""

    def rows(scope: Scope) -> models.QuerySet:
        return changed_records(model, scope, site_field).select_related(*related)

    def prepare(items: list) -> None:
        for item in items:
            item.change_link, item.change_label = link(item), label(item)

    return Section(
        key=key,
        role=Role.MONITOR,
        title=title,
        empty=_("Nothing changed since your last visit."),
        columns=(_("Record"), _("Last changed")),
        row_template="trials/worklist/_changed_row.html",
        rows=rows,
        site_field=site_field,
        prepare=prepare,
        compact=True,
    )


def mark_changes_seen(user) -> None:
    """The monitor has seen everything up to now: the counts start again from zero.

    The mark is the database's clock, the one the audit triggers stamp events with."""
    ChangesSeen.objects.update_or_create(user=user, defaults={"seen_at": Now()})


# -- counting every section at once ------------------------------------------------------


def querysets(context: WorkContext, chosen: Iterable[Section] | None = None) -> dict:
    return {s.key: s.rows(context.scope(s)) for s in (chosen or context.sections())}


def _to_do(counted: dict[str, int]) -> int:
    """The things to do: changes a monitor has not seen are news, not work, so they are
    not added to the navigation's count."""
    return sum(n for key, n in counted.items() if not _sections[key].compact)


def nav_total(session, *, now: datetime | None = None) -> int | None:
    """The number of things to do as the home page last counted them, if it did lately."""
    stored = session.get(NAV_SESSION_KEY)
    if not stored:
        return None
    total, counted_at = stored
    if (now or timezone.now()).timestamp() - counted_at > NAV_COUNT_SECONDS:
        return None
    return total


def remember_nav_total(session, counted: dict[str, int], *, now: datetime) -> int:
    """Keep the total the home page has just counted, for the navigation bar. The session
    is written (three queries) only when the total changed or its count is a minute old."""
    total = _to_do(counted)
    stored = session.get(NAV_SESSION_KEY)
    if not stored or stored[0] != total or now.timestamp() - stored[1] >= NAV_REWRITE_SECONDS:
        session[NAV_SESSION_KEY] = (total, now.timestamp())
    return total


# -- the study admin's own section -----------------------------------------------------


def protocol_drafts(scope: Scope) -> models.QuerySet:
    """Draft protocol versions of the studies the user administers, the oldest first: a
    draft is an amendment on its way and stays a draft until someone activates it."""
    drafts = ProtocolVersion.objects.filter(scope.in_studies("study"), status=VersionStatus.DRAFT)
    if scope.day:
        drafts = drafts.filter(effective_date=scope.day)
    return drafts.select_related("study").order_by("created_at", "pk")


def register() -> None:
    register_section(
        Section(
            key="protocol-drafts",
            role=Role.STUDY_ADMIN,
            title=_("Protocol drafts"),
            empty=_("No protocol version is in draft."),
            columns=(_("Study"), _("Version"), _("Effective"), _("Created")),
            row_template="trials/worklist/_draft_row.html",
            rows=protocol_drafts,
            day_means=_("effective on that day"),
        )
    )
