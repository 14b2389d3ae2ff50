"""Revision text -> commit: what users may write wherever a commit is expected.

Grammar (git's, restricted to what Dolt accepts)::

    revision  := base suffix*
    suffix    := "~" [N]        N-th first-parent ancestor ("~" alone: N = 1)
               | "^" [N]        N-th parent, 1-based ("^" alone: N = 1; "^0": itself)
    base      := "HEAD"         head of the session's current branch
               | branch name    refs/heads/<name>
               | tag name       refs/tags/<name>, peeled to its commit
               | remote branch  refs/remotes/<remote>/<branch>, written
                                <remote>/<branch> or remotes/<remote>/<branch>
               | hash           32 characters of 0-9a-v (any letter case)
               | hash prefix    4 to 31 of those characters, naming one stored chunk

plus the two revision words ``WORKING`` and ``STAGED``, which take no suffix
and name the session's working and staged roots; they resolve to a marker, not
to a commit, because those roots live in the caller's working set (a session
may hold a newer one in memory than the store does).

``HEAD``, ``WORKING`` and ``STAGED`` are matched in any letter case; refs.py
rule (h) keeps them out of branch and tag names, and rule (c) keeps ``~`` and
``^`` out, so the base ends at the first ``~`` or ``^``. When a base is both a
branch and a tag the branch wins, and a branch or tag wins over a hash prefix
(git warns about these cases; Dolt resolves branches first). Examples:
``main``, ``v1.0``, ``HEAD~3``, ``main^``, ``feature^2``, ``main~2^2~1``.

Wherever a session resolves a revision it calls ``Workspace.revision`` (which
reads the session's snapshot); the functions here are its parts.

``resolve_as_of_time`` answers ``AS OF TIMESTAMP t``: the first commit at or
before ``t`` on the first-parent history of a head, as Dolt does. Commit
timestamps need not grow along a branch (clocks differ, ``--date`` sets any
time), so this is the first one met walking back, not the latest one overall.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from arbordb.engine.chunks.store import ChunkStore
from arbordb.engine.errors import InvalidInput, MissingChunk, RevisionNotFound
from arbordb.engine.hash import ALPHABET, TEXT_LEN, format_address

from .commit import datetime_from_timestamp, timestamp_from_datetime
from .graph import CommitLoader, ancestors
from .refs import BRANCH_PREFIX, REMOTE_PREFIX, TAG_PREFIX, Refs, close_names, name_listing
from .tag import peel

MIN_PREFIX_LEN = 4  # shorter hash prefixes match too much to be useful (git's minimum)

_SUFFIX = re.compile(r"([~^])([0-9]*)")
_SUFFIXES = re.compile(r"(?:[~^][0-9]*)*")
_HASH_CHARS = frozenset(ALPHABET)


class RevisionKind(StrEnum):
    """What a revision names: a commit, or one of the session's working-set roots."""

    COMMIT = "commit"
    WORKING = "working"
    STAGED = "staged"


class Revision(NamedTuple):
    """A resolved revision. ``address`` is the commit address, None for WORKING / STAGED."""

    kind: RevisionKind
    address: bytes | None

    @property
    def commit(self) -> bytes:
        """The commit address of a revision that is not WORKING / STAGED."""
        assert self.address is not None, f"{self.kind} names no commit"
        return self.address


def resolve_revision(
    source: ChunkStore | CommitLoader,
    text: str,
    *,
    current_branch: str | None,
    head: bytes | None = None,
) -> Revision:
    """Resolve revision ``text`` (see the module docstring for the grammar).

    Args:
        source: the store, or a ``CommitLoader`` over it to reuse its cache.
        text: the revision as the user wrote it.
        current_branch: the session's branch, which ``HEAD`` names (None: no
            branch, so ``HEAD`` cannot resolve).
        head: the commit ``HEAD`` is: a session's snapshot of its branch, which
            another writer may have moved since (None: the branch's ref as stored).

    Raises:
        InvalidInput: malformed text (empty, a bad suffix, a suffix on WORKING).
        RevisionNotFound: nothing has that name, a hash names no commit, or a
            suffix walks past the history; the message names the revision and
            says where to look.
        AmbiguousPrefix: a hash prefix matches several chunks.
    """
    if not isinstance(text, str) or not text:
        raise InvalidInput(f"revision {text!r} is empty; name a branch, tag or commit hash")
    loader = source if isinstance(source, CommitLoader) else CommitLoader(source)
    cut = min((i for i in (text.find("~"), text.find("^")) if i >= 0), default=len(text))
    base, suffix = text[:cut], text[cut:]
    if not _SUFFIXES.fullmatch(suffix):
        raise InvalidInput(
            f"revision {text!r}: cannot read {suffix!r}; after a name write ~N (N-th "
            "first-parent ancestor) or ^N (N-th parent), e.g. main~2 or main^2"
        )
    word = base.upper()
    if word in (RevisionKind.WORKING.name, RevisionKind.STAGED.name):
        if suffix:
            raise InvalidInput(
                f"revision {text!r}: {word} names the uncommitted {word.lower()} root, "
                "which has no parents; use HEAD~N for committed history"
            )
        return Revision(RevisionKind[word], None)
    if not base:
        raise InvalidInput(f"revision {text!r} starts with {text[0]!r}; put a name before it")
    address = _resolve_base(loader, text, base, current_branch, head)
    for match in _SUFFIX.finditer(suffix):
        address = _step(loader, text, address, match, suffix[: match.start()], base)
    return Revision(RevisionKind.COMMIT, address)


def resolve_commit(
    source: ChunkStore | CommitLoader,
    text: str,
    *,
    current_branch: str | None,
    head: bytes | None = None,
) -> bytes:
    """Resolve ``text`` to a commit address, refusing WORKING and STAGED.

    Raises:
        InvalidInput: ``text`` is WORKING or STAGED, or malformed.
        RevisionNotFound, AmbiguousPrefix: as ``resolve_revision``.
    """
    kind, address = resolve_revision(source, text, current_branch=current_branch, head=head)
    if address is None:
        raise InvalidInput(
            f"revision {text!r} names the uncommitted {kind.value} root, but a commit is "
            "needed here; commit first, or name a branch, tag or hash"
        )
    return address


def _resolve_base(
    loader: CommitLoader, text: str, base: str, current: str | None, snapshot: bytes | None
) -> bytes:
    store = loader.store
    if base.upper() == "HEAD":
        if snapshot is not None:
            return snapshot
        if current is None:
            raise RevisionNotFound(
                f"revision {text!r}: HEAD needs a current branch and this session has none; "
                "check out a branch or name one"
            )
        head = store.get_ref(BRANCH_PREFIX + current)
        if head is None:
            raise RevisionNotFound(
                f"revision {text!r}: HEAD names branch {current!r}, which no longer exists; "
                "check out another branch"
            )
        return head
    head = store.get_ref(BRANCH_PREFIX + base)
    if head is not None:
        return head
    tag = store.get_ref(TAG_PREFIX + base)
    if tag is not None:
        return peel(store, tag)
    tracking = base.removeprefix("remotes/") if base.startswith("remotes/") else base
    remote = store.get_ref(REMOTE_PREFIX + tracking) if "/" in tracking else None
    if remote is not None:
        return remote
    digits = base.lower()
    if MIN_PREFIX_LEN <= len(digits) <= TEXT_LEN and _HASH_CHARS.issuperset(digits):
        try:
            address = store.resolve_prefix(digits)  # also checks a full hash is stored
        except MissingChunk:
            pass
        else:
            return peel(store, address)
    raise RevisionNotFound(_unknown(Refs(store), text, base))


def _unknown(refs: Refs, text: str, base: str) -> str:
    branches, tags = refs.branches(), refs.tags()
    close = close_names(base, [*branches, *tags])
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    short = ""
    if 0 < len(base) < MIN_PREFIX_LEN and _HASH_CHARS.issuperset(base.lower()):
        short = f"a hash prefix needs at least {MIN_PREFIX_LEN} characters; "
    return (
        f"revision {text!r} not found: {base!r} is no branch, tag or commit hash "
        f"({hint}{short}branches: {name_listing(list(branches))}; "
        f"tags: {name_listing(list(tags))}; run `arbor log` to list commit hashes)"
    )


def _step(
    loader: CommitLoader, text: str, address: bytes, match: re.Match[str], done: str, base: str
) -> bytes:
    """Apply one ``~N`` or ``^N`` suffix to ``address`` (named ``base + done`` so far)."""
    op, digits = match.group(1), match.group(2)
    n = int(digits) if digits else 1
    here = base + done
    if op == "^":
        if n == 0:
            return address
        parents = loader.load(address).parents
        if n > len(parents):
            has = f"only {len(parents)} parent" + ("" if len(parents) == 1 else "s")
            raise RevisionNotFound(
                f"revision {text!r} not found: {here} ({format_address(address)}) has {has}, "
                f"so it has no ^{n}; run `arbor log` to see the history"
            )
        return parents[n - 1]
    for steps in range(n):
        parents = loader.load(address).parents
        if not parents:
            raise RevisionNotFound(
                f"revision {text!r} not found: {here} has only {steps} first-parent "
                f"ancestor{'' if steps == 1 else 's'}, so it has no ~{n}; "
                "run `arbor log --oneline` to see the history"
            )
        address = parents[0]
    return address


def parse_time(value: object) -> datetime | None:
    """``value`` as a time (a datetime, a date at midnight, or ISO 8601 text), else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def resolve_as_of_time(source: ChunkStore | CommitLoader, head: bytes, moment: datetime) -> bytes:
    """Return the first commit at or before ``moment`` on ``head``'s first-parent history.

    Args:
        moment: a datetime; a naive one is read as UTC.

    Raises:
        RevisionNotFound: every commit on that history is later than ``moment``.
    """
    limit = timestamp_from_datetime(moment)
    for entry in ancestors(source, head, first_parent=True):
        if entry.commit.timestamp <= limit:
            return entry.address
    first = datetime_from_timestamp(entry.commit.timestamp).isoformat()  # the root commit
    raise RevisionNotFound(
        f"no commit at or before {moment.isoformat()} on the history of "
        f"{format_address(head)}: its first commit is from {first}; "
        "pick a later time, or run `arbor log` to see commit times"
    )
