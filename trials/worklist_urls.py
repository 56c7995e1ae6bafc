from django.urls import path

from . import worklist_views

app_name = "worklist"

urlpatterns = [
    path("changes-seen/", worklist_views.mark_changes_seen, name="changes-seen"),
    path("<slug:key>/", worklist_views.section_list, name="section"),
]
