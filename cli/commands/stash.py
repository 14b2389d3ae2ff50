"""``arbor stash`` (push, list, pop, drop, clear) and ``arbor clean``: uncommitted work."""

from __future__ import annotations

import click

from ..client import Client, Invocation, invocation_of
from ..errors import UsageError
from .common import example, out, pass_invocation

CLI_STASH = "dolt-cli"  # the stash name Dolt's command line uses (dolt_stashes.name)


def _push(client: Client, include_untracked: bool, all_: bool) -> None:
    flags = ["-u"] * include_untracked + ["-a"] * all_
    (row,) = client.call("dolt_stash", "push", CLI_STASH, *flags).to_pylist()
    out(f"{row['message']}\n")


@click.group(
    invoke_without_command=True,
    epilog=example(
        "arbor stash                  # save uncommitted changes, reset to HEAD",
        "arbor stash list",
        "arbor stash pop              # put the newest back (stash@{0})",
        "arbor stash pop stash@{1}",
        "arbor stash drop 1",
        "arbor stash clear",
    ),
)
@click.option(
    "-u", "--include-untracked", is_flag=True, help="Stash untracked (new, never added) tables too."
)
@click.option("-a", "--all", "all_", is_flag=True, help="Stash every change, untracked tables too.")
@click.pass_context
def stash(ctx: click.Context, include_untracked: bool, all_: bool) -> None:
    """Set uncommitted changes aside, and put them back later.

    Without a subcommand, save the changes to tracked tables (staged and not) as
    stash@{0} and reset those tables to HEAD; untracked tables stay unless -u.
    Stashes are kept in the repository until popped, dropped or cleared.
    """
    if ctx.invoked_subcommand is None:
        with invocation_of(ctx).client() as client:
            _push(client, include_untracked, all_)
    elif include_untracked or all_:
        raise UsageError("-u / -a apply to saving a stash: arbor stash -u (or arbor stash push -u)")


@stash.command("push", epilog=example("arbor stash push", "arbor stash push -u"))
@click.option(
    "-u", "--include-untracked", is_flag=True, help="Stash untracked (new, never added) tables too."
)
@click.option("-a", "--all", "all_", is_flag=True, help="Stash every change, untracked tables too.")
@pass_invocation
def stash_push(invocation: Invocation, include_untracked: bool, all_: bool) -> None:
    """Save uncommitted changes as stash@{0} and reset them to HEAD."""
    with invocation.client() as client:
        _push(client, include_untracked, all_)


@stash.command("list", epilog=example("arbor stash list"))
@pass_invocation
def stash_list(invocation: Invocation) -> None:
    """List stashes, newest first (stash@{0})."""
    with invocation.client() as client:
        rows = client.rows(
            "SELECT stash_id, branch, hash, commit_message FROM dolt_stashes WHERE name = ?",
            [CLI_STASH],
        )
    for row in rows:
        subject = (row["commit_message"] or "").split("\n", 1)[0]
        out(f"{row['stash_id']}: WIP on refs/heads/{row['branch']}: {row['hash']} {subject}\n")


@stash.command("pop", epilog=example("arbor stash pop", "arbor stash pop stash@{1}"))
@click.argument("stash_id", required=False, metavar="[STASH]")
@pass_invocation
def stash_pop(invocation: Invocation, stash_id: str | None) -> None:
    """Apply a stash (default stash@{0}) to the working set and drop it.

    Refused, and the stash kept, when a table it changes has local changes too.
    """
    with invocation.client() as client:
        result = client.call("dolt_stash", "pop", CLI_STASH, *([stash_id] if stash_id else []))
        out(f"{result.to_pylist()[0]['message']}\n")


@stash.command("drop", epilog=example("arbor stash drop", "arbor stash drop stash@{1}"))
@click.argument("stash_id", required=False, metavar="[STASH]")
@pass_invocation
def stash_drop(invocation: Invocation, stash_id: str | None) -> None:
    """Delete a stash (default stash@{0}) without applying it."""
    with invocation.client() as client:
        result = client.call("dolt_stash", "drop", CLI_STASH, *([stash_id] if stash_id else []))
        out(f"{result.to_pylist()[0]['message']}\n")


@stash.command("clear", epilog=example("arbor stash clear"))
@pass_invocation
def stash_clear(invocation: Invocation) -> None:
    """Delete every stash."""
    with invocation.client() as client:
        client.call("dolt_stash", "clear", CLI_STASH)


@click.command(
    epilog=example(
        "arbor clean --dry-run        # list untracked tables", "arbor clean", "arbor clean scratch"
    )
)
@click.option("--dry-run", is_flag=True, help="Only list the tables that would be removed.")
@click.argument("tables", nargs=-1)
@pass_invocation
def clean(invocation: Invocation, dry_run: bool, tables: tuple[str, ...]) -> None:
    """Remove untracked tables from the working set.

    An untracked table was created but never added or committed. Without TABLES,
    every untracked table is removed; named TABLES must each be untracked.
    """
    with invocation.client() as client:
        result = client.call("dolt_clean", *(["--dry-run"] * dry_run), *tables)
    out(f"{result.to_pylist()[0]['message']}\n")


COMMANDS = (stash, clean)
