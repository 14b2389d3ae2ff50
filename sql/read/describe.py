"""Describe: results that list and describe tables (``SHOW TABLES``, ``DESCRIBE``)
and the PEP 249 ``description`` of a result's columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.arrow_arrays import texts
from arbordb.engine.errors import TableNotFound
from arbordb.engine.table import Table

from .. import catalog
from ..errors import ProgrammingError
from ..system.common import create_table_sql
from .reads import SCHEMAS_TABLE, ReadContext, views

__all__ = ["describe", "description_of", "show_create_table", "show_tables"]


def description_of(columns: Sequence[tuple[str, pa.DataType]]) -> list[tuple]:
    """PEP 249 description 7-tuples for Arrow-typed columns."""
    return [(name, catalog.type_name(t), None, None, None, None, True) for name, t in columns]


def show_tables(ctx: ReadContext) -> pa.Table:
    """``SHOW TABLES``: the working root's tables and views, as Dolt lists them."""
    root = ctx.workspace.working
    names = sorted(
        [n for n in root if n.lower() != SCHEMAS_TABLE]
        + [n for n in views(ctx, root)]
        + list(ctx.temp_views)
    )
    return pa.table({"name": texts(names)})  # pa.array imports pandas (0.3 s of an import)


def describe(ctx: ReadContext, node: exp.Table) -> pa.Table:
    """``DESCRIBE t``: one row per column (DuckDB's columns: column_name, column_type,
    null, key, default, extra)."""
    root = ctx.workspace.working
    found = root.find(node.name)
    if found is None:
        raise TableNotFound(root.missing_message(node.name, f" on branch {ctx.branch!r}"))
    schema = Table.load(ctx.workspace.nodes, root[found], found).schema
    unique = {i.columns[0] for i in schema.indexes if i.unique and len(i.columns) == 1}
    columns = schema.columns
    return pa.table(
        {
            "column_name": [c.name for c in columns],
            "column_type": [catalog.duck_type(c) for c in columns],
            "null": ["YES" if c.nullable else "NO" for c in columns],
            "key": [
                "PRI" if c.name in schema.primary_key else "UNI" if c.name in unique else None
                for c in columns
            ],
            "default": [c.default for c in columns],
            "extra": pa.nulls(len(columns), pa.string()),
        }
    )


def show_create_table(ctx: ReadContext, node: exp.Table) -> pa.Table:
    """``SHOW CREATE TABLE t [AS OF 'rev']``: MySQL's and Dolt's columns ``Table`` and
    ``Create Table`` (the ``CREATE TABLE`` and ``CREATE INDEX`` statements)."""
    version = node.args.get("version")
    if version is None:
        root, where = ctx.workspace.working, f" on branch {ctx.branch!r}"
    else:
        revision = version.expression
        if not isinstance(revision, exp.Literal) or not revision.is_string:
            raise ProgrammingError(
                "SHOW CREATE TABLE ... AS OF takes a revision in quotes: AS OF 'main'"
            )
        root, where = ctx.workspace.root_at(revision.name), f" at {revision.name!r}"
    found = root.find(node.name)
    if found is None:
        raise TableNotFound(root.missing_message(node.name, where))
    schema = Table.load(ctx.workspace.nodes, root[found], found).schema
    return pa.table({"Table": [found], "Create Table": [create_table_sql(found, schema)]})
