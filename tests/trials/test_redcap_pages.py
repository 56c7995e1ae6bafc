"""The form library and the REDCap import page: a study admin's view of every form of the
study (versions, where each is scheduled, a read-only preview) and the import that turns a
REDCap data dictionary into forms for the next protocol file. Only the study's admins see
them; other members are refused, outsiders learn nothing."""

import io
from pathlib import Path

import pytest
from django.urls import reverse

from tests.platform.helpers_security import EVENT_HANDLER, INLINE_SCRIPT, STYLE
from tests.trials.helpers_forms import SHIPPED, with_forms
from tests.trials.helpers_redcap import dictionary
from trials.forms.registry import registry
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

# The shipped RP protocol (VITALS, CONMED, MEDHIST) amended as version 2.0.
VITALS_FILE = SHIPPED.replace('label: "1.0"', 'label: "2.0"').replace(
    "effective: 2019-11-01", "effective: 2020-03-01"
)
PHQ9_CSV = (Path(__file__).parent / "data" / "redcap-phq9.csv").read_bytes()


def rp_file(text: str) -> str:
    return text.replace("code: LDIL2-RP", "code: RP")


@pytest.fixture
def versions(study):
    """1.0 active, scheduling the forms of helpers_forms; 2.0 a draft with the VITALS form
    of the amended protocol (a changed VITALS: a second form version)."""
    first, _ = load_protocol(
        parse_protocol(rp_file(with_forms(visit_forms="[RPDAI, VITALS, SYMPT, CM]"))),
        activate=True,
    )
    draft, _ = load_protocol(parse_protocol(rp_file(VITALS_FILE)))
    return first, draft


def library(client):
    return client.get(reverse("trials:form-library", args=["RP"]))


def test_the_library_lists_every_form_with_its_versions_and_visits(versions, sam, client_for):
    first, draft = versions
    response = library(client_for(sam))
    assert response.status_code == 200
    html = response.content.decode()
    for code in [*registry.builtin_codes(), "VITALS", "SYMPT", "CM"]:
        assert f'id="form-{code}"' in html
    row = html.split('id="form-VITALS"')[1].split("</tr>")[0]
    for version in (first, draft):
        definition = version.forms.get(code="VITALS")
        assert definition.content_hash[:12] in row
    assert "1.0 (Active): W4" in row
    assert "2.0 (Draft): W0, W4, W8, W12" in row
    rpdai = html.split('id="form-RPDAI"')[1].split("</tr>")[0]
    assert registry.builtin("RPDAI").content_hash[:12] in rpdai
    assert "protocol 1.0, 2.0" in rpdai


def test_the_library_previews_each_form_read_only(versions, sam, client_for):
    html = library(client_for(sam)).content.decode()
    preview = html.split('id="preview-CM"')[1].split("</details>")[0]
    assert "Prednisone equivalent" in preview
    assert "<code>SC</code> Subcutaneous" in preview
    assert "<code>PREDEQ &gt; 10</code>" in preview  # show_if as text
    assert "at most 20 rows" in preview
    assert "ANYCM == &#x27;Y&#x27; or sum(MED.PREDEQ) == 0" in preview
    vitals = html.split('id="preview-VITALS"')[1].split("</details>")[0]
    assert "WEIGHT / (HEIGHT / 100) ^ 2" in vitals
    assert "Range 20 to 250 (refused outside)" in vitals
    assert "Expected 35 to 150 (confirmed outside)" in vitals
    assert "<input" not in preview + vitals


def test_the_library_links_the_dictionary_download_and_the_import(versions, sam, client_for):
    html = library(client_for(sam)).content.decode()
    assert reverse("trials:form-dictionary", args=["RP"]) in html
    assert reverse("trials:form-import", args=["RP"]) in html
    study_page = client_for(sam).get(reverse("trials:study", args=["RP"])).content.decode()
    assert reverse("trials:form-library", args=["RP"]) in study_page


def test_other_members_are_refused_and_outsiders_see_nothing(
    versions, alice, ivan, mona, charlie, client_for
):
    for url in (
        reverse("trials:form-library", args=["RP"]),
        reverse("trials:form-import", args=["RP"]),
    ):
        for member in (alice, ivan, mona):
            assert client_for(member).get(url).status_code == 403
            assert client_for(member).post(url, {}).status_code == 403
        assert client_for(charlie).get(url).status_code == 404


def upload(client, content: bytes, **fields):
    data = {"dictionary": io.BytesIO(content), **fields}
    data["dictionary"].name = "dictionary.csv"
    return client.post(reverse("trials:form-import", args=["RP"]), data)


def test_an_imported_dictionary_shows_the_forms_and_the_yaml_for_the_protocol_file(
    study, sam, client_for
):
    response = upload(client_for(sam), PHQ9_CSV, code="PHQ9X")
    assert response.status_code == 200
    context = response.context
    (form,) = context["imported"]
    assert form["code"] == "PHQ9X"
    html = response.content.decode()
    assert "Nearly every day" in html
    assert "sum(value(phq1), value(phq2)" in html
    assert "A descriptive field shows text only" in html
    (parsed,) = parse_protocol(with_forms(context["yaml"])).forms
    assert parsed.content_hash == form["hash"]
    assert not study.versions.exists()  # nothing stored


def test_a_dictionary_that_does_not_translate_shows_each_problem_by_row(study, sam, client_for):
    text = dictionary(
        {"name": "a", "type": "image", "label": "A"},
        {"name": "b", "type": "text", "label": "B", "branching": "[zz] = '1'"},
    )
    response = upload(client_for(sam), text.encode(), form="f")
    assert response.status_code == 200
    assert "imported" not in response.context
    assert [(p.row, p.field) for p in response.context["problems"]] == [(2, "a"), (3, "b")]
    html = response.content.decode()
    assert "Unknown field type &#x27;image&#x27;." in html
    assert 'value="f"' in html  # what was typed is kept


def test_a_built_in_code_and_a_file_that_is_not_text_are_refused(study, sam, client_for):
    response = upload(client_for(sam), PHQ9_CSV, code="PHQ9")
    assert "PHQ9 is a built-in form&#x27;s code" in response.content.decode()
    response = upload(client_for(sam), b"\xff\xfe\x00bad")
    assert response.context["form"].errors["dictionary"] == ["The file is not UTF-8 text."]


def test_an_upload_too_large_to_be_a_dictionary_is_refused(study, sam, client_for, monkeypatch):
    monkeypatch.setattr("trials.views.MAX_DICTIONARY_BYTES", 100)
    response = upload(client_for(sam), PHQ9_CSV)
    assert response.context["form"].errors["dictionary"] == [
        "The file is larger than 0 MB: it is not a data dictionary."
    ]


def test_the_pages_need_no_inline_script_or_style(versions, sam, client_for):
    client = client_for(sam)
    for html in (
        library(client).content.decode(),
        upload(client, PHQ9_CSV, code="PHQ9X").content.decode(),
    ):
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE):
            assert pattern.search(html) is None
