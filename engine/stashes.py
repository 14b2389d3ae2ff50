"""The stash verbs (Dolt's ``dolt stash`` / ``dolt_stash``): push, pop, drop, clear, list.

Entries are stored as refs (history/stash.py): each stash name (``dolt-cli`` for the
command line, any name for ``dolt_stash('push', name)``) is a stack, ``stash@{0}``
its newest entry. Every verb checks its arguments first and writes once:

- ``push`` saves the workspace's changes to tracked tables (untracked ones too with
  ``include_untracked``) and resets those tables to HEAD, in ONE write with the new
  entry (``Workspace.persist(extra=...)``). Nothing to save is no entry
  (``NothingToStash``, Dolt's "No local changes to save").
- ``pop`` merges the entry's changes into the working set, three-way against the
  commit they were made on (so it works on another branch or a later commit), and
  drops the entry, in ONE write. It is refused, the entry kept, when a table it
  changes also has local changes (Dolt's "Your local changes to the following
  tables would be overwritten"), or when the merge would conflict.
- ``drop`` / ``clear`` delete entries by compare-and-swap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chunks.store import ChunkStore, RefUpdate
from .errors import (
    DirtyWorkingSet,
    InvalidInput,
    MergeInProgress,
    NotFound,
    VersionError,
)
from .hash import format_address
from .history import Refs, check_branch_name, now_timestamp
from .history.refs import STASH_PREFIX
from .history.stash import StashEntry, decode_stash, encode_stash
from .root import RootValue
from .versioning.merge import MergeOptions, merge_roots
from .workspace import Workspace

CLI_STASH = "dolt-cli"  # the stash name Dolt's command line uses
_STAMP_DIGITS = 20
_STASH_ID = re.compile(r"^(?:stash@\{(\d+)\}|(\d+))$")


class NothingToStash(VersionError):
    """``push`` found no local changes to save."""


@dataclass(frozen=True)
class Stash:
    """One entry of stash ``name``: ``stash@{index}`` (0 is the newest)."""

    name: str
    index: int
    ref: str
    address: bytes
    entry: StashEntry

    @property
    def stash_id(self) -> str:
        return f"stash@{{{self.index}}}"

    @property
    def description(self) -> str:
        """Dolt's listing text: ``WIP on refs/heads/main: <hash> <subject>``."""
        subject = (self.entry.message.splitlines() or [""])[0]
        return f"WIP on refs/heads/{self.entry.branch}: {format_address(self.entry.head)} {subject}"


_MAX_NAME_BYTES = 150  # with "/<20 digits>" it stays within the ref-name rules (refs.py (a))


def check_stash_name(name: str) -> None:
    """Refuse a stash name that cannot be part of a ref name (the branch-name rules, and
    at most ``_MAX_NAME_BYTES`` bytes)."""
    try:
        check_branch_name(name)
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("branch name", "stash name", 1)) from None
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise InvalidInput(
            f"invalid stash name {name[:20]!r}...: at most {_MAX_NAME_BYTES} bytes of UTF-8"
        )


def list_stashes(store: ChunkStore, name: str | None = None) -> list[Stash]:
    """The entries of stash ``name`` (None: of every stash name), newest first per name."""
    if name is not None:
        check_stash_name(name)
    prefix = STASH_PREFIX if name is None else f"{STASH_PREFIX}{name}/"
    per_name: dict[str, list[tuple[str, bytes]]] = {}
    for ref, address in store.list_refs(prefix).items():
        stack, _, stamp = ref[len(STASH_PREFIX) :].rpartition("/")
        if name is None or stack == name:
            per_name.setdefault(stack, []).append((ref, address))
    out = []
    for stack in sorted(per_name):
        for index, (ref, address) in enumerate(reversed(per_name[stack])):
            out.append(Stash(stack, index, ref, address, decode_stash(store.get(address))))
    return out


def find_stash(store: ChunkStore, name: str, stash_id: str | None = None) -> Stash:
    """The entry ``stash_id`` (``stash@{N}`` or ``N``; default the newest) of stash ``name``.

    Raises:
        InvalidInput: ``stash_id`` is neither ``stash@{N}`` nor ``N``.
        NotFound: the stash has no such entry (the message lists what it has).
    """
    index = 0
    if stash_id is not None:
        match = _STASH_ID.match(str(stash_id).strip())
        if match is None:
            raise InvalidInput(
                f"{stash_id!r} is not a stash id: write stash@{{N}} or N (0 is the newest)"
            )
        index = int(match.group(1) or match.group(2))
    entries = list_stashes(store, name)
    if index >= len(entries):
        listing = ", ".join(s.stash_id for s in entries) or "it is empty"
        raise NotFound(
            f"stash@{{{index}}} does not exist in stash {name!r} ({listing}; see "
            "`arbor stash list` or SELECT * FROM dolt_stashes)"
        )
    return entries[index]


def _next_ref(store: ChunkStore, name: str) -> str:
    stamp = now_timestamp()
    newest = list_stashes(store, name)
    if newest:  # names must increase even if the clock stepped back
        stamp = max(stamp, int(newest[0].ref.rpartition("/")[2]) + 1)
    return f"{STASH_PREFIX}{name}/{stamp:0{_STAMP_DIGITS}d}"


def push(ws: Workspace, name: str = CLI_STASH, *, include_untracked: bool = False) -> Stash:
    """Save the workspace's changes as ``stash@{0}`` of ``name`` and reset them (persists).

    Raises:
        MergeInProgress: a merge is in progress (finish or abort it first).
        NothingToStash: no tracked table (nor untracked one, with ``include_untracked``)
            differs from HEAD.
    """
    check_stash_name(name)
    if ws.merge is not None:
        raise MergeInProgress(
            "cannot stash during a merge (commit it after resolving conflicts, or abort it "
            "with dolt_merge('--abort') / `arbor merge --abort`)"
        )
    head = ws.head_root
    untracked = {t for t in ws.working if ws.staged.find(t) is None and head.find(t) is None}
    kept = set() if include_untracked else untracked
    saved_working = _without(ws.working, kept)
    if saved_working.address == head.address and ws.staged.address == head.address:
        raise NothingToStash("No local changes to save")
    commit = ws.loader.load(ws.head)
    entry = StashEntry(
        timestamp=now_timestamp(),
        head=ws.head,
        working=_stored(ws, saved_working),
        staged=_stored(ws, ws.staged),
        branch=ws.branch,
        message=commit.message,
    )
    data = encode_stash(entry)
    (address,) = ws.nodes.write([data])
    ref = _next_ref(ws.store, name)
    before = (ws.working, ws.staged)
    working = head
    for table in sorted(kept):  # untracked tables stay, as Dolt's do
        working = working.with_table(table, ws.working[table])
    ws.working, ws.staged = working, head
    try:
        ws.persist(extra=[RefUpdate(ref, None, address)])
    except Exception:
        ws.working, ws.staged = before
        raise
    return Stash(name, 0, ref, address, entry)


def pop(ws: Workspace, name: str = CLI_STASH, stash_id: str | None = None) -> Stash:
    """Apply entry ``stash_id`` of ``name`` to the working set and drop it (persists).

    Raises:
        NotFound / InvalidInput: as ``find_stash``.
        MergeInProgress: a merge is in progress.
        DirtyWorkingSet: a table the entry changes has local changes, or merging the
            entry would conflict; nothing changed and the entry is kept.
    """
    check_stash_name(name)
    stash = find_stash(ws.store, name, stash_id)
    if ws.merge is not None:
        raise MergeInProgress(
            "cannot pop a stash during a merge (commit it after resolving conflicts, or "
            "abort it with dolt_merge('--abort') / `arbor merge --abort`)"
        )
    entry = stash.entry
    base = ws.commit_root(entry.head)
    saved_working, saved_staged = ws.root(entry.working), ws.root(entry.staged)
    changed = sorted(
        t
        for t in set(base) | set(saved_working) | set(saved_staged)
        if saved_working.get(t) != base.get(t) or saved_staged.get(t) != base.get(t)
    )
    head = ws.head_root
    local = [t for t in changed if ws.working.get(t) != head.get(t)]
    if local:
        raise DirtyWorkingSet(
            "Your local changes to the following tables would be overwritten by the stash: "
            f"{', '.join(local)} (commit them or stash them first); nothing was changed and "
            f"the stash entry {stash.stash_id} is kept in case you need it again"
        )
    merged = merge_roots(ws.nodes, base, ws.working, saved_working, MergeOptions())
    if merged.conflicts or merged.schema_conflicts or merged.violations:
        tables = sorted(
            set(merged.per_table_conflicted) | {c.table for c in merged.schema_conflicts}
        )
        raise DirtyWorkingSet(
            f"applying {stash.stash_id} would conflict with the commits since it was made "
            f"(tables: {', '.join(tables) or 'schema'}); nothing was changed and the stash "
            "entry is kept (commit or reset your branch to the stash's base, then pop again)"
        )
    staged = ws.staged
    for table in changed:  # what the entry had staged is staged again
        if saved_staged.get(table) != base.get(table):
            found = merged.root.get(table)
            staged = staged.with_table(table, found) if found else _without(staged, {table})
    before = (ws.working, ws.staged)
    ws.working, ws.staged = merged.root, staged
    try:
        ws.persist(extra=[RefUpdate(stash.ref, stash.address, None)])
    except Exception:
        ws.working, ws.staged = before
        raise
    return stash


def drop(store: ChunkStore, name: str = CLI_STASH, stash_id: str | None = None) -> Stash:
    """Delete entry ``stash_id`` (default the newest) of stash ``name``."""
    stash = find_stash(store, name, stash_id)
    Refs(store).update([RefUpdate(stash.ref, stash.address, None)])
    return stash


def clear(store: ChunkStore, name: str = CLI_STASH) -> int:
    """Delete every entry of stash ``name``; returns how many there were."""
    entries = list_stashes(store, name)
    if entries:
        Refs(store).update([RefUpdate(s.ref, s.address, None) for s in entries])
    return len(entries)


def _without(root: RootValue, tables: set[str]) -> RootValue:
    for table in tables:
        if table in root:
            root = root.without_table(table)
    return root


def _stored(ws: Workspace, root: RootValue) -> bytes:
    """Buffer ``root`` in the workspace's write (it lands with the entry, or not at all)."""
    ws.nodes.write([root.encode()])
    return root.address
