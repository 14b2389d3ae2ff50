"""``arbor status`` and ``arbor add``: the working set against HEAD, and staging."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..direct import direct
from ..invocation import Invocation
from .common import example, out, pass_invocation

if TYPE_CHECKING:
    from ..client import Client

_LABELS = {"new table": "new table:", "modified": "modified:", "deleted": "deleted:"}


def status_text(client: Client) -> str:
    """Dolt's status: branch, merge state, staged, unstaged, untracked and conflicted tables."""
    lines = [f"On branch {client.branch}"]
    merging = client.rows("SELECT * FROM dolt_merge_status")
    rows = client.rows("SELECT table_name, staged, status FROM dolt_status")
    staged = [r for r in rows if r["staged"]]
    unstaged = [r for r in rows if not r["staged"] and r["status"] in ("modified", "deleted")]
    untracked = [r for r in rows if not r["staged"] and r["status"] == "new table"]
    conflicted = [r for r in rows if r["status"] in ("conflict", "constraint violation")]
    if merging and merging[0].get("is_merging"):
        lines += ["", f"You are merging {merging[0].get('source')}."]
        if conflicted:
            lines += [
                "  (fix conflicts with `arbor conflicts resolve` and run `arbor commit`)",
                "  (use `arbor merge --abort` to abort the merge)",
            ]
        elif unstaged:  # resolved by hand: the results must be staged (Dolt's `dolt add`)
            names = " ".join(r["table_name"] for r in unstaged)
            lines += [
                "All conflicts and constraint violations fixed but you are still merging.",
                f"  (use `arbor add {names}` to stage the merge results,",
                "   then run `arbor commit` to conclude the merge)",
            ]
        else:
            lines += ["  (all conflicts fixed: run `arbor commit` to conclude the merge)"]
    sections = [
        ("Changes to be committed:", '  (use "arbor reset <table>..." to unstage)', staged),
        ("Changes not staged for commit:", '  (use "arbor add <table>" to stage)', unstaged),
        (
            "Untracked tables:",
            '  (use "arbor add <table>" to include in what will be committed)',
            untracked,
        ),
        ("Unmerged tables:", '  (use "arbor conflicts cat <table>" to see them)', conflicted),
    ]
    for title, hint, found in sections:
        if found:
            lines += ["", title, hint]
            lines += [
                f"\t{_LABELS.get(r['status'], r['status'] + ':'):<16}{r['table_name']}"
                for r in found
            ]
    if not rows:
        lines.append("nothing to commit, working tree clean")
    return "\n".join(lines) + "\n"


@click.command(epilog=example("arbor status"))
@pass_invocation
def status(invocation: Invocation) -> None:
    """Show the branch and the changed tables.

    Lists staged changes, unstaged changes, new tables, and the conflicts of a merge
    in progress.
    """
    with direct(invocation) as engine:
        if engine is not None and engine.clean():  # no working set changes, no merge: no rows
            out(f"On branch {engine.current}\nnothing to commit, working tree clean\n")
            return
    with invocation.client() as client:
        out(status_text(client))


@click.command(epilog=example("arbor add labels", "arbor add .    # every changed table"))
@click.argument("tables", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Stage new tables dolt_ignore ignores too.")
@pass_invocation
def add(invocation: Invocation, tables: tuple[str, ...], force: bool) -> None:
    """Stage tables for the next commit.

    Name the TABLES to stage, or '.' for every change (new and dropped tables too),
    except new tables whose names match a pattern in dolt_ignore.
    """
    with invocation.client() as client:
        client.call("dolt_add", *(("--force",) if force else ()), *tables)


COMMANDS = (status, add)
