"""The ``arbor`` group, loading each command's module only when that command runs.

``arbor --help`` lists the commands from ``COMMANDS`` (name -> module, attribute
and one-line help), so it imports no command module, and with them neither the
SQL layer nor DuckDB, sqlglot or pyarrow. ``tests/cli/test_lazy_group.py`` checks
that the table matches the commands themselves (names, homes and help).
"""

from __future__ import annotations

import importlib

import click

# name -> (module in cli/commands/, attribute, one-line help as the command gives it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "add": ("status", "add", "Stage tables for the next commit."),
    "blame": ("blame", "blame", "Show the commit that last changed each row."),
    "branch": ("branch", "branch", "List, create, rename or delete branches."),
    "checkout": ("branch", "checkout", "Switch branches or restore tables."),
    "cherry-pick": ("commit", "cherry_pick", "Apply one commit's change as a new commit."),
    "clean": ("stash", "clean", "Remove untracked tables from the working set."),
    "clone": (
        "remote",
        "clone",
        "Clone the repository at URL into DIRECTORY (default: the URL's last part).",
    ),
    "commit": ("commit", "commit", "Record staged tables as a new commit."),
    "config": (
        "config",
        "config",
        "Read or write settings (user.name, user.email, init.defaultbranch).",
    ),
    "conflicts": ("merge", "conflicts", "Show and resolve merge conflicts."),
    "demo": ("demo", "demo", "Run a short end-to-end demo."),
    "diff": ("diff", "diff", "Show changed rows between two versions."),
    "fetch": (
        "remote",
        "fetch",
        "Download branches (all by default) and tags from REMOTE into remotes/REMOTE/*.",
    ),
    "fsck": ("maintenance", "fsck", "Check the repository for damage."),
    "gc": (
        "maintenance",
        "gc",
        "Delete data no branch, tag or working set can reach; print what was freed.",
    ),
    "init": ("init", "init", "Create an empty repository."),
    "log": ("log", "log", "Show commit history."),
    "ls": ("schema", "ls", "List the tables of the working set, or of REVISION."),
    "merge": ("merge", "merge", "Merge a branch into the current branch."),
    "merge-base": (
        "info",
        "merge_base",
        "Show the best common ancestor of two revisions (its commit hash).",
    ),
    "pull": (
        "remote",
        "pull",
        "Fetch BRANCH of REMOTE (default: the upstream) and merge it into the current branch.",
    ),
    "push": (
        "remote",
        "push",
        "Upload a branch or tag (default: the current branch) to REMOTE; :BRANCH deletes it there.",
    ),
    "reflog": ("reflog", "reflog", "Show every move of branches and tags, newest first."),
    "remote": (
        "remote",
        "remote",
        "List, add or remove remotes (file:// folders, s3:// buckets).",
    ),
    "reset": ("commit", "reset", "Unstage tables or move the branch."),
    "revert": ("commit", "revert", "Make commits that undo earlier commits."),
    "schema": ("schema", "schema", "Show table schemas."),
    "show": ("log", "show", "Show a commit and the rows it changed."),
    "stash": ("stash", "stash", "Set uncommitted changes aside, and put them back later."),
    "sql": ("sql", "sql", "Run SQL: a shell, one query, or a script."),
    "status": ("status", "status", "Show the branch and the changed tables."),
    "table": ("table", "table", "Import, export, remove, rename and copy tables."),
    "tag": ("branch", "tag", "List, create or delete tags."),
    "test": ("checks", "test", "Run the data tests in dolt_tests."),
    "version": ("info", "version", "Show the installed ArborDB version."),
}


def load(name: str) -> click.Command:
    """The command ``name`` of ``COMMANDS``, its module imported now."""
    module, attribute, _ = COMMANDS[name]
    return getattr(importlib.import_module(f"{__package__}.commands.{module}"), attribute)


class LazyGroup(click.Group):
    """A click group whose commands are ``COMMANDS``, each imported when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``click.Group.format_commands``, the help lines taken from ``COMMANDS``."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                line = click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)
                rows.append((name, line))
            else:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
