"""Randomisation follows the protocol: permuted blocks at 2:1, seeded, consumed in order."""

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from patients.models import Participant, RandomisationList, RandomisationSlot
from patients.randomisation import (
    ListsAlreadyExist,
    RandomisationError,
    allocate,
    extend_list,
    generate_lists,
)
from tests.factories import MembershipFactory, ParticipantFactory, UserFactory, load_demo_protocol
from trials.models import Role


def mood():
    """LDIL2-MOOD: double blind, IL2:PBO at 2:1, stratified by diagnosis (MDD / BD)."""
    return load_demo_protocol("ld-il2-mood.yaml")


def participant_in(version, stratum: str | None = "MDD", **kwargs) -> Participant:
    stratum_row = version.strata.get(code=stratum) if stratum else None
    return ParticipantFactory(protocol_version=version, stratum=stratum_row, **kwargs)


def list_for(stratum: str) -> RandomisationList:
    return RandomisationList.objects.get(stratum__code=stratum)


def blocks_of(allocation_list) -> list[list[str]]:
    blocks: dict[int, list[str]] = {}
    for slot in allocation_list.slots.order_by("sequence").select_related("arm"):
        blocks.setdefault(slot.block, []).append(slot.arm.code)
    return list(blocks.values())


def slot_rows(slots) -> list[tuple[int, int, str]]:
    return [(s.sequence, s.block, s.arm.code) for s in slots]


class Undo(Exception):
    """Raised to roll a savepoint back, so one test can generate the same study twice."""


def generated_then_undone(version, **kwargs) -> tuple[str, dict[str, list]]:
    with pytest.raises(Undo), transaction.atomic():
        lists = generate_lists(version=version, **kwargs)
        seed = RandomisationList.objects.get(pk=lists[0].pk).seed
        contents = {
            lst.stratum.code: slot_rows(lst.slots.order_by("sequence").select_related("arm"))
            for lst in lists
        }
        raise Undo
    return seed, contents


def extended_then_undone(allocation_list, size: int) -> list[tuple[int, int, str]]:
    with pytest.raises(Undo), transaction.atomic():
        rows = slot_rows(extend_list(allocation_list=allocation_list, size=size))
        raise Undo
    return rows


# Lists


def test_a_2_to_1_list_holds_only_blocks_of_3_and_6_each_exactly_2_to_1(db):
    lists = generate_lists(version=mood(), seed="blocks")
    assert sorted(lst.stratum.code for lst in lists) == ["BD", "MDD"]
    for allocation_list in lists:
        assert allocation_list.block_sizes == [3, 6]
        sequences = list(allocation_list.slots.values_list("sequence", flat=True))
        assert 300 <= len(sequences) < 306
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
        blocks = blocks_of(allocation_list)
        assert {len(block) for block in blocks} == {3, 6}
        for block in blocks:
            assert block.count("IL2") == 2 * block.count("PBO")
        # Shuffled: a block of 3 comes in any of its orders, so its end cannot be guessed.
        assert {tuple(block) for block in blocks if len(block) == 3} == {
            ("IL2", "IL2", "PBO"),
            ("IL2", "PBO", "IL2"),
            ("PBO", "IL2", "IL2"),
        }


def test_the_same_seed_gives_the_same_list_and_another_seed_another(db):
    version = mood()
    seed, first = generated_then_undone(version)
    assert len(seed) == 32 and int(seed, 16) >= 0  # recorded: secrets.token_hex(16)
    assert first["MDD"] != first["BD"]  # each stratum has its own stream

    assert generated_then_undone(version, seed=seed) == (seed, first)
    other_seed, other = generated_then_undone(version, seed="another seed")
    assert other_seed == "another seed"
    assert other["MDD"] != first["MDD"] and other["BD"] != first["BD"]


def test_lists_are_generated_once_per_study(db):
    version = mood()
    generate_lists(version=version, seed="once")
    with pytest.raises(ListsAlreadyExist, match="already exist for LDIL2-MOOD"):
        generate_lists(version=version, seed="twice")
    assert RandomisationList.objects.get(stratum__code="MDD").seed == "once"


def test_a_single_arm_study_gets_no_list(db):
    with pytest.raises(RandomisationError, match="single arm: it needs no randomisation list"):
        generate_lists(version=load_demo_protocol())
    assert not RandomisationList.objects.exists()


def test_an_extension_continues_the_list_in_whole_2_to_1_blocks_reproducibly(db):
    generate_lists(version=mood(), seed="extend", size=30)
    mdd = list_for("MDD")
    count, last_block = mdd.slots.count(), len(blocks_of(mdd))
    bd_before = slot_rows(list_for("BD").slots.select_related("arm"))

    preview = extended_then_undone(mdd, size=12)
    assert extended_then_undone(mdd, size=12) == preview

    added = slot_rows(extend_list(allocation_list=mdd, size=12))
    assert added == preview
    assert 12 <= len(added) < 18
    assert [sequence for sequence, _block, _arm in added] == list(
        range(count + 1, count + len(added) + 1)
    )
    new_blocks = blocks_of(mdd)[last_block:]
    assert sum(map(len, new_blocks)) == len(added)
    assert all(block.count("IL2") == 2 * block.count("PBO") for block in new_blocks)
    assert slot_rows(list_for("BD").slots.select_related("arm")) == bd_before


# Allocation


def test_300_participants_of_one_stratum_are_exactly_2_to_1_at_every_block_boundary(db):
    version = mood()
    generate_lists(version=version, seed="realised")
    participants = [participant_in(version, "MDD") for _ in range(300)]
    for participant in participants:
        allocate(participant=participant)

    slots = list(
        list_for("MDD").slots.order_by("sequence").select_related("arm", "participant__arm")
    )
    taken = [slot for slot in slots if slot.participant_id]
    assert [slot.participant for slot in taken] == participants  # in enrolment order
    assert [slot.sequence for slot in taken] == list(range(1, 301))
    block_ends = {slot.block: slot.sequence for slot in slots}
    il2 = pbo = boundaries = 0
    for slot in taken:
        assert slot.participant.arm == slot.arm
        il2 += slot.arm.code == "IL2"
        pbo += slot.arm.code == "PBO"
        assert abs(il2 - 2 * pbo) <= 6
        if block_ends[slot.block] == slot.sequence:
            boundaries += 1
            assert il2 == 2 * pbo
    assert boundaries >= 50
    assert abs(il2 - 2 * pbo) <= 6
    assert not list_for("BD").slots.filter(participant__isnull=False).exists()


def test_allocation_sets_the_arm_but_leaves_the_status_to_enrolment(db):
    version = mood()
    generate_lists(version=version, seed="status")
    participant = participant_in(version, "BD")
    arm = allocate(participant=participant)
    assert participant.arm == arm
    participant.refresh_from_db()
    assert participant.arm == arm and participant.status == "screening"
    slot = RandomisationSlot.objects.get(participant=participant)
    assert slot.allocation_list == list_for("BD") and slot.sequence == 1
    assert slot.arm == arm and slot.allocated_at is not None


def test_an_open_single_arm_study_simply_gets_its_arm(db):
    participant = ParticipantFactory()  # the RP protocol: one arm, LDIL2
    arm = allocate(participant=participant)
    assert arm.code == "LDIL2"
    participant.refresh_from_db()
    assert participant.arm == arm
    assert not RandomisationList.objects.exists()


def test_allocation_refuses_a_participant_already_allocated(db):
    version = mood()
    generate_lists(version=version, seed="twice")
    participant = participant_in(version)
    first = allocate(participant=participant)
    with pytest.raises(RandomisationError, match="is already allocated"):
        allocate(participant=Participant.objects.get(pk=participant.pk))
    assert RandomisationSlot.objects.filter(participant__isnull=False).count() == 1
    assert Participant.objects.get(pk=participant.pk).arm == first


def test_allocation_refuses_when_the_list_was_not_generated(db):
    participant = participant_in(mood())
    with pytest.raises(
        RandomisationError, match="generate the randomisation list before the first enrolment"
    ):
        allocate(participant=participant)
    participant.refresh_from_db()
    assert participant.arm is None


def test_allocation_refuses_an_exhausted_list_until_it_is_extended(db):
    version = mood()
    generate_lists(version=version, seed="small", size=1)
    size = list_for("MDD").slots.count()
    assert size in (3, 6)
    for _ in range(size):
        allocate(participant=participant_in(version))
    late = participant_in(version)
    with pytest.raises(RandomisationError, match="exhausted: ask the study admin to extend it"):
        allocate(participant=late)
    assert Participant.objects.get(pk=late.pk).arm is None

    extend_list(allocation_list=list_for("MDD"), size=1)
    allocate(participant=late)
    assert RandomisationSlot.objects.get(participant=late).sequence == size + 1


def test_allocation_refuses_a_participant_without_stratum_in_a_stratified_study(db):
    version = mood()
    generate_lists(version=version, seed="strata")
    participant = participant_in(version, stratum=None)
    with pytest.raises(RandomisationError, match="The study is stratified"):
        allocate(participant=participant)
    assert not RandomisationSlot.objects.filter(participant__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_enrolments_take_two_slots_and_the_second_does_not_wait():
    version = mood()
    generate_lists(version=version, seed="race", size=6)
    first_p, second_p = participant_in(version), participant_in(version)
    first_locked = threading.Barrier(2, timeout=10)
    second_finished = threading.Event()
    outcome: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = allocate(participant=Participant.objects.get(pk=first_p.pk))
                first_locked.wait()  # slot 1 is row-locked and not yet committed
                # Commit only once the second enrolment is over (or clearly stuck).
                outcome["second_done_before_first_commit"] = second_finished.wait(timeout=10)
        except Exception as exc:  # reported by the assertions below
            outcome["first_error"] = exc
        finally:
            connections.close_all()

    def second():
        try:
            first_locked.wait()
            with transaction.atomic():
                # Waiting for the first transaction's lock would fail here, not hang.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                outcome["second"] = allocate(participant=Participant.objects.get(pk=second_p.pk))
        except Exception as exc:
            outcome["second_error"] = exc
        finally:
            second_finished.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert "first_error" not in outcome and "second_error" not in outcome, outcome
    assert outcome["second_done_before_first_commit"] is True
    first_slot = RandomisationSlot.objects.get(participant=first_p)
    second_slot = RandomisationSlot.objects.get(participant=second_p)
    assert (first_slot.sequence, second_slot.sequence) == (1, 2)
    assert Participant.objects.get(pk=first_p.pk).arm == first_slot.arm == outcome["first"]
    assert Participant.objects.get(pk=second_p.pk).arm == second_slot.arm == outcome["second"]


# Who sees the list


def staff_member(username, study, role, *, is_blinded=False):
    """A staff user with the model permission: only the study role should then decide."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="patients", codename="view_randomisationlist"
        )
    )
    MembershipFactory(user=user, study=study, role=role, is_blinded=is_blinded)
    return user


@pytest.fixture
def mood_list(db):
    generate_lists(version=mood(), seed="admin", size=3)
    return list_for("MDD")


def admin_urls(allocation_list):
    return (
        reverse("admin:patients_randomisationlist_changelist"),
        reverse("admin:patients_randomisationlist_change", args=[allocation_list.pk]),
    )


def test_the_study_admin_reads_the_list_and_its_slots_in_the_admin(mood_list, client_for):
    admin_user = staff_member("ada", mood_list.study, Role.STUDY_ADMIN)
    client = client_for(admin_user)
    changelist, change = admin_urls(mood_list)

    response = client.get(changelist)
    assert response.status_code == 200 and response.context["cl"].result_count == 2

    response = client.get(change)
    assert response.status_code == 200
    [slots] = response.context["inline_admin_formsets"]
    assert len(slots.formset.forms) == mood_list.slots.count()
    assert "Placebo" in response.content.decode()
    assert not response.context["has_change_permission"]
    assert not response.context["has_delete_permission"]
    add = reverse("admin:patients_randomisationlist_add")
    assert client.get(add).status_code == 403


def test_a_blinded_coordinator_cannot_see_the_list(mood_list, client_for):
    coordinator = staff_member("bea", mood_list.study, Role.COORDINATOR, is_blinded=True)
    client = client_for(coordinator)
    for url in admin_urls(mood_list):
        assert client.get(url).status_code == 403


def test_a_study_admin_blinded_in_the_study_cannot_see_the_list(mood_list, client_for):
    blinded_admin = staff_member("bob", mood_list.study, Role.STUDY_ADMIN, is_blinded=True)
    # One blinded membership is enough to blind a user in a study (trials.access.is_blinded).
    also_coordinator = staff_member("cy", mood_list.study, Role.STUDY_ADMIN)
    MembershipFactory(
        user=also_coordinator, study=mood_list.study, role=Role.COORDINATOR, is_blinded=True
    )
    for user in (blinded_admin, also_coordinator):
        client = client_for(user)
        for url in admin_urls(mood_list):
            assert client.get(url).status_code == 403


def test_the_admin_of_another_study_sees_none_of_its_lists(mood_list, study, client_for):
    other = staff_member("otto", study, Role.STUDY_ADMIN)
    client = client_for(other)
    changelist, change = admin_urls(mood_list)
    response = client.get(changelist)
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    assert "LDIL2-MOOD" not in response.content.decode()
    assert client.get(change).status_code == 302  # "does not exist", back to the index


# The command


def test_the_command_generates_the_lists_once_and_says_so_the_second_time(db):
    mood()
    out = StringIO()
    call_command("generate_randomisation", "LDIL2-MOOD", "--size", "12", stdout=out)
    seed = RandomisationList.objects.get(stratum__code="MDD").seed
    printed = out.getvalue()
    assert f"Seed: {seed}" in printed
    for stratum in ("MDD", "BD"):
        slots = list_for(stratum).slots.count()
        assert f"stratum {stratum}: {slots} slots" in printed
    assert "PBO" not in printed and "Placebo" not in printed  # never an allocation
    slots_before = RandomisationSlot.objects.count()

    again = StringIO()
    call_command("generate_randomisation", "LDIL2-MOOD", "--seed", "other", stdout=again)
    assert "Lists already exist" in again.getvalue()
    assert RandomisationSlot.objects.count() == slots_before
    assert RandomisationList.objects.get(stratum__code="MDD").seed == seed


def test_the_command_refuses_an_unknown_study_and_a_single_arm_one(db):
    load_demo_protocol()
    with pytest.raises(CommandError, match="No active protocol version"):
        call_command("generate_randomisation", "NOPE", stdout=StringIO())
    with pytest.raises(CommandError, match="needs no randomisation list"):
        call_command("generate_randomisation", "LDIL2-RP", stdout=StringIO())
