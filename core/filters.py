"""The filters of a list page, read from its address (GET)."""

from django import forms


def valid_filters(form: forms.Form) -> dict:
    """The values of `form` (bound to request.GET, or unbound) that are valid.

    A bookmarked or edited address can carry a value no select offers: a site the user no
    longer covers, a mistyped grade. The form shows that value's error next to its field;
    the other filters still apply. Dropping them all would show the whole list under
    selects that still show the other filters as chosen."""
    if not form.is_bound:
        return {}
    form.is_valid()  # cleans every field; cleaned_data keeps only the valid ones
    for name in form.errors:
        if name in form.fields:  # drawn in red, as Bootstrap marks an invalid field
            attrs = form.fields[name].widget.attrs
            attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
    return form.cleaned_data
