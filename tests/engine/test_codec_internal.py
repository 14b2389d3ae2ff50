"""``codec/internal.py``: an internal node decodes to the entries it was encoded from,
keys and addresses byte for byte (trailing NUL bytes kept: both are read as numpy
void items), and a truncated node is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.codec.internal import decode_internal, encode_internal
from arbordb.engine.hash import ADDRESS_LEN

entries = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.one_of(
            st.integers(1, 12).flatmap(  # keys of one width (NULs at either end)
                lambda w: st.lists(st.binary(min_size=w, max_size=w), min_size=n, max_size=n)
            ),
            st.lists(st.binary(max_size=12), min_size=n, max_size=n),  # mixed widths
        ),
        st.lists(
            st.binary(min_size=ADDRESS_LEN, max_size=ADDRESS_LEN) | st.just(bytes(ADDRESS_LEN)),
            min_size=n,
            max_size=n,
        ),
        st.lists(st.integers(0, 2**40), min_size=n, max_size=n),
        st.integers(1, 5),
    )
)


@settings(max_examples=200, deadline=None)
@given(entries)
def test_an_internal_node_round_trips(case):
    keys, addresses, counts, level = case
    node = decode_internal(encode_internal(level, keys, addresses, counts))
    assert node.level == level
    assert node.keys == keys and all(type(k) is bytes for k in node.keys)
    assert node.addresses == addresses and all(type(a) is bytes for a in node.addresses)
    assert node.counts.tolist() == counts


def test_a_truncated_internal_node_is_refused():
    data = encode_internal(1, [b"\x00a\x00"] * 3, [bytes(ADDRESS_LEN)] * 3, [1, 2, 3])
    for cut in (len(data) - 1, len(data) - 8, 20):
        with pytest.raises(ValueError):
            decode_internal(data[:cut])
