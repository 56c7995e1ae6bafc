"""Generate a study's randomisation lists, for its active protocol version, once.

    manage.py generate_randomisation LDIL2-MOOD [--seed S] [--size N]

Safe to run twice: when the lists exist it says so and changes nothing. It prints the seed
(to file with the randomisation plan) and each list's size, never an allocation: this
output may land in a deployment log that blinded staff can read.
"""

from django.core.management.base import BaseCommand, CommandError

from patients.randomisation import ListsAlreadyExist, RandomisationError, generate_lists
from trials.models import ProtocolVersion


class Command(BaseCommand):
    help = "Generate the randomisation lists of a study's active protocol version."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Study code.")
        parser.add_argument("--seed", help="Seed (default: a new random one, printed).")
        parser.add_argument("--size", type=int, default=300, help="Minimum slots per list.")

    def handle(self, *args, code: str, seed: str | None, size: int, **options):
        version = (
            ProtocolVersion.objects.filter(study__code=code)
            .active()
            .select_related("study")
            .first()
        )
        if version is None:
            raise CommandError(f"No active protocol version for study {code!r}.")
        try:
            lists = generate_lists(version=version, seed=seed, size=size)
        except ListsAlreadyExist:
            self.stdout.write(f"Lists already exist for {code}; nothing was changed.")
            return
        except RandomisationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Generated randomisation lists for {version}."))
        self.stdout.write(f"Seed: {lists[0].seed}")
        for allocation_list in lists:
            stratum = allocation_list.stratum.code if allocation_list.stratum else "(all)"
            slots = allocation_list.slots.count()
            blocks = allocation_list.slots.values("block").distinct().count()
            self.stdout.write(f"  stratum {stratum}: {slots} slots in {blocks} blocks")
