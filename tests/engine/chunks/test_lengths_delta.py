"""The ZSTD-over-lengths delta method (``delta.py`` method 2): leaves whose string
values change length are stored as small deltas, and rebuild exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks import delta
from arbordb.engine.chunks.delta import (
    METHOD_LENGTHS,
    apply_delta,
    encode_delta,
    encode_deltas,
    small_enough,
)
from arbordb.engine.codec.columns import PreparedColumn
from arbordb.engine.codec.key_batch import encode_keys
from arbordb.engine.codec.leaf import PreparedKeys, encode_leaf
from arbordb.engine.hash import address_of


def leaf(ids: np.ndarray, labels: list[str | None], scores: np.ndarray) -> bytes:
    keys = encode_keys([pa.array(ids, pa.int64())], [pa.int64()])
    columns = [PreparedColumn(pa.array(labels, pa.string())), PreparedColumn(pa.array(scores))]
    return encode_leaf(PreparedKeys(keys), columns, 0, len(ids))


def labels_of(rng: np.random.Generator, n: int, low: int, high: int) -> list[str]:
    return [
        f"{v:012d}"[: int(w)]
        for v, w in zip(rng.integers(0, 1000, n), rng.integers(low, high, n), strict=True)
    ]


def test_labels_changing_length_make_a_small_delta():
    rng = np.random.default_rng(1)
    n = 500
    ids, scores = np.arange(n) * 3, rng.random(n)
    labels = labels_of(rng, n, 10, 11)
    base = leaf(ids, labels, scores)
    edited = list(labels)
    for i in rng.choice(n, 5, replace=False):
        edited[i] = "x" * int(rng.integers(8, 13))
    new = leaf(ids, edited, scores)
    assert len(new) != len(base) or new != base
    body = encode_delta(base, new)
    assert body is not None and body[0] == METHOD_LENGTHS
    plain = delta._zstd_delta(base, new)  # every offset after the first edit differs
    assert len(body) * 3 < len(plain)
    assert apply_delta(base, body, address_of(new)) == new


def test_a_shifted_same_length_pair_is_not_patched_but_still_a_delta():
    """One label a byte longer, a later one a byte shorter: equal lengths, shifted bytes."""
    rng = np.random.default_rng(2)
    n = 400
    ids, scores = np.arange(n), rng.random(n)
    labels = labels_of(rng, n, 10, 11)
    edited = list(labels)
    edited[10], edited[380] = labels[10] + "y", labels[380][:-1]
    base, new = leaf(ids, labels, scores), leaf(ids, edited, scores)
    assert len(base) == len(new)
    (body,) = encode_deltas([(base, new)])
    assert body is not None and body[0] == METHOD_LENGTHS and small_enough(body, len(new))
    assert apply_delta(base, body, address_of(new)) == new


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 300),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.one_of(st.none(), st.text(max_size=15))), max_size=20
    ),
    st.integers(0, 2**32 - 1),
)
def test_any_edit_of_a_leaf_rebuilds_exactly(n, edits, seed):
    rng = np.random.default_rng(seed)
    ids, scores = np.arange(n), rng.random(n)
    labels: list[str | None] = list(labels_of(rng, n, 0, 14))
    base = leaf(ids, labels, scores)
    for where, value in edits:
        labels[where % n] = value
    new = leaf(ids, labels, scores)
    body = encode_delta(base, new)
    if body is not None:
        assert apply_delta(base, body, address_of(new)) == new


def test_a_batch_of_pairs_split_between_threads_gives_each_pair_its_own_body(monkeypatch):
    """``encode_deltas`` hands the zstd pairs to two threads (``in_halves``): each body
    is the one the pair gets alone, in order, and the split really happened."""
    rng = np.random.default_rng(7)
    n = 300
    pairs = []
    for _ in range(3 * delta._ZSTD_THREADED):
        ids, scores = np.arange(n) * 2, rng.random(n)
        labels = labels_of(rng, n, 8, 13)
        edited = list(labels)
        edited[int(rng.integers(n))] = "y" * int(rng.integers(8, 13))
        pairs.append((leaf(ids, labels, scores), leaf(ids, edited, scores)))
    alone = [encode_delta(base, new) for base, new in pairs]
    split: list[int] = []
    real = delta.in_halves

    def counting(work, items, least):
        if work.func is delta._zstd_bodies and len(items) >= least:
            split.append(len(items))
        return real(work, items, least)

    monkeypatch.setattr(delta, "in_halves", counting)
    assert delta.encode_deltas(pairs) == alone
    assert split and split[0] >= delta._ZSTD_THREADED
    for (base, new), body in zip(pairs, alone, strict=True):
        assert body is not None and apply_delta(base, body, address_of(new)) == new


def test_a_shifted_pair_gets_no_patch_built_when_zstd_beats_its_bound(monkeypatch):
    """Same-length pairs whose bytes shifted past one changed label (not enough to be
    hopeless) would make a PATCH of kilobytes: it is not built when a zstd body is
    already under the PATCH's lower bound (one byte per differing word)."""
    rng = np.random.default_rng(3)
    n = 500
    ids, scores = np.arange(n), rng.random(n)
    labels = labels_of(rng, n, 10, 11)
    edited = list(labels)
    edited[10], edited[480] = labels[10] + "y", labels[480][:-1]
    pair = (leaf(ids, labels, scores), leaf(ids, edited, scores))
    assert len(pair[0]) == len(pair[1])
    built: list[int] = []
    real = delta.patch_bodies

    def counting(new, starts, ends, differ):
        built.append(len(starts))
        return real(new, starts, ends, differ)

    monkeypatch.setattr(delta, "patch_bodies", counting)
    (body,) = encode_deltas([pair])
    assert body is not None and body[0] == METHOD_LENGTHS
    assert sum(built) == 0
    assert apply_delta(pair[0], body, address_of(pair[1])) == pair[1]
    # without the zstd methods' win the PATCH is still built, and chosen
    (patched,) = delta._patches([pair])
    assert isinstance(patched, bytes) and len(patched) > len(body)
