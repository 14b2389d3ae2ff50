"""Version operations where users call them: ``cursor.execute`` / ``CALL dolt_*`` and the
``arbor`` command line, beside doltlite driven the same way in the same run (issue 14).

Usage::

    python -m bench.surfaces [--rows 1000000] [--runs 5] [--single 300] [--lookups 2000]
                             [--results bench/RESULTS.md | --no-results] [--workdir DIR]
                             [--only refs,lookups,tables,cold,cli,updates,merge]

An ArborDB repository (``arbordb.connect``) and a doltlite database (``bench.peers``)
get the same two tables, ``--rows`` rows each (``id BIGINT PRIMARY KEY, label VARCHAR,
score DOUBLE``, ``bench.storage``'s rows): ``t`` with 10-byte labels ("equal") and
``tv`` with labels of 8 to 12 bytes ("varying"); edits of ``tv`` write labels of
varying length too. Warm figures are medians of ``--runs`` runs after one untimed
warm-up, ArborDB and doltlite timed alternately (``common.time_pair``); per-statement
figures interleave the two statement by statement (``common.time_interleaved``):

    METRIC                         ARBORDB                               DOLTLITE
    CALL dolt_branch / dolt_tag /  CALL dolt_branch(?) ...               SELECT dolt_branch(?) ...
      dolt_checkout, warm          (checkout alternates two branches)
    1,000 updates + commit,        executemany UPDATE t SET label = ?,   BEGIN; the same
      executemany                  score = ? WHERE id = ?; COMMIT;       executemany;
                                   CALL dolt_commit('-am', ...)          dolt_commit
    1,000 updates + commit,        UPDATE t SET label = ?, score =       the same, in BEGIN;
      WHERE id IN (...)            score + 1 WHERE id IN (<ids>);        dolt_commit
                                   COMMIT; CALL dolt_commit
    single-row UPDATE by key       UPDATE t SET label = ? WHERE id = ?,  the same, in BEGIN
      (before commit)              in an open transaction, per statement
    CALL dolt_merge, 1,000 +       CALL dolt_merge(branch): clean        SELECT dolt_merge(branch)
      1,000 disjoint rows          three-way merge, a merge commit
    point SELECT, p50              execute(SELECT * FROM t WHERE id =    the same, fetchone
                                   ?) + fetchone
    ... cold                       the first call in a new process (the  the same
                                   child opens the store untimed)
    arbor branch / tag /           the whole command: a new process      python -c: import
      checkout / merge (CLI)                                             doltlite, connect, call
    arbor log -n 5 / status /      the same                              python -c: dolt_log
      commit --allow-empty                                               LIMIT 5 / dolt_status /
                                                                         dolt_commit

Each merge merges a new branch (setup, untimed: through SQL, 1,000 changes committed
on the branch and 1,000 others on main) and must be a clean three-way merge changing
2,000 rows of the merge base; each update run changes exactly 1,000 rows; point
selects must return the same rows on both sides. Setups end with ``os.sync()``.

Targets (issue 14): the ref procedures, 1,000 updates + commit (both forms) and
``dolt_merge`` <= doltlite (ratio <= 1); single-row UPDATE <= 1 ms; point SELECT p50
<= 15 us; varying-length labels within 1.5x of equal-length (their ratio is listed
below the table). The engine-level figures are ``bench.versioning``'s section.

Output: JSON on stdout, a text table on stderr, and the ``surfaces`` section of the
results file rewritten (``common.write_section``). Stores live in a temporary directory
on disk (``--workdir``), removed at the end.
"""

from __future__ import annotations

from . import peers  # first: doltlite must load before bench.storage imports sqlite3

# isort: split
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import arbordb

from .common import (
    RESULTS_PATH,
    Metric,
    Runs,
    add_parts_option,
    check,
    emit,
    fmt_seconds,
    load_average,
    machine,
    machine_line,
    markdown_table,
    metric,
    results_path,
    time_interleaved,
    time_pair,
    workload_parser,
    write_section,
)
from .storage import Report, make_changes, make_table

EDIT = 1_000
SINGLE_WARMUP = 20
LOOKUP_WARMUP = 100
TABLES = {"equal": "t", "varying": "tv"}  # label kind -> table name

# the figures, in groups ``--only`` can pick: the ref procedures; point selects of both
# tables (first, so that their first reads follow the load); one-row updates, updates and
# merges of both tables; first calls in new processes; whole ``arbor`` commands.
# ``updates`` and ``merge`` pick those figures of both tables alone (``tables`` includes them).
PARTS = ("refs", "lookups", "tables", "cold", "cli", "updates", "merge")

TARGET_RATIO = 1.0
TARGET_SINGLE = 0.001
TARGET_LOOKUP = 15e-6
TARGET_VARYING = 1.5

UPDATE_ROW = peers.UPDATE_ROW  # "UPDATE {name} SET label = ?, score = ? WHERE id = ?"
SINGLE_SQL = "UPDATE {name} SET label = ? WHERE id = ?"
LOOKUP_SQL = "SELECT * FROM {name} WHERE id = ?"
DOLTLITE = "doltlite"


# --- data ---------------------------------------------------------------------------


def varying_labels(count: int, seed: int, stem: str = "v") -> pa.Array:
    """``count`` labels of 8 to 12 bytes, drawn from 1,000 values (``stem`` + digits)."""
    pool = [f"{stem}{k:03d}_".ljust(n, "x") for k in range(200) for n in range(8, 13)]
    rng = np.random.default_rng(seed)
    return pa.array(pool, pa.string()).take(pa.array(rng.integers(0, len(pool), count)))


def table_of(kind: str, rows: int) -> pa.Table:
    table = make_table(rows)
    if kind == "varying":
        table = table.set_column(1, "label", varying_labels(rows, seed=1))
    return table


def changes_of(kind: str, rows: int, count: int, seed: int) -> pa.Table:
    """``make_changes``, with labels of varying length for the ``varying`` kind."""
    changes = make_changes(rows, count, seed)
    if kind == "varying":
        changes = changes.set_column(1, "label", varying_labels(count, seed, stem="n"))
    return changes


# --- the stores ---------------------------------------------------------------------


@dataclass
class Stores:
    """An ArborDB repository (SQL) and a doltlite database holding the same tables."""

    root: Path
    con: arbordb.sql.Connection
    dl: peers.Doltlite

    @property
    def arbor_path(self) -> Path:
        return self.root / "arbordb"

    def sql(self, statement: str, params: Any = None) -> Any:
        cur = self.con.cursor()
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else cur.rowcount

    def close(self) -> None:
        self.con.close()
        self.dl.close()
        shutil.rmtree(self.root, ignore_errors=True)


def open_stores(rows: int, workdir: Path | None) -> Stores:
    root = Path(tempfile.mkdtemp(prefix="arbordb-surfaces-", dir=workdir))
    s = Stores(root, arbordb.connect(root / "arbordb"), peers.Doltlite.open(root / "dl" / "t.db"))
    for kind, name in TABLES.items():
        table = table_of(kind, rows)
        parquet = root / f"{name}.parquet"
        pq.write_table(table, parquet)
        s.sql(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
        s.sql(f"INSERT INTO {name} SELECT * FROM read_parquet('{parquet}')")
        parquet.unlink()
        s.dl.create(name)
        s.dl.insert_rows(peers.rows_of(table), name)
    s.sql("CALL dolt_commit('-Am', 'load')")
    s.dl.commit("load")
    s.con.commit()
    os.sync()  # the figures must not pay for the loads' write-back
    return s


# --- ref procedures -----------------------------------------------------------------


def checkout_branch(s: Stores) -> str:
    """The branch the checkout figures switch to, made on both sides the first time."""
    if not s.sql("SELECT name FROM dolt_branches WHERE name = 'co'"):
        s.sql("CALL dolt_branch('co')")
        s.dl.branch("co")
    return "co"


def bench_refs(s: Stores, runs: int, report: Report) -> None:
    """dolt_branch, dolt_tag and dolt_checkout through SQL, warm."""
    checkout_branch(s)
    checkout_to = ("main", "co")  # the warm-up (i = -1) goes to co, then back and forth
    procedures: list[tuple[str, Callable[[int], str]]] = [
        ("dolt_branch", lambda i: f"b{i + 1}"),
        ("dolt_tag", lambda i: f"v{i + 1}"),
        ("dolt_checkout", lambda i: checkout_to[(i + 2) % 2]),
    ]
    for procedure, names in procedures:
        ours, theirs = time_pair(
            lambda name, p=procedure: s.sql(f"CALL {p}(?)", [name]),
            lambda name, p=procedure: s.dl.query(f"SELECT {p}(?)", (name,)),
            runs,
            names,
            names,
        )
        report.metrics.append(
            metric(
                f"CALL {procedure}, warm",
                ours,
                f"{DOLTLITE} SELECT {procedure}",
                theirs,
                target=TARGET_RATIO,
                target_on="ratio",
            )
        )
    check(s.sql("SELECT count(*) FROM dolt_tags")[0][0] == runs + 1, "dolt_tag missed tags")
    s.sql("CALL dolt_checkout('main')")
    s.dl.checkout("main")


# --- updates ------------------------------------------------------------------------


def bench_updates(s: Stores, kind: str, rows: int, edit: int, runs: int, report: Report) -> None:
    """``edit`` scattered updates + commit: executemany, then UPDATE ... WHERE id IN."""
    name = TABLES[kind]
    update = UPDATE_ROW.format(name=name)

    def params(seed: int) -> Callable[[int], list[tuple]]:
        return lambda i: peers.update_params(changes_of(kind, rows, edit, seed + i))

    def ours_many(rows_params: list[tuple]) -> int:
        cur = s.con.cursor()
        cur.executemany(update, rows_params)
        s.con.commit()
        s.sql("CALL dolt_commit('-am', 'update')")
        return cur.rowcount

    ours, theirs = time_pair(
        ours_many,
        lambda p: s.dl.update_rows(p, name, message="update"),
        runs,
        params(10_000),
        params(10_000),
        summary_a=lambda count: count,
    )
    check(ours.summaries == [edit] * runs, f"executemany UPDATE changed {ours.summaries} rows")
    report.metrics.append(
        metric(
            f"{edit:,} updates + commit, executemany WHERE id = ? ({kind} labels)",
            ours,
            f"{DOLTLITE}, same SQL + dolt_commit",
            theirs,
            target=TARGET_RATIO,
            target_on="ratio",
        )
    )

    def in_list(i: int) -> tuple[str, list[object]]:
        c = changes_of(kind, rows, edit, 20_000 + i)
        ids = ", ".join(map(str, c["id"].to_pylist()))
        statement = f"UPDATE {name} SET label = ?, score = score + 1 WHERE id IN ({ids})"
        return statement, [c["label"][0].as_py()]

    def ours_in(job: tuple[str, list[object]]) -> int:
        count = s.sql(*job)
        s.con.commit()
        s.sql("CALL dolt_commit('-am', 'update')")
        return count

    ours, theirs = time_pair(
        ours_in,
        lambda job: s.dl.run_in_transaction(job[0], [job[1]], message="update"),
        runs,
        in_list,
        in_list,
        summary_a=lambda count: count,
    )
    check(ours.summaries == [edit] * runs, f"UPDATE ... IN changed {ours.summaries} rows")
    report.metrics.append(
        metric(
            f"{edit:,} updates + commit, WHERE id IN (...) ({kind} labels)",
            ours,
            f"{DOLTLITE}, same SQL + dolt_commit",
            theirs,
            target=TARGET_RATIO,
            target_on="ratio",
        )
    )


def bench_single(s: Stores, kind: str, rows: int, count: int, report: Report) -> None:
    """One-row UPDATE by primary key in an open transaction, statement by statement."""
    name = TABLES[kind]
    statement = SINGLE_SQL.format(name=name)
    changes = changes_of(kind, rows, count + SINGLE_WARMUP, seed=30_000)
    jobs = list(zip(changes["label"].to_pylist(), changes["id"].to_pylist(), strict=True))
    jobs = [jobs[i] for i in np.random.default_rng(30_001).permutation(len(jobs))]
    cur = s.con.cursor()
    s.dl.con.execute("BEGIN")
    try:
        seconds, counts = time_interleaved(
            {
                "arbordb": lambda job: cur.execute(statement, job).rowcount,
                DOLTLITE: lambda job: s.dl.con.execute(statement, job).rowcount,
            },
            jobs,
            SINGLE_WARMUP,
        )
        (label, key) = jobs[-1]
        check(s.sql(f"SELECT label FROM {name} WHERE id = ?", [key]) == [(label,)], "lost UPDATE")
    finally:
        s.con.rollback()
        s.dl.con.execute("ROLLBACK")
    check(counts["arbordb"] == [1] * count, "a single-row UPDATE did not change one row")
    report.metrics.append(
        Metric(
            f"single-row UPDATE by key, before commit ({kind} labels)",
            float(np.median(seconds["arbordb"])),
            f"{DOLTLITE}, same SQL in BEGIN",
            float(np.median(seconds[DOLTLITE])),
            target=TARGET_SINGLE,
            runs=count,
            note=f"median of {count:,} statements, interleaved",
        )
    )


# --- merge --------------------------------------------------------------------------


def merge_setup(s: Stores, kind: str, rows: int, edit: int, branch: str, seed: int) -> None:
    """Commit ``edit`` changed rows on a new branch ``branch`` and ``edit`` others on main,
    in both stores (untimed); both are left on main."""
    both = changes_of(kind, rows, 2 * edit, seed)
    mine = peers.update_params(both.take(list(range(0, 2 * edit, 2))))
    theirs = peers.update_params(both.take(list(range(1, 2 * edit, 2))))
    update = UPDATE_ROW.format(name=TABLES[kind])
    cur = s.con.cursor()
    cur.execute("CALL dolt_checkout('-b', ?)", [branch])
    cur.executemany(update, theirs)
    cur.execute("CALL dolt_commit('-am', ?)", [f"theirs {branch}"])
    cur.execute("CALL dolt_checkout('main')")
    cur.executemany(update, mine)
    cur.execute("CALL dolt_commit('-am', ?)", [f"ours {branch}"])
    s.con.commit()
    s.dl.branch(branch)
    s.dl.checkout(branch)
    s.dl.update_rows(theirs, TABLES[kind], message=f"theirs {branch}")
    s.dl.checkout("main")
    s.dl.update_rows(mine, TABLES[kind], message=f"ours {branch}")
    os.sync()


def check_merged(s: Stores, kind: str, edit: int) -> None:
    """The last merge on both sides changed ``2 * edit`` rows of its base (HEAD~2)."""
    name = TABLES[kind]
    (ours,) = s.sql(f"SELECT count(*) FROM dolt_diff('HEAD~2', 'HEAD', '{name}')")
    check(ours == (2 * edit,), f"the merge changed {ours} rows of the base, not {2 * edit}")
    (theirs,) = s.dl.query(f"SELECT count(*) FROM dolt_diff_{name}('HEAD~2', 'HEAD')")
    check(theirs == (2 * edit,), f"doltlite's merge changed {theirs} rows")


def bench_merge(s: Stores, kind: str, rows: int, edit: int, runs: int, report: Report) -> None:
    def setup(i: int) -> str:
        branch = f"m{kind}{i + 1}"
        merge_setup(s, kind, rows, edit, branch, seed=40_000 + 100 * i)
        return branch

    names: list[str] = []

    def setup_ours(i: int) -> str:
        names.append(setup(i))
        return names[-1]

    ours, theirs = time_pair(
        lambda branch: s.sql("CALL dolt_merge(?)", [branch])[0],
        s.dl.merge,
        runs,
        setup_ours,
        lambda _: names[-1],
        summary_a=lambda row: (bool(row[0]), row[1], row[2]),
    )
    check(ours.summaries == [(True, 0, 0)] * runs, f"merges were {ours.summaries}")
    check_merged(s, kind, edit)
    report.metrics.append(
        metric(
            f"CALL dolt_merge, {edit:,} + {edit:,} disjoint rows, warm ({kind} labels)",
            ours,
            f"{DOLTLITE} SELECT dolt_merge",
            theirs,
            target=TARGET_RATIO,
            target_on="ratio",
        )
    )


# --- point selects ------------------------------------------------------------------


def bench_lookups(s: Stores, kind: str, rows: int, lookups: int, report: Report) -> None:
    """Random point SELECTs, twice over the same ids: the first pass mostly reads leaves
    the process has not read yet (rebuilt from their stored records), the second finds
    them cached and measures the statement path alone."""
    statement = LOOKUP_SQL.format(name=TABLES[kind])
    rng = np.random.default_rng(50_000)
    ids = [int(i) for i in rng.integers(0, rows, lookups + LOOKUP_WARMUP)]
    cur = s.con.cursor()
    calls = {
        "arbordb": lambda i: cur.execute(statement, (i,)).fetchone(),
        DOLTLITE: lambda i: s.dl.con.execute(statement, (i,)).fetchone(),
    }
    for label, note in (
        ("", "first reads of most leaves"),
        (", leaves cached", "the same ids again"),
    ):
        seconds, found = time_interleaved(calls, ids, LOOKUP_WARMUP)
        check(found["arbordb"] == found[DOLTLITE], "point selects differ from doltlite's")
        check(all(r is not None for r in found["arbordb"]), "a point select missed its row")
        ours, theirs = (float(np.percentile(seconds[n], 50)) for n in ("arbordb", DOLTLITE))
        p99 = fmt_seconds(float(np.percentile(seconds["arbordb"], 99)))
        report.metrics.append(
            Metric(
                f"point SELECT * WHERE id = ?, execute + fetchone, p50{label} ({kind} labels)",
                ours,
                DOLTLITE,
                theirs,
                target=TARGET_LOOKUP,
                runs=lookups,
                note=f"p50 of {lookups:,} lookups, interleaved, {note}; p99 {p99}",
            )
        )


# --- cold: the first call in a new process ------------------------------------------

# A child process opens the store (untimed), times one call and prints its seconds.
_COLD_OPS = {
    "branch": ("CALL dolt_branch(?)", "SELECT dolt_branch(?)"),
    "tag": ("CALL dolt_tag(?)", "SELECT dolt_tag(?)"),
    "checkout": ("CALL dolt_checkout(?)", "SELECT dolt_checkout(?)"),
    "merge": ("CALL dolt_merge(?)", "SELECT dolt_merge(?)"),
    "update": (SINGLE_SQL.format(name="t"),) * 2,
    "select": (LOOKUP_SQL.format(name="t"),) * 2,
}


def cold_child(system: str, op: str, path: str, args: list[str]) -> None:
    """Run in the child: open ``path``, time the first ``op`` call, print the seconds."""
    params: list[object] = [int(a) if a.isdigit() else a for a in args]
    ours_sql, theirs_sql = _COLD_OPS[op]
    if system == "arbordb":
        con = arbordb.connect(path)
        cur = con.cursor()
        start = time.perf_counter()
        if cur.execute(ours_sql, params).description:
            cur.fetchone()
        seconds = time.perf_counter() - start
        con.rollback()  # an UPDATE stays uncommitted, as on doltlite's side
        con.close()
    else:
        dl = peers.Doltlite.open(Path(path))
        if op == "update":
            dl.con.execute("BEGIN")
        start = time.perf_counter()
        dl.con.execute(theirs_sql, params).fetchone()
        seconds = time.perf_counter() - start
        if op == "update":
            dl.con.execute("ROLLBACK")
        dl.close()
    print(seconds)


def child_env() -> dict[str, str]:
    """This environment without doltlite's "already loaded" marker (peers.py invariant (2))."""
    return {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}


def _cold_once(s: Stores, system: str, op: str, args: list[str]) -> float:
    path = s.arbor_path if system == "arbordb" else s.dl.path
    done = subprocess.run(
        [sys.executable, "-m", "bench.surfaces", "--cold-child", system, op, str(path), *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    check(done.returncode == 0, f"the cold {op} child ({system}) failed: {done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def bench_cold(s: Stores, rows: int, edit: int, runs: int, report: Report) -> None:
    """Each operation once in a fresh process per run (equal-length labels)."""
    co = checkout_branch(s)
    s.con.commit()  # the children write: this connection must see their state afresh
    rng = np.random.default_rng(60_000)
    jobs: list[tuple[str, Callable[[int], list[str]]]] = [
        ("branch", lambda i: [f"cold_b{i}"]),
        ("tag", lambda i: [f"cold_v{i}"]),
        ("checkout", lambda i: [co]),
        ("update", lambda i: ["cold", str(int(rng.integers(0, rows)))]),
        ("select", lambda i: [str(int(rng.integers(0, rows)))]),
    ]
    for op, args in jobs:
        ours, theirs = Runs(), Runs()
        for i in range(runs):
            given = args(i)
            ours.seconds.append(_cold_once(s, "arbordb", op, given))
            theirs.seconds.append(_cold_once(s, DOLTLITE, op, given))
        report.metrics.append(
            metric(f"{op}, cold (first call in a new process)", ours, DOLTLITE, theirs)
        )
    ours, theirs = Runs(), Runs()
    for i in range(runs):
        branch = f"cold_m{i}"
        merge_setup(s, "equal", rows, edit, branch, seed=70_000 + 100 * i)
        ours.seconds.append(_cold_once(s, "arbordb", "merge", [branch]))
        theirs.seconds.append(_cold_once(s, DOLTLITE, "merge", [branch]))
    s.con.rollback()  # see the children's merges
    check_merged(s, "equal", edit)
    report.metrics.append(
        metric("CALL dolt_merge, cold (first call in a new process)", ours, DOLTLITE, theirs)
    )


# --- the command line ---------------------------------------------------------------

_DOLTLITE_ONE_SHOT = (
    "import sys, doltlite, sqlite3\n"
    "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "print(con.execute(sys.argv[2], sys.argv[3:]).fetchall())\n"
)
# whole commands that read history or commit: arbor's arguments, doltlite's statement
_CLI_READS = (
    ("arbor log -n 5", ["log", "-n", "5"], "SELECT * FROM dolt_log LIMIT 5"),
    ("arbor status", ["status"], "SELECT * FROM dolt_status"),
    (
        "arbor commit --allow-empty",
        ["commit", "--allow-empty", "-m", "cli"],
        "SELECT dolt_commit('--allow-empty', '-m', 'cli')",
    ),
)


def _command_seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    check(done.returncode == 0, f"{' '.join(argv[:3])} failed: {done.stderr[-2000:]}")
    return seconds


def bench_cli(s: Stores, rows: int, edit: int, runs: int, report: Report) -> None:
    """``arbor branch|tag|checkout|merge`` as whole commands, beside a one-shot Python
    process calling doltlite's procedure."""
    arbor = str(Path(sys.executable).with_name("arbor"))
    s.con.commit()
    checkout_to = ("co", "main")
    for verb, names in (
        ("branch", lambda i: f"cli_b{i}"),
        ("tag", lambda i: f"cli_v{i}"),
        ("checkout", lambda i: checkout_to[i % 2]),
        ("merge", None),
    ):
        ours, theirs = Runs(), Runs()
        for i in range(runs):
            if names is None:
                name = f"cli_m{i}"
                merge_setup(s, "equal", rows, edit, name, seed=80_000 + 100 * i)
            else:
                name = names(i)
            ours.seconds.append(_command_seconds([arbor, verb, name], s.arbor_path))
            theirs.seconds.append(
                _command_seconds(
                    [
                        *(sys.executable, "-c", _DOLTLITE_ONE_SHOT, str(s.dl.path)),
                        *(f"SELECT dolt_{verb}(?)", name),
                    ],
                    s.root,
                )
            )
        if verb == "checkout" and runs % 2:
            _command_seconds([arbor, "checkout", "main"], s.arbor_path)
        report.metrics.append(
            metric(f"arbor {verb} (whole command)", ours, f"{DOLTLITE}, python -c", theirs)
        )
    s.con.rollback()
    check_merged(s, "equal", edit)  # before the commits below move HEAD
    for label, args, statement in _CLI_READS:
        ours, theirs = Runs(), Runs()
        for _ in range(runs):
            ours.seconds.append(_command_seconds([arbor, *args], s.arbor_path))
            theirs.seconds.append(
                _command_seconds(
                    [sys.executable, "-c", _DOLTLITE_ONE_SHOT, str(s.dl.path), statement], s.root
                )
            )
        report.metrics.append(
            metric(f"{label} (whole command)", ours, f"{DOLTLITE}, python -c", theirs)
        )


# --- driver -------------------------------------------------------------------------


def varying_ratios(metrics: list[Metric]) -> list[str]:
    """Each varying-label figure over its equal-label twin (target <= 1.5x)."""
    by_name = {m.name: m for m in metrics}
    lines = []
    for m in metrics:
        if "(varying labels)" not in m.name:
            continue
        twin = by_name.get(m.name.replace("(varying labels)", "(equal labels)"))
        if twin is None or twin.value <= 0:
            continue
        ratio = m.value / twin.value
        met = "yes" if ratio <= TARGET_VARYING else "NO"
        lines.append(
            f"- {m.name.replace(' (varying labels)', '')}: {fmt_seconds(m.value)} vs "
            f"{fmt_seconds(twin.value)}, {ratio:.2f}x (target <= {TARGET_VARYING}x: {met})"
        )
    return lines


def run(
    rows: int = 1_000_000,
    runs: int = 5,
    single: int = 300,
    lookups: int = 2_000,
    results_path: Path | None = RESULTS_PATH,
    workdir: Path | None = None,
    parts: Sequence[str] = PARTS,
) -> tuple[dict[str, Any], list[Metric]]:
    """Run the figures of ``parts`` (default: every one); write the results section
    (``surfaces``, or ``surfaces-<parts>`` for a subset) unless ``results_path`` is None."""
    info = machine()
    info["doltlite"] = peers.DOLTLITE_VERSION
    edit = min(EDIT, max(1, rows // 20))
    report = Report()
    stores = open_stores(rows, workdir)
    try:
        info["doltlite_engine"] = stores.dl.engine_version
        if "refs" in parts:
            bench_refs(stores, runs, report)
        for kind in TABLES if "lookups" in parts else ():
            bench_lookups(stores, kind, rows, lookups, report)
        for kind in TABLES:
            if "tables" in parts:
                bench_single(stores, kind, rows, single, report)
            if "tables" in parts or "updates" in parts:
                bench_updates(stores, kind, rows, edit, runs, report)
            if "tables" in parts or "merge" in parts:
                bench_merge(stores, kind, rows, edit, runs, report)
        if "cold" in parts:
            bench_cold(stores, rows, edit, runs, report)
        if "cli" in parts:
            bench_cli(stores, rows, edit, runs, report)
    finally:
        stores.close()
    info["load_avg_1m_end"] = load_average()
    report.facts["varying"] = varying_ratios(report.metrics)
    report.notes[:0] = [m.miss() for m in report.metrics if m.miss()]
    payload = {
        "benchmark": "surfaces",
        "machine": info,
        "config": {"rows": rows, "runs": runs, "edit": edit, "single": single, "lookups": lookups},
        "metrics": [m.to_json() for m in report.metrics],
        "facts": report.facts,
        "notes": report.notes,
    }
    if results_path is not None:
        name = "surfaces" if tuple(parts) == PARTS else "-".join(("surfaces", *parts))
        write_section(results_path, name, results_markdown(info, report, rows, runs, parts))
    return payload, report.metrics


def results_markdown(
    info: dict[str, Any], report: Report, rows: int, runs: int, parts: Sequence[str] = PARTS
) -> str:
    notes = [f"- {n}" for n in report.notes] or ["- every target met"]
    only = "" if tuple(parts) == PARTS else f" --only {','.join(parts)}"
    name = "surfaces" if not only else "-".join(("surfaces", *parts))
    return "\n".join(
        [
            f"## {name}: `python -m bench.surfaces --rows {rows} --runs {runs}{only}`",
            "",
            f"Machine: {machine_line(info)}; doltlite {info['doltlite']} "
            f"(engine {info.get('doltlite_engine', '?')}).",
            "",
            markdown_table(report.metrics),
            "",
            *(
                [
                    "Varying-length labels (8-12 bytes) against equal-length (10 bytes):",
                    "",
                    *report.facts["varying"],
                    "",
                ]
                if report.facts["varying"]
                else []
            ),
            "Notes (targets missed):",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--cold-child"]:
        cold_child(argv[1], argv[2], argv[3], argv[4:])
        return
    parser: argparse.ArgumentParser = workload_parser("surfaces", __doc__, runs=5)
    parser.add_argument("--single", type=int, default=300, help="single-row UPDATEs timed")
    parser.add_argument("--lookups", type=int, default=2_000, help="point SELECTs timed")
    add_parts_option(parser, "--only", PARTS)
    args = parser.parse_args(argv)
    emit(
        *run(
            args.rows,
            args.runs,
            args.single,
            args.lookups,
            results_path(args),
            args.workdir,
            args.only,
        )
    )


if __name__ == "__main__":
    main()
