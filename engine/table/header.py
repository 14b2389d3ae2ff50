"""The table header chunk: one chunk that names everything a table is made of.

A table is stored as this one chunk; its address is the table's address.

Byte format, version 1. Integers are big-endian.

    OFFSET  SIZE  DESCRIPTION
    0       4     magic b"ATBL"
    4       1     format version, 1
    5       1     key format version (codec/keys.py KEY_FORMAT_VERSION), which
                  every key in the row and index trees was encoded with
    6       20    row tree root address
    26      1     artifacts flag: 0 = none, 1 = present
    27      20    artifacts tree root address (20 zero bytes when the flag is 0)
    47      4     S, schema length (u32)
    51      S     the schema (schema.py's canonical encoding)
    51+S    2     I, index count (u16): equal to the schema's index count
    53+S    ...   I records in the schema's index order (sorted by name):
                    2    name length (u16), then the name in UTF-8
                    20   index tree root address

Canonical encoding: one table value (schema, row tree, index trees,
artifacts) gives exactly one byte string; decoding refuses anything else
(unknown flag, non-zero padding, index records that do not match the
schema, trailing bytes). The trees are history-independent, so the same rows
and schema give the same table address whatever edits produced them.

The artifacts tree (merge conflicts, constraint violations) belongs to the
versioning layer; here it is an opaque address.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..cache import LruCache
from ..codec.keys import KEY_FORMAT_VERSION
from ..errors import CorruptChunk, FormatVersionError, InvalidInput
from ..hash import ADDRESS_LEN
from .schema import Schema, decode_schema, encode_schema

__all__ = ["TABLE_MAGIC", "Header", "decode_header", "encode_header", "header_references"]

TABLE_MAGIC = b"ATBL"
TABLE_VERSION = 1  # on-disk format: bump on any change to the layout above

_FIXED = struct.Struct(">4sBB20sB20sI")
_FIXED_LEN = 51
assert _FIXED.size == _FIXED_LEN and ADDRESS_LEN == 20  # the "20s" fields
_U16 = struct.Struct(">H")
_NO_ARTIFACTS = bytes(ADDRESS_LEN)
_CACHE_SIZE = 4096  # decoded headers kept (they are small; lookups are by address)


@dataclass(frozen=True)
class Header:
    """A decoded table header (the schema carries no table name)."""

    schema: Schema
    rows: bytes
    indexes: tuple[tuple[str, bytes], ...]  # (index name, root) in schema index order
    artifacts: bytes | None


def encode_header(header: Header) -> bytes:
    h = header
    names = [i.name for i in h.schema.indexes]
    if [n for n, _ in h.indexes] != names:
        raise InvalidInput(
            f"table header index roots {[n for n, _ in h.indexes]} "
            f"do not match the schema's indexes {names}"
        )
    schema = encode_schema(h.schema)
    out = [
        _FIXED.pack(
            TABLE_MAGIC,
            TABLE_VERSION,
            KEY_FORMAT_VERSION,
            h.rows,
            h.artifacts is not None,
            h.artifacts or _NO_ARTIFACTS,
            len(schema),
        ),
        schema,
        _U16.pack(len(h.indexes)),
    ]
    for name, root in h.indexes:
        raw = name.encode("utf-8")
        out += [_U16.pack(len(raw)), raw, root]
    return b"".join(out)


_cache: LruCache[bytes, Header] = LruCache(_CACHE_SIZE)  # shared by reader threads


def load_header(address: bytes, read: Callable[[bytes], bytes]) -> Header:
    """The header stored at ``address``, from the cache or decoded from ``read(address)``
    (a cached header costs no read).

    Raises:
        CorruptChunk: the bytes are not a canonical table header.
        FormatVersionError: written by a newer format.
    """
    cached = _cache.get(address)
    return cached if cached is not None else _decode_and_cache(address, read(address))


def decode_header(address: bytes, data: bytes) -> Header:
    """The header stored at ``address`` with bytes ``data`` (cached by address: a
    chunk's address is the hash of its bytes, so a cached decode is never stale,
    whichever store the bytes came from).

    Raises:
        CorruptChunk: the bytes are not a canonical table header.
        FormatVersionError: written by a newer format.
    """
    cached = _cache.get(address)
    return cached if cached is not None else _decode_and_cache(address, data)


def _decode_and_cache(address: bytes, data: bytes) -> Header:
    header = _decode(address, bytes(data))
    _cache.put(address, header)
    return header


def _decode(address: bytes, data: bytes) -> Header:
    def corrupt(reason: str, offset: int | None = None) -> CorruptChunk:
        return CorruptChunk(address, f"table header: {reason}", offset)

    if len(data) < _FIXED_LEN or data[:4] != TABLE_MAGIC:
        raise corrupt(f"not a table header (starts with {data[:4]!r}, expected {TABLE_MAGIC!r})", 0)
    _, version, key_version, rows, flag, artifacts, size = _FIXED.unpack_from(data)
    if version > TABLE_VERSION:
        raise FormatVersionError("table header", version, TABLE_VERSION)
    if key_version > KEY_FORMAT_VERSION:
        raise FormatVersionError("table keys", key_version, KEY_FORMAT_VERSION)
    if version != TABLE_VERSION or key_version != KEY_FORMAT_VERSION:
        raise corrupt(f"format versions {version}/{key_version} are not defined", 4)
    if flag > 1 or (flag == 0 and artifacts != _NO_ARTIFACTS):
        raise corrupt("bad artifacts flag or address", 26)
    pos = _FIXED_LEN + size
    try:
        schema = decode_schema(data[_FIXED_LEN:pos]) if pos <= len(data) else None
    except InvalidInput as exc:
        raise corrupt(str(exc), _FIXED_LEN) from None
    if schema is None:
        raise corrupt("truncated schema", _FIXED_LEN)
    indexes = []
    try:
        (count,) = _U16.unpack_from(data, pos)
        pos += 2
        for _ in range(count):
            (length,) = _U16.unpack_from(data, pos)
            name = data[pos + 2 : pos + 2 + length].decode("utf-8")
            root = data[pos + 2 + length : pos + 2 + length + ADDRESS_LEN]
            if len(root) != ADDRESS_LEN:
                raise struct.error("truncated index record")
            indexes.append((name, root))
            pos += 2 + length + ADDRESS_LEN
    except (struct.error, UnicodeDecodeError) as exc:
        raise corrupt(f"bad index records: {exc}", pos) from None
    header = Header(schema, rows, tuple(indexes), artifacts if flag else None)
    if [n for n, _ in indexes] != [i.name for i in schema.indexes] or encode_header(header) != data:
        raise corrupt("not in canonical form (index records or trailing bytes)", pos)
    return header


def header_references(address: bytes, data: bytes) -> list[bytes]:
    """Addresses of the trees a table header names: rows, indexes, then artifacts if any
    (for garbage collection and fsck, which walk each tree from its root)."""
    h = decode_header(address, data)
    return [h.rows, *(root for _, root in h.indexes), *([h.artifacts] if h.artifacts else [])]
