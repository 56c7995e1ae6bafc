from django.urls import path

from . import views

app_name = "safety"

urlpatterns = [
    path(
        "participants/<int:pk>/adverse-events/new/",
        views.report_adverse_event,
        name="report",
    ),
    path("adverse-events/<int:pk>/", views.adverse_event_detail, name="detail"),
    path("adverse-events/<int:pk>/edit/", views.edit_adverse_event, name="edit"),
    path("adverse-events/<int:pk>/sign/", views.sign_adverse_event, name="sign"),
    path("adverse-events/<int:pk>/reports/", views.record_reports, name="reports"),
    path("adverse-events/<int:pk>/void/", views.void_adverse_event, name="void"),
    path("studies/<slug:code>/adverse-events/", views.study_listing, name="study-listing"),
    path("studies/<slug:code>/review-queue/", views.review_queue, name="review-queue"),
]
