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
from typing import Any

import pyarrow as pa

from .db import Database
from .errors import InvalidInput, TableNotFound
from .hash import format_address
from .table import Column, Schema, Table
from .tree.stream import Split
from .versioning.diff import TableDelta, row_diff, table_deltas
from .versioning.merge import MergeOptions
from .versioning.row_history import row_history
from .workspace import MergeOutcome


class Repo:
    """A repository on disk (created when missing), checked out at one branch."""

    def __init__(self, path: str | Path, *, branch: str | None = None, create: bool = True) -> None:
        self.db = Database.open(path, create=create)
        self.ws = self.db.workspace(branch)

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

    def checkout(self, name: str, *, create: bool = False) -> None:
        """Switch branches in O(1); uncommitted changes stay on the branch they were made on."""
        if create:
            self.branch(name)
        self.db.refs.branch_head(name)
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
                }
            )
        return out

    def row_history(self, table: str, key: Sequence[object], revision: str = "HEAD") -> list[dict[str, Any]]:
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

    def diff(self, from_rev: str = "HEAD", to_rev: str = "WORKING", table: str | None = None) -> pa.Table | dict[str, pa.Table]:
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
        data: pa.Table,
        *,
        primary_key: Sequence[str] | None = None,
        mode: str = "replace",
    ) -> None:
        """Write rows: mode 'replace' (the table becomes ``data``; created if missing),
        'upsert' or 'insert' (refuses existing keys). Persists the working set."""
        if mode not in ("replace", "upsert", "insert"):
            raise InvalidInput(f"write mode {mode!r} is not one of replace, upsert, insert")
        try:
            table = self.ws.table(name)
        except TableNotFound:
            if mode != "replace" and primary_key is None:
                raise
            table = None
        if table is None or mode == "replace":
            schema = table.schema if table is not None and primary_key is None else _schema_for(name, data, primary_key or [])
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

    def commit(self, message: str, *, all_tables: bool = True, allow_empty: bool = False, author: tuple[str, str] | None = None, metadata: Mapping[str, Any] | None = None) -> str:
        """Commit (staging every change first unless ``all_tables=False``); returns the hash."""
        address = self.ws.commit(message, stage_all=all_tables, allow_empty=allow_empty, author=author, metadata=metadata)
        return format_address(address)

    def merge(self, revision: str, *, no_ff: bool = False, message: str | None = None, mode: str = "cell", rules: Mapping[str, Mapping[str, Any]] | None = None) -> MergeOutcome:
        """Three-way merge ``revision`` into the active branch (conflicts stay in the working set)."""
        return self.ws.merge_revision(revision, no_ff=no_ff, message=message, options=MergeOptions(mode=mode, rules=rules or {}))

    def resolve(self, table: str, strategy: str) -> None:
        self.ws.resolve_conflicts([table], strategy)
        self.ws.persist()

    def abort_merge(self) -> None:
        self.ws.merge_abort()

    def reset(self, revision: str | None = None, *, hard: bool = False) -> None:
        self.ws.reset("hard" if hard else "mixed", revision)
        self.ws.persist()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Repo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _schema_for(name: str, data: pa.Table, primary_key: Sequence[str]) -> Schema:
    columns = tuple(Column(f.name, None, f.type) for f in data.schema)
    return Schema(columns, tuple(primary_key), name=name)

