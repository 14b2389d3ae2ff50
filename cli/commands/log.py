"""``arbor log`` and ``arbor show``: history from ``dolt_log(...)``."""

from __future__ import annotations

import click

from ..client import Client, Invocation, invocation_of
from ..errors import UsageError
from ..logview import full_entry, log_text
from ..render import sql_literal
from .common import color, example, out, pass_invocation
from .diff import (
    View,
    data_view,
    diff_text,
    patch_view,
    result_format_option,
    stat_view,
    summary_view,
)


def log_rows(
    client: Client,
    revisions: tuple[str, ...],
    limit: int | None = None,
    *,
    decorate: str = "short",
    extra: tuple[str, ...] = (),
) -> list[dict]:
    """Rows of ``dolt_log`` with parents and decorations, newest first."""
    args = ", ".join(
        sql_literal(a) for a in (*revisions, *extra, "--parents", "--decorate", decorate)
    )
    sql = f"SELECT * FROM dolt_log({args})" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return client.rows(sql)


class _TablesAfterDashes(click.Command):
    """``arbor log [REVISIONS] -- TABLES``: what follows ``--`` names tables, as in Dolt."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["log_tables"] = tuple(args[cut + 1 :])
            args = args[:cut]
        return super().parse_args(ctx, args)


@click.command(
    cls=_TablesAfterDashes,
    epilog=example(
        "arbor log --oneline -n 5",
        "arbor log --graph --oneline main relabel",
        "arbor log --stat -- labels",
    ),
)
@click.option("-n", "--number", "limit", type=click.IntRange(min=0), help="Show at most N commits.")
@click.option("--oneline", is_flag=True, help="One line per commit: short hash, refs, subject.")
@click.option("--graph", is_flag=True, help="Draw the branch structure on the left.")
@click.option("--all", "all_refs", is_flag=True, help="Every branch and tag, not only HEAD.")
@click.option("--merges", is_flag=True, help="Only merge commits.")
@click.option(
    "--min-parents", type=click.IntRange(min=0), metavar="N", help="Only commits with N+ parents."
)
@click.option("--parents", is_flag=True, help="Show each commit's parents after its hash.")
@click.option(
    "--decorate",
    type=click.Choice(["short", "full", "no"]),
    default="short",
    show_default=True,
    help="Branch and tag names beside the commits.",
)
@click.option("--stat", is_flag=True, help="Rows added, deleted and modified per commit.")
@click.argument("revisions", nargs=-1)
@click.pass_context
def log(
    ctx: click.Context,
    limit: int | None,
    oneline: bool,
    graph: bool,
    all_refs: bool,
    merges: bool,
    min_parents: int | None,
    parents: bool,
    decorate: str,
    stat: bool,
    revisions: tuple[str, ...],
) -> None:
    """Show commit history.

    The commits reachable from REVISIONS (default: HEAD), newest first; after --,
    only those that changed one of the named tables.
    """
    tables = ctx.meta.get("log_tables", ())
    extra: tuple[str, ...] = ()
    if merges:
        extra += ("--merges",)
    if min_parents is not None:
        extra += ("--min-parents", str(min_parents))
    if tables:
        extra += ("--tables", ",".join(tables))
    with invocation_of(ctx).client() as client:
        if all_refs:
            revisions = (*revisions, *client.branches(), *client.tags())
        rows = log_rows(client, revisions, limit, decorate=decorate, extra=extra)
        stats = [_stat(client, row, tables) for row in rows] if stat else None
    out(log_text(rows, short=oneline, graph=graph, color=color(), parents=parents, stats=stats))


def _stat(client: Client, row: dict, tables: tuple[str, ...]) -> str:
    """The ``--stat`` block of one commit: its change against its first parent."""
    parents = (row.get("parents") or "").split()
    if not parents:
        return ""
    return stat_view(client, [parents[0], row["commit_hash"]], list(tables))


@click.command(epilog=example("arbor show", "arbor show v1 --stat", "arbor show HEAD~2 -r json"))
@click.argument("revision", default="HEAD")
@click.option("--stat", is_flag=True, help="Rows and cells changed per table, not the rows.")
@click.option("--summary", is_flag=True, help="Changed tables and per-column changes.")
@result_format_option
@pass_invocation
def show(invocation: Invocation, revision: str, stat: bool, summary: bool, fmt: str) -> None:
    """Show a commit and the rows it changed.

    REVISION defaults to HEAD; rows are diffed against its first parent.
    """
    if stat and summary:
        raise UsageError("give --stat or --summary, not both")
    with invocation.client() as client:
        (row,) = log_rows(client, (revision,), 1)
        text = "\n".join(full_entry(row, color=color())) + "\n"
        parents = (row.get("parents") or "").split()
        if not parents:
            out(text)
            return
        revs = [parents[0], row["commit_hash"]]
        if stat:
            out(text + stat_view(client, revs, []))
        elif summary:
            out(text + summary_view(client, revs, [], None))
        elif fmt == "table":
            out(text + diff_text(client, *revs, color=color()))
        elif fmt == "sql":
            out(text + patch_view(client, revs, []))
        else:
            out(text)
            data_view(client, revs, [], View(), fmt)


COMMANDS = (log, show)
