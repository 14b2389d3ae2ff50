"""Ref names, name rules and the compare-and-swap discipline for moving refs.

A ref is a name in the chunk store's ref table that holds one chunk address.
The names in use:

    NAME                              HOLDS THE ADDRESS OF
    refs/heads/<branch>               the branch's head commit (commit.py)
    refs/tags/<tag>                   an annotated tag chunk (tag.py)
    workingSets/heads/<branch>        the branch's working set (working_set.py)
    refs/remotes/<remote>/<branch>    the head commit of <branch> on remote <remote>
                                      when last fetched or pushed (remote-tracking)
    refs/stashes/<name>/<digits>      a stash entry (stash.py)
    reflog/<ref name>/<digits>        where a logged ref moved (reflog.py; written
                                      only by ``reflog.logged``, beside the move)
    refs/internal/default_branch      a default-branch chunk (below)

There is no stored HEAD: each session keeps its own current branch. The
repository's default branch (the one a new session and the CLI start on) is
kept as a ref like any other so that it changes by the same compare-and-swap,
and so that every ref value is a chunk address a reachability walk can follow.
Its chunk is b"ADEF", a format version byte (1), then the branch name in UTF-8
to the end of the chunk; one name gives exactly one byte string.

Invariants:

(1) A ref moves only by compare-and-swap from the value the writer read:
    every update names the value it expects (None for "must not exist"), and
    ``Refs.update`` raises ``CommitConflict`` (retryable) and writes nothing
    if any ref in the batch no longer holds its expected value.
(2) Every chunk reachable from a ref exists: chunks are written in the same
    transaction as the ref update that first names them, or before it.
    ``Refs.update`` checks this for the chunk each ref names directly;
    whoever builds that chunk makes sure of what it names (``graph.make_commit``
    checks a new commit's parents).
(3) A commit's parents are immutable: they are part of the commit's hashed
    bytes (commit.py), so "changing" them makes a different commit, and a
    branch can only be moved to it under (1).

Branch and tag names follow git's rules where they matter to us. A name:

(a) is 1 to 200 bytes of UTF-8 (the longest ref, with its prefix, stays far
    below LMDB's 511-byte key limit);
(b) holds no whitespace or control character;
(c) holds none of ``~ ^ : ? * [ \\`` (revision syntax and glob characters);
(d) holds neither ``..`` nor ``@{``, and is not ``@``;
(e) does not start with ``-`` (it would read as an option);
(f) does not start or end with ``/`` or hold ``//``;
(g) has no ``/``-separated part that starts with ``.`` or ends with ``.lock``,
    and does not end with ``.``;
(h) is not ``HEAD``, ``WORKING`` or ``STAGED`` in any letter case (revision
    words, see revision.py);
(i) is not 32 characters from the address alphabet ``0-9a-v``: it would read
    as a commit hash.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Mapping, Sequence
from typing import NoReturn

from arbordb.engine.chunks.store import ChunkStore, RefUpdate
from arbordb.engine.errors import (
    BranchNotFound,
    CommitConflict,
    CorruptChunk,
    InvalidInput,
    MissingChunk,
    TagNotFound,
)
from arbordb.engine.hash import address_of, format_address, require_address

from .commit import COMMIT_MAGIC
from .reflog import LOGGED_PREFIXES, logged
from .stash import STASH_MAGIC
from .tag import TAG_MAGIC
from .working_set import WORKING_SET_MAGIC

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"
WORKING_SET_PREFIX = "workingSets/heads/"
REMOTE_PREFIX = "refs/remotes/"
STASH_PREFIX = "refs/stashes/"
DEFAULT_BRANCH_REF = "refs/internal/default_branch"

assert LOGGED_PREFIXES == (BRANCH_PREFIX, TAG_PREFIX, REMOTE_PREFIX)

DEFAULT_BRANCH_MAGIC = b"ADEF"
DEFAULT_BRANCH_VERSION = 1

RESERVED_NAMES = frozenset({"HEAD", "WORKING", "STAGED"})
_MAX_NAME_BYTES = 200
_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]")
_HASH_LIKE = re.compile(r"[0-9a-v]{32}")


@functools.lru_cache(maxsize=1024)
def _name_error(name: str) -> str | None:
    """Return which rule of the module docstring ``name`` breaks, or None (a pure
    function of the name, kept for the names last checked: one ref write checks its
    branch, working set and reflog names, and the verbs check theirs first)."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "(a) it is not valid Unicode text"
    if not 1 <= size <= _MAX_NAME_BYTES:
        return f"(a) it must be 1 to {_MAX_NAME_BYTES} bytes of UTF-8, it is {size}"
    bad = _BAD_CHARS.search(name)
    if bad:
        return f"(b, c) it may not contain {bad.group()!r}"
    if ".." in name or "@{" in name or name == "@":
        return "(d) it may not contain '..' or '@{', or be '@'"
    if name.startswith("-"):
        return "(e) it may not start with '-'"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "(f) it may not start or end with '/', or contain '//'"
    parts = name.split("/")
    if any(p.startswith(".") or p.endswith(".lock") for p in parts) or name.endswith("."):
        return "(g) no part may start with '.' or end with '.lock', nor the name end with '.'"
    if name.upper() in RESERVED_NAMES:
        return f"(h) {', '.join(sorted(RESERVED_NAMES))} are revision words"
    if _HASH_LIKE.fullmatch(name):
        return "(i) it would read as a commit hash"
    return None


def check_branch_name(name: str) -> None:
    """Raise InvalidInput naming ``name`` and the rule it breaks, if it is no valid branch name.

    Example:
        >>> check_branch_name("feature/x")
        >>> check_branch_name("a..b")
        Traceback (most recent call last):
        ...
        arbordb.engine.errors.InvalidInput: invalid branch name 'a..b':
            (d) it may not contain '..' or '@{', or be '@'
    """
    _check_name("branch", name)


def check_tag_name(name: str) -> None:
    """Raise InvalidInput naming ``name`` and the rule it breaks, if it is no valid tag name."""
    _check_name("tag", name)


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str):
        raise InvalidInput(f"a {kind} name must be a str, got {type(name).__name__}")
    problem = _name_error(name)
    if problem:
        raise InvalidInput(f"invalid {kind} name {name!r}: {problem}")


def branch_ref(name: str) -> str:
    """Return the ref name of branch ``name`` (InvalidInput if the name is invalid)."""
    check_branch_name(name)
    return BRANCH_PREFIX + name


def tag_ref(name: str) -> str:
    """Return the ref name of tag ``name`` (InvalidInput if the name is invalid)."""
    check_tag_name(name)
    return TAG_PREFIX + name


def working_set_ref(branch: str) -> str:
    """Return the ref name of the working set of branch ``branch``."""
    check_branch_name(branch)
    return WORKING_SET_PREFIX + branch


def encode_default_branch(name: str) -> bytes:
    """Return the default-branch chunk naming branch ``name``."""
    check_branch_name(name)
    return DEFAULT_BRANCH_MAGIC + bytes([DEFAULT_BRANCH_VERSION]) + name.encode("utf-8")


def decode_default_branch(data: bytes) -> str:
    """Return the branch name in a default-branch chunk (CorruptChunk if it is not one)."""
    data = bytes(data)
    head = DEFAULT_BRANCH_MAGIC + bytes([DEFAULT_BRANCH_VERSION])
    if data[: len(head)] != head:
        raise CorruptChunk(address_of(data), f"not a default-branch chunk (expected {head!r})", 0)
    try:
        name = data[len(head) :].decode("utf-8")
    except UnicodeDecodeError:
        name = ""
    if _name_error(name):
        raise CorruptChunk(address_of(data), "holds no valid branch name", len(head))
    return name


# Each ref namespace: the name check and the chunk kind its values must name.
_NAMESPACES = (
    (BRANCH_PREFIX, check_branch_name, COMMIT_MAGIC, "a commit"),
    (TAG_PREFIX, check_tag_name, TAG_MAGIC, "a tag"),
    (WORKING_SET_PREFIX, check_branch_name, WORKING_SET_MAGIC, "a working set"),
    (REMOTE_PREFIX, check_branch_name, COMMIT_MAGIC, "a commit"),  # <remote>/<branch>
    (STASH_PREFIX, check_branch_name, STASH_MAGIC, "a stash entry"),  # <name>/<digits>
)


def _expected_kind(ref: str) -> tuple[bytes, str]:
    """Check ``ref``'s name; return the magic and the kind of chunk its value must name."""
    if ref == DEFAULT_BRANCH_REF:
        return DEFAULT_BRANCH_MAGIC, "a default-branch chunk"
    for prefix, check_name, magic, kind in _NAMESPACES:
        if ref.startswith(prefix):
            check_name(ref[len(prefix) :])
            return magic, kind
    raise InvalidInput(
        f"ref {ref!r} is in no known namespace (use {BRANCH_PREFIX}<branch>, "
        f"{TAG_PREFIX}<tag>, {WORKING_SET_PREFIX}<branch> or {DEFAULT_BRANCH_REF})"
    )


class Refs:
    """Typed access to the refs of one chunk store, and CAS updates of them.

    Reads go straight to the store (no cache: another writer may move a ref
    at any time); updates follow invariants (1) and (2).
    """

    __slots__ = ("store",)

    def __init__(self, store: ChunkStore) -> None:
        self.store = store

    # --- reads ---------------------------------------------------------------

    def branches(self) -> dict[str, bytes]:
        """Return branch name -> head commit address, sorted by name."""
        return self._strip(BRANCH_PREFIX)

    def tags(self) -> dict[str, bytes]:
        """Return tag name -> tag chunk address (peel with ``tag.peel``), sorted by name."""
        return self._strip(TAG_PREFIX)

    def remote_branches(self) -> dict[str, bytes]:
        """Return ``<remote>/<branch>`` -> commit address of every remote-tracking ref."""
        return self._strip(REMOTE_PREFIX)

    def working_sets(self) -> dict[str, bytes]:
        """Return branch name -> working set chunk address, sorted by name."""
        return self._strip(WORKING_SET_PREFIX)

    def _strip(self, prefix: str) -> dict[str, bytes]:
        refs = self.store.list_refs(prefix)  # sorted by name (store contract)
        return {name[len(prefix) :]: address for name, address in refs.items()}

    def find_branch(self, name: str) -> bytes | None:
        """Return the head commit address of branch ``name``, or None if there is no such
        branch, or ``name`` could name none (one ref read, whatever the number of branches)."""
        if not isinstance(name, str) or _name_error(name):
            return None
        return self.store.get_ref(BRANCH_PREFIX + name)

    def branch_head(self, name: str) -> bytes:
        """Return the head commit address of branch ``name``.

        Raises:
            BranchNotFound: no such branch; the message lists close names.
        """
        found = self.store.get_ref(BRANCH_PREFIX + name)
        if found is None:
            raise BranchNotFound(_not_found("branch", name, self.branches()))
        return found

    def tag(self, name: str) -> bytes:
        """Return the tag chunk address of tag ``name``.

        Raises:
            TagNotFound: no such tag; the message lists close names.
        """
        found = self.store.get_ref(TAG_PREFIX + name)
        if found is None:
            raise TagNotFound(_not_found("tag", name, self.tags()))
        return found

    def working_set(self, branch: str) -> bytes | None:
        """Return the working set chunk address of ``branch``, or None if it has none yet."""
        return self.store.get_ref(WORKING_SET_PREFIX + branch)

    def default_branch(self) -> str | None:
        """Return the repository's default branch name, or None if none is set."""
        address = self.store.get_ref(DEFAULT_BRANCH_REF)
        return None if address is None else decode_default_branch(self.store.get(address))

    # --- updates -------------------------------------------------------------

    def default_branch_update(self, name: str) -> tuple[dict[bytes, bytes], RefUpdate]:
        """Return the chunk and the update that make ``name`` the default branch.

        The update expects the value read now (invariant (1)); pass both to
        ``update``, alone or with the other refs of the same operation.
        """
        data = encode_default_branch(name)
        address = address_of(data)
        current = self.store.get_ref(DEFAULT_BRANCH_REF)
        return {address: data}, RefUpdate(DEFAULT_BRANCH_REF, current, address)

    def update(
        self,
        updates: Sequence[RefUpdate],
        chunks: Mapping[bytes, bytes] | None = None,
        *,
        commits: Collection[bytes] = (),
    ) -> None:
        """Write ``chunks`` and apply ``updates`` in one atomic compare-and-swap.

        Args:
            updates: each names a ref, the value the caller read (None: the
                ref must not exist) and the new value (None: delete the ref).
            chunks: new chunks to write in the same transaction, address -> bytes.
            commits: addresses the caller has read as commits (a ``CommitLoader``
                decoded them): a ref of branches may name them without its chunk
                being read again. The store still checks that each is stored,
                in the write transaction (invariant (2)).

        Raises:
            InvalidInput: an unknown ref namespace, an invalid branch or tag
                name, the same ref twice, or a value of the wrong chunk kind.
            InvalidAddress: a value is not a 20-byte address.
            MissingChunk: a new value names a chunk that is neither in
                ``chunks`` nor in the store (invariant (2)).
            CommitConflict: some ref no longer holds its expected value;
                nothing was written (invariant (1)). Re-read and retry.

        Example:
            >>> from arbordb.engine.chunks.memory import MemoryChunkStore
            >>> refs = Refs(MemoryChunkStore())
            >>> refs.update([])
        """
        chunks = dict(chunks or {})
        for u in updates:  # the store checks addresses and duplicate names itself
            magic, kind = _expected_kind(u.name)
            if u.new is not None:
                new = require_address(u.new, f"new value of ref {u.name!r}")
                if magic == COMMIT_MAGIC and new in commits and new not in chunks:
                    continue  # read as a commit already; stored: checked by the store
                if self._chunk(u.name, new, chunks)[:4] != magic:
                    raise InvalidInput(
                        f"ref {u.name!r} must name {kind}, but chunk {format_address(new)} "
                        "is some other object"
                    )
        if not self.store.commit(chunks, logged(updates)):  # and their reflog entries
            self._raise_conflict(updates)

    def _chunk(self, name: str, address: bytes, chunks: Mapping[bytes, bytes]) -> bytes:
        data = chunks.get(address)
        if data is not None:
            return data
        if not self.store.has(address):  # invariant (2)
            raise MissingChunk(
                address,
                f"ref {name!r} would name chunk {format_address(address)}, which is neither "
                "in this transaction nor in the store (write the chunk first; invariant (2))",
            )
        return self.store.get(address)

    def _raise_conflict(self, updates: Sequence[RefUpdate]) -> NoReturn:
        moved = [u.name for u in updates if self.store.get_ref(u.name) != u.expected]
        moved = moved or [u.name for u in updates]  # moved back already: name them all
        names = ", ".join(repr(n) for n in moved)
        raise CommitConflict(
            f"{'ref' if len(moved) == 1 else 'refs'} {names} changed since read "
            "(another writer committed first); "
            "nothing was written: re-read and retry"
        )


def close_names(name: str, existing: Sequence[str]) -> list[str]:
    """Return up to three names in ``existing`` that look like ``name`` (for error messages)."""
    return difflib.get_close_matches(name, list(existing), n=3, cutoff=0.6)


def name_listing(names: Sequence[str], limit: int = 10) -> str:
    """Return ``names`` comma-separated for an error message, at most ``limit`` of them."""
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _not_found(kind: str, name: str, existing: Mapping[str, bytes]) -> str:
    close = close_names(name, list(existing))
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    plural = "branches" if kind == "branch" else "tags"
    return f"{kind} {name!r} not found ({hint}{plural}: {name_listing(list(existing))})"
