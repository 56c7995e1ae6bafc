"""Template context shared by every page: the user's memberships drive the navigation."""

from .models import Membership


def memberships(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_memberships": []}
    return {
        "my_memberships": list(Membership.objects.for_user(user).select_related("study", "site"))
    }
