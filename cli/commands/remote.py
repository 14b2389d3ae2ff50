"""``arbor remote``, ``clone``, ``fetch``, ``push``, ``pull``: share a repository.

Each runs Dolt's procedure of the same verb (``sql/procedures/remotes.py``); ``clone`` runs
outside any repository, so it calls ``arbordb.clone``. Transfers draw a progress
bar (chunks, bytes) on a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

import arbordb
from arbordb.sql.procedures.remotes import gc_remote, reporting

from .. import progress
from ..client import Invocation, invocation_of
from ..errors import UsageError
from .common import example, out, pass_invocation


@contextmanager
def _transfer(description: str) -> Iterator[None]:
    with (
        progress.task(description, None, as_bytes=True) as step,
        reporting(lambda _, size: step.advance(size)),
    ):
        yield


@click.group(
    invoke_without_command=True,
    epilog=example(
        "arbor remote -v",
        "arbor remote add origin s3://team-bucket/labels",
        "arbor remote add backup file:///mnt/shared/labels",
        "arbor remote remove backup",
        "arbor remote gc origin",
    ),
)
@click.option("-v", "--verbose", is_flag=True, help="Show each remote's URL.")
@click.pass_context
def remote(ctx: click.Context, verbose: bool) -> None:
    """List, add or remove remotes (file:// folders, s3:// buckets).

    Without a subcommand, list the remotes. Credentials for s3:// never go into
    the URL: they come from the AWS chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, roles);
    AWS_ENDPOINT_URL points at any S3-compatible store.
    """
    if ctx.invoked_subcommand is not None:
        return
    with invocation_of(ctx).client() as client:
        rows = client.rows("SELECT name, url FROM dolt_remotes ORDER BY name")
    for row in rows:
        out(f"{row['name']}\t{row['url']}\n" if verbose else f"{row['name']}\n")


@remote.command("add", epilog=example("arbor remote add origin file:///mnt/shared/labels"))
@click.argument("name")
@click.argument("url")
@pass_invocation
def remote_add(invocation: Invocation, name: str, url: str) -> None:
    """Add remote NAME at URL (file:///abs/path, a path, or s3://bucket/prefix)."""
    with invocation.client() as client:
        client.call("dolt_remote", "add", name, url)


@remote.command("remove", epilog=example("arbor remote remove origin"))
@click.argument("name")
@pass_invocation
def remote_remove(invocation: Invocation, name: str) -> None:
    """Remove remote NAME and its remote-tracking branches."""
    with invocation.client() as client:
        client.call("dolt_remote", "remove", name)


@remote.command("gc", epilog=example("arbor remote gc origin"))
@click.argument("name")
@click.option(
    "--grace",
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="Keep younger leftovers (a push may be writing them).",
)
@pass_invocation
def remote_gc(invocation: Invocation, name: str, grace: float) -> None:
    """Delete the packs an interrupted push left on remote NAME."""
    with invocation.client() as client:
        url = client.scalar("SELECT url FROM dolt_remotes WHERE name = ?", [name])
        if url is None:
            client.call("dolt_fetch", name)  # raises the remote-not-found error
    out(f"deleted {gc_remote(url, grace_seconds=grace)} leftover pack(s)\n")


@click.command(
    epilog=example(
        "arbor clone file:///mnt/shared/labels",
        "arbor clone s3://team-bucket/labels labels -b relabel",
    )
)
@click.argument("url")
@click.argument("directory", required=False)
@click.option(
    "-b",
    "--branch",
    metavar="BRANCH",
    help="Check out BRANCH (default: the remote's default branch).",
)
@click.option(
    "--remote",
    "remote_name",
    default="origin",
    show_default=True,
    help="Name of the remote in the clone.",
)
def clone(url: str, directory: str | None, branch: str | None, remote_name: str) -> None:
    """Clone the repository at URL into DIRECTORY (default: the URL's last part)."""
    target = directory or url.rstrip("/").rsplit("/", 1)[-1]
    if not target:
        raise UsageError("name the directory to clone into")
    with _transfer(f"clone {url}"):
        repo = arbordb.clone(url, target, branch, remote=remote_name)
    out(f"Cloned {url} into {target!r} (branch {repo.active_branch})\n")
    repo.close()


@click.command(epilog=example("arbor fetch", "arbor fetch origin relabel", "arbor fetch --prune"))
@click.argument("remote_name", required=False, metavar="[REMOTE]")
@click.argument("refspecs", nargs=-1)
@click.option("--prune", is_flag=True, help="Delete remote-tracking branches gone from the remote.")
@pass_invocation
def fetch(
    invocation: Invocation, remote_name: str | None, refspecs: tuple[str, ...], prune: bool
) -> None:
    """Download branches (all by default) and tags from REMOTE into remotes/REMOTE/*."""
    args = ["--prune"] * prune + ([remote_name] if remote_name else []) + list(refspecs)
    with invocation.client() as client, _transfer("fetch"):
        client.call("dolt_fetch", *args)


@click.command(
    epilog=example(
        "arbor push -u origin main",
        "arbor push                      # a branch with an upstream",
        "arbor push origin v1            # a tag",
        "arbor push --force origin main",
        "arbor push origin :relabel      # delete a remote branch",
    )
)
@click.argument("remote_name", required=False, metavar="[REMOTE]")
@click.argument("name", required=False, metavar="[BRANCH|TAG]")
@click.option(
    "-u",
    "--set-upstream",
    "upstream",
    is_flag=True,
    help="Remember REMOTE/BRANCH as the branch's upstream.",
)
@click.option(
    "-f", "--force", is_flag=True, help="Move the remote branch even if that loses its commits."
)
@click.option("--all", "all_branches", is_flag=True, help="Push every branch.")
@click.option("--tags", is_flag=True, help="Push every tag.")
@pass_invocation
def push(
    invocation: Invocation,
    remote_name: str | None,
    name: str | None,
    upstream: bool,
    force: bool,
    all_branches: bool,
    tags: bool,
) -> None:
    """Upload a branch or tag (default: the current branch) to REMOTE; :BRANCH deletes it there.

    Refused when the remote branch has commits the local one lacks ("fetch first"),
    unless --force.
    """
    flags = ["-u"] * upstream + ["-f"] * force + ["--all"] * all_branches + ["--tags"] * tags
    names = [n for n in (remote_name, name) if n]
    with invocation.client() as client, _transfer("push"):
        message = client.call("dolt_push", *flags, *names).column("message")[0].as_py()
    out(message + "\n")


@click.command(epilog=example("arbor pull", "arbor pull origin main", "arbor pull --ff-only"))
@click.argument("remote_name", required=False, metavar="[REMOTE]")
@click.argument("branch", required=False)
@click.option("--ff-only", is_flag=True, help="Refuse unless the pull is a fast-forward.")
@click.pass_context
def pull(ctx: click.Context, remote_name: str | None, branch: str | None, ff_only: bool) -> None:
    """Fetch BRANCH of REMOTE (default: the upstream) and merge it into the current branch.

    Conflicts are left in the working set, as with ``arbor merge``.
    """
    args = ["--ff-only"] * ff_only + [n for n in (remote_name, branch) if n]
    with invocation_of(ctx).client() as client, _transfer("pull"):
        row = client.call("dolt_pull", *args).to_pylist()[0]
        tables = client.query('SELECT "table" FROM dolt_conflicts').column(0).to_pylist()
    if row["conflicts"]:
        for name in tables:
            out(f"CONFLICT (content): Merge conflict in {name}\n")
        out(
            f"Automatic merge failed; {row['conflicts']} conflict(s): resolve them with "
            "`arbor conflicts resolve --ours|--theirs <table>` and `arbor commit`.\n"
        )
        ctx.exit(1)
    out(("Fast-forward" if row["fast_forward"] else row["message"]) + "\n")


COMMANDS = (remote, clone, fetch, push, pull)
