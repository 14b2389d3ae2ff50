"""The scale benchmark runs end to end at a small size, only the parts asked for with
``--parts`` (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import common

ROOT = Path(__file__).resolve().parent.parent


def test_scale_runs_only_the_parts_asked_for(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--rows", "3000", "--shape", "llm", "--runs", "1"]
        + ["--parts", "filter", "--results", str(results), "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (figures,) = json.loads(done.stdout[done.stdout.index("[") :])
    assert "filter" in figures and "GROUP BY" not in figures and "LIMIT 10" not in figures
    assert set(figures["loads"]) == {"arbordb", "duckdb"}  # no INSERT or import loads
    section = results.read_text()
    assert "--parts filter" in section and "filter cold" in section
    assert "GROUP BY cold" not in section and "arbor table import" not in section
