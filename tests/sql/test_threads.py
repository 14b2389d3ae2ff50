"""Several threads of one process hammer one repository, each through its own
connection (PEP 249 ``threadsafety = 1``: the connections share one ``Database``, its
caches and its LMDB environment): reads, writes and commits on different branches,
plus a reader of main. Every result must equal a single-threaded run's."""

from __future__ import annotations

import threading

import arbordb

WORKERS = 4
ROUNDS = 12


def _setup(path: str) -> None:
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT, label VARCHAR)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, i, f"r{i}") for i in range(200)])
    cur.execute("CALL dolt_commit('-Am', 'base')")
    for w in range(WORKERS):
        cur.execute(f"CALL dolt_branch('w{w}')")
    con.commit()
    con.close()


def _worker(path: str, w: int, out: list) -> None:
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute(f"CALL dolt_checkout('w{w}')")
    for k in range(ROUNDS):
        cur.execute("INSERT INTO t VALUES (?, ?, ?)", (1000 * (w + 1) + k, k, f"w{w}k{k}"))
        cur.execute("UPDATE t SET v = v + ? WHERE id % ? = ?", (w + 1, WORKERS, k % WORKERS))
        cur.execute("DELETE FROM t WHERE id = ?", (w * 40 + k,))
        out.append(cur.execute("SELECT count(*), sum(v) FROM t").fetchall())
        out.append(cur.execute("SELECT count(*), sum(v) FROM t AS OF 'main'").fetchall())
        cur.execute("CALL dolt_commit('-am', ?)", (f"w{w} round {k}",))
        out.append(cur.execute("SELECT count(*) FROM dolt_log").fetchall())
        out.append(
            cur.execute(
                "SELECT diff_type, count(*) FROM dolt_diff('HEAD~1', 'HEAD', 't') "
                "GROUP BY diff_type ORDER BY diff_type"
            ).fetchall()
        )
        out.append(cur.execute("SELECT v FROM t WHERE id = ?", (k * 3,)).fetchall())
    con.commit()
    con.close()


def _reader(path: str, out: list) -> None:
    con = arbordb.connect(path)
    cur = con.cursor()
    for _ in range(ROUNDS * 2):
        out.append(cur.execute("SELECT count(*), sum(v), max(label) FROM t").fetchall())
        con.rollback()  # the next statement starts a fresh transaction
    con.close()


def _final(path: str) -> dict:
    con = arbordb.connect(path)
    cur = con.cursor()
    state = {}
    for w in range(WORKERS):
        rows = cur.execute(f"SELECT * FROM t AS OF 'w{w}' ORDER BY id").fetchall()
        log = cur.execute(f"SELECT message FROM dolt_log('w{w}')").fetchall()
        state[w] = (rows, log)
    con.close()
    return state


def _run(path: str, threaded: bool) -> tuple[dict, dict]:
    _setup(path)
    outs = {w: [] for w in range(WORKERS)}
    outs["reader"] = []
    jobs = [(_worker, (path, w, outs[w])) for w in range(WORKERS)]
    jobs.append((_reader, (path, outs["reader"])))
    errors: list[BaseException] = []

    def guarded(fn, args):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    if threaded:
        threads = [threading.Thread(target=guarded, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in threads), "a thread hung"
    else:
        for job in jobs:
            guarded(*job)
    assert not errors, errors
    return outs, _final(path)


def test_threads_on_one_repository_match_a_single_threaded_run(tmp_path):
    serial_out, serial_final = _run(str(tmp_path / "serial"), threaded=False)
    threaded_out, threaded_final = _run(str(tmp_path / "threaded"), threaded=True)
    for w in range(WORKERS):
        assert threaded_out[w] == serial_out[w], f"worker {w}"
    assert threaded_final == serial_final
    assert threaded_out["reader"] == serial_out["reader"]  # main never moves
