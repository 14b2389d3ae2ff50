"""Garbage collection beside writers in other processes loses no acknowledged commit.

Writers (``Repo`` and SQL connections, each on its own branch) commit in a loop and
print each commit's hash once ``commit`` returned; another process runs ``gc``
again and again at random moments. Afterwards every acknowledged commit must be
on its branch with the rows it was made with, and ``fsck`` must find nothing.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time

import pytest

from arbordb.engine.db import Database
from arbordb.engine.errors import CommitConflict
from arbordb.engine.hash import format_address
from arbordb.engine.repo import Repo

REPO_WRITER = textwrap.dedent(
    """
    import os, sys, time
    import pyarrow as pa
    from arbordb.engine.repo import Repo
    from arbordb.engine.errors import CommitConflict
    path, branch, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    repo = Repo(path, branch=branch)
    open(stop + "." + branch, "w").close()  # ready
    k = 0
    while not os.path.exists(stop):
        try:
            repo.write("t", pa.table({"id": [k], "v": [f"{branch}-{k}"]}), primary_key=["id"],
                       mode="upsert" if "t" in repo.tables() else "replace")
            address = repo.commit(f"{branch} {k}")
        except CommitConflict:
            repo.close()
            repo = Repo(path, branch=branch)  # retryable: read afresh, write again
            continue
        print(address, k, flush=True)
        k += 1
    repo.close()
    """
)

SQL_WRITER = textwrap.dedent(
    """
    import os, sys
    import arbordb
    path, branch, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    con = arbordb.connect(path, branch=branch)
    cur = con.cursor()
    open(stop + "." + branch, "w").close()  # ready
    k = 0
    while not os.path.exists(stop):
        try:
            cur.execute("INSERT INTO t VALUES (?, ?)", (k, f"{branch}-{k}"))
            cur.execute("CALL dolt_commit('-Am', ?)", (f"{branch} {k}",))
            address = cur.fetchone()[0]
        except arbordb.Error as exc:
            if "another writer" not in str(exc) and "garbage" not in str(exc):
                raise
            con.rollback()
            continue
        print(address, k, flush=True)
        k += 1
    con.close()
    """
)

COLLECTOR = textwrap.dedent(
    """
    import os, random, sys, time
    from arbordb.engine.db import Database
    path, stop, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    open(stop + ".gc", "w").close()  # ready
    runs = 0
    while not os.path.exists(stop):
        db = Database.open(path, create=False)
        db.gc()
        db.close()
        runs += 1
        time.sleep(rng.uniform(0, 0.05))
    print(runs, flush=True)
    """
)


def test_gc_beside_committing_processes_loses_no_acknowledged_commit(tmp_path):
    path, stop = tmp_path / "repo", tmp_path / "stop"
    seed = random.randrange(1 << 30)
    repo = Repo(path)
    repo.write("t", _rows([]), primary_key=["id"])
    repo.commit("table t")
    branches = {"r0": REPO_WRITER, "r1": REPO_WRITER, "s0": SQL_WRITER}
    for name in branches:
        repo.branch(name)
    repo.close()

    def spawn(script, *args):
        return subprocess.Popen(
            [sys.executable, "-c", script, str(path), *map(str, args)],
            stdout=subprocess.PIPE,
            text=True,
        )

    writers = {name: spawn(script, name, stop) for name, script in branches.items()}
    collector = spawn(COLLECTOR, stop, seed)
    deadline = time.monotonic() + 60
    for name in [*branches, "gc"]:  # start the clock once every process runs
        while not (tmp_path / f"stop.{name}").exists():
            assert time.monotonic() < deadline, f"process {name} did not start"
            time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(6, 9))
    stop.touch()
    acknowledged = {}
    for name, proc in writers.items():
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"writer {name} failed (seed {seed})"
        acknowledged[name] = [line.split() for line in out.splitlines()]
    out, _ = collector.communicate(timeout=60)
    assert collector.returncode == 0, f"gc failed (seed {seed})"
    assert int(out) >= 3, "gc should have run several times while the writers committed"

    db = Database.open(path, create=False)
    assert db.fsck() == [], f"seed {seed}"
    for name, acks in acknowledged.items():
        assert len(acks) >= 3, f"writer {name} made too few commits to test anything"
        ws = db.workspace(name)
        on_branch = {format_address(e.address) for e in db.log(branch=name)}
        for address, k in acks:
            assert address in on_branch, f"commit {address} of {name} lost (seed {seed})"
            rows = ws.table("t", ws.commit_root(ws.resolve_commit(address))).to_arrow()
            assert sorted(rows.column("id").to_pylist()) == list(range(int(k) + 1))
    db.close()


def _rows(ids):
    import pyarrow as pa

    return pa.table(
        {"id": pa.array(ids, pa.int64()), "v": pa.array([str(i) for i in ids], pa.string())}
    )


def test_a_write_planned_before_gc_never_names_a_collected_chunk(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("t", _rows([1, 2]), primary_key=["id"])
    repo.commit("t")
    repo.checkout("x", create=True)
    repo.write("only_x", _rows(list(range(1000, 3000))), primary_key=["id"])
    repo.commit("x data")
    repo.checkout("main")
    ws = repo.db.workspace("main")  # plans on x's table, read before the gc
    ws.put_table("copied", ws.table("only_x", ws.root_at("x")))
    repo.db.delete_branch("x", force=True)
    assert repo.db.gc()["deleted"] > 0
    with pytest.raises(CommitConflict, match="garbage collection removed"):
        ws.persist()
    assert repo.db.fsck() == []
    ws.reload()
    assert ws.table_names() == ["t"]


def test_a_write_planned_before_gc_commits_when_what_it_names_survived(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("t", _rows([1, 2]), primary_key=["id"])
    repo.commit("t")
    repo.branch("x")
    repo.checkout("x")
    repo.write("t", _rows([3]), mode="upsert")
    repo.commit("x data")
    repo.checkout("main")
    ws = repo.db.workspace("main")
    ws.put_table("u", ws.table("t"))
    repo.db.delete_branch("x", force=True)
    epoch = repo.db.store.gc_epoch()
    assert repo.db.gc()["deleted"] > 0 and repo.db.store.gc_epoch() == epoch + 1
    ws.persist()  # checked again after the gc, and still whole: written
    assert repo.db.fsck() == []
    assert sorted(repo.db.workspace("main").table_names()) == ["t", "u"]


HOLDER = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from arbordb.engine.repo import Repo
    repo = Repo(sys.argv[1])
    print(repo.table("t").num_rows, flush=True)  # the repository is open here
    sys.stdin.readline()  # ... while the other process collects garbage
    print(repo.table("t").num_rows, flush=True)
    repo.write("t", pa.table({"id": [10**6], "v": ["after"]}), mode="upsert")
    repo.commit("after gc")
    repo.close()
    """
)


def _with_garbage(path):
    import numpy as np

    repo = Repo(path)
    repo.write("t", _rows([1, 2, 3]), primary_key=["id"])
    repo.commit("t")
    repo.checkout("scratch", create=True)
    ids = np.arange(200_000)
    repo.write("big", pa_table(ids), primary_key=["id"])
    repo.commit("big")
    repo.checkout("main")
    repo.delete_branch("scratch", force=True)
    return repo


def pa_table(ids):
    import pyarrow as pa

    return pa.table({"id": ids, "v": pa.array(ids.astype(str))})


def test_gc_shrinks_the_data_file_when_no_one_else_has_it_open(tmp_path):
    repo = _with_garbage(tmp_path / "repo")
    before = repo.db.store.stats()["file_bytes"]
    result = repo.db.gc()
    assert result["shrunk"] == 1 and result["file_bytes"] < before / 2, (result, before)
    assert repo.db.fsck() == [] and repo.table("t").num_rows == 3
    repo.write("t", _rows([4]), mode="upsert")  # the handle works on the new file
    repo.commit("after")
    repo.close()
    assert Repo(tmp_path / "repo").table("t", "HEAD").num_rows == 4


def test_gc_leaves_the_file_to_other_processes_that_have_it_open(tmp_path):
    path = tmp_path / "repo"
    _with_garbage(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "3"
    db = Database.open(path, create=False)
    result = db.gc()
    assert result["deleted"] > 0 and result["shrunk"] == 0  # another process has it mapped
    out, _ = holder.communicate("go\n", timeout=120)
    assert holder.returncode == 0 and out.strip() == "3"
    assert db.fsck() == []
    assert [e.commit.message for e in db.log(limit=1)] == ["after gc"]
    second = Database.open(path, create=False)  # a second handle in this process: no shrink
    ws = second.workspace()
    ws.put_table("copy", ws.table("t"))
    ws.persist()
    ws.drop_table("copy")
    ws.persist()  # the working set that named the copy is garbage now
    result = db.gc()
    assert result["deleted"] > 0 and result["shrunk"] == 0
    assert second.fsck() == []
    second.close()
    db.close()
