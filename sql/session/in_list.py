"""A fast path, recognized in the SQL text before parsing, for an UPDATE of many rows
named by their primary key: ``UPDATE t SET c = <value>, ... WHERE pk IN (<integers>)``.

Programs write such statements with thousands of keys; parsing the text (a few KB) into a
sqlglot tree and running it as ``SELECT ... WHERE pk IN (...)`` through DuckDB cost more
than applying the edits. A regular expression takes the statement apart instead, the
rows are read with one ``Table.get_many`` and the new rows applied in one batch
(``Table.apply``), as ``executemany`` of ``UPDATE ... WHERE pk = ?`` does
(``write/update.py``). The shape taken:

    UPDATE t SET c = v [, c = v ...] WHERE pk IN (i [, i ...]) [;]

    t, c, pk   unquoted identifiers; pk the table's one primary-key column, an integer
    v          ?  |  NULL  |  an integer or decimal literal  |  a '...' string without
               backslashes  |  col + n  or  col - n  (n a number, col a BIGINT or
               DOUBLE column of t: the value before the statement, as SQL reads it)
    i          integer literals (repeats count once, as IN does)

Invariant (as ``fastpath.py``'s (1) and (2)): ``InListUpdate.run`` returns what the
general path would (the number of rows matched), or None having changed nothing, and
then the general path runs the text and words any error. So everything it cannot vouch
for takes the general path: another dialect (MySQL reads backslashes in strings), a
read-only connection, temporary views, ``dolt_*`` tables, keyless tables, tables with
CHECK constraints or secondary indexes, logical or time-zoned columns, a value not of
exactly its column's Python type, NULL in a NOT NULL column, a value out of its
column's range, and arithmetic that overflows. Pending fast one-row UPDATEs are applied
first (``PendingEdits.settle``), so the rows read are the transaction's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.table import Column, Table

from ..write.common import put

__all__ = ["InListUpdate", "recognize"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STRING = r"'(?:[^'\\]|'')*'"
_VALUE = rf"\?|NULL|{_NUMBER}|{_STRING}|{_IDENT}\s*[-+]\s*{_NUMBER}"
_ASSIGNMENT = rf"({_IDENT})\s*=\s*({_VALUE})"
_STATEMENT = re.compile(
    rf"\s*UPDATE\s+(?P<table>{_IDENT})\s+SET\s+(?P<sets>(?:{_ASSIGNMENT}\s*,\s*)*{_ASSIGNMENT})"
    rf"\s+WHERE\s+(?P<key>{_IDENT})\s+IN\s*\(\s*(?P<keys>-?\d+(?:\s*,\s*-?\d+)*)\s*\)\s*;?\s*",
    re.IGNORECASE,
)
_ASSIGNMENTS = re.compile(rf"\s*{_ASSIGNMENT}\s*(?:,|$)", re.IGNORECASE)
_ARITHMETIC = re.compile(rf"({_IDENT})\s*([-+])\s*({_NUMBER})")
_KEYWORDS = {"null", "update", "set", "where", "in"}  # not taken as names here


@dataclass(frozen=True)
class _Set:
    """One SET item: ``kind`` is "param" (``value``: its index), "const" (``value``: the
    value) or "shift" (``source``'s old value plus ``amount``)."""

    column: str
    kind: str
    value: object = None
    source: str = ""
    amount: int | float = 0


def recognize(sql: str) -> InListUpdate | None:
    """The statement's shape when ``sql`` is one such UPDATE, else None (cheap: most
    texts fail at their first word)."""
    if not sql[:16].lstrip()[:6].lower() == "update":
        return None
    found = _STATEMENT.fullmatch(sql)
    if found is None:
        return None
    table, assignments, key = found.group("table"), found.group("sets"), found.group("key")
    if {table.lower(), key.lower()} & _KEYWORDS:
        return None
    sets: list[_Set] = []
    params = 0
    for item in _ASSIGNMENTS.finditer(assignments):
        column, text = item.group(1), item.group(2)
        value = _value(text, params)
        if value is None or column.lower() in _KEYWORDS:
            return None
        params += value.kind == "param"
        sets.append(_Set(column, value.kind, value.value, value.source, value.amount))
    keys = [int(k) for k in found.group("keys").split(",")]
    return InListUpdate(table, key, sets, keys, params)


def _value(text: str, params: int) -> _Set | None:
    if text == "?":
        return _Set("", "param", params)
    if text.upper() == "NULL":
        return _Set("", "const", None)
    if text.startswith("'"):
        return _Set("", "const", text[1:-1].replace("''", "'"))
    shifted = _ARITHMETIC.fullmatch(text)
    if shifted is not None:
        column, sign, number = shifted.groups()
        if column.lower() in _KEYWORDS:
            return None
        amount = _number(number)
        return _Set("", "shift", source=column, amount=-amount if sign == "-" else amount)
    return _Set("", "const", _number(text))


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


# Column types whose values this path takes, and the Python types of those values.
_TYPES = (
    (pa.types.is_integer, (int,)),
    (pa.types.is_string, (str,)),
    (pa.types.is_binary, (bytes,)),
    (pa.types.is_float64, (float,)),
    (pa.types.is_boolean, (bool,)),
)


def _kinds(column: Column) -> tuple[type, ...] | None:
    if column.logical:
        return None
    return next((kinds for test, kinds in _TYPES if test(column.type)), None)


class InListUpdate:
    """``UPDATE t SET ... WHERE pk IN (...)``, taken apart by ``recognize``."""

    def __init__(self, table: str, key: str, sets: list[_Set], keys: list[int], count: int):
        self.table, self.key, self.sets, self.keys, self.count = table, key, sets, keys, count

    def run(self, session, params, edits) -> int | None:
        """Rows changed, or None for the general path (module docstring)."""
        if (
            session.dialect != "duckdb"
            or session.read_only
            or self.table.lower() in session.temp_views
            or self.table.lower().startswith("dolt_")
        ):
            return None
        given = list(params) if isinstance(params, list | tuple) else None
        if given is None and params is not None or len(given or ()) != self.count:
            return None  # named parameters, or a wrong count the general path words
        root = session.workspace.working
        name = root.find(self.table)
        if name is None:
            return None
        table = Table.load(session.workspace.nodes, root[name], name)
        if edits:  # the rows read must be the transaction's
            edits.settle(session)
            root = session.workspace.working
            table = Table.load(session.workspace.nodes, root[name], name)
        try:
            after = self._rows(table, given or [])
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            return None  # out of range, overflowed: the general path words it
        if after is None:
            return None
        if after.num_rows:
            try:
                edited = table.apply(after, None, replace=True)
            except Exception:  # nothing was put: the general path words it
                return None
            put(session, name, edited)
        return after.num_rows

    def _rows(self, table: Table, params: list[object]) -> pa.Table | None:
        """The new rows (None: not this path's statement after all)."""
        schema = table.schema
        if schema.is_keyless or schema.checks or schema.indexes:
            return None
        if len(schema.primary_key) != 1 or schema.primary_key[0].lower() != self.key.lower():
            return None
        key_column = schema.column(schema.primary_key[0])
        if not pa.types.is_integer(key_column.type) or key_column.logical:
            return None
        by_lower = {c.name.lower(): c for c in schema.columns}
        changes: dict[str, tuple[Column, _Set]] = {}
        for item in self.sets:
            column = by_lower.get(item.column.lower())
            if column is None or column.name in changes or column.name == key_column.name:
                return None
            kinds = _kinds(column)
            if kinds is None or pa.types.is_timestamp(column.type):
                return None
            changes[column.name] = (column, item)
        keys = pa.table({key_column.name: pa.array(self.keys, key_column.type)})
        current = table.get_many(keys)
        if current.num_rows == 0:
            return current
        columns = {}
        for column, item in changes.values():
            new = self._column(column, item, current, params, by_lower)
            if new is None or (not column.nullable and new.null_count):
                return None
            columns[column.name] = new
        return pa.table(
            [columns.get(n, current.column(n)) for n in schema.column_names],
            schema=current.schema,
        )

    def _column(self, column, item: _Set, current: pa.Table, params, by_lower) -> pa.Array | None:
        rows = current.num_rows
        kinds = _kinds(column)
        assert kinds is not None  # checked by the caller
        if item.kind == "shift":
            amount = item.amount
            source = by_lower.get(item.source.lower())
            if source is None or source.type not in (pa.int64(), pa.float64()):
                return None
            if column.type != source.type or column.type == pa.int64() and type(amount) is not int:
                return None  # DuckDB would cast: the general path
            if column.type == pa.float64():
                amount = float(amount)
            old = current.column(source.name)
            return pc.add_checked(old, pa.scalar(amount, source.type)).combine_chunks()
        value = params[item.value] if item.kind == "param" else item.value  # type: ignore[index]
        if item.kind == "const" and type(value) is int and pa.types.is_floating(column.type):
            value = float(value)  # a literal takes its column's type, as SQL casts it
        if value is not None and type(value) not in kinds:
            return None
        return pa.array([value] * rows, column.type)
