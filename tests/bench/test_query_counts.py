"""Every page the benchmark measures makes as many queries in a study three times larger.

Two synthetic studies from the benchmark's own generator (`bench.generate`), measured with
the benchmark's own requests (`bench.pages`): a count that grows with the study is an N+1,
and `make bench` would show it as time growing with the size. No timing here.
"""

import pytest
from django.db import transaction
from django.test import override_settings

from bench.generate import generate
from bench.pages import PAGE_NAMES, query_counts

pytestmark = pytest.mark.django_db

SIZES = (20, 60)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts_at(size: int) -> dict[str, int]:
    """Generate, measure, and roll the study back (the next size reuses its codes)."""
    with transaction.atomic():
        bench = generate(participants=size, sites=2)
        counts = query_counts(bench)
        transaction.set_rollback(True)
    return counts


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        return {size: _counts_at(size) for size in SIZES}


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_the_page_makes_as_many_queries_in_a_larger_study(counts, page):
    small, large = (counts[size][page] for size in SIZES)
    assert small == large, f"{page}: {small} queries at {SIZES[0]}, {large} at {SIZES[1]}"


def test_every_page_is_measured_at_both_sizes(counts):
    assert all(set(counts[size]) == set(PAGE_NAMES) for size in SIZES)
