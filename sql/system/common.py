"""What every system relation shares: the session context, revisions, column forms.

Column forms (Dolt's types, as Arrow):

    Dolt          ARROW                 HOLDS
    TEXT hash     string                a 32-character commit hash (engine/hash.py
                                        format_address), or WORKING / STAGED
    DATETIME      timestamp[us]         a commit's time, UTC, without a zone
    BOOLEAN       bool
    BIGINT        int64 (uint64 for Dolt's "bigint unsigned" counts)

Diff endpoints. A table function's revision arguments name two roots, and
``'a..b'`` is the same as ``('a', 'b')``; ``'a...b'`` diffs from the merge base
of a and b to b. Each endpoint keeps the text the user wrote as its label, which
``from_commit`` / ``to_commit`` show, as Dolt's ``dolt_diff()`` does. WORKING
and STAGED are no commit, so their ``*_commit_date`` is NULL.

Row diffs are aligned by column tag (a renamed column keeps its tag): a relation
chooses which columns it shows (``Layout``, a list of (tag, name, type)) and
``aligned_diff`` fills each from the engine's row diff, with NULL where the
diffed versions lack the column and a cast where its type changed. Row diffs are
cached by the two table addresses, which are content hashes: an entry is never
stale, only evicted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, cast

import pyarrow as pa

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.cache import LruCache
from arbordb.engine.db import Database
from arbordb.engine.errors import InvalidAddress, InvalidInput, RevisionNotFound, TableNotFound
from arbordb.engine.hash import format_address, parse_address
from arbordb.engine.history import RevisionKind, merge_base
from arbordb.engine.root import RootValue
from arbordb.engine.table import Column, Index, Schema, Table
from arbordb.engine.versioning.diff import TableDelta, row_diff
from arbordb.engine.workspace import Workspace

from ..catalog import duck_type
from ..parse.dialect import quote_identifier

HASH = pa.string()
TIME = pa.timestamp("us")
WORKING = "WORKING"
STAGED = "STAGED"
HASH_LENGTH = 32  # characters of a commit hash

# Row diffs kept per process; the key is two content addresses, so never stale.
_DIFF_CACHE_ENTRIES = 16
_DIFF_CACHE_MAX_ROWS = 200_000  # larger diffs are cheap to recompute relative to their memory
# shared by the sessions of every thread (LruCache is thread-safe)
_diff_cache: LruCache[tuple[bytes | None, bytes | None], pa.Table] = LruCache(_DIFF_CACHE_ENTRIES)


class SystemContext(Protocol):
    """What a relation reads: the repository, the session's workspace and branch."""

    db: Database
    workspace: Workspace

    @property
    def branch(self) -> str: ...


# --- columns ------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _address_text(address: bytes) -> str:
    return format_address(address)


def hash_text(address: bytes | None) -> str | None:
    """A commit's hash as text (remembered: history tables name every commit each read)."""
    return None if address is None else _address_text(address)


def hashes(addresses: Sequence[bytes | None]) -> pa.Array:
    return values_array([hash_text(a) for a in addresses], HASH)


def times(timestamps: Sequence[int | None]) -> pa.Array:
    """Commit timestamps (int microseconds since the epoch, UTC) as a DATETIME column."""
    return values_array(timestamps, TIME)


class BatchStream:
    """A relation made batch by batch as DuckDB scans it, never held whole: each
    ``__arrow_c_stream__`` call (one per scan) runs ``batches`` afresh, so a relation
    over thousands of commits takes the memory of one batch. ``read_all`` gathers it
    into one table (tests and tools)."""

    __slots__ = ("schema", "batches")

    def __init__(self, schema: pa.Schema, batches: Callable[[], Iterator[pa.RecordBatch]]) -> None:
        self.schema = schema
        self.batches = batches

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.reader().__arrow_c_stream__(requested_schema)

    def read_all(self) -> pa.Table:
        return self.reader().read_all()


def pinned_commits(
    filters: Mapping[str, Sequence[object]] | None, column: str
) -> list[bytes] | None:
    """The commit addresses ``filters`` pin ``column`` to (a value that is no commit
    hash, as ``hash_text`` writes it, pins nothing), or None when ``column`` is free."""
    if not filters or column not in filters:
        return None
    out = []
    for value in dict.fromkeys(filters[column]):
        if isinstance(value, str) and len(value) == HASH_LENGTH:
            address = _hash_address(value)
            if address is not None:
                out.append(address)
    return out


@functools.lru_cache(maxsize=1 << 12)
def _hash_address(text: str) -> bytes | None:
    """The address ``text`` writes as ``hash_text`` does, or None (remembered: filters
    name the same commits again and again)."""
    try:
        address = parse_address(text)
    except InvalidAddress:
        return None
    return address if hash_text(address) == text else None


def constant(value: object, n: int, type_: pa.DataType) -> pa.Array:
    return pa.nulls(n, type_) if value is None else values_array([value] * n, type_)


def empty(names: Sequence[str], types: Sequence[pa.DataType]) -> pa.Table:
    return pa.table([values_array([], t) for t in types], names=list(names))


# --- arguments ------------------------------------------------------------------


def text_args(
    function: str, args: Sequence[object] | None, low: int, high: int, usage: str
) -> list[str]:
    """``args`` checked to be ``low``..``high`` strings (Dolt takes text arguments).

    ``usage`` is the call's shape for messages, e.g. ``dolt_diff(from, to, table)``.
    """
    values = list(args or [])
    if not low <= len(values) <= high:
        raise InvalidInput(f"{function}() got {len(values)} argument(s); call it as {usage}")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput(
                f"{function}() argument {i + 1} must be text, got {value!r}; call it as {usage}"
            )
    return cast(list[str], values)  # each value was checked to be text above


# --- revisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One side of a diff: the root it names and, for a commit, its hash and time.

    ``label`` is what ``from_commit`` / ``to_commit`` show: the revision as
    written, or None for the empty root before the first commit.
    """

    label: str | None
    root: RootValue
    commit: bytes | None
    timestamp: int | None

    @property
    def hash_or_label(self) -> str:
        """The commit hash, or WORKING / STAGED (dolt_patch's from/to_commit_hash)."""
        return format_address(self.commit) if self.commit is not None else str(self.label).upper()


def endpoint(ctx: SystemContext, text: str) -> Endpoint:
    """The root ``text`` names (any revision, WORKING and STAGED included)."""
    ws = ctx.workspace
    rev = ws.revision(text)
    if rev.kind == RevisionKind.WORKING:
        return Endpoint(text, ws.working, None, None)
    if rev.kind == RevisionKind.STAGED:
        return Endpoint(text, ws.staged, None, None)
    address = rev.commit
    commit = ws.loader.load(address)
    return Endpoint(text, ws.root(commit.root), address, commit.timestamp)


def commit_of(ctx: SystemContext, text: str) -> bytes:
    """The commit ``text`` names (InvalidInput for WORKING / STAGED)."""
    return ctx.workspace.resolve_commit(text)


def base_of(ctx: SystemContext, a: str, b: str) -> bytes:
    """The merge base of two revisions; RevisionNotFound when they share no history."""
    base = merge_base(ctx.workspace.loader, commit_of(ctx, a), commit_of(ctx, b))
    if base is None:
        raise RevisionNotFound(
            f"revisions {a!r} and {b!r} share no history, so they have no merge base"
        )
    return base


def diff_endpoints(
    ctx: SystemContext, function: str, args: Sequence[object] | None, *, table_required: bool
) -> tuple[Endpoint, Endpoint, str | None]:
    """Read ``(from, to[, table])``, ``('a..b'[, table])`` or ``('a...b'[, table])``."""
    table = "table" if table_required else "[table]"
    usage = f"{function}(from_revision, to_revision, {table}) or {function}('from..to', {table})"
    values = text_args(function, args, 1 + table_required, 3, usage)
    first = values[0]
    if "..." in first or ".." in first:
        three = "..." in first
        a, b = first.split("..." if three else "..", 1)
        if not a or not b:
            raise InvalidInput(
                f"{function}(): {first!r} needs a revision on both sides of the dots"
            )
        rest = values[1:]
        if three:
            base = format_address(base_of(ctx, a, b))
            start = endpoint(ctx, base)
        else:
            start = endpoint(ctx, a)
        end = endpoint(ctx, b)
    else:
        if len(values) < 2 + table_required:
            raise InvalidInput(f"{function}() got {len(values)} argument(s); call it as {usage}")
        start, end = endpoint(ctx, values[0]), endpoint(ctx, values[1])
        rest = values[2:]
    if len(rest) > 1 or (table_required and not rest):
        raise InvalidInput(f"{function}() got {len(values)} argument(s); call it as {usage}")
    return start, end, (rest[0] if rest else None)


# --- tables -----------------------------------------------------------------------


def require_table(ctx: SystemContext, name: str, relation: str) -> tuple[str, Table]:
    """Table ``name`` in the session's working root, for ``relation`` (e.g. dolt_diff_t)."""
    ws = ctx.workspace
    found = ws.working.find(name)
    if found is None:
        raise TableNotFound(
            f"{relation}: " + ws.working.missing_message(name, f" on branch {ws.branch!r}")
        )
    return found, Table.load(ws.nodes, ws.working[found], found)


def load(ctx: SystemContext, root: RootValue, name: str | None) -> Table | None:
    if name is None or name not in root:
        return None
    return Table.load(ctx.workspace.nodes, root[name], name)


# --- tag-aligned row diffs -----------------------------------------------------------


class Layout(NamedTuple):
    tag: int
    name: str
    type: pa.DataType


def layout(schema: Schema) -> list[Layout]:
    return [Layout(c.placed_tag, c.name, c.type) for c in schema.columns]


class DiffRows(NamedTuple):
    """A row diff with chosen ``to`` and ``from`` columns (aligned by tag) and diff_type."""

    to: list[pa.Array]
    from_: list[pa.Array]
    diff_type: pa.Array

    def __len__(self) -> int:
        return len(self.diff_type)


def cached_row_diff(delta: TableDelta) -> pa.Table:
    key = (
        delta.from_table.address if delta.from_table else None,
        delta.to_table.address if delta.to_table else None,
    )
    hit = _diff_cache.get(key)
    if hit is not None:
        return hit
    rows = row_diff(delta)
    if rows.num_rows <= _DIFF_CACHE_MAX_ROWS:
        _diff_cache.put(key, rows)
    return rows


def aligned_diff(
    delta: TableDelta, to_layout: Sequence[Layout], from_layout: Sequence[Layout]
) -> DiffRows:
    """The delta's changed rows with the columns the layouts name, matched by tag."""
    rows = cached_row_diff(delta)
    newer = (delta.to_table or delta.from_table).schema  # type: ignore[union-attr]
    older = (delta.from_table or delta.to_table).schema  # type: ignore[union-attr]
    # row_diff names a column as the newer schema does, else as the older one.
    named = {c.tag: c.name for c in older.columns}
    named.update({c.tag: c.name for c in newer.columns})

    def pick(side: str, want: Sequence[Layout]) -> list[pa.Array]:
        out = []
        for tag, _, type_ in want:
            if tag not in named:
                out.append(pa.nulls(rows.num_rows, type_))
                continue
            column = rows.column(f"{side}_{named[tag]}").combine_chunks()
            out.append(column if column.type == type_ else column.cast(type_, safe=False))
        return out

    return DiffRows(
        pick("to", to_layout), pick("from", from_layout), rows.column("diff_type").combine_chunks()
    )


def diff_columns(
    to_layout: Sequence[Layout], from_layout: Sequence[Layout]
) -> tuple[list[str], list[pa.DataType]]:
    """Names and types of a row-diff relation (Dolt's order: to side, from side, diff_type)."""
    names = [f"to_{c.name}" for c in to_layout] + ["to_commit", "to_commit_date"]
    names += [f"from_{c.name}" for c in from_layout] + [
        "from_commit",
        "from_commit_date",
        "diff_type",
    ]
    types = [c.type for c in to_layout] + [HASH, TIME]
    types += [c.type for c in from_layout] + [HASH, TIME, pa.string()]
    return names, types


def diff_relation(
    delta: TableDelta,
    to_layout: Sequence[Layout],
    from_layout: Sequence[Layout],
    before: Endpoint,
    after: Endpoint,
) -> pa.Table:
    """The delta's changed rows as a row-diff relation, each side labelled by its endpoint."""
    rows = aligned_diff(delta, to_layout, from_layout)
    n = len(rows)
    arrays = [
        *rows.to,
        constant(after.label, n, HASH),
        constant(after.timestamp, n, TIME),
        *rows.from_,
        constant(before.label, n, HASH),
        constant(before.timestamp, n, TIME),
        rows.diff_type,
    ]
    return pa.table(arrays, names=diff_columns(to_layout, from_layout)[0])


# --- SQL text of schemas (types spelled by sql/catalog.py) ------------------------------


def _same(text: str) -> str:
    return text


def column_sql(
    column: Column,
    ident: Callable[[str], str] = quote_identifier,
    expression: Callable[[str], str] = _same,
) -> str:
    """A column definition; ``ident`` quotes names and ``expression`` rewrites the default's
    DuckDB text (both for another dialect, as ``dolt_patch`` writes)."""
    text = f"{ident(column.name)} {duck_type(column)}"
    if not column.nullable:
        text += " NOT NULL"
    if column.default is not None:
        text += f" DEFAULT {expression(column.default)}"
    return text


def index_sql(table: str, index: Index, ident: Callable[[str], str] = quote_identifier) -> str:
    unique = "UNIQUE " if index.unique else ""
    columns = ", ".join(ident(c) for c in index.columns)
    return f"CREATE {unique}INDEX {ident(index.name)} ON {ident(table)} ({columns});"


def create_statements(
    table: str,
    schema: Schema,
    ident: Callable[[str], str] = quote_identifier,
    expression: Callable[[str], str] = _same,
) -> list[str]:
    """``CREATE TABLE`` for ``schema``, then one ``CREATE INDEX`` per secondary index."""
    parts = [column_sql(c, ident, expression) for c in schema.columns]
    if schema.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(ident(c) for c in schema.primary_key)})")
    parts += [
        f"CONSTRAINT {ident(c.name)} CHECK ({expression(c.expression)})" for c in schema.checks
    ]
    create = f"CREATE TABLE {ident(table)} (\n  " + ",\n  ".join(parts) + "\n);"
    return [create] + [index_sql(table, i, ident) for i in schema.indexes]


def create_table_sql(table: str, schema: Schema) -> str:
    """The schema as one text: its ``create_statements``, a line break between them."""
    return "\n".join(create_statements(table, schema))
