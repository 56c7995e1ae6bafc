"""The audit trail of one record, as a page and as an API answer.

Both views take `is_blinded(user, study)` from the URLconf (`config.urls` passes
`trials.access.is_blinded`): the access layer sits above audit, so it is handed in, not
imported.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from .history import history_for, visible_record_or_404


@login_required
def record_history(request, label: str, pk: str, *, is_blinded, amount_hidden=None):
    obj, hidden = visible_record_or_404(
        request.user, label, pk, is_blinded=is_blinded, amount_hidden=amount_hidden
    )
    return render(
        request,
        "audit/history.html",
        {
            "record": obj,
            "record_type": obj._meta.verbose_name,
            "entries": history_for(obj, hidden=hidden),
        },
    )


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()
    label = serializers.CharField()
    old_display = serializers.CharField()
    new_display = serializers.CharField()
    #: The item code when `field` is a JSON field of items (one change per item).
    item = serializers.CharField()
    #: Computed by the server from other values (a deadline, a score), not entered.
    derived = serializers.BooleanField()


class EntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    user = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeSerializer(many=True)
    at_display = serializers.CharField()
    user_display = serializers.CharField()


@extend_schema(responses=EntrySerializer(many=True))
@api_view(["GET"])
def record_history_api(request, label: str, pk: str, *, is_blinded, amount_hidden=None):
    """GET /api/v1/records/{model}/{id}/history/ — `model` is `app_label.model_name`."""
    obj, hidden = visible_record_or_404(
        request.user, label, pk, is_blinded=is_blinded, amount_hidden=amount_hidden
    )
    return Response(EntrySerializer(history_for(obj, hidden=hidden), many=True).data)
