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


def schedule_header(html: str) -> str:
    start = html.index('id="schedule-of-assessments"')
    return html[start : html.index("</thead>", start)]


def test_the_summary_shows_each_visit_by_cycle_as_the_protocol_schedules_it(db, client_for):
    """The SLE protocol schedules W0, W4 and W8 on the first day of cycles 1-3 and W12 by
    study day: the printout says so, as the file does."""
    version = load_demo_protocol("ld-il2-sle.yaml")
    user = member(version, "ivan", Role.INVESTIGATOR)
    html = client_for(user).get(reverse("trials:protocol", args=[version.study.code]))
    header = schedule_header(html.content.decode())
    columns = header.split("<th>")[2:]
    assert [c.split("<br>")[0] for c in columns] == ["W0", "W4", "W8", "W12"]
    for column, cycle, day in zip(columns, (1, 2, 3), (1, 29, 57), strict=False):
        assert f"cycle {cycle}, day 1" in column
        assert f"study day {day}" in column
    assert "cycle" not in columns[3]
    assert "study day 85" in columns[3]


def test_the_summary_says_a_dose_by_body_size_is_re_sized_each_cycle(db, client_for):
    """The GVHD cohorts dosed per m² in two cycles, re-sized from each cycle's weighing."""
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    text = (PROTOCOL_DIR / "ld-il2-gvhd.yaml").read_text(encoding="utf-8")
    cycles = "every_days: 1, cycles: {count: 2, dosing_weeks: 2, rest_weeks: 2}"
    text = text.replace("every_days: 1}", cycles + ", resize: each_cycle}")
    version, _created = load_protocol(parse_protocol(text), activate=True)
    user = member(version, "ivan", Role.INVESTIGATOR)
    html = client_for(user).get(reverse("trials:protocol", args=[version.study.code]))
    calendar = html.content.decode().split('id="dose-calendar"')[1].split("</table>")[0]
    dosing_rows = [row for row in calendar.split("<tr>") if "●" in row]
    assert dosing_rows
    assert all("re-sized each cycle" in row for row in dosing_rows)
    rp = load_demo_protocol()
    reader = member(rp, "rita", Role.INVESTIGATOR)
    plain = client_for(reader).get(reverse("trials:protocol", args=[rp.study.code]))
    assert "●" in plain.content.decode()
    assert "re-sized" not in plain.content.decode()


def test_the_summary_names_forms_in_the_readers_language(db, client_for):
    from accounts.models import Profile

    version = load_demo_protocol()
    user = member(version, "li", Role.INVESTIGATOR)
    Profile.objects.create(user=user, language="zh-hans")
    response = client_for(user).get(reverse("trials:protocol", args=["LDIL2-RP"]))
    names = {code: name for code, name, _marks in response.context["soa"]}
    assert names["ELIG"] == "入选资格"
    assert names["TREG"] == "Treg 检测（流式细胞术）"
    assert names["STEROID"] == "糖皮质激素剂量"
    assert names["AE"] == "不良事件"
    assert "糖皮质激素剂量" in response.content.decode()


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


def test_a_drafts_visits_show_their_cycle_in_the_admin(db, client_for):
    """A visit the file schedules by cycle keeps its cycle: the admin who edits the draft
    sees it beside the study day it resolves to."""
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    text = (PROTOCOL_DIR / "ld-il2-sle.yaml").read_text(encoding="utf-8")
    version, _created = load_protocol(parse_protocol(text), activate=False)
    client = study_admin_client(client_for)
    page = client.get(reverse("admin:trials_protocolversion_change", args=[version.pk]))
    html = page.content.decode()
    codes = list(version.visits.order_by("study_day").values_list("code", "cycle"))
    assert codes == [("W0", 1), ("W4", 2), ("W8", 3), ("W12", None)]
    for n, (_code, cycle) in enumerate(codes):
        field = re.search(rf'<input[^>]*name="visits-{n}-cycle"[^>]*>', html)
        assert field, f"visits-{n}-cycle"
        assert (f'value="{cycle}"' in field.group(0)) == (cycle is not None)


def test_a_blinded_reader_of_a_study_whose_arms_differ_in_amount_sees_the_study_drug(
    db, client_for
):
    """SLE: 1 MIU or placebo (0 MIU) on one schedule. Where the amount tells the arm, a
    blinded reader sees the study drug on the shared schedule, as their dose log shows it,
    not a row per arm with its amount; an unblinded reader sees each arm's."""
    version = load_demo_protocol("ld-il2-sle.yaml")
    code = version.study.code

    def calendar(user) -> list[str]:
        html = client_for(user).get(reverse("trials:protocol", args=[code])).content.decode()
        table = html.split('id="dose-calendar"')[1].split("</table>")[0]
        return [row for row in table.split("<tr>")[2:] if "</td>" in row]

    blinded = calendar(member(version, "blake", Role.COORDINATOR, blinded=True))
    assert len(blinded) == 12  # one row a week
    assert all("study drug" in row and "MIU" not in row for row in blinded)
    assert sum(row.count("●") for row in blinded) == 21
    unblinded = calendar(member(version, "una", Role.INVESTIGATOR))
    assert len(unblinded) == 24  # each arm's row, each week
    assert sum("1 MIU" in row for row in unblinded) == sum("0 MIU" in row for row in unblinded)


def test_the_api_gives_that_blinded_reader_the_schedule_without_the_amounts(db, client_for):
    version = load_demo_protocol("ld-il2-sle.yaml")
    url = reverse("api-study-protocol", args=[version.study.code])
    blake = member(version, "blake", Role.COORDINATOR, blinded=True)
    phases = client_for(blake).get(url).json()["dosing"]["phases"]
    assert len(phases) == 1
    assert "dose" not in phases[0] and "arm" not in phases[0]
    assert phases[0]["every_days"] == 2 and phases[0]["cycles"]["count"] == 3
    una = member(version, "una", Role.INVESTIGATOR)
    unblinded = client_for(una).get(url).json()["dosing"]["phases"]
    assert [(p["arm"], p["dose"]) for p in unblinded] == [("IL2", 1), ("PBO", 0)]
