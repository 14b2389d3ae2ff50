"""Fixtures: fresh repositories made with the ``arbor`` command itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import LABELS_CSV, arbor, ok


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "labels"
    ok(arbor(tmp_path, "init", str(path)))
    return path


@pytest.fixture
def labels(repo: Path) -> Path:
    """A repository with a committed ``labels`` table (4 rows)."""
    (repo / "labels.csv").write_text(LABELS_CSV)
    ok(arbor(repo, "table", "import", "--create", "--pk", "id", "labels", str(repo / "labels.csv")))
    ok(arbor(repo, "commit", "-Am", "import labels"))
    return repo
