"""``arbor reflog``: where branches and tags pointed, so that a bad reset can be undone."""

from __future__ import annotations

import click

from ..client import Invocation
from .common import example, out, pass_invocation


@click.command(
    epilog=example(
        "arbor reflog                 # every branch and tag, newest first",
        "arbor reflog main",
        "arbor reset --hard 8k3l1ab2  # back to where main was before a bad reset",
    )
)
@click.option("--all", "all_", is_flag=True, help="Include remote-tracking branches.")
@click.argument("ref", required=False)
@pass_invocation
def reflog(invocation: Invocation, all_: bool, ref: str | None) -> None:
    """Show every move of branches and tags, newest first.

    Each commit, reset, merge or branch change is recorded, so a commit a `reset
    --hard` left behind (or a deleted branch's last commit) can be found and
    restored with `arbor reset --hard HASH` or `arbor branch NAME HASH`.
    """
    args = [ref] if ref else (["--all"] if all_ else [])
    with invocation.client() as client:
        current = f"refs/heads/{client.branch}"
        marks = ", ".join("?" for _ in args)
        rows = client.rows(f"SELECT * FROM dolt_reflog({marks})", args)
    seen_current = False
    for row in rows:
        name = row["ref"]
        short = name.split("/", 2)[2] if name.count("/") >= 2 else name
        label = short
        if name == current and not seen_current:
            label, seen_current = f"HEAD -> {short}", True
        subject = (row["commit_message"] or "").split("\n", 1)[0]
        out(f"{row['commit_hash']} ({label}) {subject}\n")


COMMANDS = (reflog,)
