"""Loads at scale, without the queries of ``bench.scale``: Repo.write, INSERT ... SELECT
from read_parquet, ``arbor table import`` and DuckDB's CREATE TABLE AS SELECT from the
same Parquet file, each in a new process, in the same run; the median of ``--runs``
runs per figure (the engines alternate run by run, so a busy machine's noise falls on
all). Time, peak memory (growth of anonymous RSS) and disk, as ``bench.scale`` measures
them, and how each grows from the smallest size to the largest.

    python -m bench.loads --sizes 1000000,4000000 --shape bench --runs 3
    python -m bench.loads --rows 100000 --shape llm --runs 1 --no-results   # quick look
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import fmt_seconds, load_average, machine, results_path, write_section
from .common import workload_parser as _parser
from .scale import (
    LOAD,
    TARGET_DISK,
    TARGET_IMPORT_TIME,
    TARGET_LOAD_RSS,
    TARGET_LOAD_TIME,
    _dir_bytes,
    _print_table,
    measure_load,
    mib,
    sized_markdown,
    write_input,
)

LABELS = {
    "arbordb": "Repo.write",
    "arbordb insert": "INSERT ... SELECT read_parquet",
    "arbordb import": "arbor table import",
}


def run(rows: int, shape: str, runs: int, workdir: Path | None) -> tuple[list, list, dict]:
    base = Path(tempfile.mkdtemp(prefix="arbor-loads-", dir=workdir))
    try:
        parquet, arrow_bytes = write_input(base, rows, shape)
        got: dict[str, list[dict[str, Any]]] = {e: [] for e in LOAD}
        disk: dict[str, int] = {}
        for _ in range(runs):
            for engine in LOAD:
                store = base / engine.replace(" ", "-")
                got[engine].append(measure_load(engine, store, parquet))
                disk[engine] = _dir_bytes(store)
                if store.is_dir():
                    shutil.rmtree(store)
                else:
                    store.unlink()
        seconds = {e: statistics.median(r["s"] for r in rs) for e, rs in got.items()}
        grew = {e: statistics.median(r["grew"] for r in rs) for e, rs in got.items()}
        cpu = {e: statistics.median(r["cpu"] for r in rs) for e, rs in got.items()}
        table: list[list[str]] = []
        misses: list[str] = []

        def row(name, ours, theirs, label, target=None, fmt=fmt_seconds):
            r = ours / theirs if theirs else None
            met = "-" if target is None else ("yes" if r is not None and r <= target else "NO")
            shown = "-" if target is None else f"<= {target:g}x"
            ratio = f"{r:.2f}x" if r else "-"
            table.append([name, fmt(ours), f"{fmt(theirs)} ({label})", ratio, shown, met])
            if met == "NO":
                misses.append(f"{name}: {fmt(ours)} vs {fmt(theirs)} ({label}), target {shown}")

        for engine, label in LABELS.items():
            row(
                f"load time ({label})",
                seconds[engine],
                seconds["duckdb"],
                "DuckDB table",
                TARGET_LOAD_TIME,
            )
        row(
            "load time (arbor table import)",
            seconds["arbordb import"],
            seconds["arbordb"],
            "Repo.write",
            TARGET_IMPORT_TIME,
        )
        for engine, label in LABELS.items():  # CPU seconds of every thread: less noisy
            row(f"load CPU time ({label})", cpu[engine], cpu["duckdb"], "DuckDB table")
        for engine, label in LABELS.items():
            row(
                f"load peak memory ({label})",
                grew[engine],
                arrow_bytes,
                "input's Arrow size",
                TARGET_LOAD_RSS,
                fmt=mib,
            )
        row("load peak memory (DuckDB)", grew["duckdb"], arrow_bytes, "input's Arrow size", fmt=mib)
        size = parquet.stat().st_size
        row(
            "disk after load (Repo.write)",
            disk["arbordb"],
            size,
            "Parquet file",
            TARGET_DISK,
            fmt=mib,
        )
        row("disk after load (DuckDB)", disk["duckdb"], size, "Parquet file", fmt=mib)
        figures = {
            "rows": rows,
            "arrow_bytes": arrow_bytes,
            "s": seconds,
            "cpu": cpu,
            "grew": grew,
            "disk": disk,
            "parquet_bytes": size,
        }
        return table, misses, figures
    finally:
        shutil.rmtree(base, ignore_errors=True)


def growth(figures: list[dict]) -> list[list[str]]:
    small, large = figures[0], figures[-1]
    out = []
    for engine, label in {**LABELS, "duckdb": "DuckDB table"}.items():
        for kind, name, fmt in (
            ("s", "load time", fmt_seconds),
            ("cpu", "load CPU time", fmt_seconds),
            ("grew", "peak memory", mib),
        ):
            a, b = small[kind][engine], large[kind][engine]
            out.append([f"{name} ({label})", fmt(a), fmt(b), f"{b / a:.2f}x" if a else "-"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = _parser("loads", __doc__, runs=3)
    parser.add_argument("--shape", choices=("bench", "llm"), default="bench")
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted(int(n) for n in text.split(",")),
        default=None,
        help="comma-separated table sizes (overrides --rows)",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or [args.rows]
    info = machine()
    tables, misses, figures = [], [], []
    for rows in sizes:
        table, missed, figure = run(rows, args.shape, args.runs, args.workdir)
        tables.append(table)
        misses += [f"{rows:,} rows: {m}" for m in missed]
        figures.append(figure)
        _print_table(table, f"{rows:,} rows")
    grown = growth(figures) if len(sizes) > 1 else []
    if grown:
        _print_table(grown, f"growth from {sizes[0]:,} to {sizes[-1]:,} rows")
    info["load_avg_1m_end"] = load_average()
    json.dump(figures, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    path = results_path(args)
    if path is None:
        return
    shown = ",".join(str(n) for n in sizes)
    flag = f"--rows {shown}" if len(sizes) == 1 else f"--sizes {shown}"
    text = sized_markdown(
        f"loads ({args.shape}): `python -m bench.loads {flag} --shape {args.shape} "
        f"--runs {args.runs}`",
        "Each load is a new process reading the same Parquet file; modules are imported "
        "before the clock starts (as `import duckdb` is). Medians of the runs; memory = "
        "growth of anonymous RSS during the load.",
        info,
        sizes,
        tables,
        misses,
        grown,
        ["figure", "smallest", "largest", "growth"],
    )
    write_section(path, f"loads-{args.shape}", text)


if __name__ == "__main__":
    main()
