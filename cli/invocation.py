"""What every command receives (click's ``ctx.obj``): where the repository is, and the
way to reach it. Light to import: the SQL layer loads when a command asks for a
``Client`` (``cli/client.py``), the engine alone when it asks for a ``Direct``
(``cli/direct.py``, the ref verbs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arbordb.engine.db import REPO_DIR

from .errors import CliError

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Invocation", "NotARepository", "find_repository", "invocation_of"]


class NotARepository(CliError):
    """No ``.arbor`` directory here or above; the message says how to make one."""


def find_repository(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds a repository."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / REPO_DIR).is_dir():
            return directory
    raise NotARepository(
        f"{str(start)!r} is not inside an ArborDB repository "
        "(run `arbor init` to create one here, or pass -C PATH)"
    )


@dataclass
class Invocation:
    """What every command receives (click's ``ctx.obj``): where to find the repository,
    or, inside the REPL, the session's own client to reuse."""

    directory: Path
    shared: Client | None = None

    @contextmanager
    def client(self) -> Iterator[Client]:
        """The repository's client for one command (closed afterwards unless shared)."""
        if self.shared is not None:
            yield self.shared
            return
        from .client import Client  # the SQL layer: loaded by the commands that need it

        client = Client(find_repository(self.directory))
        try:
            yield client
        finally:
            client.close()


def invocation_of(ctx: click.Context) -> Invocation:
    """The command's ``Invocation`` (``cli/main.py`` gives every command one)."""
    invocation = ctx.find_object(Invocation)
    assert invocation is not None, "cli/main.py puts an Invocation in every context"
    return invocation
