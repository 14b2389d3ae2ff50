"""The commit graph as relations: dolt_log, dolt_log(...), dolt_commits, dolt_commit_ancestors.

    dolt_log / dolt_log(...)   commit_hash, committer, email, date, message, commit_order,
                               metadata [, parents with --parents] [, refs with --decorate
                               short|full]
    dolt_commits               commit_hash, committer, email, date, message, metadata
    dolt_commit_ancestors      commit_hash, parent_hash, parent_index

Order is git's and Dolt's log order: newest commit time first, but never a commit
before one of its children (:func:`newest_first`). ``commit_order`` is the commit's
height (1 for the first commit), as in Dolt. ``dolt_commits`` lists every commit
reachable from any branch or tag; the parentless first commit has one ancestors row
with a NULL parent, as Dolt documents. ``metadata`` (beyond Dolt) is the commit's
free-form metadata as JSON text (``Repo.commit(metadata=...)``; merges record their
applied resolution rules there); ``{}`` when it has none.

``dolt_log(...)`` arguments, each a separate text argument, as Dolt's:

    rev              commits reachable from rev (several: the union); none: HEAD
    'a..b'           reachable from b but not from a (same as 'b', '^a')
    'a...b'          reachable from exactly one of a and b
    '^rev', '--not rev ...'   exclude what rev reaches
    '--first-parent' follow first parents only
    '--merges', '--min-parents N'   only commits with at least 2 / N parents
    '--parents'      add the parents column (space-separated hashes)
    '--decorate short|full|no|auto'   add the refs column (auto and no add none)
    '--tables t1,t2 ...'   only commits that changed one of the tables (against
                     their first parent)
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

import pyarrow as pa

from arbordb.engine.arrow_arrays import values_array
from arbordb.engine.errors import InvalidInput
from arbordb.engine.history import Commit, LogEntry, ancestors, history
from arbordb.engine.root import EMPTY_ROOT

from .common import SystemContext, commit_of, hashes, pinned_commits, text_args, times

Filters = Mapping[str, Sequence[object]]
LOG_COLUMNS = ["commit_hash", "committer", "email", "date", "message", "commit_order", "metadata"]
_USAGE = "dolt_log([revision ...] [, '--first-parent'] [, '--merges'] [, '--parents'] ...)"


def newest_first(entries: Iterable[LogEntry]) -> list[LogEntry]:
    """``entries`` newest commit time first, never a commit before one of its children
    (git's and Dolt's log order: a heap of the commits whose children are all shown,
    latest time first, then greatest height, then address)."""
    chosen = {e.address: e for e in entries}
    waiting = dict.fromkeys(chosen, 0)  # children in ``chosen`` not shown yet
    for entry in chosen.values():
        for parent in set(entry.commit.parents):
            if parent in waiting:
                waiting[parent] += 1
    ready = [_rank(e) for e in chosen.values() if waiting[e.address] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        entry = chosen[heapq.heappop(ready)[3]]
        out.append(entry)
        for parent in set(entry.commit.parents):
            if parent in waiting:
                waiting[parent] -= 1
                if waiting[parent] == 0:
                    heapq.heappush(ready, _rank(chosen[parent]))
    return out


def _rank(entry: LogEntry) -> tuple[int, int, bytes, bytes]:
    return (-entry.commit.timestamp, -entry.commit.height, entry.address, entry.address)


def _commit_table(entries: Sequence[LogEntry], with_order: bool) -> pa.Table:
    commits = [e.commit for e in entries]
    arrays = [
        hashes([e.address for e in entries]),
        values_array([c.author for c in commits], pa.string()),
        values_array([c.email for c in commits], pa.string()),
        times([c.timestamp for c in commits]),
        values_array([c.message for c in commits], pa.string()),
    ]
    names = LOG_COLUMNS[:5]
    if with_order:
        arrays.append(values_array([c.height for c in commits], pa.int64()))
        names = LOG_COLUMNS[:6]
    arrays.append(
        values_array([json.dumps(c.metadata, sort_keys=True) for c in commits], pa.string())
    )
    return pa.table(arrays, names=[*names, "metadata"])


_BUILT: dict[tuple, pa.Table] = {}  # (relation, heads...) -> its rows; commits never change
_BUILT_LIMIT = 16


def _built(key: tuple, build: Callable[[], pa.Table]) -> pa.Table:
    """A history relation by the heads it was walked from (they fix every row)."""
    found = _BUILT.get(key)
    if found is None:
        found = build()
        if len(_BUILT) >= _BUILT_LIMIT:
            _BUILT.clear()
        _BUILT[key] = found
    return found


def _pinned_entries(
    ctx: SystemContext, heads: Iterable[bytes | None], filters: Filters | None
) -> list[LogEntry] | None:
    """The commits ``filters`` pin ``commit_hash`` to that one of ``heads`` reaches,
    in log order, read through the heads' history indexes (engine/history/graph.py:
    a lookup per commit, no walk); None when the filters pin no commit hash."""
    pinned = pinned_commits(filters, "commit_hash")
    if pinned is None:
        return None
    loader = ctx.workspace.loader
    indexes = [history(loader, h) for h in heads if h is not None]
    found = {}
    for address in pinned:
        for index in indexes:
            entry = index.entry(address)
            if entry is not None:
                found[address] = entry
                break
    return newest_first(found.values())


def log_table(ctx: SystemContext, filters: Filters | None = None) -> pa.Table:
    """The ``dolt_log`` system table: HEAD's history."""
    ws = ctx.workspace
    pinned = _pinned_entries(ctx, [ws.head], filters)
    if pinned is not None:
        return _commit_table(pinned, True)

    def build() -> pa.Table:
        return _commit_table(newest_first(history(ws.loader, ws.head).entries), True)

    return _built(("log", ws.head), build)


def all_commits(ctx: SystemContext) -> list[LogEntry]:
    """Every commit reachable from a branch or tag, in log order."""
    db, ws = ctx.db, ctx.workspace
    heads = set(db.refs.branches().values()) | {ws.head}
    heads |= {tag.target for _, tag in db.tags()}
    seen: dict[bytes, LogEntry] = {}
    for head in heads:
        if head is not None:
            seen.update((e.address, e) for e in history(ws.loader, head).entries)
    return newest_first(seen.values())


def _heads(ctx: SystemContext) -> tuple[bytes | None, ...]:
    db, ws = ctx.db, ctx.workspace
    heads = set(db.refs.branches().values()) | {ws.head}
    heads |= {tag.target for _, tag in db.tags()}
    return tuple(sorted(heads, key=lambda h: h or b""))


def commits_table(ctx: SystemContext, filters: Filters | None = None) -> pa.Table:
    """The ``dolt_commits`` system table: every commit a branch or tag reaches."""
    heads = _heads(ctx)
    pinned = _pinned_entries(ctx, heads, filters)
    if pinned is not None:
        return _commit_table(pinned, False)

    def build() -> pa.Table:
        return _commit_table(all_commits(ctx), False)

    return _built(("commits", *heads), build)


def _ancestor_rows(entries: Iterable[LogEntry]) -> pa.Table:
    children, parents, positions = [], [], []
    for entry in entries:
        for i, parent in enumerate(entry.commit.parents or (None,)):
            children.append(entry.address)
            parents.append(parent)
            positions.append(i)
    return pa.table(
        [hashes(children), hashes(parents), values_array(positions, pa.int32())],
        names=["commit_hash", "parent_hash", "parent_index"],
    )


def ancestors_table(ctx: SystemContext, filters: Filters | None = None) -> pa.Table:
    """The ``dolt_commit_ancestors`` system table: each commit's parents, by position."""
    heads = _heads(ctx)
    pinned = _pinned_entries(ctx, heads, filters)
    if pinned is not None:
        return _ancestor_rows(pinned)
    return _built(("ancestors", *heads), lambda: _ancestor_rows(all_commits(ctx)))


# --- dolt_log(...) -----------------------------------------------------------------


class _LogArgs:
    def __init__(self) -> None:
        self.include: list[str] = []
        self.exclude: list[str] = []
        self.symmetric: list[tuple[str, str]] = []
        self.first_parent = False
        self.min_parents = 0
        self.parents = False
        self.decorate = "no"
        self.tables: list[str] = []


def _parse(values: list[str]) -> _LogArgs:
    out = _LogArgs()
    i, negate = 0, False
    while i < len(values):
        arg = values[i]
        flag, _, inline = arg.partition("=")

        def operand(flag: str = flag, inline: str = inline) -> str:
            nonlocal i
            if inline:
                return inline
            i += 1
            if i >= len(values):
                raise InvalidInput(f"dolt_log(): {flag} needs a value; call it as {_USAGE}")
            return values[i]

        if arg == "--not":
            negate = True
        elif arg == "--first-parent":
            out.first_parent = True
        elif arg == "--merges":
            out.min_parents = max(out.min_parents, 2)
        elif flag == "--min-parents":
            text = operand()
            if not text.isdigit():
                raise InvalidInput(f"dolt_log(): --min-parents needs a whole number, got {text!r}")
            out.min_parents = int(text)
        elif arg == "--parents":
            out.parents = True
        elif flag == "--decorate":
            out.decorate = operand()
            if out.decorate not in ("short", "full", "no", "auto"):
                raise InvalidInput(
                    f"dolt_log(): --decorate takes short, full, no or auto, got {out.decorate!r}"
                )
        elif flag == "--tables":
            first = operand()
            names = [first]
            while i + 1 < len(values) and not values[i + 1].startswith("-"):
                i += 1
                names.append(values[i])
            out.tables += [t.strip() for n in names for t in n.split(",") if t.strip()]
        elif arg.startswith("-") and not arg.startswith("^"):
            raise InvalidInput(f"dolt_log(): unknown option {arg!r}; call it as {_USAGE}")
        elif "..." in arg:
            a, b = arg.split("...", 1)
            out.symmetric.append((a, b))
        elif ".." in arg:
            a, b = arg.split("..", 1)
            out.exclude.append(a)
            out.include.append(b)
        elif arg.startswith("^"):
            out.exclude.append(arg[1:])
        elif negate:
            out.exclude.append(arg)
        else:
            out.include.append(arg)
        i += 1
    return out


def _reach(ctx: SystemContext, heads: Iterable[bytes], first_parent: bool) -> dict[bytes, LogEntry]:
    out: dict[bytes, LogEntry] = {}
    for head in heads:
        for entry in ancestors(ctx.workspace.loader, head, first_parent=first_parent):
            out.setdefault(entry.address, entry)
    return out


def log_function(ctx: SystemContext, args: Sequence[object] | None) -> pa.Table:
    """The ``dolt_log(...)`` table function (see the module docstring)."""
    values = text_args("dolt_log", args, 0, len(args or ()), _USAGE)
    spec = _parse(values)
    fp = spec.first_parent
    chosen: dict[bytes, LogEntry] = {}
    for a, b in spec.symmetric:
        left = _reach(ctx, [commit_of(ctx, a)], fp)
        right = _reach(ctx, [commit_of(ctx, b)], fp)
        both = left.keys() & right.keys()
        chosen.update((k, v) for k, v in {**left, **right}.items() if k not in both)
    if spec.include or not spec.symmetric:
        heads = [commit_of(ctx, r) for r in spec.include] or [ctx.workspace.head]
        chosen.update(_reach(ctx, heads, fp))
    if spec.exclude:
        gone = _reach(ctx, [commit_of(ctx, r) for r in spec.exclude], fp)
        chosen = {k: v for k, v in chosen.items() if k not in gone}
    entries = newest_first(chosen.values())
    if spec.min_parents:
        entries = [e for e in entries if len(e.commit.parents) >= spec.min_parents]
    if spec.tables:
        entries = [e for e in entries if _touches(ctx, e.commit, spec.tables)]
    table = _commit_table(entries, True)
    if spec.parents:
        text = [" ".join(h for h in hashes(e.commit.parents).to_pylist()) for e in entries]
        table = table.append_column("parents", values_array(text, pa.string()))
    if spec.decorate in ("short", "full"):
        table = table.append_column("refs", _decorations(ctx, entries, spec.decorate == "full"))
    return table


def _touches(ctx: SystemContext, commit: Commit, tables: Sequence[str]) -> bool:
    ws = ctx.workspace
    root = ws.root(commit.root)
    parent = ws.commit_root(commit.parents[0]) if commit.parents else EMPTY_ROOT
    for name in tables:
        now, before = root.find(name), parent.find(name)
        if (root[now] if now else None) != (parent[before] if before else None):
            return True
    return False


def _decorations(ctx: SystemContext, entries: Sequence[LogEntry], full: bool) -> pa.Array:
    names: dict[bytes, list[str]] = {}
    head_prefix, tag_prefix = ("refs/heads/", "refs/tags/") if full else ("", "tag: ")
    for name, head in sorted(ctx.db.refs.branches().items()):
        label = head_prefix + name
        if name == ctx.branch:
            label = "HEAD -> " + label
            names.setdefault(head, []).insert(0, label)
        else:
            names.setdefault(head, []).append(label)
    for name, tag in ctx.db.tags():
        names.setdefault(tag.target, []).append(tag_prefix + name)
    return values_array([", ".join(names.get(e.address, [])) for e in entries], pa.string())
