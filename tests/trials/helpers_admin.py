"""Staff study admins for the Django admin tests: the study role, not Django permissions,
must decide what they may do, so they get every model permission of the app."""

from django.contrib.auth.models import Permission

from tests.factories import MembershipFactory, UserFactory
from trials.models import Role

VERSION_INLINES = ("arms", "strata", "criteria", "dosing_phases", "visits", "reminder_rules")


def study_admin(username, study, *, blinded=False, apps=("trials",)):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    MembershipFactory(user=user, study=study, role=Role.STUDY_ADMIN, is_blinded=blinded)
    return user


def empty_inlines(prefixes=VERSION_INLINES) -> dict:
    """The management forms of inlines posted with no rows."""
    data = {}
    for prefix in prefixes:
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data
