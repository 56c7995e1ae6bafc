"""The Celery beat schedules are the deployment's, not a study's: operators only.

A study admin holding every django_celery_beat permission (as the demo's study-admin group
once did) still cannot list, add or change them; a deployment superuser can.
"""

import pytest
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from tests.factories import UserFactory
from tests.trials.helpers_admin import study_admin

BEAT_MODELS = [
    "clockedschedule",
    "crontabschedule",
    "intervalschedule",
    "solarschedule",
    "periodictask",
]


@pytest.fixture
def sweep(db):
    every = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    return PeriodicTask.objects.create(name="reminder sweep", task="sweep", interval=every)


@pytest.mark.parametrize("model", BEAT_MODELS)
def test_a_study_admin_cannot_see_or_add_beat_schedules(study, sweep, client_for, model):
    sam = study_admin("sam", study, apps=("trials", "django_celery_beat"))
    client = client_for(sam)

    assert client.get(reverse(f"admin:django_celery_beat_{model}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:django_celery_beat_{model}_add")).status_code == 403


def test_a_study_admin_cannot_change_the_sweep(study, sweep, client_for):
    sam = study_admin("sam", study, apps=("trials", "django_celery_beat"))
    client = client_for(sam)
    url = reverse("admin:django_celery_beat_periodictask_change", args=[sweep.pk])

    client.post(url, {"name": "reminder sweep", "task": "sweep", "enabled": ""})
    client.post(
        reverse("admin:django_celery_beat_crontabschedule_add"),
        {
            "minute": "*",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            "timezone": "UTC",
        },
    )

    sweep.refresh_from_db()
    assert sweep.enabled
    assert not CrontabSchedule.objects.exists()
    index = client.get(reverse("admin:index")).content.decode()
    assert "Periodic tasks" not in index


@pytest.mark.parametrize("model", BEAT_MODELS)
def test_a_deployment_superuser_manages_the_schedules(sweep, client_for, model):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(root)

    assert client.get(reverse(f"admin:django_celery_beat_{model}_changelist")).status_code == 200
