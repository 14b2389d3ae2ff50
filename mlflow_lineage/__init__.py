"""``arbordb.mlflow``: MLflow lineage for ArborDB versions (the ``arbordb[mlflow]`` extra).

    import arbordb.mlflow
    with mlflow.start_run():
        arbordb.mlflow.log_input(con, "labels", rev="v1", tag_commit=True)
    arbordb.mlflow.load(run_id)          # the exact rows, as a pyarrow.Table

``log_input`` and ``load`` are in tracking.py; the MLflow dataset source behind
``arbordb://`` URIs in source.py (registered through the ``mlflow.dataset_source``
entry point); URIs and remotes in uri.py. ``import arbordb`` does not import this
package (nor MLflow).

In the repository this package is the folder ``mlflow_lineage/`` (a folder named
``mlflow`` at the repository root would shadow the real ``mlflow`` for any script run
there); pyproject.toml installs it as ``arbordb.mlflow``. Imports inside it are
relative, and ``import mlflow`` in it is the MLflow package.
"""

from __future__ import annotations

# MLflow first: while mlflow.data initialises it loads the entry point
# arbordb.mlflow.source; importing it here first lets that load find the module whole.
import mlflow.data  # noqa: F401

from .source import ArborDBDataset, ArborDBDatasetSource
from .uri import REMOTE_OPENERS, DatasetURI, parse_uri

_TRACKING = ("LoggedInput", "load", "log_input")


def __getattr__(name: str) -> object:
    """tracking.py's names, imported on first use: this package is also imported by
    MLflow's entry-point loading while ``mlflow.tracking`` is still initialising."""
    if name in _TRACKING:
        from . import tracking

        return getattr(tracking, name)
    raise AttributeError(f"module 'arbordb.mlflow' has no attribute {name!r}")


__all__ = [
    "REMOTE_OPENERS",
    "ArborDBDataset",
    "ArborDBDatasetSource",
    "DatasetURI",
    "LoggedInput",
    "load",
    "log_input",
    "parse_uri",
]
