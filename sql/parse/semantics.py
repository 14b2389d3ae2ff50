"""Dialect semantics: type a statement with the catalog's schema, then rewrite the operators
whose meaning in the connection's dialect differs from DuckDB's, so DuckDB computes what the
dialect computes.

sqlglot transpiles syntax; some meaning depends on the operands' types, which the text does
not say (``a / b`` divides integers as integers in SQLite and Postgres). ``retype`` gives every
column of the statement its type from the working root's schema, lets sqlglot's
``annotate_types`` type the rest, and rewrites, per dialect (``-`` = DuckDB's meaning already
is the dialect's)::

    OPERATION                 SQLITE                  MYSQL                   POSTGRES
    int / int                 truncating division,    (decimal division: -)   truncating
                              NULL for / 0                                    division
    int OP int (+ - * / %)    in 64 bits (a 32-bit    in 64 bits              -
                              column does not
                              overflow at 2^31)
    x % 0                     NULL                    NULL                    -
    real % real               both truncated to       -                       -
                              integers, result real
    a DIV b                   -                       truncating, NULL for 0  -
    NULLIF(a, b)              a's type                a's type                -
    CAST(x AS INTEGER)        64-bit; a real          -                       -
                              truncates, text gives
                              its leading integer
    numeric column <op> text  numeric-looking text    the text's numeric      -
                              is a number, other      prefix (0 if none)
                              text is greater than
                              every number
    text column <op> number   a number without        the text's numeric      -
                              affinity is text        prefix
    other number <op> text    text is greater         the text's numeric      -
                              than every number       prefix
    text in + - * / % and -x  its numeric prefix as   as SQLite               -
                              a real, 0 without one
    SELECT a, count(*) ...    a bare column is        -                       -
      (a not grouped)         ANY_VALUE(a)
    UPDATE t SET x=1, x=2     the last assignment     assignments in order,   refused, as
                              wins, all read the      each reading the ones   Postgres does
                              old row                 before it

"A column" is a column reference (SQLite's affinity); its type is the schema's. A ``?``
dividing or divided is tested for being an integer when DuckDB binds it (the quotient of two
integers is then a real holding an integer). Other operands of unknown type (a select alias,
a derived table's column, an ``AS OF`` table) keep sqlglot's plain translation. The rewrites
depend on column types, so a cached statement is typed again when a table it names changes
its columns (``Typing.typed``).

Not done: SQLite turns an integer that overflows 64 bits into a real; here the statement
fails with DataError (a result column has one type in DuckDB). Text in arithmetic is a real
even where SQLite's would be an integer.

Invariants (cited as ``# invariant (n)``):

(1) ``retype`` works on a copy of the parsed tree and is not applied twice to one tree: its
    rewrites (a NULLIF around a divisor, a CAST around an operand) are not idempotent.
(2) A statement with none of the nodes above is not copied or typed: ``needs_typing`` is one
    walk, so large INSERT ... VALUES lists cost nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from ..catalog import duck_type
from .dialect import versioned_dialect

__all__ = ["TableTypes", "Typing", "column_types", "needs_typing", "retype", "table_names"]

# lower-cased table name -> lower-cased column name -> DuckDB type text
TableTypes = Mapping[str, Mapping[str, str]]

_TYPED_DIALECTS = frozenset({"sqlite", "mysql", "postgres"})
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
_INTEGERS = exp.DataType.INTEGER_TYPES
_REALS = exp.DataType.REAL_TYPES
_NUMBERS = _INTEGERS | _REALS
_TEXTS = exp.DataType.TEXT_TYPES
_WIDE = {exp.DType.BIGINT, exp.DType.UBIGINT, exp.DType.INT128, exp.DType.UINT128}
_WIDE |= {exp.DType.INT256, exp.DType.UINT256}
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_NUMERIC_PREFIX = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass
class Typing:
    """A cached statement's parsed tree and the column types its typed tree was made with."""

    original: exp.Expr
    names: set[str]
    types: TableTypes | None = None

    @classmethod
    def of(cls, tree: exp.Expr, dialect: str) -> Typing | None:
        """What ``retype`` needs to type ``tree`` later; None when typing changes nothing."""
        if not needs_typing(tree, dialect):
            return None
        return cls(tree.copy(), table_names(tree))

    def typed(self, workspace, dialect: str) -> exp.Expr | None:
        """A tree typed with the working root's column types; None if the last one still is
        (invariant (1): each call types a new copy of the parsed tree)."""
        types = column_types(workspace, self.names)
        if self.types == types:
            return None
        tree = retype(self.original.copy(), dialect, types)
        self.types = types
        return tree


def needs_typing(tree: exp.Expr, dialect: str) -> bool:
    """Whether ``retype`` may change ``tree`` (invariant (2))."""
    if dialect == "postgres":
        return any(True for _ in tree.find_all(exp.Div))
    if dialect not in _TYPED_DIALECTS:
        return False
    for node in tree.walk():
        if isinstance(node, (*_ARITHMETIC, *_COMPARISONS, exp.Update)):
            return True
        if isinstance(node, exp.Neg) and not isinstance(node.this, exp.Literal):
            return True
        if isinstance(node, exp.Select | exp.Cast) and dialect == "sqlite":
            return True
    return False


def table_names(tree: exp.Expr) -> set[str]:
    """The lower-cased names of the tables a statement reads or writes (CTE names too)."""
    return {t.name.lower() for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier)}


def retype(tree: exp.Expr, dialect: str, types: TableTypes) -> exp.Expr:
    """Rewrite ``tree`` in place so DuckDB computes what ``dialect`` computes (see the module
    docstring); returns it. ``types`` holds the columns of the tables it names."""
    if isinstance(tree, exp.Update):
        _assignments(tree, dialect)
    _type_columns(tree, types)
    reader = versioned_dialect(dialect)
    for cast in reversed(list(tree.find_all(exp.Cast, exp.TryCast))):
        annotate_types(cast.this, dialect=reader, overwrite_types=False)  # not typed below
    annotate_types(tree, dialect=reader, overwrite_types=False)
    # post-order, with each node's type read before any rewrite below it
    nodes = list(tree.walk(bfs=False))
    rewrite = _REWRITES[dialect]
    for node in reversed(nodes):  # children before their parents
        if isinstance(node, exp.Paren):
            node.type = node.this.type  # a rewrite below may have changed it
        rewrite(node)
    return tree


# --- typing ------------------------------------------------------------------------


def _type_columns(tree: exp.Expr, types: TableTypes) -> None:
    """Give each column reference its schema type where the tables of the statement say it
    unambiguously: by its table alias, or, unqualified, by the tables holding that name."""
    aliases: dict[str, Mapping[str, str] | None] = {}
    for table in tree.find_all(exp.Table):
        if isinstance(table.parent, exp.Schema | exp.Create):
            continue  # what CREATE makes, or INSERT's target: no column reads from it
        columns = types.get(table.name.lower()) if table.args.get("version") is None else None
        aliases[table.alias_or_name.lower()] = columns
    for node in tree.find_all(exp.Subquery, exp.CTE):
        if node.alias:
            aliases[node.alias.lower()] = None
    for column in tree.find_all(exp.Column):
        if column.is_star:
            continue
        name = column.name.lower()
        if column.table:
            found = aliases.get(column.table.lower())
            candidates = {found[name]} if found and name in found else set()
            if column.table.lower() not in aliases or found is None:
                continue
        else:
            if any(columns is None for columns in aliases.values()):
                continue  # a derived table may hold the name: its type is not known here
            candidates = {c[name] for c in aliases.values() if c and name in c}
        if len(candidates) == 1:
            column.type = exp.DataType.build(candidates.pop(), dialect="duckdb")


def _is(node: exp.Expr, kinds: set[exp.DType]) -> bool:
    return node.type is not None and node.type.this in kinds


def column_types(workspace, names: set[str]) -> dict[str, dict[str, str]]:
    """The column types (DuckDB type text) of the working root's tables among ``names``."""
    root = workspace.working
    types = {}
    for name in sorted(names):
        found = root.find(name)
        if found is not None:
            schema = workspace.table(found).schema
            types[name] = {c.name.lower(): duck_type(c) for c in schema.columns}
    return types


# --- rewrites ----------------------------------------------------------------------


def _bigint(node: exp.Expr) -> exp.Expr:
    cast = exp.Cast(this=node, to=exp.DataType.build("BIGINT"))
    cast.type = exp.DataType.build("BIGINT")
    return cast


def _replace(node: exp.Expr, new: exp.Expr) -> None:
    """Replace ``node``, keeping its type for the rewrites of the nodes above it."""
    new.type = node.type
    node.replace(new)


def _nullif_zero(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Nullif):
        return node
    return exp.Nullif(this=node, expression=exp.Literal.number(0))


def _widen(node: exp.Binary) -> None:
    """Both operands integers: compute in 64 bits (SQLite's and MySQL's integers)."""
    for arg in ("this", "expression"):
        operand = node.args[arg]
        if operand.type is not None and operand.type.this not in _WIDE:
            node.set(arg, _bigint(operand))
    node.type = exp.DataType.build("BIGINT")


def _sqlite(node: exp.Expr) -> None:
    if isinstance(node, exp.Nullif):
        node.type = node.this.type  # NULLIF(a, b) is a or NULL: a's type
    elif isinstance(node, exp.Cast) and node.to.this in _INTEGERS:
        _sqlite_integer_cast(node)
    elif isinstance(node, _ARITHMETIC):
        _arithmetic(node)
        if isinstance(node, exp.Div):
            _sqlite_div(node)
        elif isinstance(node, exp.Mod):
            _sqlite_mod(node)
    elif isinstance(node, _COMPARISONS):
        _sqlite_compare(node)
    elif isinstance(node, exp.Select):
        _bare_columns(node)
    elif isinstance(node, exp.Neg) and _is(node.this, _TEXTS):
        node.set("this", _text_number(node.this))


def _mysql(node: exp.Expr) -> None:
    if isinstance(node, exp.Nullif):
        node.type = node.this.type
    elif isinstance(node, _ARITHMETIC):
        _arithmetic(node)
        if isinstance(node, exp.Mod | exp.IntDiv):
            node.set("expression", _nullif_zero(node.expression))
    elif isinstance(node, _COMPARISONS):
        _mysql_compare(node)
    elif isinstance(node, exp.Neg) and _is(node.this, _TEXTS):
        node.set("this", _text_number(node.this))


def _postgres(node: exp.Expr) -> None:
    if isinstance(node, exp.Div) and _is(node.left, _INTEGERS) and _is(node.right, _INTEGERS):
        _replace(node, exp.IntDiv(this=node.left, expression=node.right))


_REWRITES: dict[str, Callable[[exp.Expr], None]] = {
    "sqlite": _sqlite,
    "mysql": _mysql,
    "postgres": _postgres,
}


def _arithmetic(node: exp.Binary) -> None:
    if any(_is(e, _NUMBERS) for e in (node.left, node.right)) or all(
        _is(e, _TEXTS) or _text_literal(e) for e in (node.left, node.right)
    ):
        _text_operands(node)  # text in arithmetic is a number
    if _is(node.left, _INTEGERS) and _is(node.right, _INTEGERS):
        _widen(node)


def _sqlite_div(node: exp.Div) -> None:
    left, right = node.left, node.right
    if _is(left, _INTEGERS) and _is(right, _INTEGERS):
        _replace(node, exp.IntDiv(this=left, expression=_nullif_zero(right)))
    elif _is(left, _NUMBERS) and _is(right, _NUMBERS):
        node.set("expression", _nullif_zero(right))
        node.set("typed", False)
        node.set("safe", False)
    elif any(isinstance(e, exp.Placeholder) for e in (left, right)) and not (
        _is(left, _REALS) or _is(right, _REALS)
    ):
        _replace(node, _runtime_div(left, right))


_INTEGER_TYPE_NAMES: tuple[str, ...] = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_INTEGER_TYPE_NAMES += ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")


def _runtime_div(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """``left / right`` with a parameter, whose type is known only when DuckDB binds it: an
    integer division when both values are integers (the result is then a real holding an
    integer value, which a write to an integer column stores exactly)."""
    names = exp.Tuple(expressions=[exp.Literal.string(n) for n in _INTEGER_TYPE_NAMES])
    integers = exp.and_(
        *(
            exp.In(this=exp.func("TYPEOF", e.copy()), expressions=names.expressions)
            for e in (left, right)
        )
    )
    return exp.If(
        this=integers,
        true=exp.IntDiv(this=left.copy(), expression=_nullif_zero(right.copy())),
        false=exp.Div(this=left, expression=_nullif_zero(right)),
    )


def _sqlite_integer_cast(node: exp.Cast) -> None:
    """SQLite's CAST to an integer type is 64-bit and truncates a real toward zero (DuckDB's
    rounds); text gives its leading integer, 0 without one."""
    value = node.this
    if _is(value, _REALS):
        node.set("this", exp.func("TRUNC", value))
    elif _is(value, exp.DataType.TEXT_TYPES):
        pattern = exp.Literal.string(r"^\s*[+-]?\d+")
        prefix = exp.func("REGEXP_EXTRACT", value.copy(), pattern)
        number = exp.func("COALESCE", exp.func("TRY_CAST", prefix, "BIGINT"), exp.Literal.number(0))
        null = exp.Is(this=value, expression=exp.null())
        node.set("this", exp.If(this=null, true=exp.null(), false=number))
    node.set("to", exp.DataType.build("BIGINT"))


def _sqlite_mod(node: exp.Mod) -> None:
    """SQLite's ``%`` takes both operands as integers; with a real operand the result is a
    real; ``x % 0`` is NULL."""
    left, right = node.left, node.right
    if not (_is(left, _NUMBERS) and _is(right, _NUMBERS)):
        node.set("expression", _nullif_zero(right))
        return
    if _is(left, _INTEGERS) and _is(right, _INTEGERS):
        node.set("expression", _nullif_zero(right))
        return
    whole = [_bigint(exp.func("TRUNC", e)) if _is(e, _REALS) else e for e in (left, right)]
    remainder = exp.Mod(this=whole[0], expression=_nullif_zero(whole[1]))
    _replace(node, exp.Cast(this=exp.Paren(this=remainder), to=exp.DataType.build("DOUBLE")))


def _text_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _sqlite_compare(node: exp.Binary) -> None:
    """A number against text, with SQLite's affinity rules: a column's type is its affinity,
    other expressions have none. Text meets a numeric column: text that looks like a number
    is one. A text column meets a number without affinity: the number is text. Otherwise
    every number is less than any text."""
    for number, text in ((node.left, node.right), (node.right, node.left)):
        if _is(number, _NUMBERS) and (_text_literal(text) or _is(text, _TEXTS)):
            break
    else:
        return
    first = number is node.left
    if isinstance(text, exp.Column) and not isinstance(number, exp.Column):
        as_text = _literal_text(number)
        node.set("this" if first else "expression", as_text or _varchar(number))
        return
    if _text_literal(text):
        if isinstance(number, exp.Column) and _NUMERIC_TEXT.fullmatch(text.this):
            text.replace(exp.Literal.number(text.this.strip()))
            return
        outcome = exp.Boolean(this=_NUMBER_VS_TEXT[type(node)](first))
        if isinstance(number, exp.Literal):
            _replace(node, outcome)
        else:
            null = exp.Is(this=number.copy(), expression=exp.null())
            _replace(node, exp.If(this=null, true=exp.null(), false=outcome))
        return
    # text without a literal's known value: decided row by row
    numeric: exp.Func | exp.Boolean = exp.func(
        "REGEXP_FULL_MATCH", text.copy(), exp.Literal.string(_NUMERIC_TEXT.pattern)
    )
    if not isinstance(number, exp.Column):
        numeric = exp.false()  # no affinity on either side: no conversion
    as_number = exp.Cast(this=text.copy(), to=exp.DataType.build("DOUBLE"))
    compared = node.copy()
    compared.set("this" if not first else "expression", as_number)
    nulls = exp.or_(
        exp.Is(this=text.copy(), expression=exp.null()),
        exp.Is(this=number.copy(), expression=exp.null()),
    )
    outcome = exp.Boolean(this=_NUMBER_VS_TEXT[type(node)](first))
    case = exp.Case(
        ifs=[exp.If(this=nulls, true=exp.null()), exp.If(this=numeric, true=compared)],
        default=outcome,
    )
    _replace(node, case)


def _literal_text(node: exp.Expr) -> exp.Literal | None:
    """A number literal (or its negation) as the text SQLite gives it, if it is one."""
    sign = ""
    if isinstance(node, exp.Neg):
        sign, node = "-", node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        return exp.Literal.string(sign + node.this)
    return None


def _varchar(node: exp.Expr) -> exp.Expr:
    return exp.Cast(this=node, to=exp.DataType.build("VARCHAR"))


def _text_number(node: exp.Expr) -> exp.Expr:
    """Text as a number, as SQLite and MySQL read it in arithmetic: its numeric prefix, 0
    without one (a real)."""
    pattern = exp.Literal.string("^" + _NUMERIC_PREFIX.pattern)
    prefix = exp.func("REGEXP_EXTRACT", node.copy(), pattern)
    number = exp.func("COALESCE", exp.func("TRY_CAST", prefix, "DOUBLE"), exp.Literal.number(0))
    null = exp.Is(this=node, expression=exp.null())
    result = exp.If(this=null, true=exp.null(), false=number)
    result.type = exp.DataType.build("DOUBLE")
    return result


def _text_operands(node: exp.Binary) -> None:
    for arg in ("this", "expression"):
        operand = node.args[arg]
        if _is(operand, _TEXTS) or _text_literal(operand):
            node.set(arg, _text_number(operand))


# A number compared with text, numbers sorting first: the outcome by comparison kind,
# given whether the number is the left operand.
_NUMBER_VS_TEXT: dict[type, Callable[[bool], bool]] = {
    exp.EQ: lambda first: False,
    exp.NEQ: lambda first: True,
    exp.LT: lambda first: first,
    exp.LTE: lambda first: first,
    exp.GT: lambda first: not first,
    exp.GTE: lambda first: not first,
}


def _mysql_compare(node: exp.Binary) -> None:
    """MySQL compares a number with text as numbers: the text's numeric prefix, else 0."""
    for number, text in ((node.left, node.right), (node.right, node.left)):
        if not _is(number, _NUMBERS):
            continue
        if _text_literal(text):
            match = _NUMERIC_PREFIX.match(text.this)
            text.replace(exp.Literal.number(match.group().strip() if match else "0"))
            return
        if _is(text, _TEXTS):
            text.replace(_text_number(text.copy()))
            return


# --- SQLite's bare columns -------------------------------------------------------

_AGGREGATE_NAMES = frozenset({"total", "group_concat"})  # SQLite aggregates sqlglot leaves named


def _aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _AGGREGATE_NAMES


def _own(node: exp.Expr, select: exp.Select) -> bool:
    """Whether ``node`` belongs to ``select`` itself, not to a query nested in it."""
    return node.find_ancestor(exp.Select) is select


def _bare_columns(select: exp.Select) -> None:
    """SQLite lets an aggregate query name a column that is neither grouped nor aggregated
    (its value comes from some row of the group); DuckDB refuses it, so it reads
    ``ANY_VALUE(column)``."""
    parts = [*select.expressions, select.args.get("having"), select.args.get("order")]
    parts = [p for p in parts if p is not None]
    aggregated = any(
        _aggregate(n) and _own(n, select) and not n.find_ancestor(exp.Window)
        for part in parts
        for n in part.walk()
    )
    group = select.args.get("group")
    if group is None and not aggregated:
        return
    grouped: set[tuple[str, str]] = set()  # (table alias or "", column name)
    positions: set[int] = set()
    for key in group.expressions if group is not None else []:
        if isinstance(key, exp.Literal) and key.is_int:
            positions.add(int(key.this) - 1)
        grouped |= {(c.table.lower(), c.name.lower()) for c in key.find_all(exp.Column)}
    aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    for at, part in enumerate(parts):
        if at in positions:
            continue
        in_select = at < len(select.expressions)
        for column in list(part.find_all(exp.Column)):
            name = column.name.lower()
            if (
                column.is_star
                or _grouped(column, grouped)
                or (not in_select and not column.table and name in aliases)
                or not _own(column, select)
                or any(_aggregate(a) or isinstance(a, exp.Window) for a in _ancestors(column, part))
            ):
                continue
            column.replace(exp.func("ANY_VALUE", column.copy()))


def _grouped(column: exp.Column, grouped: set[tuple[str, str]]) -> bool:
    name, table = column.name.lower(), column.table.lower()
    if not table or ("", name) in grouped:
        return any(n == name for _, n in grouped)
    return (table, name) in grouped


def _ancestors(node: exp.Expr, top: exp.Expr) -> list[exp.Expr]:
    found = []
    parent = node.parent
    while parent is not None and parent is not top.parent:
        found.append(parent)
        parent = parent.parent
    return found


# --- UPDATE assignments ------------------------------------------------------------


def _assignments(tree: exp.Update, dialect: str) -> None:
    """Repeated and order-dependent SET assignments, as the dialect reads them."""
    assignments = tree.expressions
    if not all(isinstance(a, exp.EQ) and a.expression is not None for a in assignments):
        return  # not ``column = value`` each: the UPDATE itself refuses it, by name
    if dialect == "sqlite":
        last = {a.this.name.lower(): a for a in assignments}
        tree.set("expressions", [a for a in assignments if last[a.this.name.lower()] is a])
    elif dialect == "mysql":
        target = tree.this.alias_or_name.lower() if isinstance(tree.this, exp.Table) else None
        done: dict[str, exp.Expr] = {}
        order: list[str] = []
        for assignment in assignments:
            name = assignment.this.name.lower()
            value = assignment.expression.copy()
            if done:
                value = value.transform(lambda n: _earlier(n, done, target))
            if name not in done:
                order.append(name)
            done[name] = value
        first = {a.this.name.lower(): a.this for a in reversed(assignments)}
        tree.set("expressions", [exp.EQ(this=first[n].copy(), expression=done[n]) for n in order])


def _earlier(node: exp.Expr, done: Mapping[str, exp.Expr], target: str | None) -> exp.Expr:
    """A reference to a column an earlier MySQL assignment set reads that new value."""
    if (
        isinstance(node, exp.Column)
        and node.name.lower() in done
        and (not node.table or node.table.lower() == target)
    ):
        return exp.Paren(this=done[node.name.lower()].copy())
    return node
