"""Chunk addresses: which digest, how long, how written as text.

Every persistent object is an immutable chunk named by the hash of its bytes.

Digest: BLAKE3, truncated to ``ADDRESS_LEN`` = 20 bytes (changing either changes
every address on disk and bumps the store's ``FORMAT_VERSION``).

- Cryptographic, so a remote (or a pull from a stranger) can trust that bytes
  sent under an address are the bytes that hash to it; a fast non-cryptographic
  hash (xxh3) could be forged.
- BLAKE3 costs ~2.8 us per 4 KiB chunk in CPython, about 6x less than SHA-256.
- 160 bits: the chance of any collision among 2**48 chunks (a quarter-quadrillion,
  far beyond one repository) is about 2**-65; more bytes would only make every
  internal tree node, whose fan-out is bounded by the bytes its child addresses
  take, hold fewer children.
- BLAKE3 is an extendable-output function: a 20-byte digest is the prefix of the
  32-byte one, so the standard test vectors still pin our addresses.

Text form: 32 characters of base32 with the alphabet ``0123456789abcdefghijklmnopqrstuv``
(Dolt's), most significant bit first (RFC 4648 bit order, no padding).

- 20 bytes = 160 bits = exactly 32 five-bit digits: no padding, no wasted bits.
- The alphabet is in ASCII order, so sorting texts sorts addresses (invariant (1)).
- Lower-case letters and digits only: safe in file names, URLs and SQL strings;
  ``w``-``z`` never occur, which tells an address from other identifiers.
- A text prefix of k characters fixes the first 5k bits of the address, so a
  unique prefix names a chunk the way a short git hash names a commit
  (``prefix_range``).

Invariants:
  (1) ``format_address(a) < format_address(b)`` exactly when ``a < b``.
  (2) ``parse_address(format_address(a)) == a`` for every 20-byte ``a``; parsing
      accepts upper case, formatting always writes lower case.

The per-read integrity check is a different, cheaper hash: ``checksum`` (xxh3-64),
stored beside each chunk by the LMDB store so that every read can detect a flipped
bit without paying for BLAKE3.

Example:
    >>> format_address(address_of(b""))
    'ls9kjeflv6gqd8209nl3dn6996dsm9e9'
    >>> parse_address("LS9KJEFLV6GQD8209NL3DN6996DSM9E9") == address_of(b"")
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from blake3 import blake3
from xxhash import xxh3_64_intdigest

from .base32 import ALPHABET, from_text, to_text
from .errors import InvalidAddress
from .parallel import in_halves

ADDRESS_LEN = 20  # bytes of BLAKE3 output kept; on-disk format
TEXT_LEN = 32  # base32 characters of an address: 160 bits / 5

_VALID_CHARS = frozenset(ALPHABET)
_VALID_HINT = f"{TEXT_LEN} characters from {ALPHABET!r}"

assert ADDRESS_LEN * 8 == TEXT_LEN * 5  # invariant (2): no padding bits


def address_of(data: bytes | bytearray | memoryview) -> bytes:
    """The address of one chunk: BLAKE3 of its bytes, first ``ADDRESS_LEN`` bytes.

    Example:
        >>> address_of(b"").hex()
        'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9'
    """
    return blake3(data).digest(ADDRESS_LEN)


def addresses_of(chunks: Sequence[bytes | bytearray | memoryview]) -> list[bytes]:
    """The addresses of many chunks, in order (one C call per chunk).

    A large batch is hashed in two halves at once (``parallel.in_halves``):
    BLAKE3 releases the GIL while it hashes.
    """
    return in_halves(_digests, chunks, _PARALLEL_CHUNKS)


_PARALLEL_CHUNKS = 64  # below this, handing work to a thread costs more than it saves


def _digests(chunks: Sequence[bytes | bytearray | memoryview]) -> list[bytes]:
    return [blake3(chunk).digest(ADDRESS_LEN) for chunk in chunks]


def checksum(data: bytes | bytearray | memoryview) -> int:
    """xxh3-64 of ``data`` as an unsigned int: the cheap check run on every read."""
    return xxh3_64_intdigest(data)


def require_address(value: object, what: str = "address") -> bytes:
    """Return ``value`` as ``bytes`` if it is a binary address, else raise.

    Raises:
        InvalidAddress: ``value`` is not bytes-like or not ``ADDRESS_LEN`` bytes long.
    """
    if isinstance(value, bytes) and len(value) == ADDRESS_LEN:
        return value
    if isinstance(value, bytearray | memoryview) and len(value) == ADDRESS_LEN:
        return bytes(value)
    if isinstance(value, str):
        raise InvalidAddress(
            f"{what} {value!r} is text; pass the {ADDRESS_LEN}-byte binary address "
            "(convert text with parse_address)"
        )
    size = (
        f"{len(value)} bytes" if isinstance(value, bytes | bytearray | memoryview) else "not bytes"
    )
    raise InvalidAddress(f"{what} {value!r} is {size}; an address is {ADDRESS_LEN} bytes")


def format_address(address: bytes) -> str:
    """The 32-character text form of a 20-byte address.

    Raises:
        InvalidAddress: ``address`` is not 20 bytes.
    """
    return to_text(require_address(address))


def parse_address(text: str) -> bytes:
    """The 20-byte address written as ``text`` (case-insensitive).

    Raises:
        InvalidAddress: ``text`` is not 32 characters of the address alphabet.
    """
    digits = _check_text(text, "address", exact=True)
    return from_text(digits)


def prefix_range(text_prefix: str) -> tuple[bytes, bytes]:
    """The lowest and highest address whose text starts with ``text_prefix`` (inclusive).

    A prefix of k characters fixes 5k bits, so the range holds 2**(160 - 5k) addresses.

    Example:
        >>> low, high = prefix_range("v")
        >>> low.hex(), high.hex()
        ('f800000000000000000000000000000000000000', 'ffffffffffffffffffffffffffffffffffffffff')

    Raises:
        InvalidAddress: the prefix is empty, longer than 32 characters, or has a
            character outside the alphabet.
    """
    digits = _check_text(text_prefix, "address prefix", exact=False)
    pad = TEXT_LEN - len(digits)
    low = from_text(digits + "0" * pad)
    high = from_text(digits + "v" * pad)
    return low, high


def _check_text(text: object, what: str, *, exact: bool) -> str:
    if not isinstance(text, str):
        raise InvalidAddress(f"{what} {text!r} is not text; expected {_VALID_HINT}")
    digits = text.lower()
    bad_length = len(digits) != TEXT_LEN if exact else not 0 < len(digits) <= TEXT_LEN
    if bad_length or not _VALID_CHARS.issuperset(digits):
        wanted = _VALID_HINT if exact else f"1 to {_VALID_HINT}"
        raise InvalidAddress(f"{what} {text!r} is not a chunk address; expected {wanted}")
    return digits
