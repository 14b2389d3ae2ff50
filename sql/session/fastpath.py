"""Fast paths, keyed by SQL text, for the two statements programs run in loops: a point
SELECT by primary key and a one-row UPDATE by primary key.

``SELECT <columns> FROM t WHERE <pk> = ?`` (reads.py's ``PointPlan``) and
``UPDATE t SET c = ?, ... WHERE <pk> = ?`` are answered from the table's tree, without
DuckDB and without compiling anything: after a text first ran the general way, the
session's ``FastStatements`` learns whether it has one of these shapes (``learn``);
later executions of the same text go straight to the table, resolved once per table
value and kept while the working root holds it (a table's address names its schema
and rows, so a changed table, schema or branch is resolved again), and the row is
found once.

    STATEMENT                              FAST PATH
    SELECT cols FROM t WHERE pk = ?        key encoded, the row from the transaction's
                                           pending edits or the table's PointReader
                                           (prepared once per table value), the tuple built
    UPDATE t SET c = ? WHERE pk = ?        the old row (as above), the new row checked
                                           as a one-row batch and kept in ``PendingEdits``
    the same UPDATE through executemany    every parameter set checked, the rows found
                                           with one ``find_rows`` and written with one
                                           ``apply`` (``PointUpdate.run_many``)

``PendingEdits`` is Dolt's edit accumulator (its ``MutableMap``): the rows fast UPDATEs
wrote in this transaction, by table and encoded key, applied to the table's tree in one
sorted batch (``Table.apply``, then ``put``) when anything else needs the working root:
the session settles them before every other statement, before ``commit()`` and when a
table holds ``PENDING_ROWS`` of them (``full``); ``rollback()`` drops them. So a
one-row UPDATE costs a lookup, not a rewrite of its leaf and the path above it; N of
them in a transaction cost one batch edit of the leaves they touch.

Invariants (cited as ``# invariant (n)``):

(1) A fast path returns what the general path would return, or None having changed
    nothing, and then the general path runs the statement (and words any error). So it
    takes only values of exactly their column's Python type (int, str, bytes; float or
    bool for those columns; None for NULL): whatever the dialect, the general path
    compares and casts them to the same values. Everything the general path treats
    specially (AS OF, ``$name`` parameters, temporary views, keyless tables, CHECK
    constraints, logical or time-zoned columns, ``dolt_*`` tables, read-only
    connections, a table or column that does not exist) takes the general path.
(2) A fast UPDATE writes in its last step (``PendingEdits.add``): whatever fails before
    it has changed nothing. It takes only rows the batch apply cannot refuse: values
    already built as the columns' Arrow types, no NULL in a NOT NULL column, no key
    change, and no table with secondary indexes (UNIQUE is checked against the tree).
(3) Pending edits are relative to the working root: while any are held, nothing but a
    fast path runs (the session settles them first), so the table each names is still
    the one in the working root, and a fast read of one of their keys answers the
    pending row, as the tree will once they are applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.cache import LruCache
from arbordb.engine.root import RootValue
from arbordb.engine.table import Column, Schema, Table, key_encoder

from ..parse.holes import param_index
from ..read import describe
from ..read.operands import NOT_CONSTANT, Operand, constant
from ..read.reads import PointPlan
from ..write.common import is_default, put
from .in_list import InListUpdate, recognize
from .results import RowsResult

__all__ = ["FastStatements", "PendingEdits", "Point", "PointSelect", "PointUpdate"]

SIZE = 512  # texts remembered, as the session's statement cache
# Rows of one table held by ``PendingEdits`` before they are applied: bounds the memory
# of a long transaction of one-row UPDATEs (a few hundred bytes a row) while one batch
# still serves thousands of them.
PENDING_ROWS = 4096

# Column types whose values the fast paths take, and the Python types of those values.
_KEY_TYPES = (
    (pa.types.is_integer, (int,)), (pa.types.is_string, (str,)), (pa.types.is_binary, (bytes,)),
)  # fmt: skip
_VALUE_TYPES = _KEY_TYPES + ((pa.types.is_float64, (float,)), (pa.types.is_boolean, (bool,)))
_SEQUENCES = (list, tuple)  # parameters a fast path takes (by position)


def _python_types(column: Column, table: tuple) -> tuple[type, ...] | None:
    if column.logical:
        return None
    return next((kinds for test, kinds in table if test(column.type)), None)


@dataclass(frozen=True)
class Point:
    """A resolved table: what both fast paths need of one table value."""

    address: bytes
    name: str  # the stored name
    table: Table
    encode: Callable[[Sequence[object]], bytes]  # key values -> key bytes
    key_python: list[tuple[type, ...]]
    key_operands: list[Operand]  # per primary-key column, in key order
    lookup: Callable[[bytes], tuple | None]  # key -> value row (engine/tree ``PointReader``)
    single: int | None  # the parameter index of a one-column key given by ``?``


def _resolve(root: RootValue, name: str, operands: dict[str, Operand], nodes) -> Point | None:
    found = root.find(name)
    if found is None:
        return None
    table = Table.load(nodes, root[found], found)
    schema = table.schema
    if schema.is_keyless:
        return None
    key = [k.lower() for k in schema.primary_key]
    if set(operands) != set(key):
        return None
    kinds = [_python_types(c, _KEY_TYPES) for c in schema.key_columns]
    if any(k is None for k in kinds):
        return None
    return Point(
        root[found],
        found,
        table,
        key_encoder(schema.key_types),
        [k for k in kinds if k is not None],
        [operands[k] for k in key],
        table.rows.point_reader().get,
        operands[key[0]].value if len(key) == 1 and operands[key[0]].kind == "param" else None,
    )


def _key(point: Point, params: Sequence[object]) -> tuple[list[object], bytes] | None:
    """The key values and their encoding, or None when a value is not of its type."""
    if point.single is not None:  # the common shape, without the loop
        value = params[point.single]
        if type(value) not in point.key_python[0]:
            return None
        values = [value]
    else:
        values = []
        for operand, kinds in zip(point.key_operands, point.key_python, strict=True):
            value = operand.value if operand.kind == "const" else params[operand.value]
            if type(value) not in kinds:
                return None
            values.append(value)
    try:
        return values, point.encode(values)
    except Exception:  # out of the column's range: the general path words it
        return None


_Prepared = TypeVar("_Prepared")


class _Cached(Generic[_Prepared]):
    """A table resolved for the working root it was found in and the node store of the
    transaction that found it (kept while both are: a table bound to an ended
    transaction's write buffer would write its edits where no commit flushes them)."""

    def __init__(self, name: str, operands: dict[str, Operand], count: int) -> None:
        self.name = name
        self.lowered = name.lower()
        self.operands = operands
        self.count = count
        self._root: RootValue | None = None
        self._nodes: object = None
        self._point: Point | None = None
        self._extra: _Prepared | None = None

    def point(self, session, params) -> Point | None:
        if not isinstance(params, _SEQUENCES) or len(params) != self.count:
            return None  # named parameters, or a wrong count the general path words
        root, nodes = session.workspace.working, session.workspace.nodes
        if root is not self._root or nodes is not self._nodes:
            found = root.find(self.name)
            old = self._point
            if (
                old is None
                or nodes is not self._nodes
                or found is None
                or found != old.name
                or root[found] != old.address
            ):
                self._point = _resolve(root, self.name, self.operands, nodes)
                self._extra = self.prepare(self._point) if self._point is not None else None
            self._root, self._nodes = root, nodes
        return self._point if self._extra is not None else None

    def prepare(self, point: Point) -> _Prepared | None:
        """What this statement needs of a newly resolved table; None: take the general path."""
        raise NotImplementedError

    def locate(self, session, params) -> tuple[Point, list[object], bytes] | None:
        """The resolved table, the key's values and their encoding; None: the general path."""
        point = self.point(session, params)
        key = _key(point, params) if point is not None else None
        return None if point is None or key is None else (point, *key)

    def prepared(self) -> _Prepared:
        """What ``prepare`` made of the table ``point`` answered (only called after it)."""
        assert self._extra is not None  # point() answers a table only when prepare did
        return self._extra


# (is-key, index) per output column, the output (name, type)s, their PEP 249 description
_Picks = tuple[list[tuple[bool, int]], list[tuple[str, pa.DataType]], list[tuple]]
# (value index, operand, accepted Python types) per SET column
_Sets = list[tuple[int, Operand, tuple[type, ...]]]


class PointSelect(_Cached[_Picks]):
    """``SELECT <columns> FROM t WHERE <pk> = ?``, answered by one tree lookup.

    ``run`` is the whole path of a cached execution: one identity check of the working
    root (``_Cached.point``), the key read from the parameters and encoded, the row from
    the table's prepared ``PointReader`` (or the pending edits), and the output tuple, built by
    concatenation when the statement selects every column in the table's order."""

    def __init__(self, plan: PointPlan, count: int) -> None:
        operands = {c.column: c.operands[0] for c in plan.slot.conjuncts}
        super().__init__(plan.slot.name, operands, count)
        self.columns = plan.columns
        self._whole = False  # the output is the key values, then the value row

    def prepare(self, point: Point) -> _Picks | None:
        schema = point.table.schema
        by_lower = {c.name.lower(): c for c in schema.columns}
        if self.columns is None:
            out = [(c.name, c) for c in schema.columns]
        elif any(source not in by_lower for _, source in self.columns):
            return None
        else:
            out = [(name, by_lower[source]) for name, source in self.columns]
        if any(c.logical or pa.types.is_timestamp(c.type) and c.type.tz for _, c in out):
            return None  # DuckDB's Python values for these differ from the engine's
        keys = [k.lower() for k in schema.primary_key]
        values = [c.name.lower() for c in schema.value_columns]
        picks = [
            (True, keys.index(c.name.lower()))
            if c.name.lower() in keys
            else (False, values.index(c.name.lower()))
            for _, c in out
        ]
        self._whole = picks == [(True, i) for i in range(len(keys))] + [
            (False, i) for i in range(len(values))
        ]
        columns = [(name, c.type) for name, c in out]
        return picks, columns, describe.description_of(columns)

    def run(self, session, params, edits: PendingEdits) -> RowsResult | None:
        """The statement's result, or None for the general path (invariant (1))."""
        if self.lowered in session.temp_views:
            return None
        ws = session.workspace
        point, extra = self._point, self._extra  # ``point`` inlined: it runs every time
        if (
            ws.working is not self._root
            or ws.nodes is not self._nodes
            or point is None
            or extra is None  # a table this statement cannot read fast (``prepare``)
        ):
            point = self.point(session, params)
            if point is None:
                return None
            extra = self._extra
        if not isinstance(params, _SEQUENCES) or len(params) != self.count:
            return None  # named parameters, or a wrong count the general path words
        key = _key(point, params)
        if key is None:
            return None
        values, encoded = key
        picks, columns, description = extra  # type: ignore[misc]  # set: point() answered
        try:
            row = edits.row(point, encoded) if edits.held else point.lookup(encoded)
        except Exception:  # a damaged chunk: the general path names it (invariant (3))
            return None
        if row is None:
            return RowsResult([], columns, description=description)
        if self._whole:
            return RowsResult([(*values, *row)], columns, description=description)
        out = tuple(values[i] if is_key else row[i] for is_key, i in picks)
        return RowsResult([out], columns, description=description)


class PointUpdate(_Cached[_Sets]):
    """``UPDATE t SET c = ?, ... WHERE <pk> = ?``: one tree lookup, one one-row apply."""

    def __init__(
        self, name: str, keys: dict[str, Operand], sets: dict[str, Operand], count: int
    ) -> None:
        super().__init__(name, keys, count)
        self.sets = sets

    def prepare(self, point: Point) -> _Sets | None:
        schema = point.table.schema
        by_lower = {c.name.lower(): c for c in schema.columns}
        if schema.checks or any(name not in by_lower for name in self.sets):
            return None  # CHECK constraints are DuckDB's to evaluate
        keys = {k.lower() for k in schema.primary_key}
        if keys & set(self.sets):
            return None  # a key change: the general path
        values = [c.name.lower() for c in schema.value_columns]
        sets: _Sets = []
        for name, operand in self.sets.items():
            kinds = _python_types(by_lower[name], _VALUE_TYPES)
            if kinds is None:
                return None
            sets.append((values.index(name), operand, kinds))
        return sets

    def run(self, session, params, edits: PendingEdits) -> int | None:
        """Rows changed (0 or 1), or None for the general path (invariant (1))."""
        if session.read_only:
            return None
        found = self.locate(session, params)
        if found is None:
            return None
        point, values, encoded = found
        new: list[object] = []
        for _, operand, kinds in self.prepared():
            value = operand.value if operand.kind == "const" else params[operand.value]
            if value is not None and type(value) not in kinds:
                return None
            new.append(value)
        schema = point.table.schema
        try:
            old = edits.row(point, encoded)  # invariant (3)
            if old is None:
                return 0
            row = list(old)
            for (at, _, _), value in zip(self.prepared(), new, strict=True):
                row[at] = value
            if any(
                v is None and not c.nullable for v, c in zip(row, schema.value_columns, strict=True)
            ):
                return None  # a NOT NULL violation: the general path words it
            after = _one_row(schema, values, row)  # or a value out of its column's range
            if schema.indexes:  # UNIQUE is checked against the trees: apply it now
                edits.settle(session)  # (no edit of this table is pending: all were applied)
                put(session, point.name, point.table.apply(after, None, replace=True))
                return 1
        except Exception:  # nothing was written: the general path words it (invariant (2))
            return None
        edits.add(session, point, encoded, values, row)
        return 1

    def run_many(self, session, given: Sequence[object]) -> int | None:
        """``executemany`` of this statement as one batch: rows changed (the sum over
        the parameter sets), or None for the general path, having changed nothing.

        Equal to running the statements one by one: each sets fixed values on the row
        its key names and no key changes, so a key named twice keeps its last values,
        and a statement counts one row when its key exists. Every parameter set is
        checked before anything is read (invariant (1)); the rows are found with one
        ``find_rows`` and written with one ``apply``. The session settled pending
        edits before (``_atomic``); a table with secondary indexes takes the general
        path (a UNIQUE check between two statements of the batch is order-dependent).
        """
        if session.read_only or not given:
            return None
        rows = [p for p in given if isinstance(p, _SEQUENCES) and len(p) == self.count]
        if len(rows) != len(given):
            return None  # named parameters, or a wrong count the general path words
        point = self.point(session, rows[0])
        if point is None or point.table.schema.indexes:
            return None
        schema = point.table.schema
        sets = self.prepared()
        nullable = [schema.value_columns[at].nullable for at, _, _ in sets]
        last: dict[bytes, int] = {}  # encoded key -> the last parameter set naming it
        keys: list[list[object]] = []
        named: list[bytes] = []  # each parameter set's encoded key
        for i, params in enumerate(rows):
            key = _key(point, params)
            if key is None:
                return None
            for (_, operand, kinds), may_be_null in zip(sets, nullable, strict=True):
                value = operand.value if operand.kind == "const" else params[operand.value]
                if value is None:
                    if not may_be_null:
                        return None  # a NULL in a NOT NULL column: the general path words it
                elif type(value) not in kinds:
                    return None
            keys.append(key[0])
            named.append(key[1])
            last[key[1]] = i
        ordered = sorted(last)  # key order (the encoding sorts as the keys): the lookup
        chosen = [last[e] for e in ordered]  # and the apply then take sorted keys
        try:
            wanted = pa.Table.from_arrays(
                [
                    values_array([keys[i][k] for i in chosen], column.type)
                    for k, column in enumerate(schema.key_columns)
                ],
                names=[c.name for c in schema.key_columns],
            )
            found, after = point.table.find_rows(wanted)
            hit = [i for i, f in zip(chosen, found.tolist(), strict=True) if f]
            for at, operand, _ in sets:
                column = schema.value_columns[at]
                given = [
                    operand.value if operand.kind == "const" else rows[i][operand.value]
                    for i in hit
                ]
                after = after.set_column(
                    after.schema.get_field_index(column.name),
                    column.name,
                    values_array(given, column.type),
                )
        except Exception:  # a value out of its column's range: the general path words it
            return None
        exists = {e for e, f in zip(ordered, found.tolist(), strict=True) if f}
        if hit:  # the last step (invariant (2))
            put(session, point.name, point.table.apply(after, None, replace=True))
        return sum(1 for e in named if e in exists)


def _one_row(schema: Schema, key: list[object], values: list[object]) -> pa.Table:
    return _rows(schema, [key], [values])


def _rows(schema: Schema, keys: Sequence[list[object]], values: Sequence[list]) -> pa.Table:
    """Rows given as key values and value-column values, as a table of ``schema``'s
    columns and types."""
    by_key = zip(zip(*keys, strict=True), schema.key_columns, strict=True)
    by_value = zip(zip(*values, strict=True), schema.value_columns, strict=True)
    arrays = [values_array(c, column.type) for c, column in by_key]
    arrays += [values_array(c, column.type) for c, column in by_value]
    names = [*(c.name for c in schema.key_columns), *(c.name for c in schema.value_columns)]
    return pa.Table.from_arrays(arrays, names=names).select(schema.column_names)


class PendingEdits:
    """The rows fast UPDATEs wrote in the open transaction, not yet applied to their
    tables' trees (module docstring; invariants (2), (3))."""

    def __init__(self) -> None:
        # stored table name -> (the table as resolved, {encoded key: (key values, row)})
        self._tables: dict[str, tuple[Point, dict[bytes, tuple[list, list]]]] = {}
        self.held = self._tables  # the same dict, tested without a call: falsy when empty

    def __bool__(self) -> bool:
        return bool(self._tables)

    def row(self, point: Point, encoded: bytes) -> tuple | list | None:
        """The value row under ``encoded`` in ``point``'s table, pending edits first."""
        held = self._tables.get(point.name)
        if held is not None:
            assert held[0].address == point.address  # invariant (3)
            pending = held[1].get(encoded)
            if pending is not None:
                return pending[1]
        return point.lookup(encoded)

    @property
    def full(self) -> bool:
        """Whether a table holds ``PENDING_ROWS`` rows (the session then settles them)."""
        return any(len(rows) >= PENDING_ROWS for _, rows in self._tables.values())

    def add(self, session, point: Point, encoded: bytes, key: list, row: list) -> None:
        """Hold ``row`` as the new row under ``encoded``; the transaction now writes."""
        session.wrote()
        self._tables.setdefault(point.name, (point, {}))[1][encoded] = (key, row)

    def settle(self, session) -> None:
        """Apply every pending row to its table in one batch per table and put the new
        tables in the working root."""
        for name, (point, rows) in list(self._tables.items()):
            held = list(rows.values())
            after = _rows(point.table.schema, [k for k, _ in held], [r for _, r in held])
            put(session, name, point.table.apply(after, None, replace=True))
            del self._tables[name]

    def discard(self) -> None:
        """Forget every pending row (the transaction is rolled back)."""
        self._tables.clear()


# --- learning the shapes ---------------------------------------------------------------


def _operand(node: exp.Expr) -> Operand | None:
    """A ``?`` parameter or a literal; None for anything else."""
    index = param_index(node) if isinstance(node, exp.Placeholder) else None
    if index is not None:
        return Operand("param", index)
    if isinstance(node, exp.Placeholder) or is_default(node):
        return None
    value = constant(node)
    return None if value is NOT_CONSTANT else Operand("const", value)


def _update_of(tree: exp.Update, count: int) -> PointUpdate | None:
    target = tree.this
    if (
        not isinstance(target, exp.Table)
        or not isinstance(target.this, exp.Identifier)
        or target.args.get("version") is not None
        or target.args.get("db")
        or target.name.lower().startswith("dolt_")
        or any(tree.args.get(a) for a in ("from_", "joins", "order", "limit", "returning", "with"))
        or tree.args.get("where") is None
    ):
        return None
    names = {target.name.lower(), target.alias_or_name.lower()}
    where = tree.args["where"].this
    keys: dict[str, Operand] = {}
    for term in where.flatten() if isinstance(where, exp.And) else [where]:
        if not isinstance(term, exp.EQ):
            return None
        column, value = term.this, term.expression
        if not isinstance(column, exp.Column):
            column, value = value, column
        if not _is_column(column, names) or column.name.lower() in keys:
            return None
        found = _operand(value)
        if found is None:
            return None
        keys[column.name.lower()] = found
    sets: dict[str, Operand] = {}
    for assignment in tree.expressions:
        if not isinstance(assignment, exp.EQ) or not _is_column(assignment.this, names):
            return None
        name = assignment.this.name.lower()
        found = _operand(assignment.expression)
        if found is None or name in sets:
            return None
        sets[name] = found
    return PointUpdate(target.name, keys, sets, count) if sets else None


def _plain(plan: PointPlan) -> bool:
    """No AS OF, every key compared with a ``?`` or a literal."""
    kinds = {c.operands[0].kind for c in plan.slot.conjuncts}
    return plan.slot.version is None and kinds <= {"param", "const"}


def _is_column(node: exp.Expr, tables: set[str]) -> bool:
    return (
        isinstance(node, exp.Column)
        and isinstance(node.this, exp.Identifier)
        and (not node.table or node.table.lower() in tables)
        and not node.args.get("db")
    )


class FastStatements:
    """The fast plan of each SQL text seen (None: the text has none), least recently used
    dropped first."""

    def __init__(self, size: int = SIZE) -> None:
        self._plans: LruCache[str, PointSelect | PointUpdate | None] = LruCache(size)
        self.edits = PendingEdits()  # the open transaction's fast UPDATEs
        # the text and plan of the last ``get`` that found one: a loop of one statement
        # finds it by identity of its text, without the cache's lock
        self._last: tuple[str, PointSelect | PointUpdate] | None = None

    def get(self, sql: str) -> PointSelect | PointUpdate | InListUpdate | None:
        last = self._last
        if last is not None and last[0] is sql:
            return last[1]
        plan = self._plans.get(sql)
        self._last = (sql, plan) if plan is not None else None
        return plan if plan is not None else recognize(sql)  # in_list.py: UPDATE ... IN

    def learn(self, sql: str, statements: Sequence, count: int) -> PointSelect | PointUpdate | None:
        """Remember whether ``sql`` (parsed into ``statements``) has a fast plan, and return
        it. A SELECT is learned once it ran the general way (its template is compiled then)."""
        if sql in self._plans:
            return self._plans.peek(sql)
        plan: PointSelect | PointUpdate | None = None
        if len(statements) == 1 and not statements[0].deep:
            statement = statements[0]
            if isinstance(statement.tree, exp.Select):
                if statement.template is None:
                    return None  # not compiled yet: learned after its first run
                point = statement.template.point
                if point is not None and _plain(point):
                    plan = PointSelect(point, count)
            elif isinstance(statement.tree, exp.Update):
                plan = _update_of(statement.tree, count)
        self._plans.put(sql, plan)
        return self._plans.get(sql)  # None when the cache holds nothing (size 0)

    def forget(self) -> None:
        """Drop every plan (the session's statements are parsed again)."""
        self._plans.clear()
        self._last = None
