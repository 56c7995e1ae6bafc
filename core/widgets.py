"""Form widgets that write their HTML in Python.

Django's `Select` renders a template for the select and another, with an include for its
attributes, for each option: the AE queue's four filters (a few dozen options) cost more to
draw than the rest of its header. `FastSelect` writes the same markup, character for
character, as Django's templates (django/forms/widgets/select.html, select_option.html,
attrs.html), with the same escaping; a subclass that names other templates is rendered by
them as before. It does not read those templates: a project that overrides them (none here)
must not use it.
"""

from django import forms
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"


def flat_attrs(attrs: dict) -> str:
    """Attributes as attrs.html writes them: ` name="value"`, a bare name for True, nothing
    for False."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        if self.template_name != _SELECT or self.option_template_name != _OPTION:
            return super().render(name, value, attrs, renderer)
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), flat_attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', localize(group_name)))
            for option in options:
                parts.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        str(option["value"]),
                        mark_safe(flat_attrs(option["attrs"])),
                        localize(option["label"]),
                    )
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))
