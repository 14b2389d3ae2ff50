"""``arbor gc`` and ``arbor fsck``: storage housekeeping and integrity checks."""

from __future__ import annotations

import click

from .. import progress
from ..client import Invocation
from ..errors import CliError
from .common import example, out, pass_invocation


class DamagedRepository(CliError):
    """``fsck`` found problems; each was printed before this is raised."""


@click.command(epilog=example("arbor gc"))
@pass_invocation
def gc(invocation: Invocation) -> None:
    """Delete data no branch or tag can reach."""
    with invocation.client() as client, progress.task("collecting garbage"):
        client.call("dolt_gc")
    out("Garbage collection done.\n")


@click.command(epilog=example("arbor fsck"))
@pass_invocation
def fsck(invocation: Invocation) -> None:
    """Check the repository for damage.

    Every stored chunk reachable from a branch, tag or working set must be present,
    intact and decodable. Lists each problem and exits with status 1 if not.
    """
    with invocation.client() as client, progress.task("checking the repository"):
        problems = client.fsck()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise DamagedRepository(
            f"{len(problems)} problem(s) found (restore the repository from a copy)"
        )
    out("No problems found.\n")


COMMANDS = (gc, fsck)
