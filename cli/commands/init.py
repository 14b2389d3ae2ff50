"""``arbor init``: make a directory a repository (one commit, "Initialize data repository")."""

from __future__ import annotations

from pathlib import Path

import click

from ..client import REPO_DIR, Client, Invocation
from ..errors import CliError
from .common import example, out, pass_invocation


@click.command(
    epilog=example("mkdir labels && cd labels && arbor init", "arbor init ../other-repo")
)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_invocation
def init(invocation: Invocation, directory: Path | None) -> None:
    """Create an empty repository.

    In DIRECTORY (default: the current one). It starts with one commit on branch
    main; its data lives in DIRECTORY/.arbor.
    """
    target = (invocation.directory / directory if directory else invocation.directory).resolve()
    if (target / REPO_DIR).exists():
        raise CliError(f"{str(target)!r} is already an ArborDB repository (nothing was changed)")
    target.mkdir(parents=True, exist_ok=True)
    with Client(target) as client:
        branch = client.branch
    out(f"Initialized empty ArborDB repository in {target / REPO_DIR} (branch {branch})\n")


COMMANDS = (init,)
