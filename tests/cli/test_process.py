"""A representative set of commands run as new processes, exactly as a user types them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.cli.helpers import LABELS_CSV, arbor_process, ok, refused, snapshot


def test_first_steps_as_a_new_user(tmp_path):
    (tmp_path / "labels.csv").write_text(LABELS_CSV)
    assert ok(arbor_process(tmp_path, "init")).startswith("Initialized empty ArborDB repository")
    ran = arbor_process(
        tmp_path, "table", "import", "--create", "--pk", "id", "labels", "labels.csv"
    )
    assert ok(ran) == "Imported 4 rows into labels (create).\n"
    assert ran.err == ""  # no progress bar in a pipe
    assert "] import\n" in ok(arbor_process(tmp_path, "commit", "-Am", "import"))
    log = ok(arbor_process(tmp_path, "log", "--oneline")).splitlines()
    assert log[0].endswith("(HEAD -> main) import") and len(log) == 2


def test_refusals_are_one_line_and_change_nothing(labels):
    (labels / "bad.csv").write_text("id,label,score\n7,cat,0.5\n8,dog\n")
    before = snapshot(labels)
    refused(
        arbor_process(labels, "table", "import", "--update", "labels", "bad.csv"), "bad.csv, line 3"
    )
    refused(arbor_process(labels, "checkout", "nope"), "'nope'")
    assert snapshot(labels) == before


def test_script_on_stdin_and_parquet_on_stdout(labels):
    done = arbor_process(labels, "sql", "-r", "csv", input="SELECT count(*) AS n FROM labels;\n")
    assert ok(done) == "n\n4\n"
    exe = Path(sys.executable).with_name("arbor")
    raw = subprocess.run(
        [str(exe), "sql", "-r", "parquet", "-q", "SELECT * FROM labels ORDER BY id"],
        cwd=labels,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    assert pq.read_table(io.BytesIO(raw)).column("label").to_pylist() == [
        "cat",
        "dog",
        "cat",
        "bird",
    ]


def test_module_entry_point_and_closed_pipe(labels):
    version = subprocess.run(
        [sys.executable, "-m", "arbordb.cli.main", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.returncode == 0 and version.stdout.startswith("arbor, version ")
    piped = subprocess.run(
        f"'{sys.executable}' -m arbordb.cli.main log | head -c 10",
        shell=True,
        cwd=labels,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout.startswith("commit ") and "Traceback" not in piped.stderr
