"""Nested structures: flatten, pack_like and the replayed step's packer agree on every kind of
structure."""

from collections import namedtuple

import pytest

from chainrule import nest
from chainrule.fast.train_step import packer

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
    assert packer(structure)(leaves) == packed
    assert type(packer(structure)(leaves)) is type(packed)
    assert nest.flatten(packed) == leaves
