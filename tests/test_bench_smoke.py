"""The storage benchmark's harness runs end to end at a small size (no speed asserted)."""

from __future__ import annotations

import json

import pytest

from bench import common, storage


def test_storage_benchmark_runs_and_writes_only_the_given_results_file(tmp_path, capsys):
    real_results = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    results = tmp_path / "RESULTS.md"
    results.write_text(
        common.RESULTS_HEADER + "\n<!-- bench:other -->\nkept\n<!-- /bench:other -->\n"
    )

    storage.main(
        ["--rows", "20000", "--runs", "1", "--compare-keys", "2000"]
        + ["--results", str(results), "--workdir", str(tmp_path)]
    )

    payload = json.loads(capsys.readouterr().out)
    assert payload["config"] == {"rows": 20_000, "runs": 1, "compare_keys": 2_000}
    names = [m["name"] for m in payload["metrics"]]
    for expected in (
        "build + persist",
        "scan + GROUP BY, cold",
        "scan + GROUP BY, cached table",
        "1,000 upserts + persist",
        "diff after 1,000 changes",
        "diff after 2,000 changes",
        "point lookup, warm",
        "point lookup, cold-ish",
    ):
        assert expected in names
    for m in payload["metrics"]:
        assert m["median_s"] > 0 and len(m["samples_s"]) == 1
        assert m["met"] in (True, False, None)
    assert payload["facts"]["chunks"] > 0 and payload["facts"]["upsert_chunk_bytes"] > 0
    assert payload["machine"]["cores"] >= 1

    text = results.read_text()
    assert "<!-- bench:storage -->" in text and "| build + persist |" in text
    assert "<!-- bench:other -->\nkept\n<!-- /bench:other -->" in text
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
    now = common.RESULTS_PATH.read_bytes() if common.RESULTS_PATH.exists() else None
    assert now == real_results


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "R.md"
    common.write_section(path, "a", "first a")
    common.write_section(path, "b", "only b")
    common.write_section(path, "a", "second a")
    text = path.read_text()
    assert text.startswith(common.RESULTS_HEADER)
    assert "first a" not in text and text.index("second a") < text.index("only b")


@pytest.mark.parametrize(
    ("value", "target", "on", "met"),
    [(0.2, 0.25, "value", True), (0.3, 0.25, "value", False), (2.0, 1.6, "ratio", False)],
)
def test_metric_target(value, target, on, met):
    m = common.Metric("x", value, "y", 1.0, target=target, target_on=on)
    assert m.met is met
    assert bool(m.miss()) is (not met)


def test_gc_benchmark_runs_and_writes_its_section(tmp_path, capsys):
    from bench import gc

    results = tmp_path / "RESULTS.md"
    results.write_text(common.RESULTS_HEADER)
    gc.main(
        ["--rows", "5000", "--commits", "4", "--runs", "1"]
        + ["--results", str(results), "--workdir", str(tmp_path)]
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["freed"]["deleted"] > 0 and payload["gc_seconds"] > 0
    assert "<!-- bench:gc -->" in results.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # stores removed
