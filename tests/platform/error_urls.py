"""The app's URLs plus one view that fails, to see the 500 page as a user would."""

from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def fail(request):
    raise RuntimeError("secret-detail-42 in the traceback")


urlpatterns = [*app_urlpatterns, path("fail/", fail)]
