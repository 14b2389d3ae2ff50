"""Garbage collection: ``Database.gc`` on a 1M-row table with 57 commits.

Builds the repository (1M rows, then 56 commits each updating 1% of the rows,
plus a branch of 5 commits that is then deleted: its chunks are the garbage),
then times, medians of ``--runs`` fresh runs each:

- gc with garbage to collect (the deleted branch), on a fresh copy of the store;
- gc again with nothing changed since the last gc;
- the mark alone, reading record headers for leaves (what gc does), beside the
  mark reading every chunk whole (rebuilding deltas), which gc did before.

Targets (issue 14): gc <= 3 s, and <= 1 s when nothing changed. Writes the
``gc`` section of bench/RESULTS.md.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from arbordb.engine.db import Database
from arbordb.engine.repo import Repo
from arbordb.engine.versioning.reach import mark

from .common import (
    emit,
    fmt_bytes,
    machine,
    machine_line,
    results_path,
    time_call,
    workload_parser,
    write_section,
)


def build(path: Path, rows: int, commits: int) -> None:
    rng = np.random.default_rng(7)
    repo = Repo(path)
    ids = np.arange(rows)
    labels = pa.array([f"label{i % 997}" for i in range(rows)])
    repo.write(
        "t", pa.table({"id": ids, "label": labels, "score": rng.random(rows)}), primary_key=["id"]
    )
    repo.commit("c0")

    def update(tag: str) -> None:
        pick = np.sort(rng.choice(rows, max(rows // 100, 1), replace=False))
        edit = pa.table({"id": pick, "label": [tag] * len(pick), "score": rng.random(len(pick))})
        repo.write("t", edit, mode="upsert")
        repo.commit(tag)

    for c in range(1, commits):
        update(f"c{c}")
    repo.checkout("scratch", create=True)
    for c in range(5):
        update(f"s{c}")
    repo.checkout("main")
    repo.delete_branch("scratch", force=True)
    repo.close()


def _mark_reading_whole_chunks(db: Database) -> set[bytes]:
    return mark(list(db.store.list_refs().values()), db.store.get_many)


def run(rows: int, commits: int, runs: int, workdir: Path | None) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="bench-gc-", dir=workdir))
    try:
        source = base / "source"
        build(source, rows, commits)
        first, again, mark_whole = [], [], []
        freed = {}
        for i in range(runs):
            copy = base / f"run{i}"
            shutil.copytree(source, copy)
            db = Database.open(copy, create=False)
            size_before = db.store.stats()["file_bytes"]
            seconds, freed = time_call(Database.gc, db)
            first.append(seconds)
            again.append(time_call(Database.gc, db)[0])
            mark_whole.append(time_call(_mark_reading_whole_chunks, db)[0])
            size_after = db.store.stats()["file_bytes"]
            db.close()
            shutil.rmtree(copy)
        return {
            "rows": rows,
            "commits": commits,
            "runs": runs,
            "gc_seconds": statistics.median(first),
            "gc_nothing_changed_seconds": statistics.median(again),
            "mark_reading_whole_chunks_seconds": statistics.median(mark_whole),
            "freed": freed,
            "file_bytes_before": size_before,
            "file_bytes_after": size_after,
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def markdown(info: dict[str, Any], r: dict[str, Any]) -> str:
    whole = r["mark_reading_whole_chunks_seconds"]
    ratio = r["gc_seconds"] / max(whole, 1e-9)
    return "\n".join(
        [
            f"## gc ({r['rows']:,} rows, {r['commits']} commits + a deleted 5-commit branch)",
            "",
            machine_line(info),
            "",
            f"Medians of {r['runs']} run(s), each on a fresh copy of the store. Comparison: "
            "the mark reading every chunk whole (rebuilding deltas), as gc did before, "
            "without its sweep.",
            "",
            "| figure | ArborDB | comparison | ratio | target |",
            "|---|---|---|---|---|",
            f"| gc, garbage to collect | {r['gc_seconds']:.2f} s | {whole:.2f} s | "
            f"{ratio:.2f} | <= 3 s |",
            "| gc, nothing written since the last | "
            f"{r['gc_nothing_changed_seconds'] * 1e3:.2f} ms "
            "| | | <= 1 s |",
            "",
            f"Freed: {r['freed'].get('deleted', 0):,} chunks, "
            f"{fmt_bytes(r['freed'].get('freed_bytes', 0))} of records; kept "
            f"{r['freed'].get('kept', 0):,}. data.mdb: {fmt_bytes(r['file_bytes_before'])} before, "
            f"{fmt_bytes(r['file_bytes_after'])} after (gc rewrites it compacted when no other "
            "handle or process has it open).",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("gc", __doc__, runs=3)
    parser.add_argument("--commits", type=int, default=57, help="commits on main (default 57)")
    args = parser.parse_args(argv)
    info = machine()
    result = run(args.rows, args.commits, args.runs, args.workdir)
    path = results_path(args)
    if path is not None:
        write_section(path, "gc", markdown(info, result))
    emit({"machine": info, **result}, [])


if __name__ == "__main__":
    main()
