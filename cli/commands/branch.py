"""``arbor branch``, ``checkout``, ``tag``: names for commits."""

from __future__ import annotations

import click

from ..direct import Direct, direct
from ..errors import UsageError
from ..invocation import Invocation
from .common import example, out, pass_invocation


@click.command(
    epilog=example(
        "arbor branch                 # list",
        "arbor branch relabel",
        "arbor branch -d relabel",
        "arbor branch -m old new",
        "arbor branch -a              # local and remote-tracking branches",
    )
)
@click.option(
    "-d", "--delete", is_flag=True, help="Delete the branch (refused if it is not merged)."
)
@click.option(
    "-D", "force_delete", is_flag=True, help="Delete the branch even if it is not merged."
)
@click.option("-m", "--move", is_flag=True, help="Rename branch OLD to NEW.")
@click.option("-c", "--copy", is_flag=True, help="Copy branch OLD to NEW.")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing branch of the new name.")
@click.option("-v", "--verbose", is_flag=True, help="List with each branch's commit and subject.")
@click.option("--show-current", is_flag=True, help="Print the current branch's name.")
@click.option("-r", "--remotes", "remotes", is_flag=True, help="List remote-tracking branches.")
@click.option("-a", "--all", "all_", is_flag=True, help="List local and remote-tracking branches.")
@click.argument("names", nargs=-1)
@pass_invocation
def branch(
    invocation: Invocation,
    remotes: bool,
    all_: bool,
    delete: bool,
    force_delete: bool,
    move: bool,
    copy: bool,
    force: bool,
    verbose: bool,
    show_current: bool,
    names: tuple[str, ...],
) -> None:
    """List, create, rename or delete branches.

    Without NAMES, list the branches (* marks the current one). With NAME [START],
    create NAME at START (default HEAD); -d/-D delete, -m renames OLD NEW, -c copies.
    """
    flags = ["-d"] * delete + ["-D"] * force_delete + ["-m"] * move + ["-c"] * copy + ["-f"] * force
    actions = [f for f, on in (("-d/-D", delete or force_delete), ("-m", move), ("-c", copy)) if on]
    if len(actions) > 1:
        raise UsageError(f"{' and '.join(actions)} contradict each other (pass one of them)")
    if show_current and (names or flags or remotes or all_):
        raise UsageError("--show-current takes no other flags or names")
    if not move and not remotes and not all_:
        with direct(invocation) as engine:
            if engine is not None and _branch_direct(
                engine, names, delete, force_delete, copy, force, verbose, show_current
            ):
                return
    with invocation.client() as client:
        if show_current:
            out(f"{client.branch}\n")
            return
        if names:
            client.call("dolt_branch", *flags, *names)
            return
        if flags:
            raise UsageError("name the branch(es) to act on, e.g. arbor branch -d relabel")
        current = client.branch
        listed = "SELECT name, hash, latest_commit_message FROM {} ORDER BY name"
        rows = [] if remotes else client.rows(listed.format("dolt_branches"))
        if remotes or all_:
            rows += client.rows(listed.format("dolt_remote_branches"))
    for row in rows:
        mark = "*" if row["name"] == current else " "
        subject = (row["latest_commit_message"] or "").split("\n", 1)[0]
        extra = f" {row['hash'][:8]} {subject}" if verbose else ""
        out(f"{mark} {row['name']}{extra}\n")


def _branch_direct(
    engine: Direct,
    names: tuple[str, ...],
    delete: bool,
    force_delete: bool,
    copy: bool,
    force: bool,
    verbose: bool,
    show_current: bool,
) -> bool:
    """``arbor branch`` straight to the engine where ``cli/direct.py`` allows; False
    leaves the command to SQL."""
    if show_current:
        out(f"{engine.current}\n")
    elif not names:
        if delete or force_delete or copy or force:
            return False  # SQL's path names the missing argument
        for name, address, message in engine.branches():
            mark = "*" if name == engine.current else " "
            extra = f" {address[:8]} {(message or '').split(chr(10), 1)[0]}" if verbose else ""
            out(f"{mark} {name}{extra}\n")
    elif delete or force_delete:
        engine.delete_branches(names, force=force or force_delete)
    elif copy:
        if len(names) != 2:
            return False
        engine.copy_branch(*names, force=force)
    else:
        if len(names) > 2:
            return False
        engine.create_branch(names[0], names[1] if len(names) == 2 else None, force=force)
    return True


@click.command(
    epilog=example(
        "arbor checkout relabel",
        "arbor checkout -b relabel v1",
        "arbor checkout -B relabel    # create, or move an existing relabel to HEAD",
        "arbor checkout -f main       # discard uncommitted changes and switch",
        "arbor checkout labels        # discard working changes to a table",
    )
)
@click.option(
    "-b",
    "new_branch",
    metavar="NEW",
    help="Create branch NEW (at START, default HEAD) and switch to it.",
)
@click.option(
    "-B",
    "reset_branch",
    metavar="NAME",
    help="Like -b, but move branch NAME to START if it exists.",
)
@click.option(
    "-f", "--force", is_flag=True, help="Discard uncommitted changes instead of carrying them."
)
@click.argument("targets", nargs=-1)
@pass_invocation
def checkout(
    invocation: Invocation,
    new_branch: str | None,
    reset_branch: str | None,
    force: bool,
    targets: tuple[str, ...],
) -> None:
    """Switch branches or restore tables.

    With a BRANCH, switch to it: uncommitted changes go along, as in Dolt's CLI,
    unless the branch has a changed table otherwise than HEAD (then nothing
    happens and the tables are named; commit or stash the changes, or -f to discard
    them). With TABLES, discard their working changes. -b NEW [START] creates NEW
    and switches to it.
    """
    if new_branch and reset_branch:
        raise UsageError("-b and -B contradict each other (pass one of them)")
    if not new_branch and not reset_branch and not targets:
        raise UsageError("name a branch to switch to, a table to restore, or -b NEW")
    args = ["-b", new_branch] if new_branch else (["-B", reset_branch] if reset_branch else [])
    args += ["-f"] * force
    if not args and len(targets) == 1:
        with direct(invocation) as engine:
            if engine is not None and engine.is_branch(targets[0]):
                if targets[0] == engine.current or engine.clean():
                    engine.switch(targets[0])  # nothing to carry: the switch is the ref write
                    out(f"Switched to branch '{targets[0]}'\n")
                    return
    with invocation.client() as client:
        before = client.branch
        switching = args or (len(targets) == 1 and targets[0] in client.branches())
        if switching and invocation.shared is None:  # the shell's \checkout keeps SQL's way
            args.append("--move")
        result = client.call("dolt_checkout", *args, *targets).to_pylist()
        now = client.branch
        if invocation.shared is None:  # the shell's \checkout moves only its session
            client.remember_branch()
    message = result[0].get("message") if result else None
    out((message or (f"Switched to branch '{now}'" if now != before else "Restored tables")) + "\n")


@click.command(
    epilog=example(
        "arbor tag                       # list",
        'arbor tag v1 -m "training set v1"',
        "arbor tag v0 HEAD~2",
        "arbor tag -d v0",
        "arbor tag --check labels trained-v1   # only if dolt_tests group 'labels' passes",
    )
)
@click.option("-m", "--message", metavar="MSG", help="Annotate the tag with a message.")
@click.option(
    "--check", metavar="GROUP", help="Refuse the tag unless the dolt_tests of GROUP pass there."
)
@click.option("-d", "--delete", is_flag=True, help="Delete the tag.")
@click.option("-v", "--verbose", is_flag=True, help="List with each tag's commit and message.")
@click.argument("args", nargs=-1, metavar="[NAME [REVISION]]")
@pass_invocation
def tag(
    invocation: Invocation,
    message: str | None,
    check: str | None,
    delete: bool,
    verbose: bool,
    args: tuple[str, ...],
) -> None:
    """List, create or delete tags.

    Without arguments, list tags. NAME [REVISION] tags REVISION (default HEAD), e.g.
    the version a model was trained on; -d deletes.
    """
    if check is None and (delete or len(args) <= 2) and not (verbose and not args):
        with direct(invocation) as engine:
            if engine is not None and _tag_direct(engine, message, delete, args):
                return
    with invocation.client() as client:
        if args:
            flags = ["-d"] * delete + (["-m", message] if message else [])
            flags += ["--check", check] if check else []
            client.call("dolt_tag", *flags, *args)
            return
        if delete or message or check:
            raise UsageError("name the tag, e.g. arbor tag -d v1")
        tags = client.query("SELECT tag_name, tag_hash, message FROM dolt_tags ORDER BY tag_name")
    if verbose:
        from ..render import aligned  # pyarrow: only the listing that renders a table

        out(aligned(tags))
    else:
        out("".join(f"{name}\n" for name in tags.column("tag_name").to_pylist()))


def _tag_direct(engine: Direct, message: str | None, delete: bool, args: tuple[str, ...]) -> bool:
    """``arbor tag`` straight to the engine where ``cli/direct.py`` allows; False leaves
    the command to SQL."""
    if delete:
        if not args:
            return False
        engine.delete_tags(args)
    elif args:
        engine.create_tag(args[0], args[1] if len(args) == 2 else None, message)
    elif message:
        return False
    else:
        out("".join(f"{name}\n" for name in engine.tag_names()))
    return True


COMMANDS = (branch, checkout, tag)
