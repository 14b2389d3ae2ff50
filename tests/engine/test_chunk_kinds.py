"""Chunk kinds: every object codec's magic is in the one registry that gc, fsck and the
remote walk read (engine/versioning/reach.py ``KINDS``)."""

from __future__ import annotations

import importlib

import pytest

from arbordb.engine.versioning.reach import KINDS, chunk_children

# the codecs of chunks a repository stores (a pack and its index are remote files)
CODECS = [
    "arbordb.engine.history.commit",
    "arbordb.engine.history.tag",
    "arbordb.engine.history.working_set",
    "arbordb.engine.history.refs",
    "arbordb.engine.root",
    "arbordb.engine.table.header",
    "arbordb.engine.versioning.artifacts",
]


@pytest.mark.parametrize("name", CODECS)
def test_every_object_magic_is_registered(name):
    module = importlib.import_module(name)
    magics = [v for k, v in vars(module).items() if k.endswith("_MAGIC")]
    assert magics, f"{name} defines no magic"
    for magic in magics:
        assert magic in KINDS, f"{name}: {magic!r} is not in KINDS"


def test_no_magic_looks_like_a_tree_node():
    assert all(len(m) == 4 and m[1] != 0 for m in KINDS)


def test_a_tree_leaf_names_nothing():
    assert chunk_children(b"\x00" * 20, b"\x00\x00") == []
