"""Root value: the set of tables of one version (table name -> table address).

A commit, a working root and a staged root each name a root value. Byte layout
(all integers big-endian)::

    OFFSET  SIZE  DESCRIPTION
    0       4     magic b"AROT"
    4       1     format version (ROOT_VERSION = 1)
    5       4     n, the number of tables (u32)
    then n entries, sorted by name (bytewise UTF-8):
            2     name length in bytes (u16)
            ...   the name, UTF-8
            20    the table's header chunk address

Canonical form: one set of tables -> one byte string (entries sorted, names
unique), so equal versions have equal root addresses. Table names are compared
case-sensitively but a root never holds two names that differ only in case
(SQL identifiers are case-insensitive): ``with_table`` refuses it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping

from .errors import AlreadyExists, CorruptChunk, FormatVersionError, TableNotFound
from .hash import ADDRESS_LEN, address_of

ROOT_MAGIC = b"AROT"
ROOT_VERSION = 1
_HEADER = struct.Struct(">4sBI")
assert _HEADER.size == 9


class RootValue(Mapping[str, bytes]):
    """An immutable mapping of table name to table address."""

    __slots__ = ("_tables", "_bytes", "_address")

    def __init__(self, tables: Mapping[str, bytes] | None = None) -> None:
        self._tables = dict(sorted((tables or {}).items(), key=lambda kv: kv[0].encode()))
        self._bytes: bytes | None = None
        self._address: bytes | None = None

    # --- Mapping ---------------------------------------------------------------

    def __getitem__(self, name: str) -> bytes:
        try:
            return self._tables[name]
        except KeyError:
            raise TableNotFound(self.missing_message(name)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def missing_message(self, name: str, where: str = "") -> str:
        close = self.find(name)
        hint = (
            f" (did you mean {close!r}?)"
            if close
            else f" (tables: {', '.join(self._tables) or 'none'})"
        )
        return f"table {name!r} not found{where}{hint}"

    def find(self, name: str) -> str | None:
        """The stored name that equals ``name`` ignoring case, if any."""
        if name in self._tables:
            return name
        lowered = name.lower()
        return next((t for t in self._tables if t.lower() == lowered), None)

    # --- edits ---------------------------------------------------------------

    def with_table(self, name: str, address: bytes, *, replace: bool = True) -> RootValue:
        existing = self.find(name)
        if existing is not None and (not replace or existing != name):
            raise AlreadyExists(f"table {existing!r} already exists (choose another name)")
        return RootValue({**self._tables, name: address})

    def without_table(self, name: str) -> RootValue:
        if name not in self._tables:
            raise TableNotFound(self.missing_message(name))
        tables = dict(self._tables)
        del tables[name]
        return RootValue(tables)

    def with_tables_of(self, source: RootValue, names: Iterable[str]) -> RootValue:
        """These tables as ``source`` has them: taken from it, or dropped where it has none."""
        root = self
        for name in names:
            found = source.get(name)
            if found is not None:
                root = root.with_table(name, found)
            elif name in root:
                root = root.without_table(name)
        return root

    # --- bytes -----------------------------------------------------------------

    def encode(self) -> bytes:
        if self._bytes is None:
            parts = [_HEADER.pack(ROOT_MAGIC, ROOT_VERSION, len(self._tables))]
            for name, address in self._tables.items():
                raw = name.encode()
                parts.append(struct.pack(">H", len(raw)) + raw + address)
            self._bytes = b"".join(parts)
        return self._bytes

    @property
    def address(self) -> bytes:
        if self._address is None:
            self._address = address_of(self.encode())
        return self._address

    @classmethod
    def decode(cls, data: bytes, address: bytes | None = None) -> RootValue:
        where = address or address_of(data)
        try:
            magic, version, n = _HEADER.unpack_from(data, 0)
        except struct.error as exc:
            raise CorruptChunk(where, f"root value header: {exc}") from exc
        if magic != ROOT_MAGIC:
            raise CorruptChunk(where, "not a root value (wrong magic)")
        if version != ROOT_VERSION:
            raise FormatVersionError("root value", version, ROOT_VERSION)
        tables, pos = {}, _HEADER.size
        try:
            for _ in range(n):
                (length,) = struct.unpack_from(">H", data, pos)
                name = data[pos + 2 : pos + 2 + length].decode()
                pos += 2 + length
                tables[name] = bytes(data[pos : pos + ADDRESS_LEN])
                pos += ADDRESS_LEN
        except (struct.error, UnicodeDecodeError) as exc:
            raise CorruptChunk(where, f"root value entry: {exc}", pos) from exc
        if pos != len(data):
            raise CorruptChunk(where, "root value has trailing bytes", pos)
        root = cls(tables)
        root._bytes = bytes(data)
        return root

    def __repr__(self) -> str:
        return f"RootValue({list(self._tables)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RootValue) and other._tables == self._tables

    def __hash__(self) -> int:
        return hash(self.address)


EMPTY_ROOT = RootValue()


def root_children(address: bytes, data: bytes) -> list[bytes]:
    """What a root value chunk names (for gc, fsck and sync): its tables' headers."""
    return list(RootValue.decode(data, address).values())
