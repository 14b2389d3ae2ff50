"""A truncated or damaged data file gives a clean error, never a crash (SIGBUS), and
never a wrong answer; what is not damage is not reported as damage (issue 10 item 18).

The damaged copies are read in a child process, where a crash shows as a signal."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest

import arbordb

READER = textwrap.dedent(
    """
    import sys, arbordb
    for path in sys.argv[1:]:
        try:
            with arbordb.connect(path, read_only=True) as con:
                found = con.cursor().execute("SELECT count(*), sum(v) FROM t").fetchall()
                print(path, "rows", found[0][0], found[0][1], flush=True)
        except arbordb.Error as exc:
            print(path, "error", type(exc).__name__, str(exc).replace("\\n", " "), flush=True)
    """
)
ROWS = 20_000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    path = tmp_path_factory.mktemp("pristine")
    repo = arbordb.Repo(path)
    ids = np.arange(ROWS)
    repo.write("t", pa.table({"id": ids, "v": ids * 2}), primary_key=["id"])
    repo.commit("rows")
    repo.close()
    return path


def _read(paths):
    proc = subprocess.run(
        [sys.executable, "-c", READER, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"the reader crashed (status {proc.returncode}): {proc.stderr[-500:]}"
    )
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in proc.stdout.splitlines()}


def _copies(pristine, tmp_path, count):
    out = []
    for i in range(count):
        copy = tmp_path / f"copy{i}"
        shutil.copytree(pristine, copy)
        out.append(copy)
    return out


def test_truncated_data_file_is_reported_as_damage(pristine, tmp_path):
    rng = random.Random()
    copies = _copies(pristine, tmp_path, 4)
    size = os.path.getsize(pristine / ".arbor" / "data.mdb")
    for copy, cut in zip(
        copies, [100, *(rng.randrange(8192, size) for _ in range(3))], strict=True
    ):
        os.truncate(copy / ".arbor" / "data.mdb", cut)
    for copy, outcome in _read(copies).items():
        assert outcome.startswith("error OperationalError"), (copy, outcome)
        assert "damaged" in outcome and "truncated" in outcome, outcome


def test_flipped_bytes_give_the_right_answer_or_a_damage_error(pristine, tmp_path):
    rng = random.Random()
    copies = _copies(pristine, tmp_path, 12)
    size = os.path.getsize(pristine / ".arbor" / "data.mdb")
    for copy in copies:
        with open(copy / ".arbor" / "data.mdb", "r+b") as file:
            # page headers and starts (LMDB's structure), or anywhere
            at = rng.randrange(2, size // 4096) * 4096 + rng.randrange(64)
            at = at if rng.random() < 0.5 else rng.randrange(8192, size)
            file.seek(at)
            byte = file.read(1)[0]
            file.seek(at)
            file.write(bytes([byte ^ (1 << rng.randrange(8))]))
    expected = f"rows {ROWS} {ROWS * (ROWS - 1)}"
    for copy, outcome in _read(copies).items():
        if outcome != expected:  # never a wrong answer: damage is named as damage
            assert outcome.startswith("error OperationalError"), (copy, outcome)
            assert any(w in outcome for w in ("corrupt", "damaged", "missing", "MDB_")), outcome


def test_what_is_not_damage_is_not_reported_as_damage(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(arbordb.Error) as missing:
        arbordb.connect(empty, read_only=True)
    assert "no ArborDB repository" in str(missing.value)
    fresh = tmp_path / "fresh"
    (fresh / ".arbor").mkdir(parents=True)
    (fresh / ".arbor" / "data.mdb").touch()  # an environment LMDB has not written yet
    with arbordb.connect(fresh) as con:
        assert con.cursor().execute("SELECT active_branch()").fetchall() == [("main",)]
    for outcome in (str(missing.value),):
        assert "damaged" not in outcome and "corrupt" not in outcome
