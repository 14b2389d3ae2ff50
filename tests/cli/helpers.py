"""Running ``arbor`` as a user would: in-process through ``main`` (fast) or as a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from arbordb.cli.main import main

LABELS_CSV = "id,label,score\n1,cat,0.9\n2,dog,0.8\n3,cat,0.3\n4,bird,0.7\n"


@dataclass
class Ran:
    code: int
    out: str
    err: str


def arbor(repo: Path, *args: str, input: str | None = None) -> Ran:  # noqa: A002 - click's name
    """Run ``arbor -C repo args...`` in this process through ``main`` (its real error path)."""
    with CliRunner().isolation(input=input) as (out, err, _):
        code = main(["-C", str(repo), *args])
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def arbor_process(cwd: Path, *args: str, input: str | None = None) -> Ran:
    """Run the installed ``arbor`` entry point as a new process in ``cwd``."""
    exe = Path(sys.executable).with_name("arbor")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "arbordb.cli.main"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    done = subprocess.run(
        [*command, *args], cwd=cwd, input=input, capture_output=True, text=True, env=env, timeout=60
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def ok(ran: Ran) -> str:
    assert ran.code == 0, f"exit {ran.code}\nstdout:\n{ran.out}\nstderr:\n{ran.err}"
    return ran.out


def refused(ran: Ran, *fragments: str, code: int = 1) -> str:
    """A refusal: the exit code, one line on stderr, no traceback, and the expected words."""
    assert ran.code == code, f"exit {ran.code}\nstdout:\n{ran.out}\nstderr:\n{ran.err}"
    assert "Traceback" not in ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 or code == 2, ran.err
    for fragment in fragments:
        assert fragment in ran.err, ran.err
    return ran.err


def snapshot(repo: Path) -> tuple[str, str, str, str]:
    """Everything a refusal must leave as it was: log, status, branches and table rows."""
    rows = arbor(repo, "sql", "-r", "csv", "-q", "SELECT * FROM labels ORDER BY id")
    return (
        ok(arbor(repo, "log", "--oneline")),
        ok(arbor(repo, "status")),
        ok(arbor(repo, "branch", "-v")),
        rows.out if rows.code == 0 else rows.err,
    )
