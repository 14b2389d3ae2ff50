"""``arbor version`` and ``arbor merge-base``: small questions with one-line answers."""

from __future__ import annotations

from importlib.metadata import version as package_version

import click

from ..client import Invocation
from ..render import sql_literal
from .common import example, out, pass_invocation


@click.command(epilog=example("arbor version"))
def version() -> None:
    """Show the installed ArborDB version."""
    out(f"arbor version {package_version('arbordb')}\n")


@click.command("merge-base", epilog=example("arbor merge-base main relabel"))
@click.argument("first")
@click.argument("second")
@pass_invocation
def merge_base(invocation: Invocation, first: str, second: str) -> None:
    """Show the best common ancestor of two revisions (its commit hash)."""
    with invocation.client() as client:
        address = client.scalar(
            f"SELECT dolt_merge_base({sql_literal(first)}, {sql_literal(second)})"
        )
    out(f"{address}\n")


COMMANDS = (version, merge_base)
