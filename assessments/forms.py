"""The capture forms: parse what the browser sends, show every message next to its field.

The forms only parse (dates, numbers, choices); the rules, scores and derived values are
the services' (the API uses the same ones), whose `ValidationError` is put back onto the
form with `show_errors`, keyed by field. Every field keeps what the user typed: instrument
items are text inputs so that "7" on a 0-4 item comes back as "7" with its message.

A value outside its soft limits (assessments.checks) comes back with its warning under the
field and a "confirm" checkbox right after it (`confirm_<field>`); ticking it and saving
again passes the field in the service's `confirm`.
"""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients.models import ModificationKind

from .instruments.base import BOOLEAN, CHOICE
from .models import InjectionSite, LocalReaction, SteroidDrug, TregPanel

YES, NO = "yes", "no"
CONFIRM_PREFIX = "confirm_"
YES_NO = [(YES, _("Yes")), (NO, _("No"))]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class VersionedForm(forms.Form):
    """A form over one record: carries the version it was loaded at, and asks for a reason
    for change when the record is already saved (audit trail)."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you change data already saved (audit trail)."),
    )

    def __init__(self, *args, record=None, **kwargs):
        self.record = record
        super().__init__(*args, **kwargs)
        # The version and reason go last, after the form's own fields.
        for name in ("row_version", "reason_for_change"):
            self.fields[name] = self.fields.pop(name)
        if record is not None:
            self.fields["row_version"].initial = record.row_version
            # A post without a version was a blank form when loaded: the record was saved by
            # someone else since, which the service reports as a conflict (not "reason?").
            loaded_blank = self.is_bound and not self.data.get(self.add_prefix("row_version"))
            self.fields["reason_for_change"].required = not loaded_blank
        if self.is_bound:
            # A confirmation ticked on the page that warned stays ticked if the form comes
            # back again (another field still wrong).
            for key in list(self.data):
                name = key.removeprefix(self.add_prefix(CONFIRM_PREFIX))
                if key != name and name in self.fields:
                    self._add_confirm(name)

    @property
    def helper(self) -> FormHelper:
        """Rendered with `{% crispy form %}` inside the page's own <form> tag; yes / no
        questions inline so that a 27-item index stays readable."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = Layout(
            *(
                InlineRadios(name) if isinstance(field.widget, forms.RadioSelect) else Field(name)
                for name, field in self.fields.items()
            )
        )
        return helper

    @property
    def editing(self) -> bool:
        return self.record is not None

    def show_errors(self, exc: ValidationError, names: dict | None = None) -> None:
        """Put a service's errors next to their fields (others at the top of the form), and
        its warnings still to confirm under their fields, each with a confirm checkbox.
        `names` maps the service's keys to this form's field names where they differ."""
        names = names or {}
        for key, messages in exc.message_dict.items():
            key = names.get(key, key)
            target = key if key in self.fields else None
            for message in messages:
                self.add_error(target, message)
        for key, messages in getattr(exc, "warnings", {}).items():
            key = names.get(key, key)
            target = key if key in self.fields else None
            for message in messages:
                self.add_error(target, message)
            if target is not None:
                self._add_confirm(target)

    def _add_confirm(self, name: str) -> None:
        """A checkbox right after the field `name`: "this unusual value is correct"."""
        confirm = CONFIRM_PREFIX + name
        if confirm in self.fields:
            return
        checkbox = forms.BooleanField(
            label=_("I checked this value: it is correct"), required=False
        )
        fields = {}
        for key, field in self.fields.items():
            fields[key] = field
            if key == name:
                fields[confirm] = checkbox
        self.fields = fields

    def confirmed(self) -> list[str]:
        """The fields whose warning the user confirmed by ticking its checkbox."""
        prefix = self.add_prefix(CONFIRM_PREFIX)
        ticked = {"on", "true", "1", "yes"}
        return [
            key.removeprefix(prefix)
            for key, value in self.data.items()
            if key.startswith(prefix) and str(value).lower() in ticked
        ]

    def keep_input_after_conflict(self, current) -> None:
        """After a stale save: keep every value typed but carry the version now saved, so
        that saving again (after reading the differences) is a deliberate overwrite."""
        self.record = current
        data = self.data.copy()
        data[self.add_prefix("row_version")] = str(current.row_version)
        self.data = data
        self.fields["reason_for_change"].required = True

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True


class VisitForm(VersionedForm):
    """A form recorded at a visit: the first one saved dates the visit."""

    visit_date = forms.DateField(
        label=_("Visit date"),
        required=False,
        widget=DATE,
        help_text=_(
            "The day the visit took place. A date outside the window is accepted "
            "and recorded as a protocol deviation."
        ),
    )

    def __init__(self, *args, visit, **kwargs):
        self.visit = visit
        super().__init__(*args, **kwargs)
        self.fields = {"visit_date": self.fields.pop("visit_date"), **self.fields}
        self.fields["visit_date"].initial = visit.actual_date

    def answers(self) -> dict:
        raise NotImplementedError


class InstrumentForm(VisitForm):
    def __init__(self, *args, instrument, **kwargs):
        self.instrument = instrument
        super().__init__(*args, **kwargs)
        items = {}
        saved = self.record.answers if self.record is not None else {}
        for item in instrument.items:
            items[item.code] = self._field(item)
            value = saved.get(item.code)
            if item.type == BOOLEAN and value is not None:
                value = YES if value else NO
            items[item.code].initial = value
        names = list(self.fields)
        self.fields = {
            names[0]: self.fields[names[0]],
            **items,
            **{n: self.fields[n] for n in names[1:]},
        }

    @staticmethod
    def _field(item) -> forms.Field:
        common = {"label": item.label, "help_text": item.help, "required": False}
        if item.type == BOOLEAN:
            return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
        if item.type == CHOICE:
            choices = [("", "---------")] + [
                (str(v), f"{v} – {label}") for v, label in item.choices
            ]
            return forms.ChoiceField(choices=choices, **common)
        # Text, not IntegerField: the instrument judges the value and the input keeps it.
        attrs = {"min": item.min, "max": item.max, "step": 1, "inputmode": "numeric"}
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), **common)

    def answers(self) -> dict:
        answers = {}
        for item in self.instrument.items:
            value = self.cleaned_data.get(item.code)
            if value in (None, ""):
                continue
            if item.type == BOOLEAN:
                value = value == YES
            answers[item.code] = value
        return answers


def _decimal(label, max_digits, places, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=max_digits, decimal_places=places, required=False, **kwargs
    )


class TregPanelForm(VisitForm):
    sample_date = forms.DateField(
        label=_("Sample date"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty when the sample was taken on the visit date."),
    )
    lymphocytes_per_ul = _decimal(_("Lymphocytes /µL"), 8, 1)
    cd4_per_ul = _decimal(
        _("CD4+ /µL"),
        8,
        1,
        # xgettext:no-python-format (a literal percent sign, never formatted)
        help_text=_("Or CD4+ % of lymphocytes below (dual platform)."),
    )
    # xgettext:no-python-format (a literal percent sign, never formatted)
    cd4_pct_of_lymphocytes = _decimal(_("CD4+ % of lymphocytes"), 5, 2)
    treg_pct_of_cd4 = _decimal(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("Treg % of CD4+"),
        5,
        2,
        help_text=_("CD4+CD25hiCD127lo (FOXP3+ where stained)."),
    )
    # xgettext:no-python-format (a literal percent sign, never formatted)
    tcon_pct_of_cd4 = _decimal(_("Tcon % of CD4+"), 5, 2, help_text=_("CD4+CD25-/lo CD127+."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            for name in (*TregPanel.INPUTS, "sample_date"):
                self.fields[name].initial = getattr(self.record, name)

    def answers(self) -> dict:
        answers = {name: self.cleaned_data.get(name) for name in TregPanel.INPUTS}
        if self.cleaned_data.get("sample_date"):
            answers["sample_date"] = self.cleaned_data["sample_date"]
        return answers


class SteroidDoseForm(VisitForm):
    date = forms.DateField(
        label=_("Date of the dose"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty for the visit date."),
    )
    drug = forms.ChoiceField(
        label=_("Drug"), choices=[("", "---------"), *SteroidDrug.choices], required=False
    )
    mg_per_day = _decimal(_("mg/day"), 7, 2, help_text=_("Enter 0 for no glucocorticoid."))
    weight_kg = _decimal(
        _("Body weight (kg)"), 5, 1, help_text=_("Optional: gives the dose in mg/kg/day.")
    )

    def __init__(self, *args, last_weight=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.record is not None:
            for name in ("date", "drug", "mg_per_day", "weight_kg"):
                self.fields[name].initial = getattr(self.record, name)
        elif last_weight is not None:
            self.fields["weight_kg"].initial = last_weight

    def answers(self) -> dict:
        answers = {
            name: self.cleaned_data.get(name) for name in ("drug", "mg_per_day", "weight_kg")
        }
        if self.cleaned_data.get("date"):
            answers["date"] = self.cleaned_data["date"]
        return answers


class DoseAdministrationForm(VersionedForm):
    given = forms.ChoiceField(label=_("Dose given?"), choices=YES_NO, widget=forms.RadioSelect)
    administered_on = forms.DateField(
        label=_("Date given"),
        required=False,
        widget=DATE,
        help_text=_("The real date, even when it is not the planned day."),
    )
    administered_time = forms.TimeField(label=_("Time given"), required=False, widget=TIME)
    actual_dose = _decimal(_("Dose given"), 8, 3)
    lot = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    injection_site = forms.ChoiceField(
        label=_("Injection site"),
        choices=[("", "---------"), *InjectionSite.choices],
        required=False,
    )
    local_reaction = forms.ChoiceField(
        label=_("Local reaction"),
        choices=[("", "---------"), *LocalReaction.choices],
        required=False,
    )
    reason_not_given = forms.CharField(
        label=_("Reason not given"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, planned_dose, show_amount: bool = True, **kwargs):
        """`show_amount` False: the amount would tell a blinded reader the arm (the study's
        arms differ in amount, `trials.access.dose_amount_hidden`, or the dose is a
        reduction, `patients.selectors.may_see_dose_amounts`): it is neither shown nor
        typed; the service records the planned dose, and a correction keeps the saved one."""
        self.planned_dose = planned_dose
        self.show_amount = show_amount
        super().__init__(*args, **kwargs)
        if not show_amount:
            del self.fields["actual_dose"]
        elif planned_dose.dose is None:
            self.fields["actual_dose"].help_text = _(
                "The planned amount is not set yet: it follows the participant's weight and height."
            )
        else:
            self.fields["actual_dose"].help_text = _("Planned: %(dose)s %(unit)s") % {
                "dose": planned_dose.dose.normalize(),
                "unit": planned_dose.unit,
            }
            if planned_dose.derivation:
                self.fields["actual_dose"].help_text += f" ({planned_dose.derivation})"
        record = self.record
        if record is None:
            self.fields["administered_on"].initial = planned_dose.date
            if "actual_dose" in self.fields and planned_dose.dose is not None:
                self.fields["actual_dose"].initial = planned_dose.dose.normalize()
            return
        self.fields["given"].initial = YES if record.given else NO
        for name in (
            "administered_on",
            "administered_time",
            "actual_dose",
            "lot",
            "injection_site",
            "local_reaction",
            "reason_not_given",
            "notes",
        ):
            if name in self.fields:
                self.fields[name].initial = getattr(record, name)

    def values(self) -> dict:
        data = self.cleaned_data
        amount = data.get("actual_dose")
        if not self.show_amount:
            amount = self.record.actual_dose if self.record is not None else None
        return {
            "given": data.get("given") == YES,
            "administered_on": data.get("administered_on"),
            "administered_time": data.get("administered_time"),
            "actual_dose": amount,
            "lot": data.get("lot", ""),
            "injection_site": data.get("injection_site", ""),
            "local_reaction": data.get("local_reaction", ""),
            "notes": data.get("notes", ""),
            "reason_not_given": data.get("reason_not_given", ""),
        }


class MissedVisitForm(forms.Form):
    reason = forms.CharField(
        label=_("Why was the visit missed?"), widget=forms.Textarea(attrs={"rows": 2})
    )
    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class UnscheduledVisitForm(forms.Form):
    visit_date = forms.DateField(label=_("Visit date"), widget=DATE)
    reason = forms.CharField(
        label=_("Reason for the visit"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def show_errors(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


class DoseModificationForm(forms.Form):
    """An investigator's dosing decision (patients.dose_modifications.modify_dosing).

    The levels are offered by number; their amounts only to a reader who may see amounts
    (`show_amounts`), since a reduced amount can tell the arm."""

    kind = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    from_date = forms.DateField(label=_("From"), widget=DATE)
    until_date = forms.DateField(
        label=_("Until (a hold only; empty: until resumed)"), widget=DATE, required=False
    )
    level = forms.TypedChoiceField(
        label=_("Dose level (a reduction only)"), coerce=int, required=False, empty_value=None
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, levels=(), unit: str = "", show_amounts: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ModificationKind.choices
        self.fields["level"].choices = [("", "—")] + [
            (
                n,
                _("Level %(n)d (%(dose)s %(unit)s)")
                % {"n": n, "dose": f"{amount.normalize():f}", "unit": unit}
                if show_amounts
                else _("Level %(n)d") % {"n": n},
            )
            for n, amount in enumerate(levels, start=1)
        ]

    def show_errors(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)
