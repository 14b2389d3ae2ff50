"""The versioning and SQL benchmarks run end to end at a small size (no speed asserted).

Each runs in a subprocess, as ``python -m bench.<name>``: doltlite has to replace the
SQLite library before anything imports ``sqlite3`` (bench/peers.py invariant (1)), and
this test process may already have imported it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import common

ROOT = Path(__file__).resolve().parent.parent
OTHER = "<!-- bench:other -->\nkept\n<!-- /bench:other -->"

EXPECTED = {
    "versioning": (
        [],
        [
            "branch create",
            "branch create, SQL CALL dolt_branch",
            "1,000 updates + commit, engine, Workspace upsert + commit",
            "1,000 updates + commit, SQL UPDATE ... WHERE id IN (...)",
            "1,000 updates + commit, SQL executemany UPDATE ... WHERE id = ?",
            "diff, commits 1,000 rows apart (Arrow rows)",
            "merge, 1,000 + 1,000 disjoint changed rows",
            "1% (200 rows) updates + commit",
        ],
    ),
    "sql": (
        ["--lookups", "200"],
        [
            "GROUP BY at HEAD, warm",
            "GROUP BY AS OF 'HEAD~10', warm",
            "GROUP BY AS OF 'HEAD~9', first query",
            "point SELECT * WHERE id = ?, p50",
            "SELECT count(*) FROM dolt_diff(...), 1,000 rows",
            "executemany INSERT 20,000 rows + commit",
            "20,000 rows from Parquet + dolt_commit",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_runs_and_writes_only_the_given_results_file(name, tmp_path):
    real_results = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER + "\n" + OTHER + "\n")
    extra, metrics = EXPECTED[name]
    env = {k: v for k, v in os.environ.items() if k != "_DOLTLITE_BOOTSTRAPPED"}

    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--rows", "20000", "--runs", "1", *extra]
        + ["--results", str(results), "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(done.stdout)
    assert payload["benchmark"] == name and payload["config"]["rows"] == 20_000
    names = [m["name"] for m in payload["metrics"]]
    assert set(metrics) <= set(names)
    for m in payload["metrics"]:
        assert m["median_s"] > 0 and m["comparison_median_s"] > 0
        assert m["met"] in (True, False, None)
    assert payload["machine"]["doltlite"]
    assert "metric" in done.stderr  # the text table
    if name == "versioning":
        growth = payload["facts"]["growth"]
        assert growth["rows_per_commit"] == 200 and growth["doltlite_file_bytes"] > 0
        assert growth["arbordb_new_chunks"] > 0 and growth["arbordb_new_chunk_bytes"] > 0

    text = results.read_text()
    assert f"<!-- bench:{name} -->" in text and f"| {metrics[0]} |" in text
    assert OTHER in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
    now = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    assert now == real_results
