"""Reads: every table reference of a query becomes a relation that DuckDB scans.

A query runs in two steps. ``compile_query`` turns a parsed tree into a
``Template`` once per SQL text (the session caches it); ``bind`` turns the template
into DuckDB SQL for one execution, resolving each reference against the session's
current state and parameters. The template is a DuckDB syntax tree whose table
references (``Slot``), version-control function calls and parameters are holes
(sql/parse/holes.py) that ``bind`` fills by generating the tree: text is never rewritten.

A table reference resolves, in this order, to: a temporary view of the session; a
table of the root its ``AS OF`` names (the working root without one); a view stored
in that root's ``dolt_schemas``; a system relation (``dolt_*`` names, built by
``sql/system/registry.py``); Arrow data (a DataFrame) of the caller's Python scope
(``sql/read/python_scope.py``). A table becomes a stream of record batches that DuckDB
reads lazily (sql/read/relations.py; docs/architecture.md): only the columns the query
names (``Template.columns``), only the key range or rows its primary-key conjuncts
select (sql/read/pushdown.py). The simplest shape, ``SELECT cols FROM t WHERE pk = ?``
(every key column compared by equality), skips DuckDB altogether (``point_select``).

Invariants (cited as ``# invariant (n)``):

(1) ``bind`` never changes the session's state: it reads roots and registers relations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import duckdb
import pyarrow as pa
from sqlglot import exp

from arbordb.engine.cache import LruCache
from arbordb.engine.db import Database
from arbordb.engine.errors import InvalidInput, RevisionNotFound, TableNotFound
from arbordb.engine.history import parse_time
from arbordb.engine.root import RootValue
from arbordb.engine.table import Table
from arbordb.engine.workspace import Workspace

from ..errors import NotSupportedError, ObjectNotFound, ProgrammingError
from ..parse.dialect import ProcedureCall, parse, quote_identifier
from ..parse.holes import FunctionHole, TableHole, fill, param_index
from ..system.registry import SCALAR_FUNCTION_NAMES, scalar_function, system_relation
from .operands import Operand, operand, spell_param
from .pushdown import Conjunct, KeyRange, Terms, conjuncts_of, fits, is_plain, key_rows
from .python_scope import PythonScope
from .relations import Relations, table_arrow

__all__ = [
    "Bound",
    "ReadContext",
    "Template",
    "bind",
    "compile_query",
    "point_select",
    "view_template",
    "views",
]

MAX_VIEW_DEPTH = 16  # views inside views, deeper is taken for a cycle
SCHEMAS_TABLE = "dolt_schemas"  # Dolt's table of views (type, name, fragment, extra, sql_mode)

FILLED_CACHE = 8  # generated texts kept per template, by what filled its holes


class ReadContext(Protocol):
    """What reads need from a session."""

    db: Database
    workspace: Workspace
    dialect: str
    duck: duckdb.DuckDBPyConnection
    relations: Relations
    temp_views: dict[str, str]
    python_scope: PythonScope | None  # the caller's variables (sql/read/python_scope.py)

    @property
    def branch(self) -> str: ...

    def evaluate(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> object: ...


# --- templates --------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One table reference: a name (with AS OF) or a ``dolt_*`` table function call."""

    name: str
    version: Operand | None = None
    version_is_time: bool = False
    args: tuple[Operand, ...] | None = None
    conjuncts: tuple[Conjunct, ...] = ()
    subquery_filters: tuple[Conjunct, ...] = ()  # ``column = (SELECT ...)``, for system relations


@dataclass(frozen=True)
class PointPlan:
    """``SELECT <columns> FROM t WHERE k1 = v1 AND ...``: answered by ``Table.get``.
    ``columns`` are (output name, source column lower-cased), None for ``*``."""

    slot: Slot
    columns: tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class Template:
    """A compiled query: the tree with holes, what fills them, the point-lookup plan.

    ``owned``: the tree is filled once only (a write built it), so it is not copied.
    ``columns``: the lower-cased names the query's column references use (a superset
    of what each table must give), or None when it may use every column (``*``,
    ``t.*``, ``NATURAL JOIN``, a table named as a value, ...)."""

    tree: exp.Expr
    slots: tuple[Slot, ...]
    functions: tuple[tuple[str, tuple[Operand, ...]], ...]
    point: PointPlan | None = None
    owned: bool = False
    columns: frozenset[str] | None = None
    filled: dict = field(default_factory=dict, compare=False, repr=False)

    def fill(self, relations: Sequence[str], values: Sequence[object]):
        """The tree's SQL for these relations and function values (cached: a statement
        run again on unchanged tables is not generated again)."""
        try:
            key = (tuple(relations), tuple(values))
            hash(key)
        except TypeError:  # a function value that is not hashable
            return fill(self.tree, relations, values, owned=self.owned)
        found = self.filled.get(key)
        if found is None:
            found = fill(self.tree, relations, values, owned=self.owned)
            if len(self.filled) >= FILLED_CACHE:
                self.filled.clear()  # atomic: views' templates are shared by threads
            self.filled[key] = found
        return found


@dataclass
class Bound:
    """DuckDB SQL for one execution, with the parameters DuckDB still needs."""

    sql: str
    params: list[object] | dict[str, object]
    names: dict[str, str] = field(default_factory=dict)


def compile_query(tree: exp.Expr, *, copy: bool = True, once: bool = False) -> Template:
    """The template of a query (SELECT, set operation, VALUES, ... see module docstring).

    Args:
        tree: the parsed query.
        copy: work on a copy (False rewrites ``tree`` itself, which is cheaper for a
            tree parsed only to be compiled; it is left half-rewritten on error).
        once: the template will be bound once only, so binding need not copy it.
    """
    if copy:
        tree = tree.copy()
    columns = _columns_used(tree)
    ctes: set[str] = set()
    calls: list[exp.Anonymous] = []
    tables: list[exp.Table] = []
    placeholders: list[exp.Placeholder] = []
    empty_lists: list[exp.In] = []
    for node in tree.walk(bfs=False):  # one walk collects everything below
        if isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.Anonymous):
            if node.name.lower() in SCALAR_FUNCTION_NAMES:
                calls.append(node)
        elif isinstance(node, exp.Placeholder):
            placeholders.append(node)
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
        elif isinstance(node, exp.In) and _empty_list(node):
            empty_lists.append(node)
    for node in empty_lists:
        node.replace(exp.false())  # SQLite's rule: x IN () is false, even for NULL x
    functions = []
    for call in calls:
        functions.append((call.name.lower(), tuple(operand(a) for a in call.expressions)))
        hole: exp.Expr = FunctionHole(this=len(functions) - 1)
        if isinstance(call.parent, exp.Select) and call.arg_key == "expressions":
            hole = exp.alias_(hole, _as_written(call), quoted=True)
        call.replace(hole)
    slots: list[Slot] = []
    sources: set[str] = set()
    terms: Terms = {}
    for table in tables:
        slot = _slot(table, ctes, terms)
        if slot is None:
            continue
        alias = table.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(slot.name))
        table.set("this", TableHole(this=len(slots)))
        for arg in ("db", "catalog", "version"):
            table.set(arg, None)
        table.set("alias", alias)
        sources.update((slot.name.lower(), alias.name.lower()))
        slots.append(slot)
    point = _point_plan(tree, slots[0]) if len(slots) == 1 and not functions else None
    for node in placeholders:
        spell_param(node)
    if columns is not None and not columns.isdisjoint(sources):
        columns = None  # a table or alias named as a value: DuckDB gives its whole row
    return Template(tree, tuple(slots), tuple(functions), point, owned=once, columns=columns)


def _columns_used(tree: exp.Expr) -> frozenset[str] | None:
    """Every name a column reference of ``tree`` uses, lower-cased; None when the
    query may read every column of a table (see ``Template``). Table and alias names
    used as values are caught by ``_names_table`` once the slots are known."""
    used: set[str] = set()
    for node in tree.walk(bfs=False):
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                return None
            used.add(node.name.lower())
        elif isinstance(node, exp.Star):
            if not isinstance(node.parent, exp.Count | exp.Column):
                return None
        elif isinstance(node, exp.Join):
            if (node.method or "").upper() == "NATURAL":
                return None
            used.update(i.name.lower() for i in node.args.get("using") or [])
        elif isinstance(node, exp.Pivot | exp.Unnest | exp.Lambda):
            return None
        elif isinstance(node, exp.Anonymous | exp.Func) and node.name.lower() == "columns":
            return None
    return frozenset(used)


def _as_written(call: exp.Anonymous) -> str:
    """The call's text as the user wrote it (``?`` for parameters), to name its column
    as MySQL and Dolt do (``active_branch()``), not after its value."""
    args = [
        a.transform(lambda n: exp.Placeholder() if param_index(n) is not None else n)
        for a in call.expressions
    ]
    return f"{call.name}({', '.join(a.sql('duckdb') for a in args)})"


def _empty_list(node: exp.In) -> bool:
    return not node.expressions and not any(node.args.get(a) for a in ("query", "unnest", "field"))


def _slot(table: exp.Table, ctes: set[str], terms: dict) -> Slot | None:
    """The slot of one table reference, or None when DuckDB reads it as it is (a CTE,
    a DuckDB table function, a relation the session registered)."""
    version_node = table.args.get("version")
    version = version_node.expression if version_node is not None else None
    if isinstance(table.this, exp.Func):
        name = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.key
        if not name.lower().startswith("dolt_"):
            return None  # a DuckDB table function (range, read_parquet, ...)
        if version is not None:
            raise NotSupportedError(f"table function {name}() cannot take AS OF")
        return Slot(name, args=tuple(operand(a) for a in table.this.expressions))
    if isinstance(table.parent, ProcedureCall):
        return None
    name = table.name
    if version is None and not table.args.get("db") and name.lower() in ctes:
        return None
    if name.startswith("__arbor_"):
        return None  # a relation the session registered itself (writes use them)
    is_time = version_node is not None and version is not None and version_node.name == "TIMESTAMP"
    if isinstance(version, exp.Column) and not version.table:
        revision: Operand | None = Operand("const", version.name)  # AS OF main, as Dolt reads it
    else:
        revision = operand(version) if version is not None else None
    found = conjuncts_of(table, terms)
    plain = tuple(c for c in found if is_plain(c))
    return Slot(
        name,
        revision,
        is_time,
        conjuncts=plain,
        subquery_filters=tuple(c for c in found if not is_plain(c)),
    )


def _point_plan(tree: exp.Expr, slot: Slot) -> PointPlan | None:
    """The plan for the point-lookup shape, or None (see module docstring)."""
    if not isinstance(tree, exp.Select) or slot.args is not None:
        return None
    if slot.version is not None and slot.version.kind != "const":
        return None
    used = {k for k, v in tree.args.items() if v not in (None, [], False)}
    if used - {"expressions", "from_", "where"} or not {"from_", "where"} <= used:
        return None
    table = tree.args["from_"].this
    if not isinstance(table, exp.Table) or any(
        table.args.get(a) for a in ("joins", "laterals", "pivots", "sample")
    ):
        return None
    alias = table.args.get("alias")
    if alias is not None and alias.columns:
        return None
    if not all(c.op == "=" for c in slot.conjuncts) or not slot.conjuncts:
        return None
    where = tree.args["where"].this
    parts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    if len(parts) != len(slot.conjuncts):
        return None  # some conjunct is not a pushed equality
    names = {slot.name.lower(), table.alias_or_name.lower()}
    columns: list[tuple[str, str]] = []
    for item in tree.expressions:
        if isinstance(item, exp.Star) and len(tree.expressions) == 1:
            return PointPlan(slot, None)
        node, out = (item.this, item.alias) if isinstance(item, exp.Alias) else (item, None)
        if not isinstance(node, exp.Column) or (node.table and node.table.lower() not in names):
            return None
        if isinstance(node.this, exp.Star):
            return None
        columns.append((out or node.name, node.name.lower()))
    return PointPlan(slot, tuple(columns))


# --- binding ---------------------------------------------------------------------


def bind(
    template: Template,
    ctx: ReadContext,
    params: Sequence[object] | Mapping[str, object],
    root: RootValue | None = None,
    depth: int = 0,
) -> Bound:
    """DuckDB SQL and parameters for one execution of ``template`` (invariant (1)).

    Args:
        template: from :func:`compile_query`.
        ctx: the session.
        params: positional (a sequence, one per ``?``) or named (a mapping).
        root: the root that references without AS OF read (default: the working root).
        depth: how many views deep this query is (cycle guard).

    Raises:
        ObjectNotFound: a table, view, revision or branch that does not exist.
        ProgrammingError: a wrong argument or parameter.
    """
    resolver = _Resolver(ctx, params, root)
    values = resolver.functions(template.functions)
    relations = [resolver.relation(slot, depth, template.columns) for slot in template.slots]
    filled = template.fill(relations, values)
    if isinstance(params, Mapping):
        for index in filled.positional:
            resolver.param(index)  # refuses ? with named parameters
        named = {k: v for k, v in params.items() if k in filled.named}
        return Bound(filled.sql, named, ctx.relations.names)
    positional = [resolver.param(i) for i in filled.positional]
    return Bound(filled.sql, positional, ctx.relations.names)


class _Resolver:
    """Per-execution resolution of revisions, tables and relations."""

    def __init__(
        self,
        ctx: ReadContext,
        params: Sequence[object] | Mapping[str, object],
        root: RootValue | None,
    ) -> None:
        self.ctx = ctx
        self.params = params
        self.default_root = root
        self._roots: dict[tuple[object, bool], tuple[RootValue, str]] = {}
        self._functions: list[object] = []

    def functions(self, calls: Sequence[tuple[str, tuple[Operand, ...]]]) -> list[object]:
        """The values of the template's version-control function calls, in order."""
        for name, args in calls:
            self._functions.append(scalar_function(name, self.values(args), self.ctx))
        return self._functions

    def param(self, index: int) -> object:
        if isinstance(self.params, Mapping):
            raise ProgrammingError(
                "the statement uses ? placeholders but the parameters are a mapping; "
                "pass a sequence, or write $name placeholders"
            )
        if index >= len(self.params):
            raise ProgrammingError(
                f"the statement needs parameter {index + 1} but only {len(self.params)} were given"
            )
        return self.params[index]

    def value(self, operand: Operand) -> object:
        if operand.kind == "const":
            return operand.value
        if operand.kind == "param":
            return self.param(operand.value)
        if operand.kind == "fn":
            return self._functions[operand.value]
        if operand.kind == "named":
            if not isinstance(self.params, Mapping) or operand.value not in self.params:
                raise ProgrammingError(f"no value was given for parameter ${operand.value}")
            return self.params[operand.value]
        filled = fill(operand.value, values=self._functions)  # a DuckDB expression
        if isinstance(self.params, Mapping):
            return self.ctx.evaluate(filled.sql, self.params)
        return self.ctx.evaluate(filled.sql, [self.param(i) for i in filled.positional])

    def values(self, operands: Sequence[Operand]) -> list[object]:
        return [self.value(o) for o in operands]

    # --- roots and tables -------------------------------------------------------

    def root(self, slot: Slot) -> tuple[RootValue, str]:
        """The root a reference reads and a label for messages."""
        if slot.version is None:
            if self.default_root is not None:
                return self.default_root, "the view's revision"
            return self.ctx.workspace.working, f"branch {self.ctx.branch!r}"
        value = self.value(slot.version)
        if not isinstance(value, str | datetime | date):
            raise ProgrammingError(
                f"AS OF needs a revision (a branch, tag or commit hash) or a time, got {value!r}"
            )
        key = (value, slot.version_is_time)
        if key not in self._roots:
            self._roots[key] = self._resolve_root(value, slot.version_is_time)
        return self._roots[key]

    def _resolve_root(self, value: object, is_time: bool) -> tuple[RootValue, str]:
        ws = self.ctx.workspace
        if isinstance(value, datetime | date) or is_time:
            moment = parse_time(value)
            if moment is None:
                raise ProgrammingError(f"AS OF TIMESTAMP needs a time, got {value!r}")
            return ws.root_at(moment, times=True), f"time {value!s}"
        if not isinstance(value, str) or not value:
            raise ProgrammingError(
                f"AS OF needs a revision (a branch, tag or commit hash) or a time, got {value!r}"
            )
        try:
            return ws.root_at(value), f"revision {value!r}"
        except RevisionNotFound:
            if parse_time(value) is None:
                raise
            return ws.root_at(value, times=True), f"time {value}"

    def relation(self, slot: Slot, depth: int, columns: frozenset[str] | None = None) -> str:
        """The SQL DuckDB reads for ``slot``: an internal name or ``(subquery)``.
        ``columns``: the names the query uses (``Template.columns``)."""
        ctx = self.ctx
        if slot.args is not None:
            return self._system(slot.name, self.values(slot.args), f"{slot.name}(...)")
        lowered = slot.name.lower()
        if slot.version is None and self.default_root is None and lowered in ctx.temp_views:
            return self._view(ctx.temp_views[lowered], None, depth)
        root, where = self.root(slot)
        found = root.find(slot.name)
        if found is not None:
            table = Table.load(ctx.workspace.nodes, root[found], found)
            label = slot.name if slot.version is None else f"{slot.name} AS OF {where}"
            return self._table_relation(table, slot, label, columns)
        view = view_text(ctx, root, slot.name)
        if view is not None:
            return self._view(view, root if slot.version is not None else self.default_root, depth)
        if lowered.startswith("dolt_"):
            if slot.version is not None:
                raise NotSupportedError(f"system table {slot.name} cannot be read AS OF a revision")
            return self._system(slot.name, None, slot.name, slot)
        if slot.version is None and ctx.python_scope is not None:
            data = ctx.python_scope.lookup(slot.name)  # a DataFrame of the caller's scope
            if data is not None:
                return ctx.relations.scratch(data, slot.name)
        raise TableNotFound(root.missing_message(slot.name, f" at {where}"))

    def _system(
        self, name: str, args: list[object] | None, label: str, slot: Slot | None = None
    ) -> str:
        filters = None
        if slot is not None and (slot.conjuncts or slot.subquery_filters):
            filters = {
                c.column: self.values(c.operands) for c in slot.conjuncts if c.op in ("=", "IN")
            }
            for c in slot.subquery_filters:
                value = self._subquery_value(c.operands[0].value)
                if value is not None and c.column not in filters:
                    filters[c.column] = [value]
        data = system_relation(name, args, self.ctx, filters=filters)
        if data is None:
            kind = "table function" if args is not None else "table"
            raise ObjectNotFound(f"{kind} {name!r} not found (no such table, view or system table)")
        return self.ctx.relations.scratch(data, label)

    def _subquery_value(self, query: exp.Query) -> object:
        """The value of an uncorrelated scalar subquery run on its own, for a system
        relation's filters; None (no filter: the statement's WHERE still decides) when
        it cannot run alone (it names an outer column) or gives NULL."""
        failures = len(self.ctx.relations.failures)
        try:
            bound = bind(compile_query(query), self.ctx, [], self.default_root)
            return self.ctx.evaluate(f"({bound.sql})", bound.params)
        except Exception:  # noqa: BLE001 - a filter is an optimisation, never required
            del self.ctx.relations.failures[failures:]  # not the statement's failure
            return None

    def _view(self, text: str, root: RootValue | None, depth: int) -> str:
        if depth >= MAX_VIEW_DEPTH:
            raise ProgrammingError(f"views nest more than {MAX_VIEW_DEPTH} deep (a view cycle?)")
        template = view_template(text)
        inner = bind(template, self.ctx, [], root, depth + 1)
        return f"({inner.sql})"

    def _table_relation(
        self, table: Table, slot: Slot, label: str, used: frozenset[str] | None
    ) -> str:
        """A streamed relation of the columns the query uses (relations.py), cut to the
        rows its key conjuncts allow; logical columns cast to their SQL type."""
        relations = self.ctx.relations
        schema = table.schema
        picked = [c for c in schema.columns if used is None or c.name.lower() in used]
        if not picked:  # count(*) and the like: one narrow column carries the row count
            picked = [schema.key_columns[0] if schema.key_columns else schema.columns[0]]
        names = [c.name for c in picked]
        subset = key_rows(table, slot.conjuncts, self.values) if slot.conjuncts else None
        if isinstance(subset, pa.Table):
            name = relations.scratch(subset.select(names), label)
        else:
            bounds = subset.bounds() if isinstance(subset, KeyRange) else None
            try:
                name = relations.stream(table, label, names, bounds)
            except (InvalidInput, TypeError, OverflowError):  # the key cannot encode a bound
                name = relations.stream(table, label, names)  # DuckDB compares (pushdown (1))
        if not any(c.logical for c in picked):
            return name
        items = [
            f"CAST({quote_identifier(c.name)} AS {c.logical.upper()}) AS {quote_identifier(c.name)}"
            if c.logical
            else quote_identifier(c.name)
            for c in picked
        ]
        return f"(SELECT {', '.join(items)} FROM {name})"


# --- views -------------------------------------------------------------------------


_view_templates: LruCache[str, Template] = LruCache(256)  # by definition text


def view_template(text: str) -> Template:
    """The template of a stored view definition (DuckDB SQL ``CREATE VIEW v AS q``)."""
    return _view_templates.get_or_make(text, _view_template)


def _view_template(text: str) -> Template:
    (statement,) = parse(text, "duckdb")
    query = statement.expression
    if isinstance(statement.this, exp.Schema) and statement.this.expressions:
        names = [exp.to_identifier(c.name) for c in statement.this.expressions]
        alias = exp.TableAlias(this=exp.to_identifier("__arbor_view"), columns=names)
        query = exp.select("*").from_(exp.Subquery(this=query, alias=alias))
    return compile_query(query, copy=False)


def views(ctx: ReadContext, root: RootValue) -> dict[str, str]:
    """The views a root stores: lower-cased name -> definition."""
    found = root.find(SCHEMAS_TABLE)
    if found is None:
        return {}
    data = table_arrow(Table.load(ctx.workspace.nodes, root[found], found))
    kinds = data.column("type").to_pylist()
    names = data.column("name").to_pylist()
    fragments = data.column("fragment").to_pylist()
    return {n.lower(): f for k, n, f in zip(kinds, names, fragments, strict=True) if k == "view"}


def view_text(ctx: ReadContext, root: RootValue, name: str) -> str | None:
    return views(ctx, root).get(name.lower())


# --- point lookups -------------------------------------------------------------------


def point_select(
    plan: PointPlan, ctx: ReadContext, params: Sequence[object] | Mapping[str, object]
) -> tuple[list[tuple], list[tuple[str, str, pa.DataType]]] | None:
    """Answer a point-lookup SELECT from the tree, or None to take the general path.

    Returns:
        (rows, [(output name, column name, type)...]) on success.
    """
    slot = plan.slot
    resolver = _Resolver(ctx, params, None)
    if slot.name.lower() in ctx.temp_views:
        return None
    root, _ = resolver.root(slot)
    found = root.find(slot.name)
    if found is None:
        return None
    table = Table.load(ctx.workspace.nodes, root[found], found)
    schema = table.schema
    if schema.is_keyless or len(slot.conjuncts) != len(schema.primary_key):
        return None
    by_lower = {c.name.lower(): c for c in schema.columns}
    equal = {c.column: resolver.value(c.operands[0]) for c in slot.conjuncts}
    key = [c.lower() for c in schema.primary_key]
    if set(equal) != set(key):
        return None
    values = [equal[k] for k in key]
    if not all(fits(v, by_lower[k].type) for k, v in zip(key, values, strict=True)):
        return None
    if plan.columns is None:
        out = [(c.name, c.name, c) for c in schema.columns]
    else:
        if any(source not in by_lower for _, source in plan.columns):
            return None
        out = [(name, by_lower[source].name, by_lower[source]) for name, source in plan.columns]
    if any(c.logical or pa.types.is_timestamp(c.type) and c.type.tz for _, _, c in out):
        return None  # DuckDB's Python values for these differ from the engine's
    try:
        row = table.get(values)
    except (InvalidInput, TypeError, OverflowError):
        return None
    columns = [(name, source, column.type) for name, source, column in out]
    if row is None:
        return [], columns
    for column in schema.key_columns:
        if pa.types.is_floating(column.type):
            row[column.name] = float(row[column.name])
    return [tuple(row[source] for _, source, _ in columns)], columns
