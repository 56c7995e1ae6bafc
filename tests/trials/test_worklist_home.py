"""The home page's work lists: a section per role the user holds, only their sites' items,
the most urgent first, counts in the navigation, and "see all" lists with filters.

The cast is the capture tests' (tests/assessments/helpers_capture.py): cora coordinates at
PKUPH, otto at OTHER, ivy investigates at every site, molly monitors, charlie has nothing;
sam is added as the study admin."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, Status
from patients.models import EligibilityAssessment, ParticipantStatus, ScheduledVisit
from safety import services as safety
from tests.assessments.helpers_capture import (
    capture,
    enter_every_w0_form,
    participant,
    rp_cast,
    rpdai,
    site_today,
)
from tests.factories import MembershipFactory, ParticipantFactory, UserFactory, load_demo_protocol
from trials import worklist
from trials.models import Role, VersionStatus

HOME = reverse("home")


@pytest.fixture
def cast(db):
    cast = rp_cast()
    cast.sam = UserFactory(username="sam", password=None)
    MembershipFactory(user=cast.sam, study=cast.study, site=None, role=Role.STUDY_ADMIN)
    return cast


def home(client) -> tuple[dict, str]:
    response = client.get(HOME)
    assert response.status_code == 200
    counts = {
        entry.section.key: entry.count
        for block in response.context["blocks"]
        for entry in block.entries
    }
    return counts, response.content.decode()


def rows(client, key: str) -> list:
    response = client.get(HOME)
    for block in response.context["blocks"]:
        for entry in block.entries:
            if entry.section.key == key:
                return entry.rows
    raise AssertionError(f"no section {key}")


def test_each_role_sees_its_own_sections(cast, client_for):
    roles = {
        user: [b.role for b in client_for(user).get(HOME).context["blocks"]]
        for user in (cast.cora, cast.ivy, cast.molly, cast.sam, cast.charlie)
    }
    assert roles[cast.cora] == [Role.COORDINATOR]
    assert roles[cast.ivy] == [Role.INVESTIGATOR]
    assert roles[cast.molly] == [Role.MONITOR]
    assert roles[cast.sam] == [Role.STUDY_ADMIN]
    assert roles[cast.charlie] == []
    assert "Your work" not in client_for(cast.charlie).get(HOME).content.decode()


def test_a_user_with_several_roles_sees_each_section(cast, client_for):
    MembershipFactory(user=cast.cora, study=cast.study, site=None, role=Role.MONITOR)
    blocks = client_for(cast.cora).get(HOME).context["blocks"]
    assert [b.role for b in blocks] == [Role.COORDINATOR, Role.MONITOR]


def test_the_coordinator_sees_visits_due_overdue_doses_and_missing_forms_at_their_site(
    cast, client_for
):
    today = site_today()
    due = participant(baseline=today - timedelta(days=28), subject_id="DUE")  # W4 today
    participant(baseline=today - timedelta(days=40), subject_id="LATE")  # W4 closed
    participant(baseline=today - timedelta(days=22), subject_id="WEEK")  # W4 opens in 3 days
    participant(baseline=today - timedelta(days=28), subject_id="ELSEWHERE", site=cast.other_site)
    capture(due, "W0", "RPDAI", rpdai(), user=cast.cora)  # W0 done, TREG and STEROID missing

    counts, html = home(client_for(cast.cora))
    visits_due = rows(client_for(cast.cora), "visits-due")
    assert [(v.participant.subject_id, v.code) for v in visits_due] == [("DUE", "W4")]
    overdue = rows(client_for(cast.cora), "visits-overdue")
    assert {(v.participant.subject_id, v.code) for v in overdue} == {
        ("LATE", "W0"),
        ("LATE", "W4"),
        ("WEEK", "W0"),
    }
    assert counts["visits-overdue"] == 3
    week = rows(client_for(cast.cora), "visits-this-week")
    assert [(v.participant.subject_id, v.code) for v in week] == [("WEEK", "W4")]
    # Day 29 is DUE's first maintenance dose, day 23 one of WEEK's induction doses.
    doses = rows(client_for(cast.cora), "doses-due")
    assert sorted(d.participant.subject_id for d in doses) == ["DUE", "WEEK"]
    missing = rows(client_for(cast.cora), "forms-missing")
    assert [(v.code, v.missing_forms) for v in missing] == [
        (
            "W0",
            [
                "Treg panel",
                "Steroid dose",
                "Vital signs",
                "Concomitant medication",
                "Medical history",
            ],
        )
    ]
    assert reverse("assessments:visit", args=[due.pk, "W4"]) in html
    assert "ELSEWHERE" not in html
    # otto at the other site sees only that site's participant.
    otto = rows(client_for(cast.otto), "visits-due")
    assert [v.participant.subject_id for v in otto] == ["ELSEWHERE"]


def test_a_visit_with_every_required_form_is_not_missing_any(cast, client_for):
    p = participant(subject_id="FULL")
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    capture(
        p,
        "W0",
        "TREG",
        {
            "lymphocytes_per_ul": 1500,
            "cd4_per_ul": 800,
            "treg_pct_of_cd4": "5",
            "tcon_pct_of_cd4": "60",
        },
        user=cast.cora,
    )
    assert [v.code for v in rows(client_for(cast.cora), "forms-missing")] == ["W0"]
    capture(p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": 10}, user=cast.cora)
    # The forms the protocol defines as data count too.
    vitals = {"WEIGHT": "70.0", "SYSBP": 120, "DIABP": 80}
    capture(p, "W0", "VITALS", vitals, user=cast.cora)
    capture(p, "W0", "CONMED", {"CM": []}, user=cast.cora)
    assert [v.missing_forms for v in rows(client_for(cast.cora), "forms-missing")] == [
        ["Medical history"]
    ]
    history = {"MH": [{"MHTERM": "Hypertension", "MHONGO": "Y"}]}
    capture(p, "W0", "MEDHIST", history, user=cast.cora)
    assert rows(client_for(cast.cora), "forms-missing") == []


def test_the_last_form_entered_marks_the_visit_complete_without_a_change_in_its_trail(cast):
    p = participant(subject_id="MARK")
    enter_every_w0_form(p, cast.cora)
    w0 = p.visits.live().get(code="W0")
    assert not w0.forms_complete  # medical history is still missing
    trail = w0.pgh_event_models["update"].objects.filter(pgh_obj=w0)
    events = trail.count()
    history = {"MH": [{"MHTERM": "Hypertension", "MHONGO": "Y"}]}
    capture(p, "W0", "MEDHIST", history, user=cast.cora)
    w0.refresh_from_db()
    assert w0.forms_complete
    assert w0.row_version == 1 + 1  # dated by its first form; the mark is no edit
    assert trail.count() == events  # derived from the records, whose own trails show them


def test_a_visit_whose_forms_came_by_another_path_is_judged_by_its_records(cast, client_for):
    """The mark is a shortcut, not the rule: records written without the capture service
    (an import, a bulk load) leave a visit unmarked, and the list still reads its records."""
    p = participant(subject_id="BULK")
    enter_every_w0_form(p, cast.cora)
    capture(p, "W0", "MEDHIST", {"MH": []}, user=cast.cora)
    ScheduledVisit.objects.filter(participant=p).update(forms_complete=False)
    assert rows(client_for(cast.cora), "forms-missing") == []
    incomplete = participant(subject_id="HALF")
    capture(incomplete, "W0", "RPDAI", rpdai(), user=cast.cora)
    assert [v.participant.subject_id for v in rows(client_for(cast.cora), "forms-missing")] == [
        "HALF"
    ]


def test_the_old_dashboard_address_leads_to_the_coordinators_section(cast, client_for):
    response = client_for(cast.cora).get(reverse("assessments:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == HOME + "#work-coordinator"


def _ae(p, user, *, hours_ago: float, serious: bool, term: str):
    now = timezone.now()
    fields = {
        "term": term,
        "onset_date": site_today() - timedelta(days=3),
        "end_date": None,
        "ongoing": True,
        "grade": 3 if serious else 1,
        "serious": serious,
        "hospitalisation": serious,
        "relationship": "possible",
        "expectedness": "expected",
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "NOT RECOVERED/NOT RESOLVED",
        "awareness_at": now - timedelta(hours=hours_ago),
    }
    return safety.report_adverse_event(participant=p, user=user, **fields)


def test_the_investigator_reviews_adverse_events_nearest_deadline_first(cast, client_for):
    p = participant(baseline=site_today() - timedelta(days=40))
    mild = _ae(p, cast.cora, hours_ago=30, serious=False, term="Rash")
    later = _ae(p, cast.cora, hours_ago=2, serious=True, term="Pneumonia")  # due in 22 h
    sooner = _ae(p, cast.cora, hours_ago=20, serious=True, term="Sepsis")  # due in 4 h
    listed = rows(client_for(cast.ivy), "adverse-events-to-review")
    assert [ae.pk for ae in listed] == [sooner.pk, later.pk, mild.pk]
    html = home(client_for(cast.ivy))[1]
    assert reverse("safety:detail", args=[sooner.pk]) in html
    assert "in 3\xa0hours" in html  # the countdown to Sepsis's sponsor report
    # The coordinator has no review section; the monitor neither.
    assert "adverse-events-to-review" not in home(client_for(cast.cora))[0]


def test_the_investigator_confirms_eligible_participants_in_screening(cast, client_for):
    version = cast.version
    waiting = ParticipantFactory(protocol_version=version, site=cast.site, screening_number="S-1")
    refused = ParticipantFactory(protocol_version=version, site=cast.site, screening_number="S-2")
    for p, eligible in ((waiting, True), (refused, False)):
        EligibilityAssessment.objects.create(
            participant=p,
            protocol_version=version,
            answers={},
            eligible=eligible,
            failed=[] if eligible else ["I1"],
            assessed_on=site_today(),
        )
    refused.status = ParticipantStatus.SCREEN_FAILED
    refused.save()
    listed = rows(client_for(cast.ivy), "eligibility-to-confirm")
    assert [a.participant.screening_number for a in listed] == ["S-1"]
    assert reverse("patients:eligibility", args=[waiting.pk]) in home(client_for(cast.ivy))[1]


@pytest.mark.django_db(transaction=True)
def test_the_monitor_counts_changes_since_their_last_visit_and_can_start_again(client_for):
    """Committed step by step, as requests are: the trail stamps events with the time of
    their transaction, and the mark is the time of its own."""
    cast = rp_cast()
    p = participant(subject_id="CHANGED")
    client = client_for(cast.molly)
    counts, html = home(client)
    assert counts["changed-participants"] == 1
    assert counts["changed-visits"] == 4
    assert 'data-section="changed-participants" data-count="1"' in html
    client.post(reverse("worklist:changes-seen"))
    counts = home(client)[0]
    assert counts["changed-participants"] == 0 and counts["changed-visits"] == 0
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    counts = home(client)[0]
    assert counts["changed-instruments"] == 1
    assert counts["changed-visits"] == 1  # W0 became done
    listing = client.get(reverse("worklist:section", args=["changed-visits"])).content.decode()
    assert reverse("assessments:visit", args=[p.pk, "W0"]) in listing


def test_the_monitor_sees_nothing_of_sites_they_do_not_cover(cast, client_for):
    molly_at_other = UserFactory(username="mo", password=None)
    MembershipFactory(
        user=molly_at_other, study=cast.study, site=cast.other_site, role=Role.MONITOR
    )
    participant(subject_id="AT-PKUPH")
    assert home(client_for(molly_at_other))[0]["changed-participants"] == 0


def test_the_study_admin_sees_protocol_drafts_and_failed_reminders(cast, client_for):
    draft = cast.version.__class__.objects.create(
        study=cast.study, label="2.0-draft", effective_date=site_today(), status=VersionStatus.DRAFT
    )
    p = participant()
    Notification.objects.create(
        kind="dose_due",
        recipient=cast.cora,
        study=cast.study,
        participant=p,
        content_type=ContentType.objects.get_for_model(p),
        object_id=p.pk,
        object_label=str(p),
        due_date=site_today(),
        language="en",
        subject="Dose due",
        body="…",
        status=Status.FAILED,
        failed_at=timezone.now(),
        last_error="SMTP refused",
    )
    counts, html = home(client_for(cast.sam))
    assert counts == {"protocol-drafts": 1, "failed-reminders": 1}
    assert f"?version={draft.label}" in html
    assert "SMTP refused" in html
    assert "failed-reminders" not in home(client_for(cast.cora))[0]


def test_the_navigation_shows_the_number_of_things_to_do(cast, client_for):
    today = site_today()
    participant(baseline=today - timedelta(days=40), subject_id="LATE")
    client = client_for(cast.cora)
    floor = reverse("password_change_done")
    assert "data-work" not in client.get(floor).content.decode()  # not counted yet
    counts, html = home(client)
    total = sum(counts.values())
    assert total > 0
    assert f'data-work="{total}"' in html
    # Other pages show the home page's count without counting again.
    with CaptureQueriesContext(connection) as queries:
        page = client.get(floor).content.decode()
    assert f'data-work="{total}"' in page
    assert not any("patients_scheduledvisit" in q["sql"] for q in queries.captured_queries)


def _session_writes(queries) -> list:
    return [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"')]


def test_the_home_page_rewrites_the_session_only_when_its_count_changes(cast, client_for):
    """The count is kept in the session; writing it back unchanged on every visit of the
    home page would cost three queries a visit."""
    client = client_for(cast.cora)
    home(client)
    with CaptureQueriesContext(connection) as queries:
        home(client)
    assert not _session_writes(queries)
    participant(baseline=site_today() - timedelta(days=40), subject_id="LATE")
    counts, _html = home(client)
    total = sum(counts.values())
    assert f'data-work="{total}"' in client.get(reverse("password_change_done")).content.decode()


def test_the_home_page_reads_the_users_memberships_once(cast, client_for):
    client = client_for(cast.cora)
    home(client)
    with CaptureQueriesContext(connection) as queries:
        home(client)
    reads = [
        q for q in queries.captured_queries if q["sql"].startswith('SELECT "trials_membership"')
    ]
    assert len(reads) == 1, [q["sql"][:120] for q in reads]


def test_see_all_pages_through_a_section_with_filters_and_per_site_counts(
    cast, client_for, monkeypatch
):
    monkeypatch.setattr(worklist, "PAGE_ROWS", 3)
    today = site_today()
    for n in range(4):
        participant(baseline=today - timedelta(days=60 + n), subject_id=f"LATE-{n}")
    participant(baseline=today - timedelta(days=60), subject_id="OTHER-0", site=cast.other_site)
    client = client_for(cast.ivy)
    MembershipFactory(user=cast.ivy, study=cast.study, site=None, role=Role.COORDINATOR)
    url = reverse("worklist:section", args=["visits-overdue"])
    first = client.get(url)
    assert first.context["page"].paginator.count == 5 * 3  # W0, W4, W8 of each
    assert len(first.context["page"].object_list) == 3
    assert {s.code: n for s, n in first.context["by_site"]} == {"PKUPH": 12, "OTHER": 3}
    at_other = client.get(url, {"site": cast.other_site.pk})
    assert {v.participant.subject_id for v in at_other.context["page"].object_list} == {"OTHER-0"}
    last = client.get(url, {"page": 5})
    assert len(last.context["page"].object_list) == 3
    # A day: the visits whose window had closed by then.
    day = client.get(url, {"day": (today - timedelta(days=20)).isoformat()})
    assert day.context["page"].paginator.count == 5 * 2  # W0 and W4
    # A section of a role the user does not hold is not there.
    assert (
        client_for(cast.cora)
        .get(reverse("worklist:section", args=["failed-reminders"]))
        .status_code
        == 404
    )
    assert client.get(reverse("worklist:section", args=["no-such-list"])).status_code == 404


def test_a_filter_value_no_select_offers_is_shown_next_to_its_field_and_the_others_apply(
    cast, client_for
):
    """A bookmarked "see all" address can name a site the user no longer covers: the day
    still filters the list, and the site is refused next to its field, rather than the whole
    list shown under a day filter that looks applied."""
    today = site_today()
    participant(baseline=today - timedelta(days=60), subject_id="LATE-0")
    url = reverse("worklist:section", args=["visits-overdue"])
    client = client_for(cast.cora)
    day = (today - timedelta(days=20)).isoformat()
    by_day = client.get(url, {"day": day}).context["page"].paginator.count
    assert by_day < client.get(url).context["page"].paginator.count
    response = client.get(url, {"day": day, "site": cast.other_site.pk})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == by_day
    html = response.content.decode()
    assert "Select a valid choice." in html
    assert 'aria-invalid="true"' in html
    assert "is-invalid" in html


def test_a_blinded_user_sees_no_arm_on_the_home_page(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    site = version.study.sites.first()
    blake = UserFactory(username="blake", password=None)
    MembershipFactory(
        user=blake, study=version.study, site=site, role=Role.COORDINATOR, is_blinded=True
    )
    p = participant(baseline=site_today() - timedelta(days=40), version=version, site=site)
    html = client_for(blake).get(HOME).content.decode()
    assert str(p) in html
    for arm in version.arms.all():
        assert arm.name not in html


def test_a_new_kind_of_work_is_a_section_not_a_page(cast, client_for, monkeypatch):
    """What a later feature does: register a section; the home page and "see all" follow."""
    from trials.models import Site

    monkeypatch.setattr(worklist, "_sections", dict(worklist._sections))
    worklist.register_section(
        worklist.Section(
            key="sites-to-visit",
            role=Role.MONITOR,
            title="Sites to visit",
            empty="No site to visit.",
            columns=("Site",),
            row_template="trials/worklist/_draft_row.html",
            rows=lambda scope: (
                Site.objects.filter(pk__in=[s.pk for s in scope.sites])
                .annotate(label=models.F("code"), effective_date=models.F("study__created_at"))
                .select_related("study")
            ),
        )
    )
    counts = home(client_for(cast.molly))[0]
    assert counts["sites-to-visit"] == 2
    listing = client_for(cast.molly).get(reverse("worklist:section", args=["sites-to-visit"]))
    assert listing.context["page"].paginator.count == 2


def test_a_section_no_row_can_enter_counts_zero(db):
    from core.queries import count_each
    from trials.models import Site

    assert count_each({"none": Site.objects.none(), "any": Site.objects.all()}) == {
        "none": 0,
        "any": Site.objects.count(),
    }


def test_a_study_whose_visits_schedule_no_form_misses_none(db, client_for):
    """The missing-forms finder asks only about scheduled forms: with none, it counts zero."""
    from tests.factories import SiteFactory

    site = SiteFactory()
    user = UserFactory(username="newcomer")
    MembershipFactory(user=user, study=site.study, site=site, role=Role.COORDINATOR)
    counts, _html = home(client_for(user))
    assert counts["forms-missing"] == 0
