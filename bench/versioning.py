"""Version-graph benchmark: branch, commit, diff and merge on a 1M-row table, beside doltlite.

Usage::

    python -m bench.versioning [--rows 1000000] [--runs 5]
                               [--results bench/RESULTS.md | --no-results] [--workdir DIR]

The table is ``bench.storage``'s (``id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE``;
10-character labels). Three stores get the same rows and a first commit: an ArborDB
repository driven by the engine API (``arbordb.Repo``), one driven by SQL
(``arbordb.connect``), and a doltlite database (``bench.peers``). Every figure is the
median of ``--runs`` runs after one untimed warm-up, ArborDB and doltlite timed
alternately (``common.time_pair``); change sets are the same on both sides:

    METRIC                        ARBORDB (the timed part)            DOLTLITE (the timed part)
    branch create                 Repo.branch(name)                   SELECT dolt_branch(name)
    branch create, SQL            CALL dolt_branch(name)              the same
    1,000 updates + commit:
      engine, Workspace           ws.table(t).upsert(rows);           BEGIN; executemany UPDATE
                                  ws.put_table; ws.commit (1 persist)   ... WHERE id = ?;
      engine, Repo                Repo.write(mode="upsert");            dolt_commit
                                  Repo.commit (2 persists)
      SQL UPDATE ... IN           UPDATE t SET score = score + 1      the same statement in a
                                  WHERE id IN (<1,000 ids>);          transaction; dolt_commit
                                  CALL dolt_commit('-am', ...)
      SQL executemany upsert      executemany INSERT ... ON CONFLICT  the same
                                  (id) DO UPDATE; CALL dolt_commit
      SQL executemany UPDATE      executemany UPDATE ... WHERE id=?;  the same (at most 3 runs,
                                  CALL dolt_commit                    no warm-up: it is slow)
    diff, commits 1,000 rows      Repo.diff(a, b, "t") as Arrow       SELECT * FROM dolt_diff_t
      apart                                                           (a, b), fetchall
    merge, 1,000 + 1,000          Repo.merge(branch): three-way,      SELECT dolt_merge(branch)
      disjoint rows               no conflicts, merge commit
    1% updates + commit           as "engine, Workspace"              as above

Each run of a diff uses another pair of consecutive update commits and must return
exactly 1,000 rows; each merge merges a new branch (setup, untimed: branch from main,
commit 1,000 changes there and 1,000 other ones on main) and must be a clean three-way
merge whose result differs from the merge base in exactly 2,000 rows. Setups (the loads,
the commits a merge needs) end with ``os.sync()``: both systems share one file system,
and a timed fsync would otherwise also wait for the setup's write-back.

Disk growth per commit of 1% scattered updates (bytes, median of ``--runs`` commits):
ArborDB's ``data.mdb`` growth, LMDB pages used by chunks, and the bytes of the chunks the
commit added (logical, before any compression the store applies); doltlite's file growth.
ArborDB's figures are taken after moving the commit's journal batch into the chunks
B-tree (``LmdbChunkStore.compact``, untimed), where every record ends up.

Targets (issue 3), stated for 1,000,000 rows: branch <= 1 ms; 1,000 updates + commit
<= 30 ms; diff <= 20 ms; merge <= 30 ms; growth per 1% commit <= 3 MB.

Output: JSON on stdout, a text table on stderr, and the ``versioning`` section of the
results file rewritten (``common.write_section``). Stores live in a temporary directory
on disk (``--workdir``), removed at the end.
"""

from __future__ import annotations

from . import peers  # first: doltlite must load before bench.storage imports sqlite3

# isort: split
import os
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import arbordb
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore

from .common import (
    RESULTS_PATH,
    Metric,
    Runs,
    check,
    emit,
    fmt_bytes,
    load_average,
    machine,
    machine_line,
    markdown_table,
    metric,
    results_path,
    time_call,
    time_pair,
    workload_parser,
    write_section,
)
from .storage import Report, make_changes, make_table

EDIT = 1_000
SLOW_RUNS = 3  # runs of the per-row executemany UPDATE (seconds per run at 1M rows)

TARGET_BRANCH = 0.001
TARGET_UPDATES = 0.030
TARGET_DIFF = 0.020
TARGET_MERGE = 0.030
TARGET_GROWTH = 3_000_000

UPSERT_SQL = (
    "INSERT INTO t VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET label = excluded.label, score = excluded.score"
)
DOLTLITE = "doltlite"


# --- the three stores ---------------------------------------------------------------


@dataclass
class Stores:
    """The stores of one run, all holding the same table ``t`` after a first commit."""

    root: Path
    repo: arbordb.Repo  # engine API
    con: arbordb.sql.Connection  # SQL API, its own repository
    dl: peers.Doltlite

    @property
    def lmdb(self) -> LmdbChunkStore:
        store = self.repo.db.store
        assert isinstance(store, LmdbChunkStore)
        return store

    def sql(self, statement: str, params: Any = None) -> Any:
        cur = self.con.cursor()
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else cur.rowcount

    def close(self) -> None:
        self.repo.close()
        self.con.close()
        self.dl.close()
        shutil.rmtree(self.root, ignore_errors=True)


def open_stores(table: pa.Table, workdir: Path | None) -> Stores:
    root = Path(tempfile.mkdtemp(prefix="arbordb-versioning-", dir=workdir))
    repo = arbordb.Repo(root / "engine")
    repo.write("t", table, primary_key=["id"])
    repo.commit("load")

    parquet = root / "t.parquet"
    pq.write_table(table, parquet)
    con = arbordb.connect(root / "sql")
    stores = Stores(root, repo, con, peers.Doltlite.open(root / "doltlite" / "t.db"))
    stores.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    stores.sql(f"INSERT INTO t SELECT * FROM read_parquet('{parquet}')")
    stores.sql("CALL dolt_commit('-Am', 'load')")
    parquet.unlink()

    stores.dl.create()
    stores.dl.insert_rows(peers.rows_of(table), message="load")
    os.sync()  # a timed fsync must not pay for the loads' write-back
    return stores


# --- figures ------------------------------------------------------------------------


def bench_branch(s: Stores, runs: int, report: Report) -> None:
    """Create a branch at HEAD: engine API, then SQL, each beside doltlite."""
    ours, theirs = time_pair(
        s.repo.branch, s.dl.branch, runs, lambda i: f"b{i + 1}", lambda i: f"b{i + 1}"
    )
    check(f"b{runs}" in s.repo.branches, "Repo.branch did not create its branch")
    report.metrics.append(metric("branch create", ours, DOLTLITE, theirs, target=TARGET_BRANCH))
    ours, theirs = time_pair(
        lambda name: s.sql("CALL dolt_branch(?)", [name]),
        s.dl.branch,
        runs,
        lambda i: f"s{i + 1}",
        lambda i: f"s{i + 1}",
    )
    report.metrics.append(
        metric("branch create, SQL CALL dolt_branch", ours, DOLTLITE, theirs, target=TARGET_BRANCH)
    )


def bench_updates(s: Stores, rows: int, edit: int, runs: int, report: Report) -> None:
    """``edit`` scattered updates + commit, by each ArborDB path, beside doltlite."""

    def changes(seed: int):
        return lambda i: make_changes(rows, edit, seed=seed + i)

    def dl_updates(seed: int):
        return lambda i: peers.update_params(make_changes(rows, edit, seed=seed + i))

    def workspace(c: pa.Table) -> bytes:
        ws = s.repo.ws
        ws.put_table("t", ws.table("t").upsert(c))
        return ws.commit("update", stage_all=True)

    def repo_write(c: pa.Table) -> str:
        s.repo.write("t", c, mode="upsert")
        return s.repo.commit("update")

    def dl_update(params: list[tuple]) -> None:
        s.dl.update_rows(params, message="update")

    for name, fn, seed in (
        ("engine, Workspace upsert + commit", workspace, 10_000),
        ("engine, Repo.write upsert + Repo.commit", repo_write, 20_000),
    ):
        ours, theirs = time_pair(fn, dl_update, runs, changes(seed), dl_updates(seed))
        report.metrics.append(
            metric(
                f"{edit:,} updates + commit, {name}",
                ours,
                f"{DOLTLITE} executemany UPDATE + dolt_commit",
                theirs,
                target=TARGET_UPDATES,
            )
        )

    def in_list(seed: int):
        def statement(i: int) -> str:
            ids = make_changes(rows, edit, seed=seed + i)["id"].to_pylist()
            return f"UPDATE t SET score = score + 1 WHERE id IN ({', '.join(map(str, ids))})"

        return statement

    def sql_in(statement: str) -> int:
        count = s.sql(statement)
        s.sql("CALL dolt_commit('-am', 'update')")
        return count

    ours, theirs = time_pair(
        sql_in,
        lambda statement: s.dl.run_in_transaction(statement, message="update"),
        runs,
        in_list(30_000),
        in_list(30_000),
        summary_a=lambda count: count,
    )
    check(ours.summaries == [edit] * runs, f"UPDATE ... IN changed {ours.summaries} rows")
    report.metrics.append(
        metric(
            f"{edit:,} updates + commit, SQL UPDATE ... WHERE id IN (...)",
            ours,
            f"{DOLTLITE}, same SQL + dolt_commit",
            theirs,
            target=TARGET_UPDATES,
        )
    )

    def sql_many(statement: str):
        def run(params: list[tuple]) -> None:
            s.con.cursor().executemany(statement, params)
            s.sql("CALL dolt_commit('-am', 'update')")

        return run

    def upsert_params(i: int) -> list[tuple]:
        return peers.rows_of(make_changes(rows, edit, seed=40_000 + i))

    ours, theirs = time_pair(
        sql_many(UPSERT_SQL),
        lambda params: s.dl.run_in_transaction(UPSERT_SQL, params, message="update"),
        runs,
        upsert_params,
        upsert_params,
    )
    report.metrics.append(
        metric(
            f"{edit:,} updates + commit, SQL executemany INSERT ... ON CONFLICT DO UPDATE",
            ours,
            f"{DOLTLITE}, same SQL + dolt_commit",
            theirs,
            target=TARGET_UPDATES,
        )
    )

    slow = min(runs, SLOW_RUNS)
    ours, theirs = time_pair(
        sql_many(peers.UPDATE_ROW.format(name="t")),
        dl_update,
        slow,
        dl_updates(50_000),
        dl_updates(50_000),
        warmup=0,
    )
    report.metrics.append(
        metric(
            f"{edit:,} updates + commit, SQL executemany UPDATE ... WHERE id = ?",
            ours,
            f"{DOLTLITE}, same SQL + dolt_commit",
            theirs,
            target=TARGET_UPDATES,
            note=f"{slow} runs, no warm-up",
        )
    )


def bench_diff(s: Stores, edit: int, runs: int, report: Report) -> None:
    """Diff consecutive update commits (each ``edit`` rows apart); another pair per run."""

    def pair(i: int) -> tuple[str, str]:  # (older, newer); the warm-up gets i = -1
        return f"HEAD~{i + 2}", f"HEAD~{i + 1}"

    def ours(p: tuple[str, str]) -> pa.Table:
        return s.repo.diff(p[0], p[1], "t")

    def theirs(p: tuple[str, str]) -> list[tuple]:
        return s.dl.query("SELECT * FROM dolt_diff_t(?, ?)", p)

    a, b = time_pair(ours, theirs, runs, pair, pair, summary_a=lambda t: t.num_rows)
    check(a.summaries == [edit] * runs, f"Repo.diff returned {a.summaries} rows, not {edit}")
    check(len(b.result) == edit, f"dolt_diff_t returned {len(b.result)} rows, not {edit}")
    kinds = set(a.result.column("diff_type").to_pylist())
    check(kinds == {"modified"}, f"Repo.diff of updates has diff types {kinds}")
    report.metrics.append(
        metric(
            f"diff, commits {edit:,} rows apart (Arrow rows)",
            a,
            f"{DOLTLITE} dolt_diff_t(a, b), fetchall",
            b,
            target=TARGET_DIFF,
        )
    )


def bench_merge(s: Stores, rows: int, edit: int, runs: int, report: Report) -> None:
    """Three-way merge of a branch and main, each with ``edit`` changed rows, disjoint."""

    def halves(i: int) -> tuple[pa.Table, pa.Table]:
        both = make_changes(rows, 2 * edit, seed=60_000 + i)
        return both.take(list(range(0, 2 * edit, 2))), both.take(list(range(1, 2 * edit, 2)))

    def setup_ours(i: int) -> str:
        name, (mine, other) = f"m{i + 1}", halves(i)
        s.repo.branch(name)
        s.repo.checkout(name)
        s.repo.write("t", other, mode="upsert")
        s.repo.commit(f"theirs {name}")
        s.repo.checkout("main")
        s.repo.write("t", mine, mode="upsert")
        s.repo.commit(f"ours {name}")
        os.sync()
        return name

    def setup_theirs(i: int) -> str:
        name, (mine, other) = f"m{i + 1}", halves(i)
        s.dl.branch(name)
        s.dl.checkout(name)
        s.dl.update_rows(peers.update_params(other), message=f"theirs {name}")
        s.dl.checkout("main")
        s.dl.update_rows(peers.update_params(mine), message=f"ours {name}")
        os.sync()
        return name

    def summary(outcome) -> tuple[bool, int, bool]:
        return outcome.fast_forward, outcome.conflicts, outcome.hash is not None

    ours, theirs = time_pair(
        s.repo.merge, s.dl.merge, runs, setup_ours, setup_theirs, summary_a=summary
    )
    check(ours.summaries == [(False, 0, True)] * runs, f"merges were {ours.summaries}")
    merged = s.repo.diff("HEAD~2", "HEAD", "t").num_rows  # HEAD~2: the merge base
    check(merged == 2 * edit, f"the merge changed {merged} rows of the base, not {2 * edit}")
    (theirs_merged,) = s.dl.query("SELECT count(*) FROM dolt_diff_t('HEAD~2', 'HEAD')")
    check(theirs_merged == (2 * edit,), f"doltlite's merge changed {theirs_merged} rows")
    report.metrics.append(
        metric(
            f"merge, {edit:,} + {edit:,} disjoint changed rows",
            ours,
            f"{DOLTLITE} dolt_merge",
            theirs,
            target=TARGET_MERGE,
        )
    )


def _chunk_bytes(store: LmdbChunkStore, before: set[bytes]) -> tuple[int, int]:
    """Count and total bytes of the chunks not in ``before``."""
    new = [a for a in store.iter_addresses() if a not in before]
    return len(new), sum(len(c) for c in store.get_many(new))


def bench_growth(s: Stores, rows: int, runs: int, report: Report) -> None:
    """Disk growth (and time) of commits of 1% scattered updates, alternately."""

    def workspace_upsert(c: pa.Table) -> bytes:
        ws = s.repo.ws
        ws.put_table("t", ws.table("t").upsert(c))
        return ws.commit("1%", stage_all=True)

    def doltlite_update(params: list[tuple]) -> None:
        s.dl.update_rows(params, message="1%")

    edit = max(1, rows // 100)
    ours, theirs = Runs(), Runs()
    grown: dict[str, list[int]] = {k: [] for k in ("file", "pages", "chunks", "chunk_bytes", "dl")}
    for i in range(runs):
        c = make_changes(rows, edit, seed=70_000 + i)
        before, addresses = s.lmdb.stats(), set(s.lmdb.iter_addresses())
        seconds, _ = time_call(workspace_upsert, c)
        s.lmdb.compact()  # growth in the chunks B-tree, where every record ends up
        after = s.lmdb.stats()
        chunks, chunk_bytes = _chunk_bytes(s.lmdb, addresses)
        ours.seconds.append(seconds)
        grown["file"].append(after["file_bytes"] - before["file_bytes"])
        grown["pages"].append(after["stored_bytes"] - before["stored_bytes"])
        grown["chunks"].append(chunks)
        grown["chunk_bytes"].append(chunk_bytes)

        size = s.dl.disk_bytes()
        seconds, _ = time_call(doltlite_update, peers.update_params(c))
        theirs.seconds.append(seconds)
        grown["dl"].append(s.dl.disk_bytes() - size)
    report.metrics.append(
        metric(
            f"1% ({edit:,} rows) updates + commit",
            ours,
            f"{DOLTLITE} executemany UPDATE + dolt_commit",
            theirs,
            note="no warm-up; timed with the growth figures below",
        )
    )
    median = {k: int(statistics.median(v)) for k, v in grown.items()}
    report.facts["growth"] = {
        "rows_per_commit": edit,
        "commits": runs,
        "arbordb_data_mdb_bytes": median["file"],
        "arbordb_lmdb_pages_bytes": median["pages"],
        "arbordb_new_chunks": median["chunks"],
        "arbordb_new_chunk_bytes": median["chunk_bytes"],
        "doltlite_file_bytes": median["dl"],
        "samples": grown,
        "target_bytes": TARGET_GROWTH,
        "met": median["file"] <= TARGET_GROWTH,
    }
    if median["file"] > TARGET_GROWTH:
        report.notes.append(
            f"disk growth per 1% commit: {fmt_bytes(median['file'])} against <= "
            f"{fmt_bytes(TARGET_GROWTH)} ({median['file'] / TARGET_GROWTH:.2f}x over)"
        )


# --- driver -------------------------------------------------------------------------


def run(
    rows: int = 1_000_000,
    runs: int = 5,
    results_path: Path | None = RESULTS_PATH,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], list[Metric]]:
    """Run every figure; write the results section unless ``results_path`` is None.

    Returns:
        The JSON payload (``machine``, ``config``, ``metrics``, ``facts``, ``notes``) and
        the metrics it was made from.
    """
    info = machine()
    info["doltlite"] = peers.DOLTLITE_VERSION
    edit = min(EDIT, max(1, rows // 20))
    report = Report()
    stores = open_stores(make_table(rows), workdir)
    try:
        info["doltlite_engine"] = stores.dl.engine_version
        bench_branch(stores, runs, report)
        bench_updates(stores, rows, edit, runs, report)
        bench_diff(stores, edit, runs, report)
        bench_merge(stores, rows, edit, runs, report)
        bench_growth(stores, rows, runs, report)
    finally:
        stores.close()
    info["load_avg_1m_end"] = load_average()
    report.notes[:0] = [m.miss() for m in report.metrics if m.miss()]
    payload = {
        "benchmark": "versioning",
        "machine": info,
        "config": {"rows": rows, "runs": runs, "edit": edit},
        "metrics": [m.to_json() for m in report.metrics],
        "facts": report.facts,
        "notes": report.notes,
    }
    if results_path is not None:
        write_section(results_path, "versioning", results_markdown(info, report, rows, runs))
    return payload, report.metrics


def growth_table(g: dict[str, Any]) -> str:
    """The disk-growth figures as a Markdown table (ArborDB rows, then doltlite)."""
    dl = g["doltlite_file_bytes"]
    ratio = f"{g['arbordb_data_mdb_bytes'] / dl:.2f}x" if dl > 0 else "-"
    met = "yes" if g["met"] else "NO"
    target = f"<= {fmt_bytes(g['target_bytes'])}"
    return "\n".join(
        [
            "| per commit | arbordb | doltlite | ratio | target | met |",
            "|---|---|---|---|---|---|",
            f"| data file growth | {fmt_bytes(g['arbordb_data_mdb_bytes'])} (data.mdb) | "
            f"{fmt_bytes(dl)} | {ratio} | {target} | {met} |",
            f"|   LMDB pages used by chunks | {fmt_bytes(g['arbordb_lmdb_pages_bytes'])} "
            "| - | - | - | - |",
            f"|   new chunks (logical bytes) | {g['arbordb_new_chunks']:,} chunks, "
            f"{fmt_bytes(g['arbordb_new_chunk_bytes'])} | - | - | - | - |",
        ]
    )


def results_markdown(info: dict[str, Any], report: Report, rows: int, runs: int) -> str:
    g = report.facts["growth"]
    notes = [f"- {n}" for n in report.notes] or ["- every target met"]
    return "\n".join(
        [
            f"## versioning: `python -m bench.versioning --rows {rows} --runs {runs}`",
            "",
            f"Machine: {machine_line(info)}; doltlite {info['doltlite']} "
            f"(engine {info.get('doltlite_engine', '?')}).",
            "",
            markdown_table(report.metrics),
            "",
            f"Disk growth per commit of 1% scattered updates ({g['rows_per_commit']:,} rows; "
            f"median of {g['commits']} commits):",
            "",
            growth_table(g),
            "",
            "Notes (targets missed):",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = workload_parser("versioning", __doc__, runs=5).parse_args(argv)
    emit(*run(args.rows, args.runs, results_path(args), args.workdir))


if __name__ == "__main__":
    main()
