"""Every string a user reads exists in Simplified Chinese, and the shipped catalogue is the
one the code asks for.

The catalogue (locale/zh_Hans/LC_MESSAGES/django.po) is checked four ways: nothing empty or
fuzzy; the same messages as a fresh `makemessages` of the code (when xgettext is installed:
the only check that needs it, skipped by name otherwise); the committed .mo says what the .po
says (the running site reads the .mo, and needs no gettext tools); and every label, help and
choice of the built-in forms reads Chinese under zh-hans. A failure names the messages:
`make messages`, then translate what `python scripts/untranslated.py` lists.
"""

import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from core.management.commands.makemessages import IGNORED
from scripts.untranslated import read_po, untranslated
from trials.forms.registry import registry
from trials.forms.spec import Text

ROOT = Path(settings.BASE_DIR)
MESSAGES = ROOT / "locale/zh_Hans/LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
#: An English word left in a Chinese text: three lower-case letters or more ("mg", "CRP",
#: "Treg /µL" and codes are the same in both languages).
ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def messages(entries) -> set:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in entries}


def describe(keys) -> str:
    return "\n".join(
        f"  {ctx + ' | ' if ctx else ''}{msgid!r}" for ctx, msgid, _ in sorted(keys, key=str)
    )


def test_every_message_is_translated_and_none_is_fuzzy():
    _header, entries = read_po(PO)
    assert len(entries) > 1000
    missing = untranslated(entries)
    assert not missing, "Untranslated or fuzzy (python scripts/untranslated.py):\n" + describe(
        messages(missing)
    )


def test_the_header_declares_the_language_and_its_single_plural_form():
    header, _entries = read_po(PO)
    assert not header.fuzzy
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="xgettext (GNU gettext) is not installed: cannot extract the code's messages to "
    "compare with the catalogue. Install gettext to run this check.",
)
def test_the_catalogue_has_exactly_the_messages_of_the_code(tmp_path, monkeypatch, settings):
    """A fresh makemessages over a copy of the code, compared with the committed catalogue."""
    for path in ROOT.iterdir():  # what makemessages reads there, nothing else
        if path.name.startswith(".") or f"{path.name}/*" in IGNORED:
            continue
        if path.is_dir():
            skip = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(path, tmp_path / path.name, ignore=skip)
        else:
            shutil.copy(path, tmp_path / path.name)
    locale = tmp_path / "locale"
    locale.mkdir()
    settings.LOCALE_PATHS = [locale]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    _header, fresh = read_po(locale / "zh_Hans/LC_MESSAGES/django.po")
    _header, shipped = read_po(PO)
    new, gone = messages(fresh) - messages(shipped), messages(shipped) - messages(fresh)
    assert not new and not gone, (
        "The catalogue is not up to date with the code: run `make messages` and translate.\n"
        f"In the code, not in the catalogue:\n{describe(new)}\n"
        f"In the catalogue, no longer in the code:\n{describe(gone)}"
    )


def without_creation_date(header: str) -> str:
    """msgfmt leaves the extraction date out of the compiled header."""
    return "".join(line for line in header.splitlines(True) if not line.startswith("POT-"))


def test_the_compiled_catalogue_says_what_the_po_says():
    header, entries = read_po(PO)
    expected = {"": without_creation_date(header.msgstr[0])}
    for e in entries:
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            expected[key] = e.msgstr[0]
        else:
            expected.update({(key, i): text for i, text in enumerate(e.msgstr)})
    with MO.open("rb") as compiled:
        catalog = dict(gettext.GNUTranslations(compiled)._catalog)
    catalog[""] = without_creation_date(catalog.get("", ""))
    stale = {k for k in expected.keys() | catalog.keys() if expected.get(k) != catalog.get(k)}
    assert not stale, (
        f"django.mo differs from django.po (run `make messages`): {sorted(stale, key=str)[:20]}"
    )


def builtin_texts():
    """(form, where, Text) for every name, label, help, choice and rule message of the
    built-in forms."""
    for code in sorted(registry.builtin_codes()):
        form = registry.builtin(code)
        yield code, "name", form.name
        for group in form.groups:
            if group.name is not None:
                yield code, group.code, group.name
            for item in group.items:
                yield code, item.code, item.label
                if item.help is not None:
                    yield code, f"{item.code} help", item.help
                for value, label in item.codes:
                    yield code, f"{item.code}={value}", label
        for check in form.checks:
            yield code, check.id, check.message


def test_every_built_in_form_reads_chinese_under_zh_hans():
    english = []
    for code, where, text in builtin_texts():
        chinese = text.get("zh-hans")
        if not chinese or ENGLISH_WORD.search(chinese):
            english.append(f"{code} {where}: {chinese!r}")
    assert not english, "Built-in form texts not translated:\n" + "\n".join(english)
    assert len(list(builtin_texts())) > 100


def test_the_instruments_read_their_chinese_versions():
    with translation.override("zh-hans"):
        phq9, hamd = registry.builtin("PHQ9"), registry.builtin("HAMD17")
        assert str(phq9.name) == "患者健康问卷 9 项（PHQ-9）"
        assert str(phq9.item("P2").label) == "2. 感到心情低落、沮丧或绝望"
        assert str(hamd.item("H1").label) == "1. 抑郁情绪"


def protocol_form_texts(form):
    yield "name", form.name
    for group in form.groups:
        for item in group.items:
            yield item.code, item.label
            if item.help is not None:
                yield f"{item.code} help", item.help
            for value, label in item.codes:
                yield f"{item.code}={value}", label
    for check in form.checks:
        yield check.id, check.message


def test_a_protocol_form_carries_its_own_translations():
    label = Text.of({"en": "Weight", "zh-hans": "体重"})
    assert label.get("zh-hans") == "体重"
    assert label.get("en") == "Weight"
    with translation.override("zh-hans"):
        assert str(label) == "体重"


@pytest.mark.parametrize("path", sorted((ROOT / "trials/protocols").glob("*.yaml")), ids=str)
def test_the_shipped_protocol_files_translate_their_forms(path):
    """A form a shipped protocol defines gives every text in English and Simplified Chinese
    (`label: {en: ..., zh-hans: ...}`, docs/PROTOCOL-FILE.md)."""
    from trials.protocol_file import parse_protocol

    spec = parse_protocol(path.read_text(encoding="utf-8"), source=path.name)
    one_language = [
        f"{form.code} {where}: {text.to_data()!r}"
        for form in spec.forms
        for where, text in protocol_form_texts(form)
        if text is not None and "zh-hans" not in dict(text.translations)
    ]
    assert not one_language, f"{path.name}: texts without zh-hans:\n" + "\n".join(one_language)


def test_the_audit_trail_names_actions_and_relations_in_the_reader_s_language():
    from audit.history import ACTIONS, field_label
    from patients.models import Participant

    with translation.override("zh-hans"):
        assert str(ACTIONS["update"]) == "修改"
        # A relation Django named after its field reads as the related model's name.
        assert str(field_label(Participant._meta.get_field("study"))) == "研究"
