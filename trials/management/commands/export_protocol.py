"""Write a study's protocol as a protocol file (the active version unless --label).

manage.py export_protocol LDIL2-RP [--label 1.0] > ld-il2-rp.yaml
"""

from django.core.management.base import BaseCommand, CommandError

from trials.models import ProtocolVersion
from trials.protocol_file import dump_protocol
from trials.services import spec_from_version


class Command(BaseCommand):
    help = "Print a study's protocol file (YAML)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--label", help="Version label (default: active).")

    def handle(self, *args, code: str, label: str | None, **options):
        versions = ProtocolVersion.objects.filter(study__code=code)
        versions = versions.filter(label=label) if label else versions.active()
        version = versions.select_related("study").first()
        if version is None:
            what = f"version {label}" if label else "active version"
            raise CommandError(f"No {what} for study {code!r}.")
        self.stdout.write(dump_protocol(spec_from_version(version)), ending="")
