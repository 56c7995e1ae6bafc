"""API v1: the user's own reminders (docs/API.md).

`GET /api/v1/notifications/` → paginated `{kind, object, due, status, sent_at, ...}`,
newest due first; `?status=pending|sent|failed` filters. A user only ever sees the
notifications addressed to them (their site and study were checked when they were written).
"""

from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from .models import Notification, Status
from .reminders import zone

#: What the reminder is about, by model, as the API names it.
OBJECT_TYPES = {
    "scheduledvisit": "visit",
    "planneddose": "dose",
    "adverseevent": "adverse_event",
    "instrumentalert": "instrument_alert",
}


class ObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    label = serializers.CharField()
    url = serializers.CharField()


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    object = ObjectSerializer()
    due = serializers.DateField(help_text="The site's date the reminded thing is due.")
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="The exact moment, in the site's time zone, if any."
    )
    status = serializers.ChoiceField(choices=Status.choices)
    sent_at = serializers.DateTimeField(allow_null=True)
    read = serializers.BooleanField()
    subject = serializers.CharField()


def notification_data(notification: Notification) -> dict:
    model = ContentType.objects.get_for_id(notification.content_type_id).model
    due_at = notification.due_at
    if due_at is not None and notification.site_id:
        due_at = due_at.astimezone(zone(notification.site.timezone))
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "object": {
            "type": OBJECT_TYPES.get(model, model),
            "id": notification.object_id,
            "label": notification.object_label,
            "url": notification.link,
        },
        "due": notification.due_date.isoformat(),
        "due_at": due_at.isoformat() if due_at else None,
        "status": notification.status,
        "sent_at": notification.sent_at.isoformat() if notification.sent_at else None,
        "read": notification.read_at is not None,
        "subject": notification.subject,
    }


@extend_schema(
    parameters=[OpenApiParameter("status", str, enum=Status.values, required=False)],
    responses=NotificationSerializer(many=True),
)
@api_view(["GET"])
def notification_list(request):
    """The user's notifications, newest due first."""
    notifications = Notification.objects.for_user(request.user).select_related("site")
    status = request.query_params.get("status")
    if status:
        if status not in Status.values:
            raise ValidationError({"status": [f"Choose one of {', '.join(Status.values)}."]})
        notifications = notifications.filter(status=status)
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(notifications.order_by("-due_date", "-pk"), request)
    return paginator.get_paginated_response([notification_data(n) for n in page])
