"""``arbor branch``, ``tag`` and ``checkout`` go straight to the engine (cli/direct.py)
where they only move or list refs: they load no SQL layer, and print and refuse exactly
what the SQL path prints and refuses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from arbordb.cli.commands import branch as branch_module
from arbordb.cli.commands import status as status_module
from tests.cli.helpers import arbor, ok

HEAVY = ("duckdb", "sqlglot", "pyarrow", "pandas", "arbordb.sql")

CHILD = f"""
import sys
from arbordb.cli.main import main
code = main(["-C", sys.argv[1], *sys.argv[2:]])
heavy = {HEAVY!r}
print(code, sorted({{m.split(".")[0] if not m.startswith("arbordb") else m for m in sys.modules
                    if m.startswith(heavy)}}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ("branch", "feature"),
        ("branch",),
        ("branch", "-v"),
        ("branch", "--show-current"),
        ("branch", "-c", "main", "copy"),
        ("branch", "-d", "topic"),
        ("tag", "v1", "-m", "first"),
        ("tag",),
        ("tag", "-d", "v0"),
        ("checkout", "topic"),
        ("status",),  # clean: the engine answers
        ("branch", "main"),  # a refusal: the engine's message, no SQL layer either
    ],
)
def test_ref_commands_load_no_sql_layer(labels: Path, args: tuple[str, ...]):
    ok(arbor(labels, "branch", "topic"))
    ok(arbor(labels, "tag", "v0"))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(labels), *args], capture_output=True, text=True
    )
    last = done.stdout.strip().splitlines()[-1]
    assert last.endswith(" []"), (last, done.stderr)
    assert last.startswith("1 " if args == ("branch", "main") else "0 "), done.stderr


@contextmanager
def _no_direct(repo):
    yield None


SCRIPT = [
    ("status",),
    ("branch", "feature"),
    ("branch", "feature"),  # already exists
    ("branch", "-f", "feature", "HEAD"),
    ("branch", "other", "nosuch"),  # unknown start
    ("branch", "a..b"),  # invalid name
    ("branch", "bad..name", "nosuch"),  # both wrong: the start is reported first
    ("branch", "-c", "feature", "copied"),
    ("branch", "-c", "feature"),  # wrong count: SQL's message
    ("branch", "-d"),  # no names: the usage error
    ("branch", "-f"),
    ("branch", "-d", "nosuch"),
    ("branch", "-d", "main"),  # checked out
    ("branch", "x", "y", "z"),
    ("branch",),
    ("branch", "-v"),
    ("branch", "--show-current"),
    ("tag", "v1", "-m", "first\nsecond line"),
    ("tag", "v1"),  # already exists
    ("tag", "v2", "feature"),
    ("tag", "v3", "WORKING"),
    ("tag", "bad tag"),
    ("tag",),
    ("tag", "-v"),
    ("tag", "-d", "v1", "nosuch"),  # refused whole
    ("tag", "-d", "v1", "v2"),
    ("tag", "-m", "orphan"),
    ("checkout", "feature"),
    ("branch", "--show-current"),
    ("checkout", "feature"),  # already there
    ("checkout", "nosuch"),
    ("checkout", "main"),
    ("branch", "-D", "feature"),
    ("branch", "-v"),
    ("status",),
]


def test_direct_and_sql_paths_print_the_same(labels: Path, monkeypatch):
    copy = labels.parent / "sql-path"
    shutil.copytree(labels, copy)
    direct_runs = [arbor(labels, *args) for args in SCRIPT]
    monkeypatch.setattr(branch_module, "direct", _no_direct)
    monkeypatch.setattr(status_module, "direct", _no_direct)
    sql_runs = [arbor(copy, *args) for args in SCRIPT]
    for args, ours, theirs in zip(SCRIPT, direct_runs, sql_runs, strict=True):
        assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err), args


def test_checkout_with_changes_to_carry_goes_through_sql(labels: Path):
    ok(arbor(labels, "branch", "feature"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'owl' WHERE id = 1"))
    assert ok(arbor(labels, "checkout", "feature")) == "Switched to branch 'feature'\n"
    rows = ok(arbor(labels, "sql", "-r", "csv", "-q", "SELECT label FROM labels WHERE id = 1"))
    assert "owl" in rows  # the change came along (dolt_checkout --move)
    assert ok(arbor(labels, "status")).count("labels") == 1  # a dirty status: through SQL


def test_status_with_changes_is_the_sql_status(labels: Path, monkeypatch):
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'owl' WHERE id = 1"))
    ok(arbor(labels, "sql", "-q", "CREATE TABLE extra (id INT PRIMARY KEY)"))
    ours = ok(arbor(labels, "status"))
    monkeypatch.setattr(status_module, "direct", _no_direct)
    assert ours == ok(arbor(labels, "status"))
    assert "modified:       labels" in ours and "new table:      extra" in ours


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("branch", "feature"), 1),
        (("tag", "v1"), 1),
        (("checkout", "topic"), 1),  # the checked-out branch is a ref (default branch)
        (("branch",), 0),
        (("branch", "main"), 0),  # refused: nothing written
    ],
)
def test_one_write_transaction_per_ref_command(labels: Path, monkeypatch, args, expected):
    from arbordb.engine.chunks.lmdb_store import LmdbChunkStore

    ok(arbor(labels, "branch", "topic"))
    begun: list[int] = []
    real = LmdbChunkStore._write

    def counting(self, fn, size=0, buffers=False):
        begun.append(1)
        return real(self, fn, size, buffers)

    monkeypatch.setattr(LmdbChunkStore, "_write", counting)
    arbor(labels, *args)
    assert len(begun) == expected
