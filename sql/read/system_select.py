"""Queries of one system table answered from its relation, without DuckDB.

Dolt's system-table queries are mostly one system table, a projection and a filter
on a commit: ``SELECT * FROM dolt_log WHERE commit_hash = (SELECT commit_hash FROM
dolt_log LIMIT 1 OFFSET 598)``. Handing such a query to DuckDB costs more than the
relation (registering it, planning, fetching); ``answer`` computes it here, on the
Arrow relation the registry builds (sql/system/registry.py), for this shape only:

    SELECT *  |  col [AS name], ...  |  count(*) [AS name]
    FROM <system table> [AS alias]        (no AS OF, no join; or a dolt_* table function
                                           call without WHERE)
    [WHERE c1 AND c2 ...]   each ci: col = v, col IN (v, ...), col BETWEEN v AND w,
                            col < v (<=, >, >=); v a constant, a parameter, or an
                            uncorrelated scalar subquery (``col = (SELECT ...)``) that
                            is itself of this shape
    [ORDER BY col [ASC | DESC], ...] [LIMIT n] [OFFSET m]

Anything else (or a value that DuckDB would cast before comparing, a sort key with
NULLs, a subquery giving other than one row) returns None and the query takes the
general path (sql/read/reads.py ``bind`` + DuckDB), which gives the same result.
The equality and ``IN`` conjuncts also reach the relation as its ``filters``, so the
relation reads only the commits they name (as ``bind`` passes them).

Invariants (cited as ``# invariant (n)``):

(1) ``answer`` returns exactly the rows, column names and column types DuckDB gives for
    the same query, or None. Without ORDER BY the rows keep the relation's order (DuckDB
    keeps a scanned relation's order); with it, ties keep the relation's order too, one
    of the orders DuckDB may give. tests/sql/test_system_select.py checks it against
    the DuckDB path for every system table.
(2) Like ``bind`` it never changes the session's state.
(3) Memory stays bounded as with DuckDB: a streamed relation (``BatchStream``, e.g.
    ``dolt_history_<t>``) is counted batch by batch, and its rows are gathered only up
    to a LIMIT; without one DuckDB streams them to the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from arbordb.engine.arrow_arrays import scalar, values_array
from arbordb.engine.cache import LruCache

from ..parse.holes import TableHole
from ..system.common import BatchStream
from ..system.registry import system_relation
from .operands import Operand, operand
from .pushdown import Conjunct, fits
from .reads import ReadContext, Slot, Template, compile_query, view_text

__all__ = ["answer"]

MAX_SUBQUERY_DEPTH = 4  # ``col = (SELECT ...)`` nested deeper takes the general path
_ALLOWED_ARGS = {"expressions", "from_", "where", "order", "limit", "offset"}


class _Fallback(Exception):
    """The query leaves the shape this module answers: DuckDB answers it."""


@dataclass(frozen=True)
class _Output:
    """One item of the SELECT list: ``*``, a column (lower-cased source) or count(*)."""

    kind: str  # "star" | "column" | "count"
    source: str = ""
    alias: str | None = None


@dataclass(frozen=True)
class _Plan:
    slot: Slot
    outputs: tuple[_Output, ...]
    conjuncts: tuple[Conjunct, ...]
    order: tuple[tuple[str, bool], ...]  # (lower-cased column, descending)
    limit: Operand | None
    offset: Operand | None
    columns: frozenset[str] | None  # every column the query reads (None: all, for ``*``)


# plans by template identity; the entry keeps its template alive, so an id is never reused
_plans: LruCache[int, tuple[Template, _Plan | None]] = LruCache(256)
# templates of ``col = (SELECT ...)`` subqueries, by the subquery tree's identity
_subqueries: LruCache[int, tuple[exp.Expr, Template]] = LruCache(256)


def answer(
    template: Template,
    ctx: ReadContext,
    params: Sequence[object] | Mapping[str, object],
) -> pa.Table | None:
    """The result of ``template`` (one system table, the shape in the module
    docstring) as an Arrow table, or None for the general path (invariant (1)).

    Raises:
        what the system relation raises (RevisionNotFound, TableNotFound, ...), as the
        general path would.
    """
    plan = _plan_of(template)
    if plan is None:
        return None
    try:
        return _run(plan, ctx, params, 0)
    except _Fallback:
        return None


# --- planning -------------------------------------------------------------------------


def _plan_of(template: Template) -> _Plan | None:
    found = _plans.get(id(template))
    if found is not None and found[0] is template:
        return found[1]
    plan = _plan(template)
    _plans.put(id(template), (template, plan))
    return plan


def _plan(template: Template) -> _Plan | None:
    tree = template.tree
    if not template.slots or template.functions or not isinstance(tree, exp.Select):
        return None
    slot = template.slots[0]  # the FROM table; others belong to scalar subqueries (below)
    if slot.version is not None or not slot.name.lower().startswith("dolt_"):
        return None
    used = {k for k, v in tree.args.items() if v not in (None, [], False)}
    if not used <= _ALLOWED_ARGS or "from_" not in used:
        return None
    table = tree.args["from_"].this
    if not isinstance(table, exp.Table) or not isinstance(table.this, TableHole):
        return None
    if any(table.args.get(a) for a in ("joins", "laterals", "pivots", "sample")):
        return None
    alias = table.args.get("alias")
    if alias is not None and alias.columns:
        return None
    names = {slot.name.lower(), table.alias_or_name.lower(), ""}
    conjuncts = slot.conjuncts + slot.subquery_filters
    where = tree.args.get("where")
    parts: list[exp.Expr] = []
    if where is not None:
        parts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        if slot.args is not None or len(parts) != len(conjuncts):
            return None  # some conjunct is not a plain comparison of a column
    if not _inner_slots_in_subqueries(tree, table, parts):
        return None
    try:
        outputs = tuple(_output(item, names) for item in tree.expressions)
        order = _order(tree.args.get("order"), names)
        limit = _count_operand(tree.args.get("limit"))
        offset = _count_operand(tree.args.get("offset"))
    except _Fallback:
        return None
    if not outputs:
        return None  # ``SELECT FROM t``: DuckDB says what it means
    counting = any(o.kind == "count" for o in outputs)
    if counting and (len(outputs) != 1 or order):
        return None  # count(*) beside columns, or ordered by a column: DuckDB refuses it
    if any(o.kind == "star" for o in outputs) and len(outputs) != 1:
        return None
    columns = None
    if not any(o.kind == "star" for o in outputs):
        read = [o.source for o in outputs] + [c.column for c in conjuncts] + [c for c, _ in order]
        columns = frozenset(read) - {""}
    return _Plan(slot, outputs, conjuncts, order, limit, offset, columns)


def _inner_slots_in_subqueries(tree: exp.Expr, table: exp.Table, parts: list[exp.Expr]) -> bool:
    """Whether every table reference but the FROM's is inside a scalar subquery that a
    WHERE conjunct compares a column with (the subqueries ``_Values`` runs on their own)."""
    operands = {id(p) for part in parts for p in part.iter_expressions()}
    for hole in tree.find_all(TableHole):
        if hole.parent is table:
            continue
        node = hole.parent
        while node is not None and not (isinstance(node, exp.Subquery) and id(node) in operands):
            node = node.parent
        if node is None:
            return False
    return True


def _column(node: exp.Expr, names: set[str]) -> str:
    if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
        raise _Fallback
    if node.table.lower() not in names or node.args.get("db") or node.args.get("catalog"):
        raise _Fallback
    return node.name.lower()


def _output(item: exp.Expr, names: set[str]) -> _Output:
    if isinstance(item, exp.Star):
        return _Output("star")
    node, alias = (item.this, item.alias) if isinstance(item, exp.Alias) else (item, None)
    if isinstance(node, exp.Count):
        if not isinstance(node.this, exp.Star) or node.args.get("distinct") or node.expressions:
            raise _Fallback
        return _Output("count", alias=alias)
    return _Output("column", _column(node, names), alias)


def _order(order: exp.Order | None, names: set[str]) -> tuple[tuple[str, bool], ...]:
    if order is None:
        return ()
    if any(v for k, v in order.args.items() if k != "expressions"):
        raise _Fallback
    keys = []
    for item in order.expressions:
        if not isinstance(item, exp.Ordered) or item.args.get("with_fill"):
            raise _Fallback
        keys.append((_column(item.this, names), bool(item.args.get("desc"))))
    return tuple(keys)


def _count_operand(node: exp.Expr | None) -> Operand | None:
    """The operand of ``LIMIT n`` / ``OFFSET n`` (a literal or a parameter)."""
    if node is None:
        return None
    if any(v for k, v in node.args.items() if k != "expression"):
        raise _Fallback
    value = node.args.get("expression")
    if isinstance(value, exp.Literal) and not value.is_string:
        return Operand("const", value.to_py())
    if isinstance(value, exp.Placeholder):
        found = operand(value)
        if found.kind in ("param", "named"):
            return found
    raise _Fallback


# --- running --------------------------------------------------------------------------


class _Values:
    """Operand values for one execution: constants, parameters, subqueries."""

    def __init__(
        self, ctx: ReadContext, params: Sequence[object] | Mapping[str, object], depth: int
    ) -> None:
        self.ctx, self.params, self.depth = ctx, params, depth

    def value(self, operand: Operand) -> object:
        kind, value = operand.kind, operand.value
        if kind == "const":
            return value
        if kind == "param" and not isinstance(self.params, Mapping):
            if value < len(self.params):
                return self.params[value]
        elif kind == "named" and isinstance(self.params, Mapping):
            if value in self.params:
                return self.params[value]
        elif kind == "query":
            return self._scalar(value)
        raise _Fallback  # a function call, an expression, a missing parameter

    def _scalar(self, query: exp.Expr) -> object:
        if self.depth >= MAX_SUBQUERY_DEPTH:
            raise _Fallback
        found = _subqueries.get(id(query))
        if found is None or found[0] is not query:
            found = (query, compile_query(query))
            _subqueries.put(id(query), found)
        plan = _plan_of(found[1])
        if plan is None:
            raise _Fallback
        result = _run(plan, self.ctx, (), self.depth + 1)
        if result.num_columns != 1 or result.num_rows > 1:
            raise _Fallback  # an error in DuckDB: let it say which
        return result.column(0)[0].as_py() if result.num_rows else None


def _run(
    plan: _Plan, ctx: ReadContext, params: Sequence[object] | Mapping[str, object], depth: int
) -> pa.Table:
    slot = plan.slot
    values = _Values(ctx, params, depth)
    args = None if slot.args is None else [values.value(a) for a in slot.args]
    if args is None and not _is_system_name(ctx, slot.name):
        raise _Fallback
    resolved = [(c.column, c.op, _known(values, c)) for c in plan.conjuncts]
    filters = {column: vals for column, op, vals in resolved if op in ("=", "IN")}
    data = system_relation(slot.name, args, ctx, filters=filters or None, columns=plan.columns)
    if data is None:
        raise _Fallback  # not a system relation: the general path says what is missing
    schema = data.schema
    fields = {f.name.lower(): f for f in schema}
    for column, _, vals in resolved:
        field = fields.get(column)
        if field is None or not all(fits(v, field.type) for v in vals):
            raise _Fallback  # an unknown column, or a value DuckDB would cast first
    for column, _ in plan.order:
        if column not in fields:
            raise _Fallback
    shown = schema if plan.columns is None else [fields.get(c) for c in plan.columns]
    if not all(f is not None and _as_duckdb_gives(f.type) for f in shown):
        raise _Fallback  # an unknown column, or one DuckDB hands over differently
    offset = _count(values, plan.offset) or 0
    limit = _count(values, plan.limit)
    batches = _filtered(data, resolved, fields)
    if plan.outputs[0].kind == "count":
        counted = sum(b.num_rows for b in batches)
        out = pa.table(
            {plan.outputs[0].alias or "count_star()": values_array([counted], pa.int64())}
        )
        return _window(out, offset, limit)
    wanted = None if plan.order or limit is None else offset + limit
    if wanted is None and isinstance(data, BatchStream):
        raise _Fallback  # DuckDB hands the rows over as they are fetched (invariant (3))
    rows = _gather(schema, batches, wanted)
    if plan.order:
        keys = [fields[c].name for c, _ in plan.order]
        if any(rows.column(k).null_count for k in keys):
            raise _Fallback  # NULLs sort by the dialect's rule: DuckDB applies it
        order = [
            (k, "descending" if d else "ascending")
            for k, (_, d) in zip(keys, plan.order, strict=True)
        ]
        rows = rows.take(pc.sort_indices(rows, sort_keys=order))
    rows = _window(rows, offset, limit)
    return _project(rows, plan.outputs, fields)


def _as_duckdb_gives(type_: pa.DataType) -> bool:
    """Whether DuckDB names a column of ``type_`` as describe.description_of does and
    hands over the Python values ``to_pylist`` gives (a zoned or non-microsecond
    timestamp, a time, a nested type: not)."""
    if pa.types.is_timestamp(type_):
        return type_.unit == "us" and type_.tz is None
    return (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_integer(type_)
        or pa.types.is_floating(type_)
        and not pa.types.is_float16(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_date32(type_)
        or pa.types.is_decimal128(type_)
        or pa.types.is_binary(type_)
        or pa.types.is_large_binary(type_)
    )


def _known(values: _Values, conjunct: Conjunct) -> list[object]:
    """The values ``conjunct`` compares with; none (it holds for no row) for a scalar
    subquery that gives NULL (no row), as ``col = NULL`` is never true."""
    found = [values.value(o) for o in conjunct.operands]
    if conjunct.op == "=" and conjunct.operands[0].kind == "query" and found[0] is None:
        return []
    if any(v is None for v in found):
        raise _Fallback  # a NULL parameter: DuckDB's three-valued logic decides
    return found


def _is_system_name(ctx: ReadContext, name: str) -> bool:
    """Whether ``name`` reaches a system relation: no temporary view, table or stored
    view of the working root takes it first (the order ``bind`` resolves names in)."""
    if name.lower() in ctx.temp_views:
        return False
    root = ctx.workspace.working
    return root.find(name) is None and view_text(ctx, root, name) is None


def _count(values: _Values, operand: Operand | None) -> int | None:
    """The value of a LIMIT or OFFSET (None without one)."""
    if operand is None:
        return None
    value = values.value(operand)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Fallback
    return value


def _filtered(
    data: pa.Table | BatchStream,
    resolved: Sequence[tuple[str, str, list[object]]],
    fields: Mapping[str, pa.Field],
) -> Iterator[pa.RecordBatch]:
    """The relation's batches, each cut to the rows every conjunct holds for."""
    source = data.reader() if isinstance(data, BatchStream) else data.to_batches()
    for batch in source:
        mask = None
        for column, op, vals in resolved:
            field = fields[column]
            holds = _holds(batch.column(field.name), op, vals, field.type)
            mask = holds if mask is None else pc.and_kleene(mask, holds)
        yield batch if mask is None else batch.filter(mask)


_COMPARE = {
    "=": pc.equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def _holds(array: pa.Array, op: str, vals: list[object], type_: pa.DataType) -> pa.Array:
    if not vals:  # compared with NULL
        return pa.nulls(len(array), pa.bool_())
    try:
        if op == "IN":
            return pc.is_in(array, value_set=values_array(vals, type_))
        scalars = [scalar(v, type_) for v in vals]
        if op == "BETWEEN":
            low, high = pc.greater_equal(array, scalars[0]), pc.less_equal(array, scalars[1])
            return pc.and_kleene(low, high)
        return _COMPARE[op](array, scalars[0])
    except (pa.ArrowException, OverflowError, TypeError) as error:
        raise _Fallback from error  # a value or comparison Arrow cannot make: DuckDB decides


def _gather(schema: pa.Schema, batches: Iterator[pa.RecordBatch], wanted: int | None) -> pa.Table:
    """The batches as one table; with ``wanted``, stop once that many rows are in."""
    kept, rows = [], 0
    for batch in batches:
        if wanted is not None and rows >= wanted:
            break
        kept.append(batch)
        rows += batch.num_rows
    return pa.Table.from_batches(kept, schema=schema)


def _window(rows: pa.Table, offset: int, limit: int | None) -> pa.Table:
    if offset == 0 and (limit is None or limit >= rows.num_rows):
        return rows
    return rows.slice(offset, limit)


def _project(
    rows: pa.Table, outputs: Sequence[_Output], fields: Mapping[str, pa.Field]
) -> pa.Table:
    if outputs[0].kind == "star":
        return rows
    arrays, names = [], []
    for output in outputs:
        field = fields.get(output.source)
        if field is None:
            raise _Fallback
        arrays.append(rows.column(field.name))
        names.append(output.alias or field.name)
    if len(set(names)) != len(names):
        raise _Fallback  # DuckDB renames repeated output names
    return pa.Table.from_arrays(arrays, names=names)
