"""A first CALL dolt_merge in a new process does not import pandas (pyarrow imports it
for ``pa.array`` and for ``to_numpy`` copies: 0.3-1 s of a cold merge; issue 14)."""

from __future__ import annotations

import subprocess
import sys

import arbordb

CHILD = """
import sys, arbordb
con = arbordb.connect(sys.argv[1])
cur = con.cursor()
before = set(sys.modules)
cur.execute("CALL dolt_merge('feature')")
(address, fast_forward, conflicts, message) = cur.fetchone()
print(len(address), fast_forward, conflicts, message)
print(sorted({m.split(".")[0] for m in set(sys.modules) - before} & {"pandas"}))
"""


def test_first_merge_in_a_process_loads_no_pandas(tmp_path):
    con = arbordb.connect(tmp_path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    cur.execute("INSERT INTO t SELECT i, 'x' || (i % 10), i FROM range(20000) AS r(i)")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    cur.execute("CALL dolt_checkout('-b', 'feature')")
    cur.execute("UPDATE t SET label = 'y' || (id % 10), score = -1 WHERE id % 97 = 0")
    cur.execute("CALL dolt_commit('-am', 'theirs')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE t SET score = -2 WHERE id % 89 = 1 AND id % 97 <> 0")
    cur.execute("CALL dolt_commit('-am', 'ours')")
    con.close()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["32 0 0 merge successful", "[]"]
    con = arbordb.connect(tmp_path)
    cur = con.cursor()
    cur.execute("SELECT count(*) FROM t WHERE label LIKE 'y%' OR score = -2")
    ours = {i for i in range(1, 20000, 89) if i % 97}
    assert cur.fetchone() == (len(range(0, 20000, 97)) + len(ours),)
    con.close()
