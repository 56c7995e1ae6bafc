"""The user's own settings: their language (for the pages and e-mails) and API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .forms import ApiTokenForm
from .language import SESSION_KEY
from .models import ApiToken, Profile
from .tokens import issue_token, revoke_token


@require_POST
def set_language(request):
    """Choose the language: stored on the profile once logged in, else in a cookie only
    (the login page offers the choice too)."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    if request.user.is_authenticated:
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
        request.session[SESSION_KEY] = language
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@login_required
@never_cache  # the page that shows a new key must not stay in any cache
def api_tokens(request):
    """The user's tokens; a new one's key is shown in this answer only, never again."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = issue_token(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    return render(
        request,
        "accounts/api_tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.for_user(request.user),
            "days": settings.API_TOKEN_DAYS,
        },
    )


@login_required
@require_POST
def revoke_api_token(request, pk: int):
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=pk)
    revoke_token(token=token, user=request.user, reason="revoked by its owner")
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("api-tokens")
