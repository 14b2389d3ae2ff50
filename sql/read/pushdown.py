"""Primary-key pushdown: read only the rows a WHERE clause can select from the tree.

When the WHERE of the statement that reads a table holds top-level conjuncts comparing
its primary-key columns with constants or parameters (``pk = v``, ``pk IN (...)``,
``pk BETWEEN a AND b``, ``pk < v``, ...; qualified by the table's name or alias when
the FROM has several sources), only those rows are read from the tree (``Table.get`` for
equalities, a streamed key range, ``KeyRange``, for the rest) instead of the whole
table. ``conjuncts_of`` finds them when a query is compiled; ``key_rows`` reads the
rows when it is bound. The same conjuncts on ``=`` / ``IN`` reach system relations as
``filters`` (sql/read/reads.py), and the point-lookup shape skips DuckDB altogether
(``point_select`` there). A system relation also gets ``column = (SELECT ...)`` with
an uncorrelated scalar subquery (Dolt's
``WHERE commit_hash = (SELECT commit_hash FROM dolt_log LIMIT 1 OFFSET n)``): the
subquery is run on its own first (an operand of kind ``query``), and its value filters
like a constant; ``is_plain`` keeps such conjuncts away from the table pushdown.

Invariants (cited as ``# invariant (n)``):

(1) A pushdown relation holds every row of the table that satisfies the conjuncts it
    was cut by (a conjunct of a top-level AND must hold for every result row); the
    whole WHERE still runs in DuckDB, so the result equals that of a full scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.errors import InvalidInput, SchemaError
from arbordb.engine.table import Schema, Table

from ..parse.holes import FunctionHole, TableHole
from .operands import Operand, operand

__all__ = ["Conjunct", "KeyRange", "Terms", "conjuncts_of", "fits", "is_plain", "key_rows"]

MAX_IN_LOOKUPS = 1024  # ``pk IN (...)`` lists longer than this scan instead


@dataclass(frozen=True)
class KeyRange:
    """Bounds on the leading primary-key columns, as ``Table.batches`` takes them."""

    lo_values: list | None
    hi_values: list | None
    lo_inclusive: bool = True
    hi_inclusive: bool = True

    def bounds(self) -> dict:
        return {
            "lo_values": self.lo_values,
            "hi_values": self.hi_values,
            "lo_inclusive": self.lo_inclusive,
            "hi_inclusive": self.hi_inclusive,
        }


@dataclass(frozen=True)
class Conjunct:
    """``column op operands`` from a WHERE clause, for key pushdown.
    ``op`` is one of = IN > >= < <=; ``column`` is lower-cased."""

    column: str
    op: str
    operands: tuple[Operand, ...]


_VALUE_NODES = (exp.Literal, exp.Neg, exp.Boolean, exp.Placeholder, exp.Paren, FunctionHole)
_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIPPED = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass(frozen=True)
class _Term:
    """A WHERE conjunct ``column op operands``, before it is matched to a table:
    ``qualifier`` is the column's table qualifier, lower-cased ('' when bare)."""

    qualifier: str
    conjunct: Conjunct


Terms = dict[int, tuple[int, list[_Term]]]  # statement id -> its sources and conjuncts


def conjuncts_of(
    table: exp.Table, terms: dict[int, tuple[int, list[_Term]]]
) -> tuple[Conjunct, ...]:
    """Pushdown candidates: the top-level WHERE conjuncts, of the statement whose FROM
    lists ``table``, that compare one of its columns with constants. With several
    sources in that FROM only columns qualified by the table's name or alias count.
    Any such conjunct may filter the table before the join (invariant (1)).

    ``terms`` caches each statement's conjuncts by ``id`` (a join of n tables reads its
    WHERE once, not n times)."""
    owner = table.parent
    if isinstance(owner, exp.From | exp.Join):
        owner = owner.parent
    if not isinstance(owner, exp.Select | exp.Update | exp.Delete):
        return ()
    if table.args.get("pivots") or table.args.get("sample"):
        return ()
    if id(owner) not in terms:
        terms[id(owner)] = _terms(owner)
    sources, found = terms[id(owner)]
    if not found:
        return ()
    names = {table.alias_or_name.lower()} | ({table.name.lower()} if not table.alias else set())
    if sources <= 1:
        names.add("")
    return tuple(t.conjunct for t in found if t.qualifier in names)


def _terms(owner: exp.Expr) -> tuple[int, list[_Term]]:
    """(number of sources in the FROM, the pushable WHERE conjuncts) of a statement."""
    where = owner.args.get("where")
    if where is None:
        return 0, []
    sources = len(owner.args.get("joins") or []) + len(owner.args.get("laterals") or [])
    sources += len(owner.args.get("using") or []) + (1 if owner.args.get("from_") else 0)
    if isinstance(owner, exp.Update | exp.Delete):
        sources += 1
    nodes = where.this.flatten() if isinstance(where.this, exp.And) else [where.this]
    return sources, [t for t in map(_term, nodes) if t is not None]


def _column_ref(n: exp.Expr) -> tuple[str, str] | None:
    """(qualifier, column), lower-cased, of a column reference."""
    if not isinstance(n, exp.Column):
        return None
    return n.table.lower(), n.name.lower()


def is_plain(conjunct: Conjunct) -> bool:
    """Whether every operand of ``conjunct`` is known without running a query."""
    return all(o.kind != "query" for o in conjunct.operands)


def _subquery(n: exp.Expr) -> Operand | None:
    """A scalar subquery that reads a table and can run alone (no parameter or
    function hole to share with its statement), as a ``query`` operand: a copy of
    it now, before the statement's compilation turns its tables into holes."""
    inner = n.this
    if not isinstance(inner, exp.Query) or inner.find(exp.Table) is None:
        return None
    if inner.find(exp.Placeholder, FunctionHole) is not None:
        return None
    if any(isinstance(t.this, TableHole) for t in inner.find_all(exp.Table)):
        return None
    return Operand("query", inner.copy())


def _value(n: exp.Expr) -> Operand | None:
    if isinstance(n, exp.Subquery):
        return _subquery(n)
    if not isinstance(n, _VALUE_NODES):
        return None  # not a constant: no need to build an expression operand
    found = operand(n)
    if found.kind == "expr" or (found.kind == "const" and found.value is None):
        return None
    return found


def _term(node: exp.Expr) -> _Term | None:
    op = _COMPARISONS.get(type(node))
    if op is not None:
        left, right = node.this, node.expression
        ref, value = _column_ref(left), None
        if ref is not None:
            value = _value(right)
        if value is None:
            ref, value, op = _column_ref(right), None, _FLIPPED[op]
            if ref is not None:
                value = _value(left)
        if ref is None or value is None or (value.kind == "query" and op != "="):
            return None
        return _Term(ref[0], Conjunct(ref[1], op, (value,)))
    if isinstance(node, exp.In | exp.Between):
        ref = _column_ref(node.this)
        if ref is None:
            return None
        if isinstance(node, exp.In):
            if node.args.get("query") or len(node.expressions) > MAX_IN_LOOKUPS:
                return None
            values = [_value(v) for v in node.expressions]
            op = "IN"
        else:
            values = [_value(node.args["low"]), _value(node.args["high"])]
            op = "BETWEEN"
        if values and all(v is not None and v.kind != "query" for v in values):
            return _Term(ref[0], Conjunct(ref[1], op, tuple(v for v in values if v is not None)))
    return None


def key_rows(
    table: Table,
    conjuncts: Sequence[Conjunct],
    values: Callable[[Sequence[Operand]], list[object]],
) -> pa.Table | KeyRange | None:
    """The rows the key conjuncts select, read from the tree (equality and ``IN``: a
    few rows), or the key range they allow (streamed by the caller); None to scan all."""
    schema = table.schema
    if schema.is_keyless:
        return None
    key = [c.lower() for c in schema.primary_key]
    types = {c.name.lower(): c.type for c in schema.key_columns}
    resolved = [(c.column, c.op, values(c.operands)) for c in conjuncts if c.column in types]
    equal: dict[str, object] = {}
    for column, op, vals in resolved:
        if op == "=" and fits(vals[0], types[column]):
            equal[column] = vals[0]
    try:
        if all(k in equal for k in key):
            return _rows(schema, [table.get([equal[k] for k in key])])
        if len(key) == 1:
            for column, op, vals in resolved:
                if op == "IN" and column == key[0] and all(fits(v, types[column]) for v in vals):
                    distinct = list(dict.fromkeys(vals))
                    if len(distinct) <= 4:
                        return _rows(schema, [table.get([v]) for v in distinct])
                    keys = pa.table({schema.primary_key[0]: pa.array(distinct, types[column])})
                    return table.get_many(keys)
        prefix = []
        for k in key:
            if k not in equal:
                break
            prefix.append(equal[k])
        if prefix:
            return KeyRange(prefix, prefix)
        return _range(key[0], types[key[0]], resolved)
    except (InvalidInput, SchemaError, TypeError, OverflowError):
        return None  # a value the key cannot encode: let DuckDB compare (invariant (1))


def _range(column: str, type_: pa.DataType, resolved) -> KeyRange | None:
    lo = hi = None
    lo_inc = hi_inc = True
    for name, op, vals in resolved:
        if name != column or not all(fits(v, type_) for v in vals):
            continue
        if op == "BETWEEN":
            lo, hi, lo_inc, hi_inc = vals[0], vals[1], True, True
        elif op in (">", ">="):
            lo, lo_inc = vals[0], op == ">="
        elif op in ("<", "<="):
            hi, hi_inc = vals[0], op == "<="
    if lo is None and hi is None:
        return None
    return KeyRange(None if lo is None else [lo], None if hi is None else [hi], lo_inc, hi_inc)


def _rows(schema: Schema, rows: Sequence[dict | None]) -> pa.Table:
    arrow = pa.schema([pa.field(c.name, c.type) for c in schema.columns])
    return pa.Table.from_pylist([r for r in rows if r is not None], schema=arrow)


def fits(value: object, type_: pa.DataType) -> bool:
    """Whether ``value`` compares with a key column of ``type_`` exactly as DuckDB would
    compare it after casting (so pushing the comparison down cannot change results)."""
    if value is None or isinstance(value, bool):
        return isinstance(value, bool) and pa.types.is_boolean(type_)
    if pa.types.is_integer(type_):
        return isinstance(value, int)
    if pa.types.is_floating(type_):
        return isinstance(value, int | float)
    if pa.types.is_decimal(type_):
        return isinstance(value, int | Decimal)
    if pa.types.is_string(type_):
        return isinstance(value, str)
    if pa.types.is_binary(type_):
        return isinstance(value, bytes)
    if pa.types.is_date(type_):
        return isinstance(value, date) and not isinstance(value, datetime)
    if pa.types.is_timestamp(type_):
        return isinstance(value, datetime) and (value.tzinfo is None) == (type_.tz is None)
    return False
