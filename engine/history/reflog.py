"""The reflog: every move of a branch, tag or remote-tracking ref, kept so that a
bad ``reset --hard`` (or a deleted branch) can be undone (Dolt's ``dolt reflog``).

Each move is one more ref, written in the same compare-and-swap as the move itself
(``logged``), so the log and the refs never disagree, whatever crashes:

    NAME                                          HOLDS
    reflog/<ref name>/<20 decimal digits>         the address the ref moved to

``<ref name>`` is the full name (``refs/heads/main``); the digits are the time of
the move in microseconds since the epoch, zero-padded, so a ref's entries sort
oldest first by name (``list_refs`` order). A deletion is no entry: the entries
before it still name where the ref was (``dolt_reflog`` shows them, as Dolt's does,
so a deleted branch can be re-created at its last commit).

Because entries are refs, garbage collection keeps every commit they name (and
all it reaches). Dolt's reflog lives in its chunk journal and ``dolt gc`` drops it
all; here ``expire_updates`` (run by ``Database.gc`` before it marks) keeps the
newest ``REFLOG_KEEP`` entries of each ref that exists, so a bad ``reset --hard``
can be undone after a gc too, and drops the rest, and every entry of a deleted ref
(recoverable until the next gc, as in Dolt), so a collection frees a deleted
branch's data and the log stays bounded.

Invariants:
  (1) An entry is written in the same store commit as the ref move it records;
      a lost race writes neither.
  (2) Entry names of one process strictly increase (``_next_stamp``), so two moves
      of one ref never claim the same name; two processes moving the same ref
      already conflict on the ref itself.
  (3) Working sets, the default-branch ref, stashes and the reflog itself are not
      logged; a ref whose value does not change is not logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from arbordb.engine.chunks.store import ChunkStore, RefUpdate
from arbordb.engine.errors import NotFound

REFLOG_PREFIX = "reflog/"
# refs.py's BRANCH_PREFIX, TAG_PREFIX and REMOTE_PREFIX (refs.py imports this module and
# checks that they agree)
LOGGED_PREFIXES = ("refs/heads/", "refs/tags/", "refs/remotes/")
REFLOG_KEEP = 1000  # entries kept per ref through gc (Dolt's default limit is 100,000 in all)
_STAMP_DIGITS = 20

_stamp_lock = threading.Lock()
_last_stamp = 0


def _next_stamp() -> int:
    """Microseconds since the epoch, strictly increasing within the process (invariant (2))."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns() // 1000, _last_stamp + 1)
        return _last_stamp


@dataclass(frozen=True)
class ReflogEntry:
    """One move: ``ref`` (full name) came to hold ``address`` at ``timestamp`` (us)."""

    ref: str
    timestamp: int
    address: bytes


def logged(updates: Sequence[RefUpdate]) -> list[RefUpdate]:
    """``updates`` plus one reflog entry per logged ref they move (invariants (1), (3))."""
    out = list(updates)
    for name, expected, new in updates:
        if new is None or new == expected or not name.startswith(LOGGED_PREFIXES):
            continue
        entry = f"{REFLOG_PREFIX}{name}/{_next_stamp():0{_STAMP_DIGITS}d}"
        out.append(RefUpdate(entry, None, new))
    return out


def _parse(name: str, address: bytes) -> ReflogEntry | None:
    ref, _, stamp = name[len(REFLOG_PREFIX) :].rpartition("/")
    if not ref or len(stamp) != _STAMP_DIGITS or not stamp.isdigit():
        return None
    return ReflogEntry(ref, int(stamp), address)


def read_reflog(store: ChunkStore, refs: Sequence[str] | None = None) -> list[ReflogEntry]:
    """The entries of the full ref names ``refs`` (None: of every ref), newest first."""
    found: Iterable[tuple[str, bytes]]
    if refs is None:
        found = store.list_refs(REFLOG_PREFIX).items()
    else:
        found = [item for ref in refs for item in store.list_refs(f"{REFLOG_PREFIX}{ref}/").items()]
    entries = [e for e in (_parse(n, a) for n, a in found) if e is not None]
    if refs is not None:  # a prefix 'refs/heads/a/' also lists branch 'a/b': keep exact names
        entries = [e for e in entries if e.ref in refs]
    return sorted(entries, key=lambda e: (e.timestamp, e.ref), reverse=True)


def expire_updates(store: ChunkStore, keep: int = REFLOG_KEEP) -> list[RefUpdate]:
    """Deletions for gc: every entry of a ref that no longer exists, and every entry
    older than the newest ``keep`` of a ref that does."""
    live = {name for prefix in LOGGED_PREFIXES for name in store.list_refs(prefix)}
    per_ref: dict[str, list[tuple[str, bytes]]] = {}
    for name, address in store.list_refs(REFLOG_PREFIX).items():
        entry = _parse(name, address)
        if entry is not None:
            per_ref.setdefault(entry.ref, []).append((name, address))
    doomed = []
    for ref, items in per_ref.items():  # each sorted oldest first (list_refs order)
        cut = len(items) if ref not in live else max(0, len(items) - keep)
        doomed += [RefUpdate(n, a, None) for n, a in items[:cut]]
    return doomed


def reflog_ref(store: ChunkStore, name: str) -> str:
    """The full ref name ``name`` means in the reflog: itself when it starts with
    ``refs/``, else the branch, tag or remote-tracking ref of that name (in this order)
    that has entries; a deleted branch's entries still count.

    Raises:
        NotFound: no such ref ever moved.
    """
    candidates = [name] if name.startswith("refs/") else [p + name for p in LOGGED_PREFIXES]
    for candidate in candidates:
        if read_reflog(store, [candidate]):
            return candidate
    raise NotFound(
        f"ref {name!r} has no reflog entries: no branch or tag of that name ever moved "
        "(see `arbor branch` and `arbor tag`, or list every ref's moves with `arbor reflog`)"
    )
