"""Storage engine benchmark: prolly trees on LMDB against DuckDB, SQLite and ``prollytree``.

Usage::

    python -m bench.storage [--rows 1000000] [--runs 7] [--compare-keys 100000]
                            [--results bench/RESULTS.md | --no-results] [--workdir DIR]

The table is ``id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE`` with ids 0..rows-1,
labels of 10 characters drawn from 1,000 values, and uniform scores (seeded). Every
figure is a median of ``--runs`` runs, timed alternately with its comparison in the
same process (``common.time_pair``):

    METRIC                      ARBORDB (the timed part)           COMPARISON
    build + persist             encode keys, ProllyTree.build      DuckDB file table with a
                                into a BufferedChunkStore, flush   PRIMARY KEY: INSERT from
                                to LMDB                            Arrow
    scan + GROUP BY, cold       fresh NodeStore: scan, decode      the query on the plain
                                keys, the query in DuckDB          Arrow table (registered)
    scan + GROUP BY, cached     decoded pa.Table found by root     same
    1,000 upserts + persist     encode keys, tree.edit, flush      DuckDB INSERT OR REPLACE
    diff after 1,000 / 100,000  fresh NodeStore: tree.diff         DuckDB FULL JOIN of both
                                                                   versions as Arrow tables
    point lookup, warm /        tree.get(encode_key(...)), per     SQLite SELECT by rowid
    cold-ish                    lookup
    build / 1% update / diff    the same at ``--compare-keys``     the PyPI ``prollytree``
    (prollytree)                keys                               package (Rust)

Targets (issue 2): build <= 0.25 s; scan <= 1.6x cold and <= 1.2x cached; upserts
<= 30 ms; diff <= 20 ms (1,000) and <= 250 ms (100,000); lookup <= 10 us. Targets are
stated for 1,000,000 rows; at other sizes they are printed but say little.

Output: JSON on stdout, a text table on stderr, and the ``storage`` section of the
results file rewritten (``common.write_section``). Stores live in a temporary
directory on disk (``--workdir``), removed at the end.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from arbordb.engine.chunks.buffered import BufferedChunkStore
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore
from arbordb.engine.codec.key_batch import decode_keys, encode_keys
from arbordb.engine.codec.keys import encode_key
from arbordb.engine.tree.diff import MODIFIED, TreeDiff
from arbordb.engine.tree.nodes import NodeStore
from arbordb.engine.tree.prolly import ProllyTree

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
    time_pair,
    time_runs,
    workload_parser,
    write_section,
)

KEY_TYPES = [pa.int64()]
VALUE_TYPES = [pa.string(), pa.float64()]
QUERY = "SELECT label, count(*), avg(score) FROM t GROUP BY label"
DIFF_QUERY = """
SELECT coalesce(a.id, b.id) AS id, a.label, a.score, b.label AS new_label, b.score AS new_score
FROM a FULL OUTER JOIN b ON a.id = b.id
WHERE a.id IS NULL OR b.id IS NULL
   OR a.label IS DISTINCT FROM b.label OR a.score IS DISTINCT FROM b.score
"""
SMALL_EDIT, LARGE_EDIT = 1_000, 100_000
WARM_KEYS, WARM_REPEAT, COLD_KEYS = 200, 5, 2_000
KV_COMMIT_EVERY = 2_000  # prollytree's VersionedKvStore slows down as its staging area grows

TARGET_BUILD = 0.25
TARGET_SCAN_COLD, TARGET_SCAN_CACHED = 1.6, 1.2
TARGET_UPSERTS = 0.030
TARGET_DIFF_SMALL, TARGET_DIFF_LARGE = 0.020, 0.250
TARGET_LOOKUP = 10e-6


# --- data ---------------------------------------------------------------------------


def make_table(rows: int, seed: int = 0) -> pa.Table:
    """``rows`` rows: ids 0..rows-1, 10-character labels from 1,000 values, scores in [0, 1)."""
    rng = np.random.default_rng(seed)
    labels = pa.array([f"lbl_{i:06d}" for i in range(1_000)], pa.string())
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "label": labels.take(pa.array(rng.integers(0, 1_000, rows))),
            "score": pa.array(rng.random(rows)),
        }
    )


def make_changes(rows: int, count: int, seed: int) -> pa.Table:
    """``count`` distinct existing ids, ascending, each with a new label and score."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(rows, size=count, replace=False)).astype(np.int64)
    return pa.table(
        {
            "id": pa.array(ids),
            "label": pa.array([f"new_{i:06d}" for i in range(count)], pa.string()),
            "score": pa.array(rng.random(count)),
        }
    )


def apply_changes(table: pa.Table, changes: pa.Table) -> pa.Table:
    """``table`` (ids 0..n-1 by position) with ``changes``' rows replacing theirs."""
    keep = np.ones(table.num_rows, bool)
    keep[changes["id"].to_numpy()] = False
    merged = pa.concat_tables([table.filter(pa.array(keep)), changes])
    return merged.sort_by("id")


def tree_table(tree: ProllyTree) -> pa.Table:
    """The whole tree as an Arrow table: the decoded key column, then the values."""
    keys, (labels, scores) = tree.scan()
    (ids,) = decode_keys(keys, KEY_TYPES)
    return pa.table({"id": ids, "label": labels, "score": scores})


def query(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str = QUERY) -> pa.Table:
    con.register("t", table)
    return con.sql(sql).to_arrow_table()


def same_groups(a: pa.Table, b: pa.Table) -> bool:
    """Equal GROUP BY results, up to row order and float rounding in the averages."""
    rows_a, rows_b = (sorted(zip(*(c.to_pylist() for c in t.columns), strict=True)) for t in (a, b))
    return len(rows_a) == len(rows_b) and all(
        x[:2] == y[:2] and math.isclose(x[2], y[2], rel_tol=1e-9)
        for x, y in zip(rows_a, rows_b, strict=True)
    )


# --- workspace ----------------------------------------------------------------------


@dataclass
class Workspace:
    """Temporary stores of one run; ``close`` closes them and removes the directory."""

    root: Path
    _lmdb: list[LmdbChunkStore] = field(default_factory=list)
    _duck: list[duckdb.DuckDBPyConnection] = field(default_factory=list)
    _serial: int = 0

    def path(self, stem: str) -> Path:
        self._serial += 1
        return self.root / f"{stem}-{self._serial}"

    def lmdb(self) -> LmdbChunkStore:
        store = LmdbChunkStore(self.path("lmdb"))
        self._lmdb.append(store)
        return store

    def duck(self, path: Path | None = None) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(path) if path else ":memory:")
        self._duck.append(con)
        return con

    def close(self) -> None:
        for con in self._duck:
            con.close()
        for store in self._lmdb:
            store.close()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Report:
    metrics: list[Metric] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- ArborDB operations (the timed parts) -------------------------------------------


@dataclass
class Written:
    """What one persisted operation wrote, and the seconds each of its phases took."""

    chunks: int
    chunk_bytes: int
    phases: dict[str, float]


def persist_build(store: LmdbChunkStore, table: pa.Table) -> tuple[ProllyTree, Written]:
    """Encode keys, build into a write buffer, flush it to LMDB in one transaction."""
    t0 = time.perf_counter()
    keys = encode_keys([table["id"]], KEY_TYPES)
    t1 = time.perf_counter()
    buffered = BufferedChunkStore(store)
    columns = [table["label"], table["score"]]
    tree = ProllyTree.build(NodeStore(buffered), keys, columns, VALUE_TYPES)
    t2 = time.perf_counter()
    chunks, chunk_bytes = buffered.pending_count, buffered.pending_bytes
    buffered.flush()
    t3 = time.perf_counter()
    phases = {"encode keys": t1 - t0, "ProllyTree.build": t2 - t1, "flush": t3 - t2}
    return tree, Written(chunks, chunk_bytes, phases)


def persist_edit(
    tree: ProllyTree, buffered: BufferedChunkStore, changes: pa.Table
) -> tuple[ProllyTree, Written]:
    """Apply ``changes`` to ``tree`` (whose nodes write to ``buffered``) and flush."""
    t0 = time.perf_counter()
    keys = encode_keys([changes["id"]], KEY_TYPES)
    new = tree.edit(keys, [changes["label"], changes["score"]])
    t1 = time.perf_counter()
    chunks, chunk_bytes = buffered.pending_count, buffered.pending_bytes
    buffered.flush()
    t2 = time.perf_counter()
    return new, Written(chunks, chunk_bytes, {"encode keys + edit": t1 - t0, "flush": t2 - t1})


def phases(result: tuple[ProllyTree, Written]) -> dict[str, float]:
    return result[1].phases


def phase_metrics(runs: Runs) -> list[Metric]:
    """One row per phase of a timed ``persist_*`` call (timed with ``summary_a=phases``)."""
    return [
        metric(f"  of which {name}", Runs([s[name] for s in runs.summaries]))
        for name in runs.summaries[-1]
    ]


def cold_diff(store: LmdbChunkStore, old: bytes, new: bytes) -> TreeDiff:
    """Rows changed between two roots, read through a fresh node store."""
    nodes = NodeStore(store)
    return ProllyTree(nodes, old, VALUE_TYPES).diff(ProllyTree(nodes, new, VALUE_TYPES))


def check_diff(diff: TreeDiff, changes: pa.Table) -> None:
    """The diff holds exactly the changed ids, each as modified, with the new values."""
    (ids,) = decode_keys(diff.keys, KEY_TYPES)
    check(
        ids.equals(changes["id"].combine_chunks()),
        f"diff found {len(diff):,} changed rows, expected the {changes.num_rows:,} changed ids",
    )
    check(bool((diff.kinds == MODIFIED).all()), "diff reports upserts of existing ids as added")
    check(
        diff.to_columns[0].equals(changes["label"].combine_chunks()),
        "diff's new labels differ from the upserted ones",
    )


def lookup_all(tree: ProllyTree, ids: list[int]) -> list[tuple | None]:
    return [tree.get(encode_key([i], KEY_TYPES)) for i in ids]


# --- the workloads ------------------------------------------------------------------


def bench_build(
    ws: Workspace, table: pa.Table, runs: int, report: Report
) -> tuple[LmdbChunkStore, ProllyTree, duckdb.DuckDBPyConnection]:
    """Build + persist; returns the last store and tree, and the last DuckDB database."""
    stores: list[LmdbChunkStore] = []
    duck_cons: list[duckdb.DuckDBPyConnection] = []

    def ours_setup(_: int) -> LmdbChunkStore:
        stores.append(ws.lmdb())
        return stores[-1]

    duck_paths: list[Path] = []

    def duck_setup(_: int) -> duckdb.DuckDBPyConnection:
        if duck_cons:
            duck_cons[-1].close()  # only the last database is used afterwards
        duck_paths.append(ws.path("duck").with_suffix(".db"))
        con = ws.duck(duck_paths[-1])
        con.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)")
        con.register("src", table)
        duck_cons.append(con)
        return con

    ours, theirs = time_pair(
        lambda store: persist_build(store, table),
        lambda con: con.execute("INSERT INTO t SELECT * FROM src"),
        runs,
        ours_setup,
        duck_setup,
        summary_a=phases,
    )
    tree, written = ours.result
    store = stores[-1]
    con = duck_cons[-1]
    check(
        tree_table(ProllyTree(NodeStore(store), tree.root, VALUE_TYPES)).equals(table),
        "a scan of the persisted tree differs from the table it was built from",
    )
    stats = store.stats()
    con.execute("CHECKPOINT")
    report.facts.update(
        chunks=written.chunks,
        chunk_bytes=written.chunk_bytes,
        lmdb_stored_bytes=stats["stored_bytes"],
        lmdb_file_bytes=stats["file_bytes"],
        tree_height=tree.height(),
        duckdb_file_bytes=duck_paths[-1].stat().st_size,
    )
    report.metrics.append(
        metric("build + persist", ours, "DuckDB table + PK, INSERT", theirs, target=TARGET_BUILD)
    )
    report.metrics += phase_metrics(ours)
    return store, tree, con


def bench_scan(
    store: LmdbChunkStore, root: bytes, table: pa.Table, runs: int, report: Report
) -> None:
    """Full scan + GROUP BY, cold and through a decoded-table cache, against plain Arrow."""
    plain_con, our_con = duckdb.connect(), duckdb.connect()
    try:
        expected = query(plain_con, table)  # also warms the plain side
        cold = query(our_con, tree_table(ProllyTree(NodeStore(store), root, VALUE_TYPES)))
        check(same_groups(cold, expected), "GROUP BY over the scan differs from plain Arrow")

        def ours_cold(nodes: NodeStore) -> pa.Table:
            return query(our_con, tree_table(ProllyTree(nodes, root, VALUE_TYPES)))

        def plain(_: Any) -> pa.Table:
            return plain_con.sql(QUERY).to_arrow_table()

        ours, theirs = time_pair(ours_cold, plain, runs, lambda _: NodeStore(store))
        report.metrics.append(
            metric(
                "scan + GROUP BY, cold",
                ours,
                "same query on the Arrow table",
                theirs,
                target=TARGET_SCAN_COLD,
                target_on="ratio",
            )
        )
        scan_only = time_runs(
            lambda nodes: tree_table(ProllyTree(nodes, root, VALUE_TYPES)),
            runs,
            lambda _: NodeStore(store),
        )
        report.metrics.append(metric("  of which scan to Arrow (cold)", scan_only))

        cache = {root: tree_table(ProllyTree(NodeStore(store), root, VALUE_TYPES))}
        ours, theirs = time_pair(lambda _: query(our_con, cache[root]), plain, runs)
        report.metrics.append(
            metric(
                "scan + GROUP BY, cached table",
                ours,
                "same query on the Arrow table",
                theirs,
                target=TARGET_SCAN_CACHED,
                target_on="ratio",
            )
        )
    finally:
        plain_con.close()
        our_con.close()


def bench_edits(
    ws: Workspace,
    store: LmdbChunkStore,
    base: ProllyTree,
    table: pa.Table,
    duck_con: duckdb.DuckDBPyConnection,
    runs: int,
    report: Report,
) -> None:
    """Scattered upserts + persist, then diffs after a small and a large batch of changes."""
    rows = table.num_rows
    small = min(SMALL_EDIT, max(1, rows // 20))
    large = min(LARGE_EDIT, max(1, rows // 10))
    buffered = BufferedChunkStore(store)
    nodes = NodeStore(buffered)
    tree = ProllyTree(nodes, base.root, VALUE_TYPES)

    def duck_setup(i: int) -> None:
        duck_con.register("upd", make_changes(rows, small, seed=2_000 + i))

    ours, theirs = time_pair(
        lambda changes: persist_edit(tree, buffered, changes),
        lambda _: duck_con.execute("INSERT OR REPLACE INTO t SELECT * FROM upd"),
        runs,
        lambda i: make_changes(rows, small, seed=1_000 + i),
        duck_setup,
        summary_a=phases,
    )
    report.metrics.append(
        metric(
            f"{small:,} upserts + persist",
            ours,
            "DuckDB INSERT OR REPLACE",
            theirs,
            target=TARGET_UPSERTS,
        )
    )
    report.metrics += phase_metrics(ours)

    # One more batch, outside the timing, to count what it writes and to diff against.
    changes = make_changes(rows, small, seed=3_000)
    before = store.stats()
    edited, written = persist_edit(tree, buffered, changes)
    after = store.stats()
    report.facts.update(
        upsert_rows=small,
        upsert_chunks_written=written.chunks,
        upsert_chunk_bytes=written.chunk_bytes,
        upsert_lmdb_stored_growth=after["stored_bytes"] - before["stored_bytes"],
        upsert_lmdb_file_growth=after["file_bytes"] - before["file_bytes"],
    )
    _bench_diff(store, base.root, edited.root, table, changes, runs, TARGET_DIFF_SMALL, report)

    changes = make_changes(rows, large, seed=4_000)
    edited, _ = persist_edit(tree, buffered, changes)
    _bench_diff(store, base.root, edited.root, table, changes, runs, TARGET_DIFF_LARGE, report)


def _bench_diff(
    store: LmdbChunkStore,
    old: bytes,
    new: bytes,
    table: pa.Table,
    changes: pa.Table,
    runs: int,
    target: float,
    report: Report,
) -> None:
    con = duckdb.connect()
    try:
        con.register("a", table)
        con.register("b", apply_changes(table, changes))
        ours, theirs = time_pair(
            lambda _: cold_diff(store, old, new),
            lambda _: con.sql(DIFF_QUERY).to_arrow_table(),
            runs,
        )
    finally:
        con.close()
    n = changes.num_rows
    check_diff(ours.result, changes)
    check(theirs.result.num_rows == n, f"DuckDB diff found {theirs.result.num_rows}, expected {n}")
    report.metrics.append(
        metric(
            f"diff after {n:,} changes",
            ours,
            "DuckDB FULL JOIN of both versions",
            theirs,
            target=target,
        )
    )


def bench_lookups(
    ws: Workspace, store: LmdbChunkStore, root: bytes, table: pa.Table, runs: int, report: Report
) -> None:
    """Point lookups: warm (leaves cached) and cold-ish (fresh node store, random keys)."""
    rows = table.num_rows
    db_path = ws.path("sqlite").with_suffix(".db")
    with sqlite3.connect(db_path) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT, score REAL)")
        con.executemany(
            "INSERT INTO t VALUES (?, ?, ?)",
            zip(
                table["id"].to_pylist(),
                table["label"].to_pylist(),
                table["score"].to_pylist(),
                strict=True,
            ),
        )
    con.close()
    rng = np.random.default_rng(7)
    warm_ids = rng.choice(rows, size=min(WARM_KEYS, rows), replace=False).tolist() * WARM_REPEAT
    sql = "SELECT label, score FROM t WHERE id = ?"

    def sqlite_lookups(ids: list[int], con: sqlite3.Connection) -> list[tuple | None]:
        return [con.execute(sql, (i,)).fetchone() for i in ids]

    warm_tree = ProllyTree(NodeStore(store), root, VALUE_TYPES)
    warm_con = sqlite3.connect(db_path)
    try:
        ours_rows = lookup_all(warm_tree, warm_ids)
        check(ours_rows == sqlite_lookups(warm_ids, warm_con), "lookups disagree with SQLite")
        ours, theirs = time_pair(
            lambda _: lookup_all(warm_tree, warm_ids),
            lambda _: sqlite_lookups(warm_ids, warm_con),
            runs,
        )
    finally:
        warm_con.close()
    report.metrics.append(
        metric(
            "point lookup, warm",
            ours,
            "SQLite by rowid, warm",
            theirs,
            per=len(warm_ids),
            target=TARGET_LOOKUP,
        )
    )

    cold_ids = [
        rng.choice(rows, size=min(COLD_KEYS, rows), replace=False).tolist() for _ in range(runs)
    ]
    connections: list[sqlite3.Connection] = []

    def sqlite_setup(i: int) -> tuple[list[int], sqlite3.Connection]:
        connections.append(sqlite3.connect(db_path))
        return cold_ids[i], connections[-1]

    try:
        ours, theirs = time_pair(
            lambda arg: lookup_all(*arg),
            lambda arg: sqlite_lookups(*arg),
            runs,
            lambda i: (ProllyTree(NodeStore(store), root, VALUE_TYPES), cold_ids[i]),
            sqlite_setup,
        )
    finally:
        for con in connections:
            con.close()
    report.metrics.append(
        metric(
            "point lookup, cold-ish",
            ours,
            "SQLite by rowid, new connection",
            theirs,
            per=len(cold_ids[0]),
            target=TARGET_LOOKUP,
        )
    )


# --- the prollytree package ---------------------------------------------------------


def _kv_items(table: pa.Table) -> list[tuple[bytes, bytes]]:
    """Rows as (8-byte big-endian id, label bytes + 8-byte score) pairs for ``prollytree``."""
    pack = struct.Struct(">d").pack
    return [
        (i.to_bytes(8, "big"), label.encode() + pack(score))
        for i, label, score in zip(
            table["id"].to_pylist(),
            table["label"].to_pylist(),
            table["score"].to_pylist(),
            strict=True,
        )
    ]


def bench_prollytree(ws: Workspace, keys: int, runs: int, report: Report) -> None:
    """Build, 1% update and diff at ``keys`` keys: ArborDB against PyPI ``prollytree``."""
    try:
        import prollytree
    except ImportError:
        report.notes.append("prollytree is not installed: `pip install prollytree` to compare.")
        return
    table = make_table(keys, seed=1)
    items = _kv_items(table)
    report.notes.append(
        f"prollytree {prollytree.__version__} is handed ready (key, value) byte pairs, rows "
        "packed as label + 8-byte score (that conversion from Arrow is not timed); its "
        "update is `insert_batch` of the changed pairs (an upsert; one `update` call per "
        "key costs milliseconds). ArborDB's figures start from Arrow and end with an "
        "fsynced LMDB commit."
    )
    n_changes = max(1, keys // 100)
    change_sets = [make_changes(keys, n_changes, seed=5_000 + i) for i in range(runs)]
    change_items = [_kv_items(c) for c in change_sets]

    def pt_file(_: int) -> Any:
        return prollytree.ProllyTree("file", str(ws.path("prolly")))

    stores: list[LmdbChunkStore] = []

    def ours_setup(_: int) -> LmdbChunkStore:
        stores.append(ws.lmdb())
        return stores[-1]

    ours_build, theirs = time_pair(
        lambda store: persist_build(store, table),
        lambda t: t.insert_batch(items),
        runs,
        ours_setup,
        pt_file,
    )
    report.metrics.append(
        metric(f"build {keys:,} keys", ours_build, "prollytree, file store", theirs)
    )
    theirs = time_runs(lambda t: t.insert_batch(items), runs, lambda _: prollytree.ProllyTree())
    report.metrics.append(
        metric(f"build {keys:,} keys", ours_build, "prollytree, memory store", theirs)
    )

    store = stores[-1]
    buffered = BufferedChunkStore(store)
    base = ProllyTree(NodeStore(buffered), ours_build.result[0].root, VALUE_TYPES)

    def pt_base(i: int) -> tuple[Any, list[tuple[bytes, bytes]]]:
        tree = pt_file(i)
        tree.insert_batch(items)
        return tree, change_items[i]

    ours, theirs = time_pair(
        lambda changes: persist_edit(base, buffered, changes),
        lambda arg: arg[0].insert_batch(arg[1]),
        runs,
        lambda i: change_sets[i],
        pt_base,
    )
    report.metrics.append(
        metric(
            f"update 1% ({n_changes:,} rows) + persist",
            ours,
            "prollytree insert_batch, file store",
            theirs,
        )
    )
    new_root = ours.result[0].root

    # ProllyTree.diff: check what it returns before timing anything against it.
    a, b = prollytree.ProllyTree(), prollytree.ProllyTree()
    a.insert_batch(items)
    b.insert_batch(items)
    b.insert_batch(change_items[-1])
    found = sum(len(v) for v in a.diff(b).values())
    if found != n_changes:
        report.notes.append(
            f"prollytree {prollytree.__version__}: `ProllyTree.diff` returned {found} of "
            f"{n_changes:,} changed keys (its stub says it 'currently returns empty results'); "
            "the diff comparison uses `VersionedKvStore.diff` between two commits instead."
        )
    theirs_diff, why = _kv_diff(ws, prollytree, items, change_items[-1], runs)
    ours = time_runs(lambda _: cold_diff(store, base.root, new_root), runs)
    check_diff(ours.result, change_sets[-1])
    if theirs_diff is None:
        report.notes.append(f"prollytree diff not measured: {why}")
        report.metrics.append(metric(f"diff after 1% ({n_changes:,} rows)", ours))
    else:
        report.metrics.append(
            metric(
                f"diff after 1% ({n_changes:,} rows)",
                ours,
                "prollytree VersionedKvStore.diff",
                theirs_diff,
            )
        )


def _kv_diff(
    ws: Workspace,
    prollytree: Any,
    items: list[tuple[bytes, bytes]],
    changes: list[tuple[bytes, bytes]],
    runs: int,
) -> tuple[Runs | None, str]:
    """Time ``VersionedKvStore.diff`` between a loaded commit and one with ``changes``.

    The store insists on living inside a git repository, so one is made in the workspace.
    """
    repo = ws.path("kv-repo")
    repo.mkdir()
    try:
        for args in (
            ["init", "-q"],
            ["config", "user.name", "bench"],
            ["config", "user.email", "bench@localhost"],
        ):
            subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
        kv = prollytree.VersionedKvStore(str(repo / "kv"), prollytree.StorageBackend.InMemory)
        for start in range(0, len(items), KV_COMMIT_EVERY):
            for key, value in items[start : start + KV_COMMIT_EVERY]:
                kv.insert(key, value)
            first = kv.commit("load")
        for key, value in changes:
            kv.insert(key, value)
        second = kv.commit("update")
        runs_ = time_runs(lambda _: kv.diff(first, second), runs)
    except (OSError, subprocess.CalledProcessError, ValueError, RuntimeError) as exc:
        return None, f"VersionedKvStore failed: {exc}"
    if len(runs_.result) != len(changes):
        return None, f"VersionedKvStore.diff returned {len(runs_.result)} of {len(changes)} changes"
    return runs_, ""


# --- driver -------------------------------------------------------------------------


def run(
    rows: int = 1_000_000,
    runs: int = 7,
    compare_keys: int = 100_000,
    results_path: Path | None = RESULTS_PATH,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], list[Metric]]:
    """Run every workload; write the results section unless ``results_path`` is None.

    Returns:
        The JSON payload (``machine``, ``config``, ``metrics``, ``facts``, ``notes``)
        and the metrics it was made from.
    """
    info = machine()
    ws = Workspace(Path(tempfile.mkdtemp(prefix="arbordb-bench-", dir=workdir)))
    report = Report()
    try:
        table = make_table(rows)
        store, tree, duck_con = bench_build(ws, table, runs, report)
        bench_scan(store, tree.root, table, runs, report)
        bench_edits(ws, store, tree, table, duck_con, runs, report)
        bench_lookups(ws, store, tree.root, table, runs, report)
        bench_prollytree(ws, min(compare_keys, rows), runs, report)
    finally:
        ws.close()
    info["load_avg_1m_end"] = load_average()
    report.notes += [m.miss() for m in report.metrics if m.miss()]
    payload = {
        "benchmark": "storage",
        "machine": info,
        "config": {"rows": rows, "runs": runs, "compare_keys": min(compare_keys, rows)},
        "metrics": [m.to_json() for m in report.metrics],
        "facts": report.facts,
        "notes": report.notes,
    }
    if results_path is not None:
        write_section(results_path, "storage", results_markdown(info, report, rows, runs))
    return payload, report.metrics


def results_markdown(info: dict[str, Any], report: Report, rows: int, runs: int) -> str:
    f = report.facts
    stored = [
        f"- built tree: {f['chunks']:,} chunks, {fmt_bytes(f['chunk_bytes'])} of chunk bytes, "
        f"height {f['tree_height']}; LMDB pages used {fmt_bytes(f['lmdb_stored_bytes'])}, "
        f"data.mdb {fmt_bytes(f['lmdb_file_bytes'])} (DuckDB file after CHECKPOINT: "
        f"{fmt_bytes(f['duckdb_file_bytes'])})",
        f"- one batch of {f['upsert_rows']:,} upserts wrote {f['upsert_chunks_written']:,} chunks, "
        f"{fmt_bytes(f['upsert_chunk_bytes'])}; LMDB pages grew by "
        f"{fmt_bytes(f['upsert_lmdb_stored_growth'])}, "
        f"data.mdb by {fmt_bytes(f['upsert_lmdb_file_growth'])}",
    ]
    notes = [f"- {n}" for n in report.notes] or ["- every target met"]
    return "\n".join(
        [
            f"## storage: `python -m bench.storage --rows {rows} --runs {runs}`",
            "",
            f"Machine: {machine_line(info)}.",
            "",
            markdown_table(report.metrics),
            "",
            "Stored bytes:",
            *stored,
            "",
            "Notes (targets missed, and what the comparisons could not do):",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("storage", __doc__, runs=7)
    parser.add_argument(
        "--compare-keys",
        type=int,
        default=100_000,
        help="size of the prollytree comparison (default 100,000)",
    )
    args = parser.parse_args(argv)
    emit(*run(args.rows, args.runs, args.compare_keys, results_path(args), args.workdir))


if __name__ == "__main__":
    main()
