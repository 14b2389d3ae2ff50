"""Merging and conflicts: merge a revision, abort, resolve conflicts (see state.py's
invariants (2), (5))."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..errors import (
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
    NoMergeInProgress,
)
from ..history import (
    MergeState,
    merge_base,
)
from ..root import RootValue
from ..table import Table
from ..versioning.merge import MergeOptions, RootMerge, merge_roots, resolve_table_conflicts
from .staging import Staging


def merge_message(revision: str, branch: str) -> str:
    """The default message of the commit that merges ``revision`` into ``branch``."""
    return f"Merge branch '{revision}' into {branch}"


@dataclass(frozen=True)
class MergeOutcome:
    """Dolt's dolt_merge result row: hash, fast_forward, conflicts, message."""

    hash: bytes | None
    fast_forward: bool
    conflicts: int
    message: str
    resolutions: list[dict] = field(default_factory=list)


class Merging(Staging):
    """``Staging`` plus merges and their conflicts."""

    # --- merge ----------------------------------------------------------------------

    def merge_revision(
        self,
        revision: str,
        *,
        no_ff: bool = False,
        no_commit: bool = False,
        squash: bool = False,
        message: str | None = None,
        author: tuple[str, str] | None = None,
        options: MergeOptions | None = None,
    ) -> MergeOutcome:
        """Dolt's merge. Conflicts stay in the working set; otherwise commits. Persists
        whatever it changes (a fast-forward too, with ``no_commit`` or without)."""
        if self.merge is not None:
            raise MergeInProgress(
                "a merge is already in progress on this branch (commit it after resolving "
                "conflicts, or run dolt_merge('--abort'))"
            )
        if self.working.address != self.head_root.address:
            raise DirtyWorkingSet(
                f"cannot merge into {self.branch!r}: the working set has uncommitted changes "
                "(commit them with dolt_commit, or discard them with dolt_reset('--hard'))"
            )
        theirs = self.resolve_commit(revision)
        base = merge_base(self.loader, self.head, theirs)
        label = revision
        if theirs == self.head or base == theirs:
            return MergeOutcome(self.head, False, 0, "Everything up-to-date")
        if base == self.head and not no_ff and not squash:
            root = self.commit_root(theirs)
            self.working = self.staged = root
            self._new_head = theirs
            self.persist()
            return MergeOutcome(theirs, True, 0, "merge successful")
        result = merge_roots(
            self.nodes,
            self.commit_root(base) if base else RootValue(),
            self.head_root,
            self.commit_root(theirs),
            options or MergeOptions(),
        )
        return self._finish_merge(result, theirs, base, label, no_commit, squash, message, author)

    def _finish_merge(
        self, result: RootMerge, theirs, base, label, no_commit, squash, message, author
    ) -> MergeOutcome:
        pre_merge = self._store_root(self.working)
        details: dict = {}
        if result.resolutions:
            details["commit_metadata"] = {"merge_resolutions": result.resolutions}
        if result.schema_conflicts:
            details["schema_conflicts"] = [c.as_dict() for c in result.schema_conflicts]
        self.working = result.root
        if result.conflicts or result.schema_conflicts or result.violations or no_commit:
            self._enter_merge(
                result,
                MergeState(
                    theirs=theirs,
                    ours=self.head,
                    pre_merge_working=pre_merge,
                    base_root=self._store_root(self.commit_root(base)) if base else None,
                    theirs_label=label,
                    squash=squash,
                    no_commit=no_commit,
                    details=details,
                ),
            )
            self.persist()
            n = result.conflicts + len(result.schema_conflicts)
            msg = (
                "conflicts found"
                if n
                else ("constraint violations found" if result.violations else "merge successful")
            )
            return MergeOutcome(None, False, n, msg, result.resolutions)
        self.staged = result.root
        if squash:
            self.persist()
            return MergeOutcome(None, False, 0, "merge successful", result.resolutions)
        self.merge = MergeState(
            theirs=theirs,
            ours=self.head,
            pre_merge_working=pre_merge,
            base_root=None,
            theirs_label=label,
            details=details,
        )
        text = message or merge_message(label, self.branch)
        address = self.commit(text, author=author)
        return MergeOutcome(address, False, 0, "merge successful", result.resolutions)

    def _enter_merge(self, result: RootMerge, state: MergeState) -> None:
        """Leave ``result`` in the working set with merge state ``state`` (invariant (5)):
        tables that merged cleanly are staged; a table left with conflicts, violations or a
        schema conflict keeps HEAD's version staged until it is resolved (``put_resolved``)."""
        head = self.tip_root
        root = result.root
        merged = sorted(n for n in set(root) | set(head) if root.get(n) != head.get(n))
        self.merge = replace(state, details={**state.details, "merged_tables": merged})
        self.working = result.root
        unresolved = set(result.per_table_conflicted) | {c.table for c in result.schema_conflicts}
        self.staged = result.root.with_tables_of(head, unresolved)

    def merge_abort(self, operation: str | None = None) -> None:
        """Give up the merge in progress (or, with ``operation`` 'cherry-pick', only a
        cherry-pick that stopped on conflicts) and restore the pre-merge working set."""
        if self.merge is None or (
            operation is not None and self.merge.details.get("operation") != operation
        ):
            raise NoMergeInProgress(f"there is no {operation or 'merge'} to abort on this branch")
        pre = self.root(self.merge.pre_merge_working)
        self.working = pre
        self.staged = self.head_root
        self.merge = None
        self.persist()

    def resolve_conflicts(
        self, tables: Sequence[str], strategy: str, *, all_tables: bool = False
    ) -> None:
        """Resolve every conflict of ``tables``, or of every table with ``all_tables``
        ('ours', 'theirs' or 'combine')."""
        names = list(self.working) if all_tables else list(tables)
        schema_conflicted = {c["table"] for c in self.schema_conflicts()}
        for name in names:
            if name in schema_conflicted:
                self._resolve_schema_conflict(name, strategy)
                continue
            found = self.working.find(name) or name
            resolved = resolve_table_conflicts(self.nodes, self.table(name), strategy)
            self.put_resolved(found, resolved)

    def put_resolved(self, name: str, table: Table) -> None:
        """Store ``table`` after conflicts of it were resolved; once none is left, stage
        it, as ``dolt_conflicts_resolve`` does (invariant (5))."""
        self.put_table(name, table)
        if table.artifacts is None:
            self.staged = self.staged.with_table(name, table.address)

    def _resolve_schema_conflict(self, name: str, strategy: str) -> None:
        """A table whose schemas conflict is resolved whole: ours or theirs."""
        merge = self.merge
        assert merge is not None  # only a merge in progress has schema conflicts
        if strategy == "theirs":
            theirs = self.commit_root(merge.theirs)
            found = theirs.find(name)
            self.working = (
                self.working.with_table(name, theirs[found])
                if found
                else self.working.without_table(name)
            )
        elif strategy != "ours":
            raise InvalidInput(
                f"table {name!r} has a schema conflict, which only --ours or --theirs resolves"
            )
        found = self.working.find(name)
        self.staged = (
            self.staged.with_table(found, self.working[found])
            if found
            else (self.staged.without_table(name) if name in self.staged else self.staged)
        )
        remaining = [c for c in self.schema_conflicts() if c["table"] != name]
        details = {**merge.details, "schema_conflicts": remaining}
        self.merge = replace(merge, details=details)
