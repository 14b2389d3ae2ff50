"""Dolt's ``dolt_query_diff('query1', 'query2')``: the rows two queries' results differ in.

Each argument is one read-only query (a SELECT, VALUES or set operation; ``AS OF``
reads any revision). The result has ``from_<c>`` for each column of the first query,
``to_<c>`` for each of the second, and ``diff_type``: 'deleted' (only in the first),
'added' (only in the second) or 'modified'. Rows are matched as in Dolt:

- when both queries read the same tables (at any revisions) and return the same
  columns (names and types): by primary key if they read one table and return its
  key (a key in both with other values is 'modified'; rows come in key order), else
  by whole rows (a multiset: a row the first returns twice and the second once is
  deleted once; the deleted rows first);
- otherwise every row of the first is deleted and every row of the second added, as
  Dolt does for results of different tables or columns.

Dolt pairs keyless rows by their position in the results; whole-row matching is
what that pairing approximates, and does not depend on row order. Both results are
held in memory while compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.errors import InvalidInput

from ..parse.dialect import parse
from .data_tests import QueryContext, query_at

__all__ = ["query_diff"]

_USAGE = "dolt_query_diff('SELECT ... query 1', 'SELECT ... query 2')"


def query_diff(session: QueryContext, args: Sequence[object] | None) -> pa.Table:
    """The ``dolt_query_diff`` table function (see the module docstring).

    Raises:
        InvalidInput: not two text arguments, or one is not exactly one query.
    """
    values = list(args or [])
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"dolt_query_diff() takes two queries as text: {_USAGE}")
    trees = [_one_query(session, str(v), n) for n, v in enumerate(values, start=1)]
    before, after = (query_at(session, str(v), None) for v in values)
    names = [f"from_{n}" for n in before.column_names] + [f"to_{n}" for n in after.column_names]
    types = [f.type for f in before.schema] + [f.type for f in after.schema]
    read = [{t.name.lower() for t in tree.find_all(exp.Table)} for tree in trees]
    if before.schema != after.schema or read[0] != read[1]:
        rows = [(*r, *_nulls(after), "deleted") for r in _tuples(before)]
        rows += [(*_nulls(before), *r, "added") for r in _tuples(after)]
    else:
        key = _key_positions(session, read[0], before.column_names)
        rows = _by_key(before, after, key) if key else _by_row(before, after)
    columns = list(zip(*rows, strict=True)) if rows else [()] * (len(names) + 1)
    arrays = [values_array(c, t) for c, t in zip(columns, [*types, pa.string()], strict=True)]
    return pa.Table.from_arrays(arrays, names=[*names, "diff_type"])


def _one_query(session: QueryContext, text: str, n: int) -> exp.Expr:
    trees = parse(text, session.dialect)
    if len(trees) != 1 or not isinstance(trees[0], exp.Query | exp.Values):
        raise InvalidInput(
            f"dolt_query_diff() argument {n} must be one read-only query (a SELECT), "
            f"got {text[:60]!r}: {_USAGE}"
        )
    return trees[0]


def _key_positions(session: QueryContext, read: set[str], columns: list[str]) -> list[int] | None:
    """Positions of the primary-key columns in the results, when the queries read one
    table and return its key; None otherwise."""
    if len(read) != 1:
        return None
    found = session.workspace.working.find(next(iter(read)))
    if found is None:
        return None
    key = session.workspace.table(found).schema.primary_key
    lowered = [c.lower() for c in columns]
    if not key or len(set(lowered)) != len(lowered) or any(k.lower() not in lowered for k in key):
        return None
    return [lowered.index(k.lower()) for k in key]


def _tuples(table: pa.Table) -> list[tuple]:
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True)) if table.num_rows else []


def _nulls(table: pa.Table) -> tuple:
    return (None,) * table.num_columns


def _by_key(before: pa.Table, after: pa.Table, key: list[int]) -> list[tuple]:
    old = {tuple(r[i] for i in key): r for r in _tuples(before)}
    new = {tuple(r[i] for i in key): r for r in _tuples(after)}
    out = []
    for k in sorted(old.keys() | new.keys(), key=_sortable):
        a, b = old.get(k), new.get(k)
        if a is None:
            out.append((*_nulls(before), *b, "added"))  # type: ignore[misc]
        elif b is None:
            out.append((*a, *_nulls(after), "deleted"))
        elif a != b:
            out.append((*a, *b, "modified"))
    return out


def _by_row(before: pa.Table, after: pa.Table) -> list[tuple]:
    old, new = Counter(_tuples(before)), Counter(_tuples(after))
    out = [(*r, *_nulls(after), "deleted") for r in sorted((old - new).elements(), key=_sortable)]
    out += [(*_nulls(before), *r, "added") for r in sorted((new - old).elements(), key=_sortable)]
    return out


def _sortable(values: tuple) -> tuple:
    """A sort key for rows that may hold NULLs (NULLs first, as in DuckDB's ASC NULLS FIRST)."""
    return tuple((v is not None, v) for v in values)
