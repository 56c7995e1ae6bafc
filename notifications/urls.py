from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_all_read, name="mark-all-read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("all/", views.overview, name="overview"),
    path("<int:pk>/retry/", views.retry, name="retry"),
]
