"""``Repo``: the plain Python API to a repository's version graph, without SQL.

    >>> import pyarrow as pa, tempfile
    >>> repo = Repo(tempfile.mkdtemp())
    >>> repo.write("labels", pa.table({"id": [1, 2], "label": ["cat", "dog"]}), primary_key=["id"])
    >>> len(repo.commit("first labels")) == 32
    True
    >>> repo.branch("relabel"); repo.checkout("relabel")
    >>> repo.write("labels", pa.table({"id": [2], "label": ["cat"]}), mode="upsert")
    >>> repo.diff("main", "WORKING", "labels").column("diff_type").to_pylist()
    ['modified']

It holds one branch's ``Workspace``; every method that changes state persists
it at once (there is no separate transaction here, unlike the SQL connection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import pyarrow as pa

from . import checkout, clean, stashes
from .chunks.lmdb_store import LmdbChunkStore
from .chunks.spill_behind import SpillBehind
from .config import Config
from .db import REPO_DIR, Database
from .errors import InvalidInput, TableNotFound
from .hash import format_address
from .history import peel
from .history.reflog import reflog_ref
from .history.refs import BRANCH_PREFIX, REMOTE_PREFIX, TAG_PREFIX
from .remote import config as remote_config
from .remote import sync
from .table import Column, Schema, Table
from .tree.stream import Split
from .versioning.diff import TableDelta, row_diff, table_deltas
from .versioning.merge import MergeOptions
from .versioning.row_history import row_history
from .workspace import MergeOutcome


class Repo:
    """A repository on disk (created when missing), checked out at one branch."""

    def __init__(
        self,
        path: str | Path,
        *,
        branch: str | None = None,
        create: bool = True,
        initial_branch: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> None:
        """Open the repository at ``path``; one made here starts on ``initial_branch``
        (default: the ``init.defaultbranch`` setting, else ``main``) with a first commit
        by ``author`` (default: the configured ``user.name``/``user.email``)."""
        self.db = Database.open(path, create=create, initial_branch=initial_branch, author=author)
        self.ws = self.db.workspace(branch)

    @property
    def config(self) -> Config:
        """The settings this repository sees (``user.name``, ``user.email``, ...)."""
        return self.db.config

    # --- branches ---------------------------------------------------------------

    @property
    def branches(self) -> list[str]:
        return [b.name for b in self.db.branches()]

    @property
    def active_branch(self) -> str:
        return self.ws.branch

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.db.create_branch(name, start, branch=self.ws.branch)

    def delete_branch(self, name: str, *, force: bool = False) -> None:
        self.db.delete_branch(name, force=force, current=self.ws.branch)

    def checkout(
        self, name: str, *, create: bool = False, move: bool = False, force: bool = False
    ) -> None:
        """Switch branches in O(1). Uncommitted changes stay on the branch they were made
        on (as in SQL), or with ``move`` go along to ``name`` as Dolt's CLI carries them
        (refused, naming the tables, when ``name``'s HEAD has them otherwise);
        ``force`` discards them (``checkout -f``)."""
        if create:  # at HEAD: the changes always carry there
            self.branch(name)
        other = self.db.workspace(name)  # BranchNotFound before anything is written
        if move or force:
            checkout.move_changes(self.ws, other, force=force)
        else:
            self.ws.persist()
        self.ws = self.db.workspace(name)

    def tag(self, name: str, revision: str = "HEAD", message: str = "") -> None:
        self.db.create_tag(name, revision, message=message, branch=self.ws.branch)

    # --- reading ------------------------------------------------------------------

    def tables(self, as_of: str | None = None) -> list[str]:
        root = self.ws.working if as_of is None else self.ws.root_at(as_of)
        return list(root)

    def table(self, name: str, as_of: str | None = None) -> pa.Table:
        """The rows of ``name`` at a revision (branch, tag, hash, HEAD~N, WORKING...)."""
        root = self.ws.working if as_of is None else self.ws.root_at(as_of)
        return self.ws.table(name, root).to_arrow()

    def table_hash(self, name: str, as_of: str | None = None) -> str:
        """The content hash of ``name`` at a revision (default: the working root), as SQL's
        ``dolt_hashof_table``: equal whenever schema and rows are, whatever the history."""
        root = self.ws.working if as_of is None else self.ws.root_at(as_of)
        found = root.find(name)
        if found is None:
            raise TableNotFound(root.missing_message(name, f" at {as_of or 'WORKING'!r}"))
        return format_address(root[found])

    def splits(self, name: str, target_rows: int, as_of: str | None = None) -> list[Split]:
        """Disjoint key ranges of ``name`` at a revision, cut at subtree boundaries, each
        with its exact row count; one task of a parallel reader each (``Table.splits``).
        Read one with ``reader(name, split=...)``."""
        root = self.ws.working if as_of is None else self.ws.root_at(as_of)
        return self.ws.table(name, root).splits(target_rows)

    def reader(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        *,
        as_of: str | None = None,
        split: Split | None = None,
    ) -> pa.RecordBatchReader:
        """The rows of ``name`` (or of one ``split``) as a lazily read stream of record
        batches, decoding only ``columns`` (``Table.batches``)."""
        root = self.ws.working if as_of is None else self.ws.root_at(as_of)
        return self.ws.table(name, root).batches(columns, split=split)

    def log(self, revision: str = "HEAD", limit: int | None = None) -> list[dict[str, Any]]:
        out = []
        for address, c in self.db.log(revision, branch=self.ws.branch, limit=limit):
            out.append(
                {
                    "commit_hash": format_address(address),
                    "committer": c.author,
                    "email": c.email,
                    "date": datetime.fromtimestamp(c.timestamp / 1e6).astimezone(),
                    "message": c.message,
                    "parents": [format_address(p) for p in c.parents],
                    "metadata": dict(c.metadata),
                }
            )
        return out

    def row_history(
        self, table: str, key: Sequence[object], revision: str = "HEAD"
    ) -> list[dict[str, Any]]:
        """Each commit that changed the row with primary key ``key``, newest first,
        with the row as that commit left it (None: removed). One point lookup per
        distinct version of the table; no commit's full diff is computed."""
        head = self.ws.resolve_commit(revision)
        return [
            {"commit_hash": format_address(v.address), "message": v.commit.message, "row": v.row}
            for v in row_history(self.ws.nodes, self.db.loader, head, table, key)
        ]

    def status(self) -> list[tuple[str, bool, str]]:
        return [(s.table, s.staged, s.status) for s in self.ws.status()]

    def diff(
        self, from_rev: str = "HEAD", to_rev: str = "WORKING", table: str | None = None
    ) -> pa.Table | dict[str, pa.Table]:
        """Row diffs (Dolt's to_/from_/diff_type columns) of one table or of every changed table."""
        deltas = table_deltas(self.ws.nodes, self.ws.root_at(from_rev), self.ws.root_at(to_rev))
        if table is None:
            return {d.name: row_diff(d) for d in deltas}
        match = [d for d in deltas if table in (d.from_name, d.to_name)]
        if match:
            return row_diff(match[0])
        unchanged = self.ws.table(table, self.ws.root_at(to_rev))  # raises for an unknown table
        return row_diff(TableDelta(table, table, unchanged, unchanged))

    # --- writing ------------------------------------------------------------------

    def write(
        self,
        name: str,
        data: object,
        *,
        primary_key: Sequence[str] | None = None,
        mode: str = "replace",
    ) -> None:
        """Write rows: mode 'replace' (the table becomes ``data``; created if missing),
        'upsert' or 'insert' (refuses existing keys). Persists the working set.

        ``data`` is a ``pyarrow.Table`` or ``RecordBatch``, a pandas or polars DataFrame,
        or anything that exports an Arrow stream (``__arrow_c_stream__``)."""
        if mode not in ("replace", "upsert", "insert"):
            raise InvalidInput(f"write mode {mode!r} is not one of replace, upsert, insert")
        try:
            table = self.ws.table(name)
        except TableNotFound:
            if mode != "replace" and primary_key is None:
                raise
            table = None
        if (table is None or mode == "replace") and _streams(data):
            stream = as_batches(data)
            schema = (
                table.schema
                if table is not None and primary_key is None
                else _schema_for(name, stream, primary_key or [])
            )
            if schema.primary_key and not schema.indexes:
                with SpillBehind(self.ws.buffer) as spill:
                    table = Table.create_from_batches(
                        self.ws.nodes, schema, stream, spill, spill.wait
                    )
                self.ws.put_table(self.ws.working.find(name) or name, table)
                self.ws.persist()
                return
            data = stream.read_all()
        data = as_arrow(data, name)
        if table is None or mode == "replace":
            schema = (
                table.schema
                if table is not None and primary_key is None
                else _schema_for(name, data, primary_key or [])
            )
            table = Table.create(self.ws.nodes, schema).insert(data)
        elif mode == "upsert":
            table = table.upsert(data)
        else:
            table = table.insert(data)
        self.ws.put_table(self.ws.working.find(name) or name, table)
        self.ws.persist()

    def delete_table(self, name: str) -> None:
        self.ws.drop_table(name)
        self.ws.persist()

    def commit(
        self,
        message: str = "",
        *,
        all_tables: bool = True,
        allow_empty: bool = False,
        author: tuple[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        amend: bool = False,
    ) -> str:
        """Commit (staging every change first unless ``all_tables=False``); returns the hash.
        ``amend`` replaces HEAD instead (``commit --amend``; an empty message keeps HEAD's)."""
        if not message and not amend:
            raise InvalidInput("a commit needs a message: repo.commit('what changed')")
        address = self.ws.commit(
            message,
            stage_all=all_tables,
            allow_empty=allow_empty,
            author=author,
            metadata=metadata,
            amend=amend,
        )
        return format_address(address)

    # --- uncommitted work -------------------------------------------------------------

    def stash(
        self, *, include_untracked: bool = False, name: str = stashes.CLI_STASH
    ) -> dict[str, Any]:
        """Save the uncommitted changes as ``stash@{0}`` and reset them to HEAD (``dolt
        stash``); untracked tables stay unless ``include_untracked``. Returns the entry
        as ``stash_list`` gives it. Raises ``NothingToStash`` when nothing changed."""
        return _stash_dict(stashes.push(self.ws, name, include_untracked=include_untracked))

    def stash_list(self, name: str | None = stashes.CLI_STASH) -> list[dict[str, Any]]:
        """Stash entries, newest first: of stash ``name`` (None: of every name)."""
        return [_stash_dict(s) for s in stashes.list_stashes(self.db.store, name)]

    def stash_pop(
        self, stash_id: str | int | None = None, *, name: str = stashes.CLI_STASH
    ) -> dict[str, Any]:
        """Apply ``stash@{N}`` (default the newest) to the working set and drop it; refused,
        the entry kept, when it touches tables with local changes or would conflict."""
        ident = None if stash_id is None else str(stash_id)
        return _stash_dict(stashes.pop(self.ws, name, ident))

    def stash_drop(
        self, stash_id: str | int | None = None, *, name: str = stashes.CLI_STASH
    ) -> dict[str, Any]:
        """Delete ``stash@{N}`` (default the newest) without applying it."""
        ident = None if stash_id is None else str(stash_id)
        return _stash_dict(stashes.drop(self.db.store, name, ident))

    def stash_clear(self, *, name: str = stashes.CLI_STASH) -> int:
        """Delete every entry of the stash; returns how many there were."""
        return stashes.clear(self.db.store, name)

    def clean(self, tables: Sequence[str] = (), *, dry_run: bool = False) -> list[str]:
        """Drop untracked tables (created, never staged nor committed): all, or ``tables``
        (each must be untracked); returns their names. ``dry_run`` only lists them."""
        removed = clean.clean(self.ws, tables, dry_run=dry_run)
        if removed and not dry_run:
            self.ws.persist()
        return removed

    def reflog(self, ref: str | None = None, *, all_refs: bool = False) -> list[dict[str, Any]]:
        """Where branches and tags pointed, newest first (``dolt reflog``): every move of
        ``ref`` (a branch, tag or full ref name), or of every branch and tag (remote-tracking
        refs too with ``all_refs``). Undo a bad ``reset(hard=True)`` with
        ``reset(entry["commit_hash"], hard=True)``."""
        if ref is not None:
            name = BRANCH_PREFIX + self.ws.branch if ref.upper() == "HEAD" else ref
            entries = self.db.reflog([reflog_ref(self.db.store, name)])
        else:
            entries = [
                e for e in self.db.reflog() if all_refs or not e.ref.startswith(REMOTE_PREFIX)
            ]
        out = []
        for e in entries:
            commit = peel(self.db.store, e.address)
            out.append(
                {
                    "ref": e.ref,
                    "ref_timestamp": datetime.fromtimestamp(e.timestamp / 1e6).astimezone(),
                    "commit_hash": format_address(commit),
                    "commit_message": self.db.commit(commit).message,
                }
            )
        return out

    def merge(
        self,
        revision: str,
        *,
        no_ff: bool = False,
        message: str | None = None,
        author: tuple[str, str] | None = None,
        mode: str = "cell",
        rules: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> MergeOutcome:
        """Three-way merge ``revision`` into the active branch (conflicts stay in the working
        set); the merge commit is by ``author`` (name, email) when given."""
        return self.ws.merge_revision(
            revision,
            no_ff=no_ff,
            message=message,
            author=author,
            options=MergeOptions(mode=mode, rules=rules or {}),
        )

    def resolve(self, table: str, strategy: str) -> None:
        self.ws.resolve_conflicts([table], strategy)
        self.ws.persist()

    def abort_merge(self) -> None:
        self.ws.merge_abort()

    def abort_cherry_pick(self) -> None:
        """Give up a cherry-pick that stopped on conflicts (``cherry-pick --abort``)."""
        self.ws.merge_abort("cherry-pick")

    def reset(self, revision: str | None = None, *, hard: bool = False) -> None:
        self.ws.reset("hard" if hard else "mixed", revision)
        self.ws.persist()

    # --- the version graph ------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether the working set holds changes not committed yet: reads without
        ``as_of`` (``table``, ``tables``) see them; ``as_of="HEAD"`` reads the last commit."""
        return self.ws.dirty

    def hashof(self, revision: str = "HEAD") -> str:
        """The commit hash a revision names (as ``dolt_hashof``)."""
        return format_address(self.ws.resolve_commit(revision))

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two revisions, or None when they share none."""
        base = self.db.merge_base(a, b, branch=self.ws.branch)
        return format_address(base) if base is not None else None

    @property
    def tags(self) -> list[dict[str, Any]]:
        """Every tag: its name, the commit it names, its message, tagger and date."""
        return [
            {
                "name": name,
                "commit_hash": format_address(tag.target),
                "message": tag.message,
                "tagger": tag.tagger,
                "email": tag.email,
                "date": datetime.fromtimestamp(tag.timestamp / 1e6).astimezone(),
            }
            for name, tag in self.db.tags()
        ]

    def delete_tag(self, name: str) -> None:
        self.db.delete_tag(name)

    def show(self, revision: str = "HEAD") -> dict[str, Any]:
        """One commit as ``log`` gives it, plus ``diff``: its row changes against its first
        parent, per changed table (empty for the first commit)."""
        address = self.ws.resolve_commit(revision)
        (entry,) = self.log(format_address(address), limit=1)
        parents = entry["parents"]
        entry["diff"] = self.diff(parents[0], entry["commit_hash"]) if parents else {}
        return entry

    def revert(self, *revisions: str, author: tuple[str, str] | None = None) -> MergeOutcome:
        """One new commit per revision undoing it (``Revert "<message>"``); the first that
        conflicts stops there, its conflicts left in the working set."""
        if not revisions:
            raise InvalidInput("revert needs the commit(s) to undo")
        commits = [self.ws.resolve_commit(r) for r in revisions]
        return self.ws.apply_commits(commits, revert=True, author=author)

    def cherry_pick(self, revision: str, *, author: tuple[str, str] | None = None) -> MergeOutcome:
        """Apply one commit's change as a new commit on the active branch (conflicts stay
        in the working set; ``abort_merge`` undoes them)."""
        commit = self.ws.resolve_commit(revision)
        return self.ws.apply_commits([commit], revert=False, author=author, label=revision)

    # --- remotes ------------------------------------------------------------------

    @property
    def remotes(self) -> dict[str, str]:
        """Remote name -> URL."""
        return remote_config.remotes(self.db.store)

    def add_remote(self, name: str, url: str) -> None:
        """Add a remote: ``file:///abs/path``, a path, or ``s3://bucket/prefix``."""
        remote_config.add_remote(self.db.store, name, url)

    def remove_remote(self, name: str) -> None:
        remote_config.remove_remote(self.db.store, name)

    def fetch(
        self, remote: str = "origin", branches: Sequence[str] = (), *, prune: bool = False
    ) -> sync.FetchResult:
        """Fetch branches (all by default) into ``refs/remotes/<remote>/...``, and new tags."""
        return sync.fetch(self.db.store, remote, branches, prune=prune)

    def push(
        self,
        remote: str | None = None,
        branch: str | None = None,
        *,
        force: bool = False,
        set_upstream: bool = False,
        tag: str | None = None,
    ) -> list[sync.PushedRef]:
        """Push ``branch`` (default: the active one, to its upstream) or ``tag`` to ``remote``."""
        if tag is not None:
            remote = remote or sync.upstream_of(self.db.store, self.ws.branch, None, None)[0]
            return sync.push(
                self.db.store, remote, [(TAG_PREFIX + tag, TAG_PREFIX + tag)], force=force
            )
        remote, target = sync.upstream_of(self.db.store, self.ws.branch, remote, None)
        local = branch or self.ws.branch
        target = target if branch is None else branch
        pushed = sync.push(
            self.db.store, remote, [(BRANCH_PREFIX + local, BRANCH_PREFIX + target)], force=force
        )
        if set_upstream:
            remote_config.set_upstream(self.db.store, local, remote, target)
        return pushed

    def pull(
        self, remote: str | None = None, branch: str | None = None, *, ff_only: bool = False
    ) -> MergeOutcome:
        """Fetch and merge (fast-forward when possible; conflicts stay in the working set)."""
        outcome = sync.pull(self.ws, remote, branch, ff_only=ff_only)
        self.ws.persist()
        return outcome

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stash_dict(stash: stashes.Stash) -> dict[str, Any]:
    """One stash entry as ``dolt_stashes`` shows it (plus its description)."""
    return {
        "name": stash.name,
        "stash_id": stash.stash_id,
        "branch": stash.entry.branch,
        "hash": format_address(stash.entry.head),
        "commit_message": stash.entry.message,
        "description": stash.description,
    }


LOAD_BATCH_ROWS = 1 << 17  # rows per batch of a streamed load (Table.create_from_batches)


def _streams(data: object) -> bool:
    """Whether ``write`` reads ``data`` batch by batch: an Arrow table or stream."""
    return isinstance(data, (pa.Table, pa.RecordBatchReader)) or (
        not isinstance(data, pa.RecordBatch)
        and hasattr(data, "__arrow_c_stream__")
        and type(data).__module__.split(".")[0] not in ("pandas", "polars")
    )


def as_batches(data: object) -> pa.RecordBatchReader:
    """An Arrow table or stream as a reader of batches of at most ``LOAD_BATCH_ROWS``."""
    if isinstance(data, pa.Table):
        return pa.RecordBatchReader.from_batches(data.schema, data.to_batches(LOAD_BATCH_ROWS))
    reader = (
        data if isinstance(data, pa.RecordBatchReader) else pa.RecordBatchReader.from_stream(data)
    )
    return pa.RecordBatchReader.from_batches(reader.schema, _rebatched(reader))


def _rebatched(reader: pa.RecordBatchReader):
    for batch in reader:
        for start in range(0, batch.num_rows, LOAD_BATCH_ROWS):
            yield batch.slice(start, LOAD_BATCH_ROWS)


def as_arrow(data: object, name: str) -> pa.Table:
    """``data`` as a ``pyarrow.Table``: Arrow as is; pandas (index dropped) and polars
    frames and Arrow stream exporters converted; anything else refused by name."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    kind = type(data)
    if kind.__module__.split(".")[0] == "pandas" and kind.__name__ == "DataFrame":
        return pa.Table.from_pandas(data, preserve_index=False)
    if kind.__module__.split(".")[0] == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise InvalidInput(
        f"cannot write a {kind.__name__} to table {name!r}: give a pyarrow Table, a pandas "
        "or polars DataFrame, or an object with __arrow_c_stream__"
    )


def clone(url: str, path: str | Path, branch: str | None = None, *, remote: str = "origin") -> Repo:
    """Clone the repository at ``url`` into directory ``path`` (new, or empty) and open it.

    Example:
        >>> import tempfile, os
        >>> src = Repo(tempfile.mkdtemp())
        >>> src.add_remote("origin", os.path.join(tempfile.mkdtemp(), "r"))
        >>> _ = src.push("origin", "main")
        >>> clone(src.remotes["origin"], os.path.join(tempfile.mkdtemp(), "copy")).active_branch
        'main'
    """
    directory = Path(path)
    checked_out = sync.clone_into(
        directory,
        lambda path: LmdbChunkStore(path / REPO_DIR),
        url,
        branch=branch,
        remote_name=remote,
    )
    return Repo(directory, branch=checked_out, create=False)


def _schema_for(
    name: str, data: pa.Table | pa.RecordBatchReader, primary_key: Sequence[str]
) -> Schema:
    columns = tuple(Column(f.name, None, f.type) for f in data.schema)
    return Schema(columns, tuple(primary_key), name=name)
