"""Admin pages for the randomisation lists: read-only, for unblinded study admins only.

A list reveals every past and future allocation, so it is shown to the operators of the
deployment (superusers) and to study admins of its study, and to nobody else however their
Django permissions are set. A study admin who also holds a blinded membership in a blinded
study is blinded there (the conservative reading of `trials.access.is_blinded`) and does
not see it either. Nothing here can be added, changed or deleted: lists are written by
`patients.randomisation` only, so that every slot comes from the recorded seed.
"""

from django.contrib import admin
from django.db.models import Q

from trials.models import Blinding, Membership, Study

from .models import RandomisationList, RandomisationSlot


def list_readers_studies(user):
    """The studies whose randomisation lists the user may read."""
    if user.is_superuser:
        return Study.objects.all()
    mine = Membership.objects.for_user(user)
    # The blinded flag means nothing in an open-label study (memberships are blinded by
    # default); in a blinded one any blinded membership blinds the user, as in access.
    return Study.objects.administered_by(user).exclude(
        ~Q(blinding=Blinding.OPEN) & Q(pk__in=mine.filter(is_blinded=True).values("study"))
    )


def may_read_lists(user, allocation_list: RandomisationList | None = None) -> bool:
    studies = list_readers_studies(user)
    if allocation_list is not None:
        studies = studies.filter(pk=allocation_list.study_id)
    return studies.exists()


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RandomisationSlotInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RandomisationSlot
    fields = ["sequence", "block", "arm", "participant", "allocated_at"]
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        # The slots are the list: whoever may read the list reads its slots.
        return may_read_lists(request.user, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("arm", "participant")


@admin.register(RandomisationList)
class RandomisationListAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["study", "stratum", "protocol_version", "generated_at", "generated_by"]
    # Only the studies the user may read, not every study code of the deployment.
    list_filter = [("study", admin.RelatedOnlyFieldListFilter)]
    fields = [
        "study",
        "protocol_version",
        "stratum",
        "seed",
        "block_sizes",
        "generated_at",
        "generated_by",
    ]
    readonly_fields = fields
    inlines = [RandomisationSlotInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(study__in=list_readers_studies(request.user))
            .select_related("study", "stratum", "protocol_version", "generated_by")
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and may_read_lists(request.user, obj)
