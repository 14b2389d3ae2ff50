"""Addresses: the digest is pinned, the text form round-trips and sorts like the bytes,
prefixes map to exact address ranges, and bad text is refused with a clear error."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.errors import InvalidAddress
from arbordb.engine.hash import (
    ADDRESS_LEN,
    ALPHABET,
    TEXT_LEN,
    address_of,
    addresses_of,
    checksum,
    format_address,
    parse_address,
    prefix_range,
    require_address,
)

addresses = st.binary(min_size=ADDRESS_LEN, max_size=ADDRESS_LEN)
texts = st.text(alphabet=ALPHABET, min_size=TEXT_LEN, max_size=TEXT_LEN)


def test_digest_is_blake3_truncated_to_20_bytes():
    # The BLAKE3 test vector for empty input, cut to 20 bytes: an on-disk contract.
    assert address_of(b"").hex() == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9"
    assert address_of(memoryview(b"abc")) == address_of(b"abc") == address_of(bytearray(b"abc"))
    assert len(address_of(b"x" * 100_000)) == ADDRESS_LEN


def test_checksum_is_xxh3_64():
    assert checksum(b"") == 0x2D06800538D394C2


def test_addresses_of_matches_address_of():
    chunks = [b"", b"a", b"b" * 5000]
    assert addresses_of(chunks) == [address_of(c) for c in chunks]


@given(addresses)
def test_text_round_trip(address):
    text = format_address(address)
    assert len(text) == TEXT_LEN and set(text) <= set(ALPHABET)
    assert parse_address(text) == address
    assert parse_address(text.upper()) == address


@given(texts)
def test_parse_then_format_is_identity(text):
    assert format_address(parse_address(text)) == text


@given(st.lists(addresses, min_size=2, max_size=20))
def test_text_order_equals_byte_order(many):
    assert sorted(many, key=format_address) == sorted(many)


def test_text_is_big_endian():
    assert format_address(b"\x00" * 19 + b"\x01") == "0" * 31 + "1"
    assert format_address(b"\xf8" + b"\x00" * 19) == "v" + "0" * 31
    assert format_address(b"\xff" * 20) == "v" * 32


@given(addresses, st.integers(min_value=1, max_value=TEXT_LEN))
def test_prefix_range_holds_exactly_the_addresses_with_that_prefix(address, k):
    prefix = format_address(address)[:k]
    low, high = prefix_range(prefix)
    assert low <= address <= high
    assert format_address(low) == prefix + "0" * (TEXT_LEN - k)
    assert format_address(high) == prefix + "v" * (TEXT_LEN - k)
    span = int.from_bytes(high, "big") - int.from_bytes(low, "big") + 1
    assert span == 2 ** (8 * ADDRESS_LEN - 5 * k)  # k characters fix 5k bits
    if int.from_bytes(low, "big") > 0:  # just below the range: another prefix
        below = (int.from_bytes(low, "big") - 1).to_bytes(ADDRESS_LEN, "big")
        assert not format_address(below).startswith(prefix)


def test_prefix_range_is_case_insensitive():
    assert prefix_range("AB") == prefix_range("ab")


@pytest.mark.parametrize(
    "bad",
    ["", "0" * 31, "0" * 33, "w" * 32, "z" + "0" * 31, "=" * 32, "0" * 31 + " ", "é" * 32],
)
def test_parse_refuses_bad_text_naming_it(bad):
    with pytest.raises(InvalidAddress) as info:
        parse_address(bad)
    assert repr(bad) in str(info.value)
    assert "32 characters" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", ["", "0" * 33, "w", "0-", "ab cd"])
def test_prefix_range_refuses_bad_prefix(bad):
    with pytest.raises(InvalidAddress, match="address prefix"):
        prefix_range(bad)


@pytest.mark.parametrize("bad", [None, 12, b"short", b"\x00" * 21, "0" * 32])
def test_binary_address_checks(bad):
    with pytest.raises(InvalidAddress):
        format_address(bad)
    with pytest.raises(InvalidAddress):
        require_address(bad, "commit root")


def test_require_address_accepts_bytes_like_and_names_the_field():
    assert require_address(bytearray(20)) == bytes(20)
    with pytest.raises(InvalidAddress, match="commit root"):
        require_address(b"x", "commit root")
    with pytest.raises(InvalidAddress, match="parse_address"):
        require_address("0" * 32)
    with pytest.raises(InvalidAddress):
        parse_address(b"0" * 32)


def test_a_large_batch_hashed_on_two_threads_keeps_its_order():
    chunks = [bytes([i % 251]) * (i + 1) for i in range(300)]
    assert addresses_of(chunks) == [address_of(c) for c in chunks]


def test_hashing_works_in_a_forked_child():
    """The helper thread does not survive fork; the child must start its own."""
    chunks = [bytes([i % 251]) * 64 for i in range(200)]
    expected = addresses_of(chunks)  # the parent's helper exists now
    pid = os.fork()
    if pid == 0:
        os._exit(0 if addresses_of(chunks) == expected else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
