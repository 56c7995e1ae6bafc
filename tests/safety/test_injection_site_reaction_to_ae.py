"""A local reaction recorded on a dose becomes an adverse event in one step."""

from django.urls import reverse

from safety.models import AdverseEvent
from tests.assessments.helpers_capture import participant, rp_cast


def test_a_local_reaction_opens_a_prefilled_ae_report_and_one_submit_records_it(db, client_for):
    cast = rp_cast()
    p = participant()
    first = p.doses.live().order_by("date").first()
    client = client_for(cast.cora)
    client.post(
        reverse("assessments:dose", args=[p.pk, first.pk]),
        {
            "given": "yes",
            "administered_on": first.date.isoformat(),
            "administered_time": "08:30",
            "actual_dose": "1",
            "lot": "L1",
            "injection_site": "abdomen_left",
            "local_reaction": "erythema",
        },
    )
    log = client.get(reverse("assessments:doses", args=[p.pk])).content.decode()
    link = reverse("safety:report", args=[p.pk]) + "?from_dose="
    assert link in log
    dose_id = log.split(link, 1)[1].split('"', 1)[0]
    form = client.get(link + dose_id).context["form"]
    assert form.initial["term"].startswith("Injection site reaction")
    assert "Erythema" in form.initial["term"]
    assert form.initial["onset_date"] == first.date
    assert not AdverseEvent.objects.exists()  # nothing recorded until the reporter submits
    response = client.post(
        link + dose_id,
        {
            "term": form.initial["term"],
            "onset_date": first.date.isoformat(),
            "ongoing": "on",
            "grade": "1",
            "relationship": "probable",
            "expectedness": "expected",
            "action_taken": "DOSE NOT CHANGED",
            "outcome": "RECOVERING/RESOLVING",
            "awareness_at": f"{first.date.isoformat()}T10:00",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert AdverseEvent.objects.get().term == form.initial["term"]


def test_a_dose_of_another_participant_prefills_nothing(db, client_for):
    cast = rp_cast()
    p = participant()
    response = client_for(cast.cora).get(reverse("safety:report", args=[p.pk]) + "?from_dose=999")
    assert "term" not in response.context["form"].initial
