"""Writing new values into encoded leaves (codec/patch.py): the bytes must be the
ones a fresh encode of the updated rows gives, and anything that would move a
buffer is refused."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from arbordb.engine.chunks.delta import apply_delta, encode_delta
from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.codec.layout import LeafLayouts
from arbordb.engine.codec.leaf import PreparedKeys, encode_leaves
from arbordb.engine.codec.patch import patch_leaves

TYPES = [pa.string(), pa.float64(), pa.int32(), pa.timestamp("us"), pa.decimal128(10, 2)]


def leaves_of(columns: list[pa.Array], bounds: list[int]) -> list[bytes]:
    keys = encode_keys([pa.array(range(len(columns[0])), pa.int64())], [pa.int64()])
    return encode_leaves(PreparedKeys(keys), [PreparedColumn(c) for c in columns], bounds)


def table(n: int, nulls: bool = False) -> list[pa.Array]:
    rng = np.random.default_rng(n)

    def maybe(values):
        return [None if nulls and i % 7 == 3 else v for i, v in enumerate(values)]

    return [
        pa.array(maybe([f"label{i % 13:03d}" for i in range(n)]), pa.string()),
        pa.array(maybe(rng.random(n).tolist()), pa.float64()),
        pa.array(maybe(list(range(n))), pa.int32()),
        pa.array(maybe(list(range(n))), pa.timestamp("us")),
        pa.array(maybe([i * 3 for i in range(n)]), pa.decimal128(10, 2)),
    ]


def updated(columns: list[pa.Array], rows: np.ndarray, new: list[pa.Array]) -> list[pa.Array]:
    out = []
    for old, values in zip(columns, new, strict=True):
        index = np.arange(len(old))
        index[rows] = len(old) + np.arange(len(rows))
        out.append(pa.concat_arrays([old, values]).take(pa.array(index)))
    return out


def patch(columns, bounds, rows, new):
    bounds_arr = np.asarray(bounds)
    leaf = np.searchsorted(bounds_arr, rows, "right") - 1
    return patch_leaves(
        LeafLayouts(leaves_of(columns, bounds)),
        leaf,
        rows - bounds_arr[leaf],
        [PreparedColumn(c) for c in new],
    )


@pytest.mark.parametrize("nulls", [False, True])
def test_patched_leaves_equal_a_fresh_encode(nulls):
    columns = table(400, nulls)
    bounds = [0, 90, 91, 250, 400]
    rows = np.array([0, 5, 89, 90, 91, 120, 249, 399])
    if nulls:
        rows = rows[rows % 7 != 3]  # an old NULL cannot be overwritten in place
    k = len(rows)
    new = [
        pa.array([f"LABEL{i:03d}" for i in range(k)], pa.string()),  # same byte length
        pa.array([float("nan")] + [float(i) for i in range(1, k)], pa.float64()),
        pa.array(range(-k, 0), pa.int32()),
        pa.array(range(k), pa.timestamp("us")),
        pa.array([7] * k, pa.decimal128(10, 2)),
    ]
    got, bodies = patch(columns, bounds, rows, new)
    want = leaves_of(updated(columns, rows, new), bounds)
    assert got == want
    # the delta bodies are the ones a byte comparison makes, and rebuild the leaves
    old = leaves_of(columns, bounds)
    assert bodies == [encode_delta(a, b) for a, b in zip(old, want, strict=True)]
    assert [apply_delta(a, body, b"x" * 20) for a, body in zip(old, bodies, strict=True)] == want


def test_variable_width_keys_and_one_leaf():
    words = sorted(f"w{i * 37 % 101}" * (1 + i % 3) for i in range(60))
    keys = encode_keys([pa.array(words)], [pa.string()])
    values = pa.array(range(60), pa.int64())
    leaf = encode_leaves(PreparedKeys(keys), [PreparedColumn(values)], [0, 60])
    got, _ = patch_leaves(
        LeafLayouts(leaf),
        np.zeros(2, np.int64),
        np.array([3, 59]),
        [PreparedColumn(pa.array([-1, -2]))],
    )
    want_values = values.to_pylist()
    want_values[3], want_values[59] = -1, -2
    assert got == encode_leaves(
        PreparedKeys(keys), [PreparedColumn(pa.array(want_values))], [0, 60]
    )


@pytest.mark.parametrize(
    "new_label, new_score, why",
    [
        ("longer-label", 1.0, "a string whose byte length changes"),
        ("labélé0", 1.0, "same characters count, more bytes"),
        (None, 1.0, "a new NULL"),
        ("label000", None, "a new NULL in a fixed-width column"),
    ],
)
def test_refuses_what_would_move_a_buffer(new_label, new_score, why):
    columns = table(50)
    new = [pa.array([new_label], pa.string()), pa.array([new_score], pa.float64())]
    got = patch(columns[:2], [0, 50], np.array([4]), new)
    assert got is None, why


def test_refuses_an_old_null_and_a_bool_column():
    columns = table(50, nulls=True)
    new = [pa.array(["label999"]), pa.array([1.0])]
    assert patch(columns[:2], [0, 50], np.array([3]), new) is None  # row 3 holds NULLs
    assert patch(columns[:2], [0, 50], np.array([4]), new) is not None
    flags = [pa.array([True, False, True])]
    assert patch(flags, [0, 3], np.array([1]), [pa.array([True])]) is None
