"""A SQL session: one branch's working set, a transaction over it, and statements run on it.

The DB-API connection, the REPL and the CLI are clients of ``Session``; it holds the
``Workspace`` of its branch (engine/workspace/), a private DuckDB connection that
runs the queries, and the caches that make repeated statements cheap.

Transaction state machine (``Session.state``; the methods named on the arrows make
the transitions)::

            _begin (first statement; reloads the branch if another writer moved it)
    IDLE ---------------------------------------------------------> READ
     ^ ^                                                             |
     | |  commit() / rollback()       _wrote (a statement changed    |
     | +----------------------------- the working set)               v
     |                                                   WRITE <-----+
     |        persisted                                    |
     +---------------------- COMMITTING <------------------+ commit()
     |                            |
     |   rollback() (automatic)   | the CAS lost, or storage failed
     +------------------------ FAILED

Invariants (cited as ``# invariant (n)``):

(1) A failed statement changes nothing: ``_run`` snapshots the workspace's roots (and
    the workspace itself, which ``dolt_checkout`` replaces) before each statement and
    restores them when it raises; the transaction stays open and usable.
(2) ``commit()`` is ``Workspace.persist()``: one compare-and-swap of the working set. A
    lost race raises ``TransactionConflict`` (retryable) after rolling the transaction
    back, so the session is IDLE again on the branch's new state; nothing was written.
(3) With ``autocommit`` every statement runs as its own transaction: _begin, the
    statement, then commit().
(4) Only IDLE reloads the workspace: a transaction reads one snapshot of its branch.
(5) At most one DuckDB result is pending on the connection; before DuckDB runs anything
    else, the pending result is fetched into Arrow (``_detach``).
(6) A result whose rows fail while being fetched raises that failure (translated) from
    its own fetch and nowhere else: the transaction stays open, ``rollback()`` still
    discards it, and the next statement runs as if the result had been read.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import duckdb
import pyarrow as pa
from sqlglot import exp

from arbordb.engine.cache import LruCache
from arbordb.engine.db import Database
from arbordb.engine.errors import BranchNotFound, CommitConflict

from ..errors import (
    InterfaceError,
    NotSupportedError,
    ObjectNotFound,
    OperationalError,
    ProgrammingError,
    SqlError,
    SqlParseError,
    TransactionConflict,
    translate,
)
from ..parse import nesting, semantics
from ..parse.dialect import ProcedureCall, parse, procedure_call
from ..parse.holes import param_index
from ..read import describe, operands, reads, relations, system_select
from ..read.python_scope import PythonScope
from ..write.dispatch import write_many, writer_for
from . import variables
from .fastpath import FastStatements, PointSelect, PointUpdate
from .in_list import InListUpdate
from .results import ArrowResult, DuckResult, Result, RowsResult

__all__ = ["Session", "State"]

STATEMENT_CACHE = 512  # parsed statements kept per session, by SQL text

# How operands.number_params spells the i-th ? (only parse errors' messages quote it).
_PARAM_MARKER = re.compile(r"[$:]__arbor_p\d+ ?")


class _CommandFallback(logging.Filter):
    """sqlglot logs a warning each time it reads a statement as an opaque command
    (``REPLACE INTO``, ``SHOW``, ``EXPLAIN``); the session handles those itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallback())


class State(StrEnum):
    IDLE = "idle"
    READ = "read"
    WRITE = "write"
    COMMITTING = "committing"
    FAILED = "failed"


# --- statements ------------------------------------------------------------------------


@dataclass
class _Statement:
    """One parsed statement and what compiling it produced (cached by SQL text)."""

    tree: exp.Expr
    source: str  # the SQL text it was parsed from (its cache key)
    template: reads.Template | None = None
    deep: bool = False  # nests deeply: runs on a large stack (sql/parse/nesting.py)
    typing: semantics.Typing | None = None  # how to type it again when the schema changes


_QUERIES = (exp.Query, exp.Values)


class Session:
    """One connection's state: branch, transaction, caches. See the module docstring.

    Args:
        db: the open repository.
        branch: the branch to work on (default: the repository's default branch).
        dialect: the SQL dialect statements are written in.
        read_only: refuse every statement that would change the repository.
        autocommit: run each statement as its own transaction (invariant (3)).
        cache_bytes: the most bytes of table data the session keeps (sql/read/kept.py).
    """

    def __init__(
        self,
        db: Database,
        *,
        branch: str | None = None,
        dialect: str = "duckdb",
        read_only: bool = False,
        autocommit: bool = False,
        cache_bytes: int = relations.DEFAULT_CACHE_BYTES,
    ) -> None:
        from ..parse.dialect import versioned_dialect

        versioned_dialect(dialect)  # UnsupportedDialect before anything is opened
        self.db = db
        self.dialect = dialect.lower()
        self.read_only = read_only
        self.autocommit = autocommit
        self.workspace = db.workspace(branch)
        self.duck = duckdb.connect(":memory:")
        self.relations = relations.Relations(self.duck, cache_bytes)
        self.temp_views: dict[str, str] = {}
        self.python_scope: PythonScope | None = None  # set by the DB-API per execute
        self.state = State.IDLE
        self.gc_counts: dict[str, int] = {}  # what this session's last dolt_gc did
        self.pending: DuckResult | None = None
        self.closed = False
        self._explicit = False  # BEGIN was run: autocommit waits for COMMIT / ROLLBACK
        self._statements: LruCache[str, tuple[list[_Statement], int]] = LruCache(STATEMENT_CACHE)
        self._fast = FastStatements()

    @property
    def branch(self) -> str:
        return self.workspace.branch

    # --- transactions ----------------------------------------------------------------

    def commit(self) -> None:
        """Persist the working set (invariant (2)); a no-op when nothing changed."""
        self._check_open()
        if self.state != State.WRITE:
            self.state = State.IDLE
            return
        self.state = State.COMMITTING
        try:
            self._fast.edits.settle(self)  # fastpath.py's pending rows, first
            self.workspace.persist()
        except CommitConflict as exc:
            raise self._lost_race(exc) from exc
        except Exception as exc:
            self.state = State.FAILED
            self.rollback()
            raise translate(exc) from exc
        self.state = State.IDLE

    def _lost_race(self, exc: CommitConflict) -> TransactionConflict:
        """COMMITTING -> FAILED -> IDLE: roll back after another writer moved the branch
        (invariant (2)); the error to raise."""
        self.state = State.FAILED
        self.rollback()
        error = TransactionConflict(
            f"branch {self.branch!r} was changed by another connection since this "
            "transaction began; nothing was written and the transaction was rolled back "
            "(the session now sees the branch's new state): run the transaction again"
        )
        error.engine_error = exc
        return error

    def rollback(self) -> None:
        """Discard the open transaction's changes; the session sees the branch afresh."""
        self._check_open()
        self._detach()
        self._fast.edits.discard()
        self.state = State.IDLE
        with contextlib.suppress(BranchNotFound):  # deleted by another connection: see _begin
            self.workspace.reload()

    def close(self) -> None:
        """Discard the open transaction and release the DuckDB connection."""
        if self.closed:
            return
        self.closed = True
        self.pending = None
        self._fast.edits.discard()
        self.duck.close()

    def _begin(self, *, leaving: bool = False) -> None:
        """IDLE -> READ: start a transaction on the branch's latest state (invariant (4)).

        A branch that another connection deleted has no state to read: every statement is
        refused, naming it, except ``dolt_checkout`` (``leaving``), which moves away."""
        if self.state != State.IDLE:
            return
        ws = self.workspace
        if ws.moved_since_read():
            try:
                ws.reload()
            except BranchNotFound as exc:
                if not leaving:
                    raise ObjectNotFound(
                        f"branch {ws.branch!r} was deleted by another connection; its "
                        "uncommitted changes are gone (check out another branch with "
                        "dolt_checkout)"
                    ) from exc
        self.state = State.READ

    def check_writable(self) -> None:
        """Refuse a change on a read-only connection."""
        if self.read_only:
            raise OperationalError(
                "this connection is read-only (opened with read_only=True); "
                "open another connection to change the repository"
            )

    def wrote(self) -> None:
        """Record that the transaction changed the working set (READ -> WRITE)."""
        self.check_writable()
        self.state = State.WRITE

    def persisted(self) -> None:
        """A version verb persisted the working set itself: nothing is left to commit."""
        self.state = State.READ

    def switch_branch(self, branch: str) -> None:
        """Work on ``branch`` from now on (dolt_checkout); the caller persisted the old one."""
        self._detach()
        self.workspace = self.db.workspace(branch)
        self.state = State.READ

    # --- running statements -------------------------------------------------------

    def execute(
        self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> Result:
        """Run ``;``-separated statements; returns the last one's result.

        Raises:
            SqlError: any failure, translated (invariant (1): the failed statement
                changed nothing; earlier statements of the text stay done).
        """
        if self.closed:
            self._check_open()  # raises
        fast = self._fast.get(sql) if type(sql) is str else None
        if fast is not None:
            done = self._run_fast(fast, params)
            if done is not None:
                return done
        statements, count = self._prepare(sql)
        if fast is None:  # an UPDATE's shape is known from its tree: even its first run is fast
            fast = self._fast.learn(sql, statements, count)
            done = self._run_fast(fast, params) if fast is not None else None
            if done is not None:
                return done
        params = _checked_params(params, count)
        result: Result = RowsResult([], None)
        for statement in statements:
            result = self._run(statement, params)
        self._fast.learn(sql, statements, count)
        return result

    def _run_fast(self, fast: PointSelect | PointUpdate | InListUpdate, params) -> Result | None:
        """A statement by its fast path (fastpath.py), or None to run it the general way;
        the transaction as ``_atomic`` keeps it (invariant (3))."""
        if self.state is State.IDLE:
            self._begin()
        result: Result | None
        if isinstance(fast, PointSelect):
            result = fast.run(self, params, self._fast.edits)
            if result is None:
                return None
        else:
            changed = fast.run(self, params, self._fast.edits)
            if changed is None:
                return None
            if self._fast.edits.full:  # memory stays bounded in a long transaction
                self._settle()
            result = RowsResult([], None, changed)
        if self.autocommit and not self._explicit:
            self.commit()
        return result

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[object]]) -> Result:
        """Run one statement for each parameter set, as one atomic statement.

        ``UPDATE t SET c = ?, ... WHERE <pk> = ?`` of a shape the fast path takes
        (fastpath.py ``PointUpdate.run_many``; repeated keys too) and, failing that,
        ``INSERT INTO t [(cols)] VALUES (?, ...)`` and ``UPDATE t SET ... WHERE <pk> = ?``
        with distinct keys write every row in one Arrow batch and one engine apply;
        other statements run once per parameter set.
        """
        self._check_open()
        statements, count = self._prepare(sql)
        if len(statements) != 1:
            raise ProgrammingError("executemany takes exactly one statement")
        (statement,) = statements
        rows = [_checked_params(p, count) for p in seq_of_params]

        def run() -> Result:
            fast = self._fast.learn(sql, statements, count)
            if isinstance(fast, PointUpdate):  # fastpath.py: one lookup, one apply
                counted = fast.run_many(self, rows)
                if counted is not None:
                    return RowsResult([], None, counted)
            self._retype(statement)
            counted = write_many(self, statement.tree, rows)
            if counted is not None:
                return RowsResult([], None, counted)
            total = 0
            for params in rows:
                total += max(self._dispatch(statement, params).rowcount, 0)
            return RowsResult([], None, total)

        if statement.deep:
            return nesting.run_deep(lambda: self._atomic(run))
        return self._atomic(run)

    def _prepare(self, sql: str) -> tuple[list[_Statement], int]:
        if not isinstance(sql, str):
            raise ProgrammingError(f"a statement must be a str, got {type(sql).__name__}")
        found = self._statements.get(sql)
        if found is not None:
            return found
        try:
            numbered, count = operands.number_params(sql, self.dialect)
        except Exception:  # text that does not tokenize: parse() words the error
            numbered, count = sql, 0
        deep = nesting.is_deep(sql)

        def parse_all() -> list[exp.Expr]:
            return [_replace_command(t, self.dialect) for t in parse(numbered, self.dialect)]

        try:
            trees = nesting.run_deep(parse_all) if deep else parse_all()
        except SqlParseError as error:
            if numbered != sql:  # word the error in the user's text, without the markers
                parse(sql, self.dialect)
                error.args = (_PARAM_MARKER.sub("?", str(error)),)
                error.near = _PARAM_MARKER.sub("?", error.near)
            raise
        except SqlError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

        def type_all() -> list[semantics.Typing | None]:
            return [semantics.Typing.of(t, self.dialect) for t in trees]

        typings = nesting.run_deep(type_all) if deep else type_all()
        found = (
            [
                _Statement(t, sql, deep=deep, typing=ty)
                for t, ty in zip(trees, typings, strict=True)
            ],
            count,
        )
        self._statements.put(sql, found)
        return found

    def _run(self, statement: _Statement, params) -> Result:
        if statement.deep:
            return nesting.run_deep(lambda: self._run_here(statement, params))
        return self._run_here(statement, params)

    def _run_here(self, statement: _Statement, params) -> Result:
        tree = statement.tree
        if isinstance(tree, exp.Transaction | exp.Commit | exp.Rollback):
            return self._transaction_statement(tree)
        if isinstance(tree, exp.Set):
            found = variables.assignments(tree)
            if found and any(a.marker or a.name.lower() == variables.AUTOCOMMIT for a in found):
                return self._set_variables(found)
        call = procedure_call(tree) if isinstance(tree, ProcedureCall) else None
        leaving = call is not None and call[0].lower() == "dolt_checkout"
        return self._atomic(lambda: self._dispatch(statement, params), leaving=leaving)

    def _atomic(self, work, *, leaving: bool = False) -> Result:
        """Run ``work`` as one statement of the transaction (invariants (1), (3))."""
        self._detach()
        self.relations.end_statement()  # the last statement's result no longer needs them
        self._begin(leaving=leaving)
        if self._fast.edits:  # a statement other than a fast path sees their rows
            self._settle()
        ws = self.workspace
        before = (ws, ws.working, ws.staged, ws.merge, ws.ws_address)
        try:
            result = work()
        except CommitConflict as exc:  # a version verb lost the race: the snapshot is stale
            raise self._lost_race(exc) from exc
        except BaseException as exc:
            self._restore(before)
            error = translate(self.relations.take_failure(exc), self.relations.names)
            if error is exc:
                raise
            raise error from exc
        if self.autocommit and not self._explicit:
            self.commit()
        return result

    def _settle(self) -> None:
        """Apply the fast UPDATEs' pending rows (fastpath.py). They were checked when
        each ran; should applying them fail all the same (storage), the transaction is
        rolled back and the failure raised."""
        try:
            self._fast.edits.settle(self)
        except Exception as exc:
            self.state = State.FAILED
            self.rollback()
            raise translate(exc) from exc

    def _restore(self, before) -> None:
        """Undo a failed statement (invariant (1))."""
        ws, working, staged, merge, ws_address = before
        self.workspace = ws
        if ws.ws_address == ws_address:  # a verb that persisted keeps what it wrote
            ws.working, ws.staged, ws.merge = working, staged, merge

    def _transaction_statement(self, tree: exp.Expr) -> Result:
        """BEGIN / COMMIT / ROLLBACK written as SQL (BEGIN suspends autocommit)."""
        if isinstance(tree, exp.Commit):
            self._explicit = False
            self.commit()
        elif isinstance(tree, exp.Rollback):
            self._explicit = False
            self.rollback()
        else:
            self._begin()
            self._explicit = True
        return RowsResult([], None)

    def _set_variables(self, found: list[variables.Assignment]) -> Result:
        """SET autocommit (variables.py): every assignment checked before any is made;
        turning autocommit on commits the open transaction, as MySQL does."""
        for assignment in found:
            if not assignment.marker and assignment.name.lower() != variables.AUTOCOMMIT:
                raise NotSupportedError(
                    f"SET {assignment.name} is DuckDB's setting and autocommit is ArborDB's; "
                    "set them in two SET statements"
                )
            refused = variables.refusal(assignment)
            if refused is not None:
                raise refused
        flags = [variables.autocommit_value(a) for a in found]
        if flags[-1] and not self.autocommit:
            self._explicit = False
            self.autocommit = True
            self.commit()
        self.autocommit = flags[-1]
        return RowsResult([], None)

    def _retype(self, statement: _Statement) -> None:
        """Type the statement with the current schema, as the dialect means it (semantics.py)."""
        if statement.typing is not None:
            typed = statement.typing.typed(self.workspace, self.dialect)
            if typed is not None:
                statement.tree, statement.template = typed, None

    def _dispatch(self, statement: _Statement, params) -> Result:
        self._retype(statement)
        tree = statement.tree
        if isinstance(tree, _QUERIES):
            return self._query(statement, params)
        if isinstance(tree, ProcedureCall):
            from ..procedures.call import call_procedure

            call = procedure_call(tree)
            assert call is not None  # a ProcedureCall is a CALL statement
            name, args = call
            values = [self._argument(a, params) for a in args]
            return ArrowResult(call_procedure(self, name, values))
        if isinstance(tree, exp.Describe) and isinstance(tree.this, exp.Table):
            return ArrowResult(describe.describe(self, tree.this))
        if isinstance(tree, exp.Describe) and isinstance(tree.this, _QUERIES):
            bound = reads.bind(reads.compile_query(tree.this), self, params)
            self._duck_run(f"DESCRIBE {bound.sql}", bound.params)
            return DuckResult(self)
        if _shows_tables(tree):
            return ArrowResult(describe.show_tables(self))
        shown = _shown_create_table(tree, self.dialect)
        if shown is not None:
            return ArrowResult(describe.show_create_table(self, shown))
        if isinstance(tree, exp.Set | exp.Pragma):
            self._duck_run(tree.sql("duckdb"), [])
            return DuckResult(self)
        if isinstance(tree, exp.Command) and tree.name.upper() == "EXPLAIN":
            return self._explain(tree, params)
        writer = writer_for(tree)
        if writer is not None:
            return RowsResult([], None, writer(self, tree, params))
        kind = f"{tree.name.upper()} statements" if isinstance(tree, exp.Command) else "this"
        raise NotSupportedError(
            f"ArborDB does not run {kind}: {statement.source.strip()[:80]!r} (it runs "
            "queries, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, CALL, DESCRIBE, SHOW "
            "TABLES and EXPLAIN)"
        )

    def _query(self, statement: _Statement, params) -> Result:
        if statement.template is None:
            # the cached tree is compiled in place; a failure leaves it half-rewritten,
            # so it is parsed afresh next time
            try:
                statement.template = reads.compile_query(statement.tree, copy=False)
            except BaseException:
                self._statements.discard([statement.source])
                raise
        template = statement.template
        if template.point is not None:
            found = reads.point_select(template.point, self, params)
            if found is not None:
                rows, columns = found
                return RowsResult(rows, [(name, t) for name, _, t in columns])
        answered = system_select.answer(template, self, params)  # one system table
        if answered is not None:
            return ArrowResult(answered)
        bound = reads.bind(template, self, params)
        self._duck_run(bound.sql, bound.params)
        return DuckResult(self)

    def _explain(self, tree: exp.Command, params) -> Result:
        text = _command_text(tree)
        if not text.strip():
            raise ProgrammingError("EXPLAIN takes a query, as in EXPLAIN SELECT * FROM t")
        statements, _ = self._prepare(text)
        (inner,) = statements
        if not isinstance(inner.tree, _QUERIES):
            raise NotSupportedError("EXPLAIN takes a query")
        bound = reads.bind(reads.compile_query(inner.tree), self, params)
        self._duck_run(f"EXPLAIN {bound.sql}", bound.params)
        return DuckResult(self)

    def _argument(self, node: exp.Expr, params) -> object:
        """The value of a procedure argument (a constant, parameter or expression)."""
        if isinstance(node, exp.Literal):  # the common case: no DuckDB round trip
            return node.this if node.is_string else node.to_py()
        index = param_index(node) if isinstance(node, exp.Placeholder) else None
        if index is not None and not isinstance(params, Mapping):
            value = params[index]  # a plain value is what DuckDB would hand back for ?
            if value is None or type(value) in (str, int, float, bool):
                return value
        template = reads.compile_query(exp.select(node.copy()))
        bound = reads.bind(template, self, params)
        return self.evaluate(bound.sql[len("SELECT ") :], bound.params)

    # --- DuckDB ---------------------------------------------------------------------

    def _duck_run(self, sql: str, params) -> None:
        """Run SQL on the DuckDB connection; the caller wraps its result in ``DuckResult``."""
        self._detach()
        self.duck.execute(sql, params)

    def query_arrow(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> pa.Table:
        """Run a query and fetch its whole result as Arrow (used by writes)."""
        self._detach()
        return self.duck.sql(sql, params=params or None).to_arrow_table()

    def query_batches(
        self, sql: str, params: Sequence[object] | Mapping[str, object], batch_rows: int
    ) -> pa.RecordBatchReader:
        """Run a query and read its result as a stream of Arrow batches of up to
        ``batch_rows`` rows (a streamed INSERT ... SELECT): DuckDB produces them as
        they are read, and the connection runs nothing else until the reader is
        drained or closed."""
        self._detach()
        return self.duck.sql(sql, params=params or None).to_arrow_reader(batch_rows)

    def query_columns(
        self, sql: str, params: Sequence[object] | Mapping[str, object]
    ) -> list[tuple[str, str]]:
        """(name, DuckDB type text) of each column a query returns, found without
        running it (nothing of a registered stream is read)."""
        self._detach()
        relation = self.duck.sql(sql, params=params or None)
        return [(n, str(t)) for n, t in zip(relation.columns, relation.types, strict=True)]

    def evaluate(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> object:
        """The value of one SQL expression (DuckDB syntax)."""
        self._detach()
        (row,) = self.duck.execute(f"SELECT {sql}", params or None).fetchall()
        return row[0]

    def _detach(self) -> None:
        if self.pending is not None:
            self.pending.detach()

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed; open a new one with arbordb.connect")


def _checked_params(
    params: Sequence[object] | Mapping[str, object] | None, count: int
) -> Sequence[object] | Mapping[str, object]:
    if params is None:
        params = ()
    if type(params) is not tuple and type(params) is not list:  # abc checks cost ~5 us
        if isinstance(params, Mapping):
            if count:
                raise ProgrammingError(
                    f"the statement has {count} ? placeholder(s) but the parameters are a "
                    "mapping; pass a sequence, or write $name placeholders"
                )
            return params
        if isinstance(params, str | bytes) or not isinstance(params, Sequence):
            raise ProgrammingError(
                f"parameters must be a sequence (for ?) or a mapping (for $name), "
                f"got {type(params).__name__}"
            )
    if len(params) != count:
        raise ProgrammingError(
            f"the statement has {count} ? placeholder(s) but {len(params)} parameter(s) were given"
        )
    return params


def _shows_tables(tree: exp.Expr) -> bool:
    if isinstance(tree, exp.Show):
        return tree.name.upper() == "TABLES"
    return _show_command(tree).upper() == "TABLES"


def _show_command(tree: exp.Expr) -> str:
    """What follows ``SHOW`` in a statement sqlglot kept as an opaque command, or ``""``."""
    if not isinstance(tree, exp.Command) or tree.name.upper() != "SHOW":
        return ""
    return _command_text(tree).strip()


def _shown_create_table(tree: exp.Expr, dialect: str) -> exp.Table | None:
    """The table reference of ``SHOW CREATE TABLE <ref>`` (with its ``AS OF``), read by
    this dialect's own parser as the reference of a ``SELECT``; None for other statements.
    (The mysql dialect parses the statement itself, without ``AS OF``.)"""
    if isinstance(tree, exp.Show) and tree.name.upper() == "CREATE TABLE":
        target = tree.args.get("target")
        if not isinstance(target, exp.Identifier):
            raise ProgrammingError(f"SHOW CREATE TABLE takes one table name, got {tree.sql()!r}")
        return exp.Table(this=target.copy(), db=_identifier_or_none(tree.args.get("db")))
    words = _show_command(tree).split(None, 2)
    if len(words) < 3 or [w.upper() for w in words[:2]] != ["CREATE", "TABLE"]:
        return None
    (select,) = parse(f"SELECT * FROM {words[2]}", dialect)
    source = select.args.get("from") or select.args.get("from_")
    reference = source.this if source is not None else None
    plain = isinstance(select, exp.Select) and not select.args.get("joins")
    if not plain or not isinstance(reference, exp.Table):
        raise ProgrammingError(f"SHOW CREATE TABLE takes one table name, got {words[2]!r}")
    return reference


def _identifier_or_none(node: exp.Expr | None) -> exp.Identifier | None:
    return node.copy() if isinstance(node, exp.Identifier) else None


def _command_text(tree: exp.Command) -> str:
    """The text after an opaque command's first word ('' when there is none)."""
    rest = tree.args.get("expression")
    return rest.name if isinstance(rest, exp.Expression) else str(rest or "")


def _replace_command(tree: exp.Expr, dialect: str) -> exp.Expr:
    """``REPLACE INTO ...`` (read by sqlglot as an opaque command) as an INSERT OR REPLACE."""
    if isinstance(tree, exp.Command) and tree.name.upper() == "REPLACE":
        statements = parse(f"INSERT {_command_text(tree)}", dialect)
        insert = statements[0] if len(statements) == 1 else None
        if isinstance(insert, exp.Insert):
            insert.set("alternative", "REPLACE")
            return insert
    return tree
