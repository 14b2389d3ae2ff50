"""Commits of 1% scattered updates whose labels keep their length, beside the same
commits with labels of varying length (8-12 characters, as real labels are), in the
same run: time and disk growth per commit. Target (issue 14): varying lengths within
1.5x of equal lengths, in time and in growth.

    python -m bench.label_lengths --rows 1000000 --runs 5
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import arbordb
from arbordb.engine.chunks.lmdb_store import LmdbChunkStore

from .common import (
    load_average,
    machine,
    machine_line,
    results_path,
    time_call,
    workload_parser,
    write_section,
)
from .storage import make_table

TARGET_RATIO = 1.5


def changes(rows: int, count: int, seed: int, varying: bool) -> pa.Table:
    """``count`` distinct existing ids with a new label (10 characters, or 8-12 when
    ``varying``) and score."""
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(rows, size=count, replace=False)).astype(np.int64)
    widths = rng.integers(8, 13, count) if varying else np.full(count, 10)
    labels = [f"n{i:011d}"[: int(w)] for i, w in enumerate(widths.tolist())]
    return pa.table(
        {"id": pa.array(ids), "label": pa.array(labels), "score": pa.array(rng.random(count))}
    )


def _commit(repo: arbordb.Repo, c: pa.Table) -> bytes:
    ws = repo.ws
    ws.put_table("t", ws.table("t").upsert(c))
    return ws.commit("1%", stage_all=True)


def measure(rows: int, runs: int, workdir: Path | None) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="arbor-labels-", dir=workdir))
    try:
        table = make_table(rows)
        repos = {}
        for kind in ("equal", "varying"):
            repo = arbordb.Repo(base / kind)
            repo.write("t", table, primary_key=["id"])
            repo.commit("load")
            repos[kind] = repo
        edit = max(1, rows // 100)
        got: dict[str, dict[str, list[float]]] = {
            k: {"s": [], "file": [], "pages": []} for k in repos
        }
        for i in range(runs):
            for kind, repo in repos.items():  # alternate: noise falls on both
                store = repo.db.store
                assert isinstance(store, LmdbChunkStore)
                c = changes(rows, edit, 90_000 + i, kind == "varying")
                before = store.stats()
                seconds, _ = time_call(lambda c, repo=repo: _commit(repo, c), c)
                store.compact()
                after = store.stats()
                got[kind]["s"].append(seconds)
                got[kind]["file"].append(after["file_bytes"] - before["file_bytes"])
                got[kind]["pages"].append(after["stored_bytes"] - before["stored_bytes"])
        for repo in repos.values():
            repo.close()
        return {
            "rows": rows,
            "edit": edit,
            "samples": got,
            "median": {k: {m: statistics.median(v) for m, v in g.items()} for k, g in got.items()},
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def markdown(info: dict, figures: dict, runs: int) -> str:
    med = figures["median"]
    eq, va = med["equal"], med["varying"]
    lines = [
        f"## label lengths: `python -m bench.label_lengths --rows {figures['rows']} --runs {runs}`",
        "",
        f"Machine: {machine_line(info)}.",
        "",
        f"Commits of 1% scattered updates ({figures['edit']:,} rows: new label and score) "
        "through the engine (upsert + commit), labels of 10 characters (equal length) "
        "beside labels of 8-12 characters (varying), alternately in one run; growth is "
        "of LMDB pages used (after compacting the journal) and of data.mdb; medians.",
        "",
        "| per commit | equal | varying | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, key, fmt in [
        ("time", "s", lambda v: f"{v * 1000:.0f} ms"),
        ("LMDB pages used", "pages", lambda v: f"{v / 2**20:.2f} MiB"),
        ("data.mdb growth", "file", lambda v: f"{v / 2**20:.2f} MiB"),
    ]:
        ratio = va[key] / eq[key] if eq[key] else float("inf") if va[key] else 1.0
        met = "yes" if ratio <= TARGET_RATIO else "NO"
        lines.append(
            f"| {name} | {fmt(eq[key])} | {fmt(va[key])} | {ratio:.2f}x "
            f"| <= {TARGET_RATIO}x | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("label_lengths", __doc__, runs=5)
    args = parser.parse_args(argv)
    info = machine()
    figures = measure(args.rows, args.runs, args.workdir)
    info["load_avg_1m_end"] = load_average()
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    path = results_path(args)
    text = markdown(info, figures, args.runs)
    print(text, file=sys.stderr)
    if path is not None:
        write_section(path, "label-lengths", text)


if __name__ == "__main__":
    main()
