"""Forms of the participant journey. Messages go next to the field; input is kept."""

from django import forms
from django.utils.translation import gettext_lazy as _

from signatures.fields import SigningPasswordField
from trials.models import AnswerType

from .eligibility import is_age_criterion
from .models import Sex

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class ScreeningForm(forms.Form):
    site = forms.ModelChoiceField(queryset=None, label=_("Site"))
    screening_number = forms.CharField(label=_("Screening number"), max_length=30)
    year_of_birth = forms.IntegerField(label=_("Year of birth"), min_value=1900)
    # A blank first choice: a form that opens on "Female" records it for whoever forgets.
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "---------"), *Sex.choices])
    stratum = forms.ChoiceField(label=_("Stratum"), required=False)

    def __init__(self, *args, sites, strata, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
        if strata:
            self.fields["stratum"].choices = [("", "---------")] + [
                (s.code, f"{s.code} – {s.name}") for s in strata
            ]
            self.fields["stratum"].required = True
        else:
            del self.fields["stratum"]


class EligibilityForm(forms.Form):
    """One field per criterion of the participant's protocol version."""

    assessed_on = forms.DateField(
        label=_("Assessment date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, criteria, editing: bool, row_version=None, **kwargs):
        super().__init__(*args, **kwargs)
        for criterion in criteria:
            label = f"{criterion.code} ({criterion.get_kind_display()}): {criterion.text}"
            if criterion.answer_type != AnswerType.BOOLEAN:  # a number or an age
                field = forms.DecimalField(label=label, max_digits=10, decimal_places=3)
                bounds = []
                if criterion.min_value is not None:
                    bounds.append(f"≥ {criterion.min_value.normalize():f}")
                if criterion.max_value is not None:
                    bounds.append(f"≤ {criterion.max_value.normalize():f}")
                field.help_text = ", ".join(bounds)
                if is_age_criterion(criterion):
                    # Derived from the year of birth when left blank (patients.eligibility).
                    field.required = False
                    field.help_text = _(
                        "%(bounds)s. Leave blank to derive it from the year of birth."
                    ) % {"bounds": field.help_text}
            else:
                field = forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect)
            self.fields[f"c_{criterion.code}"] = field
        if editing:
            self.fields["row_version"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=row_version
            )
            self.fields["reason_for_change"] = forms.CharField(
                label=_("Reason for change"),
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Changing saved answers voids the investigator's signature."),
            )

    def answers(self) -> dict:
        return {
            name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("c_")
        }


class SignForm(forms.Form):
    password = SigningPasswordField(
        help_text=_("Re-enter your password to sign (21 CFR Part 11)."),
    )


class EnrolForm(forms.Form):
    consent_date = forms.DateField(
        label=_("Consent date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    baseline_date = forms.DateField(
        label=_("Baseline date (study day 1, first dose)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class EndForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("withdrawn", _("Withdrawn")), ("completed", _("Completed the study"))],
    )
    end_date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class UnblindForm(SignForm):
    reason = forms.CharField(
        label=_("Medical reason for unblinding"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ReconsentForm(forms.Form):
    consent_date = forms.DateField(
        label=_("Date of consent to the amended protocol"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
