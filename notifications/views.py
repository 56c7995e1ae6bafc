"""The inbox (each user's reminders) and the study admin's overview of every reminder."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trials.models import Site, Study

from . import services
from .models import Notification, Status


@login_required
def inbox(request):
    """Reminders about what is coming (due today or later), then the earlier ones.

    Both lists come fifty to a page, each with its own page number: a coordinator of a
    large study has thousands of reminders coming, and the page must stay small.
    """
    mine = Notification.objects.for_user(request.user).select_related("study", "site")
    coming = _due_from_today(mine)
    upcoming = Paginator(mine.filter(coming).order_by("due_date", "due_at", "pk"), 50).get_page(
        request.GET.get("upcoming")
    )
    earlier = Paginator(mine.exclude(coming), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "upcoming": upcoming,
            "earlier": earlier,
            "is_study_admin": _is_study_admin(request.user),
        },
    )


@login_required
def open_notification(request, pk: int):
    """Mark the reminder read and go to what it is about."""
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    services.mark_read(user=request.user, notification_id=notification.pk)
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    services.mark_read(user=request.user)
    return redirect("notifications:inbox")


def _due_from_today(notifications) -> Q:
    """Due today or later, each by its own site's today (a due date is a site date)."""
    site_ids = notifications.exclude(site=None).values_list("site", flat=True).distinct()
    coming = Q(site=None, due_date__gte=timezone.localdate())
    for site in Site.objects.filter(pk__in=site_ids):
        coming |= Q(site=site, due_date__gte=site.today())
    return coming


def _is_study_admin(user) -> bool:
    return Study.objects.administered_by(user).exists()


def _administered(user):
    if not _is_study_admin(user):
        raise PermissionDenied(_("Only study admins see every reminder."))
    return Notification.objects.administered_by(user)


@login_required
def overview(request):
    """Every reminder of the studies the user administers, failed ones first."""
    administered = _administered(request.user)
    counts = dict.fromkeys(Status.values, 0)
    for row in administered.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    notifications = administered.select_related("recipient", "study", "site")
    status = request.GET.get("status")
    if status in Status.values:
        notifications = notifications.filter(status=status)
    # Alphabetical is the useful order here: failed, then pending, then sent.
    ordered = notifications.order_by("status", "-due_date", "-pk")
    page = Paginator(ordered, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/overview.html",
        {
            "page": page,
            "status": status,
            "filters": [(value, label, counts[value]) for value, label in Status.choices],
        },
    )


@login_required
@require_POST
def retry(request, pk: int):
    notification = get_object_or_404(_administered(request.user), pk=pk, status=Status.FAILED)
    services.retry_failed(notification=notification)
    messages.success(request, _("The reminder is queued to be sent again."))
    return redirect("notifications:overview")
