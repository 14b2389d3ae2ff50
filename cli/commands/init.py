"""``arbor init``: make a directory a repository (one commit, "Initialize data repository")."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

import arbordb

from ..client import REPO_DIR, Invocation
from ..errors import CliError
from .common import example, out, pass_invocation


@click.command(
    epilog=example("mkdir labels && cd labels && arbor init", "arbor init ../other-repo")
)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Author of the first commit (default: the user.name setting).")
@click.option("--email", help="Its e-mail (default: the user.email setting).")
@click.option(
    "-b",
    "--initial-branch",
    "branch",
    metavar="BRANCH",
    help="The first branch (default: the init.defaultbranch setting, else main).",
)
@pass_invocation
def init(
    invocation: Invocation,
    directory: Path | None,
    name: str | None,
    email: str | None,
    branch: str | None,
) -> None:
    """Create an empty repository.

    In DIRECTORY (default: the current one). It starts with one commit,
    "Initialize data repository"; its data lives in DIRECTORY/.arbor.
    """
    target = (invocation.directory / directory if directory else invocation.directory).resolve()
    if (target / REPO_DIR).exists():
        raise CliError(f"{str(target)!r} is already an ArborDB repository (nothing was changed)")
    made = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        with arbordb.Repo(target, initial_branch=branch, author=_author(name, email)) as repo:
            branch = repo.active_branch
    except BaseException:
        shutil.rmtree(target / REPO_DIR, ignore_errors=True)
        if made:
            shutil.rmtree(target, ignore_errors=True)
        raise
    out(f"Initialized empty ArborDB repository in {target / REPO_DIR} (branch {branch})\n")


def _author(name: str | None, email: str | None) -> tuple[str, str] | None:
    """The first commit's author when --name or --email is given (the other from settings)."""
    if name is None and email is None:
        return None
    configured = arbordb.Config().author()
    return name or configured[0], email or configured[1]


COMMANDS = (init,)
