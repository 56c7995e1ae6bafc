"""Turn a REDCap data dictionary into entries of a protocol file's `forms:` section.

    manage.py import_redcap_dictionary dictionary.csv [--form NAME] [--code CODE]
                                                      [--output forms.yaml]

Prints the YAML (or writes it to --output) for the admin to paste into the protocol file of
the next version; nothing is stored. A dictionary with any field that does not translate is
refused whole, each problem with its row (the header is row 1). What is left out on purpose
(descriptive fields, layout) is listed on stderr.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trials.forms.codes import FORM_CODES
from trials.forms.redcap_import import DictionaryRefused, import_dictionary


class Command(BaseCommand):
    help = "Translate a REDCap data dictionary (CSV) into protocol-file form definitions."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--form", help="Import only this REDCap form (its Form Name).")
        parser.add_argument("--code", help="The code of the imported form (one form only).")
        parser.add_argument("--output", type=Path, help="Write the YAML here, not to stdout.")

    def handle(self, *args, file: Path, form, code, output: Path | None, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        try:
            imported = import_dictionary(text, form=form, code=code, builtin=FORM_CODES)
        except DictionaryRefused as exc:
            lines = "\n".join(f"{file}: {problem}" for problem in exc.problems)
            raise CommandError(f"Nothing was imported.\n{lines}") from exc
        for note in imported.notes:
            self.stderr.write(f"{file}: {note}")
        if output is None:
            self.stdout.write(imported.yaml(), ending="")
            return
        output.write_text(imported.yaml(), encoding="utf-8")
        codes = ", ".join(form.code for form in imported.forms)
        self.stdout.write(self.style.SUCCESS(f"Wrote {codes} to {output}."))
