"""API v1 routes of the patients app (included under /api/v1/)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "studies/<slug:code>/participants/",
        api.study_participants,
        name="api-study-participants",
    ),
    path("participants/<int:pk>/eligibility/", api.eligibility, name="api-eligibility"),
    path(
        "participants/<int:pk>/eligibility/sign/",
        api.eligibility_sign,
        name="api-eligibility-sign",
    ),
    path("participants/<int:pk>/enrol/", api.enrol, name="api-enrol"),
    path("participants/<int:pk>/calendar/", api.calendar, name="api-calendar"),
    path(
        "participants/<int:pk>/dose-modifications/",
        api.dose_modifications_view,
        name="api-dose-modifications",
    ),
]
