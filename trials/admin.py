"""Admin pages for configuring studies and protocols (study admins and operators).

Study admins see only the studies they administer. A protocol version is edited while it is
a draft; once active its pages are read-only, and an amendment is a new version (uploaded
as a file, or copied from the active one by exporting and re-importing).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .models import (
    Arm,
    DosingPhase,
    EligibilityCriterion,
    Membership,
    ProtocolVersion,
    ReminderRule,
    Role,
    Site,
    Stratum,
    Study,
    VisitDefinition,
)
from .protocol_file import ProtocolFileError, dump_protocol, parse_protocol
from .services import ProtocolConflict, activate_version, load_protocol, spec_from_version


def administered_studies(user):
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(
        memberships__user=user, memberships__role=Role.STUDY_ADMIN, memberships__is_active=True
    )


class StudyScopedAdmin(admin.ModelAdmin):
    """Limit every list and form to the studies the user administers."""

    study_path = "study"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(**{f"{self.study_path}__in": administered_studies(request.user)})


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    can_delete = False


@admin.register(Study)
class StudyAdmin(StudyScopedAdmin):
    study_path = "pk"
    list_display = ["code", "title", "phase", "blinding"]
    search_fields = ["code", "title"]
    inlines = [SiteInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(StudyScopedAdmin):
    list_display = ["user", "study", "site", "role", "is_blinded", "is_active"]
    list_filter = ["study", "role", "is_blinded", "is_active"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the trail of who had access stays readable


class VersionPartInline(admin.TabularInline):
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ArmInline(VersionPartInline):
    model = Arm
    fields = ["order", "code", "name", "ratio", "is_placebo"]


class StratumInline(VersionPartInline):
    model = Stratum
    fields = ["order", "code", "name"]


class CriterionInline(VersionPartInline):
    model = EligibilityCriterion
    fields = ["order", "code", "kind", "text", "answer_type", "min_value", "max_value"]


class PhaseInline(VersionPartInline):
    model = DosingPhase
    fields = [
        "order",
        "name",
        "start_week",
        "end_week",
        "dose",
        "unit",
        "route",
        "days_per_week",
        "days",
    ]


class VisitInline(VersionPartInline):
    model = VisitDefinition
    fields = [
        "order",
        "code",
        "name",
        "study_day",
        "is_screening",
        "window_minus",
        "window_plus",
        "forms",
    ]


class ReminderInline(VersionPartInline):
    model = ReminderRule
    fields = ["order", "event", "before_days", "after_days", "before_hours", "notify"]


class ProtocolUploadForm(forms.Form):
    file = forms.FileField(label=_("Protocol file (YAML)"))
    activate = forms.BooleanField(
        label=_("Activate it now (new participants enrol on this version)"), required=False
    )


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(StudyScopedAdmin):
    list_display = ["study", "label", "effective_date", "status", "download_link"]
    list_filter = ["study", "status"]
    inlines = [
        ArmInline,
        StratumInline,
        CriterionInline,
        PhaseInline,
        VisitInline,
        ReminderInline,
    ]
    actions = ["activate"]
    change_list_template = "admin/trials/protocolversion/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ["study", "label", "effective_date", "drug", "status", "activated_at"]
        return ["status", "activated_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download_link(self, obj):
        from django.utils.html import format_html

        url = reverse("admin:trials_protocolversion_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download YAML"))

    @admin.action(description=_("Activate the selected draft"))
    def activate(self, request, queryset):
        for version in queryset:
            try:
                activate_version(version, user=request.user)
            except ProtocolConflict as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("%s is now active.") % version, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="trials_protocolversion_upload",
            ),
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="trials_protocolversion_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        response = HttpResponse(
            dump_protocol(spec_from_version(version)), content_type="application/yaml"
        )
        filename = f"{version.study.code.lower()}-{version.label}.yaml"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def upload_view(self, request):
        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ProtocolUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                spec = parse_protocol(upload.read().decode("utf-8"), source=upload.name)
                if not request.user.is_superuser and (
                    Study.objects.filter(code=spec.study.code).exists()
                    and not administered_studies(request.user).filter(code=spec.study.code).exists()
                ):
                    raise ProtocolConflict(_("You do not administer study %s.") % spec.study.code)
                version, created = load_protocol(
                    spec,
                    user=request.user,
                    reason=f"Protocol file {upload.name} uploaded",
                    activate=form.cleaned_data["activate"],
                )
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            except ProtocolFileError as exc:
                for problem in exc.errors:
                    form.add_error("file", problem.format(exc.source))
            except (ProtocolConflict, ValidationError) as exc:
                form.add_error("file", str(exc))
            else:
                if created:
                    self.message_user(request, _("Loaded %s.") % version, messages.SUCCESS)
                else:
                    self.message_user(request, _("Nothing to do: %s holds this file.") % version)
                return HttpResponseRedirect(
                    reverse("admin:trials_protocolversion_change", args=[version.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Upload a protocol file"),
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/trials/protocolversion/upload.html", context)
