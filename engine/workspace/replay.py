"""Revert and cherry-pick: commits replayed onto HEAD as merges (see state.py's
invariant (5))."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import (
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
)
from ..hash import format_address
from ..history import (
    Commit,
    MergeState,
)
from ..versioning.merge import MergeOptions, merge_roots
from .merging import MergeOutcome, Merging


class Replay(Merging):
    """``Merging`` plus revert and cherry-pick."""

    def apply_commits(
        self, commits: Sequence[bytes], *, revert: bool, author=None, label: str = ""
    ) -> MergeOutcome:
        """Cherry-pick (revert=False) or revert (revert=True) commits onto HEAD, one new
        commit each, persisted in ONE write. The first that conflicts stops there: its
        conflicts stay in the working set with a merge state (operation 'cherry-pick' or
        'revert'; ``merge_abort`` undoes it), the commits made before it are kept."""
        verb = "revert" if revert else "cherry-pick"
        self._refuse_artifacts(verb)
        if self.merge is not None:
            raise MergeInProgress(
                f"cannot {verb}: a merge is in progress on this branch (commit it, or abort "
                "it with dolt_merge('--abort'))"
            )
        if self.working.address != self.head_root.address:
            raise DirtyWorkingSet(
                f"cannot {verb}: the working set has uncommitted changes (commit them with "
                "dolt_commit, or discard them with dolt_reset('--hard'))"
            )
        loaded = [self.loader.load(commit) for commit in commits]
        for commit, c in zip(commits, loaded, strict=True):
            if not c.parents:
                raise InvalidInput(
                    f"cannot {verb} commit {format_address(commit)}: it is the initial commit"
                )
        outcome = MergeOutcome(None, False, 0, "")
        for commit, c in zip(commits, loaded, strict=True):
            outcome = self._apply_commit(commit, c, revert, author, label)
            if outcome.conflicts:
                break
        self.persist()
        return outcome

    def _apply_commit(
        self, commit: bytes, c: Commit, revert: bool, author, label: str
    ) -> MergeOutcome:
        parent_root = self.commit_root(c.parents[0])
        this_root = self.root(c.root)
        base, theirs = (this_root, parent_root) if revert else (parent_root, this_root)
        ours = self.tip_root
        result = merge_roots(self.nodes, base, ours, theirs, MergeOptions())
        if result.conflicts or result.schema_conflicts:
            details: dict = {"operation": "revert" if revert else "cherry-pick"}
            if result.schema_conflicts:
                details["schema_conflicts"] = [x.as_dict() for x in result.schema_conflicts]
            state = MergeState(
                theirs=c.parents[0] if revert else commit,
                ours=self.tip,
                pre_merge_working=self._store_root(self.working),
                base_root=self._store_root(base),
                theirs_label=label,
                squash=True,  # the commit that concludes it has one parent, as Dolt's
                details=details,
            )
            self._enter_merge(result, state)
            n = result.conflicts + len(result.schema_conflicts)
            return MergeOutcome(None, False, n, "conflicts found")
        self.working = self.staged = result.root
        message = f'Revert "{c.message}"' if revert else c.message
        address = self.commit(
            message,
            author=author or ((c.author, c.email) if not revert else None),
            persist=False,
        )
        return MergeOutcome(address, False, 0, message)
