"""The vectorised, speculative chunker against a plain sequential reference."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.tree import splitter
from arbordb.engine.tree.splitter import (
    LEAF_RULE,
    ChunkRule,
    find_cuts,
    find_cuts_in_segments,
    key_hashes,
)

RULE = ChunkRule(target=512, min_size=128, max_size=2048)


def reference_cuts(hashes, sizes, rule, start=0, stop=None):
    """The rule of splitter.py's docstring, one item at a time."""
    stop = len(sizes) if stop is None else stop
    cuts, size = [], 0
    for i in range(start, stop):
        before, size = size, size + int(sizes[i])
        u = int(hashes[i] >> np.uint64(11)) / float(1 << 53)
        p = 1 - math.exp((before / rule.scale) ** 4 - (size / rule.scale) ** 4)
        if size >= rule.max_size or (size >= rule.min_size and u < p):
            cuts.append(i + 1)
            size = 0
    return cuts


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 20_000), st.integers(1, 120))
def test_find_cuts_equals_the_sequential_rule(seed, n, max_item):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    sizes = rng.integers(1, max_item + 1, n).astype(np.int64)
    assert find_cuts(hashes, sizes, RULE) == reference_cuts(hashes, sizes, RULE)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.integers(0, 3000), min_size=1, max_size=8))
def test_segments_are_independent_runs_of_the_rule(seed, lengths):
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64)
    sizes = rng.integers(1, 60, n).astype(np.int64)
    starts = np.cumsum([0, *lengths[:-1]])
    stops = np.cumsum(lengths)
    cuts, synced = find_cuts_in_segments(hashes, sizes, starts, stops, RULE)
    for r, (a, b) in enumerate(zip(starts, stops, strict=True)):
        expected = reference_cuts(hashes, sizes, RULE, int(a), int(b))
        assert cuts[r] == expected
        assert bool(synced[r]) == (bool(expected) and expected[-1] == b or a == b)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(0, 5_000),
    st.integers(1, 3_000),
    st.floats(0.0, 1.0),
)
def test_find_cuts_equals_the_rule_past_twice_the_target(seed, n, max_item, high):
    """Nodes that grow past twice the target before a candidate closes them (u near 1
    for a share ``high`` of the items), and items larger than that or than MAX: the
    walk's fallback, checked against the sequential rule."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    hashes[rng.random(n) < high] |= np.uint64(0xFFFF_FF00_0000_0000)
    sizes = rng.integers(1, max_item + 1, n).astype(np.int64)
    assert find_cuts(hashes, sizes, RULE) == reference_cuts(hashes, sizes, RULE)


def test_find_cuts_equals_the_rule_at_the_leaf_rule():
    """The real leaf rule over bench-like rows (~30 bytes) and text rows (~1 KB)."""
    rng = np.random.default_rng(5)
    for low, high in ((25, 40), (200, 2_000)):
        hashes = rng.integers(0, 2**63, 60_000, dtype=np.uint64) * np.uint64(2)
        sizes = rng.integers(low, high, 60_000).astype(np.int64)
        assert find_cuts(hashes, sizes, LEAF_RULE) == reference_cuts(hashes, sizes, LEAF_RULE)


_MASK = (1 << 64) - 1


def _reference_mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def reference_key_hash(key: bytes, level: int) -> int:
    """The key hash of splitter.py's docstring, one key at a time."""
    h = _reference_mix((((level + 1) * 0x9E3779B97F4A7C15) & _MASK) ^ len(key))
    for j in range(0, len(key), 8):
        lane = int.from_bytes(key[j : j + 8].ljust(8, b"\0"), "little")
        h = ((h ^ lane) * 0xBF58476D1CE4E5B9) & _MASK
        h ^= h >> 32
    return _reference_mix(h)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 3),
    st.one_of(
        st.integers(0, 30).flatmap(
            lambda w: st.lists(st.binary(min_size=w, max_size=w), min_size=1, max_size=40)
        ),
        st.lists(st.binary(max_size=30), max_size=40),
    ),
    st.integers(0, 3),
)
def test_key_hashes_equal_the_reference_hash(level, keys, offset):
    """Fixed-width keys (hashed with one seed and lanes read in place) and keys of
    mixed widths, sliced at an offset, against the hash computed key by key."""
    array = pa.array([b"pad"] * offset + keys, pa.binary()).slice(offset)
    got = key_hashes(array, level).tolist()
    assert got == [reference_key_hash(k, level) for k in keys]


def test_key_hashes_of_fixed_width_keys_across_hash_blocks(monkeypatch):
    """Fixed-width keys are hashed a block at a time: blocks of 7 keys (not a divisor
    of the count), from a slice, equal the reference."""
    monkeypatch.setattr(splitter, "HASH_BLOCK", 7)
    rng = np.random.default_rng(3)
    for width in (1, 8, 9, 17):
        keys = [bytes(rng.integers(0, 256, width).tolist()) for _ in range(60)]
        array = pa.array([b"\0" * width, *keys], pa.binary()).slice(1)
        for level in (0, 2):
            expected = [reference_key_hash(k, level) for k in keys]
            assert key_hashes(array, level).tolist() == expected
