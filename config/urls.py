from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from accounts import views as account_views
from audit import views as audit_views
from trials import access
from trials import api as trial_api
from trials import views as trial_views

#: The record trail's views (audit) learn who is blinded where from the access layer above it.
TRAIL_ACCESS = {"is_blinded": access.is_blinded}

api_v1 = [
    # The schema maps every endpoint: for users of the API, not for anyone who asks.
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path("studies/", trial_api.study_list, name="api-studies"),
    path("studies/<slug:code>/protocol/", trial_api.study_protocol, name="api-study-protocol"),
    path("forms/", trial_api.form_list, name="api-forms"),
    path("forms/<str:code>/", trial_api.form_detail, name="api-form"),
    path("", include("patients.api_urls")),
    path("", include("assessments.api_urls")),
    path("", include("safety.api_urls")),
    path("", include("notifications.api_urls")),
    path(
        "records/<str:label>/<str:pk>/history/",
        audit_views.record_history_api,
        TRAIL_ACCESS,
        name="api-record-history",
    ),
]

urlpatterns = [
    path("", trial_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/language/", account_views.set_language, name="set-language"),
    path("accounts/tokens/", account_views.api_tokens, name="api-tokens"),
    path(
        "accounts/tokens/<int:pk>/revoke/",
        account_views.revoke_api_token,
        name="api-token-revoke",
    ),
    path("studies/", include("trials.urls")),
    path("work/", include("trials.worklist_urls")),
    path("participants/", include("patients.urls")),
    path("capture/", include("assessments.urls")),
    path("safety/", include("safety.urls")),
    path("notifications/", include("notifications.urls")),
    path(
        "audit/<str:label>/<str:pk>/",
        audit_views.record_history,
        TRAIL_ACCESS,
        name="record-history",
    ),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]
