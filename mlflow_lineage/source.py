"""The MLflow dataset source and dataset for ArborDB versions.

``ArborDBDatasetSource`` is registered with MLflow through the ``mlflow.dataset_source``
entry point (pyproject.toml), so in any process with arbordb installed,
``mlflow.data.get_source(run.inputs.dataset_inputs[i]).load()`` returns the exact
rows as a ``pyarrow.Table``, read from the repository or remote its URI names
(uri.py). ``ArborDBDataset`` is what ``log_input`` logs: the source, a digest that
is the content hash (versions.py), the schema and a profile (row count, commit).

This module is loaded by MLflow while ``mlflow.data`` initialises, so it imports only
``mlflow.data.dataset`` and ``mlflow.data.dataset_source`` (loaded by then) and
``mlflow.types``, never ``mlflow.data`` itself.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.types as pat
from mlflow.data.dataset import Dataset
from mlflow.data.dataset_source import DatasetSource
from mlflow.types import DataType
from mlflow.types.schema import Array, ColSpec, Schema

from arbordb.sql.dbapi import connect

from .uri import SCHEME, DatasetURI, parse_uri
from .versions import Version, read_version

__all__ = ["ArborDBDataset", "ArborDBDatasetSource", "load_uri"]


def load_uri(uri: DatasetURI) -> Version:
    """Read the version a URI names (its repository opened read-only)."""
    with connect(uri.repository(), read_only=True, branch=None) as con:
        session = con.session
        commit = session.workspace.resolve_commit(uri.rev)
        return read_version(session, commit, uri.table, uri.query, load=True)


class ArborDBDatasetSource(DatasetSource):
    """A table or query result at one commit of an ArborDB repository or remote."""

    def __init__(self, uri: str) -> None:
        self._uri = parse_uri(uri)
        self.uri = self._uri.text()

    @property
    def table(self) -> str | None:
        return self._uri.table

    @property
    def query(self) -> str | None:
        return self._uri.query

    @property
    def revision(self) -> str:
        return self._uri.rev

    @staticmethod
    def _get_source_type() -> str:
        return SCHEME

    def load(self) -> pa.Table:
        """The exact rows (``.to_pandas()`` for a DataFrame)."""
        return load_uri(self._uri).data

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        if not isinstance(raw_source, str):
            return False
        scheme = raw_source.partition("://")[0]
        return scheme == SCHEME or scheme.startswith(SCHEME + "+")

    @classmethod
    def _resolve(cls, raw_source: Any) -> ArborDBDatasetSource:
        return cls(raw_source)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> ArborDBDatasetSource:
        return cls(source_dict["uri"])


class ArborDBDataset(Dataset):
    """An MLflow dataset whose digest is ArborDB's content hash of the rows."""

    def __init__(self, source: ArborDBDatasetSource, version: Version, name: str) -> None:
        self._version = version
        super().__init__(source=source, name=name, digest=version.digest)

    def _compute_digest(self) -> str:
        return self._version.digest

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": self._version.num_rows, "commit": self._version.commit}

    @property
    def schema(self) -> Schema:
        return Schema([ColSpec(_mlflow_type(f.type), f.name) for f in self._version.schema])

    def to_dict(self) -> dict[str, str]:
        config = super().to_dict()
        config["schema"] = json.dumps({"mlflow_colspec": self.schema.to_dict()})
        config["profile"] = json.dumps(self.profile)
        return config


def _mlflow_type(type_: pa.DataType) -> DataType | Array:
    """MLflow's nearest column type (decimals as double, other types as string)."""
    if pat.is_list(type_) or pat.is_large_list(type_) or pat.is_fixed_size_list(type_):
        return Array(_mlflow_type(type_.value_type))
    checks = (
        (pat.is_boolean, DataType.boolean),
        (
            lambda t: pat.is_integer(t) and t.bit_width <= 32 and pat.is_signed_integer(t),
            DataType.integer,
        ),
        (pat.is_integer, DataType.long),
        (lambda t: pat.is_floating(t) and t.bit_width <= 32, DataType.float),
        (lambda t: pat.is_floating(t) or pat.is_decimal(t), DataType.double),
        (lambda t: pat.is_binary(t) or pat.is_large_binary(t), DataType.binary),
        (lambda t: pat.is_timestamp(t) or pat.is_date(t), DataType.datetime),
    )
    return next((kind for check, kind in checks if check(type_)), DataType.string)
