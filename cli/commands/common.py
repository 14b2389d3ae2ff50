"""What the command modules share: the invocation decorator, output, and examples."""

from __future__ import annotations

import sys

import click

from ..invocation import Invocation

pass_invocation = click.make_pass_decorator(Invocation)


def example(*lines: str) -> str:
    """A help epilog showing how the command is used (click keeps ``\\b`` blocks as written)."""
    return "\b\nExample:\n" + "\n".join("  " + line for line in lines)


def out(text: str) -> None:
    """Write ``text`` to stdout as is (click strips colour codes when it is not a terminal)."""
    click.echo(text, nl=False)


def color() -> bool:
    from ..render import use_color  # pyarrow: loaded only by the commands that render tables

    return use_color(sys.stdout)
