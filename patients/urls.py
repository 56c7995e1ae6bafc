from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("studies/<slug:code>/", views.screening_log, name="screening-log"),
    path("studies/<slug:code>/new/", views.new_screening, name="new-screening"),
    path("<int:pk>/", views.participant_detail, name="participant"),
    path("<int:pk>/eligibility/", views.eligibility, name="eligibility"),
    path("<int:pk>/enrol/", views.enrol, name="enrol"),
    path("<int:pk>/end/", views.end_participation, name="end"),
    path("<int:pk>/unblind/", views.unblind, name="unblind"),
    path("<int:pk>/reconsent/", views.reconsent, name="reconsent"),
]
