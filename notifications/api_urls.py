"""API v1 routes of the notifications app (included under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("notifications/", api.notification_list, name="api-notifications"),
]
