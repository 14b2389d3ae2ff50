"""``arbordb.cli``: the ``arbor`` command and its SQL shell, a client of ``arbordb.sql`` only.

main.py        click group, ``main()``, the one place errors become messages and exit codes
client.py      the repository a command acts on, reached through SQL (``arbordb.connect``)
commands/      one module per family of verbs, each command a thin click function
repl.py        the prompt-toolkit SQL shell (``arbor sql`` on a terminal)
script.py      cutting SQL text into statements
render.py      Arrow tables as aligned text, CSV, JSON, Parquet, SQL
diffview.py    Dolt-style row diffs, --stat, --summary with label transitions, conflicts
logview.py     history: full, --oneline, --graph
importer.py    reading and validating import files; writing export files
progress.py    progress bars on a terminal, silence in pipes
errors.py      the CLI's own exceptions
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
