"""Table schemas: typed columns with stable tags, a primary key, indexes, checks.

A ``Schema`` is an immutable value. Columns keep their order (the order
``SELECT *`` shows); each has a numeric **tag** that never changes for the
life of the column: a rename keeps it, so diff and merge follow a renamed
column by tag, and a type change keeps it too (the diff reports it as a type
change, not as a drop and an add).

Tags. A column created without a tag gets
``column_tag(table, column, type)``: the first 6 bytes (48 bits) of
BLAKE3(b"arbordb.column-tag\\0" + table + b"\\0" + column + b"\\0" + type text),
rehashed with a counter appended while the tag is taken in the table. Two
branches that add the same column (same table, name and type) therefore give
it the same tag, and schema merge sees one column, as in Dolt. 48 bits keep
tags exact in an int64 and in JSON (2**53); among 1,000 columns a collision
has odds of about 2**-29, and the counter resolves it deterministically.

Invariants (``Schema.__post_init__`` enforces them; decoding re-checks):

(1) at least one column; names non-empty and unique ignoring case (SQL
    identifiers are case-insensitive); tags unique, 0 <= tag < 2**64;
(2) primary-key columns exist, are listed once, have key-typeable types
    (``check_key_type``) and are NOT NULL (``nullable`` is forced to False);
    an empty primary key means a keyless table;
(3) indexes and checks have unique, non-empty names and are kept sorted by
    name (their order means nothing, so it is not allowed to change bytes);
    an index lists existing, key-typeable columns, each once.

Byte format (``encode_schema``), version 1. Integers are big-endian; ``str``
is a u32 byte length followed by that many bytes of UTF-8.

    OFFSET  SIZE  DESCRIPTION
    0       4     magic b"ASCH"
    4       1     format version, 1
    5       2     C, column count (u16, >= 1)
    7       ...   C column records, in column order:
                    8    tag (u64)
                    1    flags: bit 0 nullable, bit 1 has default,
                         bit 2 has logical type; other bits zero
                    str  name
                    str  type text (codec/types.py's canonical text)
                    str  default: SQL expression text (only if bit 1)
                    str  logical type, e.g. "json" (only if bit 2)
    then    1     K, primary-key column count (0 = keyless)
    then    8*K   primary-key column tags, in key order
    then    2     I, index count (u16); I records, sorted by name:
                    str  name
                    1    unique (0 or 1)
                    1    N, column count (>= 1)
                    8*N  column tags, in index-key order
    then    2     H, check count (u16); H records, sorted by name:
                    str  name
                    str  expression: SQL text, opaque to the engine

Canonical encoding: one schema gives exactly one byte string (the table
header embeds it, so it is part of the table's address). Every field has a
fixed width or a length prefix, orders are fixed by invariant (3), and
decoding refuses any bytes that re-encode differently (unknown flag bits,
trailing bytes, a nullable primary-key column, unsorted records).

The table name is not part of the schema's bytes: renaming a table leaves
its address unchanged. ``Schema.name`` is carried only for messages and for
deriving tags, and does not take part in equality.
"""

from __future__ import annotations

import copy
import dataclasses
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
from blake3 import blake3

from ..codec.types import check_key_type, normalize_type, type_from_text, type_to_text
from ..errors import FormatVersionError, InvalidInput, NotFound, SchemaError, UnsupportedType

__all__ = [
    "Check",
    "Column",
    "Index",
    "Schema",
    "column_tag",
    "decode_schema",
    "encode_schema",
]

SCHEMA_MAGIC = b"ASCH"
SCHEMA_VERSION = 1  # on-disk format: bump on any change to the layout above

_TAG_BITS = 48  # derived tags only; a stored tag may be any u64 (see module docstring)
_TAG_SALT = b"arbordb.column-tag\0"
_NULLABLE, _HAS_DEFAULT, _HAS_LOGICAL = 1, 2, 4
_MAX_COLUMNS = 0xFFFF  # u16 column count
_MAX_KEY_COLUMNS = 0xFF  # u8 primary-key and index column counts

_U8, _U16, _U32, _U64 = (
    struct.Struct(">B"),
    struct.Struct(">H"),
    struct.Struct(">I"),
    struct.Struct(">Q"),
)
assert (_U8.size, _U16.size, _U32.size, _U64.size) == (1, 2, 4, 8)


# --- the parts of a schema ---------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column.

    Attributes:
        name: the column name.
        tag: stable numeric id; ``None`` asks the schema to derive one
            (``column_tag``) when the column is placed in it.
        type: a supported pyarrow type (other spellings are normalised, e.g.
            ``large_string`` -> ``string``).
        nullable: False for NOT NULL (always False for primary-key columns).
        default: the DEFAULT expression as SQL text (opaque to the engine).
        logical: a logical type name the SQL layer gives meaning to, e.g. "json".
    """

    name: str
    tag: int | None
    type: pa.DataType
    nullable: bool = True
    default: str | None = None
    logical: str | None = None

    @property
    def placed_tag(self) -> int:
        """The tag of a column placed in a schema (a schema derives every missing tag)."""
        if self.tag is None:
            raise SchemaError(f"column {self.name!r} has no tag until it is placed in a schema")
        return self.tag

    def __post_init__(self) -> None:
        _check_name(self.name, "column")
        if self.tag is not None and (
            isinstance(self.tag, bool) or not isinstance(self.tag, int) or not 0 <= self.tag < 2**64
        ):
            raise SchemaError(f"column {self.name!r}: tag {self.tag!r} is not an int in 0..2**64-1")
        try:
            object.__setattr__(self, "type", normalize_type(self.type))
        except UnsupportedType as exc:
            raise UnsupportedType(f"column {self.name!r}: {exc}") from None
        if not isinstance(self.nullable, bool):
            raise SchemaError(f"column {self.name!r}: nullable must be True or False")
        for what in ("default", "logical"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, str):
                raise SchemaError(f"column {self.name!r}: {what} must be text or None")

    @property
    def type_text(self) -> str:
        return type_to_text(self.type)


@dataclass(frozen=True)
class Index:
    """A secondary index over ``columns``; ``unique`` makes it a UNIQUE constraint
    (rows with a NULL in any indexed column never collide, as in SQL)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "index")
        if isinstance(self.columns, str):
            raise SchemaError(
                f"index {self.name!r}: columns must be a sequence of names, got a str"
            )
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.columns:
            raise SchemaError(f"index {self.name!r} lists no columns")
        if not isinstance(self.unique, bool):
            raise SchemaError(f"index {self.name!r}: unique must be True or False")


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: SQL text the SQL layer evaluates; the engine only stores it."""

    name: str
    expression: str

    def __post_init__(self) -> None:
        _check_name(self.name, "check")
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise SchemaError(f"check {self.name!r} has an empty expression")


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise SchemaError(f"a {what} name must be a non-empty str, got {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SchemaError(f"{what} name {name!r} is not valid Unicode text") from None


def column_tag(table: str, column: str, type: pa.DataType, taken: Iterable[int] = ()) -> int:
    """The tag a new column gets: deterministic in (table, column, type) and not in ``taken``.

    Example:
        >>> column_tag("t", "a", pa.int64()) == column_tag("t", "a", pa.int64())
        True
        >>> column_tag("t", "a", pa.int64()) != column_tag("t", "a", pa.string())
        True
    """
    taken = set(taken)
    seed = b"\0".join(s.encode("utf-8") for s in (table, column, type_to_text(type)))
    attempt = 0
    while True:
        data = _TAG_SALT + seed + (b"" if attempt == 0 else b"\0" + str(attempt).encode())
        tag = int.from_bytes(blake3(data).digest(_TAG_BITS // 8), "big")
        if tag not in taken:
            return tag
        attempt += 1


# --- the schema --------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """Columns, primary key, secondary indexes and checks of one table.

    Construction normalises (tags derived, primary-key columns made NOT NULL,
    indexes and checks sorted by name) and validates (invariants (1)-(3)).

    Raises:
        SchemaError: the definition breaks an invariant; the message names
            the table and what to change.
        UnsupportedType: a column type is unsupported, or cannot be a key.

    Example:
        >>> s = Schema([Column("id", None, pa.int64()), Column("v", None, pa.string())], ("id",))
        >>> s.key_types, [c.name for c in s.value_columns], s.column("id").nullable
        ((DataType(int64),), ['v'], False)
    """

    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[Check, ...] = ()
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.primary_key, str):
            raise SchemaError(f"{self._what}: primary_key must be a tuple of names, got a str")
        set_ = object.__setattr__
        set_(self, "primary_key", tuple(self.primary_key))
        set_(self, "indexes", tuple(sorted(self.indexes, key=lambda i: i.name)))  # invariant (3)
        set_(self, "checks", tuple(sorted(self.checks, key=lambda c: c.name)))
        set_(self, "columns", tuple(self._normalised_columns(tuple(self.columns))))
        self._validate()

    def _normalised_columns(self, columns: tuple[Column, ...]) -> list[Column]:
        if not columns:
            raise SchemaError(f"{self._what} has no columns (invariant (1))")
        taken = {c.tag for c in columns if c.tag is not None}
        pk = set(self.primary_key)
        out = []
        for c in columns:
            if not isinstance(c, Column):
                raise SchemaError(f"{self._what}: {c!r} is not a Column")
            if c.tag is None:
                tag = column_tag(self.name, c.name, c.type, taken)
                c = dataclasses.replace(c, tag=tag)
                taken.add(tag)
            if c.name in pk and c.nullable:
                c = dataclasses.replace(c, nullable=False)  # invariant (2)
            out.append(c)
        return out

    def _validate(self) -> None:
        what = self._what
        if len(self.columns) > _MAX_COLUMNS:
            raise SchemaError(f"{what} has {len(self.columns)} columns; at most {_MAX_COLUMNS}")
        seen: dict[str, str] = {}
        tags: dict[int, str] = {}
        for c in self.columns:  # invariant (1)
            folded = c.name.casefold()
            if folded in seen:
                raise SchemaError(
                    f"{what}: duplicate column name {c.name!r} (column names ignore case; "
                    f"{seen[folded]!r} exists); rename one of them"
                )
            seen[folded] = c.name
            if c.placed_tag in tags:
                raise SchemaError(
                    f"{what}: columns {tags[c.placed_tag]!r} and {c.name!r} have the same tag "
                    f"{c.tag}; pass tag=None to derive a fresh one"
                )
            tags[c.placed_tag] = c.name
        self._check_key_columns(self.primary_key, "the primary key")  # invariant (2)
        for names, kind in ((self.indexes, "index"), (self.checks, "check")):  # invariant (3)
            listed = [x.name for x in names]
            dupes = sorted({n for n in listed if listed.count(n) > 1})
            if dupes:
                raise SchemaError(f"{what}: more than one {kind} is named {dupes[0]!r}")
        for index in self.indexes:
            if not isinstance(index, Index):
                raise SchemaError(f"{what}: {index!r} is not an Index")
            self._check_key_columns(index.columns, f"index {index.name!r}")
        for check in self.checks:
            if not isinstance(check, Check):
                raise SchemaError(f"{what}: {check!r} is not a Check")

    def _check_key_columns(self, names: tuple[str, ...], what: str) -> None:
        if len(names) > _MAX_KEY_COLUMNS:
            raise SchemaError(f"{self._what}: {what} has {len(names)} columns; at most 255")
        for name in names:
            column = self.column(name)
            if names.count(name) > 1:
                raise SchemaError(f"{self._what}: {what} lists column {name!r} twice")
            try:
                check_key_type(column.type)
            except UnsupportedType as exc:
                raise UnsupportedType(f"{self._what}: {what} uses column {name!r}: {exc}") from None

    @property
    def _what(self) -> str:
        return f"table {self.name!r}" if self.name else "schema"

    # --- lookups -----------------------------------------------------------

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_keyless(self) -> bool:
        return not self.primary_key

    @property
    def key_columns(self) -> list[Column]:
        """The primary-key columns in key order (empty for a keyless table)."""
        return [self.column(n) for n in self.primary_key]

    @property
    def key_types(self) -> tuple[pa.DataType, ...]:
        """Types of the primary-key fields, the ``types`` of ``encode_keys`` for row keys."""
        return tuple(c.type for c in self.key_columns)

    @property
    def value_columns(self) -> list[Column]:
        """The non-primary-key columns in column order (all columns when keyless)."""
        pk = set(self.primary_key)
        return [c for c in self.columns if c.name not in pk]

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``.

        Raises:
            NotFound: no such column; the message lists the table's columns.
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise NotFound(
            f"{self._what} has no column {name!r} (columns: {', '.join(self.column_names)})"
        )

    def column_by_tag(self, tag: int) -> Column | None:
        return next((c for c in self.columns if c.tag == tag), None)

    def index(self, name: str) -> Index:
        """The index called ``name``.

        Raises:
            NotFound: no such index; the message lists the table's indexes.
        """
        for i in self.indexes:
            if i.name == name:
                return i
        names = ", ".join(i.name for i in self.indexes) or "none"
        raise NotFound(f"{self._what} has no index {name!r} (indexes: {names})")

    # --- changed copies ----------------------------------------------------

    def named(self, name: str) -> Schema:
        """The same schema (same bytes, same tags) carrying table name ``name``."""
        out = copy.copy(self)  # no re-validation: names play no part in the invariants
        object.__setattr__(out, "name", name)
        return out

    def _replace(self, **changes) -> Schema:
        return dataclasses.replace(self, **changes, name=self.name)

    def with_column_added(self, column: Column) -> Schema:
        """Append ``column`` (a ``None`` tag is derived from the table and column name)."""
        if not isinstance(column, Column):
            raise SchemaError(f"{self._what}: {column!r} is not a Column")
        return self._replace(columns=(*self.columns, column))

    def with_column_dropped(self, name: str) -> Schema:
        """Drop column ``name``.

        Raises:
            SchemaError: it is a primary-key column, an index uses it, or it is
                the only column.
        """
        self.column(name)
        if name in self.primary_key:
            raise SchemaError(
                f"{self._what}: cannot drop primary-key column {name!r} "
                "(recreate the table with another primary key)"
            )
        users = [i.name for i in self.indexes if name in i.columns]
        if users:
            raise SchemaError(
                f"{self._what}: cannot drop column {name!r}, index {users[0]!r} uses it "
                "(drop the index first)"
            )
        if len(self.columns) == 1:
            raise SchemaError(f"{self._what}: cannot drop {name!r}, a table needs a column")
        return self._replace(columns=tuple(c for c in self.columns if c.name != name))

    def with_column_renamed(self, old: str, new: str) -> Schema:
        """Rename a column everywhere it is named; its tag stays."""
        self.column(old)
        if old == new:
            return self
        rename = {old: new}
        return self._replace(
            columns=tuple(
                dataclasses.replace(c, name=new) if c.name == old else c for c in self.columns
            ),
            primary_key=tuple(rename.get(n, n) for n in self.primary_key),
            indexes=tuple(
                dataclasses.replace(i, columns=tuple(rename.get(n, n) for n in i.columns))
                for i in self.indexes
            ),
        )

    def with_column_changed(self, name: str, **changes) -> Schema:
        """Replace attributes of column ``name`` (``type``, ``nullable``, ``default``,
        ``logical``); the tag stays. Renames go through ``with_column_renamed``."""
        bad = set(changes) - {"type", "nullable", "default", "logical"}
        if bad:
            raise SchemaError(f"{self._what}: cannot change {sorted(bad)} with with_column_changed")
        self.column(name)
        return self._replace(
            columns=tuple(
                dataclasses.replace(c, **changes) if c.name == name else c for c in self.columns
            )
        )

    def with_index_added(self, index: Index) -> Schema:
        return self._replace(indexes=(*self.indexes, index))

    def with_index_dropped(self, name: str) -> Schema:
        self.index(name)
        return self._replace(indexes=tuple(i for i in self.indexes if i.name != name))

    def with_check_added(self, check: Check) -> Schema:
        return self._replace(checks=(*self.checks, check))

    def with_check_dropped(self, name: str) -> Schema:
        if not any(c.name == name for c in self.checks):
            names = ", ".join(c.name for c in self.checks) or "none"
            raise NotFound(f"{self._what} has no check {name!r} (checks: {names})")
        return self._replace(checks=tuple(c for c in self.checks if c.name != name))


# --- encoding ----------------------------------------------------------------


def _str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _U32.pack(len(raw)) + raw


def encode_schema(schema: Schema) -> bytes:
    """The canonical bytes of ``schema`` (see the module docstring).

    Example:
        >>> s = Schema([Column("id", 7, pa.int64())], ("id",))
        >>> encode_schema(s).hex(" ")
        '41 53 43 48 01 00 01 00 00 00 00 00 00 00 07 00 00 00 00 02 69 64 00 00 00 05
        69 6e 74 36 34 01 00 00 00 00 00 00 00 07 00 00 00 00'
        >>> decode_schema(encode_schema(s)) == s
        True
    """
    tag = {c.name: c.tag for c in schema.columns}
    out = [SCHEMA_MAGIC, _U8.pack(SCHEMA_VERSION), _U16.pack(len(schema.columns))]
    for c in schema.columns:
        flags = (
            (_NULLABLE if c.nullable else 0)
            | (_HAS_DEFAULT if c.default is not None else 0)
            | (_HAS_LOGICAL if c.logical is not None else 0)
        )
        out += [_U64.pack(c.tag), _U8.pack(flags), _str(c.name), _str(c.type_text)]
        if c.default is not None:
            out.append(_str(c.default))
        if c.logical is not None:
            out.append(_str(c.logical))
    out.append(_U8.pack(len(schema.primary_key)))
    out += [_U64.pack(tag[n]) for n in schema.primary_key]
    out.append(_U16.pack(len(schema.indexes)))
    for i in schema.indexes:
        out += [_str(i.name), _U8.pack(int(i.unique)), _U8.pack(len(i.columns))]
        out += [_U64.pack(tag[n]) for n in i.columns]
    out.append(_U16.pack(len(schema.checks)))
    for check in schema.checks:
        out += [_str(check.name), _str(check.expression)]
    return b"".join(out)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise InvalidInput(f"schema bytes are truncated at byte {self.pos} (need {size} more)")
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def int(self, s: struct.Struct) -> int:
        return s.unpack(self.take(s.size))[0]

    def str(self) -> str:
        at = self.pos
        try:
            return self.take(self.int(_U32)).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"schema bytes hold invalid UTF-8 at byte {at}") from None


def decode_schema(data: bytes, name: str = "") -> Schema:
    """The schema encoded in ``data`` (the inverse of ``encode_schema``).

    Args:
        data: bytes written by ``encode_schema``.
        name: the table name to carry (not stored in the bytes).

    Raises:
        InvalidInput: ``data`` is not a canonical schema encoding.
        FormatVersionError: written by a newer format version.
    """
    data = bytes(data)
    r = _Reader(data)
    if r.take(4) != SCHEMA_MAGIC:
        raise InvalidInput(
            f"bytes are not a schema (magic {data[:4]!r}, expected {SCHEMA_MAGIC!r})"
        )
    version = r.int(_U8)
    if version != SCHEMA_VERSION:
        raise FormatVersionError("table schema", version, SCHEMA_VERSION)
    by_tag: dict[int, str] = {}
    columns = []
    for _ in range(r.int(_U16)):
        tag, flags = r.int(_U64), r.int(_U8)
        if flags & ~(_NULLABLE | _HAS_DEFAULT | _HAS_LOGICAL):
            raise InvalidInput(f"schema column flags {flags:#x} have unknown bits")
        col_name, type_text = r.str(), r.str()
        default = r.str() if flags & _HAS_DEFAULT else None
        logical = r.str() if flags & _HAS_LOGICAL else None
        columns.append(
            Column(
                col_name, tag, type_from_text(type_text), bool(flags & _NULLABLE), default, logical
            )
        )
        by_tag[tag] = col_name

    def names(count: int) -> tuple[str, ...]:
        tags = [r.int(_U64) for _ in range(count)]
        missing = [t for t in tags if t not in by_tag]
        if missing:
            raise InvalidInput(f"schema bytes name column tag {missing[0]} that no column has")
        return tuple(by_tag[t] for t in tags)

    primary_key = names(r.int(_U8))
    indexes = []
    for _ in range(r.int(_U16)):
        index_name, unique = r.str(), r.int(_U8)
        if unique > 1:
            raise InvalidInput(f"schema index {index_name!r} has unique byte {unique}")
        indexes.append(Index(index_name, names(r.int(_U8)), bool(unique)))
    checks = [Check(r.str(), r.str()) for _ in range(r.int(_U16))]
    if r.pos != len(data):
        raise InvalidInput(f"schema bytes have {len(data) - r.pos} bytes after the last field")
    try:
        schema = Schema(tuple(columns), primary_key, tuple(indexes), tuple(checks), name=name)
    except SchemaError as exc:
        raise InvalidInput(f"schema bytes describe an invalid schema: {exc}") from None
    if encode_schema(schema) != data:
        raise InvalidInput("schema bytes are not in canonical form (re-encoding differs)")
    return schema
