"""bench.surfaces runs end to end at a small size (no speed asserted).

It runs in a subprocess, as ``python -m bench.surfaces``: doltlite has to replace the
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

FIGURES = [
    "CALL dolt_branch, warm",
    "CALL dolt_tag, warm",
    "CALL dolt_checkout, warm",
    "point SELECT * WHERE id = ?, execute + fetchone, p50 (equal labels)",
    "point SELECT * WHERE id = ?, execute + fetchone, p50, leaves cached (varying labels)",
    "single-row UPDATE by key, before commit (varying labels)",
    "250 updates + commit, executemany WHERE id = ? (equal labels)",
    "250 updates + commit, WHERE id IN (...) (varying labels)",
    "CALL dolt_merge, 250 + 250 disjoint rows, warm (varying labels)",
    "branch, cold (first call in a new process)",
    "select, cold (first call in a new process)",
    "CALL dolt_merge, cold (first call in a new process)",
    "arbor checkout (whole command)",
    "arbor merge (whole command)",
    "arbor log -n 5 (whole command)",
    "arbor status (whole command)",
    "arbor commit --allow-empty (whole command)",
]


def test_surfaces_runs_and_writes_only_the_given_results_file(tmp_path):
    real_results = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER + "\n" + OTHER + "\n")
    env = {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}

    done = subprocess.run(
        [sys.executable, "-m", "bench.surfaces", "--rows", "5000", "--runs", "1"]
        + ["--single", "10", "--lookups", "20"]
        + ["--results", str(results), "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    assert payload["benchmark"] == "surfaces" and payload["config"]["rows"] == 5_000
    names = [m["name"] for m in payload["metrics"]]
    assert set(FIGURES) <= set(names), set(FIGURES) - set(names)
    for m in payload["metrics"]:
        assert m["median_s"] > 0 and m["comparison_median_s"] > 0, m["name"]
        assert m["met"] in (True, False, None)
    assert len(payload["facts"]["varying"]) == 6  # one ratio per figure with both kinds
    assert "metric" in done.stderr  # the text table

    text = results.read_text()
    assert "<!-- bench:surfaces -->" in text and "| CALL dolt_branch, warm |" in text
    assert OTHER in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
    now = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    assert now == real_results
