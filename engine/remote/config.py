"""A repository's remotes (name -> URL) and branch upstreams, kept in the store's meta.

Meta ``config/remotes`` holds UTF-8 JSON ``{"<name>": "<url>", ...}``;
``config/upstreams`` holds ``{"<local branch>": ["<remote>", "<remote branch>"], ...}``
(set by ``push -u`` and by clone). Keys sorted, no whitespace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..chunks.store import ChunkStore, RefUpdate
from ..errors import AlreadyExists, InvalidInput, RemoteNotFound
from ..history.refs import REMOTE_PREFIX, Refs, check_branch_name, close_names
from .opening import open_transport

REMOTES_KEY = "config/remotes"
UPSTREAMS_KEY = "config/upstreams"


def _load(store: ChunkStore, key: str) -> dict:
    raw = store.get_meta(key)
    return {} if raw is None else json.loads(bytes(raw).decode("utf-8"))


def _save(store: ChunkStore, key: str, value: dict) -> None:
    store.set_meta(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def remotes(store: ChunkStore) -> dict[str, str]:
    """Remote name -> URL, sorted by name."""
    return dict(sorted(_load(store, REMOTES_KEY).items()))


def remote_url(store: ChunkStore, name: str) -> str:
    """The URL of remote ``name``.

    Raises:
        RemoteNotFound: no remote has that name; the message lists the remotes.
    """
    known = remotes(store)
    if name not in known:
        close = close_names(name, list(known))
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        listing = ", ".join(known) or "none"
        raise RemoteNotFound(
            f"remote {name!r} not found ({hint}remotes: {listing}; "
            "add one with `arbor remote add NAME URL`)"
        )
    return known[name]


def add_remote(store: ChunkStore, name: str, url: str) -> None:
    """Add remote ``name`` at ``url`` (a relative path is made absolute).

    Raises:
        InvalidInput: a bad name or URL. AlreadyExists: the name is taken.
    """
    check_branch_name(name)
    if "/" in name:
        raise InvalidInput(f"invalid remote name {name!r}: it may not contain '/'")
    open_transport(url)  # checks the URL's scheme and that it holds no credentials
    known = remotes(store)
    if name in known:
        raise AlreadyExists(f"remote {name!r} already exists ({known[name]}); remove it first")
    known[name] = normalise_url(url)
    _save(store, REMOTES_KEY, known)


def remove_remote(store: ChunkStore, name: str) -> None:
    """Remove remote ``name``, its remote-tracking refs and the upstreams naming it."""
    remote_url(store, name)
    refs = Refs(store)
    tracking = store.list_refs(f"{REMOTE_PREFIX}{name}/")
    if tracking:
        refs.update([RefUpdate(ref, address, None) for ref, address in tracking.items()])
    known = remotes(store)
    del known[name]
    _save(store, REMOTES_KEY, known)
    ups = {b: u for b, u in upstreams(store).items() if u[0] != name}
    _save(store, UPSTREAMS_KEY, ups)


def upstreams(store: ChunkStore) -> dict[str, tuple[str, str]]:
    """Local branch -> (remote, remote branch)."""
    return {b: (u[0], u[1]) for b, u in _load(store, UPSTREAMS_KEY).items()}


def set_upstream(store: ChunkStore, branch: str, remote: str, remote_branch: str) -> None:
    ups = {b: list(u) for b, u in upstreams(store).items()}
    ups[branch] = [remote, remote_branch]
    _save(store, UPSTREAMS_KEY, ups)


def normalise_url(url: str | os.PathLike[str]) -> str:
    """A plain relative path becomes an absolute ``file://`` URL; other URLs stay."""
    url = os.fspath(url)
    if "://" in url:
        return url
    return Path(os.path.abspath(Path(url).expanduser())).as_uri()
