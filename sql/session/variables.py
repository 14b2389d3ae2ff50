"""``SET`` as Dolt and MySQL users write it, beside DuckDB's settings.

    SET autocommit = 0 | 1 | ON | OFF | TRUE | FALSE    the connection's autocommit, as
    SET @@autocommit = ...                              ``Connection.autocommit``: turning
    SET @@session.autocommit = ...                      it on commits the open
    SET SESSION autocommit = ...                        transaction (MySQL's rule)
    SET threads = 2, SET memory_limit = '1GB', ...      DuckDB's settings, run by DuckDB
    SET @@name = ... (any other system variable)        refused: ArborDB keeps no other
    SET @@global.name, SET GLOBAL autocommit            session or global variables, and
    SET @name = ...   (a user variable)                 no user variables

Each dialect's parser spells the variables differently (MySQL: ``SessionParameter`` for
``@@x`` and ``Parameter`` for ``@x``; DuckDB reads ``@`` as ``abs``; SQLite as a
parameter marker), so :func:`assignments` reads them back from the parsed tree. A
refusal changes nothing, and names the variable and what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ..errors import NotSupportedError, ProgrammingError

__all__ = ["AUTOCOMMIT", "Assignment", "assignments", "autocommit_value", "refusal"]

AUTOCOMMIT = "autocommit"
_TRUE = {"1", "ON", "TRUE"}
_FALSE = {"0", "OFF", "FALSE"}


@dataclass(frozen=True)
class Assignment:
    """One ``name = value`` of a SET: how the name was marked (``@@``, ``@`` or
    nothing), its scope (session or global, from either spelling), the value as text."""

    marker: str
    scope: str | None
    name: str
    value: str


def assignments(tree: exp.Set) -> list[Assignment] | None:
    """The assignments of a SET, or None when one of them is of a shape not read here
    (DuckDB then runs the statement as it is)."""
    found = []
    for item in tree.expressions:
        equation = item.this if isinstance(item, exp.SetItem) else None
        if not isinstance(equation, exp.EQ):
            return None
        target = _target(equation.this)
        if target is None:
            return None
        marker, scope, name = target
        kind = item.args.get("kind")
        if isinstance(kind, str) and kind:
            scope = kind.lower()
        found.append(Assignment(marker, scope, name, _value_text(equation.expression)))
    return found


def _target(node: exp.Expr) -> tuple[str, str | None, str] | None:
    """(marker, scope, name) of an assignment's left side in any dialect's tree."""
    if isinstance(node, exp.SessionParameter):  # MySQL: @@x, @@session.x
        kind = node.args.get("kind")
        return "@@", str(kind).lower() if kind else None, node.name
    if isinstance(node, exp.Abs):  # DuckDB: @ is abs
        inner = node.this
        if isinstance(inner, exp.Abs) and isinstance(inner.this, exp.Column):
            column = inner.this
            return "@@", column.table.lower() or None, column.name
        if isinstance(inner, exp.Column) and not inner.table:
            return "@", None, inner.name
        return None
    if isinstance(node, exp.Dot) and isinstance(node.this, exp.Parameter):  # SQLite @@s.x
        scope = _parameter(node.this)
        if scope is not None and scope[0] == "@@":
            return "@@", scope[2].lower(), node.expression.name
        return None
    if isinstance(node, exp.Parameter):
        return _parameter(node)
    if isinstance(node, exp.Column) and not node.table:
        return "", None, node.name
    return None


def _parameter(node: exp.Parameter) -> tuple[str, None, str] | None:
    """SQLite's and MySQL's ``@x`` (a parameter of a name) and SQLite's ``@@x``."""
    inner = node.this
    if isinstance(inner, exp.Parameter) and isinstance(inner.this, exp.Var):
        return "@@", None, inner.this.name
    if isinstance(inner, exp.Var):
        return "@", None, inner.name
    return None


def _value_text(node: exp.Expr) -> str:
    if isinstance(node, exp.Literal | exp.Var | exp.Identifier | exp.Column | exp.Boolean):
        return node.name if not isinstance(node, exp.Boolean) else str(node.this).upper()
    return node.sql()


def refusal(assignment: Assignment) -> NotSupportedError | None:
    """Why ArborDB will not run this assignment, or None when it will."""
    written = f"{assignment.marker}{assignment.name}"
    if assignment.scope == "global":
        return NotSupportedError(
            f"ArborDB has no global variables ({written}); SET autocommit applies to "
            "this connection, and arbordb.connect(..., autocommit=True) to a new one"
        )
    if assignment.marker == "@":
        return NotSupportedError(
            f"ArborDB has no user variables ({written}); pass the value as a ? parameter "
            "of the statement that uses it"
        )
    if assignment.marker == "@@" and assignment.name.lower() != AUTOCOMMIT:
        return NotSupportedError(
            f"ArborDB has no system variable {written}; the one it knows is @@autocommit "
            "(SET autocommit = 0 or 1), and DuckDB's settings are SET without @@ "
            "(SET threads = 2)"
        )
    return None


def autocommit_value(assignment: Assignment) -> bool:
    """The autocommit flag an assignment sets.

    Raises:
        ProgrammingError: the value is not 0, 1, ON, OFF, TRUE or FALSE.
    """
    value = assignment.value.strip("'\"").upper()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ProgrammingError(
        f"autocommit takes 0, 1, ON, OFF, TRUE or FALSE, not {assignment.value!r}"
    )
