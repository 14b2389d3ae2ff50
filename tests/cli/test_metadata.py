"""Commit metadata written through ``Repo.commit(metadata=...)`` is readable everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

import arbordb
from tests.cli.helpers import arbor, ok


def test_metadata_shows_in_log_show_system_tables_and_repo_log(tmp_path: Path) -> None:
    path = tmp_path / "r"
    with arbordb.Repo(path) as repo:
        repo.write("t", pa.table({"id": [1, 2]}), primary_key=["id"])
        repo.commit("with lineage", metadata={"run": "abc", "epochs": 3})
        assert repo.log(limit=1)[0]["metadata"] == {"epochs": 3, "run": "abc"}
        assert repo.log()[-1]["metadata"] == {}
    shown = ok(arbor(path, "show"))
    assert 'Metadata: {"epochs": 3, "run": "abc"}' in shown
    assert "Metadata:" in ok(arbor(path, "log", "-n", "1"))
    assert "Metadata:" not in ok(arbor(path, "log", "HEAD~1"))
    with arbordb.connect(str(path)) as con:
        cur = con.cursor()
        for relation in ("dolt_log", "dolt_commits", "dolt_log()"):
            cur.execute(f"SELECT metadata FROM {relation} ORDER BY date DESC LIMIT 1")
            assert json.loads(cur.fetchone()[0]) == {"epochs": 3, "run": "abc"}
        cur.execute("SELECT metadata FROM dolt_log WHERE message = 'Initialize data repository'")
        assert cur.fetchone() == ("{}",)
