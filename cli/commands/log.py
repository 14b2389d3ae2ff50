"""``arbor log`` and ``arbor show``: history from ``dolt_log(...)``."""

from __future__ import annotations

import click

from ..client import Client, Invocation
from ..logview import full_entry, log_text
from ..render import sql_literal
from .common import color, example, out, pass_invocation
from .diff import diff_text


def log_rows(client: Client, revisions: tuple[str, ...], limit: int | None = None) -> list[dict]:
    """Rows of ``dolt_log`` with parents and decorations, newest first."""
    args = ", ".join(sql_literal(a) for a in (*revisions, "--parents", "--decorate", "short"))
    sql = f"SELECT * FROM dolt_log({args})" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return client.rows(sql)


@click.command(
    epilog=example("arbor log --oneline -n 5", "arbor log --graph --oneline main relabel")
)
@click.option("-n", "--number", "limit", type=click.IntRange(min=0), help="Show at most N commits.")
@click.option("--oneline", is_flag=True, help="One line per commit: short hash, refs, subject.")
@click.option("--graph", is_flag=True, help="Draw the branch structure on the left.")
@click.argument("revisions", nargs=-1)
@pass_invocation
def log(
    invocation: Invocation,
    limit: int | None,
    oneline: bool,
    graph: bool,
    revisions: tuple[str, ...],
) -> None:
    """Show commit history.

    The commits reachable from REVISIONS (default: HEAD), newest first.
    """
    with invocation.client() as client:
        rows = log_rows(client, revisions, limit)
    out(log_text(rows, short=oneline, graph=graph, color=color()))


@click.command(epilog=example("arbor show", "arbor show v1"))
@click.argument("revision", default="HEAD")
@pass_invocation
def show(invocation: Invocation, revision: str) -> None:
    """Show a commit and the rows it changed.

    REVISION defaults to HEAD; rows are diffed against its first parent.
    """
    with invocation.client() as client:
        (row,) = log_rows(client, (revision,), 1)
        text = "\n".join(full_entry(row, color=color())) + "\n"
        parents = (row.get("parents") or "").split()
        if parents:
            text += diff_text(client, parents[0], row["commit_hash"], color=color())
    out(text)


COMMANDS = (log, show)
