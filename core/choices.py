"""Choice labels read row after row for the price of one dictionary lookup each.

Django's `get_FOO_display` builds a dictionary of the field's choices on every call, and
building it hashes every lazy label, which is a translation lookup: a page of fifty rows
showing a field of twenty choices made a thousand lookups to print fifty labels.
"""

from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

#: Per field: choice value -> label. The labels stay lazy, so each is translated into the
#: language of the request that shows it; only the mapping, which never changes, is kept.
_LABELS: dict = {}


class ChoiceLabels:
    """Model mixin: `get_FOO_display` as Django's (same labels, same fallback to the stored
    value), with the field's value -> label mapping built once instead of on every call."""

    def _get_FIELD_display(self, field):
        labels = _LABELS.get(field)
        if labels is None:
            labels = {make_hashable(value): label for value, label in field.flatchoices}
            if not isinstance(field.choices, CallableChoiceIterator):  # may change: rebuild
                _LABELS[field] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
