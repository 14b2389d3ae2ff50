"""The history, diff and query commands never load pandas: pyarrow imports it (0.3-0.4 s
of a command) whenever it is given Python values, so the system tables, the diff views
and the renderers build their arrays and scalars on buffers (``engine.arrow_arrays``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import arbor, ok

# Each command runs in the same child, in order; the child prints, per command, its exit
# code and whether pandas was loaded by then (it stays loaded once it is).
CHILD = """
import contextlib, io, sys
from arbordb.cli.main import main
for line in sys.argv[2:]:
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", sys.argv[1], *line.split("|")])
    print(code, "pandas" in sys.modules, line)
"""

COMMANDS = [
    "log|-n|5",
    "log|--oneline|--graph|--stat",
    "status",
    "diff",
    "diff|HEAD~1|HEAD",
    "diff|-r|csv|HEAD~1",
    "diff|-r|json|HEAD~1",
    "diff|-r|sql|HEAD~1",
    "diff|--summary|HEAD~1",
    "diff|--stat|HEAD~1",
    "show",
    "blame|labels",
    "sql|-q|SELECT * FROM labels ORDER BY id",
    "sql|-q|SELECT * FROM labels|-r|csv",
    "sql|-q|SELECT * FROM labels|-r|vertical",
    "sql|-q|SELECT * FROM dolt_history_labels",
]


def test_history_diff_and_query_commands_load_no_pandas(labels: Path):
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'fox' WHERE id = 2"))
    ok(arbor(labels, "commit", "-am", "fox"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET score = 0.5 WHERE id = 1"))  # uncommitted
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(labels), *COMMANDS],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == len(COMMANDS), done.stderr
    assert [line.split(" ", 2) for line in lines] == [["0", "False", c] for c in COMMANDS]
