"""``arbor``: the command line (click); failures become messages and exit codes here.

Every command lives in ``cli/commands/`` as a thin click function that opens the
repository through ``cli/client.py`` and runs SQL (``CALL dolt_<verb>(...)``,
``dolt_*`` system tables); ``arbor branch``, ``tag``, ``checkout`` and ``status`` call
the engine's verbs directly where they only move or list refs (``cli/direct.py``), so
that they start in a fraction of the time. This module only builds the group (``lazy_group.py``:
a command's module is imported when it runs), its global options (``-C PATH``) and
:func:`main`, which shows every failure as one line on stderr (the mapping is
``cli/explain.py``'s ``explain``):

    FAILURE                                   EXIT   SHOWN AS
    click usage error (unknown flag, ...)     2      click's message + "Try ... --help"
    UsageError (flags that do not fit)        2      error: <message>
    arbordb.Error (SQL layer: refused verb,   1      error: <message>  (it names the object
      unknown branch, bad SQL, conflicts ...)        and the fix)
    CliError (bad import file, no repo, ...)  1      error: <message>
    EngineError (should arrive translated)    1      error: <message>
    OSError (a file the user named)           1      error: <strerror>: <file>
    Ctrl-C                                    130    (nothing more)
    anything else                             -      a traceback: it is a bug
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .lazy_group import LazyGroup

EXAMPLE = """
\b
Example:
  arbor init && arbor table import --create --pk id labels labels.csv
  arbor sql -q "UPDATE labels SET label = 'cat' WHERE id = 7"
  arbor commit -Am "relabel 7" && arbor log --oneline
"""


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXAMPLE,
)
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Run as if arbor was started in PATH (its repository; relative file names).",
    metavar="PATH",
)
@click.version_option(package_name="arbordb", prog_name="arbor")
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """ArborDB: SQL tables with git-style branches, commits, diffs and merges.

    Commands act on the repository in the current directory (or the nearest parent
    holding a .arbor directory), like git and dolt.
    """
    if ctx.obj is None:  # the shell and the demo pass their own (see cli/client.py)
        from .invocation import Invocation  # light: a command loads the layer it needs

        ctx.obj = Invocation(directory)


def main(argv: list[str] | None = None) -> int:
    """Run ``arbor`` with ``argv`` (default: the process arguments); returns the exit code."""
    try:
        status = cli.main(args=argv, prog_name="arbor", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("", err=True)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `arbor log | head`): not an error
        return 0
    except Exception as exc:
        from .explain import explain  # the SQL layer's errors: loaded by the command

        explained = explain(exc)
        if explained is None:
            raise
        message, code = explained
        click.echo(f"error: {message}", err=True)
        return code
    return status if isinstance(status, int) else 0  # --help and ctx.exit(n) return n


if __name__ == "__main__":
    sys.exit(main())
