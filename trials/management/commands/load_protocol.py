"""Create a study, or amend it, from a protocol file.

    manage.py load_protocol trials/protocols/ld-il2-rp.yaml [--activate] [--reason TEXT]

A file with any problem is refused whole, with each problem's line and reason. A changed
file for an existing study becomes a new draft version; --activate makes it the active one.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trials.protocol_file import ProtocolFileError, parse_protocol
from trials.services import ProtocolConflict, load_protocol


class Command(BaseCommand):
    help = "Import a protocol YAML file (create a study or a new draft version)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--activate", action="store_true", help="Activate the version.")
        parser.add_argument("--reason", default="Protocol file imported")

    def handle(self, *args, file: Path, activate: bool, reason: str, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        try:
            spec = parse_protocol(text, source=str(file))
            version, created = load_protocol(spec, reason=reason, activate=activate)
        except ProtocolFileError as exc:
            raise CommandError(f"Nothing was imported.\n{exc}") from exc
        except ProtocolConflict as exc:
            raise CommandError(f"Nothing was imported. {exc}") from exc
        if created:
            self.stdout.write(self.style.SUCCESS(f"Loaded {version} from {file}."))
        else:
            self.stdout.write(f"Nothing to do: {version} already holds this file.")
