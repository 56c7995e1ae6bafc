"""Adverse events in the Django admin: read only. Entry, follow-up, review and voiding go
through the pages and the API, which keep the audit reason, clocks and signatures right."""

from django.contrib import admin

from .models import AdverseEvent


@admin.register(AdverseEvent)
class AdverseEventAdmin(admin.ModelAdmin):
    list_display = ("pk", "participant", "term", "onset_date", "grade", "serious", "is_susar")
    list_filter = ("serious", "is_susar", "grade", "relationship")
    search_fields = ("term", "meddra_term", "participant__subject_id")
    list_select_related = ("participant",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
