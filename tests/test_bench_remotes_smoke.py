"""The remotes benchmark runs end to end at a small size, folders only (no speed asserted).

It runs as ``python -m bench.remotes`` in a subprocess: doltlite has to replace the
SQLite library before anything imports ``sqlite3`` (bench/peers.py invariant (1)).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent


def test_remotes_benchmark_runs_and_writes_its_section(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(
        common.RESULTS_HEADER + "\n<!-- bench:other -->\nkept\n<!-- /bench:other -->\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench.remotes", "--rows", "5000", "--runs", "1", "--no-s3"]
        + ["--results", str(results), "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [m["name"] for m in payload["metrics"]] == [
        "full push (file://)", "clone (file://)", "push of a 1% update",
        "pull of it (fetch + merge)",
    ]  # fmt: skip
    assert all(m["median_s"] > 0 and m["comparison_median_s"] > 0 for m in payload["metrics"])
    grown = payload["bytes"]["remote growth per 1% push (= what the pull reads)"]
    assert 0 < grown["arbordb"] < payload["bytes"]["remote after the full push"]["arbordb"]
    text = results.read_text()
    assert "<!-- bench:remotes -->" in text and "kept" in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
