"""ArborDB dataset URIs: where a logged version lives, and how to open it.

    arbordb:///abs/repo/path?table=labels&rev=<commit hash>
    arbordb:///abs/repo/path?query=<url-encoded SELECT>&rev=<commit hash>
    arbordb+file:///abs/remote/path?table=...&rev=...
    arbordb+s3://bucket/prefix?table=...&rev=...

``table`` or ``query`` (or both: the query then names the dataset's table) says
what to read; ``rev`` is the commit (any revision is accepted, but lineage records
the immutable hash). ``arbordb`` opens the repository directory itself; the
``arbordb+<scheme>`` forms go through ``REMOTE_OPENERS[scheme]``, a function from
the remote's address to a local repository directory holding its commits (the
remote's own folder for ``file``; a clone into a cache folder once remotes exist).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from arbordb.engine.db import REPO_DIR
from arbordb.engine.errors import EngineError
from arbordb.engine.repo import Repo, clone
from arbordb.sql.errors import NotSupportedError, ObjectNotFound, ProgrammingError, translate

__all__ = ["REMOTE_OPENERS", "DatasetURI", "parse_uri"]

SCHEME = "arbordb"
_KEYS = ("table", "query", "rev")


def remote_cache() -> Path:
    """Where remotes are cloned to be read: ``$ARBOR_CACHE_HOME`` or ``~/.cache/arbordb``."""
    home = os.environ.get("ARBOR_CACHE_HOME")
    return (Path(home) if home else Path.home() / ".cache" / "arbordb") / "remotes"


def _cloned(url: str) -> Path:
    """A local clone of the remote at ``url``, made on first use and fetched afterwards
    (so a commit pushed since is found), in :func:`remote_cache`."""
    folder = remote_cache() / hashlib.sha256(url.encode()).hexdigest()[:32]
    try:
        if (folder / REPO_DIR).is_dir():
            with Repo(folder, create=False) as repo:
                repo.fetch("origin")
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        clone(url, folder).close()
    except EngineError as error:
        raise translate(error) from error
    return folder


def _file_remote(path: str) -> Path:
    """A ``file`` location: a repository folder read in place, else a ``file://`` remote
    (a folder that ``arbor push`` wrote) read through a local clone."""
    folder = Path(path)
    if (folder / REPO_DIR).is_dir():
        return folder
    if not folder.is_dir():
        raise ObjectNotFound(
            f"no ArborDB repository or remote at {path!r} (the arbordb+file URI names a "
            "repository folder or a file:// remote that holds the logged commit)"
        )
    return _cloned(folder.as_uri())


def _s3_remote(location: str) -> Path:
    """An ``s3`` remote (``bucket/prefix``) read through a local clone."""
    return _cloned(f"s3://{location}")


# scheme after 'arbordb+' -> function(remote address) -> local repository folder
REMOTE_OPENERS: dict[str, Callable[[str], Path]] = {"file": _file_remote, "s3": _s3_remote}


@dataclass(frozen=True)
class DatasetURI:
    """A parsed dataset URI (see the module docstring)."""

    remote: str | None  # None: a local repository; else the scheme after 'arbordb+'
    location: str  # the repository path, or the remote's address (bucket/prefix, path)
    table: str | None
    query: str | None
    rev: str

    def text(self) -> str:
        scheme = SCHEME if self.remote is None else f"{SCHEME}+{self.remote}"
        params = {k: v for k, v in (("table", self.table), ("query", self.query)) if v}
        params["rev"] = self.rev
        if self.remote in (None, "file"):
            return f"{scheme}://{quote(self.location)}?{urlencode(params)}"
        return f"{scheme}://{self.location}?{urlencode(params)}"

    def repository(self) -> Path:
        """The local repository folder to read (opening the remote if there is one)."""
        if self.remote is None:
            return Path(self.location)
        opener = REMOTE_OPENERS.get(self.remote)
        if opener is None:
            raise NotSupportedError(
                f"cannot open {SCHEME}+{self.remote}:// URIs in this installation (it opens: "
                f"{', '.join(f'{SCHEME}+{s}' for s in sorted(REMOTE_OPENERS))}, and {SCHEME}:// "
                "repository paths); clone the remote and read the repository instead"
            )
        return opener(self.location)


def parse_uri(text: str) -> DatasetURI:
    """Read an ArborDB dataset URI.

    Raises:
        ProgrammingError: not an ArborDB URI, or it lacks ``rev`` or ``table``/``query``.
    """
    if not isinstance(text, str):
        raise ProgrammingError(f"an ArborDB dataset URI is text, got {type(text).__name__}")
    parts = urlsplit(text)
    scheme, _, remote = parts.scheme.partition("+")
    if scheme != SCHEME or (remote == "" and "+" in parts.scheme):
        raise ProgrammingError(
            f"{text!r} is not an ArborDB dataset URI (arbordb:///repo/path?table=t&rev=<hash>)"
        )
    params = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(params) - set(_KEYS))
    if unknown or any(len(v) != 1 for v in params.values()):
        raise ProgrammingError(
            f"{text!r}: the query part takes table, query and rev once each "
            f"(not {', '.join(unknown) or 'repeated keys'})"
        )
    values = {k: v[0] for k, v in params.items()}
    if not values.get("rev") or not (values.get("table") or values.get("query")):
        raise ProgrammingError(f"{text!r} needs rev= and table= (or query=)")
    if remote in ("", "file"):
        location = unquote(parts.path)
        if parts.netloc or not location.startswith("/"):
            raise ProgrammingError(
                f"{text!r}: write an absolute path after three slashes, e.g. arbordb:///data/repo"
            )
    else:
        location = parts.netloc + parts.path
    return DatasetURI(
        remote or None, location, values.get("table"), values.get("query"), values["rev"]
    )
