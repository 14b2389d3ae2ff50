"""``arbor merge`` and ``arbor conflicts cat|resolve``: three-way merges and their conflicts."""

from __future__ import annotations

import click

from arbordb.engine.workspace.merging import merge_message
from arbordb.sql.parse.dialect import quote_identifier

from ..client import Invocation, invocation_of
from ..diffview import conflicts_text
from ..errors import UsageError
from .common import color, example, out, pass_invocation

UP_TO_DATE = "Everything up-to-date"  # dolt_merge's message when there is nothing to merge


@click.command(
    epilog=example(
        "arbor merge relabel",
        'arbor merge --no-ff -m "merge relabel" relabel',
        'arbor merge --no-edit --author "Ann <ann@x.org>" relabel',
        "arbor merge --abort",
        "arbor merge --check labels relabel   # only if dolt_tests group 'labels' passes",
    )
)
@click.option(
    "--no-ff", is_flag=True, help="Make a merge commit even when a fast-forward is possible."
)
@click.option("--no-commit", is_flag=True, help="Merge into the working set but do not commit.")
@click.option(
    "--squash", is_flag=True, help="Merge the changes without recording the other parent."
)
@click.option(
    "--abort", is_flag=True, help="Give up the merge in progress and restore the pre-merge state."
)
@click.option("-m", "--message", metavar="MSG", help="Message of the merge commit.")
@click.option(
    "--no-edit", is_flag=True, help="Use the default merge message (no editor is ever opened)."
)
@click.option("--author", metavar="AUTHOR", help='Author of the merge commit, "Name <email>".')
@click.option(
    "--check",
    metavar="GROUP",
    help="Refuse the merge unless the dolt_tests of GROUP pass on its result.",
)
@click.argument("branch", required=False)
@click.pass_context
def merge(
    ctx: click.Context,
    no_ff: bool,
    no_commit: bool,
    squash: bool,
    abort: bool,
    message: str | None,
    no_edit: bool,
    author: str | None,
    check: str | None,
    branch: str | None,
) -> None:
    """Merge a branch into the current branch.

    Rows are merged cell by cell against the merge base. Conflicts stay in the
    working set to resolve (arbor conflicts cat|resolve, then arbor commit); the
    exit status is then 1.
    """
    if abort == bool(branch):
        raise UsageError("name one branch to merge, or pass --abort (not both)")
    if abort and (no_ff or no_commit or squash or message or author or no_edit):
        raise UsageError("--abort takes no other options")
    if squash and no_ff:
        raise UsageError("--squash and --no-ff contradict each other (pass one of them)")
    if no_edit and message:
        raise UsageError("--no-edit keeps the default message and -m gives one: pass one of them")
    flags = (
        ["--no-ff"] * no_ff
        + ["--no-commit"] * no_commit
        + ["--squash"] * squash
        + ["--abort"] * abort
    )
    flags += ["-m", message] if message else []
    flags += ["--author", author] if author else []
    flags += ["--check", check] if check else []
    with invocation_of(ctx).client() as client:
        rows = client.call("dolt_merge", *flags, *([branch] if branch else [])).to_pylist()
        result = rows[0] if rows else {}
        if abort:
            out("Merge aborted.\n")
            return
        if result.get("conflicts"):  # Dolt's 0/1 flag: conflicts or constraint violations
            found = client.query('SELECT "table", num_conflicts FROM dolt_conflicts').to_pylist()
            for row in found:
                out(f"CONFLICT (content): Merge conflict in {row['table']}\n")
            count = sum(row["num_conflicts"] for row in found)
            out(
                f"Automatic merge failed; {count} conflict(s): resolve them with "
                "`arbor conflicts resolve --ours|--theirs <table>` and `arbor commit`.\n"
            )
            ctx.exit(1)
        if result.get("message") == UP_TO_DATE:
            out("Already up to date.\n")
        elif result.get("fast_forward"):
            out(f"Fast-forward to {(result.get('hash') or '')[:8]}\n")
        elif result.get("hash"):  # the commit's message, known without reading the log
            subject = message or merge_message(branch or "", client.connection.branch)
            out(f"Merge made: {result['hash'][:8]} {subject}\n")
        else:  # --no-commit / --squash: merged into the working set only
            out(f"{result.get('message') or 'merged'} (not committed: run arbor commit)\n")


@click.group(
    epilog=example("arbor conflicts cat labels", "arbor conflicts resolve --theirs labels")
)
def conflicts() -> None:
    """Show and resolve merge conflicts."""


@conflicts.command("cat", epilog=example("arbor conflicts cat labels"))
@click.argument("tables", nargs=-1, required=True)
@pass_invocation
def conflicts_cat(invocation: Invocation, tables: tuple[str, ...]) -> None:
    """Show conflicted rows: base, ours, theirs."""
    with invocation.client() as client:
        for name in tables:
            rows = client.query(f"SELECT * FROM {quote_identifier('dolt_conflicts_' + name)}")
            out(conflicts_text(name, rows, color=color()))


@conflicts.command(
    "resolve",
    epilog=example(
        "arbor conflicts resolve --ours labels", "arbor conflicts resolve --combine labels scores"
    ),
)
@click.option("--ours", is_flag=True, help="Keep the current branch's rows.")
@click.option("--theirs", is_flag=True, help="Keep the merged branch's rows.")
@click.option(
    "--combine",
    is_flag=True,
    help="Keep each side's changed cells, filling NULLs from the other side.",
)
@click.argument("tables", nargs=-1, required=True)
@pass_invocation
def conflicts_resolve(
    invocation: Invocation, ours: bool, theirs: bool, combine: bool, tables: tuple[str, ...]
) -> None:
    """Resolve the conflicts in tables.

    Take one side for every conflict in TABLES, or --combine both sides' changed
    cells.
    """
    chosen = (("--ours", ours), ("--theirs", theirs), ("--combine", combine))
    sides = [flag for flag, on in chosen if on]
    if len(sides) != 1:
        raise UsageError("choose exactly one way to resolve: --ours, --theirs or --combine")
    (side,) = sides
    with invocation.client() as client:
        client.call("dolt_conflicts_resolve", side, *tables)
    out(f"Resolved conflicts in {', '.join(tables)} ({side[2:]}).\n")


COMMANDS = (merge, conflicts)
