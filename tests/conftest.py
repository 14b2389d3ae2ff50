"""Project-wide pytest setup: the hypothesis profile every test runs under."""

from __future__ import annotations

import pytest
from hypothesis import settings

# deadline=None: timing varies on shared 2-core machines (fsync, first imports);
# 60 examples keep property tests meaningful and the whole suite fast.
settings.register_profile("ci", deadline=None, max_examples=60)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _private_global_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Every test sees an empty global config (never the developer's ~/.arbor)."""
    monkeypatch.setenv("ARBOR_CONFIG_HOME", str(tmp_path_factory.mktemp("arbor-config")))
