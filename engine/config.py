"""Settings such as the commit author, from the repository and from the user's home (Dolt's config).

Two scopes, as in ``dolt config``:

- **local**: one repository's settings, kept in its chunk store as one JSON object
  (UTF-8, keys sorted) under the meta key ``config``. A store without that key has
  no local settings. Edits rewrite the whole object; they are rare and made by one
  person, so two processes editing at the same moment is not guarded against (the
  later write wins).
- **global**: the user's settings for every repository, in the JSON file
  ``config_global.json`` in ``$ARBOR_CONFIG_HOME``, by default ``~/.arbor`` (Dolt
  keeps ``~/.dolt/config_global.json``). It is written to a temporary file and
  renamed into place, so a reader never sees half a file.

Reading a name, the first place that has it wins:

  1. for ``user.name`` / ``user.email`` only: ``ARBOR_AUTHOR_NAME`` /
     ``ARBOR_AUTHOR_EMAIL`` in the environment (scripts and CI set them);
  2. the local scope;
  3. the global scope;
  4. for the author only: the login name, and ``<login>@localhost``.

Names are ``section.key`` in lower case (``user.name``, ``user.email``,
``init.defaultbranch``); values are non-empty text.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .chunks.store import ChunkStore
from .errors import InvalidInput, NotFound

LOCAL_META_KEY = "config"
GLOBAL_FILE = "config_global.json"
SCOPES = ("local", "global")
_NAME = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+\Z")
_ENVIRONMENT = {"user.name": "ARBOR_AUTHOR_NAME", "user.email": "ARBOR_AUTHOR_EMAIL"}


def global_config_path() -> Path:
    """Where the global settings live (``$ARBOR_CONFIG_HOME/config_global.json``)."""
    home = os.environ.get("ARBOR_CONFIG_HOME")
    return (Path(home) if home else Path.home() / ".arbor") / GLOBAL_FILE


@functools.cache
def _login() -> str:
    """The account's login name (the author fallback; fixed for the process)."""
    return getpass.getuser() if hasattr(os, "getuid") else "arbor"


def check_name(name: str) -> str:
    """``name`` if it is a valid setting name, else ``InvalidInput`` saying the form."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"config name {name!r} is not valid: use section.key in lower case, "
            "e.g. user.name or user.email"
        )
    return name


class Config:
    """The settings one repository sees (``store`` is None outside a repository: global only)."""

    def __init__(self, store: ChunkStore | None = None, global_path: Path | None = None) -> None:
        self.store = store
        self.global_path = global_path or global_config_path()

    # --- reading ------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The value ``name`` has here (environment, local, global, in that order), or None."""
        return self.get_many([name])[0]

    def get_many(self, names: Sequence[str]) -> list[str | None]:
        """``get`` of each of ``names``, reading each scope at most once."""
        found: list[str | None] = []
        for name in names:
            check_name(name)
            variable = _ENVIRONMENT.get(name)
            found.append(os.environ.get(variable) or None if variable else None)
        for scope in self._scopes_present():
            if all(value is not None for value in found):
                break
            settings = self.items(scope)
            found = [settings.get(n) if v is None else v for n, v in zip(names, found, strict=True)]
        return found

    def items(self, scope: str) -> dict[str, str]:
        """Every setting of one scope, sorted by name."""
        if _check_scope(scope) == "local":
            raw = self._require_store().get_meta(LOCAL_META_KEY)
            return _decode(bytes(raw), "the repository's local config") if raw else {}
        try:
            text = self.global_path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return {}  # none, or another account's that this process may not read
        return _decode(text, str(self.global_path))

    def author(self) -> tuple[str, str]:
        """The commit author: (user.name, user.email), with the login as the fallback."""
        name, email = self.get_many(["user.name", "user.email"])  # each scope read once
        if name is not None and email is not None:
            return name, email
        login = _login()
        return name or login, email or f"{login}@localhost"

    # --- writing ------------------------------------------------------------------

    def set(self, name: str, value: str, scope: str = "local") -> None:
        """Give ``name`` a value in ``scope``."""
        check_name(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"config {name}: give a non-empty value")
        settings = self.items(scope)
        settings[name] = value
        self._write(scope, settings)

    def unset(self, names: list[str], scope: str = "local") -> None:
        """Remove every one of ``names`` from ``scope``; none is removed if one is missing."""
        settings = self.items(scope)
        missing = [n for n in names if check_name(n) not in settings]
        if missing:
            raise NotFound(
                f"config {missing[0]} is not set in the {scope} config (nothing changed)"
            )
        for name in names:
            del settings[name]
        self._write(scope, settings)

    # --- helpers ------------------------------------------------------------------

    def _scopes_present(self) -> tuple[str, ...]:
        return SCOPES if self.store is not None else ("global",)

    def _require_store(self) -> ChunkStore:
        if self.store is None:
            raise InvalidInput(
                "the local config belongs to a repository: run inside one, or use --global"
            )
        return self.store

    def _write(self, scope: str, settings: Mapping[str, str]) -> None:
        data = json.dumps(dict(sorted(settings.items())), indent=1).encode()
        if scope == "local":
            self._require_store().set_meta(LOCAL_META_KEY, data)
            return
        self.global_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.global_path.parent, prefix=".config-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, self.global_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InvalidInput(f"config scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def _decode(data: bytes, where: str) -> dict[str, str]:
    try:
        settings = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{where} is not valid JSON ({error}); fix or delete it") from None
    if not isinstance(settings, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise InvalidInput(f"{where} must be a JSON object of text values; fix or delete it")
    return dict(sorted(settings.items()))
