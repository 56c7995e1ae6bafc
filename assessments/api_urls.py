"""API v1 routes of the assessments app (included under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("instruments/", api.instrument_list, name="api-instruments"),
    path("instruments/<str:code>/", api.instrument_detail, name="api-instrument"),
    path(
        "participants/<int:pk>/visits/<str:code>/forms/<str:form>/",
        api.capture_visit_form,
        name="api-visit-form",
    ),
    path("participants/<int:pk>/doses/", api.record_dose, name="api-doses"),
]
