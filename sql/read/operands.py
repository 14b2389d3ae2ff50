"""Operands: how a query template gets the values it needs before DuckDB runs.

A value a template needs at bind time (an ``AS OF`` revision, a table function's
argument, a value a WHERE conjunct compares a key with) is an ``Operand``: a literal,
a ``?`` or ``$name`` parameter, a version-control function call of the template, or
a DuckDB expression that DuckDB evaluates. Parameters in a parsed tree:

    PLACEHOLDER NODE     STANDS FOR                       sql/parse/holes.py WRITES IT AS
    '__arbor_p<i>'       the i-th ``?`` of the source     ``?``, with params[i] passed on
    '<name>'             a ``$name`` parameter            itself, with params[name]

Invariants (cited as ``# invariant (n)``):

(1) ``?`` placeholders are numbered in source order before parsing (``number_params``),
    so ``params[i]`` reaches the right place whatever order the DuckDB text puts them in
    (``LIMIT ?, ?`` becomes ``LIMIT ? OFFSET ?``). Numbering edits placeholder tokens
    only: a string literal is one token and is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlglot import exp

from ..parse.dialect import versioned_dialect
from ..parse.holes import FunctionHole, param_index

__all__ = [
    "NOT_CONSTANT",
    "Operand",
    "constant",
    "number_params",
    "operand",
    "spell_param",
]


@dataclass(frozen=True)
class Operand:
    """A value a template needs before DuckDB runs: ``const`` (a Python value),
    ``param`` (index into positional params), ``named`` (key of named params), ``fn``
    (index of a version-control function call of the template) or ``expr`` (a DuckDB
    expression tree, possibly with parameters and function holes, that DuckDB
    evaluates: sql/parse/holes.py fills it)."""

    kind: str
    value: Any


def number_params(sql: str, dialect: str) -> tuple[str, int]:
    """Rewrite each ``?`` placeholder as a numbered marker (invariant (1)).

    Returns:
        (the text with markers, how many ``?`` it had). Text without ``?`` comes back as is.

    Example:
        >>> number_params("SELECT ? FROM t LIMIT ?, ?", "sqlite")
        ('SELECT :__arbor_p0  FROM t LIMIT :__arbor_p1 , :__arbor_p2 ', 3)
        >>> number_params("SELECT '?'", "duckdb")
        ("SELECT '?'", 0)
        >>> number_params("SELECT ?, ''", "duckdb")
        ("SELECT $__arbor_p0 , '' ", 1)
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
    # and one at the end: after a "$name", sqlglot's tokenizer fails on a text ending in ''
    if not sql[at:][-1:].isspace():
        out.append(" ")
    return "".join(out), len(marks)


def spell_param(node: exp.Placeholder) -> None:
    """A numbered or named placeholder in DuckDB's spelling, ``$name``."""
    if isinstance(node.this, exp.Identifier):
        node.set("this", node.this.name)


def operand(node: exp.Expr) -> Operand:
    """How to get the value of an argument, AS OF or compared value (see ``Operand``)."""
    value = constant(node)
    if value is not NOT_CONSTANT:
        return Operand("const", value)
    if isinstance(node, FunctionHole):
        return Operand("fn", node.this)
    if isinstance(node, exp.Placeholder):
        index = param_index(node)
        if index is not None:
            return Operand("param", index)
        return Operand("named", node.name)
    copy = node.copy()
    for placeholder in copy.find_all(exp.Placeholder):
        spell_param(placeholder)
    return Operand("expr", copy)


NOT_CONSTANT = object()


def constant(node: exp.Expr) -> object:
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
