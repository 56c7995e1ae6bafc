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
from crispy_forms.layout import HTML, Field, Fieldset, Layout
from crispy_forms.templatetags.crispy_forms_filters import optgroups
from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext_lazy as _

from patients.models import ModificationKind
from trials.forms.expressions import ItemType
from trials.forms.spec import MISSING_CODES, row_numbers

from .instruments.base import BOOLEAN, CHOICE
from .models import InjectionSite, ItemLabels, LocalReaction, SteroidDrug, TregPanel

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
        helper = _bare_helper()
        helper.layout = Layout(*(_laid_out(name, field) for name, field in self.fields.items()))
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


def _attr_value(value) -> str:
    text = str(value)  # the template's |stringformat:'s', escaped unless already safe
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)


class InlineRadioItem(InlineRadios):
    """crispy's bootstrap5 inline radios (its layout/radioselect_inline.html), written in
    Python: the same markup (tests/assessments/test_radio_markup.py compares them) without
    rendering templates per item and per option with the whole page's context, which made
    the 27-item RPDAI form the visit form's slowest part (21 ms of rendering, now 5). Only
    for radios laid out without attributes of their own."""

    def render(self, form, context, template_pack=None, **kwargs):
        parts = []
        for name in self.fields:
            bound = form[name]
            if hasattr(form, "rendered_fields"):
                form.rendered_fields.add(name)
            parts.append(_inline_radios(bound, context, self.wrapper_class))
        return mark_safe("".join(parts))


def _inline_radios(field, context, wrapper_class) -> str:
    if field.is_hidden:
        return str(field)
    horizontal = "form-horizontal" in (context.get("form_class") or "")
    errors = field.errors
    label = field.label
    required = field.field.required
    out = []
    classes = "mb-3" + (" row" if horizontal else "")
    if wrapper_class:
        classes += f" {wrapper_class}"
    if css := field.css_classes():
        classes += f" {css}"
    out.append(format_html('<div id="div_{}" class="{}">', field.auto_id, classes))
    if label:
        described = field.aria_describedby
        out.append(
            format_html(
                "<fieldset{}{}>",
                format_html(' aria-describedby="{}"', described) if described else "",
                mark_safe(' class="row"') if horizontal else "",
            )
        )
        legend = (
            (context.get("label_class") or "")
            + " fs-6"
            + (" col-form-label pt-0" if horizontal else " form-label")
            + (" requiredField" if required else "")
        )
        out.append(
            format_html(
                '<legend for="{}" class="{}">\n{}{}\n</legend>',
                field.id_for_label,
                legend,
                label,
                mark_safe('<span class="asteriskField">*</span>') if required else "",
            )
        )
    field_class = context.get("field_class")
    out.append(format_html('<div class="{}">', field_class) if field_class else "<div>")
    invalid = " is-invalid" if errors else ""
    for group, options, _index in optgroups(field):
        if group:
            out.append(format_html("<strong>{}</strong>", group))
        for option in options:
            attrs = "".join(
                f" {conditional_escape(key)}"
                + ("" if value is True else f'="{_attr_value(value)}"')
                for key, value in option["attrs"].items()
                if value is not False
            )
            out.append(
                format_html(
                    '<div class="form-check form-check-inline"><input type="{}" '
                    'class="form-check-input{}" name="{}" value="{}"{}>'
                    '<label for="{}" class="form-check-label">\n{}\n</label></div>',
                    option["type"],
                    invalid,
                    field.html_name,
                    localize(option["value"], use_l10n=False),
                    mark_safe(attrs),
                    option["attrs"].get("id", ""),
                    localize(option["label"], use_l10n=False),
                )
            )
    out.append("</div>")
    if errors:
        out.append(format_html('<div id="{}_error" class="invalid-feedback">', errors.field_id))
        for number, error in enumerate(errors, 1):
            out.append(
                format_html(
                    '<p id="error_{}_{}"><strong>{}</strong></p>', number, field.auto_id, error
                )
            )
        out.append("</div>")
    if field.help_text:
        help_text = mark_safe(field.help_text)
        if context.get("help_text_inline"):
            out.append(
                format_html(
                    '<span id="{}_helptext" class="form-text">{}</span>', field.auto_id, help_text
                )
            )
        elif field.auto_id:
            out.append(
                format_html(
                    '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, help_text
                )
            )
        else:
            out.append(format_html('<div class="form-text">{}</div>', help_text))
    if label:
        out.append("</fieldset>")
    out.append("</div>")
    return "".join(out)


def _bare_helper() -> FormHelper:
    """A helper for a form inside the page's own <form> tag, still without a layout."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def _laid_out(name: str, field: forms.Field):
    if isinstance(field.widget, forms.RadioSelect):
        return InlineRadioItem(name)
    return Field(name)


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
        # What a group's "None of the below" puts in the item if it is still unanswered.
        negative = {} if item.group is None else _negative_attrs(item)
        if item.type == BOOLEAN:
            return forms.ChoiceField(
                choices=YES_NO, widget=forms.RadioSelect(attrs=negative), **common
            )
        if item.type == CHOICE:
            choices = [("", "---------")] + [
                (str(v), f"{v} – {label}") for v, label in item.choices
            ]
            return forms.ChoiceField(choices=choices, widget=forms.Select(attrs=negative), **common)
        # Text, not IntegerField: the instrument judges the value and the input keeps it.
        attrs = {"min": item.min, "max": item.max, "step": 1, "inputmode": "numeric", **negative}
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), **common)

    @property
    def helper(self) -> FormHelper:
        """The items under their groups' headings (fieldsets), each group with a "None of the
        below" button when the form can be edited (static/js/none-below.js). The button only
        fills answers in the page: every item is still posted, and checked, one by one.

        crispy reads it twice a render: the layout is kept for as long as the fields and
        whether they are disabled stay the same."""
        shape = tuple((name, field.disabled) for name, field in self.fields.items())
        cached = self.__dict__.get("_helper")
        if cached is not None and cached[0] == shape:
            return cached[1]
        helper = _bare_helper()
        placed = set()
        layout = []
        items = {item.code for item in self.instrument.items}
        for group, section in self.instrument.sections():
            codes = [item.code for item in section]
            # An item's "confirm this value" checkbox stays right after it.
            names = [n for code in codes for n in (code, CONFIRM_PREFIX + code) if n in self.fields]
            placed.update(names)
            parts = [_laid_out(name, self.fields[name]) for name in names]
            if group is None:
                layout.extend(parts)
                continue
            fillable = [item.code for item in section if item.negative is not None]
            if fillable and not all(self.fields[code].disabled for code in codes):
                parts.insert(0, HTML(_none_below_button(group.code, fillable)))
            layout.append(
                Fieldset(
                    format_html('<span class="h6">{}</span>', group.label),
                    *parts,
                    css_id=f"group-{group.code}",
                    css_class="border rounded px-3 pt-2 mb-3 item-group",
                )
            )
        # The groups stand where the items stood: after the visit date, before the version.
        ordered = []
        for name in self.fields:
            if name in items and layout:
                ordered.extend(layout)
                layout = []
            elif name not in placed:
                ordered.append(_laid_out(name, self.fields[name]))
        helper.layout = Layout(*ordered)
        self._helper = (shape, helper)
        return helper

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


def _negative_attrs(item) -> dict:
    if item.negative is None:
        return {}
    return {"data-negative": NO if item.type == BOOLEAN else str(item.negative)}


def _none_below_button(group_code: str, codes: list[str]) -> str:
    """Sets the group's unanswered items to their negative answer in the page. Rendered by
    crispy as a template: the markup is built here, escaped, with no template syntax."""
    return format_html(
        '<button type="button" class="btn btn-sm btn-outline-secondary mb-2" '
        'data-none-below="{}" data-items="{}">{}</button>',
        group_code,
        " ".join(codes),
        _("None of the below"),
    )


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


MISSING_SUFFIX, REASON_SUFFIX = "__missing", "__reason"
MISSING_LABELS = {"ND": _("Not done"), "UNK": _("Unknown"), "NA": _("Not applicable")}
ADD_ROW = "add_row"


class ProtocolForm(VisitForm):
    """A form the protocol defines as data, built from its `FormSpec`.

    Field names are the service's keys (an item's code, `GROUP.n.ITEM` in row n of a
    repeating group), so its messages land next to their fields unchanged. An item that
    allows missing-data codes gets a code select and a reason beside it. Calculated items
    are not fields: the server computes them and the page shows them once saved. Every
    input is text (or a list of choices), so a malformed value comes back as typed with its
    message. A repeating group shows its rows and one blank row; "Add a row" posts the form
    back with another blank row and saves nothing.
    """

    def __init__(self, *args, definition, **kwargs):
        self.definition = definition
        self.spec = definition.form
        super().__init__(*args, **kwargs)
        saved = self.record.values if self.record is not None else {}
        missing = self.record.missing if self.record is not None else {}
        head, *tail = list(self.fields)
        built: dict[str, forms.Field] = {}
        self.rows: dict[str, int] = {}
        for group in self.spec.groups:
            if not group.repeating:
                for item in group.items:
                    self._item_fields(built, item, item.code, saved, missing)
                continue
            count = self._row_count(group, saved, missing)
            self.rows[group.code] = count
            for n in range(1, count + 1):
                for item in group.items:
                    key = f"{group.code}.{n}.{item.code}"
                    self._item_fields(built, item, key, saved, missing)
        self.fields = {head: self.fields[head], **built, **{n: self.fields[n] for n in tail}}

    def _row_count(self, group, saved, missing) -> int:
        keys = (*saved, *missing, *(self.data if self.is_bound else ()))
        count = max(row_numbers(group.code, keys), default=0)
        if not self.is_bound:
            count += 1  # one blank row to start the next entry
        elif self.data.get(ADD_ROW) == group.code:
            count += 1
        count = max(count, 1)
        return min(count, group.max_rows) if group.max_rows else count

    def _item_fields(self, built, item, key, saved, missing) -> None:
        if item.calc is not None:
            return
        label = str(item.label) + (f" ({item.unit})" if item.unit else "")
        common = {
            "label": label,
            "required": False,
            "help_text": str(item.help) if item.help is not None else "",
        }
        attrs = {"data-item": item.code}
        if item.type == ItemType.YESNO:
            field = forms.ChoiceField(
                choices=[("Y", _("Yes")), ("N", _("No"))],
                widget=forms.RadioSelect(attrs=attrs),
                **common,
            )
        elif item.type == ItemType.CHOICE:
            choices = [("", "---------")] + [(c, str(label)) for c, label in item.codes]
            field = forms.ChoiceField(choices=choices, widget=forms.Select(attrs=attrs), **common)
        elif item.type == ItemType.MULTICHOICE:
            field = forms.MultipleChoiceField(
                choices=[(c, str(label)) for c, label in item.codes],
                widget=forms.CheckboxSelectMultiple(attrs=attrs),
                **common,
            )
        elif item.type == ItemType.DATE:
            field = forms.CharField(
                widget=forms.DateInput(attrs={**attrs, "type": "date"}), **common
            )
        elif item.type == ItemType.DATETIME:
            field = forms.CharField(
                widget=forms.DateTimeInput(attrs={**attrs, "type": "datetime-local"}), **common
            )
        elif item.type in (ItemType.INTEGER, ItemType.DECIMAL):
            mode = "numeric" if item.type == ItemType.INTEGER else "decimal"
            field = forms.CharField(
                widget=forms.TextInput(attrs={**attrs, "inputmode": mode}), **common
            )
        else:
            if item.max_length:
                attrs["maxlength"] = item.max_length
            field = forms.CharField(widget=forms.TextInput(attrs=attrs), **common)
        field.initial = saved.get(key)
        built[key] = field
        if item.missing:
            codes = [c for c in MISSING_CODES if c in item.missing]
            choices = [("", _("(answered)"))] + [(c, MISSING_LABELS[c]) for c in codes]
            answer = missing.get(key) or {}
            built[key + MISSING_SUFFIX] = forms.ChoiceField(
                label=_("or missing: %(item)s") % {"item": item.label},
                choices=choices,
                required=False,
                initial=answer.get("code", ""),
                widget=forms.Select(attrs={"data-missing-for": key}),
            )
            built[key + REASON_SUFFIX] = forms.CharField(
                label=_("Why is it missing?"),
                required=False,
                initial=answer.get("reason", ""),
                widget=forms.TextInput(attrs={"data-reason-for": key}),
            )

    @property
    def calculated_rows(self) -> list[tuple[str, str]]:
        """(label, value) of the calculated values saved, for the page's computed card."""
        if self.record is None:
            return []
        labels = ItemLabels(self.spec)
        rows = []
        for key, value in self.record.calculated.items():
            item = self.spec.item(key.split(".")[-1])
            unit = f" {item.unit}" if item is not None and item.unit else ""
            rows.append((labels.get(key, (key, {}))[0], f"{value}{unit}"))
        return rows

    @property
    def helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True

        def laid(name):
            field = self.fields[name]
            parts = [_laid_out(name, field)]
            if CONFIRM_PREFIX + name in self.fields:
                parts.append(Field(CONFIRM_PREFIX + name))
            return parts

        def item_parts(key):
            parts = []
            for name in (key, key + MISSING_SUFFIX, key + REASON_SUFFIX):
                if name in self.fields:
                    parts.extend(laid(name))
            return parts

        layout = [*laid("visit_date")]
        for group in self.spec.groups:
            if not group.repeating:
                for item in group.items:
                    layout.extend(item_parts(item.code))
                continue
            title = str(group.name) if group.name is not None else group.code
            rows = []
            for n in range(1, self.rows[group.code] + 1):
                row = [
                    p for item in group.items for p in item_parts(f"{group.code}.{n}.{item.code}")
                ]
                rows.append(Fieldset(f"{title} {n}", *row, css_class="border rounded p-2 mb-2"))
            can_add = not group.max_rows or self.rows[group.code] < group.max_rows
            add = (
                HTML(
                    format_html(
                        '<button type="submit" name="{}" value="{}" class="btn btn-sm '
                        'btn-outline-secondary mb-3">{}</button>',
                        ADD_ROW,
                        group.code,
                        _("Add a row"),
                    )
                )
                if can_add and not self.fields["visit_date"].disabled
                else HTML("")
            )
            layout.append(Fieldset(title, *rows, add, css_id=f"group-{group.code}"))
        for name in ("row_version", "reason_for_change"):
            layout.extend(laid(name))
        # Confirmations of warnings not next to any field (a rule over several rows).
        for name in self.fields:
            if (
                name.startswith(CONFIRM_PREFIX)
                and name.removeprefix(CONFIRM_PREFIX) not in self.fields
            ):
                layout.append(Field(name))
        helper.layout = Layout(*layout)
        return helper

    def answers(self) -> dict:
        """What the user entered, in the shape `form_rules.run` reads."""
        data = self.cleaned_data
        answers: dict = {}

        def answer(key):
            code = data.get(key + MISSING_SUFFIX)
            if code:
                return {
                    "missing": code,
                    "reason": data.get(key + REASON_SUFFIX, ""),
                    "value": data.get(key),
                }
            value = data.get(key)
            return None if value == [] else value  # no box ticked: not answered

        for group in self.spec.groups:
            entered = [i for i in group.items if i.calc is None]
            if not group.repeating:
                for item in entered:
                    if item.code in data:
                        answers[item.code] = answer(item.code)
                continue
            rows = []
            for n in range(1, self.rows[group.code] + 1):
                row = {
                    item.code: answer(f"{group.code}.{n}.{item.code}")
                    for item in entered
                    if f"{group.code}.{n}.{item.code}" in data
                }
                rows.append(row)
            answers[group.code] = rows
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
