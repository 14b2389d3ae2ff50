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
    """Delete data no branch, tag or working set can reach; print what was freed.

    Safe while other processes read and commit: a commit made meanwhile is kept.
    """
    with invocation.client() as client, progress.task("collecting garbage"):
        counts = client.gc()
    out(
        f"Garbage collection done: deleted {counts['deleted']:,} chunk(s), "
        f"{_size(counts['freed_bytes'])}; kept {counts['kept']:,}.\n"
    )


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    return f"{n / 1024:,.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):,.1f} MiB"


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
