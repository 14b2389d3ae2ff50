"""ArborDB's SQL dialects: sqlglot dialects that also read Dolt's version-control syntax.

A connection speaks one base dialect (``duckdb`` by default, or ``mysql``, ``postgres``,
``sqlite``). :func:`versioned_dialect` returns the subclass of that base, built once,
whose nested ``Tokenizer``, ``Parser`` and ``Generator`` merge the class tables listed
below with the parent's and change nothing else (STYLE G9: no fork, no monkey-patching).
Coded against sqlglot 30.30 (``pyproject.toml`` pins ``>=30.30,<31``), where a
dialect's classes live in ``sqlglot.parsers.*`` and ``sqlglot.generators.*``.

Grammar added, and the node each form becomes (``V`` is the ``exp.Version`` set as
``version`` on the ``exp.Table`` it follows; ``e`` is the revision expression)::

    SPELLING                              NODE
    t AS OF e                             V(this='VERSION',   kind='AS OF', expression=e)
    t AS OF TIMESTAMP e                   V(this='TIMESTAMP', kind='AS OF', expression=e)
    t VERSION AS OF e      (sqlglot's)    V(this='VERSION',   kind='AS OF', expression=e)
    t FOR SYSTEM_TIME AS OF e  (sqlglot)  V(this='TIMESTAMP', kind='AS OF', expression=e)
    CALL name(a, ...)                     ProcedureCall(this=Table(name), expressions=[a, ...])

``e`` and ``a`` are any expressions: strings (``'main'``, ``'v1'``, ``'HEAD~3'``,
``'main^'``, a hash prefix), typed literals, function calls, placeholders. ``e`` is
read at sqlglot's bitwise level: arithmetic binds (``AS OF NOW() - INTERVAL 1 DAY``),
MySQL's ``||`` (an OR) needs parentheses. A bare ``AS OF e`` may still name a time, as
in that example: the resolver decides by the value, as Dolt does, and
``this='TIMESTAMP'`` only records that the keyword was written.

Tables changed, per dialect:

    TABLE                          CHANGE
    Tokenizer.KEYWORDS             "CALL" -> TokenType.EXECUTE (was COMMAND)
    Tokenizer.COMMANDS             minus TokenType.EXECUTE
    Parser.VERSION_PHRASES         plus ("AS", "OF", "TIMESTAMP") and ("AS", "OF")
    Parser.TABLE_POSTFIX_TOKENS    plus TokenType.ALIAS
    Parser.STATEMENT_PARSERS       plus TokenType.EXECUTE -> _parse_execute
    Parser.CONSTRAINT_PARSERS,     plus "INDEX" and "KEY" -> _parse_inline_index, where
    Parser.SCHEMA_UNNAMED_CONSTRAINTS   the base lacks them (all but mysql): MySQL's
                                        ``INDEX|KEY [name] (col, ...)`` inside CREATE
                                        TABLE, as an exp.IndexColumnConstraint
    Generator.TRANSFORMS           plus exp.Version -> _version_sql,
                                        ProcedureCall -> _procedure_call_sql

Why ALIAS is a table postfix token: sqlglot's fast path for ``FROM t AS x`` reads the
alias before any version phrase is tried, so ``t AS OF ('main')`` would become an
alias ``OF`` with a column list. A postfix token sends the table to the full parser,
which tries VERSION_PHRASES before the alias. Cost: ``t AS x`` skips the fast path.

Why CALL is tokenised as EXECUTE: sqlglot keys statement parsers by token type, and
the base tokenizer marks CALL as a COMMAND, which swallows the rest of the statement
as one opaque string. EXECUTE is the token type sqlglot already gives to "invoke a
stored procedure" (T-SQL's ``EXEC``), and it stays usable as an identifier, so a
column named ``call`` still parses. A statement that really starts with ``EXECUTE``
(e.g. Postgres' prepared statements) still becomes an ``exp.Command`` with the same SQL.

Invariants (tests check each; comments cite them as ``# invariant (n)``):

(1) Every time-travel spelling above yields one ``exp.Version`` with ``kind == 'AS OF'``,
    so one code path resolves all of them.
(2) ``AS`` followed by ``OF`` after a table name always opens a version clause; the
    alias, if any, follows it (``t AS OF 'v1' AS old``, ``t AS OF 'v1' old``), and
    ``t AS OF ('main')`` is a revision, not an alias ``OF`` with a column list. A table
    aliased ``of`` is written without ``AS`` (``FROM t of``) or quoted (``t AS "of"``).
(3) Round trip: generating a tree with its versioned dialect and parsing the text
    again gives an equal tree, up to the base dialect's own rewrites (MySQL quotes
    reserved words such as ``call``). The generator writes the Dolt spelling
    (``AS OF e`` / ``AS OF TIMESTAMP e``) whichever spelling was read.
(4) Only ``AS OF`` versions with an expression reach callers: :func:`parse` rejects
    sqlglot's other version kinds (``FOR SYSTEM_TIME BETWEEN ...``, ``FROM ... TO``,
    ``ALL``, ``CONTAINED IN``), which ArborDB does not serve, and an ``AS OF`` that
    names no revision.
(5) :func:`to_duckdb` never emits a version clause: DuckDB cannot read one, so a tree
    that still holds one is refused with :class:`UnrewrittenAsOf`.
"""

from __future__ import annotations

import functools
import re
import types
from typing import Any, cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, DialectType
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.mysql import MySQL
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, TokenError
from sqlglot.generator import Generator
from sqlglot.parser import Parser
from sqlglot.tokens import TokenType

from arbordb.sql.errors import SqlParseError, UnrewrittenAsOf, UnsupportedDialect

from .statement_words import unknown_first_word

__all__ = [
    "SUPPORTED_DIALECTS",
    "ProcedureCall",
    "SqlParseError",
    "UnrewrittenAsOf",
    "UnsupportedDialect",
    "Versioned",
    "parse",
    "procedure_call",
    "table_versions",
    "to_duckdb",
    "versioned_dialect",
]

# The base dialects a connection may speak; the first is the default.
_BASES: dict[str, type[Dialect]] = {
    "duckdb": DuckDB,
    "mysql": MySQL,
    "postgres": Postgres,
    "sqlite": SQLite,
}
SUPPORTED_DIALECTS: tuple[str, ...] = tuple(_BASES)

# Longest phrase first: the parser takes the first phrase that matches, and the
# TIMESTAMP keyword must not be read as the start of a typed literal.  # invariant (1)
_AS_OF_PHRASES: dict[tuple[str, ...], str] = {
    ("AS", "OF", "TIMESTAMP"): "TIMESTAMP",
    ("AS", "OF"): "VERSION",
}

# How many characters of the statement around a parse error the message quotes.
_CONTEXT_CHARS = 40


# --- the CALL statement --------------------------------------------------------


class ProcedureCall(exp.Expression):
    """``CALL name(args...)``: ``this`` is the procedure name as an ``exp.Table``
    (possibly qualified), ``expressions`` the argument expressions in order."""

    arg_types = {"this": True, "expressions": False}

    def sql(self, dialect: DialectType = None, copy: bool = True, **opts: Any) -> str:
        """As ``Expr.sql``, but no dialect or a supported base name (``"duckdb"``) writes
        with its versioned dialect: the plain dialects have no generator for this node
        (and ``str()`` calls this with no dialect)."""
        if dialect is None or (isinstance(dialect, str) and dialect.lower() in _BASES):
            dialect = versioned_dialect(dialect or "duckdb")
        return super().sql(dialect, copy=copy, **opts)


def _parse_execute(self: Parser) -> exp.Expr:
    """Statement parser for the EXECUTE token: CALL becomes a ProcedureCall; a real
    EXECUTE statement keeps sqlglot's opaque Command, as before this dialect."""
    start = self._prev
    if start.text.upper() != "CALL":
        return self._parse_as_command(start)
    index = self._index
    if not self._parse_table_part(schema=True):
        self.raise_error("Expected a procedure name after CALL, as in CALL dolt_commit('-m', 'x')")
    self._retreat(index)
    name = self._parse_table_parts(schema=True)
    arguments = self._parse_wrapped_csv(self._parse_assignment, optional=True)
    return self.expression(ProcedureCall(this=name, expressions=arguments))


def _parse_inline_index(self: Parser) -> exp.IndexColumnConstraint | None:
    """``INDEX|KEY [name] (col, ...)`` after the word was read, or None when the word
    begins a column instead (``key TEXT``, ``index INT``): the parser then goes back
    and reads a column definition."""
    named = (
        self._curr is not None
        and self._curr.token_type in (TokenType.VAR, TokenType.IDENTIFIER)
        and self._next is not None
        and self._next.token_type == TokenType.L_PAREN
    )
    if not named and not self._match(TokenType.L_PAREN, advance=False):
        return None
    name = self._parse_id_var(any_token=False) if named else None
    columns = self._parse_wrapped_csv(self._parse_ordered)
    return self.expression(exp.IndexColumnConstraint(this=name, expressions=columns))


def _inline_index_parsers(base: type[Parser]) -> dict[str, Any]:
    missing = {"INDEX", "KEY"} - set(base.CONSTRAINT_PARSERS)
    return {word: _parse_inline_index for word in missing}


def _procedure_call_sql(self: Generator, expression: ProcedureCall) -> str:
    return f"CALL {self.sql(expression, 'this')}({self.expressions(expression, flat=True)})"


def _version_sql(self: Generator, expression: exp.Version) -> str:
    """Dolt's spelling for AS OF versions (invariant (3)); sqlglot's for the rest."""
    if expression.text("kind") != "AS OF":
        return Generator.version_sql(self, expression)
    keyword = "AS OF TIMESTAMP" if expression.name == "TIMESTAMP" else "AS OF"
    return f"{keyword} {self.sql(expression, 'expression')}"


# --- dialect classes -----------------------------------------------------------


def _extend(base: type[Dialect]) -> type[Dialect]:
    """Subclass ``base`` with the version-control tables merged into its own."""

    class VersionedTokenizer(base.tokenizer_class):  # type: ignore[name-defined,misc]
        KEYWORDS = {**base.tokenizer_class.KEYWORDS, "CALL": TokenType.EXECUTE}
        COMMANDS = base.tokenizer_class.COMMANDS - {TokenType.EXECUTE}

    class VersionedParser(base.parser_class):  # type: ignore[name-defined,misc]
        VERSION_PHRASES = {**_AS_OF_PHRASES, **base.parser_class.VERSION_PHRASES}
        # invariant (2): "t AS ..." goes to the full parser, which tries AS OF first
        TABLE_POSTFIX_TOKENS = base.parser_class.TABLE_POSTFIX_TOKENS | {TokenType.ALIAS}
        STATEMENT_PARSERS = {
            **base.parser_class.STATEMENT_PARSERS,
            TokenType.EXECUTE: _parse_execute,
        }
        CONSTRAINT_PARSERS = {
            **base.parser_class.CONSTRAINT_PARSERS,
            **_inline_index_parsers(base.parser_class),
        }
        SCHEMA_UNNAMED_CONSTRAINTS = base.parser_class.SCHEMA_UNNAMED_CONSTRAINTS | set(
            _inline_index_parsers(base.parser_class)
        )

    class VersionedGenerator(base.generator_class):  # type: ignore[name-defined,misc]
        TRANSFORMS = {
            **base.generator_class.TRANSFORMS,
            exp.Version: _version_sql,
            ProcedureCall: _procedure_call_sql,
        }

    body = {
        "__module__": __name__,
        "__doc__": f"{base.__name__} plus AS OF on table references and CALL statements.",
        "Tokenizer": VersionedTokenizer,
        "Parser": VersionedParser,
        "Generator": VersionedGenerator,
    }
    # sqlglot's dialect metaclass registers the class under its lower-cased name, so
    # sqlglot.parse(sql, read="versionedduckdb") also works.
    return types.new_class(
        f"Versioned{base.__name__}", (base,), exec_body=lambda ns: ns.update(body)
    )


def _key(name: str) -> str:
    key = name.lower()
    if key not in _BASES:
        raise UnsupportedDialect(name, SUPPORTED_DIALECTS)
    return key


# Built once, at import (about 1 ms each), so that concurrent first use cannot build
# and register two classes for one name.
_VERSIONED: dict[str, type[Dialect]] = {key: _extend(base) for key, base in _BASES.items()}
_DIALECTS: dict[str, Dialect] = {key: cls() for key, cls in _VERSIONED.items()}


def versioned_dialect(name: str = "duckdb") -> type[Dialect]:
    """The versioned subclass of a base dialect (one class per name, built at import).

    Args:
        name: one of :data:`SUPPORTED_DIALECTS`, case-insensitive.

    Returns:
        A ``sqlglot`` ``Dialect`` subclass named ``Versioned<Base>``.

    Raises:
        UnsupportedDialect: for any other name.

    Example:
        >>> versioned_dialect("sqlite").__name__
        'VersionedSQLite'
        >>> versioned_dialect("SQLite") is versioned_dialect("sqlite")
        True
    """
    return _VERSIONED[_key(name)]


Versioned = versioned_dialect("duckdb")


# --- public entry points -------------------------------------------------------


def parse(sql: str, dialect: str = "duckdb") -> list[exp.Expr]:
    """Parse ``;``-separated statements with the versioned form of ``dialect``.

    Empty statements (``;;``, a trailing ``;``) are dropped.

    Args:
        sql: the SQL text.
        dialect: the connection's base dialect, one of :data:`SUPPORTED_DIALECTS`.

    Returns:
        One syntax tree per statement, in order.

    Raises:
        SqlParseError: the text is not valid SQL in that dialect, or it uses a
            time-travel form other than AS OF (invariant (4)).
        UnsupportedDialect: ``dialect`` is not supported.

    Example:
        >>> [e.sql() for e in parse("SELECT 1; CALL dolt_commit('-m', 'x')")]
        ['SELECT 1', "CALL dolt_commit('-m', 'x')"]
    """
    reader = _DIALECTS[_key(dialect)]
    try:
        statements = [e for e in reader.parse(sql) if e is not None]
    except ParseError as error:
        raise _from_parse_error(error, sql, dialect) from error
    except TokenError as error:
        raise _from_token_error(error, sql, dialect) from error
    for statement in statements:
        for version in statement.find_all(exp.Version):
            if version.text("kind") != "AS OF" or version.expression is None:  # invariant (4)
                raise _unsupported_version(version, sql, dialect)
    return statements


def to_duckdb(expression: exp.Expr, pretty: bool = False) -> str:
    """DuckDB SQL for a tree, normally one whose AS OF tables were already rewritten.

    A tree parsed from another dialect is transpiled. Where the translation depends on
    types (SQLite's ``a / b`` of two integer columns is an integer division), the session
    types the tree with the catalog's schema first (sql/parse/semantics.py); untyped, ``a / b``
    stays DuckDB's ``/``. ``CALL`` statements are
    written as ``CALL name(args)``, which DuckDB also reads.

    Args:
        expression: a tree from :func:`parse` (any dialect), possibly rewritten.
        pretty: format the SQL over several lines.

    Returns:
        The SQL text.

    Raises:
        UnrewrittenAsOf: a table reference still has an AS OF clause (invariant (5)).

    Example:
        >>> to_duckdb(parse("SELECT `a` FROM t LIMIT 1, 2", "mysql")[0])
        'SELECT "a" FROM t LIMIT 2 OFFSET 1'
    """
    for table, version in table_versions(expression):
        if version is not None:  # invariant (5)
            clause = _DIALECTS["duckdb"].generate(table.args["version"])
            raise UnrewrittenAsOf(exp.table_name(table), clause)
    return _DIALECTS["duckdb"].generate(expression, pretty=pretty)


def table_versions(expression: exp.Expr) -> list[tuple[exp.Table, exp.Expr | None]]:
    """Every table reference in the tree with its AS OF expression, or None.

    Table functions (``FROM dolt_diff('main', 'WORKING', 't')``) are included: their
    ``Table.this`` is the function call. References are listed in tree (pre-)order,
    which is source order for the FROM/JOIN lists of one SELECT. ``CALL`` procedure
    names are not table references and are not listed.

    Whether a version names a time: ``table.args["version"].name == "TIMESTAMP"``.

    Example:
        >>> [(t.name, v and v.sql()) for t, v in table_versions(
        ...     parse("SELECT * FROM a AS OF 'main' x JOIN b ON x.id = b.id")[0])]
        [('a', "'main'"), ('b', None)]
    """
    pairs = []
    for table in expression.find_all(exp.Table, bfs=False):
        if isinstance(table.parent, ProcedureCall):
            continue
        version = table.args.get("version")
        pairs.append((table, version.expression if version is not None else None))
    return pairs


def procedure_call(expression: exp.Expr) -> tuple[str, list[exp.Expr]] | None:
    """The procedure name and arguments of a ``CALL`` statement, or None for others.

    The name is lower-cased, as SQL identifiers are case-insensitive, except for
    quoted parts; a qualified name keeps its dots (``db.proc``).

    Example:
        >>> name, args = procedure_call(parse("CALL DOLT_MERGE('feature', '--no-ff')")[0])
        >>> name, [a.name for a in args]
        ('dolt_merge', ['feature', '--no-ff'])
        >>> procedure_call(parse("SELECT dolt_commit('-m', 'x')")[0]) is None
        True
    """
    if not isinstance(expression, ProcedureCall):
        return None
    parts = [p.name if p.args.get("quoted") else p.name.lower() for p in expression.this.parts]
    return ".".join(parts), list(expression.expressions)


# --- error translation ---------------------------------------------------------


def _context(sql: str, start: int, end: int) -> str:
    """The statement text around ``sql[start:end]``, on one line."""
    before = max(start - _CONTEXT_CHARS, 0)
    snippet = sql[before : end + _CONTEXT_CHARS]
    return " ".join(snippet.split())


def _offset_of(sql: str, line: int, column: int) -> int:
    """Character offset of a 1-based (line, column) position."""
    lines = sql.split("\n")
    return sum(len(text) + 1 for text in lines[: line - 1]) + column - 1


# sqlglot's descriptions quote tokens as "<Token token_type: ..., text: X, line: ...>",
# and name its node classes where a clause is incomplete.
_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: .*?>")
_REQUIRED = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]+'>")


def _from_parse_error(error: ParseError, sql: str, dialect: str) -> SqlParseError:
    first = error.errors[0] if error.errors else {}
    near = first.get("highlight") or ""
    line = first.get("line") or 1
    # sqlglot reports the column of the token's last character; callers want its first.
    end_column = first.get("col") or 1
    column = max(end_column - len(near) + 1, 1) if "\n" not in near else end_column
    start = _offset_of(sql, line, column)
    description = _TOKEN_REPR.sub(r"'\1'", first.get("description") or str(error))
    description = description.replace("'SENTINEL'", "the end of the statement")
    description = _REQUIRED.sub(
        "an incomplete expression (a part it needs is missing)", description
    )
    description = description.replace("Invalid expression / Unexpected token", "unexpected text")
    word_line, word_column, word, hint = unknown_first_word(_DIALECTS[_key(dialect)], sql, start)
    if word:  # the statement starts with a word that starts no statement: point at it
        line, column, near = word_line, word_column, word
        start = _offset_of(sql, line, column)
        description = f"{word!r} does not start a statement ({hint})"
    return SqlParseError(
        description,
        line=line,
        column=column,
        near=near,
        context=_context(sql, start, start + len(near)),
        dialect=dialect,
    )


# The tokenizer's inner message, "Missing ' from <line>:<offset>", where <offset> is
# the 0-based character offset of the unterminated token in the whole text.
_TOKEN_POSITION = re.compile(r"from (\d+):(\d+)")


def _from_token_error(error: TokenError, sql: str, dialect: str) -> SqlParseError:
    cause = str(error.__cause__ or error)
    match = _TOKEN_POSITION.search(cause)
    offset = int(match.group(2)) if match else (error.start or 0)
    offset = min(offset, len(sql))
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    near = sql[offset : offset + 20].split("\n")[0]
    description = cause.split(" from ")[0] if match else "cannot split the text into tokens"
    return SqlParseError(
        f"{description} (an unterminated quote or an invalid literal)",
        line=line,
        column=column,
        near=near,
        context=_context(sql, offset, offset + len(near)),
        dialect=dialect,
    )


def _unsupported_version(version: exp.Version, sql: str, dialect: str) -> SqlParseError:
    table = version.parent
    name = table.this if isinstance(table, exp.Table) else None
    meta = name.meta if isinstance(name, exp.Identifier) else {}
    line = meta.get("line", 1)
    # Identifier positions, like parse errors, give the column of the last character.
    column = max(meta.get("col", 1) - len(name.name if name else "") + 1, 1)
    start = _offset_of(sql, line, column)
    if version.text("kind") == "AS OF":
        clause = f"{exp.table_name(cast(exp.Table, table))} AS OF"  # AS OF hangs off a table
        description = (
            "AS OF needs a revision: a branch, tag, commit hash or TIMESTAMP "
            '(to alias a table "of", write it without AS or quote it: AS "of")'
        )
    else:
        clause = version.sql("duckdb")  # sqlglot's own spelling of the clause
        description = (
            "ArborDB reads one revision per table reference; use AS OF '<revision>', "
            "or query dolt_history_<table> or dolt_diff for a range"
        )
    return SqlParseError(
        description,
        line=line,
        column=column,
        near=clause,
        context=_context(sql, start, start + len(clause)),
        dialect=dialect,
    )


@functools.lru_cache(maxsize=4096)
def quote_identifier(name: str, dialect: str = "duckdb") -> str:
    r"""``name`` as a quoted identifier of ``dialect``, written by sqlglot (``"a""b"`` in
    DuckDB, SQLite and Postgres, ``\`a\`\`b\``` in MySQL): the one quoting helper."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)
