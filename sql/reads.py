"""Reads: every table reference of a query becomes an Arrow relation that DuckDB scans.

A query runs in two steps. ``compile_query`` turns a parsed tree into a
``Template`` once per SQL text (the session caches it); ``bind`` turns the template
into DuckDB SQL for one execution, resolving each reference against the session's
current state and parameters. The template is DuckDB SQL with markers:

    MARKER               STANDS FOR                       BIND REPLACES IT WITH
    __arbor_slot_<i>     table reference i (``Slot``)     its relation: an internal name,
                                                          or a parenthesised subquery
    __arbor_fn_<i>       active_branch(), dolt_hashof(),  the value, as a SQL literal
                         dolt_merge_base() call i
    $__arbor_p<i>        the i-th ``?`` of the source     ``?``, with params[i] passed on

A table reference resolves, in this order, to: a temporary view of the session; a
table of the root its ``AS OF`` names (the working root without one); a view stored
in that root's ``dolt_schemas``; a system relation (``dolt_*`` names, built by
``sql/system_tables.py``). Relations DuckDB sees, by internal name:

    NAME                       HOLDS                                  LIFETIME
    __arbor_t_<address>        a table value, decoded once (LRU by    session LRU of
                               address, shared by the process)        ``REGISTERED``
    __arbor_tmp_<n>            a system relation or a key-range       one statement
                               subset (see pushdown)

Primary-key pushdown. When the WHERE of the statement that reads a table holds
top-level conjuncts comparing its primary-key columns with constants or parameters
(``pk = v``, ``pk IN (...)``, ``pk BETWEEN a AND b``, ``pk < v``, ...; qualified by
the table's name or alias when the FROM has several sources), only those rows are
read from the tree (``Table.get`` / ``Table.scan``) instead of the decoded table. The
same conjuncts on ``=`` / ``IN`` reach system relations as ``filters``. The simplest
shape, ``SELECT cols FROM t WHERE pk = ?`` (every key column compared by equality),
skips DuckDB altogether (``point_select``).

Invariants (cited as ``# invariant (n)``):

(1) ``__arbor_t_<address>`` always holds exactly the rows of the table value with that
    address: addresses are content hashes, so a registered name is never stale.
(2) A pushdown relation holds every row of the table that satisfies the conjuncts it
    was cut by (a conjunct of a top-level AND must hold for every result row); the
    whole WHERE still runs in DuckDB, so the result equals that of a full scan.
(3) ``?`` placeholders are numbered in source order before parsing (``number_params``),
    so ``params[i]`` reaches the right place whatever order the DuckDB text puts them in
    (``LIMIT ?, ?`` becomes ``LIMIT ? OFFSET ?``).
(4) ``bind`` never changes the session's state: it reads roots and registers relations.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from sqlglot import exp

from arbordb.engine.db import Database
from arbordb.engine.errors import InvalidInput, RevisionNotFound, SchemaError, TableNotFound
from arbordb.engine.history import resolve_as_of_time
from arbordb.engine.root import RootValue
from arbordb.engine.table import Schema, Table
from arbordb.engine.workspace import Workspace

from . import catalog
from .dialect import ProcedureCall, parse, versioned_dialect
from .errors import NotSupportedError, ObjectNotFound, ProgrammingError
from .system_tables import SCALAR_FUNCTION_NAMES, scalar_function, system_relation

__all__ = [
    "NOT_CONSTANT",
    "Bound",
    "ReadContext",
    "Relations",
    "Template",
    "bind",
    "compile_query",
    "constant",
    "describe",
    "number_params",
    "operand",
    "point_select",
    "show_tables",
    "table_arrow",
    "view_template",
    "views",
]

ARROW_CACHE_BYTES = 1 << 30  # decoded tables kept per process (1 GiB: ten 1M-row tables)
REGISTERED = 64  # table values kept registered per session (DuckDB register costs ~0.3 ms)
MAX_VIEW_DEPTH = 16  # views inside views, deeper is taken for a cycle
MAX_IN_LOOKUPS = 1024  # ``pk IN (...)`` lists longer than this scan instead
SCHEMAS_TABLE = "dolt_schemas"  # Dolt's table of views (type, name, fragment, extra, sql_mode)

_MARKER = re.compile(r"__arbor_slot_(\d+)|__arbor_fn_(\d+)|\$__arbor_p(\d+)")


class ReadContext(Protocol):
    """What reads need from a session."""

    db: Database
    workspace: Workspace
    dialect: str
    duck: duckdb.DuckDBPyConnection
    relations: Relations
    temp_views: dict[str, str]

    @property
    def branch(self) -> str: ...

    def evaluate(self, sql: str, params: Sequence[object] | Mapping[str, object]) -> object: ...


# --- decoded tables ---------------------------------------------------------------


class _ArrowCache:
    """Decoded tables by table address, least recently used evicted past a byte budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[bytes, pa.Table] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, table: Table) -> pa.Table:
        with self._lock:
            found = self._entries.get(table.address)
            if found is not None:
                self._entries.move_to_end(table.address)
                return found
        data = table.to_arrow()
        if data.num_columns and any(col.num_chunks != 1 for col in data.columns):
            data = data.combine_chunks()  # one batch per relation scans fastest in DuckDB
        with self._lock:
            if table.address not in self._entries:
                self._entries[table.address] = data
                self._bytes += data.nbytes
                while self._bytes > self.budget and len(self._entries) > 1:
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= evicted.nbytes
        return data


_cache = _ArrowCache(ARROW_CACHE_BYTES)


def table_arrow(table: Table) -> pa.Table:
    """Every row of ``table`` as one Arrow table (cached by address; invariant (1))."""
    return _cache.get(table)


class Relations:
    """The relations registered with one session's DuckDB connection.

    A table value stays registered until ``REGISTERED`` others were used since, or
    until a newer value of the same table (same name and revision text) replaces it:
    a session that keeps writing a table keeps one version of it registered."""

    def __init__(self, duck: duckdb.DuckDBPyConnection) -> None:
        self.duck = duck
        self._tables: OrderedDict[bytes, str] = OrderedDict()
        self._by_label: dict[str, bytes] = {}
        self._scratch = 0
        self.names: dict[str, str] = {}  # internal name -> what the user wrote (messages)

    def table(self, table: Table, label: str) -> str:
        """The registered name of a table value (registered on first use)."""
        address = table.address
        name = self._tables.get(address)
        if name is None:
            name = f"__arbor_t_{address.hex()}"
            self.duck.register(name, table_arrow(table))
            self._tables[address] = name
            older = self._by_label.get(label.lower())
            if older is not None and self._tables.get(older) not in self.names:
                self._drop(older)
            self._by_label[label.lower()] = address
            if len(self._tables) > REGISTERED:
                self._evict()
        else:
            self._tables.move_to_end(address)
        self.names[name] = label
        return name

    def _evict(self) -> None:
        """Unregister the least recently used tables past ``REGISTERED``, sparing those
        the current statement uses (a query may read more tables than the cap)."""
        for address, name in list(self._tables.items()):
            if len(self._tables) <= REGISTERED:
                return
            if name not in self.names:
                self._drop(address)

    def _drop(self, address: bytes) -> None:
        self.duck.unregister(self._tables.pop(address))
        for label in [k for k, a in self._by_label.items() if a == address]:
            del self._by_label[label]

    def scratch(self, data: pa.Table, label: str) -> str:
        """A name for a relation that lives for this statement only."""
        name = f"__arbor_tmp_{self._scratch}"
        self._scratch += 1
        self.duck.register(name, data)
        self.names[name] = label
        return name

    def end_statement(self) -> None:
        """Drop the last statement's scratch relations and message names (called when
        the next statement starts: the last result may still read them)."""
        for n in range(self._scratch):
            self.duck.unregister(f"__arbor_tmp_{n}")
        self._scratch = 0
        self.names = {}


# --- templates --------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """A value a template needs before DuckDB runs: ``const`` (a Python value),
    ``param`` (index into positional params), ``named`` (key of named params), ``fn``
    (index of a version-control function call of the template) or ``expr`` (DuckDB SQL,
    with parameter markers, that DuckDB evaluates)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Conjunct:
    """``column op operands`` from a WHERE clause, for key pushdown.
    ``op`` is one of = IN > >= < <=; ``column`` is lower-cased."""

    column: str
    op: str
    operands: tuple[Operand, ...]


@dataclass(frozen=True)
class Slot:
    """One table reference: a name (with AS OF) or a ``dolt_*`` table function call."""

    name: str
    version: Operand | None = None
    version_is_time: bool = False
    args: tuple[Operand, ...] | None = None
    conjuncts: tuple[Conjunct, ...] = ()


@dataclass(frozen=True)
class PointPlan:
    """``SELECT <columns> FROM t WHERE k1 = v1 AND ...``: answered by ``Table.get``.
    ``columns`` are (output name, source column lower-cased), None for ``*``."""

    slot: Slot
    columns: tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class Template:
    sql: str
    slots: tuple[Slot, ...]
    functions: tuple[tuple[str, tuple[Operand, ...]], ...]
    point: PointPlan | None = None


@dataclass
class Bound:
    """DuckDB SQL for one execution, with the parameters DuckDB still needs."""

    sql: str
    params: list[object] | dict[str, object]
    names: dict[str, str] = field(default_factory=dict)


def number_params(sql: str, dialect: str) -> tuple[str, int]:
    """Rewrite each ``?`` placeholder as a numbered marker (invariant (3)).

    Returns:
        (the text with markers, how many ``?`` it had). Text without ``?`` comes back as is.

    Example:
        >>> number_params("SELECT ? FROM t LIMIT ?, ?", "sqlite")
        ('SELECT :__arbor_p0  FROM t LIMIT :__arbor_p1 , :__arbor_p2 ', 3)
        >>> number_params("SELECT '?'", "duckdb")
        ("SELECT '?'", 0)
    """
    if "?" not in sql:
        return sql, 0
    tokens = versioned_dialect(dialect)().tokenize(sql)
    marks = [t for t in tokens if t.text == "?" and t.token_type.name == "PLACEHOLDER"]
    if not marks:
        return sql, 0
    sigil = "$" if dialect == "duckdb" else ":"
    out, at = [], 0
    for i, token in enumerate(marks):
        # a space after each marker: sqlglot reads "$a,$b" as a dollar-quoted string
        out += [sql[at : token.start], f"{sigil}__arbor_p{i} "]
        at = token.end + 1
    out.append(sql[at:])
    return "".join(out), len(marks)


def compile_query(tree: exp.Expression, *, copy: bool = True) -> Template:
    """The template of a query (SELECT, set operation, VALUES, ... see module docstring).

    Args:
        tree: the parsed query.
        copy: work on a copy (False rewrites ``tree`` itself, which is cheaper for a
            tree parsed only to be compiled; it is left half-rewritten on error).
    """
    if copy:
        tree = tree.copy()
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
        call.replace(exp.column(f"__arbor_fn_{len(functions) - 1}"))
    slots: list[Slot] = []
    terms: dict[int, tuple[int, list[_Term]]] = {}
    for table in tables:
        slot = _slot(table, ctes, terms)
        if slot is None:
            continue
        alias = table.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(slot.name))
        table.set("this", exp.to_identifier(f"__arbor_slot_{len(slots)}"))
        for arg in ("db", "catalog", "version"):
            table.set(arg, None)
        table.set("alias", alias)
        slots.append(slot)
    point = _point_plan(tree, slots[0]) if len(slots) == 1 and not functions else None
    for node in placeholders:
        _spell_param(node)
    return Template(_DUCKDB.generate(tree, copy=False), tuple(slots), tuple(functions), point)


# Generates DuckDB SQL without to_duckdb's check for AS OF clauses: compile_query has
# replaced every versioned table reference by a slot.
_DUCKDB = versioned_dialect("duckdb")()


def _empty_list(node: exp.In) -> bool:
    return not node.expressions and not any(node.args.get(a) for a in ("query", "unnest", "field"))


def _spell_param(node: exp.Placeholder) -> None:
    """A numbered or named placeholder in DuckDB's spelling, ``$name``."""
    if isinstance(node.this, exp.Identifier):
        node.set("this", node.this.name)


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
    is_time = version is not None and version_node.name == "TIMESTAMP"
    revision = operand(version) if version is not None else None
    return Slot(name, revision, is_time, conjuncts=_conjuncts(table, terms))


def operand(node: exp.Expression) -> Operand:
    """How to get the value of an argument, AS OF or compared value (see ``Operand``)."""
    value = constant(node)
    if value is not NOT_CONSTANT:
        return Operand("const", value)
    if isinstance(node, exp.Column) and not node.table and node.name.startswith("__arbor_fn_"):
        return Operand("fn", int(node.name[len("__arbor_fn_") :]))
    if isinstance(node, exp.Placeholder):
        name = node.name
        if name.startswith("__arbor_p"):
            return Operand("param", int(name[len("__arbor_p") :]))
        return Operand("named", name)
    copy = node.copy()
    for placeholder in copy.find_all(exp.Placeholder):
        _spell_param(placeholder)
    return Operand("expr", _DUCKDB.generate(copy, copy=False))


NOT_CONSTANT = object()


def constant(node: exp.Expression) -> object:
    """The Python value of a literal (numbers, strings, booleans, NULL, negated numbers)."""
    if isinstance(node, exp.Paren):
        return constant(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            try:
                return Decimal(text) if "e" not in text.lower() else float(text)
            except ArithmeticError:
                return NOT_CONSTANT
    if isinstance(node, exp.Neg):
        inner = constant(node.this)
        if isinstance(inner, int | Decimal | float) and not isinstance(inner, bool):
            return -inner
        return NOT_CONSTANT
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    return NOT_CONSTANT


_VALUE_NODES = (exp.Literal, exp.Neg, exp.Boolean, exp.Placeholder, exp.Paren, exp.Column)
_COMPARISONS = {exp.EQ: "=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_FLIPPED = {"=": "=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass(frozen=True)
class _Term:
    """A WHERE conjunct ``column op operands``, before it is matched to a table:
    ``qualifier`` is the column's table qualifier, lower-cased ('' when bare)."""

    qualifier: str
    conjunct: Conjunct


def _conjuncts(table: exp.Table, terms: dict[int, tuple[int, list[_Term]]]) -> tuple[Conjunct, ...]:
    """Pushdown candidates: the top-level WHERE conjuncts, of the statement whose FROM
    lists ``table``, that compare one of its columns with constants. With several
    sources in that FROM only columns qualified by the table's name or alias count.
    Any such conjunct may filter the table before the join (invariant (2)).

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


def _terms(owner: exp.Expression) -> tuple[int, list[_Term]]:
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


def _column_ref(n: exp.Expression) -> tuple[str, str] | None:
    """(qualifier, column), lower-cased, of a column reference."""
    if not isinstance(n, exp.Column) or n.name.startswith("__arbor_fn_"):
        return None
    return n.table.lower(), n.name.lower()


def _value(n: exp.Expression) -> Operand | None:
    if not isinstance(n, _VALUE_NODES) or (
        isinstance(n, exp.Column) and not n.name.startswith("__arbor_fn_")
    ):
        return None  # not a constant: no need to build an expression operand
    found = operand(n)
    if found.kind == "expr" or (found.kind == "const" and found.value is None):
        return None
    return found


def _term(node: exp.Expression) -> _Term | None:
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
        if ref is None or value is None:
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
        if values and all(v is not None for v in values):
            return _Term(ref[0], Conjunct(ref[1], op, tuple(values)))
    return None


def _point_plan(tree: exp.Expression, slot: Slot) -> PointPlan | None:
    """The plan for the point-lookup shape, or None (see module docstring)."""
    if not isinstance(tree, exp.Select) or slot.args is not None:
        return None
    if slot.version is not None and slot.version.kind != "const":
        return None
    used = {k for k, v in tree.args.items() if v not in (None, [], False)}
    if used - {"expressions", "from_", "where"} or "where" not in used:
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
    """DuckDB SQL and parameters for one execution of ``template`` (invariant (4)).

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
    relations = [resolver.relation(slot, depth) for slot in template.slots]
    positional: list[object] = []

    def replace(match: re.Match[str]) -> str:
        slot, function, param = match.groups()
        if slot is not None:
            return relations[int(slot)]
        if function is not None:
            return exp.convert(values[int(function)]).sql("duckdb")
        positional.append(resolver.param(int(param)))
        return "?"

    sql = _MARKER.sub(replace, template.sql)
    if isinstance(params, Mapping):
        used = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
        return Bound(sql, {k: v for k, v in params.items() if k in used}, ctx.relations.names)
    return Bound(sql, positional, ctx.relations.names)


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
        positional: list[object] = []

        def replace(match: re.Match[str]) -> str:
            positional.append(self.param(int(match.group(3))))
            return "?"

        sql = _MARKER.sub(replace, operand.value)
        return self.ctx.evaluate(
            sql, self.params if isinstance(self.params, Mapping) else positional
        )

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
        key = (value, slot.version_is_time)
        if key not in self._roots:
            self._roots[key] = self._resolve_root(value, slot.version_is_time)
        return self._roots[key]

    def _resolve_root(self, value: object, is_time: bool) -> tuple[RootValue, str]:
        ws = self.ctx.workspace
        if isinstance(value, datetime | date) or is_time:
            return self._root_at_time(value), f"time {value!s}"
        if not isinstance(value, str) or not value:
            raise ProgrammingError(
                f"AS OF needs a revision (a branch, tag or commit hash) or a time, got {value!r}"
            )
        try:
            return ws.root_at(value), f"revision {value!r}"
        except RevisionNotFound:
            moment = _parse_time(value)
            if moment is None:
                raise
            return self._root_at_time(moment), f"time {value}"

    def _root_at_time(self, value: object) -> RootValue:
        moment = _parse_time(value)
        if moment is None:
            raise ProgrammingError(f"AS OF TIMESTAMP needs a time, got {value!r}")
        ws = self.ctx.workspace
        return ws.commit_root(resolve_as_of_time(ws.loader, ws.head, moment))

    def relation(self, slot: Slot, depth: int) -> str:
        """The SQL DuckDB reads for ``slot``: an internal name or ``(subquery)``."""
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
            return self._table_relation(table, slot, label)
        view = view_text(ctx, root, slot.name)
        if view is not None:
            return self._view(view, root if slot.version is not None else self.default_root, depth)
        if lowered.startswith("dolt_"):
            if slot.version is not None:
                raise NotSupportedError(f"system table {slot.name} cannot be read AS OF a revision")
            return self._system(slot.name, None, slot.name, slot)
        raise TableNotFound(root.missing_message(slot.name, f" at {where}"))

    def _system(
        self, name: str, args: list[object] | None, label: str, slot: Slot | None = None
    ) -> str:
        filters = None
        if slot is not None and slot.conjuncts:
            filters = {
                c.column: self.values(c.operands) for c in slot.conjuncts if c.op in ("=", "IN")
            }
        data = system_relation(name, args, self.ctx, filters=filters)
        if data is None:
            kind = "table function" if args is not None else "table"
            raise ObjectNotFound(f"{kind} {name!r} not found (no such table, view or system table)")
        return self.ctx.relations.scratch(data, label)

    def _view(self, text: str, root: RootValue | None, depth: int) -> str:
        if depth >= MAX_VIEW_DEPTH:
            raise ProgrammingError(f"views nest more than {MAX_VIEW_DEPTH} deep (a view cycle?)")
        template = view_template(text)
        inner = bind(template, self.ctx, [], root, depth + 1)
        return f"({inner.sql})"

    def _table_relation(self, table: Table, slot: Slot, label: str) -> str:
        relations = self.ctx.relations
        subset = self._pushdown(table, slot.conjuncts) if slot.conjuncts else None
        if subset is not None:
            name = relations.scratch(subset, label)
        else:
            name = relations.table(table, label)
        logical = [c for c in table.schema.columns if c.logical]
        if not logical:
            return name
        items = [
            f"CAST({_quote(c.name)} AS {c.logical.upper()}) AS {_quote(c.name)}"
            if c.logical
            else _quote(c.name)
            for c in table.schema.columns
        ]
        return f"(SELECT {', '.join(items)} FROM {name})"

    def _pushdown(self, table: Table, conjuncts: Sequence[Conjunct]) -> pa.Table | None:
        """The rows the key conjuncts select, read from the tree; None to scan all."""
        schema = table.schema
        if schema.is_keyless:
            return None
        key = [c.lower() for c in schema.primary_key]
        types = {c.name.lower(): c.type for c in schema.key_columns}
        resolved = [
            (c.column, c.op, self.values(c.operands)) for c in conjuncts if c.column in types
        ]
        equal: dict[str, object] = {}
        for column, op, vals in resolved:
            if op == "=" and _fits(vals[0], types[column]):
                equal[column] = vals[0]
        try:
            if all(k in equal for k in key):
                return _rows(schema, [table.get([equal[k] for k in key])])
            if len(key) == 1:
                for column, op, vals in resolved:
                    if (
                        op == "IN"
                        and column == key[0]
                        and all(_fits(v, types[column]) for v in vals)
                    ):
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
                return table.scan(prefix, prefix)
            return self._range(table, key[0], types[key[0]], resolved)
        except (InvalidInput, SchemaError, TypeError, OverflowError):
            return None  # a value the key cannot encode: let DuckDB compare (invariant (2))

    def _range(self, table: Table, column: str, type_: pa.DataType, resolved) -> pa.Table | None:
        lo = hi = None
        lo_inc = hi_inc = True
        for name, op, vals in resolved:
            if name != column or not all(_fits(v, type_) for v in vals):
                continue
            if op == "BETWEEN":
                lo, hi, lo_inc, hi_inc = vals[0], vals[1], True, True
            elif op in (">", ">="):
                lo, lo_inc = vals[0], op == ">="
            elif op in ("<", "<="):
                hi, hi_inc = vals[0], op == "<="
        if lo is None and hi is None:
            return None
        return table.scan(
            None if lo is None else [lo],
            None if hi is None else [hi],
            lo_inclusive=lo_inc,
            hi_inclusive=hi_inc,
        )


def _rows(schema: Schema, rows: Sequence[dict | None]) -> pa.Table:
    arrow = pa.schema([pa.field(c.name, c.type) for c in schema.columns])
    return pa.Table.from_pylist([r for r in rows if r is not None], schema=arrow)


def _fits(value: object, type_: pa.DataType) -> bool:
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


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- views -------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def view_template(text: str) -> Template:
    """The template of a stored view definition (DuckDB SQL ``CREATE VIEW v AS q``)."""
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
    if not all(_fits(v, by_lower[k].type) for k, v in zip(key, values, strict=True)):
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


def description_of(columns: Sequence[tuple[str, pa.DataType]]) -> list[tuple]:
    """PEP 249 description 7-tuples for Arrow-typed columns."""
    return [(name, catalog.type_name(t), None, None, None, None, True) for name, t in columns]


# --- SHOW TABLES, DESCRIBE ----------------------------------------------------------------


def show_tables(ctx: ReadContext) -> pa.Table:
    """``SHOW TABLES``: the working root's tables and views, as Dolt lists them."""
    root = ctx.workspace.working
    names = sorted(
        [n for n in root if n.lower() != SCHEMAS_TABLE]
        + [n for n in views(ctx, root)]
        + list(ctx.temp_views)
    )
    return pa.table({"name": pa.array(names, pa.string())})


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
