"""The pages the benchmark measures, and who asks for them, in a generated study.

Shared by the timing script (`bench.run`, over HTTP) and the query-count test
(tests/bench, with Django's test client), so both measure the same requests.

The floor is the password-changed page: login required, a template extending the base
layout, and nothing else (its queries are those of every page: session, user, the
memberships menu and the notification bell).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse

FLOOR = "floor"
LOGIN = "login"
#: Every measured page, in the order of the table. The ODM export is not there yet: the
#: exports do not exist (issue 13 asks to add it once they do).
PAGE_NAMES = (
    LOGIN,
    FLOOR,
    "home page (coordinator)",
    "participant page",
    "visit form GET",
    "visit form POST",
    "AE review queue",
    "inbox",
    "participant list API",
    "calendar API",
)


@dataclass
class Page:
    name: str
    user: object  # who is logged in (for login: who logs in)
    method: str = "GET"
    path: str = ""
    #: For a POST: the form data of the k-th request (each POST enters a new record).
    data: Callable[[int], dict] | None = None
    #: How many distinct requests can be made (POSTs use up their targets).
    limit: int | None = None
    expect: tuple[int, ...] = (200,)
    extra: dict = field(default_factory=dict)


def typical_participant(bench):
    """An enrolled participant well into the protocol (three visits done, one to come), with
    an adverse event: the same shape of page at every size of study."""
    from patients.models import Participant, ParticipantStatus

    return (
        Participant.objects.filter(
            study=bench.study, status=ParticipantStatus.ENROLLED, adverse_events__isnull=False
        )
        .distinct()
        .order_by("baseline_date", "pk")
        .first()
    )


def visits_to_enter(bench) -> list:
    """Past visits still waiting for their forms (the last week's): one per form POST."""
    from patients.models import ScheduledVisit, VisitStatus

    return list(
        ScheduledVisit.objects.filter(
            participant__study=bench.study,
            status=VisitStatus.UPCOMING,
            target_date__lt=bench_today() - timedelta(days=1),
        )
        .select_related("participant__site")
        .order_by("target_date", "pk")
    )


def bench_today():
    from django.utils import timezone

    return timezone.now().date()


def coordinator_of(bench, site_id: int):
    return bench.coordinators[[s.pk for s in bench.sites].index(site_id)]


def rpdai_post(visit) -> dict:
    """The RPDAI form as the browser posts it: dated on the target day, every item absent."""
    from assessments.instruments import get as instrument

    answers = dict.fromkeys(instrument("RPDAI").item_codes, "no")
    return {"visit_date": visit.target_date.isoformat(), **answers}


def measured_pages(bench) -> list[Page]:
    from .generate import PASSWORD

    participant = typical_participant(bench)
    coordinator = coordinator_of(bench, participant.site_id)
    # The investigator covers every site: each POST enters a visit of another participant.
    targets = visits_to_enter(bench)
    code = bench.study.code

    def form_path(visit) -> str:
        return reverse("assessments:visit_form", args=[visit.participant_id, visit.code, "RPDAI"])

    pages = [
        Page(
            LOGIN,
            coordinator,
            "POST",
            reverse("login"),
            data=lambda k: {"username": coordinator.username, "password": PASSWORD},
            expect=(302,),
        ),
        Page(FLOOR, coordinator, path=reverse("password_change_done")),
        Page("home page (coordinator)", coordinator, path=reverse("home")),
        Page(
            "participant page",
            coordinator,
            path=reverse("patients:participant", args=[participant.pk]),
        ),
        Page(
            "visit form GET",
            coordinator,
            path=reverse("assessments:visit_form", args=[participant.pk, "W4", "RPDAI"]),
        ),
        Page(
            "visit form POST",
            bench.investigator,
            "POST",
            path=form_path(targets[0]) if targets else "",
            data=lambda k: rpdai_post(targets[k]),
            limit=len(targets),
            expect=(302,),
            extra={"paths": [form_path(v) for v in targets]},
        ),
        Page(
            "AE review queue",
            bench.investigator,
            path=reverse("safety:review-queue", args=[code]),
        ),
        Page("inbox", coordinator, path=reverse("notifications:inbox")),
        Page(
            "participant list API",
            bench.investigator,
            path=reverse("api-study-participants", args=[code]),
        ),
        Page("calendar API", coordinator, path=reverse("api-calendar", args=[participant.pk])),
    ]
    assert tuple(p.name for p in pages) == PAGE_NAMES
    return pages


def path_of(page: Page, k: int) -> str:
    """The k-th request's path (each form POST goes to its own visit)."""
    paths = page.extra.get("paths")
    return paths[k] if paths else page.path


def query_counts(bench, *, post_index: int = 0) -> dict[str, int]:
    """Queries each page makes, through Django's test client (the same code as a server)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for page in measured_pages(bench):
        client = Client()
        if page.name != LOGIN:
            client.force_login(page.user)
            client.get(page.path if page.method == "GET" else reverse("password_change_done"))
        with CaptureQueriesContext(connection) as queries:
            if page.method == "POST":
                response = client.post(path_of(page, post_index), page.data(post_index))
            else:
                response = client.get(page.path)
        if response.status_code not in page.expect:
            raise AssertionError(f"{page.name}: HTTP {response.status_code}")
        counts[page.name] = len(queries)
    return counts
