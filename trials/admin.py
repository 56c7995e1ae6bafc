"""Admin pages for configuring studies and protocols (study admins and operators).

Study admins see only the studies they administer. A protocol version is edited while it is
a draft; once active its pages are read-only, and an amendment is a new version (uploaded
as a file, or copied from the active one by exporting and re-importing).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_celery_beat import models as beat_models

from audit.tracking import acting

from . import access
from .access import administered_studies
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
from .protocol_file import ProtocolFileError, dump_protocol, parse_protocol
from .services import (
    MembershipRefused,
    ProtocolConflict,
    activate_version,
    activation_preview,
    load_protocol,
    set_membership_blinding,
    spec_from_version,
)


class StudyScopedAdmin(admin.ModelAdmin):
    """Limit every list, form choice and saved value to the studies the user administers.

    The queryset scopes the list and the objects that can be opened; the foreign keys to a
    study (and to a site) offer only those studies, and since a choice outside its queryset
    is invalid, a forged POST naming another study is refused like a wrong choice.
    """

    study_path = "study"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(**{f"{self.study_path}__in": administered_studies(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Study:
            kwargs["queryset"] = administered_studies(request.user)
        elif db_field.related_model is Site:
            kwargs["queryset"] = Site.objects.filter(study__in=administered_studies(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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

    def get_readonly_fields(self, request, obj=None):
        # Unblinding a whole study once a version has been in force would show every
        # allocation made under it (the protocol-file import refuses it the same way).
        if obj is not None and obj.versions.exclude(status=VersionStatus.DRAFT).exists():
            return ["blinding"]
        return []

    def has_add_permission(self, request):
        # A new study has no study admin yet: creating one is for the deployment's operators.
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for change"),
        help_text=_("Recorded in the audit trail with your name."),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    #: Set by `MembershipAdmin.get_form`: the admin using the form.
    acting_user = None

    class Meta:
        model = Membership
        fields = ["user", "study", "site", "role", "is_active"]

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user", self.instance.user if self.instance.pk else None)
        if user is not None and self.acting_user is not None and user.pk == self.acting_user.pk:
            raise ValidationError(_("Nobody changes their own membership."))
        return cleaned


class MembershipReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for change"), widget=forms.TextInput(attrs={"size": 60})
    )


@admin.register(Membership)
class MembershipAdmin(StudyScopedAdmin):
    """Memberships of the administered studies; a user's own ones are read-only to them.

    New memberships are blinded (the model's default); blinding is changed only through the
    two actions, each asking for a reason, so that unblinding is a deliberate, audited act
    by another, unblinded study admin (`trials.services.set_membership_blinding`).
    """

    form = MembershipForm
    list_display = ["user", "study", "site", "role", "is_blinded", "is_active"]
    list_filter = [("study", admin.RelatedOnlyFieldListFilter), "role", "is_blinded", "is_active"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
    actions = ["unblind", "blind"]

    def get_fields(self, request, obj=None):
        return ["user", "study", "site", "role", "is_blinded", "is_active", "reason"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a membership stays whose and where it is: deactivate instead
            return ["user", "study", "is_blinded"]
        return ["is_blinded"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.user_id == request.user.pk:
            return False  # nobody changes their own membership
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the trail of who had access stays readable

    def save_model(self, request, obj, form, change):
        with acting(request.user, form.cleaned_data["reason"]):
            super().save_model(request, obj, form, change)

    @admin.action(description=_("Unblind the selected memberships (asks for a reason)"))
    def unblind(self, request, queryset):
        return self._change_blinding(request, queryset, blinded=False, action="unblind")

    @admin.action(description=_("Blind the selected memberships (asks for a reason)"))
    def blind(self, request, queryset):
        return self._change_blinding(request, queryset, blinded=True, action="blind")

    def _change_blinding(self, request, queryset, *, blinded: bool, action: str):
        form = MembershipReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            for membership in queryset:
                try:
                    set_membership_blinding(
                        membership=membership,
                        blinded=blinded,
                        user=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except MembershipRefused as exc:
                    self.message_user(request, f"{membership}: {exc}", messages.ERROR)
                else:
                    done = _("%s is now blinded.") if blinded else _("%s is now unblinded.")
                    self.message_user(request, done % membership, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Blind memberships") if blinded else _("Unblind memberships"),
            "opts": self.model._meta,
            "memberships": queryset,
            "form": form,
            "action": action,
            "blinded": blinded,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/trials/membership/blinding.html", context)


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
    """The arms (names, placebo flag) are allocation-bearing: not shown to a blinded admin."""

    model = Arm
    fields = ["order", "code", "name", "ratio", "is_placebo"]

    def _blinded(self, request, obj) -> bool:
        return (
            obj is not None
            and not request.user.is_superuser
            and access.is_blinded(request.user, obj.study)
        )

    def has_view_permission(self, request, obj=None):
        return not self._blinded(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not self._blinded(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._blinded(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._blinded(request, obj) and super().has_delete_permission(request, obj)


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
        "per",
        "round_to",
        "days_per_week",
        "days",
        "weekdays",
        "every_days",
        "every_weeks",
        "cycle_count",
        "cycle_dosing_weeks",
        "cycle_rest_weeks",
        "resize",
    ]


class VisitInline(VersionPartInline):
    model = VisitDefinition
    fields = [
        "order",
        "code",
        "name",
        "study_day",
        "cycle",
        "is_screening",
        "window_minus",
        "window_plus",
        "forms",
    ]


class ReminderInline(VersionPartInline):
    model = ReminderRule
    fields = ["order", "event", "before_days", "after_days", "before_hours", "notify"]


class FormInline(admin.TabularInline):
    """Forms defined as data, shown with their version hash; changed only through a protocol
    file, whose loading checks every expression against the items (an edit here would not)."""

    model = FormDefinition
    fields = readonly_fields = ["order", "code", "name", "content_hash"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProtocolUploadForm(forms.Form):
    file = forms.FileField(label=_("Protocol file (YAML)"))
    activate = forms.BooleanField(
        label=_("Activate it now (new participants enrol on this version)"), required=False
    )


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(StudyScopedAdmin):
    list_display = ["study", "label", "effective_date", "status", "download_link"]
    list_filter = [("study", admin.RelatedOnlyFieldListFilter), "status"]
    inlines = [
        ArmInline,
        StratumInline,
        CriterionInline,
        PhaseInline,
        VisitInline,
        ReminderInline,
        FormInline,
    ]
    actions = ["activate"]
    change_list_template = "admin/trials/protocolversion/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [
                "study",
                "label",
                "effective_date",
                "drug",
                "dose_levels",
                "blinded_results",
                "status",
                "activated_at",
            ]
        return ["status", "activated_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download_link(self, obj):
        from django.utils.html import format_html

        url = reverse("admin:trials_protocolversion_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download YAML"))

    @admin.action(description=_("Activate the selected draft (shows what it changes first)"))
    def activate(self, request, queryset):
        """Activation retires the version participants follow: say so, and ask first."""
        drafts = list(queryset.select_related("study"))
        if "confirm" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": _("Activate a protocol version"),
                "opts": self.model._meta,
                "changes": [activation_preview(v) for v in drafts if v.is_editable],
                "not_drafts": [v for v in drafts if not v.is_editable],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/trials/protocolversion/activate.html", context)
        for version in drafts:
            try:
                activated = activate_version(version, user=request.user)
            except ProtocolConflict as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("%s is now active.") % activated, messages.SUCCESS)
        return None

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
                # A new study has no study admin yet: only an operator creates one.
                if (
                    not request.user.is_superuser
                    and not administered_studies(request.user).filter(code=spec.study.code).exists()
                ):
                    raise ProtocolConflict(_("You do not administer study %s.") % spec.study.code)
                # Replacing an active version is confirmed on the activation page, which
                # says whom it affects; a study's first version has nobody to affect.
                confirm_first = form.cleaned_data["activate"] and (
                    ProtocolVersion.objects.filter(study__code=spec.study.code).active().exists()
                )
                version, created = load_protocol(
                    spec,
                    user=request.user,
                    reason=f"Protocol file {upload.name} uploaded",
                    activate=form.cleaned_data["activate"] and not confirm_first,
                )
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            except ProtocolFileError as exc:
                for problem in exc.errors:
                    form.add_error("file", problem.format(exc.source))
            except (ProtocolConflict, ValidationError) as exc:
                form.add_error("file", str(exc))
            else:
                if confirm_first and version.is_editable:
                    return self.activate(request, self.get_queryset(request).filter(pk=version.pk))
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


# ---------------------------------------------------------------------------------------------
# The Celery beat schedules run the reminder sweep for every study of the deployment: they are
# the operators', not any study's. Django permissions alone would let a study admin who was
# granted them (the demo's study-admin group once was) pause every study's reminders, so the
# beat admin pages answer to superusers only, whatever permissions a user holds.


class OperatorsOnlyAdmin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


for _beat_model in (
    beat_models.ClockedSchedule,
    beat_models.CrontabSchedule,
    beat_models.IntervalSchedule,
    beat_models.SolarSchedule,
    beat_models.PeriodicTask,
):
    _beat_admin = type(admin.site.get_model_admin(_beat_model))
    admin.site.unregister(_beat_model)
    admin.site.register(
        _beat_model, type(_beat_admin.__name__, (OperatorsOnlyAdmin, _beat_admin), {})
    )
