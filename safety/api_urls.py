"""API v1 routes of the safety app (included under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "participants/<int:pk>/adverse-events/",
        api.participant_adverse_events,
        name="api-participant-adverse-events",
    ),
    path(
        "studies/<slug:code>/adverse-events/",
        api.study_adverse_events,
        name="api-study-adverse-events",
    ),
    path("adverse-events/<int:pk>/", api.adverse_event_detail, name="api-adverse-event"),
    path(
        "adverse-events/<int:pk>/sign/",
        api.adverse_event_sign,
        name="api-adverse-event-sign",
    ),
    path(
        "adverse-events/<int:pk>/reports/",
        api.adverse_event_reports,
        name="api-adverse-event-reports",
    ),
]
