"""Pin: extending a list draws a fresh random stream, not the list's opening blocks again.

Were the extension seeded like the list's start, its allocations would repeat the first
ones, and anyone who had seen the first participants' arms could predict the new ones.
"""

import pytest

from patients.models import RandomisationList
from patients.randomisation import extend_list, generate_lists
from tests.factories import load_demo_protocol


def arms_in_order(slots) -> list[str]:
    return [slot.arm.code for slot in slots]


@pytest.mark.parametrize("seed", ["alpha", "beta", "gamma"])
def test_an_extension_does_not_replay_the_opening_blocks(db, seed):
    version = load_demo_protocol("ld-il2-mood.yaml")
    generate_lists(version=version, seed=seed, size=30)
    allocation_list = RandomisationList.objects.get(study=version.study, stratum__code="MDD")
    opening = list(allocation_list.slots.select_related("arm").order_by("sequence"))

    added = extend_list(allocation_list=allocation_list, size=30)

    added_arms = arms_in_order(sorted(added, key=lambda slot: slot.sequence))
    opening_arms = arms_in_order(opening)[: len(added_arms)]
    assert added_arms != opening_arms
    assert [slot.block for slot in added][0] == opening[-1].block + 1
