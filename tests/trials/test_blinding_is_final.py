"""Pin: a study's blinding cannot change once a version has been in force.

Opening a blinded study would show every allocation made under it; closing an open one
would not hide what was seen. The protocol file and the admin refuse it alike.
"""

import pytest
from django.urls import reverse

from tests.factories import PROTOCOL_DIR, load_demo_protocol
from tests.trials.helpers_admin import study_admin
from trials.models import Study
from trials.protocol_file import parse_protocol
from trials.services import ProtocolConflict, load_protocol


def mood_file(**changes) -> str:
    text = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text()
    for old, new in changes.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    return text


def test_an_amendment_file_cannot_open_a_blinded_study(db):
    version = load_demo_protocol("ld-il2-mood.yaml")
    text = mood_file(**{"blinding: double": "blinding: open", 'label: "1.0"': 'label: "1.1"'})

    with pytest.raises(ProtocolConflict, match="blinding of LDIL2-MOOD cannot change"):
        load_protocol(parse_protocol(text))

    assert Study.objects.get(pk=version.study_id).blinding == "double"


def test_while_every_version_is_a_draft_the_blinding_may_still_change(db):
    load_demo_protocol("ld-il2-mood.yaml", activate=False)
    text = mood_file(**{"blinding: double": "blinding: single", 'label: "1.0"': 'label: "1.1"'})

    load_protocol(parse_protocol(text))

    assert Study.objects.get(code="LDIL2-MOOD").blinding == "single"


def test_the_admin_cannot_open_a_blinded_study_once_a_version_was_active(db, client_for):
    study = load_demo_protocol("ld-il2-mood.yaml").study
    una = study_admin("una", study)
    url = reverse("admin:trials_study_change", args=[study.pk])

    client_for(una).post(
        url,
        {
            "code": study.code,
            "title": study.title,
            "phase": study.phase,
            "blinding": "open",
            "sites-TOTAL_FORMS": "0",
            "sites-INITIAL_FORMS": "0",
            "sites-MIN_NUM_FORMS": "0",
            "sites-MAX_NUM_FORMS": "1000",
        },
    )

    study.refresh_from_db()
    assert study.blinding == "double"
