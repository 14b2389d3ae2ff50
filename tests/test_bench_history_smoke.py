"""The long-history benchmark runs end to end at a small size (no speed asserted).

It runs in a subprocess, as ``python -m bench.history``: doltlite has to replace the
SQLite library before anything imports ``sqlite3`` (bench/peers.py invariant (1)).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent
OTHER = "<!-- bench:other -->\nkept\n<!-- /bench:other -->"
SYSTAB = [  # bench.history's queries (not imported: it loads doltlite, see above)
    "dolt_diff_xy, to_commit filter",
    "dolt_diff, commit filter",
    "dolt_history_xy count, commit filter",
    "dolt_log, commit filter",
    "dolt_commits, commit filter",
    "dolt_commit_ancestors, commit filter",
    "dolt_diff_xy join dolt_log",
]


def test_history_benchmark_runs_and_writes_only_the_given_results_file(tmp_path):
    real_results = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER + "\n" + OTHER + "\n")
    env = {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}
    sizes = ["--commits", "25", "--systab-commits", "6", "--rows", "5000", "--big-rows", "20000"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.history", *sizes, "--runs", "1"]
        + ["--results", str(results), "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    assert payload["benchmark"] == "history" and payload["config"]["commits"] == 25
    names = [m["name"] for m in payload["metrics"]]
    assert {f"systab: {q}" for q in SYSTAB} <= set(names)
    assert "one-row update, engine, 20,000 rows" in names
    for m in payload["metrics"]:
        assert m["median_s"] > 0
        assert m["met"] in (True, False, None)
    growth, memory = payload["facts"]["commit_growth"], payload["facts"]["history_memory"]
    assert growth["arbordb"] > 0 and growth["doltlite"] > 0
    assert memory["rows"] == 1_000 * 26  # the table at each commit that has it: load, 25 updates
    text = results.read_text()
    assert "<!-- bench:history -->" in text and "dolt_history_t` peak RSS growth" in text
    column = payload["facts"]["history_memory_column"]
    assert column["rows"] == memory["rows"] and "WHERE" in column["query"]
    assert OTHER in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
    now = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    assert now == real_results


def test_parts_runs_only_the_chosen_figures(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.history", "--parts", "systab", "--systab-commits", "4"]
        + ["--runs", "1", "--no-results", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    assert {m["name"] for m in payload["metrics"]} == {f"systab: {q}" for q in SYSTAB}
    assert payload["config"]["parts"] == "systab" and payload["facts"] == {}
