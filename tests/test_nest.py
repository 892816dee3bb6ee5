"""Nested structures: flatten, pack_like and packer agree on every kind of structure."""

from collections import namedtuple

import pytest

from chainrule import nest

Pair = namedtuple("Pair", "first second")

STRUCTURES = [
    None,
    [None, None],
    (None, []),
    (None, [None]),
    (None, [None, None], (None,)),
    [None, (None, None)],
    (None, [[None]]),
    {"b": None, "a": [None, None]},
    Pair(None, [None]),
    [],
]


@pytest.mark.parametrize("structure", STRUCTURES, ids=repr)
def test_packer_packs_as_pack_like(structure):
    leaves = list(range(len(nest.flatten(structure))))
    packed = nest.pack_like(structure, leaves)
    assert nest.packer(structure)(leaves) == packed
    assert type(nest.packer(structure)(leaves)) is type(packed)
    assert nest.flatten(packed) == leaves
