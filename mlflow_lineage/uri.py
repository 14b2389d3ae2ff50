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

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from arbordb.sql.errors import NotSupportedError, ObjectNotFound, ProgrammingError

__all__ = ["REMOTE_OPENERS", "DatasetURI", "parse_uri"]

SCHEME = "arbordb"
_KEYS = ("table", "query", "rev")


def _file_remote(path: str) -> Path:
    """A ``file`` remote read in place: the folder of a repository holding the commits."""
    folder = Path(path)
    if not (folder / ".arbor").is_dir():
        raise ObjectNotFound(
            f"no ArborDB repository at {path!r} (the arbordb+file URI must name a repository "
            "folder that holds the logged commit)"
        )
    return folder


# scheme after 'arbordb+' -> function(remote address) -> local repository folder
REMOTE_OPENERS: dict[str, Callable[[str], Path]] = {"file": _file_remote}


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
