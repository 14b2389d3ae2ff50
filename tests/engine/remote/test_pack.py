"""The pack codec against a plain model: what goes in comes out, checked by address."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.chunks.delta import encode_delta
from arbordb.engine.errors import CorruptChunk, CorruptPack
from arbordb.engine.hash import address_of, format_address
from arbordb.engine.remote.pack import PackWriter, decode_entry, index_rows, read_pack


@given(st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=20, unique=True))
def test_round_trip(chunks):
    writer = PackWriter()
    for data in chunks:
        writer.add_chunk(address_of(data), data)
    name, pack = writer.finish()
    assert name == format_address(address_of(pack))  # a pack is named by its bytes
    rows = index_rows(read_pack(name, pack))
    assert sorted(a for a, _, _ in rows) == sorted(address_of(c) for c in chunks)
    for address, offset, length in rows:
        data, base, body = decode_entry(address, pack[offset : offset + length], None)
        assert address_of(data) == address and base is None and body is None


def test_delta_entries_and_damage():
    base = bytes(range(256)) * 40
    new = bytearray(base)
    new[100:104] = b"ABCD"
    new = bytes(new)
    body = encode_delta(base, new)
    writer = PackWriter()
    writer.add_delta(address_of(new), address_of(base), body)
    name, pack = writer.finish()
    ((address, offset, length),) = index_rows(read_pack(name, pack))
    entry = pack[offset : offset + length]
    data, got_base, got_body = decode_entry(address, entry, {address_of(base): base}.__getitem__)
    assert data == new and got_base == address_of(base) and got_body == body
    with pytest.raises(CorruptChunk):  # the wrong base cannot pass for the right one
        decode_entry(address, entry, lambda _: base[::-1])
    with pytest.raises(CorruptPack):
        read_pack(name, pack[:-1] + b"X")
