"""``arbor commit``, ``reset``, ``revert``, ``cherry-pick``: verbs that write history."""

from __future__ import annotations

import click

from ..client import Client, Invocation, invocation_of
from ..errors import UsageError
from .common import example, out, pass_invocation


def _committed(client: Client, message: str) -> str:
    head = client.scalar("SELECT dolt_hashof('HEAD')")
    subject = (message.splitlines() or [""])[0]
    return f"[{client.branch} {head[:8]}] {subject}\n"


@click.command(
    epilog=example(
        'arbor commit -Am "import labels"',
        'arbor commit -m "fix" --author "Ann <ann@x.org>"',
        'arbor commit --amend -m "better message"',
    )
)
@click.option("-m", "--message", metavar="MSG", help="The commit message.")
@click.option(
    "-a", "stage_modified", is_flag=True, help="Stage every modified (not new) table first."
)
@click.option(
    "-A", "stage_all", is_flag=True, help="Stage every change, new tables included, first."
)
@click.option("--allow-empty", is_flag=True, help="Commit even when nothing changed.")
@click.option("--author", metavar="AUTHOR", help='Author as "Name <email>".')
@click.option("--date", metavar="DATE", help="Commit time, ISO 8601 (e.g. 2026-03-01T12:00:00).")
@click.option(
    "--amend",
    is_flag=True,
    help="Replace the last commit (its message too, unless -m is given) instead.",
)
@pass_invocation
def commit(
    invocation: Invocation,
    message: str | None,
    stage_modified: bool,
    stage_all: bool,
    allow_empty: bool,
    author: str | None,
    date: str | None,
    amend: bool,
) -> None:
    """Record staged tables as a new commit.

    -a stages modified tables first, -A every change including new tables. --amend
    replaces the last commit with one holding the staged tables (the replaced commit
    stays findable with arbor reflog).
    """
    if not message and not amend:
        raise UsageError('a commit needs a message: arbor commit -m "what changed"')
    args = ["-m", message] if message else []
    args += ["--amend"] * amend
    args += ["-a"] * stage_modified + ["-A"] * stage_all + ["--allow-empty"] * allow_empty
    args += ["--author", author] if author else []
    args += ["--date", date] if date else []
    with invocation.client() as client:
        client.call("dolt_commit", *args)
        out(_committed(client, message or client.scalar("SELECT message FROM dolt_log LIMIT 1")))


@click.command(epilog=example("arbor reset labels      # unstage", "arbor reset --hard HEAD~1"))
@click.option("--soft", is_flag=True, help="Move the branch only; keep staged and working tables.")
@click.option("--hard", is_flag=True, help="Discard every change: staged and working tables too.")
@click.argument("targets", nargs=-1)
@pass_invocation
def reset(invocation: Invocation, soft: bool, hard: bool, targets: tuple[str, ...]) -> None:
    """Unstage tables or move the branch.

    With TABLES, unstage them. With a REVISION (or none), move the branch there:
    --soft keeps staged and working changes, --hard discards them.
    """
    if soft and hard:
        raise UsageError("choose one of --soft and --hard")
    flags = ["--soft"] * soft + ["--hard"] * hard
    with invocation.client() as client:
        client.call("dolt_reset", *flags, *targets)


@click.command(
    epilog=example(
        "arbor revert HEAD", "arbor revert 8k3l1ab2", 'arbor revert --author "Ann <ann@x.org>" HEAD'
    )
)
@click.option("--author", metavar="AUTHOR", help='Author of the revert commits, "Name <email>".')
@click.argument("revisions", nargs=-1, required=True)
@click.pass_context
def revert(ctx: click.Context, author: str | None, revisions: tuple[str, ...]) -> None:
    """Make commits that undo earlier commits.

    Each of REVISIONS gets a new commit that reverses its change. Conflicts stay in
    the working set to resolve (then arbor commit); the exit status is then 1.
    """
    flags = ["--author", author] if author else []
    with invocation_of(ctx).client() as client:
        (status,) = client.call("dolt_revert", *flags, *revisions).column("status").to_pylist()
        if status:
            out(
                "Revert stopped with conflicts: resolve them with `arbor conflicts resolve` "
                "and `arbor commit`, or undo it with `arbor merge --abort`.\n"
            )
            ctx.exit(1)
        out(_committed(client, client.scalar("SELECT message FROM dolt_log LIMIT 1")))


@click.command(
    "cherry-pick",
    epilog=example(
        "arbor cherry-pick relabel", "arbor cherry-pick 8k3l1ab2", "arbor cherry-pick --abort"
    ),
)
@click.option("--abort", is_flag=True, help="Give up a cherry-pick that stopped on conflicts.")
@click.argument("revision", required=False)
@click.pass_context
def cherry_pick(ctx: click.Context, abort: bool, revision: str | None) -> None:
    """Apply one commit's change as a new commit.

    The change REVISION made against its parent is applied to the current branch.
    Conflicts stay in the working set to resolve (then arbor commit), or to undo with
    --abort; the exit status is then 1.
    """
    if abort == bool(revision):
        raise UsageError("name one commit to cherry-pick, or pass --abort (not both)")
    with invocation_of(ctx).client() as client:
        if abort or revision is None:  # exactly one of them was given (checked above)
            client.call("dolt_cherry_pick", "--abort")
            out("Cherry-pick aborted.\n")
            return
        result = client.call("dolt_cherry_pick", revision).to_pylist()
        conflicts = result[0].get("data_conflicts", 0) if result else 0
        if conflicts:
            out(
                f"Cherry-pick stopped with {conflicts} conflict(s): resolve them with "
                "`arbor conflicts resolve` and `arbor commit`, or run "
                "`arbor cherry-pick --abort`.\n"
            )
            ctx.exit(1)
        out(_committed(client, client.scalar("SELECT message FROM dolt_log LIMIT 1")))


COMMANDS = (commit, reset, revert, cherry_pick)
