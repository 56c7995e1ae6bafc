"""Randomisation: pre-generated permuted-block lists, consumed in order under a row lock.

Why a pre-generated list rather than a coin tossed at enrolment: the list is fixed before the
first participant, from a recorded seed, so the statistician can reproduce it and an auditor
can check that nobody chose an allocation. Permuted blocks keep the arms in the protocol's
ratio at every block boundary, and the block size varies at random (1x or 2x the base block)
so a site cannot guess the last allocations of a block.

Why `SELECT ... FOR UPDATE SKIP LOCKED` when taking a slot: two coordinators enrolling at the
same moment must never share a slot, and the second should take the next slot at once rather
than queue behind the first transaction (which may still be writing a calendar).
"""

import random
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.tracking import acting
from core.errors import DomainError
from trials.models import Arm, ProtocolVersion, Stratum, Study

from .models import Participant, RandomisationList, RandomisationSlot

#: Block sizes as multiples of the base block (for 2:1, blocks of 3 or 6).
BLOCK_MULTIPLES = (1, 2)
SEED_MAX_LENGTH = RandomisationList._meta.get_field("seed").max_length


class RandomisationError(DomainError):
    """A list cannot be generated or extended, or a participant cannot be allocated."""


class ListsAlreadyExist(RandomisationError):
    """Lists exist for the study already: they are never regenerated (the seed is final)."""


def _arms(version: ProtocolVersion) -> list[Arm]:
    # A fixed order: reproducing a list from its seed needs the same base block.
    return list(version.arms.order_by("order", "code"))


def _base_block(arms: list[Arm]) -> list[Arm]:
    """One of each arm repeated by its ratio weight: 2:1 gives [IL2, IL2, PBO]."""
    return [arm for arm in arms for _repeat in range(arm.ratio)]


def _stream(seed: str, stratum: Stratum | None, *parts: object) -> random.Random:
    """The random stream of one stratum, fully determined by the recorded seed."""
    code = stratum.code if stratum is not None else ""
    return random.Random(":".join([seed, code, *map(str, parts)]))


def _append_blocks(
    allocation_list: RandomisationList, rng: random.Random, arms: list[Arm], size: int
) -> list[RandomisationSlot]:
    """Write blocks after the list's last slot until at least `size` new slots exist."""
    base = _base_block(arms)
    last = allocation_list.slots.order_by("-sequence").first()
    sequence, block = (last.sequence, last.block) if last else (0, 0)
    slots: list[RandomisationSlot] = []
    while len(slots) < size:
        block += 1
        arms_in_block = base * rng.choice(BLOCK_MULTIPLES)
        rng.shuffle(arms_in_block)
        for arm in arms_in_block:
            sequence += 1
            slots.append(
                RandomisationSlot(
                    allocation_list=allocation_list, sequence=sequence, block=block, arm=arm
                )
            )
    return RandomisationSlot.objects.bulk_create(slots)


@transaction.atomic
def generate_lists(
    *, version: ProtocolVersion, seed: str | None = None, size: int = 300, user=None
) -> list[RandomisationList]:
    """Generate the study's lists, one per stratum, before the first enrolment.

    Refused when the version has a single arm (nothing to randomise) or when lists already
    exist: a list is generated once, its seed is final, and it is extended, never replaced.
    """
    arms = _arms(version)
    if len(arms) < 2:
        raise RandomisationError(
            _("Protocol version %s has a single arm: it needs no randomisation list.") % version
        )
    if size < 1:
        raise RandomisationError(_("A randomisation list needs at least one slot."))
    if seed is not None and not 1 <= len(seed) <= SEED_MAX_LENGTH:
        raise RandomisationError(_("A seed is 1 to %d characters long.") % SEED_MAX_LENGTH)
    # Serialise generation per study, so two admins cannot both pass the check below.
    study = Study.objects.select_for_update().get(pk=version.study_id)
    strata: list[Stratum | None] = list(version.strata.order_by("order", "code")) or [None]
    # An amendment that adds a stratum gets a list for it; existing strata keep theirs.
    strata = [stratum for stratum in strata if _list_for(study.pk, stratum) is None]
    if not strata:
        raise ListsAlreadyExist(
            _("Randomisation lists already exist for %s; extend them instead.") % study.code
        )
    seed = seed or secrets.token_hex(16)
    block_sizes = [len(_base_block(arms)) * m for m in BLOCK_MULTIPLES]
    lists = []
    with acting(user, "Randomisation list generated"):
        for stratum in strata:
            allocation_list = RandomisationList.objects.create(
                study=study,
                protocol_version=version,
                stratum=stratum,
                seed=seed,
                block_sizes=block_sizes,
                generated_by=user,
            )
            _append_blocks(allocation_list, _stream(seed, stratum), arms, size)
            lists.append(allocation_list)
    return lists


@transaction.atomic
def extend_list(
    *, allocation_list: RandomisationList, size: int, user=None
) -> list[RandomisationSlot]:
    """Append at least `size` slots in new blocks, when recruitment outgrows the list.

    The extension is seeded from the list's seed and its last block number, so it too can be
    reproduced from what is recorded.
    """
    if size < 1:
        raise RandomisationError(_("An extension needs at least one slot."))
    # The list's row lock keeps two extensions from writing the same sequence numbers.
    allocation_list = RandomisationList.objects.select_for_update().get(pk=allocation_list.pk)
    arms = _arms(allocation_list.protocol_version)
    last = allocation_list.slots.order_by("-sequence").first()
    rng = _stream(allocation_list.seed, allocation_list.stratum, last.block if last else 0)
    with acting(user, "Randomisation list extended"):
        return _append_blocks(allocation_list, rng, arms, size)


@transaction.atomic
def allocate(*, participant: Participant, user=None) -> Arm:
    """Give the participant their arm: the next free slot of their stratum's list.

    Called by enrolment inside its own transaction; the participant's status is enrolment's
    business. A single-arm study needs no list: the participant simply gets its arm.
    When every free slot left is held by concurrent enrolments, the list counts as exhausted:
    they are about to take them.
    """
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.arm_id is not None or RandomisationSlot.objects.filter(participant=locked).exists():
        raise RandomisationError(_("Participant %s is already allocated.") % locked)
    version = locked.protocol_version
    arms = _arms(version)
    if not arms:
        raise RandomisationError(_("Protocol version %s has no arm.") % version)
    with acting(user, "Participant randomised"):
        # A single-arm study has nothing to randomise: no list, the participant gets the arm.
        arm = arms[0] if len(arms) == 1 else _take_slot(locked, version)
        locked.arm = arm
        locked.row_version += 1
        locked.save(update_fields=["arm", "row_version"])
    # The caller's instance is enrolment's working copy: keep it in step with the row.
    participant.arm, participant.row_version = locked.arm, locked.row_version
    return arm


def _take_slot(participant: Participant, version: ProtocolVersion) -> Arm:
    if participant.stratum_id is None and version.strata.exists():
        raise RandomisationError(
            _("The study is stratified: record the participant's stratum before randomising.")
        )
    allocation_list = _list_for(participant.study_id, participant.stratum)
    if allocation_list is None:
        raise RandomisationError(
            _(
                "There is no randomisation list for this stratum: "
                "generate the randomisation list before the first enrolment."
            )
        )
    # Served by the partial index on free slots; a slot being taken by a concurrent
    # enrolment is skipped, not waited for.
    slot = (
        RandomisationSlot.objects.select_for_update(skip_locked=True)
        .filter(allocation_list=allocation_list, participant__isnull=True)
        .order_by("sequence")
        .first()
    )
    if slot is None:
        raise RandomisationError(
            _("The randomisation list %s is exhausted: ask the study admin to extend it.")
            % allocation_list
        )
    # The list may come from an earlier protocol version: its arms are matched by code.
    arm = {arm.code: arm for arm in _arms(version)}.get(slot.arm.code)
    if arm is None:
        raise RandomisationError(
            _(
                "The randomisation list allocates arm %(arm)s, which protocol version "
                "%(version)s no longer has: ask the study admin."
            )
            % {"arm": slot.arm.code, "version": version.label}
        )
    slot.participant = participant
    slot.allocated_at = timezone.now()
    slot.save(update_fields=["participant", "allocated_at"])
    return arm


def _list_for(study_id: int, stratum: Stratum | None) -> RandomisationList | None:
    """The study's list for a stratum, matched by code so that it outlives amendments
    (each protocol version has its own stratum rows; the allocation sequence continues)."""
    lists = RandomisationList.objects.filter(study_id=study_id)
    if stratum is None:
        return lists.filter(stratum__isnull=True).first()
    return lists.filter(stratum__code=stratum.code).first()
