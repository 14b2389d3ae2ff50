"""``arbor version`` and ``arbor merge-base``."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from tests.cli.helpers import arbor, ok, refused


def test_version_names_the_installed_package(tmp_path: Path) -> None:
    assert ok(arbor(tmp_path, "version")) == f"arbor version {version('arbordb')}\n"


def test_merge_base_is_the_fork_point(labels: Path) -> None:
    fork = ok(arbor(labels, "sql", "-q", "SELECT dolt_hashof('HEAD')", "-r", "csv")).split()[-1]
    ok(arbor(labels, "checkout", "-b", "relabel"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'owl' WHERE id = 4"))
    ok(arbor(labels, "commit", "-Am", "owl"))
    ok(arbor(labels, "checkout", "main"))
    ok(arbor(labels, "sql", "-q", "DELETE FROM labels WHERE id = 1"))
    ok(arbor(labels, "commit", "-Am", "drop 1"))
    assert ok(arbor(labels, "merge-base", "main", "relabel")) == f"{fork}\n"
    assert ok(arbor(labels, "merge-base", "relabel", "main")) == f"{fork}\n"


def test_merge_base_of_an_unknown_revision_is_refused(labels: Path) -> None:
    refused(arbor(labels, "merge-base", "main", "nope"), "'nope'")
