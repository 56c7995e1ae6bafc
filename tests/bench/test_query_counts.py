"""Every page the benchmark measures makes as many queries in a study three times larger.

Two synthetic studies from the benchmark's own generator (`bench.generate`), measured with
the benchmark's own requests (`bench.pages`): a count that grows with the study is an N+1,
and `make bench` would show it as time growing with the size. No timing here.

The home page's work lists are measured the same way: the home page as each role, and every
section's "see all" list as a user holding the section's role.
"""

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.generate import generate
from bench.pages import PAGE_NAMES, coordinator_of, query_counts, typical_participant
from trials import worklist
from trials.models import Role

pytestmark = pytest.mark.django_db

SIZES = (20, 60)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


WORK_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.STUDY_ADMIN)
WORK_PAGES = (
    *(f"home as {role}" for role in WORK_ROLES),
    *(f"see all {section.key}" for section in worklist.sections()),
)


def _work_counts(bench) -> tuple[dict[str, int], dict[str, int]]:
    """Queries and bytes of the home page per role and of each section's "see all" list."""
    people = {
        # The coordinator of the benchmark's typical participant: a site with enrolled ones.
        Role.COORDINATOR: coordinator_of(bench, typical_participant(bench).site_id),
        Role.INVESTIGATOR: bench.investigator,
        Role.MONITOR: bench.monitor,
        Role.STUDY_ADMIN: bench.study_admin,
    }
    paths = {f"home as {role}": (people[role], reverse("home")) for role in WORK_ROLES}
    for section in worklist.sections():
        path = reverse("worklist:section", args=[section.key])
        paths[f"see all {section.key}"] = (people[section.role], path)
    counts, sizes = {}, {}
    for name, (user, path) in paths.items():
        client = Client()
        client.force_login(user)
        client.get(path)  # the session and the navigation's count, as for any page
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, f"{name}: HTTP {response.status_code}"
        counts[name] = len(queries)
        sizes[name] = len(response.content)
    return counts, sizes


def _counts_at(size: int) -> dict[str, int]:
    """Generate, measure, and roll the study back (the next size reuses its codes)."""
    with transaction.atomic():
        bench = generate(participants=size, sites=2)
        work, sizes = _work_counts(bench)
        counts = query_counts(bench) | work
        transaction.set_rollback(True)
    return counts, sizes


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        return {size: _counts_at(size) for size in SIZES}


@pytest.fixture(scope="module")
def counts(measured):
    return {size: queries for size, (queries, _sizes) in measured.items()}


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_the_page_makes_as_many_queries_in_a_larger_study(counts, page):
    small, large = (counts[size][page] for size in SIZES)
    assert small == large, f"{page}: {small} queries at {SIZES[0]}, {large} at {SIZES[1]}"


@pytest.mark.parametrize("page", WORK_PAGES)
def test_each_work_list_makes_as_many_queries_in_a_larger_study(counts, page):
    small, large = (counts[size][page] for size in SIZES)
    assert small == large, f"{page}: {small} queries at {SIZES[0]}, {large} at {SIZES[1]}"


def test_the_home_page_stays_small_whatever_the_study_size(measured):
    """Each section shows its first rows and a count, never the whole list: 200 kB at most."""
    for size, (_queries, sizes) in measured.items():
        for name, n in sizes.items():
            assert n <= 200 * 1024, f"{name}: {n} bytes at {size} participants"


def test_every_page_is_measured_at_both_sizes(counts):
    assert all(set(counts[size]) == {*PAGE_NAMES, *WORK_PAGES} for size in SIZES)


#: Issue 13's target: at most 15 queries a page, the base layout's four (session, user,
#: memberships, the bell) included. A page going over has grown a query per panel or per
#: save step: read it with what is already read (bench/pages.py names the requests).
MAX_QUERIES = 15


@pytest.mark.parametrize("page", [*PAGE_NAMES, *WORK_PAGES])
def test_no_page_makes_more_than_fifteen_queries(counts, page):
    for size in SIZES:
        assert counts[size][page] <= MAX_QUERIES, (
            f"{page}: {counts[size][page]} queries at {size} participants"
        )


@pytest.mark.django_db(transaction=True)
def test_a_login_stays_within_the_ceiling_as_the_server_counts_its_queries(alice):
    """The sizes above are measured inside the test's transaction, where Django writes no
    BEGIN and COMMIT for the transactions a request opens; gunicorn's requests run outside
    one, and every transaction (an empty delete's included) adds two statements to the
    count `make bench` reports. A login opens the most of them."""
    from tests.factories import PASSWORD

    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert len(queries) <= MAX_QUERIES, [q["sql"][:70] for q in queries]
