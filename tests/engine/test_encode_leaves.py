"""``encode_leaves`` (a load's leaves, encoded together) against ``encode_leaf`` of
each leaf alone: byte for byte, for every column kind, NULLs, key widths and bounds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.leaf import PreparedKeys, encode_leaf, encode_leaves


def _column(kind: str, n: int, rng: np.random.Generator, nulls: bool) -> pa.Array:
    mask = (rng.random(n) < 0.3) if nulls else np.zeros(n, bool)
    if kind == "int":
        return pa.array(rng.integers(-5, 5, n), pa.int64(), mask=mask)
    if kind == "float":
        values = rng.random(n)
        values[rng.random(n) < 0.1] = np.nan
        return pa.array(values, pa.float64(), mask=mask)
    if kind == "bool":
        return pa.array(rng.random(n) < 0.5, pa.bool_(), mask=mask)
    if kind == "text":
        words = [("w" * int(k)) for k in rng.integers(0, 12, n)]
        return pa.array(words, pa.large_string() if n % 2 else pa.string(), mask=mask)
    lists = [list(range(int(k))) for k in rng.integers(0, 4, n)]
    return pa.array(lists, pa.list_(pa.int32()), mask=mask)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(1, 300),
    st.lists(st.sampled_from(["int", "float", "bool", "text", "list"]), max_size=4),
    st.booleans(),
    st.booleans(),
    st.integers(0, 5),
)
def test_encode_leaves_equals_each_leaf_alone(seed, n, kinds, nulls, mixed_keys, offset):
    rng = np.random.default_rng(seed)
    widths = rng.integers(1, 6, n + offset) if mixed_keys else np.full(n + offset, 9)
    keys = pa.array([bytes([i % 256]) * int(w) for i, w in enumerate(widths)], pa.binary())
    keys = keys.slice(offset)  # a slice: offsets not starting at 0
    columns = [PreparedColumn(_column(k, n + offset, rng, nulls).slice(offset)) for k in kinds]
    cuts = sorted(set(rng.integers(1, n, int(rng.integers(0, 8))).tolist())) if n > 1 else []
    start = int(rng.integers(0, 2)) if n > 1 else 0
    bounds = [start, *[c for c in cuts if c > start]]
    if len(bounds) == 1 or rng.random() < 0.5:  # else rows after the last leaf remain
        bounds.append(n)
    prepared = PreparedKeys(keys)
    spans = zip(bounds[:-1], bounds[1:], strict=True)
    expected = [encode_leaf(prepared, columns, a, b) for a, b in spans]
    assert encode_leaves(prepared, columns, bounds) == expected


def test_encode_leaves_of_an_empty_leaf_and_of_no_bounds():
    keys = PreparedKeys(pa.nulls(0, pa.binary()))
    columns = [PreparedColumn(pa.nulls(0, pa.int64()))]
    assert encode_leaves(keys, columns, [0, 0]) == [encode_leaf(keys, columns, 0, 0)]
    assert encode_leaves(keys, columns, [0]) == []
