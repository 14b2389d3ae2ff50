"""One table (or one query's result) at one commit: its rows, schema, size and digest.

The digest is what MLflow records and what a later load is checked against:

- a table: its content hash, ``dolt_hashof_table`` (sql/system/hashes.py): equal
  whenever schema and rows are, whatever the history;
- a query: the address of its result stored as a keyless table in a scratch
  in-memory store (engine/table/keyless.py): the same rows, in any order and with
  the same duplicates, give the same digest.

Both are 32 characters, within MLflow's 36-character digest limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.hash import format_address
from arbordb.engine.root import RootValue
from arbordb.engine.table import Column, Schema, Table
from arbordb.engine.tree import NodeStore
from arbordb.sql.errors import ObjectNotFound
from arbordb.sql.procedures.data_tests import query_at

__all__ = ["Version", "read_version", "result_digest"]


@dataclass(frozen=True)
class Version:
    """What a dataset is: the commit, and the table's or result's shape and digest."""

    commit: str
    digest: str
    schema: pa.Schema
    num_rows: int
    data: pa.Table | None  # None when only described (a table is not read to be logged)


def result_digest(data: pa.Table) -> str:
    """The content address of a query's result rows (see the module docstring)."""
    columns = tuple(Column(f.name, None, f.type) for f in data.schema)
    table = Table.create(NodeStore(MemoryChunkStore()), Schema(columns, (), name="result"), data)
    return format_address(table.address)


def read_version(
    session, commit: bytes, table: str | None, query: str | None, *, load: bool
) -> Version:
    """``table`` or ``query`` at ``commit``, read through ``session``; rows only if ``load``
    (a query is always run: its digest is its result's)."""
    ws = session.workspace
    root: RootValue = ws.commit_root(commit)
    text = format_address(commit)
    if query is not None:
        data = query_at(session, query, root)
        return Version(text, result_digest(data), data.schema, data.num_rows, data)
    found = root.find(table)
    if found is None:
        raise ObjectNotFound(root.missing_message(table, f" at commit {text}"))
    stored = Table.load(ws.nodes, root[found], found)
    data = stored.to_arrow() if load else None
    schema = data.schema if data is not None else _arrow_schema(stored.schema)
    return Version(text, format_address(root[found]), schema, stored.count(), data)


def _arrow_schema(schema: Schema) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in schema.columns])
