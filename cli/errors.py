"""The command line's own exceptions: mistakes that are caught before any SQL runs.

Everything the SQL layer refuses arrives as an ``arbordb.sql.errors.SqlError``;
these classes cover what only the CLI sees (an input file it cannot read, an
output it cannot write, a flag combination). ``cli/main.py`` turns both kinds into
one line on stderr and an exit code, in one place (STYLE G8).
"""

from __future__ import annotations


class CliError(Exception):
    """Root of the CLI's own errors; ``exit_code`` is the process status to exit with."""

    exit_code = 1


class UsageError(CliError, ValueError):
    """Flags or arguments that do not fit together (e.g. ``--create`` with ``--update``)."""

    exit_code = 2


class BadInputFile(CliError, ValueError):
    """An import file that cannot be read or has a bad row; nothing was written.

    Attributes:
        path: the file as the user named it.
        where: ``"line 7"`` (CSV, JSON lines) or ``"row 7"`` (Parquet), or None for the
            whole file.
        reason: what is wrong and, where it helps, how to fix it.
    """

    def __init__(self, path: str, where: str | None, reason: str) -> None:
        self.path, self.where, self.reason = path, where, reason
        at = f"{path}, {where}" if where else path
        super().__init__(f"{at}: {reason} (nothing was imported)")
