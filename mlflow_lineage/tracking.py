"""``log_input`` and ``load``: which exact data a run used, and getting it back.

``log_input`` resolves a revision to its immutable commit and logs an MLflow dataset
(source URI, content-hash digest, schema, row count) on the active run (started if
none is, as ``mlflow.log_input`` does), sets the run tags ``arbordb.repo``,
``arbordb.branch``, ``arbordb.commit`` and ``arbordb.table_hash`` (a run that logs
several inputs keeps the last one's), and with ``tag_commit=True`` tags the commit
``mlflow/<run_id>`` (so ``arbor log`` / ``dolt_log('--decorate', 'short')`` show the
runs trained on it). Lineage must name a commit: a revision that means "the current
data" (HEAD, WORKING, STAGED or the branch itself) is refused while the working set
has uncommitted changes, unless ``commit_dirty=True`` commits them first.

``load(run_id)`` finds the run's ArborDB dataset, reads it through its source (from
the repository or the remote its URI names) and checks the rows against the logged
digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pyarrow as pa
from mlflow.tracking import MlflowClient

from arbordb.engine.hash import format_address
from arbordb.engine.repo import Repo
from arbordb.sql.dbapi import Connection
from arbordb.sql.errors import (
    DataError,
    ObjectNotFound,
    OperationalError,
    ProgrammingError,
)
from arbordb.sql.session.session import Session

from .source import ArborDBDataset, ArborDBDatasetSource, load_uri
from .uri import SCHEME, DatasetURI, parse_uri
from .versions import read_version

__all__ = ["LoggedInput", "load", "log_input"]

_CURRENT = ("HEAD", "WORKING", "STAGED")


@dataclass(frozen=True)
class LoggedInput:
    """What ``log_input`` recorded."""

    run_id: str
    commit: str
    digest: str
    uri: str
    num_rows: int
    tag: str | None


def log_input(
    repo_or_connection: Repo | Connection,
    table: str | None = None,
    rev: str = "HEAD",
    query: str | None = None,
    context: str = "training",
    tag_commit: bool = False,
    *,
    commit_dirty: bool = False,
    name: str | None = None,
    remote: str | None = None,
) -> LoggedInput:
    """Log ``table`` (or ``query``'s result) at ``rev`` as an input of the active MLflow run.

    Args:
        repo_or_connection: an ``arbordb.Repo`` or a connection from ``arbordb.connect``.
        table: the table; with ``query``, only the dataset's name.
        rev: a branch, tag, hash, ``HEAD~N``...; recorded as its commit hash.
        query: a SELECT whose result is the dataset (its tables read at ``rev``).
        context: MLflow's input context (``training``, ``evaluation``...).
        tag_commit: also tag the commit ``mlflow/<run_id>``.
        commit_dirty: commit uncommitted changes first instead of refusing them.
        name: the dataset's name (default ``<table>@<short hash>``).
        remote: an ``arbordb+file://`` / ``arbordb+s3://`` address to record as the
            source instead of the local path (the commit must be pushed there).

    Returns:
        A ``LoggedInput``: run id, commit, digest, source URI, row count, tag.

    Raises:
        OperationalError: uncommitted changes and ``commit_dirty`` not set.
        ObjectNotFound: no such table or revision. ProgrammingError: bad arguments.
    """
    if table is None and query is None:
        raise ProgrammingError("log_input needs a table, or a query (and optionally a table)")
    session, repo = _session_of(repo_or_connection)
    try:
        run = mlflow.active_run() or mlflow.start_run()
        run_id = run.info.run_id
        ws = session.workspace
        if (rev.upper() in _CURRENT or rev == ws.branch) and ws.dirty:
            if not commit_dirty:
                raise OperationalError(
                    f"branch {ws.branch!r} has uncommitted changes, and lineage must point at "
                    f"a commit: commit them first (CALL dolt_commit('-Am', ...)), or pass "
                    "commit_dirty=True to log_input to commit them before the run uses them"
                )
            session.execute(
                "CALL dolt_commit('-Am', ?)", [f"Commit the working set for MLflow run {run_id}"]
            )
            rev = "HEAD"
        commit = ws.resolve_commit("HEAD" if rev.upper() in _CURRENT else rev)
        version = read_version(session, commit, table, query, load=False)
        location = _location(session)
        uri = _uri(location, remote, table, query, version.commit)
        source = ArborDBDatasetSource(uri)
        dataset = ArborDBDataset(
            source, version, name or f"{table or 'query'}@{version.commit[:8]}"
        )
        mlflow.log_input(dataset, context=context)
        branch = rev if rev in session.db.refs.branches() else ws.branch
        mlflow.set_tags(
            {
                "arbordb.repo": remote or f"{SCHEME}://{location}",
                "arbordb.branch": branch,
                "arbordb.commit": version.commit,
                "arbordb.table_hash": version.digest,
            }
        )
        tag = (
            _tag_commit(session, run_id, commit, table or "query", context) if tag_commit else None
        )
        return LoggedInput(
            run_id, version.commit, version.digest, source.uri, version.num_rows, tag
        )
    finally:
        if repo is not None:
            session.close()
            repo.ws.reload()  # the session may have committed on the repo's branch


def load(run_id: str, table: str | None = None) -> pa.Table:
    """The exact rows run ``run_id`` logged with ``log_input`` (``.to_pandas()`` for pandas).

    Args:
        run_id: the MLflow run.
        table: which input, when the run logged several ArborDB datasets.

    Raises:
        ObjectNotFound: the run logged no ArborDB dataset (for ``table``).
        ProgrammingError: several match: name the ``table``.
        DataError: the rows read no longer match the logged digest.
    """
    inputs = [
        i.dataset
        for i in MlflowClient().get_run(run_id).inputs.dataset_inputs
        if i.dataset.source_type == SCHEME
    ]
    sources = [(d, ArborDBDatasetSource.from_json(d.source)) for d in inputs]
    if table is not None:
        sources = [(d, s) for d, s in sources if table in (s.table, d.name)]
    distinct = {(d.digest, s.uri): (d, s) for d, s in sources}
    if not distinct:
        what = f" for table {table!r}" if table else ""
        raise ObjectNotFound(f"MLflow run {run_id} logged no ArborDB dataset{what}")
    if len(distinct) > 1:
        names = ", ".join(sorted({s.table or d.name for d, s in distinct.values()}))
        raise ProgrammingError(
            f"MLflow run {run_id} logged several ArborDB datasets ({names}): pass table=..."
        )
    ((dataset, source),) = distinct.values()
    version = load_uri(parse_uri(source.uri))
    if version.digest != dataset.digest:
        raise DataError(
            f"the rows read from {source.uri} do not match the digest MLflow run {run_id} "
            f"logged ({dataset.digest}, now {version.digest}): the repository there is not "
            "the one the run used"
        )
    return version.data


def _session_of(target: Repo | Connection) -> tuple[Session, Repo | None]:
    if isinstance(target, Connection):
        return target.session, None
    if isinstance(target, Repo):
        return Session(target.db, branch=target.active_branch), target
    raise ProgrammingError(
        f"log_input takes an arbordb.Repo or an arbordb.connect(...) connection, "
        f"got {type(target).__name__}"
    )


def _location(session: Session) -> str:
    folder = getattr(session.db.store, "path", None)
    if folder is None:
        raise ProgrammingError("log_input needs a repository on disk (not an in-memory one)")
    return str(Path(folder).resolve().parent)


def _uri(location: str, remote: str | None, table, query, commit: str) -> str:
    if remote is None:
        return DatasetURI(None, location, table, query, commit).text()
    parsed = parse_uri(f"{remote.split('?')[0]}?rev={commit}&table=x")  # validates the address
    if parsed.remote is None:
        raise ProgrammingError(
            f"remote= takes arbordb+file:// or arbordb+s3:// URIs, got {remote!r}"
        )
    return DatasetURI(parsed.remote, parsed.location, table, query, commit).text()


def _tag_commit(session: Session, run_id: str, commit: bytes, table: str, context: str) -> str:
    name = f"mlflow/{run_id}"
    tags = dict(session.db.tags())
    if name in tags:
        if tags[name].target != commit:
            raise OperationalError(
                f"tag {name!r} already marks another commit: one MLflow run can tag one "
                "commit (log this input with tag_commit=False)"
            )
        return name
    message = f"MLflow run {run_id} used {table} ({context})"
    session.db.create_tag(name, format_address(commit), message=message, branch=session.branch)
    return name
