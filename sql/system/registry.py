"""Dolt's system tables, table functions and informational functions, by name.

The SQL layer asks this module for every relation or function it does not find
among the user's tables; each answer is a ``pyarrow.Table`` that DuckDB scans, so
filters, joins and aggregates over them work like over any table.

    system_relation(name, args, ctx, filters=None) -> pa.Table | BatchStream | None
        ``name`` as written (any letter case). ``args`` None: a table reference
        (``FROM dolt_log``); a list: a table-function call with its evaluated
        arguments (``FROM dolt_diff('main', 'WORKING', 'labels')``). None when
        the name is not a system relation. ``filters`` maps a column name to
        the values that the query's ``column = value`` / ``column IN (...)``
        conjuncts allow: dolt_commit_diff_<t> needs from_commit and to_commit,
        and dolt_diff_<t> (to_commit, from_commit) and dolt_history_<t>
        (commit_hash) read fewer commits with them. The caller still applies
        its WHERE clause to the result, so unused filters are harmless.
        ``columns`` (lower-cased), when given, are the only columns the caller
        reads: dolt_history_<t> counts each version instead of decoding it when
        the caller reads none of the table's columns (the others ignore it).
    scalar_function(name, args, ctx) -> object | None
        active_branch(), dolt_hashof(ref) / hashof(ref), dolt_merge_base(a, b),
        has_ancestor(rev, ancestor) (true when ancestor is rev or reachable from it),
        dolt_version() (ArborDB's version), dolt_hashof_table(t [, rev]),
        dolt_hashof_db([rev]) (system/hashes.py); None when the name is not one of
        them (none of them returns NULL).
    system_table_names(ctx) -> list[str]
        Every system table name usable now, per-table ones for the tables of
        the session's working root included (for completion and docs).

``ctx`` is any object with ``db`` (engine ``Database``), ``workspace`` (the
session's engine ``Workspace``) and ``branch`` (its branch name). Columns,
meanings and costs of each relation are documented in the ``arbordb.sql.system``
modules. Errors are engine errors naming the table, revision or argument at
fault (``TableNotFound``, ``RevisionNotFound``, ``InvalidInput``); nothing here
writes to the repository.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from importlib.metadata import version as package_version

import pyarrow as pa

from arbordb.engine.errors import InvalidInput
from arbordb.engine.history import is_ancestor

from . import conflicts, diffs, hashes, history, log, patch, refs, remotes, stashes
from .common import BatchStream, SystemContext, base_of, commit_of, hash_text

__all__ = [
    "PER_TABLE_PREFIXES",
    "SCALAR_FUNCTION_NAMES",
    "SYSTEM_TABLE_NAMES",
    "TABLE_FUNCTION_NAMES",
    "SystemContext",
    "scalar_function",
    "system_relation",
    "system_table_names",
]

Filters = Mapping[str, Sequence[object]]

_TABLES: dict[str, Callable[..., pa.Table]] = {
    "dolt_log": log.log_table,
    "dolt_branches": refs.branches_table,
    "dolt_tags": refs.tags_table,
    "dolt_status": refs.status_table,
    "dolt_status_ignored": refs.status_ignored_table,
    "dolt_ignore": refs.ignore_table_before_insert,  # until a pattern is inserted
    "dolt_commits": log.commits_table,
    "dolt_commit_ancestors": log.ancestors_table,
    "dolt_diff": history.changes_table,
    "dolt_column_diff": history.column_changes_table,
    "dolt_conflicts": conflicts.conflicts_table,
    "dolt_schema_conflicts": conflicts.schema_conflicts_table,
    "dolt_merge_status": refs.merge_status_table,
    "dolt_constraint_violations": conflicts.violations_summary,
    "dolt_tests": lambda ctx: _data_tests().empty_tests_arrow(),  # until a test is inserted
    "dolt_remotes": remotes.remotes_table,
    "dolt_remote_branches": remotes.remote_branches_table,
    "dolt_stashes": stashes.stashes_table,
}

# the system tables above whose builder also takes the filters (ctx, filters)
_FILTERED = {"dolt_log", "dolt_commits", "dolt_commit_ancestors", "dolt_diff", "dolt_column_diff"}

# prefix -> builder(ctx, table name as written, filters); no prefix is a prefix of another
_PER_TABLE: dict[str, Callable[[SystemContext, str, Filters | None], pa.Table]] = {
    "dolt_diff_": history.table_diffs,
    "dolt_commit_diff_": history.commit_diffs,
    "dolt_history_": history.history_table,
    "dolt_blame_": lambda ctx, t, _: history.blame_table(ctx, t),
    "dolt_conflicts_": lambda ctx, t, _: conflicts.conflict_rows(ctx, t)[1],
    "dolt_constraint_violations_": lambda ctx, t, _: conflicts.violations_table(ctx, t),
}

_FUNCTIONS: dict[str, Callable[[SystemContext, Sequence[object] | None], pa.Table]] = {
    "dolt_diff": diffs.diff_function,
    "dolt_diff_stat": diffs.stat_function,
    "dolt_diff_summary": diffs.summary_function,
    "dolt_log": log.log_function,
    "dolt_patch": patch.patch_function,
    "dolt_schema_diff": diffs.schema_diff_function,
    "dolt_preview_merge_conflicts_summary": conflicts.preview_summary,
    "dolt_preview_merge_conflicts": conflicts.preview_conflicts,
    "dolt_test_run": lambda ctx, args: _data_tests().test_run(ctx, args),
    "dolt_reflog": stashes.reflog_function,
    "dolt_branch_status": refs.branch_status_function,
    "dolt_query_diff": lambda ctx, args: _query_diff().query_diff(ctx, args),
}


def _query_diff():
    """Runs queries, as data tests do: imported late (see ``_data_tests``)."""
    from ..procedures import query_diff

    return query_diff


def _data_tests():
    """sql/procedures/data_tests.py runs queries (sql/read/reads.py, which imports this
    module): imported late."""
    from ..procedures import data_tests

    return data_tests


SYSTEM_TABLE_NAMES: tuple[str, ...] = tuple(_TABLES)
PER_TABLE_PREFIXES: tuple[str, ...] = tuple(_PER_TABLE)
TABLE_FUNCTION_NAMES: tuple[str, ...] = tuple(_FUNCTIONS)
SCALAR_FUNCTION_NAMES: tuple[str, ...] = (
    "active_branch",
    "dolt_hashof",
    "hashof",
    "dolt_merge_base",
    "dolt_hashof_table",
    "dolt_hashof_db",
    "has_ancestor",
    "dolt_version",
)
_HASH_FUNCTIONS = {"dolt_hashof_table": hashes.hashof_table, "dolt_hashof_db": hashes.hashof_db}


def system_relation(
    name: str,
    args: Sequence[object] | None,
    ctx: SystemContext,
    *,
    filters: Filters | None = None,
    columns: Collection[str] | None = None,
) -> pa.Table | BatchStream | None:
    """The system table or table-function result ``name`` names, or None (see module docstring).

    Raises:
        TableNotFound: a per-table relation names a table the working root lacks.
        RevisionNotFound, AmbiguousPrefix: a revision argument or filter names nothing.
        InvalidInput: wrong arguments, a table function used as a table (or the
            reverse), or dolt_commit_diff_<t> without from_commit and to_commit.

    Example:
        >>> from types import SimpleNamespace
        >>> from arbordb.engine.db import Database
        >>> db = Database.memory()
        >>> ctx = SimpleNamespace(db=db, workspace=db.workspace(), branch="main")
        >>> system_relation("DOLT_LOG", None, ctx).column("message").to_pylist()
        ['Initialize data repository']
        >>> system_relation("my_table", None, ctx) is None
        True
    """
    key = name.lower()
    if args is not None:
        function = _FUNCTIONS.get(key)
        if function is not None:
            return function(ctx, args)
        if key in _TABLES or _split(key) is not None:
            raise InvalidInput(f"{name} is a system table, not a table function: write FROM {name}")
        return None
    wanted = {k.lower(): v for k, v in filters.items()} if filters else None
    table = _TABLES.get(key)
    if table is not None:
        return table(ctx, wanted) if key in _FILTERED else table(ctx)
    split = _split(key)
    if split is not None:
        prefix, _ = split
        suffix = name[len(prefix) :]
        if key in _FUNCTIONS and ctx.workspace.working.find(suffix) is None:
            raise _call_it(name)
        if prefix == "dolt_history_":
            return history.history_table(ctx, suffix, wanted, columns)
        return _PER_TABLE[prefix](ctx, suffix, wanted)
    if key in _FUNCTIONS:
        raise _call_it(name)
    return None


def _split(key: str) -> tuple[str, str] | None:
    for prefix in _PER_TABLE:
        if key.startswith(prefix) and len(key) > len(prefix):
            return prefix, key[len(prefix) :]
    return None


def _call_it(name: str) -> InvalidInput:
    return InvalidInput(
        f"{name} is a table function: call it with arguments, e.g. "
        f"SELECT * FROM {name}('HEAD~1', 'HEAD')"
    )


def scalar_function(name: str, args: Sequence[object], ctx: SystemContext) -> object | None:
    """active_branch(), dolt_hashof(ref) (alias hashof), dolt_merge_base(a, b),
    has_ancestor(rev, ancestor), dolt_version(), dolt_hashof_table(t [, rev]),
    dolt_hashof_db([rev]); None if not ours.

    Raises:
        InvalidInput: wrong arguments, or WORKING / STAGED where a commit is needed.
        RevisionNotFound: a revision names nothing, or two share no history.
    """
    key = name.lower()
    if key not in SCALAR_FUNCTION_NAMES:
        return None
    if key in _HASH_FUNCTIONS:
        return _HASH_FUNCTIONS[key](ctx, args)
    expected = {
        "active_branch": 0,
        "dolt_version": 0,
        "dolt_hashof": 1,
        "hashof": 1,
        "dolt_merge_base": 2,
        "has_ancestor": 2,
    }[key]
    given = list(args)
    values = [v for v in given if isinstance(v, str)]
    if len(given) != expected or len(values) != len(given):
        shape = ", ".join(["revision"] * expected)
        raise InvalidInput(f"{name}() takes {expected} text argument(s): {name}({shape})")
    if key == "active_branch":
        return ctx.branch
    if key == "dolt_version":
        return package_version("arbordb")
    if key == "has_ancestor":
        commit, ancestor = (commit_of(ctx, v) for v in values)
        return is_ancestor(ctx.workspace.loader, ancestor, commit)
    if expected == 1:
        return hash_text(commit_of(ctx, values[0]))
    return hash_text(base_of(ctx, values[0], values[1]))


def system_table_names(ctx: SystemContext) -> list[str]:
    """Fixed system tables, then each per-table relation of every working-root table."""
    tables = list(ctx.workspace.working)
    return list(SYSTEM_TABLE_NAMES) + [p + t for t in tables for p in PER_TABLE_PREFIXES]
