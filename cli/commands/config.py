"""``arbor config``: read and write settings such as the commit author (Dolt's ``dolt config``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

import arbordb

from ..client import NotARepository, find_repository
from ..errors import UsageError
from .common import example, out, pass_invocation


@click.command(
    epilog=example(
        'arbor config --global --add user.name "Ada Lovelace"',
        "arbor config --global --add user.email ada@example.com",
        "arbor config --list",
    )
)
@click.option("--global", "scope", flag_value="global", help="The user's settings (~/.arbor).")
@click.option("--local", "scope", flag_value="local", help="This repository's settings.")
@click.option("--list", "listing", is_flag=True, help="Show every setting in effect.")
@click.option("--get", "get_name", metavar="NAME", help="Show one setting's value.")
@click.option("--add", "add", nargs=2, metavar="NAME VALUE", help="Set a setting.")
@click.option("--set", "set_", nargs=2, metavar="NAME VALUE", help="Same as --add.")
@click.option("--unset", "unset", metavar="NAME", multiple=True, help="Remove a setting.")
@pass_invocation
def config(invocation, scope, listing, get_name, add, set_, unset) -> None:
    """Read or write settings (user.name, user.email, init.defaultbranch).

    Commits are authored by user.name <user.email>. Reading, the repository's
    local settings win over the global ones; writing goes to the local settings
    inside a repository unless --global is given.
    """
    actions = [bool(listing), get_name is not None, bool(add), bool(set_), bool(unset)]
    if sum(actions) != 1:
        raise UsageError("config takes exactly one of --list, --get, --add/--set or --unset")
    with _settings(invocation, scope) as settings:
        _run(settings, scope, listing, get_name, add or set_, unset)


def _run(settings: arbordb.Config, scope, listing, get_name, add, unset) -> None:
    if listing:
        merged = settings.items(scope) if scope else _merged(settings)
        out("".join(f"{name} = {value}\n" for name, value in merged.items()))
    elif get_name is not None:
        value = settings.items(scope).get(get_name) if scope else settings.get(get_name)
        if value is None:
            raise click.exceptions.Exit(1)
        out(f"{value}\n")
    elif add:
        name, value = add
        settings.set(name, value, _write_scope(settings, scope))
        out("Config successfully updated.\n")
    else:
        settings.unset(list(unset), _write_scope(settings, scope))
        out("Config successfully updated.\n")


@contextmanager
def _settings(invocation, scope: str | None) -> Iterator[arbordb.Config]:
    """The settings of the repository here (global only outside one, or with --global)."""
    if scope == "global":
        yield arbordb.Config()
        return
    try:
        path = find_repository(invocation.directory)
    except NotARepository:
        if scope == "local":
            raise
        yield arbordb.Config()
        return
    with arbordb.Repo(path, create=False) as repo:
        yield repo.config


def _merged(settings: arbordb.Config) -> dict[str, str]:
    merged = settings.items("global")
    if settings.store is not None:
        merged.update(settings.items("local"))
    return dict(sorted(merged.items()))


def _write_scope(settings: arbordb.Config, scope: str | None) -> str:
    if scope:
        return scope
    if settings.store is None:
        raise UsageError("not inside a repository: pass --global to write the user's settings")
    return "local"


COMMANDS = (config,)
