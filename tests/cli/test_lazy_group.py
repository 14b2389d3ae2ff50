"""``arbor``'s lazy group: its static table of commands matches the commands
themselves, and ``arbor --help`` imports none of them (nor the SQL layer)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest

from arbordb.cli import commands
from arbordb.cli.lazy_group import COMMANDS
from arbordb.cli.main import cli


def _every_command() -> dict[str, tuple[str, str, click.Command]]:
    """name -> (module, attribute, command) of every command any module lists."""
    found = {}
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            attribute = next(a for a, v in vars(module).items() if v is command)
            found[command.name] = (info.name, attribute, command)
    return found


def test_the_table_names_every_command_where_it_lives():
    every = _every_command()
    assert sorted(COMMANDS) == sorted(every)
    for name, (module, attribute, _) in every.items():
        assert COMMANDS[name][:2] == (module, attribute), name


@pytest.mark.parametrize("width", [100, 80, 60])
def test_the_help_listing_is_the_one_the_commands_give(width):
    eager = click.Group("arbor")
    for _, _, command in _every_command().values():
        eager.add_command(command)

    def listing(group: click.Group) -> str:
        formatter = click.HelpFormatter(width=width)
        group.format_commands(click.Context(group), formatter)
        return formatter.getvalue()

    fresh = type(cli)("arbor")  # a lazy group with nothing loaded yet
    assert listing(fresh) == listing(eager)
    assert "Show the installed ArborDB version." in listing(fresh)


def test_help_imports_no_command_and_no_heavy_library():
    script = (
        "import sys\n"
        "from arbordb.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "heavy = ('duckdb', 'sqlglot', 'pyarrow', 'pandas', 'numpy', 'arbordb.sql',\n"
        "         'arbordb.engine', 'arbordb.cli.commands.status')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "version" in out


def test_a_command_loads_when_it_runs():
    group = type(cli)("arbor")
    command = group.get_command(click.Context(group), "merge-base")
    assert command is not None and command.name == "merge-base"
    assert group.get_command(click.Context(group), "no-such-command") is None
