from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("studies/<slug:code>/deviations.csv", views.deviations_csv, name="deviations_csv"),
    path("participants/<int:pk>/visits/<str:code>/", views.visit_detail, name="visit"),
    path(
        "participants/<int:pk>/visits/<str:code>/forms/<str:form_code>/",
        views.visit_form,
        name="visit_form",
    ),
    path(
        "participants/<int:pk>/visits/<str:code>/missed/",
        views.visit_missed,
        name="visit_missed",
    ),
    path(
        "participants/<int:pk>/unscheduled-visit/",
        views.unscheduled_visit,
        name="unscheduled_visit",
    ),
    path("participants/<int:pk>/doses/", views.dose_log, name="doses"),
    path("participants/<int:pk>/doses/<int:dose_pk>/", views.dose_record, name="dose"),
    path("participants/<int:pk>/doses/modify/", views.dose_modify, name="dose_modify"),
]
