"""A table's history as relations, walking HEAD's commits.

    dolt_diff               commit_hash, table_name, committer, email, date, message,
                            data_change, schema_change
    dolt_column_diff        commit_hash, table_name, column_name, committer, email, date,
                            message, diff_type ('added', 'removed', 'modified')
    dolt_diff_<t>           to_<c>..., to_commit, to_commit_date, from_<c>..., from_commit,
    dolt_commit_diff_<t>    from_commit_date, diff_type
    dolt_history_<t>        <c>..., commit_hash, committer, commit_date
    dolt_blame_<t>          <primary key c>..., commit, commit_date, committer, email, message

Every per-table relation shows the table's columns as the session's working
root has them; older versions are matched to them by column tag (so a renamed
column keeps its history), with NULL for a column a version lacks.

``dolt_diff`` and ``dolt_diff_<t>`` diff every commit reachable from HEAD with
its first parent (the parentless first commit with an empty root; its
``from_commit`` is NULL) and add the working changes, HEAD to WORKING, under
``WORKING``. Each step is a tree diff, so the cost is the commits walked plus
what changed. ``dolt_history_<t>`` decodes the table once per distinct table
version (consecutive commits that left it alone share one decode).

``dolt_commit_diff_<t>`` diffs any two revisions, which the query must name:
the caller passes the equality filters it found on ``from_commit`` and
``to_commit`` (``filters``), and the relation holds one diff per named pair,
with ``from_commit`` / ``to_commit`` showing each revision as written (so the
caller's WHERE still matches). Without both, it is refused, as in Dolt.
``filters`` on ``to_commit`` / ``from_commit`` (dolt_diff_<t>) and
``commit_hash`` (dolt_history_<t>) narrow the walk the same way.

``dolt_blame_<t>`` gives each row of HEAD's version the last commit that
changed it, with git's rule at merges: a row equal to one parent's version is
passed on to that parent; a row that differs from every parent is blamed on the
merge. Tables without a primary key have no blame, as in Dolt.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.arrow_arrays import int64s, numpy_numbers, scalar, values_array
from arbordb.engine.cache import LruCache
from arbordb.engine.errors import InvalidInput, TableNotFound
from arbordb.engine.history import Commit, CommitLoader, LogEntry, ancestors, history
from arbordb.engine.root import EMPTY_ROOT, RootValue
from arbordb.engine.table import Schema, Table, decode_primary_keys, encode_primary_keys
from arbordb.engine.versioning.diff import TableDelta, changed_columns, table_deltas

from .common import (
    HASH,
    STAGED,
    TIME,
    WORKING,
    BatchStream,
    Endpoint,
    Layout,
    SystemContext,
    aligned_diff,
    constant,
    diff_columns,
    diff_relation,
    endpoint,
    hash_text,
    hashes,
    layout,
    pinned_commits,
    require_table,
)

Filters = Mapping[str, Sequence[object]]
BATCH_ROWS = 65_536  # rows per batch of a streamed relation


def _wanted(filters: Filters | None, column: str, value: str | None) -> bool:
    """False only when ``filters`` pins ``column`` to values that exclude ``value``."""
    if not filters or column not in filters:
        return True
    return value is not None and value in {str(v) for v in filters[column]}


def _commit_endpoint(ctx: SystemContext, address: bytes | None) -> Endpoint:
    """A commit as a diff endpoint; None is the empty root before the first commit."""
    ws = ctx.workspace
    if address is None:
        return Endpoint(None, EMPTY_ROOT, None, None)
    commit = ws.loader.load(address)
    return Endpoint(hash_text(address), ws.root(commit.root), address, commit.timestamp)


def _head_steps(
    ctx: SystemContext,
    filters: Filters | None = None,
    to: str = "to_commit",
    at: str = "from_commit",
) -> Iterator[tuple[Endpoint, Endpoint]]:
    """(from, to) for the working changes, then each commit of HEAD's history and its
    first parent; only the steps whose hashes ``filters`` allow on the columns ``to``
    and ``at`` (the others are never loaded)."""
    ws = ctx.workspace
    if _wanted(filters, to, WORKING) and _wanted(filters, at, hash_text(ws.head)):
        yield _commit_endpoint(ctx, ws.head), Endpoint(WORKING, ws.working, None, None)
    for entry in _head_commits(ws.loader, ws.head, pinned_commits(filters, to)):
        parent = entry.commit.parents[0] if entry.commit.parents else None
        if _wanted(filters, to, hash_text(entry.address)) and _wanted(
            filters, at, hash_text(parent)
        ):
            yield _commit_endpoint(ctx, parent), _commit_endpoint(ctx, entry.address)


def _head_commits(
    loader: CommitLoader, head: bytes, pinned: list[bytes] | None
) -> Iterable[LogEntry]:
    """``head``'s history in log order; only the ``pinned`` commits of it when given
    (looked up in the history index, engine/history/graph.py: no walk)."""
    if pinned is None:
        return ancestors(loader, head)
    index = history(loader, head)
    found = [(p, index.entries[p]) for p in map(index.position, pinned) if p is not None]
    return [entry for _, entry in sorted(found, key=lambda f: f[0])]


# --- dolt_diff ----------------------------------------------------------------------


_CHANGES_COLUMNS = {
    "commit_hash": HASH,
    "table_name": pa.string(),
    "committer": pa.string(),
    "email": pa.string(),
    "date": TIME,
    "message": pa.string(),
    "data_change": pa.bool_(),
    "schema_change": pa.bool_(),
}
Changes = tuple[tuple[str, bool, bool], ...]  # (table, data changed, schema changed)
# the tables a step changed, by the two roots' addresses (content hashes: never stale)
_step_changes: LruCache[tuple[bytes | None, bytes], Changes] = LruCache(4096)


def _changes(ctx: SystemContext, before: RootValue, after: RootValue) -> Changes:
    deltas = table_deltas(ctx.workspace.nodes, before, after)
    return tuple((d.name, d.data_changed, d.schema_changed or d.kind == "renamed") for d in deltas)


def _commit_changes(ctx: SystemContext, commit: Commit) -> Changes:
    """What ``commit`` changed against its first parent (remembered by root addresses)."""
    ws = ctx.workspace
    before = ws.loader.load(commit.parents[0]).root if commit.parents else None
    key = (before, commit.root)
    found = _step_changes.get(key)
    if found is None:
        parent = ws.root(before) if before is not None else EMPTY_ROOT
        found = _changes(ctx, parent, ws.root(commit.root))
        _step_changes.put(key, found)
    return found


def changes_table(ctx: SystemContext, filters: Filters | None = None) -> pa.Table:
    """The ``dolt_diff`` system table: which tables each commit (and WORKING) changed
    (only the commits ``filters`` allow on ``commit_hash``)."""
    ws = ctx.workspace
    steps: list[tuple[str | None, Commit | None, Changes]] = []
    if _wanted(filters, "commit_hash", WORKING):
        steps.append((WORKING, None, _changes(ctx, ws.head_root, ws.working)))
    for entry in _head_commits(ws.loader, ws.head, pinned_commits(filters, "commit_hash")):
        steps.append((hash_text(entry.address), entry.commit, _commit_changes(ctx, entry.commit)))
    return _commit_rows(steps, _CHANGES_COLUMNS, ("data_change", "schema_change"))


def _commit_rows(
    steps: Sequence[tuple[str | None, Commit | None, Sequence[tuple]]],
    names: Mapping[str, pa.DataType],
    own: Sequence[str],
) -> pa.Table:
    """A relation of ``names`` from steps of (commit label, commit or None for STAGED /
    WORKING, its changes: rows of (table name, the values of the ``own`` columns...)):
    the commit's columns (committer, email, date, message) filled from it."""
    columns: dict[str, list] = {k: [] for k in names}
    for label, commit, changes in steps:
        for table, *values in changes:
            columns["commit_hash"].append(label)
            columns["table_name"].append(table)
            columns["committer"].append(commit.author if commit else None)
            columns["email"].append(commit.email if commit else None)
            columns["date"].append(commit.timestamp if commit else None)
            columns["message"].append(commit.message if commit else None)
            for name, value in zip(own, values, strict=True):
                columns[name].append(value)
    return pa.table([values_array(columns[k], t) for k, t in names.items()], names=list(names))


# --- dolt_column_diff ---------------------------------------------------------------


_COLUMN_DIFF_COLUMNS = {
    "commit_hash": HASH,
    "table_name": pa.string(),
    "column_name": pa.string(),
    "committer": pa.string(),
    "email": pa.string(),
    "date": TIME,
    "message": pa.string(),
    "diff_type": pa.string(),
}
ColumnChanges = tuple[tuple[str, str, str], ...]  # (table, column, diff type)
_step_columns: LruCache[tuple[bytes | None, bytes], ColumnChanges] = LruCache(4096)


def _column_changes(ctx: SystemContext, before: RootValue, after: RootValue) -> ColumnChanges:
    key = (before.address, after.address)
    found = _step_columns.get(key)
    if found is None:
        deltas = table_deltas(ctx.workspace.nodes, before, after)
        found = tuple((d.name, c, kind) for d in deltas for c, kind in changed_columns(d))
        _step_columns.put(key, found)
    return found


def column_changes_table(ctx: SystemContext, filters: Filters | None = None) -> pa.Table:
    """The ``dolt_column_diff`` system table: which columns of which tables each commit
    of HEAD's history changed against its first parent, with the staged changes (HEAD to
    STAGED) as ``STAGED`` and the unstaged ones (STAGED to WORKING) as ``WORKING``."""
    ws = ctx.workspace
    steps: list[tuple[str | None, Commit | None, ColumnChanges]] = []
    if _wanted(filters, "commit_hash", WORKING):
        steps.append((WORKING, None, _column_changes(ctx, ws.staged, ws.working)))
    if _wanted(filters, "commit_hash", STAGED):
        steps.append((STAGED, None, _column_changes(ctx, ws.head_root, ws.staged)))
    for entry in _head_commits(ws.loader, ws.head, pinned_commits(filters, "commit_hash")):
        made = entry.commit
        parent = ws.root(ws.loader.load(made.parents[0]).root) if made.parents else EMPTY_ROOT
        steps.append(
            (hash_text(entry.address), made, _column_changes(ctx, parent, ws.root(made.root)))
        )
    return _commit_rows(steps, _COLUMN_DIFF_COLUMNS, ("column_name", "diff_type"))


# --- dolt_diff_<t>, dolt_commit_diff_<t> ------------------------------------------


def _step_rows(
    ctx: SystemContext, name: str, lay: Sequence[Layout], before: Endpoint, after: Endpoint
) -> pa.Table | None:
    from_name, to_name = before.root.find(name), after.root.find(name)
    from_addr = before.root[from_name] if from_name else None
    to_addr = after.root[to_name] if to_name else None
    if from_addr == to_addr:
        return None
    nodes = ctx.workspace.nodes
    delta = TableDelta(
        from_name,
        to_name,
        Table.load(nodes, from_addr, from_name) if from_addr and from_name else None,
        Table.load(nodes, to_addr, to_name) if to_addr and to_name else None,
    )
    rows = diff_relation(delta, lay, lay, before, after)
    return rows if rows.num_rows else None


def _concat(parts: list[pa.Table], names: list[str], types: list[pa.DataType]) -> pa.Table:
    if not parts:
        return pa.table([values_array([], t) for t in types], names=names)
    return pa.concat_tables(parts)


def table_diffs(ctx: SystemContext, name: str, filters: Filters | None = None) -> pa.Table:
    """``dolt_diff_<name>``: every commit-to-commit change of the table along HEAD, plus WORKING."""
    _, current = require_table(ctx, name, f"dolt_diff_{name}")
    lay = layout(current.schema)
    parts = []
    for before, after in _head_steps(ctx, filters):
        part = _step_rows(ctx, name, lay, before, after)
        if part is not None:
            parts.append(part)
    return _concat(parts, *diff_columns(lay, lay))


def commit_diffs(ctx: SystemContext, name: str, filters: Filters | None = None) -> pa.Table:
    """``dolt_commit_diff_<name>``: the diff for each (from_commit, to_commit) the filters name."""
    relation = f"dolt_commit_diff_{name}"
    _, current = require_table(ctx, name, relation)
    if not filters or "from_commit" not in filters or "to_commit" not in filters:
        raise InvalidInput(
            f"{relation} needs both from_commit and to_commit in the WHERE clause, e.g. "
            f"WHERE from_commit = HASHOF('HEAD~1') AND to_commit = HASHOF('HEAD') "
            f"(or use dolt_diff_{name} for HEAD's history, or dolt_diff(from, to, '{name}'))"
        )
    lay = layout(current.schema)
    parts = []
    for f in dict.fromkeys(str(v) for v in filters["from_commit"]):
        before = endpoint(ctx, f)
        for t in dict.fromkeys(str(v) for v in filters["to_commit"]):
            part = _step_rows(ctx, name, lay, before, endpoint(ctx, t))
            if part is not None:
                parts.append(part)
    return _concat(parts, *diff_columns(lay, lay))


# --- dolt_history_<t> --------------------------------------------------------------


def _key_filter(schema: Schema, filters: Filters | None) -> pa.Table | None:
    """The primary keys the filters pin (``WHERE id = 5`` or ``id IN (...)``), so that
    each version is probed by key instead of decoded whole; None when they pin none."""
    if not filters or schema.is_keyless:
        return None
    columns = {}
    for column in schema.key_columns:
        values = filters.get(column.name) or filters.get(column.name.lower())
        if not values or len(schema.primary_key) > 1 and len(values) != 1:
            return None
        try:
            columns[column.name] = values_array(list(values), column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            return None
    n = max(len(v) for v in columns.values())
    return pa.table({k: v if len(v) == n else pa.repeat(v[0], n) for k, v in columns.items()})


def _aligned(table: Table, lay: Sequence[Layout], keys: pa.Table | None = None) -> pa.Table:
    """The table's rows in the layout's columns, matched by tag (only ``keys`` if given)."""
    if keys is not None and list(table.schema.primary_key) == keys.column_names:
        data = table.get_many(keys)
    else:  # no pinned keys, or this version names its key columns differently
        data = table.to_arrow()
    names = {c.tag: c.name for c in table.schema.columns}
    arrays = []
    for tag, _, type_ in lay:
        if tag not in names:
            arrays.append(pa.nulls(data.num_rows, type_))
            continue
        column = data.column(names[tag]).combine_chunks()
        arrays.append(column if column.type == type_ else column.cast(type_, safe=False))
    return pa.table(arrays, names=[c.name for c in lay])


def _parts(version: pa.Table | int, lay: Sequence[Layout]) -> Iterator[tuple[int, list[pa.Array]]]:
    """(rows, the table's columns) of each batch of a version: its decoded rows, or
    NULLs when only its row count was read."""
    if isinstance(version, int):
        for start in range(0, version, BATCH_ROWS):
            n = min(BATCH_ROWS, version - start)
            yield n, [pa.nulls(n, c.type) for c in lay]
        return
    for batch in version.to_batches(max_chunksize=BATCH_ROWS):
        yield batch.num_rows, list(batch.columns)


def history_table(
    ctx: SystemContext,
    name: str,
    filters: Filters | None = None,
    columns: Collection[str] | None = None,
) -> BatchStream:
    """``dolt_history_<name>``: the table's rows at every commit of HEAD's history,
    made commit by commit as DuckDB reads them (``BatchStream``): the memory of one
    version of the table, not of the whole history.

    ``columns`` (lower-cased) are the only columns the reader uses, when it says so:
    if none of the table's is among them (``count(*)``, or only the commit columns),
    each version is counted instead of decoded and the table's columns are NULL."""
    _, current = require_table(ctx, name, f"dolt_history_{name}")
    lay = layout(current.schema)
    keys = _key_filter(current.schema, filters)
    counted = columns is not None and not any(c.name.lower() in columns for c in lay)
    ws = ctx.workspace
    names = [c.name for c in lay] + ["commit_hash", "committer", "commit_date"]
    types = [c.type for c in lay] + [HASH, pa.string(), TIME]
    schema = pa.schema(list(zip(names, types, strict=True)))

    pinned = pinned_commits(filters, "commit_hash")
    loader, head = ws.loader, ws.head

    def batches() -> Iterator[pa.RecordBatch]:
        decoded: dict[bytes, pa.Table | int] = {}  # the last version: consecutive commits share it
        for entry in _head_commits(loader, head, pinned):
            label = hash_text(entry.address)
            root = ws.root(entry.commit.root)
            found = root.find(name)
            if found is None:
                continue
            address = root[found]
            if address not in decoded:
                table = Table.load(ws.nodes, address, found)
                decoded = {address: table.count() if counted else _aligned(table, lay, keys)}
            for n, arrays in _parts(decoded[address], lay):
                c = entry.commit
                meta = [
                    constant(label, n, HASH),
                    constant(c.author, n, pa.string()),
                    constant(c.timestamp, n, TIME),
                ]
                yield pa.RecordBatch.from_arrays([*arrays, *meta], schema=schema)

    return BatchStream(schema, batches)


# --- dolt_blame_<t> ----------------------------------------------------------------


def _changed_keys(
    ctx: SystemContext, schema: Schema, name: str, parent: RootValue, child: RootValue
) -> pa.BinaryArray:
    """Keys of the rows the child added or changed relative to the parent."""
    p, c = parent.find(name), child.find(name)
    if c is None:  # the caller names a table of the child commit
        raise TableNotFound(child.missing_message(name))
    if p is not None and parent[p] == child[c]:
        return values_array([], pa.binary())
    nodes = ctx.workspace.nodes
    delta = TableDelta(
        p, c, Table.load(nodes, parent[p], p) if p else None, Table.load(nodes, child[c], c)
    )
    keys = [Layout(col.placed_tag, col.name, col.type) for col in schema.key_columns]
    rows = aligned_diff(delta, keys, [])
    kept = pc.not_equal(rows.diff_type, scalar("removed", pa.string()))
    return encode_primary_keys(schema, [a.filter(kept) for a in rows.to])


def blame_table(ctx: SystemContext, name: str) -> pa.Table:
    """``dolt_blame_<name>``: the last commit that changed each row of HEAD's version."""
    relation = f"dolt_blame_{name}"
    require_table(ctx, name, relation)
    ws = ctx.workspace
    head_root = ws.head_root
    found = head_root.find(name)
    if found is None:
        raise TableNotFound(
            f"{relation}: table {name!r} is not committed on branch {ws.branch!r} yet "
            "(blame shows committed rows; commit the table first)"
        )
    table = Table.load(ws.nodes, head_root[found], found)
    schema = table.schema
    if schema.is_keyless:
        raise InvalidInput(
            f"{relation}: table {found!r} has no primary key, so its rows cannot be blamed"
        )
    keys, _ = table.rows.scan()
    pending: dict[bytes, list[pa.BinaryArray]] = {ws.head: [keys]}
    blamed_keys: list[pa.BinaryArray] = []
    blamed_at: list[np.ndarray] = []
    commits: list[tuple[bytes, Commit]] = []
    for entry in ancestors(ws.loader, ws.head):
        todo = pending.pop(entry.address, None)
        if todo is None:
            continue
        remaining = pa.concat_arrays(todo) if len(todo) > 1 else todo[0]
        root = ws.root(entry.commit.root)
        for parent in entry.commit.parents:
            if len(remaining) == 0:
                break
            parent_root = ws.commit_root(parent)
            changed = _changed_keys(ctx, schema, found, parent_root, root)
            same = pc.invert(pc.is_in(remaining, value_set=changed))
            passed = remaining.filter(same)
            if len(passed):
                pending.setdefault(parent, []).append(passed)
            remaining = remaining.filter(pc.invert(same))
        if len(remaining):
            blamed_keys.append(remaining)
            blamed_at.append(np.full(len(remaining), len(commits)))
            commits.append((entry.address, entry.commit))
        if not pending:
            break
    who = pa.concat_arrays(blamed_keys) if blamed_keys else values_array([], pa.binary())
    at = np.concatenate(blamed_at) if blamed_at else np.zeros(0, np.int64)
    pick = int64s(at[numpy_numbers(pc.index_in(keys, value_set=who))] if len(keys) else at)
    columns = (
        decode_primary_keys(schema, keys)
        if len(keys)
        else [values_array([], t) for t in schema.key_types]
    )
    meta = {
        "commit": hashes([a for a, _ in commits]),
        "commit_date": values_array([c.timestamp for _, c in commits], TIME),
        "committer": values_array([c.author for _, c in commits], pa.string()),
        "email": values_array([c.email for _, c in commits], pa.string()),
        "message": values_array([c.message for _, c in commits], pa.string()),
    }
    names = list(schema.primary_key) + list(meta)
    return pa.table(columns + [m.take(pick) for m in meta.values()], names=names)
