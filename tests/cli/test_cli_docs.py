"""docs/cli.md documents every command with its current ``--help`` text.

The reference part of docs/cli.md sits between the markers below and is generated
from ``--help`` (80 columns). After changing a command's help, regenerate it with::

    python -m tests.cli.test_cli_docs --write
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arbordb.cli.main import cli
from tests.cli.helpers import arbor

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
BEGIN = "<!-- reference: generated from --help by tests/cli/test_cli_docs.py -->"
END = "<!-- end of reference -->"


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command as the words that name it (``("table", "import")``), in help order."""
    paths = []
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


def help_text(path: tuple[str, ...]) -> str:
    return arbor(Path("."), *path, "--help").out


def reference() -> str:
    parts = [BEGIN, ""]
    for path in command_paths():
        parts += [f"### arbor {' '.join(path)}", "", "```text", help_text(path).rstrip(), "```", ""]
    return "\n".join(parts + [END])


def test_every_command_has_an_example_and_is_documented():
    text = DOC.read_text()
    for path in command_paths():
        assert "Example:" in help_text(path), f"arbor {' '.join(path)} --help has no example"
        assert f"### arbor {' '.join(path)}" in text, f"docs/cli.md lacks arbor {' '.join(path)}"
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == reference(), (
        "docs/cli.md is stale: python -m tests.cli.test_cli_docs --write"
    )


if __name__ == "__main__" and "--write" in sys.argv:
    current = DOC.read_text()
    start, end = current.index(BEGIN), current.index(END) + len(END)
    DOC.write_text(current[:start] + reference() + current[end:])
