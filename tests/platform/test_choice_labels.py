"""Choice labels on listings (core.choices): built once per field, still read in the
reader's language, and a value outside the choices still shows as stored."""

from django.utils import translation

from safety.models import AdverseEvent


def test_a_choice_label_is_shown_in_each_reader_s_language():
    event = AdverseEvent(relationship="probable")
    with translation.override("en"):
        assert event.get_relationship_display() == "Probable / likely"
    with translation.override("zh-hans"):
        assert event.get_relationship_display() == "很可能相关"
    with translation.override("en"):
        assert event.get_relationship_display() == "Probable / likely"


def test_a_value_outside_the_choices_shows_as_stored():
    assert AdverseEvent(relationship="written in by hand").get_relationship_display() == (
        "written in by hand"
    )
    assert AdverseEvent(relationship=None).get_relationship_display() is None
