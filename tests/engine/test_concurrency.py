"""Real processes: concurrent writers lose nothing silently; a killed writer
leaves the last committed state intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pyarrow as pa

from arbordb.engine.repo import Repo

WRITER = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa
    from arbordb.engine.repo import Repo
    from arbordb.engine.errors import CommitConflict
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    done = 0
    while done < count:
        repo = Repo(path)
        try:
            mode = "upsert" if name in repo.tables() else "replace"
            repo.write(name, pa.table({"id": [done], "v": [name]}), primary_key=["id"], mode=mode)
            # the branch's working set is shared: the other writer may already have
            # committed this row with its own commit, so allow an empty commit
            repo.commit(f"{name} {done}", allow_empty=True)
            done += 1
        except CommitConflict:
            time.sleep(0.001)  # retryable: re-read and try again
        finally:
            repo.close()
    """
)

KILLED = textwrap.dedent(
    """
    import sys
    import numpy as np, pyarrow as pa
    from arbordb.engine.repo import Repo
    repo = Repo(sys.argv[1])
    k = 0
    while True:
        k += 1
        ids = np.arange(20000)
        repo.write("t", pa.table({"id": ids, "v": ids * k}), primary_key=["id"], mode="replace")
        repo.commit(f"v{k}")
        print(k, flush=True)
    """
)


def run_writer(path, name, count):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(count)])


def test_two_processes_committing_lose_nothing(tmp_path):
    path = tmp_path / "repo"
    Repo(path).close()
    procs = [run_writer(path, name, 15) for name in ("alpha", "beta")]
    for p in procs:
        assert p.wait(timeout=120) == 0
    repo = Repo(path)
    messages = [e["message"] for e in repo.log()]
    for name in ("alpha", "beta"):
        assert sorted(m for m in messages if m.startswith(name)) == sorted(
            f"{name} {i}" for i in range(15)
        )
        assert sorted(repo.table(name, "HEAD").column("id").to_pylist()) == list(range(15))
    assert repo.db.fsck() == []


def test_writer_killed_mid_commit_leaves_a_committed_state(tmp_path):
    path = tmp_path / "repo"
    Repo(path).close()
    for delay in (0.8, 1.3, 1.9):
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        repo = Repo(path)
        head = repo.log()[0]["message"]
        if head.startswith("v"):
            k = int(head[1:])
            t = repo.table("t", "HEAD").sort_by("id")
            assert t.column("v").to_pylist() == [i * k for i in range(20000)]
        assert repo.db.fsck() == []
        repo.close()


def test_reader_sees_a_consistent_snapshot_while_a_writer_commits(tmp_path):
    path = tmp_path / "repo"
    repo = Repo(path)
    repo.write("t", pa.table({"id": [1], "v": ["a"]}), primary_key=["id"])
    repo.commit("one")
    old = repo.table("t", "HEAD")
    writer = run_writer(path, "w", 8)
    checked = 0
    while writer.poll() is None:
        head = repo.log(limit=1)[0]
        if head["message"].startswith("w "):
            k = int(head["message"].split()[1])
            ids = repo.table("w", head["commit_hash"]).column("id").to_pylist()
            assert sorted(ids) == list(range(k + 1))  # the commit's rows, never a mix
            checked += 1
    assert writer.returncode == 0
    assert repo.table("t", "HEAD").equals(old)
    repo.close()
