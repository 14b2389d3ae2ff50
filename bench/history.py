"""Long-history benchmark: commit time as history grows, Dolt's system-table workload,
``dolt_history_<t>`` memory, and single-row edits as the table grows, beside doltlite.

Usage::

    python -m bench.history [--commits 5000] [--systab-commits 600] [--rows 1000000]
                            [--big-rows 16000000] [--runs 5] [--parts commits,systab,edits]
                            [--results bench/RESULTS.md | --no-results] [--workdir DIR]

``--parts`` runs only some of the figures (all by default): ``commits`` (commit time
and the ``dolt_history_<t>`` memory over that history), ``systab``, ``edits``; e.g.
``--parts systab --systab-commits 100 --runs 3 --no-results`` while working on them.

Figures (ArborDB through SQL, ``arbordb.connect``; doltlite through ``sqlite3``):

    commit at the 10th / Nth commit   UPDATE one row of a 1,000-row table, then
                                      CALL dolt_commit('-am', ...); doltlite the same in one
                                      transaction. Median of the commits around the 10th
                                      and of the last ten; target: the Nth within 1.2x of
                                      the 10th (commit time flat as history grows).
    systab (dolthub/sysbench-lua-scripts ``systab``): a table ``xy (x int primary key,
                                      y varchar(20))`` gets 20 rows per commit for
                                      ``--systab-commits`` commits; each query of the
                                      workload is timed (median of ``--runs``, or of 10x
                                      ``--runs`` for a query under 100 ms, after a
                                      warm-up, alternating with doltlite's), target
                                      <= doltlite's time.
    dolt_history_<t> memory           ``SELECT count(*) FROM dolt_history_t`` (and the
                                      same with ``WHERE score >= 0``, which reads a
                                      column of every version) over the N-commit
                                      repository in a fresh process: growth of its peak
                                      RSS over the RSS before the query, beside
                                      doltlite's; target < 200 MB.
    one-row update, engine            ``Workspace.table(t).upsert`` of one row (by
                                      primary key, a label of another length) and
                                      ``put_table``, before commit, on ``--rows`` and on
                                      ``--big-rows`` rows (bench.storage's table); target:
                                      the big table within 1.2x of the small one.

Output: JSON on stdout, a text table on stderr, the ``history`` section of the results
file (``common.write_section``). Stores live in a temporary directory, removed at the end.
"""

from __future__ import annotations

from . import peers  # first: doltlite must load before anything imports sqlite3

# isort: split
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

import arbordb

from .common import (
    RESULTS_PATH,
    Metric,
    Runs,
    add_parts_option,
    check,
    emit,
    load_average,
    machine,
    machine_line,
    markdown_table,
    metric,
    results_path,
    time_pair,
    time_runs,
    workload_parser,
    write_section,
)
from .storage import Report, make_table

DOLTLITE = "doltlite"
TABLE_ROWS = 1_000  # the commit-time table
WINDOW = 10  # commits whose median is one commit-time figure
TARGET_FLAT = 1.2
TARGET_HISTORY_BYTES = 200 << 20
ROWS_PER_COMMIT = 20  # the systab workload's diffsPerCommit
SHORT_QUERY_S = 0.1  # a systab query faster than this is timed SHORT_REPEATS x --runs times
SHORT_REPEATS = 10
PARTS = ("commits", "systab", "edits")  # --parts: the figures a run can choose

SYSTAB = {  # name -> query (with {offset}: the first commit of the history, in dolt_log)
    "dolt_diff_xy, to_commit filter": (
        "select * from dolt_diff_xy where to_commit = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_diff, commit filter": (
        "select * from dolt_diff where commit_hash = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_history_xy count, commit filter": (
        "select count(*) from dolt_history_xy where commit_hash = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_log, commit filter": (
        "select * from dolt_log where commit_hash = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_commits, commit filter": (
        "select * from dolt_commits where commit_hash = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_commit_ancestors, commit filter": (
        "select * from dolt_commit_ancestors where commit_hash = "
        "(select commit_hash from dolt_log limit 1 offset {offset})"
    ),
    "dolt_diff_xy join dolt_log": (
        "select * from dolt_diff_xy join dolt_log on commit_hash = to_commit"
    ),
}


def _sql(con: arbordb.sql.Connection, statement: str, params: Any = None) -> list[tuple]:
    cur = con.cursor()
    cur.execute(statement, params)
    return cur.fetchall() if cur.description else []


# --- commit time over a long history ---------------------------------------------------


def bench_commits(root: Path, commits: int, report: Report) -> Path:
    """Commit ``commits`` one-row updates on each side; returns the ArborDB repository."""
    path = root / "commits"
    con = arbordb.connect(path)
    dl = peers.Doltlite.open(root / "doltlite-commits" / "t.db")
    rows = [(i, f"lbl_{i:06d}", 0.5) for i in range(TABLE_ROWS)]
    _sql(con, "CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    con.cursor().executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    _sql(con, "CALL dolt_commit('-Am', 'load')")
    dl.create()
    dl.insert_rows(rows, message="load")
    ours: list[float] = []
    theirs: list[float] = []
    for c in range(commits):
        if c and c % 500 == 0:
            print(f"history: {c:,} commits", file=sys.stderr, flush=True)
        key = c % TABLE_ROWS
        start = time.perf_counter()
        _sql(con, "UPDATE t SET score = ? WHERE id = ?", [float(c), key])
        _sql(con, "CALL dolt_commit('-am', ?)", [f"c{c}"])
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        dl.run_in_transaction(peers.UPDATE_ROW.format(name="t"), [("x", float(c), key)], f"c{c}")
        theirs.append(time.perf_counter() - start)
    (count,) = _sql(con, "SELECT count(*) FROM dolt_log")[0]
    check(count == commits + 2, f"dolt_log holds {count} commits, not {commits + 2}")
    con.close()
    dl.close()
    early = slice(max(0, 10 - WINDOW // 2), 10 + WINDOW // 2)
    late = slice(commits - WINDOW, commits)
    for label, window in (
        (f"commit at the {min(10, commits)}th", early),
        (f"commit at the {commits:,}th", late),
    ):
        report.metrics.append(
            metric(
                label + " (UPDATE 1 row + CALL dolt_commit)",
                Runs(ours[window]),
                DOLTLITE,
                Runs(theirs[window]),
            )
        )
    first, last = statistics.median(ours[early]), statistics.median(ours[late])
    dl_first, dl_last = statistics.median(theirs[early]), statistics.median(theirs[late])
    report.facts["commit_growth"] = {
        "commits": commits,
        "arbordb": last / first,
        "doltlite": dl_last / dl_first,
        "target": TARGET_FLAT,
        "met": last / first <= TARGET_FLAT,
    }
    return path


# --- dolt_history_<t> memory ----------------------------------------------------------

_MEMORY_PROBE = """
import resource, sys
kind, path, query = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "doltlite":
    from bench import peers
    import sqlite3
    con = sqlite3.connect(path)
    run = lambda q: con.execute(q).fetchall()
else:
    import arbordb
    cur = arbordb.connect(path).cursor()
    def run(q):
        cur.execute(q)
        return cur.fetchall()
run("SELECT count(*) FROM t")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
(rows,) = run(query)[0]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("history-rss", rows, (after - before) * 1024)
"""


HISTORY_QUERIES = {  # figure -> query; the second reads a column of every version
    "count": "SELECT count(*) FROM dolt_history_t",
    "column": "SELECT count(*) FROM dolt_history_t WHERE score >= 0",
}


def _peak_growth(kind: str, path: Path, query: str) -> tuple[int, int]:
    """(rows, peak RSS growth in bytes) of a dolt_history count in a fresh process."""
    # doltlite's "already loaded" marker must not reach a process that has not loaded it
    env = {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, kind, str(path), query],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    check(done.returncode == 0, f"the {kind} dolt_history probe failed: {done.stderr[-2000:]}")
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("history-rss ")]
    _, rows, grown = line.split()
    return int(rows), int(grown)


def bench_history_memory(root: Path, arbor_path: Path, commits: int, report: Report) -> None:
    for figure, query in HISTORY_QUERIES.items():
        rows, ours = _peak_growth("arbordb", arbor_path, query)
        dl_rows, theirs = _peak_growth("doltlite", root / "doltlite-commits" / "t.db", query)
        check(rows == dl_rows, f"{query}: {rows} rows, doltlite {dl_rows}")
        report.facts["history_memory" + ("" if figure == "count" else f"_{figure}")] = {
            "commits": commits,
            "query": query,
            "rows": rows,
            "arbordb_peak_growth_bytes": ours,
            "doltlite_peak_growth_bytes": theirs,
            "target_bytes": TARGET_HISTORY_BYTES,
            "met": ours < TARGET_HISTORY_BYTES,
        }


# --- the systab workload --------------------------------------------------------------


def bench_systab(root: Path, commits: int, runs: int, report: Report) -> None:
    con = arbordb.connect(root / "systab")
    dl = peers.Doltlite.open(root / "doltlite-systab" / "t.db")
    create = "create table xy (x int primary key, y varchar(20))"
    _sql(con, create)
    dl.con.execute(create)
    for i in range(commits):
        ids = range(i * ROWS_PER_COMMIT, (i + 1) * ROWS_PER_COMMIT)
        insert = "insert into xy values " + ", ".join(f"({x}, 'row {x}')" for x in ids)
        _sql(con, insert)
        _sql(con, "call dolt_add('.')")
        _sql(con, f"call dolt_commit('-m', 'commit {i}')")
        dl.run_in_transaction(insert, None, f"commit {i}")
    (offset,) = _sql(con, "select count(*) - 2 from dolt_log")[0]  # the first data commit
    for name, query in SYSTAB.items():
        text = query.format(offset=offset)
        ours_fn = lambda _, q=text: _sql(con, q)  # noqa: E731
        start = time.perf_counter()
        ours_fn(None)
        # a query of a few ms is timed SHORT_REPEATS times as often: a median of a few
        # runs of a few ms each reflects one busy moment of the machine, not the query
        repeats = runs * SHORT_REPEATS if time.perf_counter() - start < SHORT_QUERY_S else runs
        try:
            dl.query(text)
        except Exception:  # noqa: BLE001 - a table doltlite lacks: timed alone
            ours = time_runs(ours_fn, repeats)
            report.metrics.append(metric(f"systab: {name}", ours, note="doltlite lacks it"))
            continue
        ours, theirs = time_pair(ours_fn, lambda _, q=text: dl.query(q), repeats)
        check(
            len(ours.result) == len(theirs.result),
            f"systab {name}: {len(ours.result)} rows, doltlite {len(theirs.result)}",
        )
        report.metrics.append(
            metric(f"systab: {name}", ours, DOLTLITE, theirs, target=1.0, target_on="ratio")
        )
    con.close()
    dl.close()


# --- one-row edits as the table grows -------------------------------------------------


def _one_row_updates(root: Path, rows: int, runs: int) -> Runs:
    repo = arbordb.Repo(root / f"engine-{rows}")
    repo.write("t", make_table(rows), primary_key=["id"])
    repo.commit("load")
    ws = repo.ws
    step = max(1, rows // 97)

    def update(i: int) -> None:
        row = pa.table(
            {
                "id": pa.array([(i * step) % rows], pa.int64()),
                "label": pa.array(["x" * (8 + i % 5)]),  # lengths vary: cuts may move
                "score": pa.array([float(i)]),
            }
        )
        ws.put_table("t", ws.table("t").upsert(row))

    out = time_runs(update, runs * 4, setup=lambda i: i, warmup=3)
    check(repo.table("t").num_rows == rows, "an update changed the row count")
    repo.close()
    shutil.rmtree(root / f"engine-{rows}", ignore_errors=True)
    return out


def bench_edits(root: Path, rows: int, big_rows: int, runs: int, report: Report) -> None:
    small = _one_row_updates(root, rows, runs)
    big = _one_row_updates(root, big_rows, runs)
    report.metrics.append(metric(f"one-row update, engine, {rows:,} rows", small))
    report.metrics.append(
        metric(
            f"one-row update, engine, {big_rows:,} rows",
            big,
            f"{rows:,} rows",
            small,
            target=TARGET_FLAT,
            target_on="ratio",
        )
    )


# --- driver ---------------------------------------------------------------------------


def run(
    commits: int = 5_000,
    systab_commits: int = 600,
    rows: int = 1_000_000,
    big_rows: int = 16_000_000,
    runs: int = 5,
    results: Path | None = RESULTS_PATH,
    workdir: Path | None = None,
    parts: Sequence[str] = PARTS,
) -> tuple[dict[str, Any], list[Metric]]:
    info = machine()
    info["doltlite"] = peers.DOLTLITE_VERSION
    report = Report()
    root = Path(tempfile.mkdtemp(prefix="arbordb-history-", dir=workdir))
    try:
        if "commits" in parts:
            arbor_path = bench_commits(root, commits, report)
            bench_history_memory(root, arbor_path, commits, report)
        if "systab" in parts:
            bench_systab(root, systab_commits, runs, report)
        if "edits" in parts:
            bench_edits(root, rows, big_rows, runs, report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info["load_avg_1m_end"] = load_average()
    growth, memory = report.facts.get("commit_growth"), report.facts.get("history_memory")
    if growth and not growth["met"]:
        report.notes.append(
            f"commit time grew {growth['arbordb']:.2f}x from the 10th to the "
            f"{commits:,}th commit, against <= {TARGET_FLAT}x"
        )
    for key in ("history_memory", "history_memory_column"):
        memory = report.facts.get(key)
        if memory and not memory["met"]:
            report.notes.append(
                f"{memory['query']} over {commits:,} commits grew the peak RSS by "
                f"{memory['arbordb_peak_growth_bytes'] / 2**20:.0f} MB, against < 200 MB"
            )
    report.notes[:0] = [m.miss() for m in report.metrics if m.miss()]
    config: dict[str, Any] = {
        "commits": commits,
        "systab_commits": systab_commits,
        "rows": rows,
        "big_rows": big_rows,
        "runs": runs,
    }
    if tuple(parts) != PARTS:
        config["parts"] = ",".join(parts)
    payload = {
        "benchmark": "history",
        "machine": info,
        "config": config,
        "metrics": [m.to_json() for m in report.metrics],
        "facts": report.facts,
        "notes": report.notes,
    }
    if results is not None:
        write_section(results, "history", results_markdown(info, report, config))
    return payload, report.metrics


def results_markdown(info: dict[str, Any], report: Report, config: dict[str, Any]) -> str:
    growth = report.facts.get("commit_growth")
    memories = [
        report.facts[k] for k in ("history_memory", "history_memory_column") if k in report.facts
    ]
    notes = [f"- {n}" for n in report.notes] or ["- every target met"]
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in config.items())
    met = {True: "yes", False: "NO"}
    figures = []
    if growth:
        figures = [
            "| figure | arbordb | doltlite | target | met |",
            "|---|---|---|---|---|",
            f"| commit time, {growth['commits']:,}th / 10th | {growth['arbordb']:.2f}x | "
            f"{growth['doltlite']:.2f}x | <= {TARGET_FLAT}x | {met[growth['met']]} |",
            *[
                f"| `{m['query']}` peak RSS growth, {m['commits']:,} commits "
                f"({m['rows']:,} rows) | {m['arbordb_peak_growth_bytes'] / 2**20:.0f} MB | "
                f"{m['doltlite_peak_growth_bytes'] / 2**20:.0f} MB | < 200 MB | {met[m['met']]} |"
                for m in memories
            ],
            "",
        ]
    return "\n".join(
        [
            f"## history: `python -m bench.history {flags}`",
            "",
            f"Machine: {machine_line(info)}; doltlite {info['doltlite']}.",
            "",
            markdown_table(report.metrics),
            "",
            *figures,
            "Notes (targets missed):",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("history", __doc__, runs=5)
    parser.add_argument("--commits", type=int, default=5_000, help="commit-time history length")
    parser.add_argument("--systab-commits", type=int, default=600, help="systab history length")
    parser.add_argument("--big-rows", type=int, default=16_000_000, help="the big table's rows")
    add_parts_option(parser, "--parts", PARTS)
    args = parser.parse_args(argv)
    emit(
        *run(
            args.commits,
            args.systab_commits,
            args.rows,
            args.big_rows,
            args.runs,
            results_path(args),
            args.workdir,
            args.parts,
        )
    )


if __name__ == "__main__":
    main()
