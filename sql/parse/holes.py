"""Holes: the parts of a compiled query that each execution fills in, as tree nodes.

A compiled query (sql/read/reads.py's ``Template``) is a DuckDB syntax tree in which what
depends on the session's state or the parameters is a node of its own:

    NODE                        STANDS FOR                        FILLED WITH
    TableHole(i)                table reference i of the query    its relation (an internal
                                                                  name or ``(subquery)``)
    FunctionHole(i)             active_branch(), dolt_hashof(),   the call's value, as a
                                dolt_merge_base() call i          SQL literal
    Placeholder '__arbor_p<i>'  the i-th ``?`` of the source      ``?``, params[i] passed on
                                (sql/read/operands.py numbers them)
    Placeholder '<name>'        a ``$name`` parameter             itself, params[name]

:func:`fill` writes the SQL of such a tree by generating it: each hole is written by
the generator when it reaches the node, so nothing is ever replaced in text and a
string literal that happens to spell a marker stays the literal it is.

Invariants (cited as ``# invariant (n)``):

(1) ``fill`` never changes the tree: the same template is filled again for the next
    execution.
(2) The positional parameters ``fill`` returns are in the order their ``?`` appear in
    the SQL it returns, whatever order they had in the source text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from .dialect import versioned_dialect

__all__ = ["PARAM_PREFIX", "Filled", "FunctionHole", "TableHole", "fill", "param_index"]

PARAM_PREFIX = "__arbor_p"  # the name sql/read/operands.py gives the i-th ``?`` placeholder

_DUCKDB = versioned_dialect("duckdb")()


class TableHole(exp.Expression):
    """The relation of table reference ``this`` (an int) of a query."""

    arg_types = {"this": True}


class FunctionHole(exp.Expression):
    """The value of version-control function call ``this`` (an int) of a query."""

    arg_types = {"this": True}


def param_index(node: exp.Expr) -> int | None:
    """The source position of a numbered ``?`` placeholder, or None for other nodes."""
    if isinstance(node, exp.Placeholder):
        name = node.name
        if name.startswith(PARAM_PREFIX) and name[len(PARAM_PREFIX) :].isdigit():
            return int(name[len(PARAM_PREFIX) :])
    return None


@dataclass(frozen=True)
class Filled:
    """The SQL of a filled tree, the ``?`` indices in SQL order, the ``$names`` used."""

    sql: str
    positional: tuple[int, ...]
    named: frozenset[str]


def _table_hole_sql(self: _Filler, expression: TableHole) -> str:
    return self.relations[expression.this]


def _function_hole_sql(self: _Filler, expression: FunctionHole) -> str:
    return self.sql(exp.convert(self.values[expression.this]))


def _placeholder_sql(self: _Filler, expression: exp.Placeholder) -> str:
    index = param_index(expression)
    if index is not None:
        self.positional.append(index)
        return "?"
    if expression.this:
        self.named.add(expression.name)
    return self.placeholder_sql(expression)


class _Filler(_DUCKDB.generator_class):  # type: ignore[name-defined,misc]
    """DuckDB's generator that writes holes from ``relations`` and ``values`` and
    records the parameters it writes."""

    TRANSFORMS = {
        **_DUCKDB.generator_class.TRANSFORMS,
        TableHole: _table_hole_sql,
        FunctionHole: _function_hole_sql,
        exp.Placeholder: _placeholder_sql,
    }

    def __init__(
        self, relations: Sequence[str], values: Sequence[object], **options: object
    ) -> None:
        super().__init__(dialect=_DUCKDB, **options)
        self.relations = relations
        self.values = values
        self.positional: list[int] = []
        self.named: set[str] = set()


def fill(
    tree: exp.Expr,
    relations: Sequence[str] = (),
    values: Sequence[object] = (),
    *,
    owned: bool = False,
) -> Filled:
    """DuckDB SQL for ``tree`` with its holes filled (invariants (1), (2)).

    Args:
        tree: a tree holding holes.
        relations: what ``TableHole(i)`` reads, by i.
        values: the value of ``FunctionHole(i)``, by i.
        owned: the caller will not fill ``tree`` again, so it need not be copied.
    """
    generator = _Filler(relations, values)
    sql = generator.generate(tree, copy=not owned)
    return Filled(sql, tuple(generator.positional), frozenset(generator.named))
