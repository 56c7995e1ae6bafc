from django.urls import path

from . import views

app_name = "trials"

urlpatterns = [
    path("<slug:code>/", views.study_detail, name="study"),
    path("<slug:code>/protocol/", views.protocol_summary, name="protocol"),
    path("<slug:code>/forms/", views.form_library, name="form-library"),
    path("<slug:code>/forms/import/", views.form_import, name="form-import"),
    path("<slug:code>/forms/dictionary.csv", views.form_dictionary, name="form-dictionary"),
]
