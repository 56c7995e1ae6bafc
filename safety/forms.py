"""Forms for adverse events. Times are typed in the site's time zone and stored in UTC."""

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.editing import ChangeControlledForm
from core.widgets import FastSelect
from patients.models import ScheduledVisit
from signatures.fields import SigningPasswordField

from .models import CLINICAL_FIELDS, DEADLINE_FIELDS, AdverseEvent, Grade, Relationship

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SiteDateTimeField(forms.DateTimeField):
    """A date and time read and shown in the site's zone, whatever the server's."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def __init__(self, *, tz: str, **kwargs):
        self.tz = tz
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
        super().__init__(**kwargs)
        self.help_text = self.help_text or _("Local time at the site (%(tz)s).") % {"tz": tz}

    def to_python(self, value):
        with timezone.override(self.tz):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(self.tz):
            return super().prepare_value(value)


class AdverseEventForm(ChangeControlledForm):
    """First report and follow-up; a change to a saved AE needs a reason (audit trail)."""

    class Meta:
        model = AdverseEvent
        fields = list(CLINICAL_FIELDS)
        widgets = {
            "onset_date": DATE_WIDGET,
            "end_date": DATE_WIDGET,
            "death_date": DATE_WIDGET,
        }

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.participant = participant
        tz = participant.site.timezone
        self.fields["awareness_at"] = SiteDateTimeField(
            tz=tz,
            label=capfirst(AdverseEvent._meta.get_field("awareness_at").verbose_name),
            help_text=_(
                "When site staff first learnt of the event; local time at the site (%(tz)s). "
                "The reporting clocks start here."
            )
            % {"tz": tz},
        )
        self.fields["visit"].queryset = ScheduledVisit.objects.filter(
            participant=participant
        ).live()
        self.fields["visit"].label_from_instance = lambda v: f"{v.code} – {v.name}"
        self.fields["serious"].help_text = _(
            "Serious (ICH E2A) is not the same as severe: tick it when a criterion below is met."
        )


class SignForm(forms.Form):
    """Part 11 signature: the investigator re-enters their password."""

    confirm = forms.BooleanField(
        label=_("I confirm the grade, seriousness and relationship shown above."),
        required=True,
    )
    password = SigningPasswordField()
    row_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "sign_%s")  # the AE page holds several forms
        super().__init__(*args, **kwargs)


class ReportDatesForm(forms.Form):
    """When the sponsor learnt of this AE, and when the expedited reports that apply to it
    were sent."""

    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you correct a report time already recorded."),
    )

    def __init__(self, *args, adverse_event: AdverseEvent, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                reported: getattr(adverse_event, reported)
                for _due, reported in DEADLINE_FIELDS.values()
            }
            | {"sponsor_awareness_at": adverse_event.sponsor_awareness_at},
        )
        super().__init__(*args, **kwargs)
        tz = adverse_event.participant.site.timezone
        if adverse_event.sponsor_report_due is not None:
            self.fields["sponsor_awareness_at"] = SiteDateTimeField(
                tz=tz,
                required=False,
                label=capfirst(AdverseEvent._meta.get_field("sponsor_awareness_at").verbose_name),
                help_text=_(
                    "Day 0 of the regulator clock. Leave empty when the sponsor learnt of the "
                    "event with the investigator (investigator-sponsored study). Local time at "
                    "the site (%(tz)s)."
                )
                % {"tz": tz},
            )
        fields = {}
        for kind, (due_field, reported_field) in DEADLINE_FIELDS.items():
            if getattr(adverse_event, due_field) is None:
                continue
            fields[kind] = reported_field
            self.fields[reported_field] = SiteDateTimeField(
                tz=tz,
                required=False,
                label=capfirst(AdverseEvent._meta.get_field(reported_field).verbose_name),
            )
        # Keep the reason last.
        self.fields["reason_for_change"] = self.fields.pop("reason_for_change")
        self.kinds = fields

    def reported(self) -> dict:
        return {kind: self.cleaned_data.get(name) for kind, name in self.kinds.items()}

    def sponsor_awareness(self) -> dict:
        """The service's `sponsor_awareness_at` argument, when the form asks for it."""
        if "sponsor_awareness_at" not in self.fields:
            return {}
        return {"sponsor_awareness_at": self.cleaned_data.get("sponsor_awareness_at")}


class VoidForm(forms.Form):
    void_reason = forms.CharField(
        label=_("Reason for voiding"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The adverse event is kept, marked voided, and leaves queues and counts."),
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "void_%s")
        super().__init__(*args, **kwargs)


class AdverseEventFilterForm(forms.Form):
    """Filters of the study listing and the review queue (GET).

    Their selects are `FastSelect`s: drawn on every view of both pages, with Django's
    per-option templates they cost more than the rest of the page's header.
    """

    site = forms.ChoiceField(label=_("Site"), required=False, widget=FastSelect)
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any grade"))] + list(Grade.choices),
        widget=FastSelect,
    )
    serious = forms.ChoiceField(
        label=_("Seriousness"),
        required=False,
        choices=[("", _("Serious or not")), ("true", _("Serious")), ("false", _("Non-serious"))],
        widget=FastSelect,
    )
    relationship = forms.ChoiceField(
        label=_("Relationship"),
        required=False,
        choices=[("", _("Any relationship"))] + list(Relationship.choices),
        widget=FastSelect,
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All my sites"))] + [
            (s.code, f"{s.code} – {s.name}") for s in sites
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"
