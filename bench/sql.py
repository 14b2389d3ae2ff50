"""SQL benchmark: queries, lookups, diffs and bulk writes through ``arbordb.connect``,
beside plain DuckDB on the same Arrow data and doltlite on the same rows.

Usage::

    python -m bench.sql [--rows 1000000] [--runs 5] [--lookups 2000]
                        [--results bench/RESULTS.md | --no-results] [--workdir DIR]

The table is ``bench.storage``'s (``id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE``),
written to a Parquet file and loaded into an ArborDB repository with ``INSERT INTO t
SELECT * FROM read_parquet(...)`` and into doltlite (``bench.peers``) with
``executemany``; then both get the same history: at least ``AS_OF_BACK`` (10) commits of
``UPDATE t SET score = score + 1 WHERE id IN (<1,000 scattered ids>)``. Plain DuckDB gets
ArborDB's table at HEAD as one Arrow table (registered, so it runs the query over the
same Arrow data) and as a native DuckDB table with a PRIMARY KEY (for point lookups).
Figures are medians of ``--runs`` runs after one untimed warm-up, timed alternately
with their comparison (``common.time_pair``):

    METRIC                       ARBORDB (through the DB-API)     COMPARISON
    GROUP BY at HEAD, warm       QUERY, fetch_arrow               DuckDB, the registered Arrow
                                                                  table; doltlite, the same SQL
    GROUP BY AS OF HEAD~10,      QUERY with t AS OF 'HEAD~10'     ArborDB at HEAD (same speed);
      warm                                                        doltlite dolt_at_t('HEAD~10')
    GROUP BY AS OF, first query  AS OF 'HEAD~9', once (decodes    doltlite dolt_at_t('HEAD~9'),
                                 the table at that commit)        once
    point SELECT, p50            SELECT * FROM t WHERE id = ?,    doltlite, DuckDB native table
                                 execute + fetchall, per call     (the three interleaved per id)
    dolt_diff count              SELECT count(*) FROM dolt_diff   doltlite SELECT count(*) FROM
                                 ('HEAD~k+1', 'HEAD~k', 't')      dolt_diff_t('HEAD~k+1','HEAD~k')
    executemany 100,000 rows     executemany INSERT into a new    doltlite: BEGIN; executemany;
                                 table; connection.commit()       COMMIT
    1,000,000 rows from Parquet  INSERT INTO new table SELECT *   doltlite's best bulk path: read
                                 FROM read_parquet(...); CALL     the Parquet file to tuples;
                                 dolt_commit (at most 3 runs,     BEGIN; executemany; dolt_commit
                                 no warm-up)

Each diff run uses another pair of consecutive commits and must count exactly 1,000
rows; every query result is checked against its comparison.

Targets (issue 4), stated for 1,000,000 rows: GROUP BY <= 1.2x plain DuckDB warm and
>= 15x faster than doltlite (ratio <= 0.0667); AS OF as fast as HEAD (ratio <= 1.1);
point lookup p50 <= 150 us; dolt_diff count <= 30 ms; bulk writes are reported as rows/s.

Output: JSON on stdout, a text table on stderr, and the ``sql`` section of the results
file rewritten (``common.write_section``). Stores live in a temporary directory on disk
(``--workdir``), removed at the end.
"""

from __future__ import annotations

from . import peers  # first: doltlite must load before bench.storage imports sqlite3

# isort: split
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import arbordb

from .common import (
    RESULTS_PATH,
    Metric,
    Runs,
    check,
    emit,
    fmt_seconds,
    load_average,
    machine,
    machine_line,
    markdown_table,
    metric,
    results_path,
    time_call,
    time_interleaved,
    time_pair,
    workload_parser,
    write_section,
)
from .storage import QUERY, Report, make_changes, make_table, same_groups

EDIT = 1_000
AS_OF_BACK = 10
MANY_ROWS = 100_000
BULK_RUNS = 3  # Parquet loads: each adds a full copy of the table to both stores
LOOKUP_WARMUP = 100

TARGET_VS_DUCKDB = 1.2
TARGET_VS_DOLTLITE = 0.0667  # at least 15x faster
TARGET_AS_OF = 1.1
TARGET_LOOKUP = 150e-6
TARGET_DIFF = 0.030

LOOKUP_SQL = "SELECT * FROM t WHERE id = ?"
DOLTLITE = "doltlite"


def as_of(revision: str) -> str:
    return QUERY.replace("FROM t", f"FROM t AS OF '{revision}'")


def doltlite_at(revision: str) -> str:
    return QUERY.replace("FROM t", f"FROM dolt_at_t('{revision}')")


def groups(rows: list[tuple]) -> pa.Table:
    """doltlite's GROUP BY rows as an Arrow table, to compare with ``same_groups``."""
    label, count, avg = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.table({"label": list(label), "count": list(count), "avg": list(avg)})


# --- the stores ---------------------------------------------------------------------


@dataclass
class Stores:
    """ArborDB (SQL), doltlite and plain DuckDB, holding the same rows at HEAD."""

    root: Path
    parquet: Path
    con: arbordb.sql.Connection
    dl: peers.Doltlite
    duck: duckdb.DuckDBPyConnection

    def sql(self, statement: str, params: Any = None) -> Any:
        cur = self.con.cursor()
        cur.execute(statement, params)
        return cur.fetch_arrow() if cur.description else cur.rowcount

    def close(self) -> None:
        self.con.close()
        self.dl.close()
        self.duck.close()
        shutil.rmtree(self.root, ignore_errors=True)


def open_stores(table: pa.Table, commits: int, edit: int, workdir: Path | None) -> Stores:
    """Load ``table`` into each store, then give ArborDB and doltlite ``commits`` commits
    of ``edit`` scattered updates each."""
    root = Path(tempfile.mkdtemp(prefix="arbordb-sql-", dir=workdir))
    parquet = root / "t.parquet"
    pq.write_table(table, parquet)
    s = Stores(
        root,
        parquet,
        arbordb.connect(root / "arbordb"),
        peers.Doltlite.open(root / "doltlite" / "t.db"),
        duckdb.connect(),
    )
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    s.sql(f"INSERT INTO t SELECT * FROM read_parquet('{parquet}')")
    s.sql("CALL dolt_commit('-Am', 'load')")
    s.dl.create()
    s.dl.insert_rows(peers.rows_of(table), message="load")
    for k in range(commits):
        ids = make_changes(table.num_rows, edit, seed=80_000 + k)["id"].to_pylist()
        update = f"UPDATE t SET score = score + 1 WHERE id IN ({', '.join(map(str, ids))})"
        s.sql(update)
        s.sql(f"CALL dolt_commit('-am', 'update {k}')")
        s.dl.run_in_transaction(update, message=f"update {k}")

    head = s.sql("SELECT * FROM t")
    s.duck.register("t", head)
    s.duck.execute("CREATE TABLE t_native (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
    s.duck.execute("INSERT INTO t_native SELECT * FROM t")
    os.sync()  # the figures must not pay for the loads' write-back
    return s


# --- figures ------------------------------------------------------------------------


def bench_group_by(s: Stores, runs: int, report: Report) -> None:
    """The GROUP BY at HEAD beside DuckDB and doltlite; AS OF beside HEAD and doltlite."""

    def ours(sql: str) -> Callable[[Any], pa.Table]:
        return lambda _: s.sql(sql)

    def theirs(sql: str) -> Callable[[Any], list[tuple]]:
        return lambda _: s.dl.query(sql)

    def duck(_: Any) -> pa.Table:
        return s.duck.sql(QUERY).to_arrow_table()

    # the first query of a revision nobody read yet decodes its table: once, before the rest
    first, first_dl = Runs(), Runs()
    seconds, cold = time_call(ours(as_of(f"HEAD~{AS_OF_BACK - 1}")))
    first.seconds.append(seconds)
    seconds, cold_dl = time_call(theirs(doltlite_at(f"HEAD~{AS_OF_BACK - 1}")))
    first_dl.seconds.append(seconds)
    check(same_groups(cold, groups(cold_dl)), "AS OF (first query) differs from doltlite")

    a, b = time_pair(ours(QUERY), duck, runs)
    check(same_groups(a.result, b.result), "GROUP BY at HEAD differs from plain DuckDB")
    report.metrics.append(
        metric(
            "GROUP BY at HEAD, warm",
            a,
            "plain DuckDB, same Arrow data",
            b,
            target=TARGET_VS_DUCKDB,
            target_on="ratio",
        )
    )
    a, b = time_pair(ours(QUERY), theirs(QUERY), runs)
    check(same_groups(a.result, groups(b.result)), "GROUP BY at HEAD differs from doltlite")
    report.metrics.append(
        metric(
            "GROUP BY at HEAD, warm",
            a,
            DOLTLITE,
            b,
            target=TARGET_VS_DOLTLITE,
            target_on="ratio",
        )
    )

    back = f"HEAD~{AS_OF_BACK}"
    a, b = time_pair(ours(as_of(back)), ours(QUERY), runs)
    report.metrics.append(
        metric(
            f"GROUP BY AS OF '{back}', warm",
            a,
            "ArborDB at HEAD",
            b,
            target=TARGET_AS_OF,
            target_on="ratio",
        )
    )
    a, b = time_pair(ours(as_of(back)), theirs(doltlite_at(back)), runs)
    check(same_groups(a.result, groups(b.result)), "GROUP BY AS OF differs from doltlite")
    report.metrics.append(
        metric(f"GROUP BY AS OF '{back}', warm", a, f"{DOLTLITE} dolt_at_t('{back}')", b)
    )
    report.metrics.append(
        metric(
            f"GROUP BY AS OF 'HEAD~{AS_OF_BACK - 1}', first query",
            first,
            f"{DOLTLITE} dolt_at_t, first query",
            first_dl,
            note="one run: decodes the table at that commit",
        )
    )


def bench_lookups(s: Stores, rows: int, lookups: int, report: Report) -> None:
    """Point SELECTs by primary key, the three systems interleaved id by id; p50 each."""
    rng = np.random.default_rng(90_000)
    ids = [int(i) for i in rng.integers(0, rows, lookups + LOOKUP_WARMUP)]
    cur, duck_cur = s.con.cursor(), s.duck.cursor()
    native = LOOKUP_SQL.replace("FROM t", "FROM t_native")
    calls: dict[str, Callable[[int], list[tuple]]] = {
        "arbordb": lambda i: cur.execute(LOOKUP_SQL, (i,)).fetchall(),
        DOLTLITE: lambda i: s.dl.con.execute(LOOKUP_SQL, (i,)).fetchall(),
        "duckdb": lambda i: duck_cur.execute(native, (i,)).fetchall(),
    }
    seconds, found = time_interleaved(calls, ids, LOOKUP_WARMUP)
    for name in (DOLTLITE, "duckdb"):
        check(found[name] == found["arbordb"], f"point lookups differ from {name}")
    check(all(len(r) == 1 for r in found["arbordb"]), "a point lookup missed its row")

    def pct(name: str, q: float) -> float:
        return float(np.percentile(seconds[name], q))

    report.facts["lookups"] = {
        name: {"p50_s": pct(name, 50), "p90_s": pct(name, 90), "p99_s": pct(name, 99)}
        for name in calls
    }
    for name, label, target in (
        (DOLTLITE, DOLTLITE, TARGET_LOOKUP),
        ("duckdb", "DuckDB native table with PK", None),  # one target, stated once
    ):
        report.metrics.append(
            Metric(
                "point SELECT * WHERE id = ?, p50",
                pct("arbordb", 50),
                label,
                pct(name, 50),
                target=target,
                runs=lookups,
                note=(
                    f"p50 of {lookups:,} lookups, interleaved; "
                    f"p99 {fmt_seconds(pct('arbordb', 99))}"
                ),
            )
        )


def bench_diff(s: Stores, edit: int, runs: int, report: Report) -> None:
    """``count(*)`` of the diff between consecutive commits; another pair per run."""

    def pair(i: int) -> tuple[str, str]:  # the warm-up gets i = -1
        return f"HEAD~{i + 2}", f"HEAD~{i + 1}"

    def ours(p: tuple[str, str]) -> int:
        return s.sql(f"SELECT count(*) FROM dolt_diff('{p[0]}', '{p[1]}', 't')")[0][0].as_py()

    def theirs(p: tuple[str, str]) -> int:
        return s.dl.query("SELECT count(*) FROM dolt_diff_t(?, ?)", p)[0][0]

    a, b = time_pair(ours, theirs, runs, pair, pair, summary_a=lambda n: n)
    check(a.summaries == [edit] * runs, f"dolt_diff counted {a.summaries}, not {edit}")
    check(b.result == edit, f"doltlite's dolt_diff_t counted {b.result}, not {edit}")
    report.metrics.append(
        metric(
            f"SELECT count(*) FROM dolt_diff(...), {edit:,} rows",
            a,
            f"{DOLTLITE} dolt_diff_t(from, to)",
            b,
            target=TARGET_DIFF,
        )
    )


def _rates(report: Report, name: str, rows: int, a: Runs, b: Runs) -> None:
    report.facts.setdefault("rates", {})[name] = {
        "rows": rows,
        "arbordb_rows_per_s": rows / a.median,
        "doltlite_rows_per_s": rows / b.median,
    }


def bench_writes(s: Stores, table: pa.Table, runs: int, report: Report) -> None:
    """executemany into a new table; then a Parquet file into a new table + commit."""
    many = min(MANY_ROWS, table.num_rows)
    rows = peers.rows_of(table.slice(0, many))
    create = "CREATE TABLE {} (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)"

    names: list[str] = []

    def new_tables(stem: str) -> Callable[[int], str]:
        """A setup that creates table ``<stem><n>`` in both stores (the doltlite side of
        the pair then takes ``names[-1]``)."""

        def setup(i: int) -> str:
            names.append(f"{stem}{i + 1}")
            s.sql(create.format(names[-1]))
            s.con.commit()
            s.dl.create(names[-1])
            return names[-1]

        return setup

    def ours_many(name: str) -> None:
        s.con.cursor().executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
        s.con.commit()

    a, b = time_pair(
        ours_many,
        lambda name: s.dl.insert_rows(rows, name),
        runs,
        new_tables("m"),
        lambda _: names[-1],
    )
    (count,) = s.sql(f"SELECT count(*) FROM {names[-1]}")[0]
    check(count.as_py() == many, f"executemany stored {count} rows, not {many}")
    report.metrics.append(
        metric(
            f"executemany INSERT {many:,} rows + commit",
            a,
            f"{DOLTLITE} executemany in one transaction",
            b,
            note="rows/s below",
        )
    )
    _rates(report, f"executemany {many:,} rows", many, a, b)

    total = table.num_rows
    bulk = min(runs, BULK_RUNS)
    names.clear()

    def ours_parquet(name: str) -> int:
        count = s.sql(f"INSERT INTO {name} SELECT * FROM read_parquet('{s.parquet}')")
        s.sql(f"CALL dolt_commit('-Am', 'load {name}')")
        return count

    def theirs_parquet(name: str) -> None:
        s.dl.insert_rows(peers.rows_of(pq.read_table(s.parquet)), name, message=f"load {name}")

    a, b = time_pair(
        ours_parquet,
        theirs_parquet,
        bulk,
        new_tables("p"),
        lambda _: names[-1],
        warmup=0,
        summary_a=lambda n: n,
    )
    check(a.summaries == [total] * bulk, f"INSERT ... read_parquet wrote {a.summaries} rows")
    (dl_count,) = s.dl.query(f"SELECT count(*) FROM {names[-1]}")
    check(dl_count == (total,), f"doltlite stored {dl_count} rows from Parquet, not {total}")
    report.metrics.append(
        metric(
            f"{total:,} rows from Parquet + dolt_commit",
            a,
            f"{DOLTLITE}: Parquet to tuples, executemany, dolt_commit",
            b,
            note=f"{bulk} runs, no warm-up; rows/s below",
        )
    )
    _rates(report, f"{total:,} rows from Parquet", total, a, b)


# --- driver -------------------------------------------------------------------------


def run(
    rows: int = 1_000_000,
    runs: int = 5,
    lookups: int = 2_000,
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
    commits = max(AS_OF_BACK, runs + 2)
    report = Report()
    table = make_table(rows)
    stores = open_stores(table, commits, edit, workdir)
    try:
        bench_group_by(stores, runs, report)
        bench_lookups(stores, rows, lookups, report)
        bench_diff(stores, edit, runs, report)
        bench_writes(stores, table, runs, report)  # last: its commits move HEAD
    finally:
        stores.close()
    info["load_avg_1m_end"] = load_average()
    report.notes[:0] = [m.miss() for m in report.metrics if m.miss()]
    payload = {
        "benchmark": "sql",
        "machine": info,
        "config": {"rows": rows, "runs": runs, "lookups": lookups, "edit": edit},
        "metrics": [m.to_json() for m in report.metrics],
        "facts": report.facts,
        "notes": report.notes,
    }
    if results_path is not None:
        write_section(results_path, "sql", results_markdown(info, report, rows, runs))
    return payload, report.metrics


def results_markdown(info: dict[str, Any], report: Report, rows: int, runs: int) -> str:
    rates = [
        f"- {name}: ArborDB {r['arbordb_rows_per_s']:,.0f} rows/s, doltlite "
        f"{r['doltlite_rows_per_s']:,.0f} rows/s "
        f"({r['arbordb_rows_per_s'] / r['doltlite_rows_per_s']:.2f}x)"
        for name, r in report.facts["rates"].items()
    ]
    lookups = [
        f"- {name}: p50 {fmt_seconds(q['p50_s'])}, p90 {fmt_seconds(q['p90_s'])}, "
        f"p99 {fmt_seconds(q['p99_s'])}"
        for name, q in report.facts["lookups"].items()
    ]
    notes = [f"- {n}" for n in report.notes] or ["- every target met"]
    return "\n".join(
        [
            f"## sql: `python -m bench.sql --rows {rows} --runs {runs}`",
            "",
            f"Machine: {machine_line(info)}; doltlite {info['doltlite']}.",
            "",
            markdown_table(report.metrics),
            "",
            "Bulk writes:",
            *rates,
            "",
            "Point lookups (DB-API `execute` + `fetchall`, per call):",
            *lookups,
            "",
            "Notes (targets missed):",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("sql", __doc__, runs=5)
    parser.add_argument(
        "--lookups", type=int, default=2_000, help="point lookups per system (default 2,000)"
    )
    args = parser.parse_args(argv)
    emit(*run(args.rows, args.runs, args.lookups, results_path(args), args.workdir))


if __name__ == "__main__":
    main()
