"""The label-lengths benchmark and scale's load and disk rows run end to end at a
small size (no speed asserted)."""

from __future__ import annotations

import json

from bench import common, label_lengths, loads, scale


def test_label_lengths_benchmark_runs_and_writes_its_section(tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER)
    label_lengths.main(
        ["--rows", "20000", "--runs", "1", "--results", str(results), "--workdir", str(tmp_path)]
    )
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["median"]) == {"equal", "varying"}
    assert payload["median"]["varying"]["pages"] > 0
    assert "<!-- bench:label-lengths -->" in results.read_text()


def test_scale_load_and_disk_rows_come_from_a_streamed_load(tmp_path):
    table, _, figures = scale.run(3000, "bench", 1, tmp_path)
    names = [row[0] for row in table]
    assert names[:6] == [
        "load time",
        "load peak memory",
        "load peak memory (DuckDB)",
        "disk after load",
        "disk after load (vs DuckDB)",
        "disk after load (DuckDB)",
    ]
    assert figures["disk"]["arbordb"] > 0 and figures["parquet_bytes"] > 0


def test_scale_and_loads_measure_every_load_path(tmp_path, capsys):
    table, _, figures = scale.run(3000, "bench", 1, tmp_path)
    names = [row[0] for row in table]
    for label in ("INSERT ... SELECT read_parquet", "arbor table import"):
        assert f"load time ({label})" in names and f"load peak memory ({label})" in names
    assert set(figures["loads"]) == {"arbordb", "duckdb", "arbordb insert", "arbordb import"}
    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER)
    loads.main(
        [
            "--sizes",
            "2000,4000",
            "--runs",
            "1",
            "--results",
            str(results),
            "--workdir",
            str(tmp_path),
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert [f["rows"] for f in payload] == [2000, 4000]
    assert set(payload[0]["cpu"]) == {"arbordb", "duckdb", "arbordb insert", "arbordb import"}
    text = results.read_text()
    assert "<!-- bench:loads-bench -->" in text and "load time (arbor table import)" in text
