"""SQL types and table definitions <-> engine schemas (the one module that knows SQL types).

The engine stores a small set of Arrow types (engine/codec/types.py). A SQL type is
mapped to one of them by DuckDB itself: the type as written, transpiled to DuckDB's
spelling, is cast from NULL in a private DuckDB connection and the Arrow type of the
result is the column type (cached per spelling). So every type name DuckDB reads
means here exactly what it means in DuckDB, in every dialect (``INTEGER`` is int32,
``REAL`` float32, ``NUMERIC`` decimal(18,3), ``TEXT(8)`` a string, ...).

Where Arrow alone loses the SQL type, the column's ``logical`` field keeps DuckDB's
type text, and casts use it:

    SQL TYPE         ENGINE TYPE            LOGICAL
    JSON             string                 "json"
    UUID             string                 "uuid"
    DOUBLE[3]        list<float64>          "double[3]"
    anything else    its Arrow type         None

Refused (``NotSupportedError`` naming the column): types the engine cannot store
(TIME, INTERVAL, STRUCT, MAP, nanosecond timestamps, ...) and names DuckDB does not
know. ``duck_type`` is the inverse: the DuckDB type text of a column, used to cast
computed values to the column's type before the engine writes them.

Constraints read from ``CREATE TABLE`` (``schema_from_create``):

    CLAUSE                                  SCHEMA
    col PRIMARY KEY / PRIMARY KEY (a, b)    primary_key (keyless when absent)
    col NOT NULL                            Column.nullable = False
    col DEFAULT e                           Column.default = e as DuckDB SQL
    col UNIQUE / [CONSTRAINT n] UNIQUE (..) Index(n or the column names, unique=True)
    UNIQUE [INDEX|KEY] n (..)               Index(n, unique=True)
    INDEX|KEY [n] (..)                      Index(n or the column names)
    [CONSTRAINT n] CHECK (e), col CHECK (e) Check(n or "<table>_chk_<i>", e as DuckDB SQL)
    FOREIGN KEY, AUTO_INCREMENT, ...        refused with NotSupportedError
"""

from __future__ import annotations

import functools
import threading

import duckdb
import pyarrow as pa
from sqlglot import exp

from arbordb.engine.cache import LruCache
from arbordb.engine.errors import UnsupportedType
from arbordb.engine.table import Check, Column, Index, Schema, normalize_type

from .errors import NotSupportedError, ProgrammingError

__all__ = [
    "column_from_def",
    "column_type",
    "duck_type",
    "schema_from_arrow",
    "schema_from_create",
    "type_name",
]

# DuckDB types stored as Arrow strings whose meaning the column keeps as ``logical``.
_LOGICAL_STRINGS = frozenset({"JSON", "UUID"})

_SIMPLE_NAMES: dict[pa.DataType, str] = {
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint8(): "UTINYINT",
    pa.uint16(): "USMALLINT",
    pa.uint32(): "UINTEGER",
    pa.uint64(): "UBIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.string(): "VARCHAR",
    pa.binary(): "BLOB",
    pa.null(): "NULL",
}

_probe_lock = threading.Lock()


@functools.cache
def _probe() -> duckdb.DuckDBPyConnection:
    """A private DuckDB connection that maps type names (opened on first use)."""
    return duckdb.connect(":memory:")


def type_name(t: pa.DataType) -> str:
    """DuckDB's name for an Arrow type (the type code in ``cursor.description``).

    Example:
        >>> type_name(pa.decimal128(10, 2)), type_name(pa.list_(pa.float32()))
        ('DECIMAL(10,2)', 'FLOAT[]')
    """
    if t in _SIMPLE_NAMES:
        return _SIMPLE_NAMES[t]
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{type_name(t.value_type)}[]"
    if pa.types.is_fixed_size_list(t):
        return f"{type_name(t.value_type)}[{t.list_size}]"
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if pa.types.is_large_binary(t):
        return "BLOB"
    return str(t).upper()


def duck_type(column: Column) -> str:
    """The DuckDB type text that values of ``column`` are cast to before a write."""
    return column.logical.upper() if column.logical else type_name(column.type)


def column_type(kind: exp.DataType | None, column: str) -> tuple[pa.DataType, str | None]:
    """The engine type and logical type for a column declared with SQL type ``kind``.

    Raises:
        ProgrammingError: no type was given.
        NotSupportedError: DuckDB does not know the type, or the engine cannot store it.
    """
    if kind is None:
        raise ProgrammingError(
            f"column {column!r} has no type; declare one, e.g. {column} VARCHAR or {column} BIGINT"
        )
    text = kind.sql("duckdb")
    try:
        return _mapped.get_or_make(text, _map_type)
    except NotSupportedError as exc:
        raise NotSupportedError(f"column {column!r}: {exc}") from None


_mapped: LruCache[str, tuple[pa.DataType, str | None]] = LruCache(256)  # by type text


def _map_type(text: str) -> tuple[pa.DataType, str | None]:
    with _probe_lock:
        try:
            relation = _probe().sql(f"SELECT CAST(NULL AS {text}) AS x")
            duck = str(relation.types[0])
            arrow = relation.to_arrow_table().schema.field(0).type
        except duckdb.Error as exc:
            detail = str(exc).split("\n")[0]  # not the probe statement DuckDB quotes
            raise NotSupportedError(f"type {text} is not a DuckDB type: {detail}") from None
    logical = None
    if pa.types.is_fixed_size_list(arrow):
        arrow, logical = pa.list_(arrow.value_type), duck.lower()
    elif duck in _LOGICAL_STRINGS:
        logical = duck.lower()
    try:
        return normalize_type(arrow), logical
    except UnsupportedType as exc:
        raise NotSupportedError(f"type {duck} cannot be stored: {exc}") from None


def column_from_def(definition: exp.ColumnDef, table: str) -> tuple[Column, list, list]:
    """A column from its definition, plus the indexes and checks its constraints declare.

    Returns:
        (column, [Index ...], [Check ...]); a PRIMARY KEY constraint is reported by
        :func:`schema_from_create`, which reads it again from the definition.
    """
    name = definition.name
    arrow, logical = column_type(definition.args.get("kind"), name)
    nullable, default, indexes, checks = True, None, [], []
    for constraint in definition.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.NotNullColumnConstraint):
            nullable = bool(kind.args.get("allow_null"))
        elif isinstance(kind, exp.DefaultColumnConstraint):
            default = kind.this.sql("duckdb")
        elif isinstance(kind, exp.UniqueColumnConstraint):
            indexes.append(Index(constraint.name or name, (name,), unique=True))
        elif isinstance(kind, exp.CheckColumnConstraint):
            checks.append((constraint.name or None, kind.this.sql("duckdb")))
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint | exp.CollateColumnConstraint):
            continue
        else:
            raise NotSupportedError(
                f"table {table!r}, column {name!r}: constraint {constraint.sql('duckdb')!r} "
                "is not supported (supported: PRIMARY KEY, NOT NULL, DEFAULT, UNIQUE, CHECK)"
            )
    column = Column(name, None, arrow, nullable=nullable, default=default, logical=logical)
    return column, indexes, checks


def schema_from_create(name: str, definition: exp.Schema) -> Schema:
    """The schema a ``CREATE TABLE name (...)`` declares (see the module docstring).

    Raises:
        ProgrammingError: a constraint names an unknown column, or two objects share a name.
        NotSupportedError: an unsupported type or constraint.
    """
    columns: list[Column] = []
    indexes: list[Index] = []
    checks: list[tuple[str | None, str]] = []
    primary_key: list[str] = []
    for item in definition.expressions:
        constraint_name = None
        if isinstance(item, exp.Constraint):
            constraint_name = item.name or None
            parts = item.expressions
        else:
            parts = [item]
        for part in parts:
            if isinstance(part, exp.ColumnDef):
                column, more_indexes, more_checks = column_from_def(part, name)
                columns.append(column)
                indexes += more_indexes
                checks += more_checks
                if _declares_primary_key(part):
                    primary_key.append(column.name)
            elif isinstance(part, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
                if primary_key:
                    raise ProgrammingError(f"table {name!r} declares its primary key twice")
                primary_key = [_column_name(e) for e in part.expressions]
            elif isinstance(part, exp.UniqueColumnConstraint):
                cols = tuple(_column_name(e) for e in part.this.expressions)
                index_name = constraint_name or part.this.name or "_".join(cols)
                indexes.append(Index(index_name, cols, unique=True))
            elif isinstance(part, exp.IndexColumnConstraint) and not part.args.get("kind"):
                cols = tuple(_column_name(e) for e in part.expressions)
                indexes.append(Index(constraint_name or part.name or "_".join(cols), cols))
            elif isinstance(part, exp.CheckColumnConstraint):
                checks.append((constraint_name, part.this.sql("duckdb")))
            else:
                raise NotSupportedError(
                    f"table {name!r}: {part.sql('duckdb')!r} is not supported "
                    "(supported: columns, PRIMARY KEY, UNIQUE, INDEX, CHECK)"
                )
    known = {c.name.lower(): c.name for c in columns}
    primary_key = [_known(known, c, name) for c in primary_key]
    indexes = [
        Index(i.name, tuple(_known(known, c, name) for c in i.columns), i.unique)
        for i in _distinct_names(indexes)
    ]
    named_checks = [
        Check(check_name or f"{name}_chk_{n}", text)
        for n, (check_name, text) in enumerate(checks, start=1)
    ]
    return Schema(
        tuple(columns), tuple(primary_key), tuple(indexes), tuple(named_checks), name=name
    )


def schema_from_arrow(name: str, schema: pa.Schema) -> Schema:
    """A keyless schema for rows of ``schema`` (``CREATE TABLE ... AS SELECT``).

    Raises:
        NotSupportedError: a result column has a type the engine cannot store.
    """
    columns = []
    for field in schema:
        arrow, logical = field.type, None
        if pa.types.is_fixed_size_list(arrow):
            arrow, logical = pa.list_(arrow.value_type), type_name(arrow).lower()
        try:
            columns.append(Column(field.name, None, normalize_type(arrow), logical=logical))
        except UnsupportedType as exc:
            raise NotSupportedError(f"table {name!r}, column {field.name!r}: {exc}") from None
    return Schema(tuple(columns), (), name=name)


def _declares_primary_key(definition: exp.ColumnDef) -> bool:
    return any(
        isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint)
        for c in definition.args.get("constraints") or []
    )


def _column_name(node: exp.Expr) -> str:
    while isinstance(node, exp.Ordered):
        node = node.this
    return node.name


def _known(columns: dict[str, str], name: str, table: str) -> str:
    found = columns.get(name.lower())
    if found is None:
        raise ProgrammingError(
            f"table {table!r}: a constraint names column {name!r}, which the table does not "
            f"declare (columns: {', '.join(columns.values())})"
        )
    return found


def _distinct_names(indexes: list[Index]) -> list[Index]:
    """Indexes renamed ``name_2``, ``name_3``, ... where an earlier one took the name."""
    seen: set[str] = set()
    out = []
    for index in indexes:
        name, n = index.name, 1
        while name.lower() in seen:
            n += 1
            name = f"{index.name}_{n}"
        seen.add(name.lower())
        out.append(Index(name, index.columns, index.unique))
    return out
