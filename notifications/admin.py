"""The outbox in the Django admin: every notification's state, and a retry for failures.

Read-only apart from the retry action: a notification is written by the sweep and the
sender, and editing its text or state by hand would defeat the once-only guarantees.
Study admins who are staff see the notifications of the studies they administer.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from trials.models import Membership, Role

from . import services
from .models import Digest, Notification, Status


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "object_label",
        "recipient",
        "study",
        "site",
        "due_date",
        "status",
        "attempts",
        "sent_at",
        "digest",
        "last_error",
    )
    list_filter = ("status", "kind", "channel", "study")
    search_fields = ("object_label", "recipient__username", "recipient__email", "subject")
    date_hierarchy = "due_date"
    list_select_related = ("recipient", "study", "site")
    actions = ["retry"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.administered_by(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=_("Send the selected failed notifications again"), permissions=["change"]
    )
    def retry(self, request, queryset):
        failed = list(queryset.filter(status=Status.FAILED))
        for notification in failed:
            services.retry_failed(notification=notification)
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                len(failed),
            )
            % {"count": len(failed)},
            messages.SUCCESS,
        )


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """The daily e-mails of routine reminders: read-only, their rows show what they carry."""

    list_display = ("day", "recipient", "study", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "study")
    search_fields = ("recipient__username", "recipient__email")
    date_hierarchy = "day"
    list_select_related = ("recipient", "study")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        administered = Membership.objects.for_user(request.user).filter(role=Role.STUDY_ADMIN)
        return qs.filter(study__in=administered.values("study"))

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
