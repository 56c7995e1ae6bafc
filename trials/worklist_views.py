"""The work lists' pages: the home page's sections, each section's "see all" list (filters:
study, site, day; per-site counts), and the monitor's "mark changes as seen"."""

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Window
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.filters import valid_filters
from core.queries import count_each

from . import worklist
from .models import Role


@dataclass
class Entry:
    section: worklist.Section
    count: int
    rows: list = field(default_factory=list)


@dataclass
class RoleBlock:
    role: str
    label: str
    entries: list[Entry]

    @property
    def compact(self) -> list[Entry]:
        return [e for e in self.entries if e.section.compact]

    @property
    def listed(self) -> list[Entry]:
        return [e for e in self.entries if not e.section.compact]


def home_blocks(request) -> tuple[list[RoleBlock], worklist.WorkContext]:
    """Each of the user's roles with its sections: the first `HOME_ROWS` rows of each
    listed section in one query each (plus its `prepare`), with the section's count in the
    same query (a window count: the database finds the rows once, where a separate count
    found them again), and the counts of the compact sections in one query more. The
    total is kept in the session for the navigation bar of the pages that follow."""
    context = worklist.WorkContext(request.user)
    chosen = context.sections()
    found = worklist.querysets(context, chosen)
    counted = count_each({s.key: found[s.key] for s in chosen if s.compact})
    shown = {}
    for section in (s for s in chosen if not s.compact):
        total = Window(Count("pk"))
        rows = list(found[section.key].annotate(section_total=total)[: worklist.HOME_ROWS])
        counted[section.key] = rows[0].section_total if rows else 0
        if rows and section.prepare:
            section.prepare(rows)
        shown[section.key] = rows
    blocks = []
    for role in context.roles:
        entries = [
            Entry(section, counted[section.key], shown.get(section.key, []))
            for section in chosen
            if section.role == role
        ]
        blocks.append(RoleBlock(role, Role(role).label, entries))
    worklist.remember_nav_total(request.session, counted, now=context.now)
    return blocks, context


class FilterForm(forms.Form):
    study = forms.ChoiceField(label=_("Study"), required=False)
    site = forms.TypedChoiceField(label=_("Site"), required=False, coerce=int, empty_value=None)
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        every = _("All")
        self.fields["study"].choices = [("", every)] + sorted(
            {(s.study.code, s.study.code) for s in sites}
        )
        self.fields["site"].choices = [("", every)] + [
            (s.pk, f"{s.study.code} · {s.code}") for s in sites
        ]
        for name, field_ in self.fields.items():
            css = "form-control form-control-sm" if name == "day" else "form-select form-select-sm"
            field_.widget.attrs["class"] = css


def _filters(request, section: worklist.Section) -> tuple[FilterForm, worklist.WorkContext]:
    everything = worklist.WorkContext(request.user)
    if section.role not in everything.roles:
        raise Http404(_("No such work list."))
    sites = everything.sites_by_role[section.role]
    form = FilterForm(request.GET or None, sites=sites)
    chosen = valid_filters(form)
    context = worklist.WorkContext(
        request.user,
        now=everything.now,
        study=chosen.get("study") or None,
        site=chosen.get("site"),
        day=chosen.get("day") if section.day_means else None,
    )
    return form, context


@login_required
def section_list(request, key: str):
    """One section, every row, fifty to a page; filters and per-site counts."""
    section = worklist.get_section(key)
    if section is None:
        raise Http404(_("No such work list."))
    form, context = _filters(request, section)
    rows = section.rows(context.scope(section))
    page = Paginator(rows, worklist.PAGE_ROWS).get_page(request.GET.get("page"))
    # Sliced here rather than by the paginator, which skips the query on an empty page: the
    # page then costs the same queries whether the list is empty or not.
    offset = (page.number - 1) * worklist.PAGE_ROWS
    page.object_list = list(rows[offset : offset + worklist.PAGE_ROWS])
    if page.object_list and section.prepare:
        section.prepare(page.object_list)
    by_site = []
    if section.site_field:
        names = {s.pk: s for s in context.sites_by_role[section.role]}
        for row in rows.order_by().values(section.site_field).annotate(n=Count("pk")):
            by_site.append((names[row[section.site_field]], row["n"]))
        by_site.sort(key=lambda pair: (pair[0].study.code, pair[0].code))
    query = request.GET.copy()
    query.pop("page", None)
    site_query = request.GET.copy()
    for name in ("page", "site"):
        site_query.pop(name, None)
    return render(
        request,
        "trials/worklist/list.html",
        {
            "section": section,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "site_query": site_query.urlencode(),
            "by_site": by_site,
            "now": context.now,
            "since": context.changes_since if section.role == Role.MONITOR else None,
        },
    )


@login_required
@require_POST
def mark_changes_seen(request):
    """The monitor has read the changes: the counts start again from now."""
    worklist.mark_changes_seen(request.user)
    return redirect(reverse("home") + "#work-monitor")
