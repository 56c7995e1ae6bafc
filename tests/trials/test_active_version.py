"""A study's active version is asked one way (`Study.active_version()`): the one new
participants are screened and enrolled on, or None before the first activation."""

from tests.factories import load_demo_protocol
from trials.models import VersionStatus


def test_a_study_answers_its_active_version(db):
    version = load_demo_protocol()
    assert version.study.active_version() == version


def test_a_study_with_only_a_draft_has_no_active_version(db):
    draft = load_demo_protocol(activate=False)
    assert draft.status == VersionStatus.DRAFT
    assert draft.study.active_version() is None
