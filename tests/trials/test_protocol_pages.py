"""The protocol as people read it: the printable summary, the API, the admin upload."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import PROTOCOL_DIR, MembershipFactory, UserFactory, load_demo_protocol
from trials.models import ProtocolVersion, Role


def member(version, username, role, *, blinded=False):
    user = UserFactory(username=username)
    MembershipFactory(user=user, study=version.study, role=role, is_blinded=blinded)
    return user


def test_the_summary_shows_the_schedule_of_assessments_and_28_doses(db, client_for):
    version = load_demo_protocol()
    user = member(version, "ivan", Role.INVESTIGATOR)
    response = client_for(user).get(reverse("trials:protocol", args=["LDIL2-RP"]))
    assert response.status_code == 200
    assert [(code, marks) for code, _, marks in response.context["soa"]] == [
        ("ELIG", [True, False, False, False]),
        ("RPDAI", [True, True, True, True]),
        ("TREG", [True, True, True, True]),
        ("STEROID", [True, True, True, True]),
        ("VITALS", [True, True, True, True]),
        ("CONMED", [True, False, False, False]),
        ("MEDHIST", [True, False, False, False]),
        ("AE", [False, True, True, True]),
    ]
    assert response.context["dose_total"] == 28
    assert len(response.context["dose_weeks"]) == 12
    assert b"Low-dose IL-2" in response.content


def test_a_blinded_reader_sees_no_arm_in_the_summary_or_the_api(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    user = member(version, "blake", Role.COORDINATOR, blinded=True)
    client = client_for(user)
    page = client.get(reverse("trials:protocol", args=["LDIL2-MOOD"])).content.decode()
    api = client.get(reverse("api-study-protocol", args=["LDIL2-MOOD"])).content.decode()
    for body in (page, api):
        for arm in version.arms.all():
            assert not re.search(rf"\b{arm.code}\b", body), arm.code
            assert arm.name not in body
        assert "placebo" not in body.lower().replace("matching placebo", "")


def test_an_unblinded_reader_gets_the_protocol_as_in_its_file(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    user = member(version, "sam", Role.STUDY_ADMIN)
    data = client_for(user).get(reverse("api-study-protocol", args=["LDIL2-MOOD"])).json()
    assert [a["code"] for a in data["arms"]] == ["IL2", "PBO"]
    assert data["version"] == {
        "label": "1.0",
        "effective": "2018-01-15",
        "blinded_results": ["TREG"],
    }
    assert [v["code"] for v in data["visits"]] == ["W0", "D5", "W1", "W2", "W4"]


def test_the_study_list_names_the_active_version(db, client_for):
    version = load_demo_protocol()
    user = member(version, "mona", Role.MONITOR)
    data = client_for(user).get(reverse("api-studies")).json()
    assert data == [
        {
            "code": "LDIL2-RP",
            "title": "Low-dose IL-2 in refractory relapsing polychondritis",
            "blinding": "open",
            "active_version": "1.0",
        }
    ]


def test_a_user_outside_the_study_gets_nothing(db, client_for, charlie):
    load_demo_protocol()
    client = client_for(charlie)
    assert client.get(reverse("api-studies")).json() == []
    assert client.get(reverse("api-study-protocol", args=["LDIL2-RP"])).status_code == 404
    assert client.get(reverse("trials:protocol", args=["LDIL2-RP"])).status_code == 404


def study_admin_client(client_for):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    return client_for(user)


def test_the_admin_upload_refuses_a_bad_file_with_its_line(db, client_for):
    client = study_admin_client(client_for)
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text().replace("day: 29,", "dayz: 29,")
    upload = SimpleUploadedFile("rp.yaml", text.encode())
    response = client.post(reverse("admin:trials_protocolversion_upload"), {"file": upload})
    assert response.status_code == 200
    body = response.content.decode()
    assert "rp.yaml:" in body
    assert "dayz" in body
    assert not ProtocolVersion.objects.exists()


def test_the_admin_upload_loads_and_the_download_gives_the_file_back(db, client_for):
    client = study_admin_client(client_for)
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text()
    upload = SimpleUploadedFile("rp.yaml", text.encode())
    response = client.post(
        reverse("admin:trials_protocolversion_upload"), {"file": upload, "activate": "on"}
    )
    assert response.status_code == 302
    version = ProtocolVersion.objects.get()
    assert version.status == "active"
    download = client.get(reverse("admin:trials_protocolversion_download", args=[version.pk]))
    from trials.protocol_file import parse_protocol

    assert parse_protocol(download.content.decode()) == parse_protocol(text)


def test_an_active_version_is_read_only_in_the_admin(db, client_for):
    client = study_admin_client(client_for)
    version = load_demo_protocol()
    page = client.get(reverse("admin:trials_protocolversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert b'name="visits-0-window_plus"' not in page.content
